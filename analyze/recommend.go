package analyze

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

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
// per asset and one per partition of partitioned assets.
const usageQuery = `
SELECT s.as_of, s.asset_key, s.partition, s.size_bytes_latest, s.reads_per_month, s.rewrites_per_month,
       coalesce(s.history_days, 0), s.read_by_pipelines > 0,
       count(*) FILTER (WHERE s.partition IS NOT NULL) OVER (PARTITION BY s.asset_key) AS partitions
FROM asset_stats AS s
ORDER BY s.asset_key, s.partition NULLS FIRST`

// Recommend prices every asset (and partition) in every storage class of
// the configured provider from the current asset_stats, and replaces
// tier_recommendations and tier_savings_summary (appending both to their
// history) in one transaction. Run analyze first: it reads its output.
func Recommend(ctx context.Context, conn *sql.Conn, sheet *tiering.PriceSheet, opts tiering.Options, logger *slog.Logger) (st RecommendStats, recs []tiering.Recommendation, err error) {
	start := time.Now()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("stage", "recommend")
	if _, err := conn.ExecContext(ctx, tieringSchemaSQL); err != nil {
		return st, nil, fmt.Errorf("recommend: schema: %w", err)
	}
	rows, err := conn.QueryContext(ctx, usageQuery)
	if err != nil {
		return st, nil, fmt.Errorf("recommend: read asset_stats: %w", err)
	}
	var usages []tiering.Usage
	for rows.Next() {
		var (
			asOf                time.Time
			key                 string
			part                sql.NullString
			size                sql.NullInt64
			reads, rewrites, hd float64
			readByPipelines     bool
			partitions          int64
		)
		if err := rows.Scan(&asOf, &key, &part, &size, &reads, &rewrites, &hd, &readByPipelines, &partitions); err != nil {
			rows.Close()
			return st, nil, fmt.Errorf("recommend: read asset_stats: %w", err)
		}
		st.AsOf = asOf
		objects := 1.0
		if !part.Valid && partitions > 0 {
			// The own row of a partitioned asset prices its whole footprint,
			// but a read or a write touches one partition: tiering counts
			// full reads and rewrites of the priced bytes, so express them in
			// footprint equivalents (a new daily partition is not a rewrite of
			// the whole table).
			objects = float64(partitions)
			reads /= objects
			rewrites /= objects
		}
		usages = append(usages, tiering.Usage{
			AssetKey: key, Partition: part.String,
			// Size unknown stays unknown (0): tiering then says so instead of pricing nothing.
			SizeBytes: float64(size.Int64), Objects: objects,
			ReadsPerMonth: reads, RewritesPerMonth: rewrites, HistoryDays: hd,
			ReadByPipelines: readByPipelines,
		})
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return st, nil, fmt.Errorf("recommend: read asset_stats: %w", err)
	}
	if len(usages) == 0 {
		return st, nil, errors.New("recommend: asset_stats is empty; run analyze first")
	}
	recs, err = tiering.RecommendAll(sheet, usages, opts)
	if err != nil {
		return st, nil, fmt.Errorf("recommend: %w", err)
	}
	rollUpPartitions(recs)
	summary := tiering.Summarize(recs)
	if err := writeRecommendations(ctx, conn, st.AsOf, recs, summary); err != nil {
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
// in one transaction, with DuckDB's appender (row values, no SQL per row).
func writeRecommendations(ctx context.Context, conn *sql.Conn, asOf time.Time, recs []tiering.Recommendation, summary []tiering.SummaryRow) (err error) {
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
		if _, err := tx.ExecContext(ctx, q, asOf); err != nil {
			return fmt.Errorf("recommend: %w", err)
		}
	}
	err = conn.Raw(func(dc any) error {
		recApp, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "tier_recommendations")
		if err != nil {
			return err
		}
		for _, r := range recs {
			costs, err := json.Marshal(r.Costs)
			if err != nil {
				return errors.Join(err, recApp.Close())
			}
			if err := recApp.AppendRow(asOf, r.AssetKey, nullString(r.Partition), r.Provider, nullString(r.Region),
				r.CurrentClass, r.RecommendedClass, r.Action, r.AccessCategory, r.GuideTier,
				r.GuideCostUSDMonth, r.GuideClaimedSavingsUSDMonth, r.SizeGB, r.Objects, r.ReadsPerMonth,
				r.RewritesPerMonth, r.HistoryDays, r.CostNowUSDMonth, r.CostRecommendedUSDMonth,
				r.SavingsUSDMonth, r.SavingsUSDYear, nullString(r.BreakEvenClass), r.BreakEvenReadsPerMonth,
				r.BreakEvenIdleDays, r.TransitionCostUSD, r.RetrievalMarginUSD, r.PaybackMonths, r.Reason,
				string(costs)); err != nil {
				return errors.Join(err, recApp.Close())
			}
		}
		if err := recApp.Close(); err != nil {
			return err
		}
		sumApp, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "tier_savings_summary")
		if err != nil {
			return err
		}
		for _, s := range summary {
			if err := sumApp.AppendRow(asOf, s.Provider, s.CurrentClass, s.RecommendedClass, int64(s.Assets), int64(s.Rows),
				s.SizeGB, s.CostNowUSDMonth, s.CostAfterUSDMonth, s.SavingsUSDMonth, s.SavingsUSDYear); err != nil {
				return errors.Join(err, sumApp.Close())
			}
		}
		return sumApp.Close()
	})
	if err != nil {
		return fmt.Errorf("recommend: write: %w", err)
	}
	for _, q := range []string{
		"INSERT INTO tier_recommendations_history SELECT * FROM tier_recommendations",
		"INSERT INTO tier_savings_summary_history SELECT * FROM tier_savings_summary",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("recommend: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recommend: commit: %w", err)
	}
	return nil
}

// nullString maps "" to SQL NULL for the appender.
func nullString(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}
