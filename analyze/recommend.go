package analyze

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/marcboeker/go-duckdb"

	isql "github.com/matlens/matlens/sql"
	"github.com/matlens/matlens/sql/duckfile"
	"github.com/matlens/matlens/tiering"
)

var (
	tieringSchemaSQL = isql.MustRead(isql.DuckDB, "duckdb/tiering_schema.sql")
	// usageSQL is read by readUsages, which checks its columns by position.
	usageSQL = isql.MustRead(isql.DuckDB, "duckdb/recommend_usage.sql")
)

// RecommendStats describe one recommend run.
type RecommendStats struct {
	AsOf            time.Time
	Rows            int // recommendations (assets' own rows and partitions)
	Moves           int
	SavingsUSDMonth float64 // per provider total, the configured provider's
	Elapsed         time.Duration
}

// Recommend prices every asset (and partition) in every storage class of
// the configured provider from the current asset_stats, and replaces
// tier_recommendations and tier_savings_summary (appending both to their
// history) in one transaction. Run analyze first: it reads its output.
// Partitioned assets' own rows are rolled up (tiering.RollUpPartitions).
// Its errors name the stage ("recommend: ..."); callers need not.
func Recommend(ctx context.Context, conn *sql.Conn, sheet *tiering.PriceSheet, opts tiering.Options, logger *slog.Logger) (RecommendStats, []tiering.Recommendation, error) {
	return recommend(ctx, conn, memory.NewGoAllocator(), sheet, opts, logger)
}

// recommend is Recommend with the allocator for its Arrow records, so that
// tests can check every one is released.
func recommend(ctx context.Context, conn *sql.Conn, mem memory.Allocator, sheet *tiering.PriceSheet, opts tiering.Options, logger *slog.Logger) (st RecommendStats, recs []tiering.Recommendation, err error) {
	start := time.Now()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("stage", "recommend")
	phase := time.Now()
	done := func(name string) {
		logger.Debug("recommend phase finished", "phase", name, "elapsed", time.Since(phase))
		phase = time.Now()
	}
	// One thread: on a small machine whose cores are busy, DuckDB's
	// parallel insert of the recommendations is slower than a serial one,
	// and the sort of asset_stats gains nothing from a second thread.
	if err := duckfile.SetThreads(ctx, conn, 1); err != nil {
		return st, nil, fmt.Errorf("recommend: %w", err)
	}
	if _, err := conn.ExecContext(ctx, tieringSchemaSQL); err != nil {
		return st, nil, fmt.Errorf("recommend: schema: %w", err)
	}
	var (
		usages []tiering.Usage
		asOf   int64 // microseconds, as DuckDB's TIMESTAMP
		rows   int
	)
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM asset_stats").Scan(&rows); err != nil {
		return st, nil, fmt.Errorf("recommend: read asset_stats: %w", err)
	}
	err = duckfile.QueryArrow(ctx, conn, usageSQL, func(rr array.RecordReader) (rerr error) {
		usages, asOf, rerr = readUsages(rr, rows)
		return rerr
	})
	if err != nil {
		return st, nil, fmt.Errorf("recommend: read asset_stats: %w", err)
	}
	done("read asset_stats")
	if len(usages) == 0 {
		return st, nil, errors.New("recommend: asset_stats is empty; run analyze first")
	}
	st.AsOf = time.UnixMicro(asOf).UTC()
	measuredClasses(sheet, opts, usages, logger)
	recs, err = tiering.RecommendAll(sheet, usages, opts)
	if err != nil {
		// tiering's errors already start with "recommend".
		return st, nil, err
	}
	tiering.RollUpPartitions(recs, st.AsOf)
	summary := tiering.Summarize(recs)
	done("price")
	if err := writeRecommendations(ctx, conn, mem, sheet, asOf, recs, summary, done); err != nil {
		return st, nil, fmt.Errorf("recommend: %w", err)
	}
	st.Rows = len(recs)
	for _, r := range recs {
		if r.Action == tiering.ActionMove {
			st.Moves++
		}
	}
	for _, s := range summary {
		if s.CurrentClass == tiering.AllClasses {
			st.SavingsUSDMonth += s.SavingsUSDMonth
		}
	}
	st.Elapsed = time.Since(start)
	logger.Info("recommend finished", "as_of", st.AsOf, "rows", st.Rows, "moves", st.Moves,
		"savings_usd_month", st.SavingsUSDMonth, "elapsed", st.Elapsed.Round(time.Millisecond))
	return st, recs, nil
}

