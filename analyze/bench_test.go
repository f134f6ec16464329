package analyze_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/matlens/matlens/analyze"
	"github.com/matlens/matlens/ingest"
	isql "github.com/matlens/matlens/sql"
	"github.com/matlens/matlens/tiering"
)

// benchSizes are the benchmark's (assets, materializations); override with
// MATLENS_BENCH_ASSETS and MATLENS_BENCH_MATERIALIZATIONS.
func benchSizes() [][2]int {
	a, m := 10_000, 2_000_000
	if v, err := strconv.Atoi(os.Getenv("MATLENS_BENCH_ASSETS")); err == nil && v > 0 {
		a = v
	}
	if v, err := strconv.Atoi(os.Getenv("MATLENS_BENCH_MATERIALIZATIONS")); err == nil && v > 0 {
		m = v
	}
	return [][2]int{{a, m}}
}

// BenchmarkAnalyze runs the whole stage over a synthetic store built with
// SQL (fast to build, realistic shape): every materialization has its own
// run and step execution (one in 50 failed and retried, one in 200 failed
// for good), half carry execution_time_s, 80% a size; one asset in ten is
// daily-partitioned; one read per two materializations. It runs only with
// -bench. Sub-benchmarks time analyze.Run and then analyze.Recommend over
// its output.
func BenchmarkAnalyze(b *testing.B) {
	for _, sz := range benchSizes() {
		b.Run(fmt.Sprintf("assets=%d,materializations=%d", sz[0], sz[1]), func(b *testing.B) {
			ctx := context.Background()
			path := filepath.Join(b.TempDir(), "bench.duckdb")
			if p := os.Getenv("MATLENS_BENCH_KEEP"); p != "" {
				path = p
			}
			store, err := ingest.OpenStore(ctx, path, time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			conn := store.Conn()
			for _, q := range []string{
				"SET memory_limit = '1GB'",
				fmt.Sprintf(`INSERT INTO materializations (event_id, run_id, job_name, step_key, asset_key, asset_path, partition, ts,
				        size_bytes, execution_time_s, event_type)
				 SELECT i, 'r' || i, 'job' || (i %% 7), 'step_' || (i %% %[1]d), 'asset/' || (i %% %[1]d), ['asset', (i %% %[1]d)::VARCHAR],
				        CASE WHEN i %% %[1]d %% 10 = 0 THEN strftime(DATE '2026-01-01' + CAST((i // %[1]d) %% 90 AS INTEGER), '%%Y-%%m-%%d') END,
				        TIMESTAMP '2026-01-01' + to_microseconds(CAST(i * (90 * 86400e6 / %[2]d) AS BIGINT)),
				        CASE WHEN i %% 5 <> 0 THEN CAST(1e6 * (1 + i %% %[1]d) * (1 + 0.001 * (i // %[1]d)) AS BIGINT) END,
				        CASE WHEN i %% 2 = 0 THEN 1 + (hash(i) %% 1000) / 10.0 END,
				        'ASSET_MATERIALIZATION'
				 FROM range(%[2]d) t(i)`, sz[0], sz[1]),
				`INSERT INTO step_executions (run_id, job_name, step_key, attempt, started_at, finished_at, duration_ms, status, asset_keys, shared_step)
				 SELECT run_id, job_name, step_key, 1, ts - INTERVAL 1 MINUTE, ts, 60000 + hash(event_id) % 30000,
				        CASE WHEN event_id % 200 = 0 THEN 'failure' ELSE 'success' END, [asset_key], false
				 FROM materializations`,
				`INSERT INTO step_executions (run_id, job_name, step_key, attempt, started_at, finished_at, duration_ms, status, asset_keys, shared_step)
				 SELECT run_id, job_name, step_key, 0, ts - INTERVAL 3 MINUTE, ts - INTERVAL 2 MINUTE, 30000, 'retried', [asset_key], false
				 FROM materializations WHERE event_id % 50 = 0`,
				fmt.Sprintf(`INSERT INTO asset_reads (event_id, run_id, job_name, step_key, ts, input_name, asset_key, event_type, resolution)
				 SELECT %[2]d + i, 'r' || (i * 2 + 1), 'job' || (i %% 7), 'step_x', TIMESTAMP '2026-01-01' + to_microseconds(CAST(i * (90 * 86400e6 / %[2]d) * 2 AS BIGINT)),
				        'input', 'asset/' || ((i * 7) %% %[1]d), 'LOADED_INPUT', 'cross_run'
				 FROM range(%[2]d // 2) t(i)`, sz[0], sz[1]),
				// What the loader derives: run_spans, step_executions.partition
				// and (below) materialization_exec.
				isql.MustRead(isql.DuckDB, "duckdb/run_spans_backfill.sql"),
				isql.MustRead(isql.DuckDB, "duckdb/derive_upgrade.sql"),
			} {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					b.Fatalf("build store: %v\n%s", err, q)
				}
			}
			if _, err := conn.ExecContext(ctx, isql.MustRead(isql.DuckDB, "duckdb/derive_exec.sql"), int64(math.MinInt64)); err != nil {
				b.Fatalf("build store: materialization_exec: %v", err)
			}
			if _, err := conn.ExecContext(ctx, "SET memory_limit = '64MB'"); err != nil {
				b.Fatal(err)
			}
			opts := analyze.DefaultOptions()
			var logger *slog.Logger
			if os.Getenv("MATLENS_BENCH_DEBUG") != "" {
				logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			// analyze and recommend are timed separately: the target (issue
			// 6) is their sum, and recommend reads what analyze wrote.
			analyzed := false
			b.Run("stage=analyze", func(b *testing.B) {
				b.ReportAllocs()
				analyzed = true
				for b.Loop() {
					st, err := analyze.Run(ctx, conn, opts, logger)
					if err != nil {
						b.Fatal(err)
					}
					if st.Assets != int64(sz[0]) {
						b.Fatalf("assets = %d, want %d", st.Assets, sz[0])
					}
				}
			})
			sheet, err := tiering.DefaultPriceSheet()
			if err != nil {
				b.Fatal(err)
			}
			if !analyzed { // -bench selected recommend alone
				if _, err := analyze.Run(ctx, conn, opts, logger); err != nil {
					b.Fatal(err)
				}
			}
			b.Run("stage=recommend", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := analyze.Recommend(ctx, conn, sheet, tiering.DefaultOptions(), logger); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
