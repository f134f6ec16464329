package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest/ingesttest"
)

// objectDir makes a directory holding the named files (paths relative to
// it, each body one line) and returns its absolute path.
func objectDir(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// listedObjects returns the objects column of `matlens objects` per source.
func listedObjects(t *testing.T, db string, args ...string) map[string]string {
	t.Helper()
	code, out, stderr := runCLI(t, noEnv, append(args, "--db", db)...)
	if code != exitOK {
		t.Fatalf("matlens %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "source") || !strings.Contains(lines[0], "delete_markers") {
		t.Fatalf("no header in:\n%s", out)
	}
	got := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 11 { // bytes is two fields ("9 B")
			t.Fatalf("short row %q", l)
		}
		got[f[0]] = f[6]
	}
	return got
}

func TestObjectsLoadTwoPathsThenList(t *testing.T) {
	a := objectDir(t, "raw/orders/2026-01-01.parquet", "raw/orders/2026-01-02.parquet", "clean/users.parquet")
	b := objectDir(t, "model.pkl")
	db := filepath.Join(t.TempDir(), "m.duckdb")
	code, out, stderr := runCLI(t, noEnv, "objects", "load", "--db", db, "--path", a, "--path", b)
	if code != exitOK {
		t.Fatalf("objects load: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "path:"+a+": 3 objects") || !strings.Contains(lines[1], "path:"+b+": 1 objects") {
		t.Errorf("want one line per source in the order given:\n%s", out)
	}
	for _, args := range [][]string{{"objects"}, {"objects", "list"}} {
		got := listedObjects(t, db, args...)
		if len(got) != 2 || got["path:"+a] != "3" || got["path:"+b] != "1" {
			t.Errorf("matlens %s: objects per source %v, want 3 in %s and 1 in %s", strings.Join(args, " "), got, a, b)
		}
	}
	// Loading again replaces a source's snapshot instead of adding to it.
	if err := os.Remove(filepath.Join(b, "model.pkl")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, noEnv, "objects", "load", "--db", db, "--path", b); code != exitOK {
		t.Fatalf("reload: exit %d: %s", code, stderr)
	}
	if got := listedObjects(t, db, "objects"); got["path:"+a] != "3" || got["path:"+b] != "0" {
		t.Errorf("after reload: %v", got)
	}
}

func TestObjectsMissingDirFailsOthersLoad(t *testing.T) {
	good := objectDir(t, "a.csv", "b.csv")
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	db := filepath.Join(t.TempDir(), "m.duckdb")
	code, out, stderr := runCLI(t, noEnv, "objects", "load", "--db", db, "--path", missing, "--path", good)
	if code != exitSourceDown {
		t.Errorf("exit %d, want %d (a source that is not there)", code, exitSourceDown)
	}
	if !strings.Contains(stderr, missing) || !strings.Contains(stderr, "no such file") || !strings.Contains(stderr, "1 of 2 sources failed") {
		t.Errorf("stderr does not name the missing directory and why:\n%s", stderr)
	}
	if !strings.Contains(out, "path:"+good+": 2 objects") {
		t.Errorf("the other source did not load:\n%s", out)
	}
	if got := listedObjects(t, db, "objects"); len(got) != 1 || got["path:"+good] != "2" {
		t.Errorf("loaded %v, want only %s with 2 objects", got, good)
	}
}

func TestObjectsLoadUsesConfigSources(t *testing.T) {
	a := objectDir(t, "x/1", "x/2")
	b := objectDir(t, "y")
	dir := t.TempDir()
	db := filepath.Join(dir, "m.duckdb")
	cfg := writeFile(t, dir, "m.yaml", "db: "+db+"\nstorage:\n  sources:\n    - {kind: path, location: "+a+"}\n    - kind: path\n      location: file://"+b+"\n")
	code, out, stderr := runCLI(t, noEnv, "objects", "load", "--config", cfg)
	if code != exitOK {
		t.Fatalf("objects load from config: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "path:"+a+": 2 objects") || !strings.Contains(out, "path:"+b+": 1 objects") {
		t.Errorf("config sources not loaded:\n%s", out)
	}
	code, out, stderr = runCLI(t, noEnv, "objects", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "path:"+a) || !strings.Contains(out, "path:"+b) {
		t.Errorf("objects --config: exit %d:\n%s%s", code, out, stderr)
	}
}

func TestObjectsUsageErrorsNameThemselves(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "m.duckdb")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"objects", "load", "--db", db, "--list", "ftp://bucket/x"}, exitUsage, "-list"},
		{[]string{"objects", "load", "--db", db, "--path", "s3://bucket/x"}, exitUsage, "-path"},
		{[]string{"objects", "load", "--db", db, "--gcs-inventory", "ftp://bucket/x"}, exitUsage, "-gcs-inventory"},
		{[]string{"objects", "load", "--db", db, "--azure-inventory", "gs://bucket/x"}, exitUsage, "not a URL of the azure store"},
		{[]string{"objects", "load", "--db", db}, exitUsage, "storage.sources"},
		{[]string{"objects", "load", "--path", dir}, exitUsage, "--db is required"},
		{[]string{"objects", "frob"}, exitUsage, `"frob"`},
		{[]string{"objects", "load", "--db", db, "--path", dir, "--endpoint", "http://minio:9000"}, exitUsage, "--endpoint: applies to the --list"},
		{[]string{"objects", "--db", filepath.Join(dir, "missing.duckdb")}, exitFailure, "objects load"},
	} {
		code, _, stderr := runCLI(t, noEnv, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("matlens %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
	}
	for _, tc := range []struct{ body, want string }{
		{"storage:\n  sourcez: []\n", "sourcez"},
		{"storage:\n  sources:\n    - {kind: path, location: /tmp, bucket: x}\n", "bucket"},
		{"storage:\n  sources:\n    - {kind: ftp, location: x}\n", "storage.sources[0]"},
		{"storage:\n  sources:\n    - {kind: path, location: /tmp}\n    - {kind: list, location: ftp://x}\n", "storage.sources[1]"},
		{"storage:\n  location_keys: uri\n", "line 2"},
	} {
		cfg := writeFile(t, dir, "m.yaml", tc.body)
		code, _, stderr := runCLI(t, noEnv, "objects", "load", "--config", cfg, "--db", db)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("config %q: exit %d, stderr %q; want exit %d naming %q", tc.body, code, stderr, exitUsage, tc.want)
		}
	}
}

