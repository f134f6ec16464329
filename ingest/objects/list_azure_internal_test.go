package objects

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

func TestRedactKeepsSecretsOutOfTransportErrors(t *testing.T) {
	sas := "sv=2021-06-08&sr=c&sp=rl&sig=abc%2Bdef%3D"
	q, err := url.ParseQuery(sas)
	if err != nil {
		t.Fatal(err)
	}
	cause := errors.New("connection refused")
	// What net/http returns: the request URL, SAS and all.
	transport := &url.Error{Op: "Get", URL: "https://acct.blob.core.windows.net/data?comp=list&" + sas, Err: cause}
	got := redact(transport, []string{sas, q.Get("sig")})
	if strings.Contains(got.Error(), "abc") || strings.Contains(got.Error(), "sig=abc") {
		t.Fatalf("redacted error still carries the signature: %q", got)
	}
	if !errors.Is(got, cause) {
		t.Fatalf("redacted error lost its cause: %v", got)
	}
	if plain := errors.New("no secrets here"); redact(plain, []string{"k3y"}) != plain {
		t.Fatal("redact wrapped an error that held no secret")
	}
}

func TestWithBlobEndpoint(t *testing.T) {
	cs := "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k==;BlobEndpoint=https://old/;"
	got := withBlobEndpoint(cs, "http://127.0.0.1:10000/a")
	want := "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k==;BlobEndpoint=http://127.0.0.1:10000/a"
	if got != want {
		t.Fatalf("withBlobEndpoint = %q, want %q", got, want)
	}
	if s := connStringSecrets(cs); len(s) != 1 || s[0] != "k==" {
		t.Fatalf("connStringSecrets = %q, want the account key", s)
	}
}

// Azurite has no blob versions, so the version fields are checked here.
func TestAzureObjectVersions(t *testing.T) {
	name, v1, v2 := "raw/x", "2026-01-01T00:00:00.0000000Z", "2026-02-01T00:00:00.0000000Z"
	yes, no := true, false
	var size int64 = 9
	tier := container.AccessTierCool
	cases := []struct {
		item     container.BlobItem
		versions bool
		want     Object
	}{
		{container.BlobItem{Name: &name, Properties: &container.BlobProperties{ContentLength: &size, AccessTier: &tier}}, false,
			Object{Bucket: "c", Key: name, Size: 9, StorageClass: "Cool", IsLatest: true}},
		{container.BlobItem{Name: &name, VersionID: &v2, IsCurrentVersion: &yes}, true,
			Object{Bucket: "c", Key: name, Version: v2, IsLatest: true}},
		{container.BlobItem{Name: &name, VersionID: &v1, IsCurrentVersion: &no}, true,
			Object{Bucket: "c", Key: name, Version: v1}},
		{container.BlobItem{Name: &name, VersionID: &v1}, true,
			Object{Bucket: "c", Key: name, Version: v1}},
	}
	for i, c := range cases {
		if got := azureObject("c", &c.item, c.versions); got != c.want {
			t.Errorf("case %d: %+v, want %+v", i, got, c.want)
		}
	}
}