// readUsages turns usageSQL's stream into tiering's usages, and returns
// the as_of of the last row.
func readUsages(rr array.RecordReader, rows int) (usages []tiering.Usage, asOf int64, err error) {
	usages = make([]tiering.Usage, 0, rows)
	measuredObjects := map[int]bool{}
	var (
		key     string
		own     = -1 // index of the current asset's own row, -1 if none
		parts   int  // partition rows of the current asset
		started bool
	)
	// The own row of a partitioned asset prices its whole footprint, but a
	// read or a write touches one partition: tiering counts full reads and
	// rewrites of the priced bytes, so express them in footprint
	// equivalents (a new daily partition is not a rewrite of the whole
	// table).
	finish := func() {
		if own < 0 || parts == 0 {
			return
		}
		u := &usages[own]
		if !measuredObjects[own] {
			u.Objects = float64(parts)
		}
		u.ReadsPerMonth /= float64(parts)
		u.RewritesPerMonth /= float64(parts)
	}
	for rr.Next() {
		rec := rr.Record()
		c, err := usageColumns(rec)
		if err != nil {
			return nil, 0, err
		}
		n := int(rec.NumRows())
		for i := range n {
			k := c.key.Value(i)
			if !started || k != key {
				finish()
				// The record's buffer goes away with the record.
				key, own, parts, started = strings.Clone(k), -1, 0, true
			}
			u := tiering.Usage{
				AssetKey: key, Objects: 1,
				ReadsPerMonth: c.reads.Value(i), RewritesPerMonth: c.rewrites.Value(i),
				HistoryDays: c.history.Value(i), ReadByPipelines: c.readBy.Value(i),
			}
			if c.part.IsValid(i) {
				u.Partition = strings.Clone(c.part.Value(i))
				parts++
			} else {
				own = len(usages)
			}
			// Size unknown stays unknown (0): tiering then says so instead of pricing nothing.
			if c.size.IsValid(i) {
				u.SizeBytes = float64(c.size.Value(i))
			}
			if c.objects.IsValid(i) && c.objects.Value(i) > 0 {
				u.Objects = float64(c.objects.Value(i))
				measuredObjects[len(usages)] = true
			}
			if c.sizeSource.IsValid(i) {
				u.SizeSource = strings.Clone(c.sizeSource.Value(i))
			}
			if c.prefix.IsValid(i) {
				u.StoragePrefix = strings.Clone(c.prefix.Value(i))
			}
			if c.class.IsValid(i) && c.provider.IsValid(i) {
				// Kept as provider/class; recommend keeps it only when the
				// price sheet's provider is the one measured.
				u.CurrentClass = strings.Clone(c.provider.Value(i) + "/" + c.class.Value(i))
			}
			asOf = int64(c.asOf.Value(i))
			usages = append(usages, u)
		}
	}
	if err := rr.Err(); err != nil {
		return nil, 0, err
	}
	finish()
	return usages, asOf, nil
}

type usageCols struct {
	asOf                     *array.Timestamp
	key, part                *array.String
	size                     *array.Int64
	reads, rewrites, history *array.Float64
	readBy                   *array.Boolean
	objects                  *array.Int64
	class, provider, prefix  *array.String
	sizeSource               *array.String
}

