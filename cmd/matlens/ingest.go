package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/matlens/matlens/ingest"
)

// sourceFlags are the flags that choose where Dagster's event log comes from.
type sourceFlags struct {
	pg     *string
	source *string
}

func addSourceFlags(fs interface {
	String(name, value, usage string) *string
}) sourceFlags {
	return sourceFlags{
		pg:     fs.String("pg", "", "Dagster's PostgreSQL DSN (default: $DATABASE_URL, then the PG* variables)"),
		source: fs.String("source", "", "a pg_dump or COPY text file of event_logs instead of PostgreSQL"),
	}
}

// open returns the chosen source. A DSN comes from --pg, then DATABASE_URL,
// then the standard PG* variables.
func (f sourceFlags) open(getenv env) (ingest.Source, error) {
	if *f.pg != "" && *f.source != "" {
		return nil, usagef("give either --pg or --source, not both")
	}
	if *f.source != "" {
		if _, err := os.Stat(*f.source); err != nil {
			return nil, &ingest.SourceError{Op: "open --source", Err: err}
		}
		return ingest.NewFileSource(*f.source), nil
	}
	dsn := *f.pg
	if dsn == "" {
		dsn = getenv("DATABASE_URL")
	}
	if dsn == "" {
		dsn = dsnFromPGEnv(getenv)
	}
	if dsn == "" {
		return nil, usagef("no source: give --pg DSN or --source FILE, or set DATABASE_URL or PGHOST/PGDATABASE")
	}
	src, err := ingest.NewPostgresSource(dsn)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return src, nil
}

// dsnFromPGEnv builds a key=value DSN from the libpq variables, read through
// the injected environment so tests never touch the process's own.
func dsnFromPGEnv(getenv env) string {
	var parts []string
	for _, kv := range [][2]string{
		{"PGHOST", "host"}, {"PGPORT", "port"}, {"PGUSER", "user"}, {"PGPASSWORD", "password"},
		{"PGDATABASE", "dbname"}, {"PGSSLMODE", "sslmode"},
	} {
		if v := getenv(kv[0]); v != "" {
			parts = append(parts, kv[1]+"='"+strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", `\'`)+"'")
		}
	}
	if getenv("PGHOST") == "" && getenv("PGDATABASE") == "" {
		return ""
	}
	return strings.Join(parts, " ")
}

func cmdIngest(ctx context.Context, name string, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := newFlagSet(name, stderr)
	src := addSourceFlags(fs)
	db := fs.String("db", "", "the matlens DuckDB file (created if missing)")
	opts := ingest.DefaultOptions()
	fs.IntVar(&opts.BatchRows, "batch-rows", opts.BatchRows, "flush a batch to DuckDB after this many rows")
	fs.IntVar(&opts.BatchBytes, "batch-bytes", opts.BatchBytes, "flush a batch to DuckDB after about this many bytes")
	fs.Int64Var(&opts.ReReadWindow, "reread-window", opts.ReReadWindow, "ids below the watermark read again to catch late commits")
	fs.DurationVar(&opts.LockWait, "lock-wait", opts.LockWait, "how long to wait for a DuckDB file another process holds")
	newLogger := logFlags(fs, "info")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *db == "" {
		return usagef("--db is required (the DuckDB file to load into)")
	}
	logger, err := newLogger(stderr)
	if err != nil {
		return err
	}
	source, err := src.open(getenv)
	if err != nil {
		return err
	}
	store, err := ingest.OpenStore(ctx, *db, opts.LockWait)
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := ingest.Run(ctx, source, store, opts, logger)
	printIngestSummary(stdout, st)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}

func printIngestSummary(w io.Writer, st ingest.Stats) {
	rate := 0.0
	if s := st.Elapsed.Seconds(); s > 0 {
		rate = float64(st.RowsRead) / s
	}
	fmt.Fprintf(w, "ingest: %d rows read, %d loaded, %d rejected, %d already loaded; %d batches in %s (%.0f rows/s); watermark %d -> %d\n",
		st.RowsRead, st.RowsLoaded, st.RowsRejected, st.RowsSkipped, st.Batches,
		st.Elapsed.Round(time.Millisecond), rate, st.WatermarkBefore, st.WatermarkAfter)
}
