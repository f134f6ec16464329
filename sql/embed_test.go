package sql

import (
	"slices"
	"testing"
)

// TestDuckDBTablesNamesTheSchema: the list the demo guards its file with is
// the schema's own, each stage's tables included and temporary ones not.
func TestDuckDBTablesNamesTheSchema(t *testing.T) {
	got := DuckDBTables()
	for _, want := range []string{"materializations", "ingest_state", "asset_stats_history", "capacity_plan", "tier_recommendations", "tier_savings_summary_history"} {
		if !slices.Contains(got, want) {
			t.Errorf("DuckDBTables() lacks %s: %v", want, got)
		}
	}
	for _, name := range got {
		if name == "touched_runs" || len(name) > 8 && name[:8] == "analyze_" {
			t.Errorf("DuckDBTables() lists the temporary table %s", name)
		}
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("DuckDBTables() is not sorted and unique: %v", got)
	}
}
