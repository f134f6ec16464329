package analyze_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matlens/matlens/analyze"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

type statRow struct {
	asset, partition                         string
	materializations, observations, failures int64
	successes, readsTotal                    int64
	successRate                              sql.NullFloat64
	execN                                    int64
	mean, std, p50, p95, p99, max            sql.NullFloat64
	sizeKnown                                bool
	sizeLatest                               sql.NullInt64
	growth, f30, f90, f365                   sql.NullFloat64
	computeSeconds                           float64
	shared                                   bool
}

func readStats(t *testing.T, conn *sql.Conn) map[[2]string]statRow {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), `
		SELECT asset_key, coalesce(partition, ''), materializations, observations, failures, successes, reads_total,
		       success_rate, exec_time_samples, exec_time_s_mean, exec_time_s_stddev, exec_time_s_p50,
		       exec_time_s_p95, exec_time_s_p99, exec_time_s_max, size_known, size_bytes_latest,
		       size_growth_bytes_per_day, size_bytes_forecast_30d, size_bytes_forecast_90d, size_bytes_forecast_365d,
		       compute_seconds, shared_step
		FROM asset_stats`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[[2]string]statRow{}
	for rows.Next() {
		var r statRow
		if err := rows.Scan(&r.asset, &r.partition, &r.materializations, &r.observations, &r.failures, &r.successes, &r.readsTotal,
			&r.successRate, &r.execN, &r.mean, &r.std, &r.p50, &r.p95, &r.p99, &r.max, &r.sizeKnown, &r.sizeLatest,
			&r.growth, &r.f30, &r.f90, &r.f365, &r.computeSeconds, &r.shared); err != nil {
			t.Fatal(err)
		}
		out[[2]string{r.asset, r.partition}] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAnalyzeMatchesGeneratorAnswers(t *testing.T) {
	path, exp := smallDB(t)
	conn := openStore(t, path)
	st := runAnalyze(t, conn, nil)
	stats := readStats(t, conn)

	if st.Assets != int64(len(exp.Assets)) {
		t.Errorf("assets = %d, want %d", st.Assets, len(exp.Assets))
	}
	if !st.AsOf.Equal(exp.LastTimestamp.Truncate(time.Microsecond)) && st.AsOf.After(exp.LastTimestamp) {
		t.Errorf("as_of %s is after the last event %s", st.AsOf, exp.LastTimestamp)
	}
	var failures, partitioned int64
	for key, a := range exp.Assets {
		r, ok := stats[[2]string{key, ""}]
		if !ok {
			t.Errorf("%s: no asset row", key)
			continue
		}
		failures += a.Failures
		if r.materializations != a.Materializations || r.failures != a.Failures || r.observations != a.Observations {
			t.Errorf("%s: materializations/failures/observations %d/%d/%d, want %d/%d/%d", key,
				r.materializations, r.failures, r.observations, a.Materializations, a.Failures, a.Observations)
		}
		if r.shared != a.SharedStep {
			t.Errorf("%s: shared_step %v, want %v", key, r.shared, a.SharedStep)
		}
		// Source assets are observed, not materialized: the generator's
		// SizeKnown is about materializations, analyze also takes the size
		// an observation records.
		if r.sizeKnown != a.SizeKnown && !a.Source {
			t.Errorf("%s: size_known %v, want %v", key, r.sizeKnown, a.SizeKnown)
		}
		if !a.SizeKnown && !a.Source && r.sizeLatest.Valid {
			t.Errorf("%s: size unknown but size_bytes_latest = %d (must stay NULL)", key, r.sizeLatest.Int64)
		}
		if a.SizeKnown && !a.Partitioned && r.sizeLatest.Int64 != a.SizeBytesLatest {
			t.Errorf("%s: size_bytes_latest %d, want %d", key, r.sizeLatest.Int64, a.SizeBytesLatest)
		}
		if got, want := r.readsTotal, a.ReadsSameRun+a.ReadsCrossRun; got != want {
			t.Errorf("%s: reads_total %d, want %d", key, got, want)
		}
		if a.Partitioned {
			partitioned++
			var parts, mats, fails int64
			for k, pr := range stats {
				if k[0] == key && k[1] != "" {
					if pr.materializations > 0 {
						parts++
					}
					mats += pr.materializations
					fails += pr.failures
				}
			}
			if parts != a.Partitions || mats != a.Materializations {
				t.Errorf("%s: %d partitions with %d materializations, want %d with %d", key, parts, mats, a.Partitions, a.Materializations)
			}
			if fails > r.failures {
				t.Errorf("%s: partitions have %d failures, more than the asset's %d", key, fails, r.failures)
			}
		}
	}
	if failures == 0 || partitioned == 0 {
		t.Fatalf("fixture has %d failures and %d partitioned assets; pick a seed with both", failures, partitioned)
	}

	// Every asset with a failure below 95% raises a critical alert.
	var critical int64
	for _, r := range stats {
		if r.partition == "" && r.successRate.Valid && r.successRate.Float64 < 0.95 {
			critical++
		}
	}
	if critical == 0 || st.Critical != critical {
		t.Errorf("critical alerts %d, want %d (assets below 95%%)", st.Critical, critical)
	}
}

// TestAnalyzeMatchesIndependentComputation recomputes the statistics from
// the fact tables with plain SQL reads and plain Go arithmetic.
func TestAnalyzeMatchesIndependentComputation(t *testing.T) {
	path, _ := smallDB(t)
	conn := openStore(t, path)
	st := runAnalyze(t, conn, nil)
	stats := readStats(t, conn)
	ctx := context.Background()

	// Execution times per asset in time order.
	rows, err := conn.QueryContext(ctx, `
		SELECT m.asset_key, coalesce(m.execution_time_s, s.duration_ms / 1000.0)
		FROM materializations m
		LEFT JOIN (SELECT run_id, step_key, max(duration_ms) AS duration_ms FROM step_executions
		           WHERE status = 'success' GROUP BY ALL) s USING (run_id, step_key)
		WHERE m.ts <= $1
		ORDER BY m.asset_key, m.ts, m.event_id`, st.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	exec := map[string][]float64{}
	for rows.Next() {
		var k string
		var v sql.NullFloat64
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		if v.Valid {
			exec[k] = append(exec[k], v.Float64)
		}
	}
	rows.Close()
	checked := 0
	for k, v := range exec {
		r := stats[[2]string{k, ""}]
		n := len(v)
		mean, stddev, s := analyze.ReferenceExec(v)
		closeTo(t, k+" mean", r.mean, mean)
		closeTo(t, k+" p50", r.p50, analyze.NearestRank(s, 0.5))
		closeTo(t, k+" p95", r.p95, analyze.NearestRank(s, 0.95))
		closeTo(t, k+" p99", r.p99, analyze.NearestRank(s, 0.99))
		closeTo(t, k+" max", r.max, s[n-1])
		if n > 1 {
			closeTo(t, k+" stddev", r.std, stddev)
		}
		if r.execN != int64(n) {
			t.Errorf("%s: exec samples %d, want %d", k, r.execN, n)
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d assets with execution times", checked)
	}

	// Size growth of unpartitioned assets: plain least squares over days.
	rows, err = conn.QueryContext(ctx, `
		SELECT asset_key, epoch_us(ts) / 86400e6, size_bytes FROM (
			SELECT asset_key, partition, ts, event_id, size_bytes FROM materializations
			UNION ALL SELECT asset_key, partition, ts, event_id, size_bytes FROM observations)
		WHERE size_bytes IS NOT NULL AND partition IS NULL AND ts <= $1
		ORDER BY asset_key, ts, event_id`, st.AsOf)
	if err != nil {
		t.Fatal(err)
	}
	type pt struct{ t, v float64 }
	series := map[string][]pt{}
	for rows.Next() {
		var k string
		var p pt
		var v int64
		if err := rows.Scan(&k, &p.t, &v); err != nil {
			t.Fatal(err)
		}
		p.v = float64(v)
		series[k] = append(series[k], p)
	}
	rows.Close()
	growing := 0
	for k, ps := range series {
		r := stats[[2]string{k, ""}]
		if len(ps) < 2 {
			if r.growth.Valid {
				t.Errorf("%s: growth from one point", k)
			}
			continue
		}
		var mt, mv float64
		for _, p := range ps {
			mt += p.t
			mv += p.v
		}
		mt, mv = mt/float64(len(ps)), mv/float64(len(ps))
		var sxy, sxx float64
		for _, p := range ps {
			sxy += (p.t - mt) * (p.v - mv)
			sxx += (p.t - mt) * (p.t - mt)
		}
		slope := sxy / sxx
		latest := ps[len(ps)-1].v
		closeToTol(t, k+" growth", r.growth, slope, 1e-6*math.Max(1, math.Abs(slope)))
		closeToTol(t, k+" forecast 90d", r.f90, max(0, latest+90*slope), 1e-3*math.Max(1, latest))
		if slope > 0 {
			growing++
			if !(float64(r.sizeLatest.Int64) <= r.f30.Float64 && r.f30.Float64 <= r.f90.Float64 && r.f90.Float64 <= r.f365.Float64) {
				t.Errorf("%s: growing asset with non-monotone forecasts %v %v %v", k, r.f30, r.f90, r.f365)
			}
		}
	}
	if growing == 0 {
		t.Error("no growing asset to check forecasts on")
	}

	// Compute seconds: a shared step's time is counted once in total.
	var want float64
	if err := conn.QueryRowContext(ctx, `SELECT sum(duration_ms) / 1000 FROM step_executions
		WHERE len(asset_keys) > 0 AND coalesce(finished_at, started_at) <= $1`, st.AsOf).Scan(&want); err != nil {
		t.Fatal(err)
	}
	var got float64
	for _, r := range stats {
		if r.partition == "" {
			got += r.computeSeconds
		}
	}
	if math.Abs(got-want) > 1e-6*want {
		t.Errorf("compute seconds sum to %v, step executions to %v (shared steps counted more than once?)", got, want)
	}
}

func closeTo(t *testing.T, what string, got sql.NullFloat64, want float64) {
	t.Helper()
	closeToTol(t, what, got, want, 1e-9*math.Max(1, math.Abs(want)))
}

func closeToTol(t *testing.T, what string, got sql.NullFloat64, want, tol float64) {
	t.Helper()
	if !got.Valid {
		t.Errorf("%s is NULL, want %v", what, want)
		return
	}
	if math.Abs(got.Float64-want) > tol {
		t.Errorf("%s = %v, want %v", what, got.Float64, want)
	}
}

func TestAnalyzeProperties(t *testing.T) {
	path, _ := smallDB(t)
	conn := openStore(t, path)
	runAnalyze(t, conn, nil)
	for k, r := range readStats(t, conn) {
		if r.successRate.Valid && !(r.successRate.Float64 >= 0 && r.successRate.Float64 <= 1) {
			t.Errorf("%v: success rate %v", k, r.successRate.Float64)
		}
		if r.p50.Valid && !(r.p50.Float64 <= r.p95.Float64 && r.p95.Float64 <= r.p99.Float64 && r.p99.Float64 <= r.max.Float64) {
			t.Errorf("%v: quantiles out of order %v %v %v %v", k, r.p50, r.p95, r.p99, r.max)
		}
		if r.sizeLatest.Valid && !r.sizeKnown {
			t.Errorf("%v: size without size_known", k)
		}
		for _, f := range []sql.NullFloat64{r.f30, r.f90, r.f365} {
			if f.Valid && f.Float64 < 0 {
				t.Errorf("%v: negative forecast", k)
			}
		}
	}
}

func TestAnalyzeHistoryAndRerun(t *testing.T) {
	path, _ := smallDB(t)
	conn := openStore(t, path)
	ctx := context.Background()
	count := func(q string) int64 {
		t.Helper()
		var n int64
		if err := conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	st1 := runAnalyze(t, conn, nil)
	n1 := [3]int64{count("SELECT count(*) FROM asset_stats_history"), count("SELECT count(*) FROM alerts_history"), count("SELECT count(*) FROM capacity_plan_history")}
	if n1[0] != st1.Assets+st1.Partitions || n1[1] != st1.Alerts || n1[2] != st1.PlanRows {
		t.Errorf("history rows %v, want %d/%d/%d", n1, st1.Assets+st1.Partitions, st1.Alerts, st1.PlanRows)
	}
	// The same as_of again: replaced, not duplicated.
	runAnalyze(t, conn, nil)
	n2 := [3]int64{count("SELECT count(*) FROM asset_stats_history"), count("SELECT count(*) FROM alerts_history"), count("SELECT count(*) FROM capacity_plan_history")}
	if n2 != n1 {
		t.Errorf("re-run with the same as_of changed history rows %v -> %v", n1, n2)
	}
	// An earlier as_of appends its own rows; current tables show that run.
	earlier := st1.AsOf.Add(-5 * 24 * time.Hour)
	st3 := runAnalyze(t, conn, func(o *analyze.Options) { o.AsOf = earlier })
	if got := count("SELECT count(DISTINCT as_of) FROM asset_stats_history"); got != 2 {
		t.Errorf("history holds %d as_of values, want 2", got)
	}
	if got := count("SELECT count(*) FROM asset_stats"); got != st3.Assets+st3.Partitions {
		t.Errorf("asset_stats has %d rows, want %d", got, st3.Assets+st3.Partitions)
	}
	if got := count(fmt.Sprintf("SELECT count(*) FROM asset_stats WHERE last_materialized > TIMESTAMP '%s'", earlier.Format("2006-01-02 15:04:05.999999"))); got != 0 {
		t.Errorf("%d rows saw events after as_of", got)
	}
	if got := count("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name LIKE 'analyze_%'"); got != 0 {
		t.Errorf("%d temp tables left behind", got)
	}
	// Analyze runs with its own limit and leaves it: a later stage sets
	// what it needs.
	var after, want string
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRowContext(ctx, "SET memory_limit = '"+analyze.DefaultOptions().MemoryLimit+"'; SELECT current_setting('memory_limit')").Scan(&want); err != nil {
		t.Fatal(err)
	}
	if after != want {
		t.Errorf("memory_limit %q after analyze, want analyze's own %q", after, want)
	}
}

func TestAnalyzeEmptyStore(t *testing.T) {
	conn := openStore(t, filepath.Join(t.TempDir(), "empty.duckdb"))
	st := runAnalyze(t, conn, nil)
	if st.Assets != 0 || st.Alerts != 0 {
		t.Errorf("empty store: %+v", st)
	}
}

// TestAnalyzeGolden pins asset_stats of the small fixture. Review a
// changed golden file by eye: go test ./analyze -run Golden -update.
func TestAnalyzeGolden(t *testing.T) {
	path, _ := smallDB(t)
	conn := openStore(t, path)
	runAnalyze(t, conn, nil)
	rows, err := conn.QueryContext(context.Background(), `
		SELECT * EXCLUDE (as_of) FROM asset_stats ORDER BY asset_key, partition NULLS FIRST`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	b.WriteString(strings.Join(cols, "\t") + "\n")
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				cells[i] = "NULL"
			case float64:
				cells[i] = fmt.Sprintf("%.6g", x)
			case time.Time:
				cells[i] = x.UTC().Format("2006-01-02T15:04:05.000000")
			default:
				cells[i] = fmt.Sprint(x)
			}
		}
		b.WriteString(strings.Join(cells, "\t") + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "asset_stats.golden.tsv")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != b.String() {
		gl, wl := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("asset_stats differs from %s at line %d:\n-want %s\n+got  %s", golden, i+1, wl[i], gl[i])
			}
		}
		t.Fatalf("asset_stats differs from %s: %d lines, want %d", golden, len(gl), len(wl))
	}
}