// usageColumns checks the types usageSQL's columns come in, and that the
// ones tiering cannot do without are never NULL.
func usageColumns(rec arrow.Record) (c usageCols, err error) {
	ok := true
	c.asOf, ok = asColumn[*array.Timestamp](rec, 0, ok)
	c.key, ok = asColumn[*array.String](rec, 1, ok)
	c.part, ok = asColumn[*array.String](rec, 2, ok)
	c.size, ok = asColumn[*array.Int64](rec, 3, ok)
	c.reads, ok = asColumn[*array.Float64](rec, 4, ok)
	c.rewrites, ok = asColumn[*array.Float64](rec, 5, ok)
	c.history, ok = asColumn[*array.Float64](rec, 6, ok)
	c.readBy, ok = asColumn[*array.Boolean](rec, 7, ok)
	c.objects, ok = asColumn[*array.Int64](rec, 8, ok)
	c.class, ok = asColumn[*array.String](rec, 9, ok)
	c.provider, ok = asColumn[*array.String](rec, 10, ok)
	c.prefix, ok = asColumn[*array.String](rec, 11, ok)
	c.sizeSource, ok = asColumn[*array.String](rec, 12, ok)
	if !ok || rec.NumCols() != 13 {
		return c, fmt.Errorf("unexpected columns %s", rec.Schema())
	}
	// as_of is read as microseconds (DuckDB's TIMESTAMP).
	if unit := c.asOf.DataType().(*arrow.TimestampType).Unit; unit != arrow.Microsecond {
		return c, fmt.Errorf("as_of in %s, want microseconds", unit)
	}
	for _, i := range []int{0, 1, 4, 5, 6, 7} {
		if rec.Column(i).NullN() > 0 {
			return c, fmt.Errorf("NULL in %s", rec.ColumnName(i))
		}
	}
	return c, nil
}

func asColumn[T arrow.Array](rec arrow.Record, i int, ok bool) (T, bool) {
	var zero T
	if !ok || i >= int(rec.NumCols()) {
		return zero, false
	}
	a, isT := rec.Column(i).(T)
	return a, isT
}

// writeRecommendations replaces the current rows and this as_of's history
// in one transaction. The recommendations go in as Arrow records through a
// view (DuckDB reads the columns, no value per row crosses cgo), built
// batch by batch while DuckDB reads, so only one batch is held at a time.
func writeRecommendations(ctx context.Context, conn *sql.Conn, mem memory.Allocator, sheet *tiering.PriceSheet, asOf int64, recs []tiering.Recommendation, summary []tiering.SummaryRow, done func(string)) (err error) {
	asOfTime := time.UnixMicro(asOf).UTC()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, duckfile.Rollback(tx))
		}
	}()
	// A re-run for the same as_of replaces its history rows, never doubles them.
	for _, q := range []string{"DELETE FROM tier_recommendations", "DELETE FROM tier_savings_summary"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("clear: %w", err)
		}
	}
	for _, q := range []string{
		"DELETE FROM tier_recommendations_history WHERE as_of = $1",
		"DELETE FROM tier_savings_summary_history WHERE as_of = $1",
	} {
		if _, err := tx.ExecContext(ctx, q, asOfTime); err != nil {
			return fmt.Errorf("clear history: %w", err)
		}
	}
	done("delete")
	if err := insertRecommendations(ctx, conn, tx, mem, asOf, recs); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := priceOrphans(ctx, tx, sheet, asOfTime); err != nil {
		return err
	}
	done("insert")
	err = conn.Raw(func(dc any) error {
		sumApp, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "tier_savings_summary")
		if err != nil {
			return err
		}
		for _, s := range summary {
			if err := sumApp.AppendRow(asOfTime, s.Provider, s.CurrentClass, s.RecommendedClass, int64(s.Assets), int64(s.Rows),
				s.SizeGB, s.CostNowUSDMonth, s.CostAfterUSDMonth, s.SavingsUSDMonth, s.SavingsUSDYear); err != nil {
				return errors.Join(err, sumApp.Close())
			}
		}
		return sumApp.Close()
	})
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	for _, q := range []string{
		"INSERT INTO tier_recommendations_history SELECT * FROM tier_recommendations",
		"INSERT INTO tier_savings_summary_history SELECT * FROM tier_savings_summary",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("append history: %w", err)
		}
	}
	done("history")
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	done("commit")
	return nil
}

