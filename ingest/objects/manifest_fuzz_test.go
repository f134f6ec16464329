package objects

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matlens/matlens/fixtures"
)

// The manifests of reference/object-inventories.md §6, verbatim in shape.
const (
	seedS3Manifest = `{
    "sourceBucket": "matlens-src",
    "destinationBucket": "arn:aws:s3:::matlens-inventory",
    "version": "2016-11-30",
    "creationTimestamp" : "1793588400000",
    "fileFormat": "CSV",
    "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass, IntelligentTieringAccessTier",
    "files": [
        {
            "key": "inv/matlens-src/daily-all/data/0b1f0a7e-3c52-4a8e-9d3b-6f2c1d4e5a6b.csv.gz",
            "size": 318,
            "MD5checksum": "00000000000000000000000000000000"
        }
    ]
}`
	seedGCSManifest = `{
  "report_config": {"name": "projects/matlens-prj/locations/us-central1/reportConfigs/3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "displayName": "daily"},
  "records_processed": 3,
  "snapshot_time": "2026-11-02T04:10:00Z",
  "shard_count": 1,
  "report_shards_file_names": ["3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f_2026-11-02T04:10_0.csv"]
}`
	seedGCSReportNames = `{"snapshot_time": "2026-11-02T04:10:00Z",
  "reportNames": ["gs://matlens-insights/reports/3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f_2026-11-02T04:10_0.csv"]}`
	seedAzureManifest = `{
"destinationContainer" : "inventory-destination-container",
"endpoint" : "https://testaccount.blob.core.windows.net",
"files" : [ { "blob" : "2021/05/26/13-25-36/Rule_1/Rule_1.csv", "size" : 12710092 } ],
"inventoryCompletionTime" : "2021-05-26T13:35:56Z",
"inventoryStartTime" : "2021-05-26T13:25:36Z",
"ruleDefinition" : { "filters" : { "blobTypes" : [ "blockBlob" ], "includeBlobVersions" : false,
    "includeSnapshots" : false, "prefixMatch" : [ "penner-test-container-100003" ] },
  "format" : "csv", "objectType" : "blob", "schedule" : "daily",
  "schemaFields" : [ "Name", "Creation-Time", "BlobType", "Content-Length", "LastAccessTime", "Last-Modified", "Metadata", "AccessTier" ] },
"ruleName" : "Rule_1", "status" : "Succeeded",
"summary" : { "objectCount" : 110000, "totalObjectSize" : 23789775 },
"version" : "1.0"
}`
)

// escapes are names a hostile or broken manifest could carry.
var escapes = []string{
	"../../etc/passwd", "/etc/passwd", "a/../../b", "..", "", "gs://b/../x.csv", "a/\x00b",
}

// fixtureManifest writes a report with a fixtures writer and returns its
// manifest's bytes.
func fixtureManifest(f *testing.F, write func(root string, o fixtures.InventoryOptions, objs []fixtures.Object) (string, error)) []byte {
	f.Helper()
	at := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)
	objs := []fixtures.Object{
		{Bucket: "acme-data", Key: "raw/a b+c%ü.csv", Version: "2", Size: 7, StorageClass: "STANDARD", LastModified: at, IsLatest: true},
		{Bucket: "acme-data", Key: "raw/a b+c%ü.csv", Version: "1", Size: 5, StorageClass: "STANDARD", LastModified: at.Add(-time.Hour)},
	}
	manifest, err := write(f.TempDir(), fixtures.InventoryOptions{Versions: true, At: at, RowsPerFile: 1}, objs)
	if err != nil {
		f.Fatal(err)
	}
	body, err := os.ReadFile(manifest)
	if err != nil {
		f.Fatal(err)
	}
	return body
}

