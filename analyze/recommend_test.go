package analyze_test

import (
	"context"
	"database/sql"
	"math"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/matlens/matlens/analyze"
	"github.com/matlens/matlens/tiering"
)

// analyzedForRecommend loads the small fixture over 45 days (past the 30-day
// observation window, so moves happen), analyzes it and returns the open
// store with the default price sheet.
func analyzedForRecommend(t *testing.T) (*sql.Conn, *tiering.PriceSheet) {
	t.Helper()
	o := smallFixture()
	o.Days = 45
	path, _ := loadFixture(t, o)
	conn := openStore(t, path)
	runAnalyze(t, conn, nil)
	sheet, err := tiering.DefaultPriceSheet()
	if err != nil {
		t.Fatal(err)
	}
	return conn, sheet
}

// TestRecommendWritesWhatTieringComputes: every priced row of
// tier_recommendations carries the cost tiering's model gives for the
// usage read straight from asset_stats, partitioned assets' own rows are
// the sums of their partitions, and savings are never negative.
func TestRecommendWritesWhatTieringComputes(t *testing.T) {
	conn, sheet := analyzedForRecommend(t)
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, recs, err := analyze.RecommendWithAllocator(ctx, conn, mem, sheet, tiering.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows == 0 || st.Moves == 0 {
		t.Fatalf("recommend priced %d rows with %d moves; the fixture should give both", st.Rows, st.Moves)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM tier_recommendations").Scan(&n); err != nil || n != len(recs) {
		t.Fatalf("tier_recommendations has %d rows (%v), want %d", n, err, len(recs))
	}

	// Recompute cost now for unpartitioned assets and partitions from
	// asset_stats, independently of the stage's own query.
	rows, err := conn.QueryContext(ctx, `
		SELECT r.asset_key, r.partition, r.action, r.cost_now_usd_month, r.savings_usd_month, r.current_class,
		       s.size_bytes_latest, s.reads_per_month, s.rewrites_per_month, s.history_days, s.read_by_pipelines > 0
		FROM tier_recommendations r
		JOIN asset_stats s ON s.asset_key = r.asset_key AND s.partition IS NOT DISTINCT FROM r.partition
		WHERE r.action IN ('move', 'stay')
		  AND (r.partition IS NOT NULL OR NOT EXISTS (
		      SELECT 1 FROM asset_stats p WHERE p.asset_key = r.asset_key AND p.partition IS NOT NULL))`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	checked := 0
	for rows.Next() {
		var (
			key, action, class       string
			part                     sql.NullString
			now, savings             float64
			size                     sql.NullInt64
			reads, rewrites, history float64
			readByPipelines          bool
		)
		if err := rows.Scan(&key, &part, &action, &now, &savings, &class, &size, &reads, &rewrites, &history, &readByPipelines); err != nil {
			t.Fatal(err)
		}
		b, err := tiering.CostPerMonth(sheet, "aws", class, tiering.Usage{
			AssetKey: key, Partition: part.String, SizeBytes: float64(size.Int64), Objects: 1,
			ReadsPerMonth: reads, RewritesPerMonth: rewrites, HistoryDays: history, ReadByPipelines: readByPipelines,
		})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(b.TotalUSD-now) > 0.005 {
			t.Errorf("%s %s: cost now %.4f, tiering says %.4f", key, part.String, now, b.TotalUSD)
		}
		if savings < 0 {
			t.Errorf("%s %s: negative savings %.4f", key, part.String, savings)
		}
		checked++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("only %d rows checked", checked)
	}

	// Own rows of partitioned assets sum their partitions.
	var mismatched int
	if err := conn.QueryRowContext(ctx, `
		SELECT count(*) FROM tier_recommendations o
		JOIN (SELECT asset_key, sum(savings_usd_month) AS s, sum(cost_now_usd_month) AS c
		      FROM tier_recommendations WHERE partition IS NOT NULL GROUP BY asset_key) p USING (asset_key)
		WHERE o.partition IS NULL AND (abs(o.savings_usd_month - p.s) > 1e-6 OR abs(o.cost_now_usd_month - p.c) > 1e-6
		      OR o.action <> 'per partition')`).Scan(&mismatched); err != nil {
		t.Fatal(err)
	}
	if mismatched != 0 {
		t.Errorf("%d partitioned assets' own rows are not the sum of their partitions", mismatched)
	}

	// A second recommend for the same as_of replaces, never doubles, history.
	if _, _, err := analyze.Recommend(ctx, conn, sheet, tiering.DefaultOptions(), nil); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM tier_recommendations_history").Scan(&n); err != nil || n != len(recs) {
		t.Errorf("history has %d rows after a re-run (%v), want %d", n, err, len(recs))
	}
}

// TestAnalyzeIsDeterministic: re-running over the same data gives the same
// bits (parallel floating-point sums would not).
func TestAnalyzeIsDeterministic(t *testing.T) {
	path, _ := smallDB(t)
	conn := openStore(t, path)
	var first string
	for i := range 4 {
		runAnalyze(t, conn, nil)
		var d string
		if err := conn.QueryRowContext(context.Background(),
			"SELECT md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY asset_key, partition NULLS FIRST)) FROM asset_stats t").Scan(&d); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = d
		} else if d != first {
			t.Fatalf("run %d of analyze gave different asset_stats", i+1)
		}
	}
}

