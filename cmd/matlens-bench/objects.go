package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest"
	isql "github.com/matlens/matlens/sql"
	"github.com/matlens/matlens/sql/duckfile"
)

// The synthetic deployment of the object-store bench: every asset writes
// under s3://objectsBucket/objectsPrefix/asset_<i>.
const (
	objectsBucket = "acme-bench"
	objectsPrefix = "dagster"
	// objectsPartitions is the daily partitions of each partitioned asset.
	objectsPartitions = 30
	// objectsOrphanPrefixes is how many retired assets' prefixes hold the
	// planted orphans.
	objectsOrphanPrefixes = 20
	// objectsOutside is the objects outside Dagster's prefix: neither
	// matched nor orphans.
	objectsOutside = 3
	// objectsLayout versions the generated layout: a cached store and
	// inventory of another version are generated again.
	objectsLayout = 1
	// objectsRSSTargetKB is the ceiling issue 15 sets on the peak RSS of
	// loading and joining 10M objects.
	objectsRSSTargetKB = 256 * 1024
)

// objectsAt is when the inventory's run started, after every
// materialization of the store.
var objectsAt = time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)

// assetKind is how asset i stores its output; kindOf is the rule the Go
// generator and storeSQL both follow.
type assetKind int

const (
	// kindSingle is one object, data.pickle (its first materialization
	// named data_v0.pickle, so only the latest location may count). One in
	// four also has a noncurrent version.
	kindSingle assetKind = iota
	// kindPartitioned is daily partitioned, one object per partition.
	kindPartitioned
	// kindDirectory is a Parquet dataset: part files and a _SUCCESS
	// marker under the asset's prefix.
	kindDirectory
)

func kindOf(i int) assetKind {
	switch i % 10 {
	case 0:
		return kindPartitioned
	case 1, 2:
		return kindDirectory
	}
	return kindSingle
}

func hasNoncurrent(i int) bool { return kindOf(i) == kindSingle && i%4 == 1 }

// objectsPlan sizes the synthetic deployment: assets of the three kinds,
// planted orphans, and the directory assets' files taking whatever the
// others leave of the object count.
type objectsPlan struct {
	objects                           int64
	assets                            int
	singles, partitioned, directories int
	noncurrent                        int
	orphans                           int64
	dirFiles                          int64
}

func newObjectsPlan(objects int64, assets int) (objectsPlan, error) {
	if assets < 10 {
		return objectsPlan{}, fmt.Errorf("--assets must be >= 10 (one in ten is partitioned, two in ten are directories)")
	}
	p := objectsPlan{objects: objects, assets: assets, orphans: max(objects/100, 1)}
	for i := range assets {
		switch kindOf(i) {
		case kindSingle:
			p.singles++
			if hasNoncurrent(i) {
				p.noncurrent++
			}
		case kindPartitioned:
			p.partitioned++
		case kindDirectory:
			p.directories++
		}
	}
	own := int64(p.singles + p.noncurrent + p.partitioned*objectsPartitions + objectsOutside + 2*p.directories)
	if objects < own+max(objects/100, 1) {
		least := own + 1
		for least < own+max(least/100, 1) {
			least++
		}
		return objectsPlan{}, fmt.Errorf("--objects %d is too few for %d assets: give at least %d", objects, assets, least)
	}
	p.dirFiles = objects - (own - 2*int64(p.directories)) - p.orphans
	return p, nil
}

// filesOf is the files of the d-th directory asset (0-based): part files
// and a _SUCCESS marker, the remainder spread over the first ones.
func (p objectsPlan) filesOf(d int) int64 {
	n := p.dirFiles / int64(p.directories)
	if int64(d) < p.dirFiles%int64(p.directories) {
		n++
	}
	return n
}

// objectsExpected is what the generator wrote, the figures the analyze
// results are checked against. It is cached beside the inventory as JSON.
type objectsExpected struct {
	Layout   int    `json:"layout"`
	Manifest string `json:"manifest"` // relative to the cache directory
	Objects  int64  `json:"objects"`  // inventory rows: objects and versions
	// InventoryBytes is the size of the compressed data files.
	InventoryBytes int64 `json:"inventory_bytes"`
	Files          int   `json:"files"`
	// The asset_storage own rows (partition NULL) and partition rows.
	AssetRows     int64 `json:"asset_rows"`
	PartitionRows int64 `json:"partition_rows"`
	// ExactAssets is the own rows matched exactly: the single-object and
	// partitioned assets.
	ExactAssets       int64            `json:"exact_assets"`
	CurrentObjects    int64            `json:"current_objects"`
	CurrentBytes      int64            `json:"current_bytes"`
	NoncurrentObjects int64            `json:"noncurrent_objects"`
	NoncurrentBytes   int64            `json:"noncurrent_bytes"`
	OrphanObjects     int64            `json:"orphan_objects"`
	OrphanBytes       int64            `json:"orphan_bytes"`
	ClassBytes        map[string]int64 `json:"class_bytes"` // current asset objects by class
}