// TestObjectsLoadGCSInventoryURL: an inventory in its bucket loads with
// --endpoint (fake-gcs-server), and a missing manifest is a source that
// is down.
func TestObjectsLoadGCSInventoryURL(t *testing.T) {
	root := t.TempDir()
	objs := []fixtures.Object{
		{Bucket: "acme-data", Key: "raw/a", Version: "1", Size: 10, StorageClass: "STANDARD", LastModified: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), IsLatest: true},
		{Bucket: "acme-data", Key: "raw/b", Version: "2", Size: 20, StorageClass: "NEARLINE", LastModified: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), IsLatest: true},
	}
	if _, err := fixtures.WriteGCSInventory(root, fixtures.InventoryOptions{At: time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)}, slices.Values(objs)); err != nil {
		t.Fatal(err)
	}
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucket("insights")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		body, err := os.ReadFile(filepath.Join(root, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "insights", Name: "reports/" + e.Name()}, Content: body})
	}
	endpoint := srv.URL() + "/storage/v1/"
	db := filepath.Join(t.TempDir(), "m.duckdb")
	code, out, stderr := runCLI(t, noEnv, "objects", "load", "--db", db, "--gcs-inventory", "gs://insights/reports/", "--endpoint", endpoint)
	if code != exitOK || !strings.Contains(out, "gcs-inventory:gs://insights/reports/: 2 objects") {
		t.Fatalf("objects load --gcs-inventory gs://: exit %d:\n%s%s", code, out, stderr)
	}
	code, _, stderr = runCLI(t, noEnv, "objects", "load", "--db", db, "--gcs-inventory", "gs://insights/reports/none_2026-11-02T03:00_manifest.json", "--endpoint", endpoint)
	if code != exitSourceDown || !strings.Contains(stderr, "gs://insights/reports/none_2026-11-02T03:00_manifest.json: no such object") {
		t.Errorf("missing manifest: exit %d, stderr %q; want %d naming the object", code, stderr, exitSourceDown)
	}
}

