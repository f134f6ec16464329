package objects_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"

	"github.com/matlens/matlens/ingest/objects"
)

// fakeGCS is fake-gcs-server on a plain-HTTP listener, reached through a
// proxy that counts list requests.
type fakeGCS struct {
	srv      *fakestorage.Server
	endpoint string
	lists    atomic.Int32
	// deny answers list requests with GCS's 403 when set.
	deny atomic.Bool
	// denyRead answers with GCS's 403 any request whose path ends with it
	// (an object read) when set.
	denyRead atomic.Value
}

func newFakeGCS(t *testing.T) *fakeGCS {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	g := &fakeGCS{srv: srv}
	proxy := httputil.NewSingleHostReverseProxy(u)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/o") {
			g.lists.Add(1)
			if g.deny.Load() {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `{"error":{"code":403,"message":"reader@example.iam.gserviceaccount.com does not have storage.objects.list access to the Google Cloud Storage bucket.","errors":[{"reason":"forbidden","domain":"global"}]}}`)
				return
			}
		}
		if name, _ := g.denyRead.Load().(string); name != "" && strings.HasSuffix(r.URL.Path, name) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error":{"code":403,"message":"reader@example.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object.","errors":[{"reason":"forbidden","domain":"global"}]}}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	g.endpoint = ts.URL + "/storage/v1/"
	return g
}

func (g *fakeGCS) source(location string) objects.Source {
	return objects.Source{Kind: objects.KindList, Location: location, Endpoint: g.endpoint}
}

func (g *fakeGCS) put(bucket, name, class string, size int, generation int64) {
	g.srv.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{
			BucketName: bucket, Name: name, StorageClass: class, Generation: generation,
			Updated: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(generation) * time.Second),
		},
		Content: make([]byte, size),
	})
}

func TestListGCSPaginatesWithClasses(t *testing.T) {
	ctx := context.Background()
	g := newFakeGCS(t)
	g.srv.CreateBucket("lake")
	want := map[string]int64{}
	for i := range 1200 {
		k := fmt.Sprintf("raw/part-%05d.parquet", i)
		g.put("lake", k, "", i%13, 0)
		want[k] = int64(i % 13)
	}
	g.put("lake", "raw/cold/a b ü.parquet", "COLDLINE", 5, 0)
	g.put("lake", "raw/near/b.parquet", "NEARLINE", 6, 0)
	want["raw/cold/a b ü.parquet"], want["raw/near/b.parquet"] = 5, 6
	g.put("lake", "other/outside", "", 1, 0)

	f := openFile(t)
	src := g.source("gs://lake/raw/")
	sum, err := objects.Load(ctx, f, src, objects.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Objects != int64(len(want)) || sum.Provider != objects.ProviderGCP {
		t.Fatalf("summary = %+v, want %d objects, gcp", sum, len(want))
	}
	if n := g.lists.Load(); n < 2 {
		t.Errorf("%d list requests, want at least 2 pages", n)
	}
	got := keySizes(t, f, src.ID())
	if len(got) != len(want) {
		t.Fatalf("%d objects loaded, want %d", len(got), len(want))
	}
	for k, n := range want {
		if m, ok := got[k]; !ok || m != n {
			t.Errorf("%q: %d bytes (present %v), want %d", k, m, ok, n)
		}
	}
	classes := map[string]string{}
	for _, r := range objectRows(t, f, src.ID()) {
		classes[r.Key] = r.Class
		if !r.Latest || r.Version != "" || r.DeleteMarker {
			t.Errorf("row %+v: want a live object without a version", r)
		}
	}
	for k, c := range map[string]string{
		"raw/cold/a b ü.parquet": "COLDLINE", "raw/near/b.parquet": "NEARLINE", "raw/part-00000.parquet": "STANDARD",
	} {
		if classes[k] != c {
			t.Errorf("%s: storage class %q, want %q", k, classes[k], c)
		}
	}
}

func TestListGCSVersions(t *testing.T) {
	ctx := context.Background()
	g := newFakeGCS(t)
	g.srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "ver", VersioningEnabled: true})
	// Written in order: generations 1 and 2 become noncurrent.
	g.put("ver", "data/a.parquet", "", 10, 1)
	g.put("ver", "data/a.parquet", "", 20, 2)
	g.put("ver", "data/a.parquet", "", 30, 3)
	g.put("ver", "data/b.parquet", "", 40, 4)
	client, err := storage.NewClient(ctx, option.WithEndpoint(g.endpoint), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Bucket("ver").Object("data/b.parquet").Delete(ctx); err != nil {
		t.Fatal(err)
	}

	f := openFile(t)
	src := g.source("gs://ver/data/")
	src.Versions = true
	sum, err := objects.Load(ctx, f, src, objects.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	type gen struct {
		size   int64
		latest bool
	}
	got := map[string]gen{}
	for _, r := range objectRows(t, f, src.ID()) {
		if r.DeleteMarker {
			t.Errorf("row %+v: GCS has no delete markers", r)
		}
		got[r.Key+"#"+r.Version] = gen{r.Size, r.Latest}
	}
	want := map[string]gen{
		"data/a.parquet#1": {10, false},
		"data/a.parquet#2": {20, false},
		"data/a.parquet#3": {30, true},
		"data/b.parquet#4": {40, false}, // deleted: only a noncurrent generation is left
	}
	if len(got) != len(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %+v, want %+v", k, got[k], w)
		}
	}
	if sum.Noncurrent != 3 || sum.Objects != 4 {
		t.Errorf("summary = %+v, want 4 rows, 3 noncurrent", sum)
	}

	// Without versions only the live generation is listed, with no version.
	src.Versions = false
	if _, err := objects.Load(ctx, f, src, objects.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	rows := objectRows(t, f, src.ID())
	if len(rows) != 1 || rows[0].Key != "data/a.parquet" || rows[0].Size != 30 || rows[0].Version != "" || !rows[0].Latest {
		t.Errorf("current listing: %+v, want data/a.parquet of 30 bytes only", rows)
	}
}

func TestListGCSMissingBucket(t *testing.T) {
	g := newFakeGCS(t)
	_, err := objects.Load(context.Background(), openFile(t), g.source("gs://nowhere/raw/"), objects.DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "bucket nowhere does not exist") {
		t.Fatalf("error %v, want it to say the bucket does not exist", err)
	}
}

func TestListGCSAccessDeniedKeepsSnapshot(t *testing.T) {
	ctx := context.Background()
	g := newFakeGCS(t)
	g.srv.CreateBucket("lake")
	g.put("lake", "secret/a", "", 3, 0)
	f := openFile(t)
	src := g.source("gs://lake/secret/")
	if _, err := objects.Load(ctx, f, src, objects.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	g.deny.Store(true)
	_, err := objects.Load(ctx, f, src, objects.DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "access denied") || !strings.Contains(err.Error(), "storage.objects.list") {
		t.Fatalf("error %v, want access denied naming storage.objects.list", err)
	}
	if got := keySizes(t, f, src.ID()); len(got) != 1 || got["secret/a"] != 3 {
		t.Fatalf("after a denied load: %v, want the object of the last good load", got)
	}
}
