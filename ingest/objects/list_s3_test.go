package objects_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/matlens/matlens/ingest/ingesttest"
	"github.com/matlens/matlens/ingest/objects"
)

// fakeS3 is a gofakes3 server over an in-memory backend, with an optional
// handler in front that answers some requests itself (errors S3 sends).
type fakeS3 struct {
	url     string
	backend *s3mem.Backend
	// front, when set, sees every request first; returning true means it
	// answered.
	front atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	ingesttest.IsolateAWS(t)
	f := &fakeS3{backend: s3mem.New()}
	s3h := gofakes3.New(f.backend).Server()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fn := f.front.Load(); fn != nil && (*fn)(w, r) {
			return
		}
		s3h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

func (f *fakeS3) setFront(fn func(w http.ResponseWriter, r *http.Request) bool) {
	if fn == nil {
		f.front.Store(nil)
		return
	}
	f.front.Store(&fn)
}

func (f *fakeS3) source(location string) objects.Source {
	return objects.Source{Kind: objects.KindList, Location: location, Endpoint: f.url, PathStyle: true}
}

// client is an SDK client for setting up buckets the way a user would.
func (f *fakeS3) client(t *testing.T) *s3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(f.url)
		o.UsePathStyle = true
	})
}

func (f *fakeS3) put(t *testing.T, bucket, key string, size int) {
	t.Helper()
	_, err := f.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(make([]byte, size)), int64(size), nil)
	if err != nil {
		t.Fatal(err)
	}
}