// recView is the temporary view the recommendations are read through.
const recView = "tier_recommendations_arrow"

// insertRecommendations copies recs into tier_recommendations through an
// Arrow view, within tx.
func insertRecommendations(ctx context.Context, conn *sql.Conn, tx *sql.Tx, mem memory.Allocator, asOf int64, recs []tiering.Recommendation) (err error) {
	rr := &recReader{mem: mem, asOf: asOf, recs: recs}
	defer rr.close()
	view, err := duckfile.RegisterReader(conn, rr, recView)
	if err != nil {
		return err
	}
	defer func() {
		// After a failed INSERT the transaction is aborted and the DROP
		// fails too; the INSERT's error is the one to report.
		if derr := view.Drop(ctx, tx); err == nil {
			err = derr
		}
	}()
	if _, err := tx.ExecContext(ctx, "INSERT INTO tier_recommendations BY NAME SELECT * FROM "+recView); err != nil {
		return err
	}
	return rr.err
}

// recColumn is one column of tier_recommendations as the writer builds it:
// its Arrow field and how a batch of recommendations fills its builder.
type recColumn struct {
	field arrow.Field
	fill  func(r *recReader, b array.Builder, recs []tiering.Recommendation) error
}

// recColumns are tier_recommendations' columns in its order, each named,
// typed and given its value here and nowhere else: recSchema is built from
// them.
var recColumns = []recColumn{
	{field: arrow.Field{Name: "as_of", Type: &arrow.TimestampType{Unit: arrow.Microsecond}}, fill: fillAsOf}, // no zone: TIMESTAMP, not TIMESTAMPTZ
	stringCol("asset_key", func(r *tiering.Recommendation) string { return r.AssetKey }),
	nullStringCol("partition", func(r *tiering.Recommendation) string { return r.Partition }),
	stringCol("provider", func(r *tiering.Recommendation) string { return r.Provider }),
	nullStringCol("region", func(r *tiering.Recommendation) string { return r.Region }),
	stringCol("current_class", func(r *tiering.Recommendation) string { return r.CurrentClass }),
	stringCol("recommended_class", func(r *tiering.Recommendation) string { return r.RecommendedClass }),
	stringCol("action", func(r *tiering.Recommendation) string { return r.Action }),
	stringCol("access_category", func(r *tiering.Recommendation) string { return r.AccessCategory }),
	stringCol("guide_tier", func(r *tiering.Recommendation) string { return r.GuideTier }),
	floatCol("guide_cost_usd_month", func(r *tiering.Recommendation) float64 { return r.GuideCostUSDMonth }),
	floatCol("guide_claimed_savings_usd_month", func(r *tiering.Recommendation) float64 { return r.GuideClaimedSavingsUSDMonth }),
	floatCol("size_gb", func(r *tiering.Recommendation) float64 { return r.SizeGB }),
	floatCol("objects", func(r *tiering.Recommendation) float64 { return r.Objects }),
	floatCol("reads_per_month", func(r *tiering.Recommendation) float64 { return r.ReadsPerMonth }),
	floatCol("rewrites_per_month", func(r *tiering.Recommendation) float64 { return r.RewritesPerMonth }),
	floatCol("history_days", func(r *tiering.Recommendation) float64 { return r.HistoryDays }),
	floatCol("cost_now_usd_month", func(r *tiering.Recommendation) float64 { return r.CostNowUSDMonth }),
	floatCol("cost_recommended_usd_month", func(r *tiering.Recommendation) float64 { return r.CostRecommendedUSDMonth }),
	floatCol("savings_usd_month", func(r *tiering.Recommendation) float64 { return r.SavingsUSDMonth }),
	floatCol("savings_usd_year", func(r *tiering.Recommendation) float64 { return r.SavingsUSDYear }),
	nullStringCol("break_even_class", func(r *tiering.Recommendation) string { return r.BreakEvenClass }),
	// tiering leaves the break-even figures 0 where there are none (no
	// class to compare with, or one never cheaper); 0 reads a month would
	// claim that any read loses the move money, so those rows get NULL.
	nullFloatCol("break_even_reads_per_month", func(r *tiering.Recommendation) float64 {
		return orNaN(r.HasBreakEven(), r.BreakEvenReadsPerMonth)
	}),
	nullFloatCol("break_even_idle_days", func(r *tiering.Recommendation) float64 {
		return orNaN(r.HasBreakEven(), r.BreakEvenIdleDays)
	}),
	floatCol("transition_cost_usd", func(r *tiering.Recommendation) float64 { return r.TransitionCostUSD }),
	floatCol("retrieval_margin_usd", func(r *tiering.Recommendation) float64 { return r.RetrievalMarginUSD }),
	floatCol("payback_months", func(r *tiering.Recommendation) float64 { return r.PaybackMonths }),
	stringCol("reason", func(r *tiering.Recommendation) string { return r.Reason }),
	{field: arrow.Field{Name: "costs", Type: arrow.BinaryTypes.String}, fill: fillCosts}, // JSON text; the column is JSON
	nullStringCol("size_source", func(r *tiering.Recommendation) string { return r.SizeSource }),
}

