package analyze

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	isql "github.com/matlens/matlens/sql"
	"github.com/matlens/matlens/sql/duckfile"
)

var (
	schemaSQL    = isql.MustRead(isql.DuckDB, "duckdb/analyze_schema.sql")
	asOfSQL      = isql.MustRead(isql.DuckDB, "duckdb/analyze_as_of.sql")
	paramsSQL    = isql.MustRead(isql.DuckDB, "duckdb/analyze_params.sql")
	variablesSQL = isql.MustRead(isql.DuckDB, "duckdb/analyze_variables.sql")
	factsSQL     = isql.MustRead(isql.DuckDB, "duckdb/analyze_facts.sql")
	baseSQL      = isql.MustRead(isql.DuckDB, "duckdb/analyze_base.sql")
	seriesSQL    = isql.MustRead(isql.DuckDB, "duckdb/analyze_series.sql")
	// seriesCountSQL sizes the Go copy of the series rows before they come.
	seriesCountSQL = "SELECT count(*) FROM (\n" + strings.TrimSuffix(strings.TrimSpace(seriesSQL), ";") + "\n)"
	statsSQL       = isql.MustRead(isql.DuckDB, "duckdb/analyze_stats.sql")
	assetRowsSQL   = isql.MustRead(isql.DuckDB, "duckdb/analyze_asset_rows.sql")
	publishSQL     = isql.MustRead(isql.DuckDB, "duckdb/analyze_publish.sql")
	cleanupSQL     = isql.MustRead(isql.DuckDB, "duckdb/analyze_cleanup.sql")
)

// Stats summarise one analyze run.
type Stats struct {
	AsOf       time.Time
	Assets     int64 // asset rows in asset_stats
	Partitions int64 // partition rows in asset_stats
	Alerts     int64
	Critical   int64 // alerts by severity
	Warning    int64
	PlanRows   int64 // rows in capacity_plan
	Elapsed    time.Duration
}