// seedWithEscapes adds a manifest and its copies with the first file name
// replaced by each escaping name.
func seedWithEscapes(f *testing.F, body []byte, name string) {
	f.Add(body)
	for _, e := range escapes {
		f.Add(bytes.Replace(body, jsonString(name), jsonString(e), 1))
	}
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// requireInside fails unless name, accepted from a manifest, is relative
// and stays inside the report's root.
func requireInside(t *testing.T, name string) {
	t.Helper()
	const root = "/report/root"
	switch {
	case name == "" || strings.HasPrefix(name, "/") || filepath.IsAbs(name) || strings.ContainsRune(name, 0):
		t.Fatalf("accepted file name %q: empty, absolute or with a NUL byte", name)
	case slices.Contains(strings.Split(name, "/"), ".."):
		t.Fatalf("accepted file name %q with a .. component", name)
	case !filepath.IsLocal(filepath.FromSlash(name)):
		t.Fatalf("accepted file name %q, which is not local", name)
	}
	if p := filepath.Join(root, filepath.FromSlash(name)); !strings.HasPrefix(p, root+string(filepath.Separator)) {
		t.Fatalf("accepted file name %q resolves to %s, outside %s", name, p, root)
	}
}

func FuzzParseS3Manifest(f *testing.F) {
	f.Add([]byte(seedS3Manifest))
	body := fixtureManifest(f, func(root string, o fixtures.InventoryOptions, objs []fixtures.Object) (string, error) {
		return fixtures.WriteS3Inventory(root, "acme-data", o, slices.Values(objs))
	})
	m, err := parseS3Manifest(body)
	if err != nil || len(m.Files) == 0 {
		f.Fatalf("fixture manifest: %v, %d files", err, len(m.Files))
	}
	seedWithEscapes(f, body, m.Files[0].Key)
	f.Add([]byte(`{"files": null}`))
	f.Add([]byte(`{"creationTimestamp": 1793588400000, "files": [{"key": "a"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseS3Manifest(body)
		if err != nil {
			return
		}
		_ = m.createdAt()
		for _, k := range m.keys() {
			requireInside(t, k)
		}
	})
}

func FuzzParseGCSManifest(f *testing.F) {
	f.Add([]byte(seedGCSManifest))
	f.Add([]byte(seedGCSReportNames))
	body := fixtureManifest(f, func(root string, o fixtures.InventoryOptions, objs []fixtures.Object) (string, error) {
		return fixtures.WriteGCSInventory(root, o, slices.Values(objs))
	})
	m, _, err := parseGCSManifest(body)
	if err != nil || len(m.Shards) == 0 {
		f.Fatalf("fixture manifest: %v, %d shards", err, len(m.Shards))
	}
	seedWithEscapes(f, body, m.Shards[0])
	f.Add([]byte(`{"report_shards_file_names": ["gs://b", "gs://b/", "."]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, names, err := parseGCSManifest(body)
		if err != nil {
			return
		}
		if len(names) == 0 {
			t.Fatal("accepted a manifest with no shards")
		}
		for _, n := range names {
			requireInside(t, n)
			if strings.Contains(n, "/") {
				t.Fatalf("shard %q is not a base name: shards sit beside the manifest", n)
			}
		}
	})
}

func FuzzParseAzureManifest(f *testing.F) {
	f.Add([]byte(seedAzureManifest))
	body := fixtureManifest(f, func(root string, o fixtures.InventoryOptions, objs []fixtures.Object) (string, error) {
		return fixtures.WriteAzureInventory(root, o, slices.Values(objs))
	})
	m, err := parseAzureManifest(body)
	if err != nil || len(m.Files) == 0 {
		f.Fatalf("fixture manifest: %v, %d files", err, len(m.Files))
	}
	seedWithEscapes(f, body, m.Files[0].Blob)
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseAzureManifest(body)
		if err != nil {
			return
		}
		for _, b := range m.blobs() {
			requireInside(t, b)
			if n := azureChecksumName(b); n == "" {
				t.Fatal("empty checksum name")
			}
		}
	})
}

func FuzzParseCSVHeader(f *testing.F) {
	for _, s := range []string{
		"project,bucket,name,location,size,timeCreated,updated,storageClass,etag,md5Hash,crc32c\nmatlens-prj,matlens-data,a,US,1,,,,,,\n",
		"Name,Creation-Time,Last-Modified,Content-Length,Content-MD5,BlobType,AccessTier,VersionId,IsCurrentVersion\r\n",
		"project\tbucket\tname\tsize\n",
		"bucket;name;size",
		"bucket|name|size\n",
		`"quoted,name",size` + "\n",
		"single\n",
		"",
		`"unterminated,x` + "\n",
		" , \n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		names, delim, err := parseCSVHeader(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(names) < 2 {
			t.Fatalf("accepted header %q with %d fields", data, len(names))
		}
		if !slices.Contains(csvDelimiters, delim) {
			t.Fatalf("delimiter %q is not one of %q", delim, csvDelimiters)
		}
		for _, n := range names {
			if n != strings.TrimSpace(n) {
				t.Fatalf("field %q is not trimmed", n)
			}
		}
		// The names go into SQL as quoted literals; building the read
		// must not fail on any of them.
		if sql := readCSVSQL(names, true, delim, false); !strings.HasPrefix(sql, "read_csv(") {
			t.Fatalf("readCSVSQL: %q", sql)
		}
	})
}

func TestManifestsNamingFilesOutsideTheReportAreRefused(t *testing.T) {
	t.Parallel()
	parsers := map[string]func(name []byte) error{
		"s3": func(name []byte) error {
			_, err := parseS3Manifest([]byte(`{"files": [{"key": "inv/ok.csv.gz"}, {"key": ` + string(name) + `}]}`))
			return err
		},
		"gcs": func(name []byte) error {
			_, _, err := parseGCSManifest([]byte(`{"report_shards_file_names": ["x_0.csv", ` + string(name) + `]}`))
			return err
		},
		"azure": func(name []byte) error {
			_, err := parseAzureManifest([]byte(`{"files": [{"blob": "2026/ok.csv"}, {"blob": ` + string(name) + `}]}`))
			return err
		},
	}
	for kind, parse := range parsers {
		for _, name := range escapes {
			err := parse(jsonString(name))
			if err == nil {
				t.Errorf("%s manifest naming %q: accepted", kind, name)
				continue
			}
			quoted := fmt.Sprintf("%q", name)
			if kind == "gcs" && strings.HasPrefix(name, "gs://") {
				quoted = fmt.Sprintf("%q", strings.TrimPrefix(name, "gs://b/"))
			}
			if name == "" {
				quoted = "empty name"
			}
			if !strings.Contains(err.Error(), quoted) || !strings.Contains(err.Error(), "manifest") {
				t.Errorf("%s manifest naming %q: error %q does not name the manifest and %s", kind, name, err, quoted)
			}
		}
	}
}
