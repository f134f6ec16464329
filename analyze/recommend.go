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
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/marcboeker/go-duckdb"

	isql "github.com/matlens/matlens/sql"
	"github.com/matlens/matlens/tiering"
)

var tieringSchemaSQL = isql.MustRead(isql.DuckDB, "duckdb/tiering_schema.sql")

// RecommendStats describe one recommend run.
type RecommendStats struct {
	AsOf            time.Time
	Rows            int // recommendations (assets' own rows and partitions)
	Moves           int
	SavingsUSDMonth float64 // per provider total, the configured provider's
	Elapsed         time.Duration
}

// usageQuery reads what tiering needs from the latest asset_stats: one row
// per asset and one per partition of partitioned assets, each asset's own
// row first. How many partitions an asset has is counted while reading
// (the rows come grouped by asset), which spares DuckDB a window over the
// whole table.
const usageQuery = `
SELECT s.as_of, s.asset_key, s.partition, s.size_bytes_latest, s.reads_per_month, s.rewrites_per_month,
       coalesce(s.history_days, 0) AS history_days, s.read_by_pipelines > 0 AS read_by_pipelines
FROM asset_stats AS s
ORDER BY s.asset_key, s.partition NULLS FIRST`

// Recommend prices every asset (and partition) in every storage class of
// the configured provider from the current asset_stats, and replaces
// tier_recommendations and tier_savings_summary (appending both to their
// history) in one transaction. Run analyze first: it reads its output.
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
	// One thread: on two busy cores, DuckDB's parallel insert of 100,000
	// rows took 0.9-1.6 s against 0.4-0.5 s on one, and the sort of
	// asset_stats was no faster on two either; on an idle machine the
	// whole command takes the same time either way.
	restore, err := oneThread(ctx, conn)
	if err != nil {
		return st, nil, fmt.Errorf("recommend: %w", err)
	}
	defer func() {
		if rerr := restore(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("recommend: %w", rerr))
		}
	}()
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
	err = queryArrow(ctx, conn, usageQuery, func(rr array.RecordReader) (rerr error) {
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
	recs, err = tiering.RecommendAll(sheet, usages, opts)
	if err != nil {
		return st, nil, fmt.Errorf("recommend: %w", err)
	}
	rollUpPartitions(recs)
	summary := tiering.Summarize(recs)
	done("price")
	if err := writeRecommendations(ctx, conn, mem, asOf, recs, summary, done); err != nil {
		return st, nil, err
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

// readUsages turns usageQuery's stream into tiering's usages, and returns
// the as_of of the last row.
func readUsages(rr array.RecordReader, rows int) (usages []tiering.Usage, asOf int64, err error) {
	usages = make([]tiering.Usage, 0, rows)
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
		u.Objects = float64(parts)
		u.ReadsPerMonth /= u.Objects
		u.RewritesPerMonth /= u.Objects
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
}

// usageColumns checks the types usageQuery's columns come in, and that the
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
	if !ok || rec.NumCols() != 8 {
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

// ActionPerPartition marks the own row of a partitioned asset: its figures
// are the sums of its partitions' rows, which carry the decisions.
const ActionPerPartition = "per partition"

// rollUpPartitions turns the own row of each partitioned asset into the sum
// of its partitions. Partitions are the objects a lifecycle rule moves, and
// pricing the whole footprint as one object would recommend a second,
// conflicting move for the same bytes.
func rollUpPartitions(recs []tiering.Recommendation) {
	type agg struct {
		now, after, save, transition float64
		moves, total                 int
		savingsTo                    map[string]float64
	}
	parts := map[string]*agg{}
	for _, r := range recs {
		if r.Partition == "" {
			continue
		}
		a := parts[r.AssetKey]
		if a == nil {
			a = &agg{savingsTo: map[string]float64{}}
			parts[r.AssetKey] = a
		}
		a.total++
		a.now += r.CostNowUSDMonth
		a.after += r.CostRecommendedUSDMonth
		a.save += r.SavingsUSDMonth
		a.transition += r.TransitionCostUSD
		if r.Action == tiering.ActionMove {
			a.moves++
			a.savingsTo[r.RecommendedClass] += r.SavingsUSDMonth
		}
	}
	for i := range recs {
		r := &recs[i]
		a := parts[r.AssetKey]
		if r.Partition != "" || a == nil {
			continue
		}
		r.Action = ActionPerPartition
		r.CostNowUSDMonth, r.CostRecommendedUSDMonth = a.now, a.after
		r.SavingsUSDMonth, r.SavingsUSDYear = a.save, 12*a.save
		r.TransitionCostUSD = a.transition
		r.RecommendedClass = r.CurrentClass
		best := 0.0
		for class, v := range a.savingsTo {
			if v > best || (v == best && class < r.RecommendedClass) {
				best, r.RecommendedClass = v, class
			}
		}
		r.BreakEvenClass, r.BreakEvenReadsPerMonth, r.BreakEvenIdleDays = "", 0, 0
		r.RetrievalMarginUSD, r.PaybackMonths, r.Costs = 0, 0, nil
		r.Reason = fmt.Sprintf("sum of %d partition rows: %d move (most savings to %s), %d do not; each partition row says why",
			a.total, a.moves, r.RecommendedClass, a.total-a.moves)
	}
}

// writeRecommendations replaces the current rows and this as_of's history
// in one transaction. The recommendations go in as Arrow records through a
// view (DuckDB reads the columns, no value per row crosses cgo), built
// batch by batch while DuckDB reads, so only one batch is held at a time.
func writeRecommendations(ctx context.Context, conn *sql.Conn, mem memory.Allocator, asOf int64, recs []tiering.Recommendation, summary []tiering.SummaryRow, done func(string)) (err error) {
	asOfTime := time.UnixMicro(asOf).UTC()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recommend: %w", err)
	}
	defer func() {
		if err != nil {
			if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
				err = errors.Join(err, rerr)
			}
		}
	}()
	// A re-run for the same as_of replaces its history rows, never doubles them.
	for _, q := range []string{"DELETE FROM tier_recommendations", "DELETE FROM tier_savings_summary"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("recommend: %w", err)
		}
	}
	for _, q := range []string{
		"DELETE FROM tier_recommendations_history WHERE as_of = $1",
		"DELETE FROM tier_savings_summary_history WHERE as_of = $1",
	} {
		if _, err := tx.ExecContext(ctx, q, asOfTime); err != nil {
			return fmt.Errorf("recommend: %w", err)
		}
	}
	done("delete")
	if err := insertRecommendations(ctx, conn, tx, mem, asOf, recs); err != nil {
		return fmt.Errorf("recommend: write: %w", err)
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
		return fmt.Errorf("recommend: write summary: %w", err)
	}
	for _, q := range []string{
		"INSERT INTO tier_recommendations_history SELECT * FROM tier_recommendations",
		"INSERT INTO tier_savings_summary_history SELECT * FROM tier_savings_summary",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("recommend: %w", err)
		}
	}
	done("history")
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recommend: commit: %w", err)
	}
	done("commit")
	return nil
}

