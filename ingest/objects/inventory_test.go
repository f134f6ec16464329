package objects_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest/objects"
	"github.com/matlens/matlens/sql/duckfile"
)

var inventoryAt = time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)

// sampleObjects covers what the readers must get right: versions, a delete
// marker, a key that needs form-decoding (space, '+', '%', non-ASCII) and
// Intelligent-Tiering's access tier.
func sampleObjects(bucket string) []fixtures.Object {
	t := func(d int) time.Time { return inventoryAt.Add(-time.Duration(d) * 24 * time.Hour) }
	return []fixtures.Object{
		{Bucket: bucket, Key: "raw/orders/2026-01-01", Version: "2", Size: 100, StorageClass: "STANDARD", LastModified: t(1), IsLatest: true},
		{Bucket: bucket, Key: "raw/orders/2026-01-01", Version: "1", Size: 90, StorageClass: "STANDARD", LastModified: t(2)},
		{Bucket: bucket, Key: "raw/a b+c%ü.csv", Version: "3", Size: 7, StorageClass: "STANDARD_IA", LastModified: t(3), IsLatest: true},
		{Bucket: bucket, Key: "it/x", Version: "4", Size: 50, StorageClass: "INTELLIGENT_TIERING", AccessTier: "INFREQUENT", LastModified: t(4), IsLatest: true},
		{Bucket: bucket, Key: "gone", Version: "6", LastModified: t(5), IsLatest: true, IsDeleteMarker: true},
		{Bucket: bucket, Key: "gone", Version: "5", Size: 30, StorageClass: "GLACIER", LastModified: t(6)},
	}
}

// objectRow is one storage_objects row as the tests compare it; objectRows
// returns a source's rows by key, latest version last.
type objectRow struct {
	Bucket, Key, Version, Class, Tier string
	Size                              int64
	Modified                          time.Time
	Latest, DeleteMarker              bool
}

