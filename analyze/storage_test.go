package analyze_test

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matlens/matlens/analyze"
	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest"
	"github.com/matlens/matlens/ingest/objects"
	"github.com/matlens/matlens/sql/duckfile"
	"github.com/matlens/matlens/tiering"
)

// storageDB loads the small fixture deployment, its bucket's inventory
// (S3 Inventory, CSV, all versions) and analyzes it.
func storageDB(t *testing.T) (*sql.Conn, *fixtures.ObjectSet) {
	t.Helper()
	f, set := storageFile(t)
	return f.Conn(), set
}

// storageFile is storageDB's file, for tests that load more snapshots.
func storageFile(t *testing.T) (*duckfile.File, *fixtures.ObjectSet) {
	t.Helper()
	ctx := context.Background()
	o := smallFixture()
	path, _ := loadFixture(t, o)
	set, err := fixtures.DeploymentObjects(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := fixtures.WriteS3Inventory(t.TempDir(), fixtures.ObjectBucket,
		fixtures.InventoryOptions{Versions: true, At: set.At, RowsPerFile: 500}, slices.Values(set.Objects))
	if err != nil {
		t.Fatal(err)
	}
	f, err := duckfile.Open(ctx, path, duckfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := ingest.NewStore(ctx, f); err != nil {
		t.Fatal(err)
	}
	if _, err := objects.Load(ctx, f, objects.Source{Kind: objects.KindS3Inventory, Location: manifest}, objects.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	runAnalyze(t, f.Conn(), nil)
	return f, set
}

// current sums the current objects at key or under it on '/' boundaries,
// straight from the inventory the fixture wrote: the independent answer.
func current(set *fixtures.ObjectSet, key string) (bytes, objects int64) {
	for _, o := range set.Objects {
		if o.IsLatest && !o.IsDeleteMarker && (o.Key == key || strings.HasPrefix(o.Key, key+"/")) {
			bytes += o.Size
			objects++
		}
	}
	return bytes, objects
}

func TestAssetStorageMatchesTheInventoryToTheByte(t *testing.T) {
	conn, set := storageDB(t)
	type row struct{ bytes, objects int64 }
	want := map[string]row{}
	ownKeys := map[string]map[string]bool{}
	for loc, key := range set.Locations {
		asset, partition, _ := strings.Cut(loc, "|")
		b, n := current(set, key)
		if partition != "" {
			want[loc] = row{b, n}
		}
		if ownKeys[asset] == nil {
			ownKeys[asset] = map[string]bool{}
		}
		ownKeys[asset][key] = true
	}
	for asset, keys := range ownKeys {
		var r row
		for k := range keys {
			b, n := current(set, k)
			r.bytes, r.objects = r.bytes+b, r.objects+n
		}
		want[asset] = r
	}

	rows, err := conn.QueryContext(context.Background(),
		"SELECT asset_key, coalesce(partition, ''), bytes, objects, matched_by FROM asset_storage")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]row{}
	matched := map[string]string{}
	for rows.Next() {
		var asset, partition, by string
		var r row
		if err := rows.Scan(&asset, &partition, &r.bytes, &r.objects, &by); err != nil {
			t.Fatal(err)
		}
		loc := asset
		if partition != "" {
			loc += "|" + partition
		}
		got[loc] = r
		matched[loc] = by
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("asset_storage has %d rows, want %d", len(got), len(want))
	}
	for loc, w := range want {
		if got[loc] != w {
			t.Errorf("%s: %+v, want %+v (independent sum of the inventory)", loc, got[loc], w)
		}
	}
	for _, a := range set.Gone {
		if matched[a] != "none" || got[a].bytes != 0 {
			t.Errorf("gone asset %s: matched_by %q, %d bytes; want none, 0", a, matched[a], got[a].bytes)
		}
	}
	for _, a := range set.Directories {
		if matched[a] != "prefix" {
			t.Errorf("directory asset %s: matched_by %q, want prefix", a, matched[a])
		}
	}
	if len(set.Gone) == 0 || len(set.Directories) == 0 {
		t.Fatalf("the fixture plants no gone (%v) or no directory (%v) assets", set.Gone, set.Directories)
	}
}

func TestOrphansAreExactlyThePlantedOnes(t *testing.T) {
	conn, set := storageDB(t)
	rows, err := conn.QueryContext(context.Background(),
		"SELECT DISTINCT prefix FROM orphaned_objects WHERE reason = 'no current materialization' ORDER BY prefix")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	var want []string
	for _, p := range set.Orphans {
		want = append(want, "s3://"+fixtures.ObjectBucket+"/"+p)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("orphan prefixes %v, want the planted %v", got, want)
	}
	var outside, noncurrent int64
	if err := conn.QueryRowContext(context.Background(), `
SELECT count(*) FILTER (WHERE prefix LIKE '%' || $1 || '%'),
       coalesce(sum(bytes) FILTER (WHERE reason = 'noncurrent version'), 0)
FROM orphaned_objects`, set.Outside).Scan(&outside, &noncurrent); err != nil {
		t.Fatal(err)
	}
	var wantNoncurrent int64
	for _, o := range set.Objects {
		if !o.IsLatest && strings.HasPrefix(o.Key, "dagster/") {
			wantNoncurrent += o.Size
		}
	}
	if outside != 0 {
		t.Errorf("%d orphan rows under %s, which is outside Dagster's prefix", outside, set.Outside)
	}
	if noncurrent != wantNoncurrent {
		t.Errorf("noncurrent bytes %d, want %d", noncurrent, wantNoncurrent)
	}
}

func TestMeasuredSizesWinInAssetStats(t *testing.T) {
	conn, set := storageDB(t)
	var measured, mismatched int64
	if err := conn.QueryRowContext(context.Background(), `
SELECT count(*) FILTER (WHERE s.size_source = 'object store'),
       count(*) FILTER (WHERE s.size_source = 'object store' AND s.size_bytes_latest <> st.bytes)
FROM asset_stats s JOIN asset_storage st ON st.asset_key = s.asset_key AND st.partition IS NOT DISTINCT FROM s.partition`).Scan(&measured, &mismatched); err != nil {
		t.Fatal(err)
	}
	if measured != int64(len(set.Locations))+int64(countPartitioned(set)) || mismatched != 0 {
		t.Errorf("%d rows sized from the object store (%d mismatched), want one per location and partitioned asset (%d)", measured, mismatched, len(set.Locations)+countPartitioned(set))
	}
}

func countPartitioned(set *fixtures.ObjectSet) int {
	assets := map[string]bool{}
	for loc := range set.Locations {
		if a, _, ok := strings.Cut(loc, "|"); ok {
			assets[a] = true
		}
	}
	return len(assets)
}

func TestRecommendPricesMeasuredBytesClassesAndOrphans(t *testing.T) {
	ctx := context.Background()
	conn, _ := storageDB(t)
	sheet, err := tiering.DefaultPriceSheet()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := analyze.Recommend(ctx, conn, sheet, tiering.DefaultOptions(), nil); err != nil {
		t.Fatal(err)
	}
	var measured, wrongSize, wrongClass, colder int64
	if err := conn.QueryRowContext(ctx, `
SELECT count(*),
       count(*) FILTER (WHERE abs(r.size_gb * 1073741824 - st.bytes) > 1),
       count(*) FILTER (WHERE r.current_class <> st.storage_class),
       count(*) FILTER (WHERE r.current_class <> 'STANDARD')
FROM tier_recommendations r
JOIN asset_storage st ON st.asset_key = r.asset_key AND st.partition IS NOT DISTINCT FROM r.partition
WHERE r.size_source = 'object store' AND st.matched_by <> 'none'`).Scan(&measured, &wrongSize, &wrongClass, &colder); err != nil {
		t.Fatal(err)
	}
	if measured == 0 || wrongSize != 0 || wrongClass != 0 || colder == 0 {
		t.Errorf("%d measured recommendations: %d priced at another size, %d in another class than the inventory's, %d not in STANDARD (want > 0, 0, 0, > 0)",
			measured, wrongSize, wrongClass, colder)
	}
	var unpriced, deletes int64
	var saved float64
	if err := conn.QueryRowContext(ctx, `
SELECT count(*) FILTER (WHERE cost_usd_month IS NULL), count(*) FILTER (WHERE action = 'delete'), coalesce(sum(savings_usd_month), 0)
FROM orphaned_objects`).Scan(&unpriced, &deletes, &saved); err != nil {
		t.Fatal(err)
	}
	if unpriced != 0 || deletes == 0 || !(saved > 0) {
		t.Errorf("orphans: %d unpriced, %d to delete, $%.2f/month saved; want 0, > 0, > 0", unpriced, deletes, saved)
	}
	// Each planted orphan group at the sheet's rate for its class, worked
	// out by hand: the retired asset's five partitions in STANDARD, and the
	// one small export in STANDARD_IA, billed at least its minimum size.
	aws := sheet.Providers["aws"]
	rows, err := conn.QueryContext(ctx, `
SELECT storage_class, objects, bytes, cost_usd_month FROM orphaned_objects
WHERE reason = 'no current materialization' AND prefix LIKE '%/legacy'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	groups := 0
	for rows.Next() {
		var class string
		var n, bytes int64
		var cost float64
		if err := rows.Scan(&class, &n, &bytes, &cost); err != nil {
			t.Fatal(err)
		}
		groups++
		c := aws.Classes[class]
		want := float64(n) * math.Max(float64(bytes)/float64(n), c.MinBillableObjectBytes) / aws.BytesPerGB * c.StorageUSDPerGBMonth
		if math.Abs(cost-want) > 1e-12 {
			t.Errorf("legacy orphans in %s (%d objects, %d bytes): $%v/month, want $%v", class, n, bytes, cost, want)
		}
	}
	if groups != 2 {
		t.Errorf("%d legacy orphan groups, want STANDARD and STANDARD_IA", groups)
	}
}

// TestGrowthIsMeasuredFromRealBytes loads a second snapshot two days
// later in which one asset's object has grown by 4 MB: its growth is the
// measured 2 MB a day and its forecasts follow from the measured bytes,
// while every asset whose bytes stayed put grows by exactly nothing.
func TestGrowthIsMeasuredFromRealBytes(t *testing.T) {
	ctx := context.Background()
	f, set := storageFile(t)
	conn := f.Conn()
	var first time.Time
	if err := conn.QueryRowContext(ctx, "SELECT max(as_of) FROM asset_storage").Scan(&first); err != nil {
		t.Fatal(err)
	}
	// A single-object asset that is not partitioned, so one key holds all
	// of its bytes.
	var grown, grownKey string
	for loc, key := range set.Locations {
		if !strings.Contains(loc, "|") && !slices.Contains(set.Directories, loc) && !slices.Contains(set.Gone, loc) &&
			(grown == "" || loc < grown) {
			grown, grownKey = loc, key
		}
	}
	if grown == "" {
		t.Fatal("the fixture has no unpartitioned single-object asset")
	}
	const delta = 4_000_000
	later := make([]fixtures.Object, len(set.Objects))
	copy(later, set.Objects)
	for i := range later {
		if later[i].Key == grownKey && later[i].IsLatest {
			later[i].Size += delta
		}
	}
	manifest, err := fixtures.WriteS3Inventory(t.TempDir(), fixtures.ObjectBucket,
		fixtures.InventoryOptions{Versions: true, At: set.At.Add(48 * time.Hour)}, slices.Values(later))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := objects.Load(ctx, f, objects.Source{Kind: objects.KindS3Inventory, Location: manifest}, objects.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	runAnalyze(t, conn, func(o *analyze.Options) { o.AsOf = first.Add(48 * time.Hour) })

	rows, err := conn.QueryContext(ctx, `
SELECT s.asset_key, s.size_growth_bytes_per_day, s.size_bytes_latest, s.size_bytes_forecast_30d
FROM asset_stats s JOIN asset_storage st ON st.asset_key = s.asset_key AND st.partition IS NULL
WHERE s.partition IS NULL AND st.matched_by <> 'none'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var asset string
		var growth, latest, forecast30 sql.NullFloat64
		if err := rows.Scan(&asset, &growth, &latest, &forecast30); err != nil {
			t.Fatal(err)
		}
		n++
		want := 0.0
		if asset == grown {
			want = delta / 2
		}
		if !growth.Valid || math.Abs(growth.Float64-want) > 1e-6*max(1, want) {
			t.Errorf("%s: growth %v bytes/day, want %v measured", asset, growth, want)
		}
		if !forecast30.Valid || math.Abs(forecast30.Float64-math.Max(0, latest.Float64+30*want)) > 1e-3 {
			t.Errorf("%s: 30-day forecast %v, want measured %v + 30 x %v", asset, forecast30, latest, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("%d measured assets, want several", n)
	}
}