// Run computes asset_stats, alerts and capacity_plan for one as_of from the
// fact tables on conn (the single DuckDB connection of the matlens file) and
// publishes them in one transaction: the current tables are replaced and
// the same rows appended to the *_history tables, replacing that as_of's
// earlier rows. A nil logger discards.
func Run(ctx context.Context, conn *sql.Conn, opts Options, logger *slog.Logger) (st Stats, err error) {
	// Registered first, so it runs last: the stage names itself once,
	// after the out-of-memory hint below.
	defer func() {
		if err != nil {
			err = fmt.Errorf("analyze: %w", err)
		}
	}()
	start := time.Now()
	if err := opts.Validate(); err != nil {
		return st, err
	}
	// Running out of DuckDB's pool is a setting to change, not a bug: say
	// which one, and whether the run's results were published (publish is
	// one transaction; dropping the temp tables afterwards can run out too).
	published := false
	defer func() {
		if err == nil || !duckfile.IsOutOfMemory(err) {
			return
		}
		outcome := "nothing was published"
		if published {
			outcome = "the results were published"
		}
		if opts.MemoryLimit == "" {
			err = fmt.Errorf("%w (DuckDB ran out of memory: raise its memory_limit; %s)", err, outcome)
			return
		}
		err = fmt.Errorf("%w (DuckDB ran out of memory within analyze.duckdb_memory_limit %s: raise it in the config; %s)", err, opts.MemoryLimit, outcome)
	}()
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	logger = logger.With("stage", "analyze")
	mem := opts.Allocator
	if mem == nil {
		mem = memory.NewGoAllocator()
	}

	if opts.MemoryLimit != "" {
		limit, err := duckfile.ParseSize(opts.MemoryLimit)
		if err != nil {
			return st, fmt.Errorf("analyze.duckdb_memory_limit: %w", err)
		}
		if err := duckfile.SetMemoryLimit(ctx, conn, limit); err != nil {
			return st, err
		}
	}
	// DuckDB runs on every core: every aggregate is order-independent
	// (counts, min/max, integer and DECIMAL sums, footprints summed in
	// int64), the series arrive in a total order, and gonum gets aligned
	// copies (see seriesOf), so a parallel plan gives the same bits as one
	// thread.
	if err := duckfile.SetThreads(ctx, conn, 0); err != nil {
		return st, err
	}
	if _, err := conn.ExecContext(ctx, schemaSQL); err != nil {
		return st, fmt.Errorf("apply analyze schema: %w", err)
	}
	defer func() {
		// Temp tables would otherwise live as long as the connection.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, cerr := conn.ExecContext(cctx, cleanupSQL); cerr != nil {
			err = errors.Join(err, fmt.Errorf("drop temp tables: %w", cerr))
		}
	}()

	asOf := opts.AsOf.UTC()
	if opts.AsOf.IsZero() {
		var latest sql.NullTime
		if err := conn.QueryRowContext(ctx, asOfSQL).Scan(&latest); err != nil {
			return st, fmt.Errorf("find as_of: %w", err)
		}
		if latest.Valid {
			asOf = latest.Time.UTC()
		} else {
			asOf = time.Now().UTC().Truncate(time.Microsecond)
			logger.Warn("no events loaded; analyzing an empty store", "as_of", asOf)
		}
	}
	st.AsOf = asOf
	logger.Info("analyze started", "as_of", asOf, "window_days", opts.WindowDays)

	if _, err := conn.ExecContext(ctx, paramsSQL, asOf, opts.WindowDays); err != nil {
		return st, fmt.Errorf("set parameters: %w", err)
	}
	if _, err := conn.ExecContext(ctx, variablesSQL); err != nil {
		return st, fmt.Errorf("set session variables: %w", err)
	}
	phase := time.Now()
	done := func(name string) {
		logger.Debug("analyze phase finished", "phase", name, "elapsed", time.Since(phase))
		phase = time.Now()
	}
	if _, err := conn.ExecContext(ctx, factsSQL); err != nil {
		return st, fmt.Errorf("collect facts: %w", err)
	}
	done("collect facts")
	if _, err := conn.ExecContext(ctx, baseSQL); err != nil {
		return st, fmt.Errorf("aggregate facts: %w", err)
	}
	done("aggregate facts")
	if err := storage(ctx, conn, opts); err != nil {
		return st, err
	}
	done("asset storage")
	var maxKey sql.NullInt64
	if err := conn.QueryRowContext(ctx,
		"SELECT count(*) FILTER (WHERE partition IS NULL), count(*) FILTER (WHERE partition IS NOT NULL), max(key_id) FROM analyze_base",
	).Scan(&st.Assets, &st.Partitions, &maxKey); err != nil {
		return st, fmt.Errorf("count assets: %w", err)
	}

	res := newResults(int(maxKey.Int64))
	if err := res.scanSeries(ctx, conn, opts.RegressionWindow); err != nil {
		return st, err
	}
	done("series statistics")
	if res.skipped > 0 {
		logger.Warn("series left NULL: not describable", "series", res.skipped)
	}
	if err := res.store(ctx, conn, mem); err != nil {
		return st, err
	}
	if _, err := conn.ExecContext(ctx, statsSQL); err != nil {
		return st, fmt.Errorf("join statistics: %w", err)
	}
	done("join statistics")

	assets, err := readAssetRows(ctx, conn)
	if err != nil {
		return st, err
	}
	alerts := evaluateAlerts(assets, opts)
	for _, a := range alerts {
		switch a.Severity {
		case SeverityCritical:
			st.Critical++
		case SeverityWarning:
			st.Warning++
		}
	}
	st.Alerts = int64(len(alerts))
	if err := storeAlerts(ctx, conn, mem, alerts); err != nil {
		return st, err
	}
	plan, err := capacityPlan(assets, opts)
	if err != nil {
		return st, err
	}
	st.PlanRows = int64(len(plan))
	if err := storePlan(ctx, conn, mem, plan); err != nil {
		return st, err
	}

	done("alerts and capacity plan")
	if err := publish(ctx, conn); err != nil {
		return st, err
	}
	published = true
	done("publish")
	st.Elapsed = time.Since(start)
	logger.Info("analyze finished", "as_of", asOf, "assets", st.Assets, "partitions", st.Partitions,
		"alerts", st.Alerts, "critical", st.Critical, "warning", st.Warning, "elapsed", st.Elapsed)
	return st, nil
}

// publish replaces the derived tables and this as_of's history in one
// transaction.
func publish(ctx context.Context, conn *sql.Conn) (err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("publish: begin: %w", err)
	}
	defer func() {
		if err != nil {
			if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
				err = errors.Join(err, rerr)
			}
		}
	}()
	if _, err := tx.ExecContext(ctx, publishSQL); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("publish: commit: %w", err)
	}
	return nil
}

// results holds what gonum computed, indexed by key_id (1-based).
type results struct {
	exec    []execStats
	size    []sizeStats
	skipped int
	scratch []float64
}

