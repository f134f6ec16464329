package objects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// gcsManifest is a Storage Insights inventory report's manifest. Google's
// pages do not publish it; the keys are the ones third-party readers use,
// and both shard-list keys they use are accepted.
type gcsManifest struct {
	SnapshotTime string   `json:"snapshot_time"`
	Shards       []string `json:"report_shards_file_names"`
	ReportNames  []string `json:"reportNames"`
}

// gcsShardName is <config-uuid>_<YYYY-MM-DDTHH:MM>_<n>.csv|.parquet; the
// time is the snapshot's.
var gcsShardName = regexp.MustCompile(`_(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})_(\d+|manifest)\.(csv|parquet|json)$`)

// readGCSInventory loads one Storage Insights inventory report: its
// manifest, one shard, or a directory holding a report (its newest
// manifest, or else every shard in it). The location is local; gs://
// URLs are fetched first.
func readGCSInventory(ctx context.Context, loc string, s *Snapshot) error {
	files, at, err := gcsReportFiles(loc)
	if err != nil {
		return err
	}
	s.SetSnapshotAt(at)
	s.Logger().Info("objects: reading GCS inventory report", "location", loc, "files", len(files))
	for _, f := range files {
		query, err := gcsInventorySelect(ctx, s, f)
		if err != nil {
			return err
		}
		if _, err := s.InsertSelect(query, f); err != nil {
			return fmt.Errorf("%s: %w", f, duckError(err))
		}
		s.AddFiles(1)
	}
	return nil
}

func gcsReportFiles(loc string) (files []string, at time.Time, err error) {
	st, err := os.Stat(loc)
	if err != nil {
		return nil, at, err
	}
	manifest := ""
	switch {
	case !st.IsDir() && strings.HasSuffix(loc, "_manifest.json"):
		manifest = loc
	case !st.IsDir():
		return []string{loc}, gcsShardTime(loc), nil
	default:
		manifest, err = newestMatch(loc, func(rel string, d fs.DirEntry) bool {
			return !d.IsDir() && strings.HasSuffix(rel, "_manifest.json")
		})
		if err != nil {
			return nil, at, err
		}
	}
	if manifest == "" {
		err = filepath.WalkDir(loc, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && isGCSShard(p) {
				files = append(files, p)
			}
			return err
		})
		if err == nil && len(files) == 0 {
			err = fmt.Errorf("%s: no *_manifest.json and no .csv or .parquet shards in it", loc)
		}
		if len(files) > 0 {
			at = gcsShardTime(files[0])
		}
		return files, at, err
	}
	body, err := os.ReadFile(manifest)
	if err != nil {
		return nil, at, err
	}
	m, names, err := parseGCSManifest(body)
	if err != nil {
		return nil, at, fmt.Errorf("%s: %w", manifest, err)
	}
	dir := filepath.Dir(manifest)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if !fileExists(p) {
			return nil, at, fmt.Errorf("%s names shard %s, which is missing from %s", manifest, n, dir)
		}
		files = append(files, p)
	}
	if t, err := time.Parse(time.RFC3339, m.SnapshotTime); err == nil {
		at = t
	} else {
		at = gcsShardTime(manifest)
	}
	return files, at, nil
}

// parseGCSManifest decodes a report's manifest and returns the base names
// of the shards it lists, which sit beside it: report_shards_file_names,
// or else reportNames (gs:// URIs). A name that is not inside the report
// (../x, /x) is an error.
func parseGCSManifest(body []byte) (gcsManifest, []string, error) {
	var m gcsManifest
	if err := json.Unmarshal(body, &m); err != nil {
		return gcsManifest{}, nil, fmt.Errorf("not a GCS inventory manifest: %w", err)
	}
	names := m.Shards
	if len(names) == 0 {
		names = m.ReportNames
	}
	if len(names) == 0 {
		return gcsManifest{}, nil, errors.New("lists no shards (report_shards_file_names)")
	}
	bases := make([]string, len(names))
	for i, n := range names {
		rel := n
		if after, ok := strings.CutPrefix(n, "gs://"); ok {
			_, rel, _ = strings.Cut(after, "/")
		}
		if err := checkReportName(rel); err != nil {
			return gcsManifest{}, nil, fmt.Errorf("GCS inventory manifest: shard %w", err)
		}
		bases[i] = path.Base(rel)
		if bases[i] == "." || bases[i] == "/" {
			return gcsManifest{}, nil, fmt.Errorf("GCS inventory manifest: shard %q names no file", n)
		}
	}
	return m, bases, nil
}

// isGCSShard reports whether a file or key is a report shard by its name.
func isGCSShard(name string) bool {
	return strings.HasSuffix(name, ".csv") || strings.HasSuffix(name, ".csv.gz") || strings.HasSuffix(name, ".parquet")
}

func gcsShardTime(p string) time.Time {
	m := gcsShardName.FindStringSubmatch(filepath.Base(p))
	if m == nil {
		return time.Time{}
	}
	t, _ := time.Parse("2006-01-02T15:04", m[1])
	return t
}

// gcsInventorySelect selects one shard's objects. The field names are the
// JSON API's (name, size, storageClass, updated, generation, timeDeleted):
// a noncurrent generation is one with timeDeleted set.
func gcsInventorySelect(ctx context.Context, s *Snapshot, path string) (string, error) {
	cols, from, err := s.headedFileColumns(ctx, path)
	if err != nil {
		return "", err
	}
	for _, need := range []string{"bucket", "name", "size"} {
		if _, ok := cols.first(need); !ok {
			return "", fmt.Errorf("%s: the report has no %s field; add it to the report configuration's metadata fields", path, need)
		}
	}
	isLatest := "true"
	if n, ok := cols.first("timeDeleted"); ok {
		if cols[n] == "VARCHAR" {
			isLatest = fmt.Sprintf("nullif(trim(%s), '') IS NULL", ident(n))
		} else {
			isLatest = fmt.Sprintf("%s IS NULL", ident(n))
		}
	}
	return fmt.Sprintf(`SELECT %s AS bucket, %s AS key, %s AS version, %s AS size_bytes,
       %s AS storage_class, NULL::VARCHAR AS access_tier, %s AS last_modified,
       %s AS is_latest, false AS is_delete_marker
FROM %s`,
		textExpr(cols, "bucket"), ident("name"), textExpr(cols, "generation"), sizeExpr(cols, "size"),
		textExpr(cols, "storageClass"), timeExpr(cols, "updated", "timeCreated"), isLatest, from), nil
}