// mix is splitmix64: sizes and classes that look random and are the same
// on every run.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// classOf is object j's storage class: mostly STANDARD, the rest moved by
// lifecycle rules or Intelligent-Tiering.
func classOf(j uint64) (string, string) {
	switch h := mix(j^0x5bd1e995) % 20; {
	case h < 12:
		return "STANDARD", ""
	case h < 15:
		return "STANDARD_IA", ""
	case h < 17:
		return "GLACIER_IR", ""
	case h < 18:
		return "INTELLIGENT_TIERING", "FREQUENT"
	case h < 19:
		return "INTELLIGENT_TIERING", "ARCHIVE_INSTANT_ACCESS"
	}
	return "DEEP_ARCHIVE", ""
}

// inventory yields the bucket's objects one at a time (never all in
// memory), tallying into exp what analyze should find.
func (p objectsPlan) inventory(exp *objectsExpected) iter.Seq[fixtures.Object] {
	return func(yield func(fixtures.Object) bool) {
		var j uint64
		emit := func(key string, size int64, latest bool) (fixtures.Object, bool) {
			j++
			c, tier := classOf(j)
			age := time.Duration(mix(j)%(60*24)) * time.Hour
			o := fixtures.Object{Bucket: objectsBucket, Key: key, Version: "v2", Size: size, StorageClass: c,
				AccessTier: tier, LastModified: objectsAt.Add(-age).Truncate(time.Millisecond), IsLatest: latest}
			if !latest {
				o.Version = "v1"
				o.LastModified = o.LastModified.Add(-90 * 24 * time.Hour)
			}
			exp.Objects++
			return o, yield(o)
		}
		size := func() int64 { return 1024 + int64(mix(j+1)%(8<<20)) }
		current := func(key string, sz int64) bool {
			o, ok := emit(key, sz, true)
			exp.CurrentObjects++
			exp.CurrentBytes += o.Size
			exp.ClassBytes[o.StorageClass] += o.Size
			return ok
		}
		d := 0
		for i := range p.assets {
			base := fmt.Sprintf("%s/asset_%d", objectsPrefix, i)
			switch kindOf(i) {
			case kindSingle:
				if hasNoncurrent(i) {
					o, ok := emit(base+"/data.pickle", size(), false)
					if !ok {
						return
					}
					exp.NoncurrentObjects++
					exp.NoncurrentBytes += o.Size
				}
				if !current(base+"/data.pickle", size()) {
					return
				}
			case kindPartitioned:
				for pt := 1; pt <= objectsPartitions; pt++ {
					if !current(fmt.Sprintf("%s/2026-01-%02d.parquet", base, pt), size()) {
						return
					}
				}
			case kindDirectory:
				n := p.filesOf(d)
				d++
				for f := range n - 1 {
					if !current(fmt.Sprintf("%s/part-%05d.parquet", base, f), size()) {
						return
					}
				}
				if !current(base+"/_SUCCESS", 0) {
					return
				}
			}
		}
		for n := range p.orphans {
			key := fmt.Sprintf("%s/retired_%02d/part-%07d.parquet", objectsPrefix, n%objectsOrphanPrefixes, n)
			o, ok := emit(key, size(), true)
			if !ok {
				return
			}
			exp.OrphanObjects++
			exp.OrphanBytes += o.Size
		}
		for n := range objectsOutside {
			if _, ok := emit(fmt.Sprintf("other-team/exports/file-%d.csv", n), size(), true); !ok {
				return
			}
		}
	}
}

