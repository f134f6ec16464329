package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/matlens/matlens/analyze"
	"github.com/matlens/matlens/cmd/matlens/report"
	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest"
	"github.com/matlens/matlens/ingest/objects"
	isql "github.com/matlens/matlens/sql"
	"github.com/matlens/matlens/sql/duckfile"
)

// The demo's own queries.
var (
	demoFindingsCostSQL      = isql.MustRead(isql.DuckDB, "duckdb/demo_findings_cost.sql")
	demoFindingsSavingsSQL   = isql.MustRead(isql.DuckDB, "duckdb/demo_findings_savings.sql")
	demoFindingsGuideLossSQL = isql.MustRead(isql.DuckDB, "duckdb/demo_findings_guide_loss.sql")
	demoFindingsAlertsSQL    = isql.MustRead(isql.DuckDB, "duckdb/demo_findings_alerts.sql")
	demoFindingsOrphansSQL   = isql.MustRead(isql.DuckDB, "duckdb/demo_findings_orphans.sql")
	demoFindingsSizesSQL     = isql.MustRead(isql.DuckDB, "duckdb/demo_findings_sizes.sql")
	demoTableCountsSQL       = isql.MustRead(isql.DuckDB, "duckdb/demo_table_counts.sql")
	demoFileTablesSQL        = isql.MustRead(isql.DuckDB, "duckdb/demo_file_tables.sql")
	demoForeignSourcesSQL    = isql.MustRead(isql.DuckDB, "duckdb/demo_foreign_sources.sql")
)

// demoSource names the built-in dataset in ingest_state; the demo only ever
// replaces a DuckDB file that holds nothing else.
const demoSource = "demo:builtin"