// TestRunRefreshesStorageSources: run loads the configured sources after
// ingest; a failed one makes the run exit non-zero naming it, while analyze
// and recommend still run.
func TestRunRefreshesStorageSources(t *testing.T) {
	dump := compatDump(t)
	good := objectDir(t, "asset/part-0")
	missing := filepath.Join(t.TempDir(), "gone")
	dir := t.TempDir()
	db := filepath.Join(dir, "m.duckdb")
	cfg := writeFile(t, dir, "m.yaml", "storage:\n  location_keys: [uri, path]\n  orphan_prefixes: ["+good+"]\n  sources:\n    - {kind: path, location: "+good+"}\n")
	code, out, stderr := runCLI(t, noEnv, "run", "--config", cfg, "--source", dump, "--db", db)
	if code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"ingest:", "objects: path:" + good + ": 1 objects", "analyze:"} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "objects:"), strings.Index(out, "analyze:"); i < 0 || j < i {
		t.Errorf("objects must come before analyze:\n%s", out)
	}
	cfg = writeFile(t, dir, "m.yaml", "storage:\n  sources:\n    - {kind: path, location: "+missing+"}\n    - {kind: path, location: "+good+"}\n")
	code, out, stderr = runCLI(t, noEnv, "run", "--config", cfg, "--source", dump, "--db", db)
	if code != exitSourceDown || !strings.Contains(stderr, "path:"+missing) {
		t.Errorf("run with a missing source: exit %d, want %d naming it:\n%s", code, exitSourceDown, stderr)
	}
	if !strings.Contains(out, "analyze:") {
		t.Errorf("analyze did not run after a failed source:\n%s", out)
	}
}