// objectsStoreSQL fills a new store with the deployment's history, in the
// way BenchmarkAnalyze does: three materializations of each unpartitioned
// asset (the first names another location: only the latest counts), one
// per partition of the partitioned ones, each with its run and step
// execution. The uri metadata follows kindOf and the keys inventory
// writes. $1 is the assets, $2 s3://bucket/prefix/.
var objectsStoreSQL = []string{
	`INSERT INTO materializations (event_id, run_id, job_name, step_key, asset_key, asset_path, partition, ts,
	        size_bytes, execution_time_s, uri, event_type, metadata)
	 WITH m AS (
	     SELECT i * 100 + d AS event_id, i, NULL::VARCHAR AS partition,
	            TIMESTAMP '2026-01-02' + to_days(CAST(d * 20 AS INTEGER)) + to_seconds(i % 86400) AS ts,
	            $2 || 'asset_' || i || CASE WHEN i % 10 IN (1, 2) THEN '/'
	                                        WHEN d = 0 THEN '/data_v0.pickle' ELSE '/data.pickle' END AS uri
	     FROM range($1) a(i), range(3) r(d)
	     WHERE i % 10 <> 0
	     UNION ALL
	     SELECT i * 100 + 3 + p, i, '2026-01-' || lpad(p::VARCHAR, 2, '0'),
	            TIMESTAMP '2026-01-01' + to_days(CAST(p AS INTEGER)) + to_seconds(i % 86400),
	            $2 || 'asset_' || i || '/2026-01-' || lpad(p::VARCHAR, 2, '0') || '.parquet'
	     FROM range($1) a(i), range(1, 31) r(p)
	     WHERE i % 10 = 0
	 )
	 SELECT event_id, 'r' || event_id, 'job' || (i % 7), 'step_' || i, 'asset_' || i, ['asset_' || i], partition, ts,
	        1000000 + hash(event_id) % 1000000, 1 + (hash(event_id) % 1000) / 10.0, uri, 'ASSET_MATERIALIZATION',
	        json_object('uri', uri, 'dagster/row_count', 1000)
	 FROM m`,
	`INSERT INTO step_executions (run_id, job_name, step_key, attempt, started_at, finished_at, duration_ms, status, asset_keys, shared_step)
	 SELECT run_id, job_name, step_key, 1, ts - INTERVAL 1 MINUTE, ts, 60000 + hash(event_id) % 30000,
	        'success', [asset_key], false
	 FROM materializations`,
	isql.MustRead(isql.DuckDB, "duckdb/run_spans_backfill.sql"),
	isql.MustRead(isql.DuckDB, "duckdb/derive_upgrade.sql"),
}

// benchObjects times `matlens objects load` of a generated S3 Inventory and
// `matlens analyze` joining it to the store's assets, k times each, each
// round from a fresh copy of the store, and checks every round's results
// against what the generator wrote.
func benchObjects(ctx context.Context, stdout io.Writer, bin, dir string, p objectsPlan, k int) error {
	cache := filepath.Join(dir, fmt.Sprintf("objects-%d-%d", p.objects, p.assets))
	exp, err := objectsFixture(ctx, stdout, cache, p)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bench: %d-object S3 Inventory (CSV.gz, %d files, %d MB) of %d assets (%d partitioned, %d directories) in %s\n",
		exp.Objects, exp.Files, exp.InventoryBytes>>20, p.assets, p.partitioned, p.directories, cache)
	manifest := filepath.Join(cache, exp.Manifest)
	var loads, analyzes, bases []time.Duration
	var loadRSS, analyzeRSS, baseRSS []int64
	for i := range k {
		work := filepath.Join(dir, fmt.Sprintf("objects-work-%d-%d.duckdb", p.objects, p.assets))
		// The same analyze on the store with no objects loaded: what the
		// join to the objects adds is the difference.
		if err := copyDuckDB(filepath.Join(cache, "store.duckdb"), work); err != nil {
			return err
		}
		base, _, err := timeMatlens(ctx, bin, "analyze", "--db", work, "--log-level", "warn")
		if err != nil {
			return err
		}
		if err := copyDuckDB(filepath.Join(cache, "store.duckdb"), work); err != nil {
			return err
		}
		load, out, err := timeMatlens(ctx, bin, "objects", "load", "--db", work, "--s3-inventory", manifest, "--log-level", "warn")
		if err != nil {
			return err
		}
		if n := loadedObjects(out); n != exp.Objects {
			return fmt.Errorf("bench: objects load reported %d objects, the inventory has %d:\n%s", n, exp.Objects, out)
		}
		an, _, err := timeMatlens(ctx, bin, "analyze", "--db", work, "--log-level", "warn")
		if err != nil {
			return err
		}
		if err := checkObjects(ctx, work, exp); err != nil {
			return err
		}
		loads, analyzes, bases = append(loads, load.wall), append(analyzes, an.wall), append(bases, base.wall)
		loadRSS, analyzeRSS, baseRSS = append(loadRSS, load.maxRSSKB), append(analyzeRSS, an.maxRSSKB), append(baseRSS, base.maxRSSKB)
		fmt.Fprintf(stdout, "  round %d: objects load %s (peak RSS %d MB), analyze %s (peak RSS %d MB; without objects %s, %d MB); results as generated\n",
			i+1, load.wall.Round(time.Millisecond), load.maxRSSKB/1024, an.wall.Round(time.Millisecond), an.maxRSSKB/1024,
			base.wall.Round(time.Millisecond), base.maxRSSKB/1024)
		for _, f := range []string{work, work + ".wal"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("bench: %w", err)
			}
		}
	}
	figure := func(name string, ds []time.Duration, rss []int64) {
		fmt.Fprintf(stdout, "  %-14s median %s  min %s  max %s   peak RSS median %d MB, max %d MB\n", name,
			median(ds).Round(time.Millisecond), slices.Min(ds).Round(time.Millisecond), slices.Max(ds).Round(time.Millisecond),
			medianInt(rss)/1024, slices.Max(rss)/1024)
	}
	figure("objects load:", loads, loadRSS)
	figure("analyze:", analyzes, analyzeRSS)
	figure("  no objects:", bases, baseRSS)
	fmt.Fprintf(stdout, "  %d objects x %d assets: %.0f objects/s loaded; asset_storage and orphaned_objects checked against the generator\n",
		exp.Objects, p.assets, float64(exp.Objects)/median(loads).Seconds())
	verdict := func(kb int64) string {
		if kb <= objectsRSSTargetKB {
			return "met"
		}
		return "not met"
	}
	fmt.Fprintf(stdout, "  peak RSS <= %d MB (issue 15): objects load %s (max %d MB), analyze %s (max %d MB)\n", objectsRSSTargetKB/1024,
		verdict(slices.Max(loadRSS)), slices.Max(loadRSS)/1024, verdict(slices.Max(analyzeRSS)), slices.Max(analyzeRSS)/1024)
	return nil
}

