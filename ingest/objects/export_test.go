package objects

import "testing"

// SetListAzurePageSize makes every List Blobs page at most n blobs for the
// rest of the test, so a few hundred blobs take several pages.
func SetListAzurePageSize(t testing.TB, n int32) {
	t.Helper()
	old := listAzurePageSize
	listAzurePageSize = n
	t.Cleanup(func() { listAzurePageSize = old })
}
