package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/matlens/matlens/ingest"
	"github.com/matlens/matlens/sql/duckfile"
)

// sourceFlags are the flags that choose where Dagster's event log comes from.
type sourceFlags struct {
	pg     *string
	source *string
	fs     *flag.FlagSet
	cfg    sourceConfig
}

// addSourceFlags declares --pg and --source. The configured DSN is not the
// flag's default: -h prints defaults, and a DSN can hold a password.
func addSourceFlags(fs *flag.FlagSet, cfg config) sourceFlags {
	return sourceFlags{
		pg:     fs.String("pg", "", "Dagster's PostgreSQL DSN (default: config source.pg, $DATABASE_URL, the PG* variables, or source.dagster_yaml)"),
		source: fs.String("source", "", "a pg_dump or COPY text file of event_logs instead of PostgreSQL (default: config source.file)"),
		fs:     fs,
		cfg:    cfg.Source,
	}
}

// open returns the chosen source. A source given as a flag beats one that
// came from the config file or the environment.
func (f sourceFlags) open() (ingest.Source, error) {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	pg, file := f.cfg.PG, f.cfg.File
	switch {
	case set["pg"] && set["source"]:
		return nil, usagef("give either --pg or --source, not both")
	case set["source"]:
		pg, file = "", *f.source
	case set["pg"]:
		pg, file = *f.pg, ""
	case pg != "" && file != "":
		return nil, usagef("config: set either source.pg or source.file, not both")
	}
	if file != "" {
		if _, err := os.Stat(file); err != nil {
			return nil, &ingest.SourceError{Op: "open source file", Err: err}
		}
		return ingest.NewFileSource(file), nil
	}
	if pg == "" {
		return nil, usagef("no source: give --pg DSN or --source FILE, or set DATABASE_URL, PGHOST/PGDATABASE or source.dagster_yaml in the config")
	}
	src, err := ingest.NewPostgresSource(pg)
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

// ingestFlags declares the ingest stage's flags over the effective config
// and returns a function that yields the options once flags are parsed.
func ingestFlags(fs *flag.FlagSet, cfg config) func() (ingest.Options, error) {
	opts := ingest.DefaultOptions()
	fs.IntVar(&opts.BatchRows, "batch-rows", cfg.Ingest.BatchRows, "flush a batch to DuckDB after this many rows")
	fs.IntVar(&opts.BatchBytes, "batch-bytes", cfg.Ingest.BatchBytes, "flush a batch to DuckDB after about this many bytes")
	fs.Int64Var(&opts.ReReadWindow, "reread-window", cfg.Ingest.RereadWindow, "ids below the watermark read again to catch late commits")
	fs.DurationVar(&opts.LockWait, "lock-wait", time.Duration(cfg.Ingest.LockWait), "how long to wait for a DuckDB file another process holds")
	return func() (ingest.Options, error) {
		keys, err := cfg.metadataKeys()
		opts.Keys = keys
		opts.DuckDBMemoryLimit = cfg.Ingest.DuckDBMemoryLimit
		if err != nil {
			return opts, err
		}
		if err := opts.Validate(); err != nil {
			return opts, usageError{err.Error()}
		}
		return opts, nil
	}
}

// commonFlags declares --config, --db and the log flags every stage takes.
func commonFlags(fs *flag.FlagSet, cfg config, dbHelp string) (db *string, newLogger func(io.Writer) (*slog.Logger, error)) {
	fs.String("config", "", "the YAML configuration file (default: $MATLENS_CONFIG)")
	db = fs.String("db", cfg.DB, dbHelp)
	return db, configuredLogFlags(fs, cfg.Log)
}

// ingestCmdFlags are the flags cmdIngest and cmdRun share: the source, the
// DuckDB file, the log flags, the ingest options and --max-rejects.
type ingestCmdFlags struct {
	src        sourceFlags
	db         *string
	newLogger  func(io.Writer) (*slog.Logger, error)
	ingestOpts func() (ingest.Options, error)
	maxRejects *int64
}

func addIngestCmdFlags(fs *flag.FlagSet, cfg config) ingestCmdFlags {
	var f ingestCmdFlags
	f.src = addSourceFlags(fs, cfg)
	f.db, f.newLogger = commonFlags(fs, cfg, "the matlens DuckDB file (created if missing; default: config db or $MATLENS_DB)")
	f.ingestOpts = ingestFlags(fs, cfg)
	f.maxRejects = fs.Int64("max-rejects", cfg.Run.MaxRejects, "exit 5 when a run quarantines more rows than this (-1: any number)")
	return f
}

// options checks the parsed flags and returns the ingest options.
func (f ingestCmdFlags) options() (ingest.Options, error) {
	opts, err := f.ingestOpts()
	if err != nil {
		return opts, err
	}
	if *f.db == "" {
		return opts, usagef("--db is required (the DuckDB file to load into)")
	}
	return opts, nil
}

// checkRejects is the --max-rejects verdict on a finished ingest.
func (f ingestCmdFlags) checkRejects(st ingest.Stats) error {
	if *f.maxRejects >= 0 && st.RowsRejected > *f.maxRejects {
		return rejectsError{rejected: st.RowsRejected, allowed: *f.maxRejects}
	}
	return nil
}

func cmdIngest(ctx context.Context, name string, args []string, stdout, stderr io.Writer, getenv env) (err error) {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet(name, stderr)
	f := addIngestCmdFlags(fs, cfg)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	logger, err := f.newLogger(stderr)
	if err != nil {
		return err
	}
	file, st, err := ingestStage(ctx, stdout, stderr, f.src, *f.db, opts, logger)
	if file != nil {
		// Close checkpoints the file: its error is the run's error too.
		defer func() { err = errors.Join(err, file.Close()) }()
	}
	if err != nil {
		return err
	}
	return f.checkRejects(st)
}

// ingestStage opens the source and the DuckDB file (read-write, created if
// missing) and runs the stage, with a progress bar on a terminal, printing
// its summary line also when the run stopped early. The caller closes the
// file it returns (nil on failure to open it).
func ingestStage(ctx context.Context, stdout, stderr io.Writer, src sourceFlags, db string, opts ingest.Options, logger *slog.Logger) (*duckfile.File, ingest.Stats, error) {
	source, err := src.open()
	if err != nil {
		return nil, ingest.Stats{}, err
	}
	file, err := duckfile.Open(ctx, db, duckfile.Options{LockWait: opts.LockWait})
	if err != nil {
		return nil, ingest.Stats{}, err
	}
	store, err := ingest.NewStore(ctx, file)
	if err != nil {
		return file, ingest.Stats{}, err
	}
	progress := newIngestProgress(stderr)
	opts.Progress = progress.update
	st, err := ingest.Run(ctx, source, store, opts, logger)
	progress.finish()
	printIngestSummary(stdout, st)
	if err != nil {
		return file, st, err
	}
	return file, st, nil
}

// openStageFile opens a DuckDB file an earlier stage wrote, naming the
// command that creates it when it is missing (opening a missing path would
// otherwise leave an empty file behind).
func openStageFile(ctx context.Context, path string, opts duckfile.Options, createdBy string) (*duckfile.File, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("--db %s: no such file; run %s to create it", path, createdBy)
	}
	return duckfile.Open(ctx, path, opts)
}

func printIngestSummary(w io.Writer, st ingest.Stats) {
	rate := 0.0
	if s := st.Elapsed.Seconds(); s > 0 {
		rate = float64(st.RowsRead) / s
	}
	fmt.Fprintf(w, "ingest: %d rows read, %d loaded, %d rejected, %d already loaded; %d batches in %s (%.0f rows/s); watermark %d -> %d\n",
		st.RowsRead, st.RowsLoaded, st.RowsRejected, st.RowsSkipped, st.Batches,
		st.Elapsed.Round(time.Millisecond), rate, st.WatermarkBefore, st.WatermarkAfter)
	if st.MemoryLimitRaisedTo > 0 {
		fmt.Fprintf(w, "ingest: DuckDB needed %dMB (ingest.duckdb_memory_limit is lower); set it to at least that to avoid the retries\n",
			st.MemoryLimitRaisedTo/1e6)
	}
}