// recView is the temporary view the recommendations are read through.
const recView = "tier_recommendations_arrow"

// insertRecommendations copies recs into tier_recommendations through an
// Arrow view, within tx.
func insertRecommendations(ctx context.Context, conn *sql.Conn, tx *sql.Tx, mem memory.Allocator, asOf int64, recs []tiering.Recommendation) error {
	rr := &recReader{mem: mem, asOf: asOf, recs: recs}
	defer rr.close()
	lent := &lentReader{r: rr, schema: recSchema}
	defer lent.detach()
	release, err := registerView(conn, lent, recView)
	if err != nil {
		return err
	}
	defer release()
	if _, err := tx.ExecContext(ctx, "INSERT INTO tier_recommendations BY NAME SELECT * FROM "+recView); err != nil {
		return err
	}
	// The view points at a stream that is now consumed; drop it before the
	// stream's memory is released.
	if _, err := tx.ExecContext(ctx, "DROP VIEW IF EXISTS "+recView); err != nil {
		return fmt.Errorf("drop view: %w", err)
	}
	return rr.err
}

// recSchema has tier_recommendations' columns, in its order.
var recSchema = arrow.NewSchema([]arrow.Field{
	{Name: "as_of", Type: &arrow.TimestampType{Unit: arrow.Microsecond}}, // no zone: TIMESTAMP, not TIMESTAMPTZ
	{Name: "asset_key", Type: arrow.BinaryTypes.String},
	{Name: "partition", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "provider", Type: arrow.BinaryTypes.String},
	{Name: "region", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "current_class", Type: arrow.BinaryTypes.String},
	{Name: "recommended_class", Type: arrow.BinaryTypes.String},
	{Name: "action", Type: arrow.BinaryTypes.String},
	{Name: "access_category", Type: arrow.BinaryTypes.String},
	{Name: "guide_tier", Type: arrow.BinaryTypes.String},
	{Name: "guide_cost_usd_month", Type: arrow.PrimitiveTypes.Float64},
	{Name: "guide_claimed_savings_usd_month", Type: arrow.PrimitiveTypes.Float64},
	{Name: "size_gb", Type: arrow.PrimitiveTypes.Float64},
	{Name: "objects", Type: arrow.PrimitiveTypes.Float64},
	{Name: "reads_per_month", Type: arrow.PrimitiveTypes.Float64},
	{Name: "rewrites_per_month", Type: arrow.PrimitiveTypes.Float64},
	{Name: "history_days", Type: arrow.PrimitiveTypes.Float64},
	{Name: "cost_now_usd_month", Type: arrow.PrimitiveTypes.Float64},
	{Name: "cost_recommended_usd_month", Type: arrow.PrimitiveTypes.Float64},
	{Name: "savings_usd_month", Type: arrow.PrimitiveTypes.Float64},
	{Name: "savings_usd_year", Type: arrow.PrimitiveTypes.Float64},
	{Name: "break_even_class", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "break_even_reads_per_month", Type: arrow.PrimitiveTypes.Float64},
	{Name: "break_even_idle_days", Type: arrow.PrimitiveTypes.Float64},
	{Name: "transition_cost_usd", Type: arrow.PrimitiveTypes.Float64},
	{Name: "retrieval_margin_usd", Type: arrow.PrimitiveTypes.Float64},
	{Name: "payback_months", Type: arrow.PrimitiveTypes.Float64},
	{Name: "reason", Type: arrow.BinaryTypes.String},
	{Name: "costs", Type: arrow.BinaryTypes.String},
}, nil)

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