// objectsFixture returns the expected figures of the store and inventory
// in cache, generating both unless an earlier bench left them complete
// (expected.json, written last, says so).
func objectsFixture(ctx context.Context, stdout io.Writer, cache string, p objectsPlan) (objectsExpected, error) {
	var exp objectsExpected
	marker := filepath.Join(cache, "expected.json")
	if body, err := os.ReadFile(marker); err == nil && json.Unmarshal(body, &exp) == nil && exp.Layout == objectsLayout {
		return exp, nil
	}
	if err := os.RemoveAll(cache); err != nil {
		return exp, fmt.Errorf("bench: %w", err)
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return exp, fmt.Errorf("bench: %w", err)
	}
	start := time.Now()
	if err := objectsStore(ctx, filepath.Join(cache, "store.duckdb"), p); err != nil {
		return exp, err
	}
	exp = objectsExpected{Layout: objectsLayout, ClassBytes: map[string]int64{},
		AssetRows: int64(p.assets), PartitionRows: int64(p.partitioned * objectsPartitions),
		ExactAssets: int64(p.singles + p.partitioned)}
	root := filepath.Join(cache, "inventory")
	manifest, err := fixtures.WriteS3Inventory(root, objectsBucket,
		fixtures.InventoryOptions{Versions: true, At: objectsAt}, p.inventory(&exp))
	if err != nil {
		return exp, fmt.Errorf("bench: %w", err)
	}
	if exp.Objects != p.objects {
		return exp, fmt.Errorf("bench: the generator wrote %d objects, planned %d", exp.Objects, p.objects)
	}
	if exp.Manifest, err = filepath.Rel(cache, manifest); err != nil {
		return exp, fmt.Errorf("bench: %w", err)
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".csv.gz") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		exp.Files++
		exp.InventoryBytes += info.Size()
		return nil
	})
	if err != nil {
		return exp, fmt.Errorf("bench: %w", err)
	}
	body, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		return exp, fmt.Errorf("bench: %w", err)
	}
	if err := os.WriteFile(marker, body, 0o644); err != nil {
		return exp, fmt.Errorf("bench: %w", err)
	}
	fmt.Fprintf(stdout, "bench: generated the store and inventory in %s\n", time.Since(start).Round(time.Second))
	return exp, nil
}

// objectsStore builds the store analyze joins the objects to.
func objectsStore(ctx context.Context, path string, p objectsPlan) (err error) {
	store, err := ingest.OpenStore(ctx, path, time.Second)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	conn := store.Conn()
	url := fmt.Sprintf("s3://%s/%s/", objectsBucket, objectsPrefix)
	if _, err := conn.ExecContext(ctx, "SET memory_limit = '1GB'"); err != nil {
		return fmt.Errorf("bench: build store: %w", err)
	}
	for _, q := range objectsStoreSQL {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{p.assets, url}
		}
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("bench: build store: %w\n%s", err, q)
		}
	}
	if _, err := conn.ExecContext(ctx, isql.MustRead(isql.DuckDB, "duckdb/derive_exec.sql"), int64(math.MinInt64)); err != nil {
		return fmt.Errorf("bench: build store: materialization_exec: %w", err)
	}
	return nil
}

