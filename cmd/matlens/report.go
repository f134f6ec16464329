package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/matlens/matlens/cmd/matlens/report"
	"github.com/matlens/matlens/sql/duckfile"
)

// cmdReport renders the derived tables (recommendations, savings summary,
// asset stats, alerts, capacity plan) as text, CSV, JSON, Parquet or HTML.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) (err error) {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	flags := newFlagSet("report", stderr)
	db, newLogger := commonFlags(flags, cfg, "the matlens DuckDB file analyze and recommend filled (default: config db or $MATLENS_DB)")
	format := flags.String("format", "table", "output format: "+strings.Join(report.Formats, ", "))
	out := flags.String("out", "", `where to write: a file or "-" for stdout (table, json, html; table defaults to "-"), a directory (csv, parquet)`)
	top := flags.Int("top", 20, "rows in the ranked lists and charts (top recommendations, assets by cost and savings)")
	lockWait := flags.Duration("lock-wait", time.Duration(cfg.Ingest.LockWait), "how long to wait for a DuckDB file another process holds")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if !slices.Contains(report.Formats, *format) {
		return usagef("--format: %q is not one of %s", *format, strings.Join(report.Formats, ", "))
	}
	if *out == "" {
		if *format != "table" {
			return usagef("--out is required with --format %s (%s)", *format, outHelp(*format))
		}
		*out = "-"
	}
	if *out == "-" && (*format == "csv" || *format == "parquet") {
		return usagef("--out: --format %s writes one file per section into a directory, not to stdout", *format)
	}
	if *top < 1 {
		return usagef("--top: %d is not a positive number", *top)
	}
	if *db == "" {
		return usagef("--db is required (the DuckDB file analyze and recommend filled)")
	}
	if _, err := newLogger(stderr); err != nil {
		return err
	}
	// A report only reads: it shares the file with other readers and never
	// changes it.
	file, err := openStageFile(ctx, *db, duckfile.Options{ReadOnly: true, LockWait: *lockWait}, "`matlens run` (or ingest, analyze and recommend)")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, file.Close()) }()
	opts := report.Options{
		Format: *format, Out: *out, Top: *top, Provider: cfg.Tiering.Provider, DB: *db, Stdout: stdout,
	}
	sum, err := report.Write(ctx, file.Conn(), opts)
	if err != nil {
		return err
	}
	if *out != "-" {
		printReportSummary(stdout, sum, *out)
	}
	return nil
}

func outHelp(format string) string {
	if format == "csv" || format == "parquet" {
		return "a directory for one file per section"
	}
	return `a file, or "-" for stdout`
}

func printReportSummary(w io.Writer, s report.Summary, out string) {
	where := out
	if len(s.Files) > 1 {
		where = fmt.Sprintf("%d files in %s", len(s.Files), out)
	}
	fmt.Fprintf(w, "report: %s written to %s (as of %s; %d recommendations on %s, %d moves save $%.2f/month; %d alerts)\n",
		s.Format, where, s.AsOf.Format("2006-01-02 15:04 UTC"), s.Recommendations, s.Provider, s.Moves, s.SavingsUSDMonth, s.Alerts)
}