// recStrings and recFloats give the value of each of recSchema's string
// and DOUBLE columns, by index; NULL strings are the empty ones of the
// nullable columns.
var (
	recStrings = map[int]func(*tiering.Recommendation) string{
		1:  func(r *tiering.Recommendation) string { return r.AssetKey },
		2:  func(r *tiering.Recommendation) string { return r.Partition },
		3:  func(r *tiering.Recommendation) string { return r.Provider },
		4:  func(r *tiering.Recommendation) string { return r.Region },
		5:  func(r *tiering.Recommendation) string { return r.CurrentClass },
		6:  func(r *tiering.Recommendation) string { return r.RecommendedClass },
		7:  func(r *tiering.Recommendation) string { return r.Action },
		8:  func(r *tiering.Recommendation) string { return r.AccessCategory },
		9:  func(r *tiering.Recommendation) string { return r.GuideTier },
		21: func(r *tiering.Recommendation) string { return r.BreakEvenClass },
		27: func(r *tiering.Recommendation) string { return r.Reason },
	}
	recFloats = map[int]func(*tiering.Recommendation) float64{
		10: func(r *tiering.Recommendation) float64 { return r.GuideCostUSDMonth },
		11: func(r *tiering.Recommendation) float64 { return r.GuideClaimedSavingsUSDMonth },
		12: func(r *tiering.Recommendation) float64 { return r.SizeGB },
		13: func(r *tiering.Recommendation) float64 { return r.Objects },
		14: func(r *tiering.Recommendation) float64 { return r.ReadsPerMonth },
		15: func(r *tiering.Recommendation) float64 { return r.RewritesPerMonth },
		16: func(r *tiering.Recommendation) float64 { return r.HistoryDays },
		17: func(r *tiering.Recommendation) float64 { return r.CostNowUSDMonth },
		18: func(r *tiering.Recommendation) float64 { return r.CostRecommendedUSDMonth },
		19: func(r *tiering.Recommendation) float64 { return r.SavingsUSDMonth },
		20: func(r *tiering.Recommendation) float64 { return r.SavingsUSDYear },
		22: func(r *tiering.Recommendation) float64 { return r.BreakEvenReadsPerMonth },
		23: func(r *tiering.Recommendation) float64 { return r.BreakEvenIdleDays },
		24: func(r *tiering.Recommendation) float64 { return r.TransitionCostUSD },
		25: func(r *tiering.Recommendation) float64 { return r.RetrievalMarginUSD },
		26: func(r *tiering.Recommendation) float64 { return r.PaybackMonths },
	}
)