var loadedObjectsRE = regexp.MustCompile(`objects: \S+: (\d+) objects,`)

// loadedObjects is the object count of `matlens objects load`'s summary.
func loadedObjects(out string) int64 {
	m := loadedObjectsRE.FindStringSubmatch(out)
	if m == nil {
		return -1
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// checkObjects compares what analyze wrote with what the generator
// planted.
func checkObjects(ctx context.Context, db string, exp objectsExpected) (err error) {
	f, err := duckfile.Open(ctx, db, duckfile.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("bench: check: %w", err)
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	conn := f.Conn()
	var got objectsExpected
	err = conn.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE partition IS NULL), count(*) FILTER (WHERE partition IS NOT NULL),
	        count(*) FILTER (WHERE partition IS NULL AND matched_by = 'exact'),
	        coalesce(sum(objects) FILTER (WHERE partition IS NULL), 0), coalesce(sum(bytes) FILTER (WHERE partition IS NULL), 0),
	        coalesce(sum(noncurrent_objects) FILTER (WHERE partition IS NULL), 0), coalesce(sum(noncurrent_bytes) FILTER (WHERE partition IS NULL), 0)
	 FROM asset_storage`).Scan(&got.AssetRows, &got.PartitionRows, &got.ExactAssets,
		&got.CurrentObjects, &got.CurrentBytes, &got.NoncurrentObjects, &got.NoncurrentBytes)
	if err != nil {
		return fmt.Errorf("bench: check asset_storage: %w", err)
	}
	var ncObjects, ncBytes int64
	err = conn.QueryRowContext(ctx, `SELECT
	        coalesce(sum(objects) FILTER (WHERE reason = 'no current materialization'), 0),
	        coalesce(sum(bytes) FILTER (WHERE reason = 'no current materialization'), 0),
	        coalesce(sum(objects) FILTER (WHERE reason = 'noncurrent version'), 0),
	        coalesce(sum(bytes) FILTER (WHERE reason = 'noncurrent version'), 0)
	 FROM orphaned_objects`).Scan(&got.OrphanObjects, &got.OrphanBytes, &ncObjects, &ncBytes)
	if err != nil {
		return fmt.Errorf("bench: check orphaned_objects: %w", err)
	}
	got.ClassBytes = map[string]int64{}
	rows, err := conn.QueryContext(ctx, `SELECT k, sum(v)::BIGINT FROM (
	     SELECT unnest(map_keys(bytes_by_class)) AS k, unnest(map_values(bytes_by_class)) AS v
	     FROM asset_storage WHERE partition IS NULL)
	 GROUP BY k`)
	if err != nil {
		return fmt.Errorf("bench: check bytes_by_class: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var class string
		var n sql.NullInt64
		if err := rows.Scan(&class, &n); err != nil {
			return fmt.Errorf("bench: check bytes_by_class: %w", err)
		}
		got.ClassBytes[class] = n.Int64
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("bench: check bytes_by_class: %w", err)
	}
	var bad []string
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"asset_storage asset rows", got.AssetRows, exp.AssetRows},
		{"asset_storage partition rows", got.PartitionRows, exp.PartitionRows},
		{"asset rows matched exactly", got.ExactAssets, exp.ExactAssets},
		{"current objects", got.CurrentObjects, exp.CurrentObjects},
		{"current bytes", got.CurrentBytes, exp.CurrentBytes},
		{"noncurrent objects", got.NoncurrentObjects, exp.NoncurrentObjects},
		{"noncurrent bytes", got.NoncurrentBytes, exp.NoncurrentBytes},
		{"orphaned objects", got.OrphanObjects, exp.OrphanObjects},
		{"orphaned bytes", got.OrphanBytes, exp.OrphanBytes},
		{"orphaned_objects noncurrent objects", ncObjects, exp.NoncurrentObjects},
		{"orphaned_objects noncurrent bytes", ncBytes, exp.NoncurrentBytes},
	} {
		if c.got != c.want {
			bad = append(bad, fmt.Sprintf("%s: %d, generated %d", c.name, c.got, c.want))
		}
	}
	if !maps.Equal(got.ClassBytes, exp.ClassBytes) {
		bad = append(bad, fmt.Sprintf("bytes by class: %v, generated %v", got.ClassBytes, exp.ClassBytes))
	}
	if len(bad) > 0 {
		return fmt.Errorf("bench: analyze's results are not what was generated (%s):\n  %s", db, strings.Join(bad, "\n  "))
	}
	return nil
}