func objectRows(t *testing.T, f *duckfile.File, source string) []objectRow {
	t.Helper()
	rows, err := f.Conn().QueryContext(context.Background(), `
SELECT bucket, key, coalesce(version, ''), coalesce(storage_class, ''), coalesce(access_tier, ''),
       size_bytes, last_modified, is_latest, is_delete_marker
FROM storage_objects WHERE source = $1 ORDER BY key, is_latest, last_modified, version`, source)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []objectRow
	for rows.Next() {
		var r objectRow
		if err := rows.Scan(&r.Bucket, &r.Key, &r.Version, &r.Class, &r.Tier, &r.Size, &r.Modified, &r.Latest, &r.DeleteMarker); err != nil {
			t.Fatal(err)
		}
		r.Modified = r.Modified.UTC()
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// want is what a provider's report of objs must load as: GCS and Azure have
// no delete markers and keep no access tier.
func want(objs []fixtures.Object, provider string) []objectRow {
	var rows []objectRow
	for _, o := range objs {
		if o.IsDeleteMarker && provider != "aws" {
			continue
		}
		r := objectRow{Bucket: o.Bucket, Key: o.Key, Version: o.Version, Class: o.StorageClass, Size: o.Size,
			Modified: o.LastModified, Latest: o.IsLatest, DeleteMarker: o.IsDeleteMarker}
		if provider == "aws" {
			r.Tier = o.AccessTier
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, byKeyVersion)
	return rows
}

func byKeyVersion(a, b objectRow) int {
	if c := strings.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	return strings.Compare(a.Version, b.Version)
}

func TestInventoriesLoadEveryFormatExactly(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		kind     objects.Kind
		provider string
		format   fixtures.InventoryFormat
	}{
		{objects.KindS3Inventory, "aws", fixtures.FormatCSV},
		{objects.KindS3Inventory, "aws", fixtures.FormatParquet},
		{objects.KindGCSInventory, "gcp", fixtures.FormatCSV},
		{objects.KindGCSInventory, "gcp", fixtures.FormatParquet},
		{objects.KindAzureInventory, "azure", fixtures.FormatCSV},
		{objects.KindAzureInventory, "azure", fixtures.FormatParquet},
	}
	for _, c := range cases {
		t.Run(string(c.kind)+"/"+string(c.format), func(t *testing.T) {
			objs := sampleObjects("acme-data")
			root := t.TempDir()
			opts := fixtures.InventoryOptions{Format: c.format, Versions: true, At: inventoryAt, RowsPerFile: 2}
			var manifest string
			var err error
			switch c.kind {
			case objects.KindS3Inventory:
				manifest, err = fixtures.WriteS3Inventory(root, "acme-data", opts, slices.Values(objs))
			case objects.KindGCSInventory:
				manifest, err = fixtures.WriteGCSInventory(root, opts, slices.Values(objs))
			case objects.KindAzureInventory:
				manifest, err = fixtures.WriteAzureInventory(root, opts, slices.Values(objs))
			}
			if err != nil {
				t.Fatal(err)
			}
			f := openFile(t)
			// The directory above the report finds its newest run, as a
			// nightly configuration names it.
			src := objects.Source{Kind: c.kind, Location: root}
			sum, err := objects.Load(ctx, f, src, objects.DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			wantRows := want(objs, c.provider)
			got := objectRows(t, f, src.ID())
			slices.SortFunc(got, byKeyVersion)
			if !slices.Equal(got, wantRows) {
				t.Errorf("rows from %s:\n got %+v\nwant %+v", manifest, got, wantRows)
			}
			if sum.Provider != c.provider || !sum.SnapshotAt.Equal(inventoryAt) || sum.Objects != int64(len(wantRows)) || sum.Files < 2 {
				t.Errorf("summary %+v: want provider %s, snapshot %s, %d objects, >= 2 files", sum, c.provider, inventoryAt, len(wantRows))
			}
		})
	}
}

// loadFails loads src after a good snapshot of it and checks the error and
// that the good snapshot is still whole.
func loadFails(t *testing.T, f *duckfile.File, src objects.Source, before int, wantErr ...string) {
	t.Helper()
	loadFailsWith(t, f, src, objects.DefaultOptions(), before, wantErr...)
}

// loadFailsWith is loadFails with options (an Azure source's environment);
// it returns the error.
func loadFailsWith(t *testing.T, f *duckfile.File, src objects.Source, opts objects.Options, before int, wantErr ...string) error {
	t.Helper()
	_, err := objects.Load(context.Background(), f, src, opts)
	if err == nil {
		t.Fatal("load succeeded")
	}
	for _, w := range wantErr {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if got := len(objectRows(t, f, src.ID())); got != before {
		t.Errorf("after the failed load the source has %d rows, want the previous %d", got, before)
	}
	return err
}

func TestBadInventoriesFailClearlyAndKeepThePreviousSnapshot(t *testing.T) {
	ctx := context.Background()
	objs := sampleObjects("acme-data")
	write := func(t *testing.T, format fixtures.InventoryFormat) (string, string, objects.Source, *duckfile.File) {
		root := t.TempDir()
		manifest, err := fixtures.WriteS3Inventory(root, "acme-data", fixtures.InventoryOptions{Format: format, Versions: true, At: inventoryAt}, slices.Values(objs))
		if err != nil {
			t.Fatal(err)
		}
		f := openFile(t)
		src := objects.Source{Kind: objects.KindS3Inventory, Location: manifest}
		if _, err := objects.Load(ctx, f, src, objects.DefaultOptions()); err != nil {
			t.Fatal(err)
		}
		return root, manifest, src, f
	}
	dataFile := func(t *testing.T, root string) string {
		m, _ := filepath.Glob(filepath.Join(root, "acme-data", "daily", "data", "*"))
		if len(m) != 1 {
			t.Fatalf("data files %v", m)
		}
		return m[0]
	}

	t.Run("missing data file", func(t *testing.T) {
		root, _, src, f := write(t, fixtures.FormatCSV)
		p := dataFile(t, root)
		os.Remove(p)
		loadFails(t, f, src, 6, "missing", filepath.Base(p))
	})
	t.Run("truncated gzip", func(t *testing.T) {
		root, _, src, f := write(t, fixtures.FormatCSV)
		p := dataFile(t, root)
		st, _ := os.Stat(p)
		os.Truncate(p, st.Size()-10)
		loadFails(t, f, src, 6, p, "truncated")
	})
	t.Run("corrupt manifest", func(t *testing.T) {
		_, manifest, src, f := write(t, fixtures.FormatCSV)
		body, _ := os.ReadFile(manifest)
		os.WriteFile(manifest, []byte(strings.Replace(string(body), "acme-data", "acme-datX", 1)), 0o644)
		loadFails(t, f, src, 6, "manifest.checksum")
	})
	t.Run("ORC", func(t *testing.T) {
		_, manifest, src, f := write(t, fixtures.FormatCSV)
		body, _ := os.ReadFile(manifest)
		os.WriteFile(manifest, []byte(strings.Replace(string(body), `"CSV"`, `"ORC"`, 1)), 0o644)
		os.Remove(filepath.Join(filepath.Dir(manifest), "manifest.checksum"))
		loadFails(t, f, src, 6, "ORC", "CSV or Parquet")
	})
	t.Run("data file outside the report", func(t *testing.T) {
		root, manifest, src, f := write(t, fixtures.FormatCSV)
		rel, _ := filepath.Rel(root, dataFile(t, root))
		body, _ := os.ReadFile(manifest)
		os.WriteFile(manifest, []byte(strings.Replace(string(body), filepath.ToSlash(rel), "../../etc/passwd", 1)), 0o644)
		os.Remove(filepath.Join(filepath.Dir(manifest), "manifest.checksum"))
		loadFails(t, f, src, 6, manifest, `"../../etc/passwd" leaves the report's root`)
	})
	t.Run("row with the wrong number of fields", func(t *testing.T) {
		root := t.TempDir()
		manifest, err := fixtures.WriteGCSInventory(root, fixtures.InventoryOptions{At: inventoryAt}, slices.Values(objs))
		if err != nil {
			t.Fatal(err)
		}
		f := openFile(t)
		src := objects.Source{Kind: objects.KindGCSInventory, Location: manifest}
		if _, err := objects.Load(ctx, f, src, objects.DefaultOptions()); err != nil {
			t.Fatal(err)
		}
		shards, _ := filepath.Glob(filepath.Join(root, "*_0.csv"))
		fh, _ := os.OpenFile(shards[0], os.O_APPEND|os.O_WRONLY, 0)
		fh.WriteString("acme-prj,acme-data,short/row,US\n")
		fh.Close()
		loadFails(t, f, src, 3, shards[0], "Expected Number of Columns")
	})
	t.Run("azure run still pending", func(t *testing.T) {
		root := t.TempDir()
		manifest, err := fixtures.WriteAzureInventory(root, fixtures.InventoryOptions{At: inventoryAt}, slices.Values(objs))
		if err != nil {
			t.Fatal(err)
		}
		f := openFile(t)
		src := objects.Source{Kind: objects.KindAzureInventory, Location: manifest}
		if _, err := objects.Load(ctx, f, src, objects.DefaultOptions()); err != nil {
			t.Fatal(err)
		}
		body, _ := os.ReadFile(manifest)
		os.WriteFile(manifest, []byte(strings.Replace(string(body), "Succeeded", "Pending", 1)), 0o644)
		os.Remove(strings.TrimSuffix(manifest, ".json") + ".checksum")
		loadFails(t, f, src, 3, "Pending", "wait")
	})
}
