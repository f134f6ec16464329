package objects

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// s3Manifest is an S3 Inventory manifest.json.
type s3Manifest struct {
	SourceBucket      string `json:"sourceBucket"`
	DestinationBucket string `json:"destinationBucket"`
	// CreationTimestamp is epoch milliseconds, as a string in every
	// example AWS publishes; a bare number is accepted too.
	CreationTimestamp json.RawMessage `json:"creationTimestamp"`
	FileFormat        string          `json:"fileFormat"`
	FileSchema        string          `json:"fileSchema"`
	Files             []struct {
		Key         string `json:"key"`
		Size        int64  `json:"size"`
		MD5checksum string `json:"MD5checksum"`
	} `json:"files"`
}

// parseS3Manifest decodes a manifest.json and checks that every data file
// it names is a key inside the destination bucket.
func parseS3Manifest(body []byte) (s3Manifest, error) {
	return parseManifest(body, "S3 Inventory", s3Manifest.keys)
}

// keys are the data files' keys, relative to the destination bucket.
func (m s3Manifest) keys() []string {
	keys := make([]string, len(m.Files))
	for i, f := range m.Files {
		keys[i] = f.Key
	}
	return keys
}

func (m s3Manifest) createdAt() time.Time {
	ms, err := strconv.ParseInt(strings.Trim(string(m.CreationTimestamp), `" `), 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// s3RunDir is the name of one inventory run's directory, the UTC time its
// scan started: 2026-11-02T03-00Z.
var s3RunDir = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z$`)

// readS3Inventory loads one S3 Inventory report. The location (a local
// path; s3:// URLs are fetched first) is its manifest.json, or the
// configuration's directory (…/<bucket>/<config-id>/), whose newest run is
// read: the nightly job then follows the daily report without a new path
// each day.
func readS3Inventory(ctx context.Context, loc string, s *Snapshot) error {
	manifest, err := s3ManifestPath(loc)
	if err != nil {
		return err
	}
	body, err := os.ReadFile(manifest)
	if err != nil {
		return err
	}
	if err := verifyChecksumFile(manifest, filepath.Join(filepath.Dir(manifest), "manifest.checksum"), body); err != nil {
		return err
	}
	m, err := parseS3Manifest(body)
	if err != nil {
		return fmt.Errorf("%s: %w", manifest, err)
	}
	sizes, md5s := make([]int64, len(m.Files)), make([]string, len(m.Files))
	for i, f := range m.Files {
		sizes[i], md5s[i] = f.Size, f.MD5checksum
	}
	files, err := resolveFiles(manifest, m.keys(), sizes, md5s)
	if err != nil {
		return err
	}
	s.SetSnapshotAt(m.createdAt())
	s.Logger().Info("objects: reading S3 Inventory", "manifest", manifest,
		"bucket", m.SourceBucket, "format", m.FileFormat, "files", len(files))

	for i, f := range files {
		if err := f.verify(); err != nil {
			return err
		}
		query, err := s3InventorySelect(ctx, s, m, f)
		if err != nil {
			return err
		}
		n, err := s.InsertSelect(query, f.path)
		if err != nil {
			return fmt.Errorf("%s: %w", f.path, duckError(err))
		}
		s.AddFiles(1)
		s.Logger().Debug("objects: inventory file read", "file", f.path, "objects", n, "done", i+1, "of", len(files))
	}
	return nil
}

// s3ManifestPath finds the manifest a location names: the file itself, a
// run directory holding one, or a configuration directory whose newest run
// holds one.
func s3ManifestPath(loc string) (string, error) {
	st, err := os.Stat(loc)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return loc, nil
	}
	if p := filepath.Join(loc, "manifest.json"); fileExists(p) {
		return p, nil
	}
	newest, err := newestMatch(loc, func(rel string, d fs.DirEntry) bool {
		dir, name := filepath.Split(rel)
		return name == "manifest.json" && s3RunDir.MatchString(filepath.Base(filepath.Clean(dir)))
	})
	if err != nil {
		return "", err
	}
	if newest == "" {
		return "", fmt.Errorf("%s: no manifest.json in it or in a <YYYY-MM-DDTHH-MMZ>/ run directory below it", loc)
	}
	return newest, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// s3InventorySelect is the SELECT over one data file in the columns
// storage_objects takes. Columns come from the file itself: CSV has no
// header and follows fileSchema; Parquet carries its own names.
func s3InventorySelect(ctx context.Context, s *Snapshot, m s3Manifest, f inventoryFile) (string, error) {
	var cols columnSet
	var from string
	var keyExpr string
	switch strings.ToUpper(m.FileFormat) {
	case "CSV":
		var names []string
		for _, n := range strings.Split(m.FileSchema, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		cols = csvColumns(names)
		from = readCSVSQL(names, false, ',', isGzip(f.path))
		// CSV keys are form-encoded: '+' is a space, a literal '+' is %2B.
		keyExpr = `url_decode(replace("Key", '+', ' '))`
	case "PARQUET":
		var err error
		if cols, err = s.parquetColumns(ctx, f.path); err != nil {
			return "", err
		}
		from = "read_parquet($4)"
		keyExpr = `"key"`
	case "ORC":
		return "", fmt.Errorf("%s: ORC inventories cannot be read; set the inventory configuration's output format to CSV or Parquet (Apache Parquet is smaller and faster to read)", f.path)
	default:
		return "", fmt.Errorf("%s: unknown fileFormat %q (want CSV or Parquet)", f.path, m.FileFormat)
	}
	for _, need := range [][2]string{{"Bucket", "bucket"}, {"Key", "key"}, {"Size", "size"}} {
		if _, ok := cols.first(need[0], need[1]); !ok {
			return "", fmt.Errorf("%s: the inventory has no %s field; add it to the inventory configuration's fields", f.path, need[0])
		}
	}
	return fmt.Sprintf(`SELECT %s AS bucket, %s AS key, %s AS version, %s AS size_bytes,
       %s AS storage_class, %s AS access_tier, %s AS last_modified,
       %s AS is_latest, %s AS is_delete_marker
FROM %s`,
		textExpr(cols, "Bucket", "bucket"), keyExpr, textExpr(cols, "VersionId", "version_id"),
		sizeExpr(cols, "Size", "size"),
		textExpr(cols, "StorageClass", "storage_class"),
		textExpr(cols, "IntelligentTieringAccessTier", "intelligent_tiering_access_tier"),
		timeExpr(cols, "LastModifiedDate", "last_modified_date"),
		boolExpr(cols, true, "IsLatest", "is_latest"),
		boolExpr(cols, false, "IsDeleteMarker", "is_delete_marker"),
		from), nil
}

// parquetColumns reads the column names and DuckDB types of a Parquet file.
func (s *Snapshot) parquetColumns(ctx context.Context, path string) (columnSet, error) {
	rows, err := s.tx.QueryContext(ctx, "DESCRIBE SELECT * FROM read_parquet($1)", path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, duckError(err))
	}
	defer rows.Close()
	cols := columnSet{}
	colNames, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		vals := make([]any, len(colNames))
		ptrs := make([]any, len(colNames))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		name, _ := vals[0].(string)
		typ, _ := vals[1].(string)
		cols[name] = typ
	}
	return cols, rows.Err()
}
