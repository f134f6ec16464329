package objects

import (
	"context"
	"errors"
)

// The readers below are filled in by their own files; until then a source
// of their kind fails clearly.
var errNotBuilt = errors.New("this source kind is not built yet")

func readS3Inventory(ctx context.Context, src Source, s *Snapshot) error    { return errNotBuilt }
func readGCSInventory(ctx context.Context, src Source, s *Snapshot) error   { return errNotBuilt }
func readAzureInventory(ctx context.Context, src Source, s *Snapshot) error { return errNotBuilt }
func listS3(ctx context.Context, src Source, bucket, prefix string, s *Snapshot) error {
	return errNotBuilt
}
func listGCS(ctx context.Context, src Source, bucket, prefix string, s *Snapshot) error {
	return errNotBuilt
}
func listAzure(ctx context.Context, src Source, bucket, prefix string, s *Snapshot) error {
	return errNotBuilt
}