// demoOptions is the built-in dataset: big enough to show real patterns
// (growth, retries, failures, cold partitions), small enough for seconds.
func demoOptions() fixtures.Options {
	o := fixtures.DefaultOptions()
	o.Seed = 1
	return o
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) (err error) {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	// The demo prints its own findings; logs only for trouble.
	cfg.Log.Level = "warn"
	if cfg.DB == "" {
		cfg.DB = "matlens-demo.duckdb"
	}
	fs := newFlagSet("demo", stderr)
	db, newLogger := commonFlags(fs, cfg, "the DuckDB file to build (replaced if it holds an earlier demo)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr)
	if err != nil {
		return err
	}
	if err := removeEarlierDemo(ctx, *db); err != nil {
		return err
	}
	start := time.Now()
	opts := demoOptions()
	fmt.Fprintf(stdout, "matlens demo: generating a Dagster deployment (%d assets, %d days, %d runs/day, seed %d) and loading it into %s\n",
		opts.Assets, opts.Days, opts.RunsPerDay, opts.Seed, *db)

	// The generator writes a pg_dump into a pipe and the file source reads
	// it: the same path a real dump takes, with nothing on disk.
	pr, pw := io.Pipe()
	var expected *fixtures.Expected
	genDone := make(chan error, 1)
	go func() {
		var err error
		expected, err = fixtures.WriteDump(ctx, pw, opts)
		pw.CloseWithError(err)
		genDone <- err
	}()
	if err := demoBuild(ctx, stdout, *db, pr, cfg, logger); err != nil {
		pr.CloseWithError(err)
		<-genDone
		return err
	}
	if genErr := <-genDone; genErr != nil {
		return fmt.Errorf("demo: generate demo data: %w", genErr)
	}

	// What follows only reads the file, as an analyst would.
	file, err := duckfile.Open(ctx, *db, duckfile.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer func() { err = errors.Join(err, file.Close()) }()
	if err := printFindings(ctx, stdout, file.Conn()); err != nil {
		return err
	}
	reportPath := strings.TrimSuffix(*db, filepath.Ext(*db)) + "-report.html"
	ropts := report.DefaultOptions()
	ropts.Format, ropts.Out, ropts.DB, ropts.Stdout = "html", reportPath, *db, stdout
	ropts.Provider = cfg.Tiering.Provider
	if _, err := report.Write(ctx, file.Conn(), ropts); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nHTML report with charts: %s\n", reportPath)
	fmt.Fprintf(stdout, "\ngenerated %d event rows (%d runs, %d assets); demo finished in %s\n",
		expected.Rows, expected.Runs, len(expected.Assets), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, demoNext, *db)
	return nil
}

// demoBuild loads the generated dump from pr into a new file at path and
// runs analyze and recommend on it, the way a nightly run would, leaving
// everything in the one file with no write-ahead log beside it (the demo
// file is meant to be opened, copied and shared).
func demoBuild(ctx context.Context, stdout io.Writer, path string, pr *io.PipeReader, cfg config, logger *slog.Logger) (err error) {
	file, err := duckfile.Open(ctx, path, duckfile.Options{})
	if err != nil {
		return err
	}
	// Close checkpoints the file: its error is the run's error too.
	defer func() { err = errors.Join(err, file.Close()) }()
	store, err := ingest.NewStore(ctx, file)
	if err != nil {
		return err
	}
	st, err := ingest.Run(ctx, ingest.NewCopyReader(pr, demoSource), store, ingest.DefaultOptions(), logger)
	if err == nil {
		// The rest of the dump (runs, asset_keys) is not event_logs: let the
		// generator finish writing it.
		_, err = io.Copy(io.Discard, pr)
	}
	pr.CloseWithError(errors.New("demo: ingest stopped"))
	printIngestSummary(stdout, st)
	if err != nil {
		return err
	}
	if err := printTableCounts(ctx, stdout, file.Conn()); err != nil {
		return err
	}
	if err := demoObjects(ctx, stdout, file, path, logger); err != nil {
		return err
	}
	sheet, err := cfg.priceSheet()
	if err != nil {
		return err
	}
	ast, err := analyze.Run(ctx, file.Conn(), cfg.analyzeOptions(sheet), logger)
	if err != nil {
		return err
	}
	printAnalyzeSummary(stdout, ast)
	if err := recommendStage(ctx, stdout, file.Conn(), sheet, cfg.tieringOptions(), "", logger); err != nil {
		return err
	}
	if _, err := file.Conn().ExecContext(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("demo: checkpoint: %w", err)
	}
	return nil
}

// demoObjects writes the deployment's bucket as an S3 Inventory report
// beside the demo file (what `aws s3 sync` of an inventory destination
// gives) and loads it, so the demo shows measured sizes, real classes and
// orphans with no cloud account.
func demoObjects(ctx context.Context, stdout io.Writer, file *duckfile.File, path string, logger *slog.Logger) error {
	dir := strings.TrimSuffix(path, filepath.Ext(path)) + "-inventory"
	manifest, _, err := fixtures.WriteDeploymentInventory(ctx, dir, demoOptions(), fixtures.InventoryOptions{})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	opts := objects.DefaultOptions()
	opts.Logger = logger
	sum, err := objects.Load(ctx, file, objects.Source{Kind: objects.KindS3Inventory, Location: dir}, opts)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(stdout, "loaded the bucket's S3 Inventory (%s): %d objects and versions, %.1f GB, %d noncurrent, %d delete markers\n",
		manifest, sum.Objects, float64(sum.Bytes)/1e9, sum.Noncurrent, sum.DeleteMarkers)
	return nil
}

// demoNext is what to try after the demo; %[1]s is the demo file.
const demoNext = `
Next:
  duckdb %[1]s "SELECT asset_key, recommended_class, savings_usd_month, reason FROM tier_recommendations WHERE action = 'move' ORDER BY savings_usd_month DESC LIMIT 10"
  duckdb %[1]s "SELECT * FROM alerts"
  duckdb %[1]s "SELECT asset_key, partition, bytes, objects, storage_class, matched_by FROM asset_storage ORDER BY bytes DESC LIMIT 10"
  duckdb %[1]s "SELECT prefix, reason, bytes, cost_usd_month, action, savings_usd_month FROM orphaned_objects ORDER BY savings_usd_month DESC"
  matlens report --db %[1]s --format csv --out ./report    (also table, json, parquet, html)
  matlens recommend --db %[1]s --provider gcp --policies ./policies    (price on another cloud, write lifecycle rules)
  matlens run --pg postgres://USER@HOST:5432/DAGSTER_DB --db matlens.duckdb    (your own Dagster database, read-only)
`

// printFindings shows what a platform engineer would act on first: where
// storage money goes, which moves pay and why, and what is going wrong.
func printFindings(ctx context.Context, w io.Writer, conn *sql.Conn) error {
	sections := []struct {
		title, sql string
		format     func(cols []sql.NullString) string
	}{
		{"Where sizes come from (whole assets)", demoFindingsSizesSQL,
			func(c []sql.NullString) string {
				return fmt.Sprintf("%-14s %4s assets  %10s GB", c[0].String, c[1].String, c[2].String)
			}},
		{"Assets that cost most to store (per month, current class)", demoFindingsCostSQL,
			func(c []sql.NullString) string {
				return fmt.Sprintf("%-34s $%8s/month  %8s GB in %s (size from %s)", c[0].String, c[2].String, c[3].String, c[1].String, c[4].String)
			}},
		{"Biggest savings (moves that pay back within the horizon)", demoFindingsSavingsSQL,
			func(c []sql.NullString) string {
				return fmt.Sprintf("%-34s saves $%6s/month: %s", c[0].String, c[2].String, c[3].String)
			}},
		{"Orphaned objects and old versions (billed, read by no asset)", demoFindingsOrphansSQL,
			func(c []sql.NullString) string {
				return fmt.Sprintf("%-26s %8s GB  $%5s/month, %s saves $%5s/month: %s", c[1].String, c[2].String, c[3].String, c[4].String, c[5].String, c[0].String)
			}},
		{"Where the guide's naive tiering would lose money", demoFindingsGuideLossSQL,
			func(c []sql.NullString) string {
				return fmt.Sprintf("%-34s guide says %s saves $%s/month; it would cost $%s/month more", c[0].String, c[1].String, c[2].String, c[3].String)
			}},
		{"Alerts", demoFindingsAlertsSQL,
			func(c []sql.NullString) string {
				return fmt.Sprintf("%-8s %s: %s", c[0].String, c[1].String, c[2].String)
			}},
	}
	for _, sec := range sections {
		rows, err := conn.QueryContext(ctx, sec.sql)
		if err != nil {
			return fmt.Errorf("findings: %w", err)
		}
		cols, _ := rows.Columns()
		fmt.Fprintf(w, "\n%s:\n", sec.title)
		n := 0
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return fmt.Errorf("findings: %w", err)
			}
			fmt.Fprintln(w, "  "+sec.format(vals))
			n++
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("findings: %w", err)
		}
		if n == 0 {
			fmt.Fprintln(w, "  (none)")
		}
	}
	return nil
}

