package report

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matlens/matlens/ingest"
	isql "github.com/matlens/matlens/sql"
)

// sparseStore is a DuckDB file analyze and recommend filled for one small
// asset with no alerts, no growth, no saving and no capacity plan: every
// optional part of the report is empty.
func sparseStore(t *testing.T) *ingest.Store {
	t.Helper()
	ctx := context.Background()
	store, err := ingest.OpenStore(ctx, filepath.Join(t.TempDir(), "m.duckdb"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, q := range []string{
		isql.MustRead(isql.DuckDB, "duckdb/analyze_schema.sql"),
		isql.MustRead(isql.DuckDB, "duckdb/tiering_schema.sql"),
		`INSERT INTO asset_stats (as_of, asset_key, materializations, observations, successes, failures, retried_attempts,
		     exec_time_samples, size_known, size_samples, window_days, writes_in_window, reads_in_window, writes_per_day,
		     reads_per_day, writes_per_day_life, reads_per_day_life, rewrites_per_month, reads_per_month, reads_total,
		     read_by_pipelines, compute_seconds, compute_seconds_per_day, shared_step)
		 VALUES ('2026-03-01', 'a/b', 1, 0, 1, 0, 0, 0, false, 0, 1, 1, 0, 1, 0, 1, 0, 30, 0, 0, 0, 1, 1, false)`,
		`INSERT INTO tier_recommendations (as_of, asset_key, provider, current_class, recommended_class, action,
		     access_category, guide_tier, savings_usd_month, savings_usd_year, reason)
		 VALUES ('2026-03-01', 'a/b', 'gcp', 'STANDARD', 'STANDARD', 'size unknown', 'cold', 'ARCHIVE', 0, 0, 'no size recorded')`,
		`INSERT INTO tier_savings_summary VALUES
		     ('2026-03-01', 'gcp', '*', '*', 1, 1, 0, 0, 0, 0, 0),
		     ('2026-03-01', 'gcp', 'STANDARD', 'STANDARD', 1, 1, 0, 0, 0, 0, 0)`,
	} {
		if _, err := store.Conn().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

func TestEmptySectionsAreSaidNotCrashed(t *testing.T) {
	store := sparseStore(t)
	for _, format := range []string{"html", "table"} {
		var out bytes.Buffer
		opts := Options{Format: format, Out: "-", Top: 5, Provider: "aws", Stdout: &out, Now: time.Unix(0, 0)}
		sum, err := Write(context.Background(), store.Conn(), opts)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if sum.Provider != "gcp" || sum.Recommendations != 1 || sum.Alerts != 0 {
			t.Errorf("%s: summary %+v: want the provider the tables hold (gcp), 1 recommendation, no alert", format, sum)
		}
		page := out.String()
		for _, want := range []string{"No alerts", "No move saves money", "capacity_plan holds no totals"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s output lacks %q", format, want)
			}
		}
		if format == "html" {
			if n := strings.Count(page, "<svg"); n != 1 {
				t.Errorf("%d charts drawn, want only the cost by class (nothing saves, nothing alerts, nothing grows)", n)
			}
			if !strings.Contains(page, "No asset grows") {
				t.Error("the size chart does not say why it is empty")
			}
		}
	}
}

func TestNoAnalysisIsErrNoData(t *testing.T) {
	ctx := context.Background()
	store, err := ingest.OpenStore(ctx, filepath.Join(t.TempDir(), "m.duckdb"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	opts := Options{Format: "json", Out: "-", Top: 1, Stdout: &bytes.Buffer{}}
	if _, err := Write(ctx, store.Conn(), opts); !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), "matlens analyze") {
		t.Errorf("no derived tables: %v, want ErrNoData naming the command to run", err)
	}
	for _, q := range []string{isql.MustRead(isql.DuckDB, "duckdb/analyze_schema.sql"), isql.MustRead(isql.DuckDB, "duckdb/tiering_schema.sql")} {
		if _, err := store.Conn().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Write(ctx, store.Conn(), opts); !errors.Is(err, ErrNoData) || !strings.HasPrefix(err.Error(), "report: nothing") {
		t.Errorf("empty derived tables: %v, want ErrNoData, prefixed once", err)
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{usd(0), "$0"}, {usd(1234.5), "$1,234.50"}, {usd(0.000874), "$0.000874"}, {usd(-0.5), "$-0.50"},
		{num(217779.78), "217,779.8"}, {num(3), "3"}, {num(0.8541), "0.85"},
		{bytesIEC(496288572), "473.3 MiB"}, {thousands("-1234567.25"), "-1,234,567.25"},
		{capacityValue(85.4, "percent"), "85.4%"}, {capacityValue(0.09, "USD/GB"), "$0.09/GB"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