// build fills the record column by column, each string column's buffer
// sized once: growing them row by row copied them over and over.
func (r *recReader) build(recs []tiering.Recommendation) (arrow.Record, error) {
	b := array.NewRecordBuilder(r.mem, recSchema)
	defer b.Release()
	for _, fb := range b.Fields() {
		fb.Reserve(len(recs))
	}
	ts := b.Field(0).(*array.TimestampBuilder)
	for range recs {
		ts.Append(arrow.Timestamp(r.asOf))
	}
	for col, get := range recStrings {
		sb := b.Field(col).(*array.StringBuilder)
		n := 0
		for i := range recs {
			n += len(get(&recs[i]))
		}
		sb.ReserveData(n)
		nullable := recSchema.Field(col).Nullable
		for i := range recs {
			if v := get(&recs[i]); nullable {
				appendNullString(sb, v)
			} else {
				sb.Append(v)
			}
		}
	}
	for col, get := range recFloats {
		fb := b.Field(col).(*array.Float64Builder)
		for i := range recs {
			fb.UnsafeAppend(get(&recs[i]))
		}
	}
	r.json, r.ends = r.json[:0], r.ends[:0]
	for i := range recs {
		var err error
		if r.json, err = appendCostsJSON(r.json, recs[i].Costs); err != nil {
			return nil, fmt.Errorf("%s %s: costs: %w", recs[i].AssetKey, recs[i].Partition, err)
		}
		r.ends = append(r.ends, len(r.json))
	}
	costs := b.Field(28).(*array.StringBuilder)
	costs.ReserveData(len(r.json))
	start := 0
	for _, end := range r.ends {
		costs.BinaryBuilder.Append(r.json[start:end])
		start = end
	}
	return b.NewRecord(), nil
}

// appendCostsJSON appends what json.Marshal gives for costs, byte for
// byte, without its reflection: it took a third of the old write path.
// Anything the plain encoder below is not sure to render identically
// (a float json rejects, a string needing escapes) goes to json.Marshal.
func appendCostsJSON(buf []byte, costs []tiering.Breakdown) ([]byte, error) {
	if costs == nil {
		return append(buf, "null"...), nil
	}
	start := len(buf)
	buf = append(buf, '[')
	for i := range costs {
		c := &costs[i]
		if i > 0 {
			buf = append(buf, ',')
		}
		if !plainJSONString(c.Class) {
			return marshalCosts(buf[:start], costs)
		}
		buf = append(buf, `{"class":"`...)
		buf = append(buf, c.Class...)
		buf = append(buf, '"')
		for _, f := range [...]struct {
			name string
			v    float64
		}{
			{`,"billable_gb":`, c.BillableGB},
			{`,"storage_usd":`, c.StorageUSD},
			{`,"min_duration_usd":`, c.MinDurationUSD},
			{`,"retrieval_usd":`, c.RetrievalUSD},
			{`,"read_requests_usd":`, c.ReadRequestsUSD},
			{`,"write_requests_usd":`, c.WriteRequestsUSD},
			{`,"transition_usd":`, c.TransitionUSD},
			{`,"monitoring_usd":`, c.MonitoringUSD},
			{`,"total_usd":`, c.TotalUSD},
		} {
			if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
				return marshalCosts(buf[:start], costs)
			}
			buf = append(buf, f.name...)
			buf = appendJSONFloat(buf, f.v)
		}
		buf = append(buf, '}')
	}
	return append(buf, ']'), nil
}

func marshalCosts(buf []byte, costs []tiering.Breakdown) ([]byte, error) {
	b, err := json.Marshal(costs)
	if err != nil {
		return buf, err
	}
	return append(buf, b...), nil
}

// plainJSONString says s needs no escaping by encoding/json (which also
// escapes <, > and & for HTML).
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// appendJSONFloat formats a finite float64 as encoding/json does.
func appendJSONFloat(buf []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	buf = strconv.AppendFloat(buf, f, format, -1, 64)
	if format == 'e' {
		// json writes e-07 as e-7.
		if n := len(buf); n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
			buf[n-2] = buf[n-1]
			buf = buf[:n-1]
		}
	}
	return buf
}

// oneThread runs DuckDB on one thread and returns how to set the previous
// count back.
func oneThread(ctx context.Context, conn *sql.Conn) (func() error, error) {
	var prev int64
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&prev); err != nil {
		return nil, fmt.Errorf("read threads: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SET threads = 1"); err != nil {
		return nil, fmt.Errorf("set threads: %w", err)
	}
	return func() error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(cctx, fmt.Sprintf("SET threads = %d", prev)); err != nil {
			return fmt.Errorf("restore threads: %w", err)
		}
		return nil
	}, nil
}