// removeEarlierDemo deletes path only if it is a DuckDB file that holds the
// demo and nothing else; anything else is refused rather than destroyed.
// The file is inspected read-only, so a refused file is left untouched.
func removeEarlierDemo(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	refuse := func(why string) error {
		return usagef("demo: %s %s; the demo only replaces its own file, choose another --db", path, why)
	}
	file, err := duckfile.Open(ctx, path, duckfile.Options{ReadOnly: true})
	if err != nil {
		return refuse(fmt.Sprintf("cannot be opened as a DuckDB file (%v)", err))
	}
	defer file.Close()
	db := file.Conn()
	foreign, demoState, err := fileTables(ctx, db)
	if err != nil {
		return refuse(fmt.Sprintf("cannot be inspected (%v)", err))
	}
	if foreign > 0 || !demoState {
		return refuse("holds tables the demo did not write")
	}
	var sources int
	if err := db.QueryRowContext(ctx, demoForeignSourcesSQL, demoSource).Scan(&sources); err != nil {
		return refuse(fmt.Sprintf("cannot be inspected (%v)", err))
	}
	if sources > 0 {
		return refuse("holds data from a real source")
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for _, p := range []string{path, path + ".wal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("demo: remove earlier demo: %w", err)
		}
	}
	return nil
}

// fileTables counts the tables of the file that matlens' schema does not
// create, and says whether the file has ingest_state, without which it is
// not a matlens file at all.
func fileTables(ctx context.Context, db *sql.Conn) (foreign int, hasState bool, err error) {
	rows, err := db.QueryContext(ctx, demoFileTablesSQL)
	if err != nil {
		return 0, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return 0, false, err
		}
		if !slices.Contains(demoTables, name) {
			foreign++
		}
		hasState = hasState || name == "ingest_state"
	}
	return foreign, hasState, rows.Err()
}

// demoTables are the tables a demo run may leave in its file, read from the
// schema's own statements; a file with any other table is not the demo's to
// replace.
var demoTables = isql.DuckDBTables()

// printTableCounts shows what the load produced, table by table.
func printTableCounts(ctx context.Context, w io.Writer, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, demoTableCountsSQL)
	if err != nil {
		return fmt.Errorf("count tables: %w", err)
	}
	defer rows.Close()
	labels, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("count tables: %w", err)
	}
	if !rows.Next() {
		return fmt.Errorf("count tables: %w", errors.Join(rows.Err(), errors.New("no row")))
	}
	counts := make([]int64, len(labels))
	ptrs := make([]any, len(labels))
	for i := range counts {
		ptrs[i] = &counts[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return fmt.Errorf("count tables: %w", err)
	}
	for i, label := range labels {
		fmt.Fprintf(w, "  %-38s %10d\n", label, counts[i])
	}
	return nil
}