// s3Error writes an error response as S3 shapes it.
func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`, code, msg)
}

// isList reports whether r lists a bucket (ListObjectsV2 or
// ListObjectVersions), as opposed to reading or writing an object.
func isList(r *http.Request) bool {
	q := r.URL.Query()
	return r.Method == http.MethodGet && (q.Has("list-type") || q.Has("versions"))
}

func TestListS3PaginatesUnderPrefix(t *testing.T) {
	ctx := context.Background()
	s := newFakeS3(t)
	if err := s.backend.CreateBucket("lake"); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for i := range 2500 {
		k := fmt.Sprintf("raw/orders/part-%05d.parquet", i)
		s.put(t, "lake", k, i%97)
		want[k] = int64(i % 97)
	}
	for k, n := range map[string]int64{"raw/a b ü.parquet": 7, "raw/x+y=z&%.csv": 3} {
		s.put(t, "lake", k, int(n))
		want[k] = n
	}
	s.put(t, "lake", "rawer/outside", 5)
	s.put(t, "lake", "staging/outside", 5)

	var lists atomic.Int32
	s.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		if isList(r) {
			lists.Add(1)
		}
		return false
	})
	f := openFile(t)
	src := s.source("s3://lake/raw/")
	sum, err := objects.Load(ctx, f, src, objects.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	// S3 pages at 1,000 keys: 2,502 keys take three requests.
	if n := lists.Load(); n < 3 {
		t.Errorf("%d list requests, want at least 3 pages", n)
	}
	if sum.Objects != int64(len(want)) || sum.Provider != objects.ProviderAWS {
		t.Fatalf("summary = %+v, want %d objects, aws", sum, len(want))
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
	for _, r := range objectRows(t, f, src.ID()) {
		if r.Class != "STANDARD" || !r.Latest || r.DeleteMarker || r.Version != "" {
			t.Fatalf("row %+v: want a current STANDARD object without a version", r)
		}
	}
}

func TestListS3Versions(t *testing.T) {
	ctx := context.Background()
	s := newFakeS3(t)
	c := s.client(t)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ver")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String("ver"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{10, 20, 30} { // one key written three times
		s.put(t, "ver", "data/a.parquet", size)
	}
	s.put(t, "ver", "data/b.parquet", 40)
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("data/b.parquet")}); err != nil {
		t.Fatal(err)
	}

	f := openFile(t)
	src := s.source("s3://ver/data/")
	src.Versions = true
	sum, err := objects.Load(ctx, f, src, objects.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	rows := objectRows(t, f, src.ID())
	var a []objectRow
	var markers, bVersions int
	for _, r := range rows {
		switch {
		case r.Key == "data/a.parquet":
			a = append(a, r)
		case r.Key == "data/b.parquet" && r.DeleteMarker:
			markers++
			if !r.Latest || r.Size != 0 || r.Version == "" {
				t.Errorf("delete marker %+v: want latest, 0 bytes, a version id", r)
			}
		case r.Key == "data/b.parquet":
			bVersions++
			if r.Latest || r.Size != 40 {
				t.Errorf("b's version %+v: want noncurrent, 40 bytes", r)
			}
		default:
			t.Errorf("unexpected row %+v", r)
		}
	}
	if len(a) != 3 {
		t.Fatalf("a.parquet: %d versions, want 3: %+v", len(a), rows)
	}
	latest, versions := 0, map[string]bool{}
	for _, r := range a {
		versions[r.Version] = true
		if r.Latest {
			latest++
			if r.Size != 30 {
				t.Errorf("latest a.parquet is %d bytes, want 30", r.Size)
			}
		}
	}
	if latest != 1 || len(versions) != 3 || versions[""] {
		t.Errorf("a.parquet: %d latest, versions %v; want exactly one latest and 3 distinct ids", latest, versions)
	}
	if markers != 1 || bVersions != 1 {
		t.Errorf("b.parquet: %d delete markers, %d versions; want 1 and 1", markers, bVersions)
	}
	if sum.Objects != 5 || sum.DeleteMarkers != 1 || sum.Noncurrent != 3 {
		t.Errorf("summary = %+v, want 5 rows, 1 delete marker, 3 noncurrent", sum)
	}
}

func TestListS3AccessDeniedKeepsSnapshot(t *testing.T) {
	ctx := context.Background()
	s := newFakeS3(t)
	if err := s.backend.CreateBucket("lake"); err != nil {
		t.Fatal(err)
	}
	s.put(t, "lake", "secret/a", 1)
	s.put(t, "lake", "secret/b", 2)
	f := openFile(t)
	src := s.source("s3://lake/secret/")
	if _, err := objects.Load(ctx, f, src, objects.DefaultOptions()); err != nil {
		t.Fatal(err)
	}

	// The policy changes: listing under secret/ is now refused.
	s.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		if isList(r) && strings.HasPrefix(r.URL.Query().Get("prefix"), "secret/") {
			s3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
			return true
		}
		return false
	})
	s.put(t, "lake", "secret/c", 3)
	_, err := objects.Load(ctx, f, src, objects.DefaultOptions())
	if err == nil {
		t.Fatal("load succeeded against a 403")
	}
	for _, want := range []string{"access denied", "s3:ListBucket", "s3://lake/secret/", "bucket lake"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Count(err.Error(), "objects: ") != 1 {
		t.Errorf("error %q: the objects: prefix should appear once", err)
	}
	got := keySizes(t, f, src.ID())
	if len(got) != 2 || got["secret/a"] != 1 || got["secret/b"] != 2 {
		t.Fatalf("after a denied load: %v, want the 2 objects of the last good load", got)
	}

	src.Versions = true
	_, err = objects.Load(ctx, f, src, objects.DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "s3:ListBucketVersions") {
		t.Errorf("versions listing denied: error %v, want it to name s3:ListBucketVersions", err)
	}
}

func TestListS3RetriesSlowDown(t *testing.T) {
	ctx := context.Background()
	s := newFakeS3(t)
	if err := s.backend.CreateBucket("lake"); err != nil {
		t.Fatal(err)
	}
	s.put(t, "lake", "raw/a", 11)
	var refused atomic.Int32
	s.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		if refused.Add(1) <= 2 {
			s3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
			return true
		}
		return false
	})
	f := openFile(t)
	src := s.source("s3://lake/raw/")
	if _, err := objects.Load(ctx, f, src, objects.DefaultOptions()); err != nil {
		t.Fatalf("load after two SlowDown answers: %v", err)
	}
	if got := keySizes(t, f, src.ID()); got["raw/a"] != 11 || len(got) != 1 {
		t.Fatalf("objects = %v, want raw/a of 11 bytes", got)
	}
	if n := refused.Load(); n != 3 {
		t.Errorf("%d requests, want 2 refused and 1 served", n)
	}
}

func TestListS3ExpiredToken(t *testing.T) {
	ctx := context.Background()
	s := newFakeS3(t)
	s.setFront(func(w http.ResponseWriter, r *http.Request) bool {
		s3Error(w, http.StatusBadRequest, "ExpiredToken", "The provided token has expired.")
		return true
	})
	_, err := objects.Load(ctx, openFile(t), s.source("s3://lake/raw/"), objects.DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("error %v, want it to say the credentials expired", err)
	}
}

func TestListS3NoSuchBucket(t *testing.T) {
	ctx := context.Background()
	s := newFakeS3(t)
	_, err := objects.Load(ctx, openFile(t), s.source("s3://nowhere/raw/"), objects.DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "bucket nowhere does not exist") {
		t.Fatalf("error %v, want it to say the bucket does not exist", err)
	}
}