// recSchema has tier_recommendations' columns, in its order.
var recSchema = func() *arrow.Schema {
	fields := make([]arrow.Field, len(recColumns))
	for i, c := range recColumns {
		fields[i] = c.field
	}
	return arrow.NewSchema(fields, nil)
}()

func fillAsOf(r *recReader, b array.Builder, recs []tiering.Recommendation) error {
	ts := b.(*array.TimestampBuilder)
	for range recs {
		ts.Append(arrow.Timestamp(r.asOf))
	}
	return nil
}

// stringCol is a VARCHAR column that is never NULL, nullStringCol one
// where "" is NULL.
func stringCol(name string, get func(*tiering.Recommendation) string) recColumn {
	return recColumn{field: arrow.Field{Name: name, Type: arrow.BinaryTypes.String}, fill: fillStrings(get, (*array.StringBuilder).Append)}
}

func nullStringCol(name string, get func(*tiering.Recommendation) string) recColumn {
	return recColumn{field: arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}, fill: fillStrings(get, appendNullString)}
}

// fillStrings sizes the column's buffer once: growing it row by row copied
// it over and over.
func fillStrings(get func(*tiering.Recommendation) string, add func(*array.StringBuilder, string)) func(*recReader, array.Builder, []tiering.Recommendation) error {
	return func(_ *recReader, b array.Builder, recs []tiering.Recommendation) error {
		sb := b.(*array.StringBuilder)
		n := 0
		for i := range recs {
			n += len(get(&recs[i]))
		}
		sb.ReserveData(n)
		for i := range recs {
			add(sb, get(&recs[i]))
		}
		return nil
	}
}

// floatCol is a DOUBLE column that is never NULL, nullFloatCol one where
// NaN is NULL.
func floatCol(name string, get func(*tiering.Recommendation) float64) recColumn {
	return recColumn{field: arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64}, fill: fillFloats(get, (*array.Float64Builder).Append)}
}

func nullFloatCol(name string, get func(*tiering.Recommendation) float64) recColumn {
	return recColumn{field: arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64, Nullable: true}, fill: fillFloats(get, appendNullable)}
}

