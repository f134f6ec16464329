package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/marcboeker/go-duckdb"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/demo_tables.golden from the code")

// volatileColumns hold values that differ between two runs over the same
// data, or that a named fix is allowed to change; the digest leaves them out.
var volatileColumns = map[string]string{
	"started_at":                 "ingest_runs: the wall-clock start of the run",
	"finished_at":                "ingest_runs and runs: compared only on runs (see below)",
	"updated_at":                 "ingest_state: the wall-clock time of the commit",
	"rejected_at":                "rejected_events: the wall-clock time of the quarantine",
	"error":                      "ingest_runs: free text",
	"loaded_at":                  "storage_sources: the wall-clock time of the load",
	"break_even_reads_per_month": "tier_recommendations: NULL where no figure applies (issue 14)",
	"break_even_idle_days":       "tier_recommendations: NULL where no figure applies (issue 14)",
}

// keepColumn says whether table.column enters the digest: the volatile
// names only in tables where they come from the event log.
func keepColumn(table, column string) bool {
	// An object source's id names the demo's inventory directory, which is
	// the test's temporary directory.
	if column == "source" && (table == "storage_objects" || table == "storage_sources") {
		return false
	}
	if _, volatile := volatileColumns[column]; !volatile {
		return true
	}
	return (column == "started_at" || column == "finished_at") && table != "ingest_runs"
}

// TestDemoTablesGolden holds every table and view the demo writes to a
// reviewed digest: its row count and an order-independent hash of its
// rows. A change that alters any value of any table fails here, and
// `go test ./cmd/matlens -run TestDemoTablesGolden -update` rewrites the
// golden for review.
func TestDemoTablesGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.duckdb")
	if code, _, stderr := runCLI(t, noEnv, "demo", "--db", path); code != exitOK {
		t.Fatalf("demo: exit %d: %s", code, stderr)
	}
	db, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT table_name, list(column_name ORDER BY column_index)
		FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal AND database_name = current_database()
		GROUP BY table_name ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	type table struct {
		name string
		cols []string
	}
	var tables []table
	for rows.Next() {
		var name string
		var cols []any
		if err := rows.Scan(&name, &cols); err != nil {
			t.Fatal(err)
		}
		tb := table{name: name}
		for _, c := range cols {
			if keepColumn(name, c.(string)) {
				tb.cols = append(tb.cols, `"`+c.(string)+`"`)
			}
		}
		tables = append(tables, tb)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 {
		t.Fatal("the demo file holds no tables")
	}
	var got strings.Builder
	for _, tb := range tables {
		var n int64
		var digest sql.NullString
		q := fmt.Sprintf(`SELECT count(*), md5(string_agg(h, ',' ORDER BY h))
			FROM (SELECT md5(CAST(ROW(%s) AS VARCHAR)) AS h FROM "%s")`, strings.Join(tb.cols, ", "), tb.name)
		if err := db.QueryRow(q).Scan(&n, &digest); err != nil {
			t.Fatalf("digest %s: %v", tb.name, err)
		}
		fmt.Fprintf(&got, "%s\t%d\t%s\n", tb.name, n, digest.String)
	}
	golden := filepath.Join("testdata", "demo_tables.golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got.String() == string(want) {
		return
	}
	wantLines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		name, _, _ := strings.Cut(l, "\t")
		wantLines[name] = l
	}
	for _, l := range strings.Split(strings.TrimSpace(got.String()), "\n") {
		name, _, _ := strings.Cut(l, "\t")
		if wantLines[name] != l {
			t.Errorf("table %s: got %q, golden %q", name, l, wantLines[name])
		}
		delete(wantLines, name)
	}
	for name := range wantLines {
		t.Errorf("table %s: in the golden, not in the demo file", name)
	}
}
