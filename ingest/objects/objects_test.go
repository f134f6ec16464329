package objects_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/matlens/matlens/ingest"
	"github.com/matlens/matlens/ingest/objects"
	"github.com/matlens/matlens/sql/duckfile"
)

// openFile opens a fresh matlens file with the fact schema.
func openFile(t *testing.T) *duckfile.File {
	t.Helper()
	ctx := context.Background()
	f, err := duckfile.Open(ctx, filepath.Join(t.TempDir(), "m.duckdb"), duckfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := ingest.NewStore(ctx, f); err != nil {
		t.Fatal(err)
	}
	return f
}

func writeFile(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

// keySizes returns key -> size of one source's rows.
func keySizes(t *testing.T, f *duckfile.File, source string) map[string]int64 {
	t.Helper()
	rows, err := f.Conn().QueryContext(context.Background(),
		"SELECT key, size_bytes FROM storage_objects WHERE source = $1", source)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		got[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLocalWalkSkipsLinksAndReplacesSnapshot(t *testing.T) {
	ctx := context.Background()
	f := openFile(t)
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "raw", "orders", "2026-01-01"), 100)
	writeFile(t, filepath.Join(root, "raw", "orders", "2026-01-02"), 250)
	writeFile(t, filepath.Join(root, "raw", "a b ü.parquet"), 7)
	// A loop back to the root and a link to a file: neither is followed.
	if err := os.Symlink(root, filepath.Join(root, "raw", "loop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "raw", "orders", "2026-01-01"), filepath.Join(root, "again")); err != nil {
		t.Fatal(err)
	}
	src := objects.Source{Kind: objects.KindPath, Location: "file://" + root}
	opts := objects.DefaultOptions()
	opts.BatchObjects = 2 // several batches in one snapshot
	sum, err := objects.Load(ctx, f, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Objects != 3 || sum.Bytes != 357 || sum.Provider != objects.ProviderLocal {
		t.Fatalf("summary = %+v, want 3 objects, 357 bytes, local", sum)
	}
	want := map[string]int64{
		root + "/raw/orders/2026-01-01": 100,
		root + "/raw/orders/2026-01-02": 250,
		root + "/raw/a b ü.parquet":     7,
	}
	got := keySizes(t, f, src.ID())
	if len(got) != len(want) {
		t.Fatalf("objects = %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d bytes, want %d", k, got[k], n)
		}
	}

	// The next load replaces the snapshot: a deleted file is gone.
	if err := os.Remove(filepath.Join(root, "raw", "orders", "2026-01-02")); err != nil {
		t.Fatal(err)
	}
	if _, err := objects.Load(ctx, f, src, opts); err != nil {
		t.Fatal(err)
	}
	if got := keySizes(t, f, src.ID()); len(got) != 2 {
		t.Fatalf("after the second load: %v, want 2 objects", got)
	}

	// A failing load (the directory is gone) leaves the snapshot whole.
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if _, err := objects.Load(ctx, f, src, opts); err == nil {
		t.Fatal("load of a missing directory succeeded")
	}
	if got := keySizes(t, f, src.ID()); len(got) != 2 {
		t.Fatalf("after a failed load: %v, want the 2 objects of the last good load", got)
	}
}