func fillFloats(get func(*tiering.Recommendation) float64, add func(*array.Float64Builder, float64)) func(*recReader, array.Builder, []tiering.Recommendation) error {
	return func(_ *recReader, b array.Builder, recs []tiering.Recommendation) error {
		fb := b.(*array.Float64Builder)
		for i := range recs {
			add(fb, get(&recs[i]))
		}
		return nil
	}
}

func orNaN(ok bool, v float64) float64 {
	if !ok {
		return math.NaN()
	}
	return v
}

// fillCosts writes each row's costs as json.Marshal gives them, gathered
// first so that the column's buffer is sized once.
func fillCosts(r *recReader, b array.Builder, recs []tiering.Recommendation) error {
	r.json, r.ends = r.json[:0], r.ends[:0]
	for i := range recs {
		j, err := json.Marshal(recs[i].Costs)
		if err != nil {
			return fmt.Errorf("%s %s: costs: %w", recs[i].AssetKey, recs[i].Partition, err)
		}
		r.json = append(r.json, j...)
		r.ends = append(r.ends, len(r.json))
	}
	sb := b.(*array.StringBuilder)
	sb.ReserveData(len(r.json))
	start := 0
	for _, end := range r.ends {
		sb.BinaryBuilder.Append(r.json[start:end])
		start = end
	}
	return nil
}

// recBatchRows bounds the rows of one Arrow record handed to DuckDB.
const recBatchRows = 4096

// recReader builds recSchema records from recs, one batch per Next, and
// releases each when the next is asked for (or at close).
type recReader struct {
	mem  memory.Allocator
	asOf int64
	recs []tiering.Recommendation
	next int
	rec  arrow.Record
	json []byte // the batch's costs, one after the other
	ends []int  // where each row's costs end in json
	err  error
}

func (r *recReader) Retain()               {}
func (r *recReader) Release()              {}
func (r *recReader) Schema() *arrow.Schema { return recSchema }
func (r *recReader) Record() arrow.Record  { return r.rec }
func (r *recReader) Err() error            { return r.err }

func (r *recReader) Next() bool {
	r.close()
	if r.err != nil || r.next >= len(r.recs) {
		return false
	}
	end := min(r.next+recBatchRows, len(r.recs))
	r.rec, r.err = r.build(r.recs[r.next:end])
	r.next = end
	return r.err == nil
}

func (r *recReader) close() {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
}

// build fills the record column by column.
func (r *recReader) build(recs []tiering.Recommendation) (arrow.Record, error) {
	b := array.NewRecordBuilder(r.mem, recSchema)
	defer b.Release()
	for i, c := range recColumns {
		fb := b.Field(i)
		fb.Reserve(len(recs))
		if err := c.fill(r, fb, recs); err != nil {
			return nil, err
		}
	}
	return b.NewRecord(), nil
}

// measuredClasses turns the measured provider/class of each usage into the
// price sheet's class name, where the objects live with the provider being
// priced; elsewhere (pricing a move to another cloud, a class the sheet
// does not price) the configured class applies, as it does when nothing
// was measured.
func measuredClasses(sheet *tiering.PriceSheet, opts tiering.Options, usages []tiering.Usage, logger *slog.Logger) {
	pr := sheet.Providers[strings.ToLower(opts.Provider)]
	unknown := map[string]int{}
	for i := range usages {
		u := &usages[i]
		provider, class, ok := strings.Cut(u.CurrentClass, "/")
		u.CurrentClass = ""
		if !ok || pr == nil || provider != strings.ToLower(opts.Provider) {
			continue
		}
		if name, err := pr.CanonicalClass(class); err == nil {
			u.CurrentClass = name
		} else {
			unknown[class]++
		}
	}
	for class, n := range unknown {
		logger.Warn("measured storage class has no price; the configured class is used", "class", class, "rows", n)
	}
}