func TestConfigShowsStorageWithoutSecrets(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "m.yaml", "storage:\n  sources:\n    - {kind: list, location: \"https://acct.blob.core.windows.net/c/p?sv=1&sig=S3CRETSIG\"}\n    - {kind: s3_inventory, location: s3://inv/manifest.json, region: eu-west-1}\n  orphan_prefixes: [s3://b/raw/]\n")
	code, out, stderr := runCLI(t, noEnv, "config", "--config", cfg)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"location: https://acct.blob.core.windows.net/c/p?xxxxx", "region: eu-west-1", "- dagster/uri", "- s3://b/raw/"} {
		if !strings.Contains(out, want) {
			t.Errorf("effective config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "S3CRETSIG") {
		t.Errorf("config printed the SAS token:\n%s", out)
	}
}

// TestFixturesInventoryMatchesItsDump checks what a newcomer does with
// `fixtures generate --out`: the inventory written beside the dump holds the
// same deployment's objects, so loading both finds the planted orphans and
// measures every asset that still has objects.
func TestFixturesInventoryMatchesItsDump(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "deploy.sql")
	code, out, stderr := runCLI(t, noEnv, "fixtures", "generate", "--out", dump, "--assets", "40", "--days", "30", "--inventory-format", "parquet")
	if code != exitOK {
		t.Fatalf("fixtures generate: exit %d: %s", code, stderr)
	}
	inventory := filepath.Join(dir, "deploy-inventory")
	if !strings.Contains(out, "--s3-inventory "+inventory) {
		t.Fatalf("fixtures generate does not say where the inventory is:\n%s", out)
	}
	db := filepath.Join(dir, "m.duckdb")
	if code, _, stderr := runCLI(t, noEnv, "run", "--source", dump, "--db", db); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, noEnv, "objects", "load", "--db", db, "--s3-inventory", inventory); code != exitOK {
		t.Fatalf("objects load: exit %d: %s", code, stderr)
	}
	for _, stage := range []string{"analyze", "recommend"} {
		if code, _, stderr := runCLI(t, noEnv, stage, "--db", db); code != exitOK {
			t.Fatalf("%s: exit %d: %s", stage, code, stderr)
		}
	}

	o := fixtures.DefaultOptions()
	o.Assets, o.Days = 40, 30
	set, err := fixtures.DeploymentObjects(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("duckdb", db+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var want []string
	for _, p := range set.Orphans {
		want = append(want, "s3://"+fixtures.ObjectBucket+"/"+p)
	}
	slices.Sort(want)
	got := queryColumn(t, conn, "SELECT DISTINCT prefix FROM orphaned_objects WHERE reason = 'no current materialization' ORDER BY prefix")
	if !slices.Equal(got, want) {
		t.Errorf("orphan prefixes %v, want the planted %v", got, want)
	}
	gone := map[string]bool{}
	for _, a := range set.Gone {
		gone[a] = true
	}
	wantMeasured := map[string]bool{}
	for loc := range set.Locations {
		if a, _, _ := strings.Cut(loc, "|"); !gone[a] {
			wantMeasured[a] = true
		}
	}
	if len(wantMeasured) == 0 {
		t.Fatal("the fixture deployment has no S3 asset with live objects")
	}
	measured := queryColumn(t, conn, "SELECT DISTINCT asset_key FROM asset_stats WHERE size_source = 'object store' AND size_bytes_latest > 0 ORDER BY asset_key")
	if len(measured) != len(wantMeasured) {
		t.Errorf("%d assets measured from the inventory, want the %d S3 assets with objects: %v", len(measured), len(wantMeasured), measured)
	}
	for _, a := range measured {
		if !wantMeasured[a] {
			t.Errorf("asset %s measured from the inventory but has no live objects in it", a)
		}
	}
	// An asset whose objects were deleted is measured as empty: it stays,
	// priced at nothing, instead of reading "size unknown".
	if len(set.Gone) == 0 {
		t.Fatal("the fixture deployment plants no asset whose objects are gone")
	}
	empty := queryColumn(t, conn, "SELECT DISTINCT asset_key FROM tier_recommendations WHERE size_source = 'object store' AND size_gb = 0 AND action = 'stay' ORDER BY asset_key")
	if !slices.Equal(empty, set.Gone) {
		t.Errorf("assets measured empty %v, want those whose objects are gone %v", empty, set.Gone)
	}
}

// queryColumn returns the first column of every row of query.
func queryColumn(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestObjectsLoadFromAnS3CompatibleServer runs what a MinIO user types:
// a live listing and an inventory read from its destination bucket, both
// through --endpoint and --path-style, against gofakes3 speaking S3's
// protocol.
func TestObjectsLoadFromAnS3CompatibleServer(t *testing.T) {
	ingesttest.IsolateAWS(t)
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	put := func(bucket, key string, body []byte) {
		t.Helper()
		if _, err := backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil); err != nil {
			t.Fatalf("put %s/%s: %v", bucket, key, err)
		}
	}
	for _, b := range []string{"lake", "inventories"} {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		put("lake", fmt.Sprintf("dagster/storage/orders/part-%d.parquet", i), bytes.Repeat([]byte("x"), 1000*(i+1)))
	}
	put("lake", "elsewhere/readme.txt", []byte("not listed"))

	// An inventory report of another bucket, uploaded where S3 delivers it.
	local := t.TempDir()
	at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	inv := []fixtures.Object{
		{Bucket: "warehouse", Key: "a/b.parquet", Size: 12345, StorageClass: "STANDARD_IA", LastModified: at.Add(-time.Hour), IsLatest: true},
		{Bucket: "warehouse", Key: "a/c.parquet", Size: 678, StorageClass: "GLACIER_IR", LastModified: at.Add(-time.Hour), IsLatest: true},
	}
	if _, err := fixtures.WriteS3Inventory(local, "warehouse", fixtures.InventoryOptions{At: at}, slices.Values(inv)); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(local, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(local, p)
		put("inventories", filepath.ToSlash(rel), body)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	db := filepath.Join(t.TempDir(), "m.duckdb")
	code, out, stderr := runCLI(t, noEnv, "objects", "load", "--db", db,
		"--list", "s3://lake/dagster", "--s3-inventory", "s3://inventories/warehouse/daily/",
		"--endpoint", srv.URL, "--path-style")
	if code != exitOK {
		t.Fatalf("objects load: exit %d: %s\n%s", code, stderr, out)
	}
	got := listedObjects(t, db, "objects")
	if got["list:s3://lake/dagster"] != "3" || got["s3-inventory:s3://inventories/warehouse/daily/"] != "2" {
		t.Errorf("objects per source %v, want the 3 listed under dagster/ and the inventory's 2", got)
	}
	conn, err := sql.Open("duckdb", db+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	classes := queryColumn(t, conn, "SELECT bucket || '/' || key || ' ' || size_bytes || ' ' || storage_class FROM storage_objects ORDER BY 1")
	want := []string{
		"lake/dagster/storage/orders/part-0.parquet 1000 STANDARD",
		"lake/dagster/storage/orders/part-1.parquet 2000 STANDARD",
		"lake/dagster/storage/orders/part-2.parquet 3000 STANDARD",
		"warehouse/a/b.parquet 12345 STANDARD_IA",
		"warehouse/a/c.parquet 678 GLACIER_IR",
	}
	if !slices.Equal(classes, want) {
		t.Errorf("storage_objects:\n%s\nwant:\n%s", strings.Join(classes, "\n"), strings.Join(want, "\n"))
	}
}
