package objects

import (
	"errors"
	"net/url"
	"strings"
	"testing"
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