// TestRecommendBreakEvenNullWhereNoFigure: the break-even columns are NULL
// on every row that has no break-even figure (size unknown, insufficient
// history, the summed own rows, and stays with no cheaper class to compare
// with), never 0, and set on every move.
func TestRecommendBreakEvenNullWhereNoFigure(t *testing.T) {
	conn, sheet := analyzedForRecommend(t)
	ctx := context.Background()
	if _, _, err := analyze.Recommend(ctx, conn, sheet, tiering.DefaultOptions(), nil); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, `
		SELECT action, count(*),
		       count(break_even_reads_per_month), count(break_even_idle_days),
		       count(*) FILTER (break_even_reads_per_month = 0 OR break_even_idle_days = 0),
		       count(*) FILTER (break_even_class IS NULL AND
		                        (break_even_reads_per_month IS NOT NULL OR break_even_idle_days IS NOT NULL)),
		       count(*) FILTER ((break_even_reads_per_month IS NULL) <> (break_even_idle_days IS NULL))
		FROM tier_recommendations GROUP BY action ORDER BY action`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]int{}
	for rows.Next() {
		var (
			action                                string
			n, reads, idle, zero, noClass, halves int
		)
		if err := rows.Scan(&action, &n, &reads, &idle, &zero, &noClass, &halves); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d rows, %d with a break-even", action, n, reads)
		seen[action] = n
		if zero > 0 || noClass > 0 || halves > 0 {
			t.Errorf("%s: %d rows with a 0 figure, %d with a figure and no class, %d with one figure of two", action, zero, noClass, halves)
		}
		switch action {
		case tiering.ActionSizeUnknown, tiering.ActionInsufficientHistory, tiering.ActionPerPartition:
			if reads > 0 || idle > 0 {
				t.Errorf("%s: %d rows with break-even reads and %d with idle days, want NULL", action, reads, idle)
			}
		case tiering.ActionMove:
			if reads != n || idle != n {
				t.Errorf("move: break-even reads on %d and idle days on %d of %d rows, want all", reads, idle, n)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{tiering.ActionMove, tiering.ActionStay, tiering.ActionPerPartition, tiering.ActionSizeUnknown, tiering.ActionInsufficientHistory} {
		if seen[a] == 0 {
			t.Errorf("no %s rows: the fixture no longer covers them", a)
		}
	}
	// A stay whose cheapest allowed class is dearer even unread has no
	// figure either.
	var stayNull int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM tier_recommendations
		WHERE action = 'stay' AND break_even_reads_per_month IS NULL`).Scan(&stayNull); err != nil {
		t.Fatal(err)
	}
	if stayNull == 0 {
		t.Error("no stay row without a break-even: the fixture no longer covers them")
	}
}