func newResults(maxKey int) *results {
	r := &results{exec: make([]execStats, maxKey+1), size: make([]sizeStats, maxKey+1)}
	for i := range r.exec {
		r.exec[i] = nullExec
		r.size[i] = nullSize
	}
	return r
}

func (r *results) key(k int64) (int, error) {
	if k < 1 || k >= int64(len(r.exec)) {
		return 0, fmt.Errorf("series: key_id %d outside 1..%d", k, len(r.exec)-1)
	}
	return int(k), nil
}

// scanSeries describes every series of analyze_series.sql: each asset's and
// each partition's execution times and sizes.
func (r *results) scanSeries(ctx context.Context, conn *sql.Conn, window int) error {
	s := newSeriesOf()
	var rows int
	if err := conn.QueryRowContext(ctx, seriesCountSQL).Scan(&rows); err != nil {
		return fmt.Errorf("series statistics: count rows: %w", err)
	}
	err := duckfile.QueryArrow(ctx, conn, seriesSQL, func(rr array.RecordReader) error {
		return eachAsset(rr, rows, func(g *assetRows) error {
			if err := r.describeAsset(s, g, window); err != nil {
				return err
			}
			return ctx.Err()
		})
	})
	if err != nil {
		return fmt.Errorf("series statistics: %w", err)
	}
	return nil
}

// describeAsset computes the statistics of one asset's series and of its
// partitions'. A series that cannot be described stays NULL and is
// counted in skipped.
func (r *results) describeAsset(s *seriesOf, g *assetRows, window int) error {
	a, err := r.key(g.asset)
	if err != nil {
		return err
	}
	if err := s.gather(g); err != nil {
		r.skipped++
	}
	if len(s.exec) > 0 {
		r.exec[a] = r.describeExec(s.exec, window)
	}
	if len(s.footV) > 0 {
		r.size[a] = r.describeSize(s.footT, s.footV)
	}
	for _, p := range s.order {
		k, err := r.key(p)
		if err != nil {
			return err
		}
		ps := s.parts[p]
		if len(ps.exec) > 0 {
			r.exec[k] = r.describeExec(ps.exec, window)
		}
		if len(ps.sizeV) > 0 {
			r.size[k] = r.describeSize(ps.sizeT, ps.sizeV)
		}
	}
	return nil
}

func (r *results) describeExec(v []float64, window int) execStats {
	st, err := describeExec(v, window, &r.scratch)
	if err != nil {
		r.skipped++
	}
	return st
}

func (r *results) describeSize(t, v []float64) sizeStats {
	st, err := describeSize(t, v)
	if err != nil {
		r.skipped++
	}
	return st
}

var gonumSchema = arrow.NewSchema([]arrow.Field{
	{Name: "key_id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "exec_n", Type: arrow.PrimitiveTypes.Int64},
	{Name: "exec_mean", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "exec_stddev", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "exec_p50", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "exec_p95", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "exec_p99", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "exec_max", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "exec_latest", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "exec_baseline_median", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "size_n", Type: arrow.PrimitiveTypes.Int64},
	{Name: "size_latest", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "size_mean", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "size_max", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "size_growth", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "size_forecast_30d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "size_forecast_90d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "size_forecast_365d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

// store writes the gonum results to the temp table analyze_gonum through
// an Arrow record.
func (r *results) store(ctx context.Context, conn *sql.Conn, mem memory.Allocator) error {
	b := array.NewRecordBuilder(mem, gonumSchema)
	defer b.Release()
	n := len(r.exec) - 1
	for _, fb := range b.Fields() {
		fb.Reserve(n)
	}
	f := func(i int) *array.Float64Builder { return b.Field(i).(*array.Float64Builder) }
	for k := 1; k <= n; k++ {
		e, s := &r.exec[k], &r.size[k]
		b.Field(0).(*array.Int64Builder).Append(int64(k))
		b.Field(1).(*array.Int64Builder).Append(e.n)
		for i, v := range []float64{e.mean, e.stddev, e.p50, e.p95, e.p99, e.max, e.latest, e.baselineMedian} {
			appendNullable(f(2+i), v)
		}
		b.Field(10).(*array.Int64Builder).Append(s.n)
		for i, v := range []float64{s.latest, s.mean, s.max, s.growthPerDay, s.forecast30, s.forecast90, s.forecast365} {
			appendNullable(f(11+i), v)
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	return storeRecord(ctx, conn, rec, "analyze_gonum")
}
