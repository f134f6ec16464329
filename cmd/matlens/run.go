package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/matlens/matlens/ingest"
	"github.com/matlens/matlens/sql/duckfile"
)

// Exit codes: a scheduler branches on these, so they are part of the
// documented interface (README "Exit codes").
const (
	exitOK          = 0
	exitFailure     = 1 // anything else: a bug, an I/O error, a failed query
	exitUsage       = 2 // bad flag, bad config value, missing argument
	exitSourceDown  = 3 // Dagster's PostgreSQL (or the source file) unreachable
	exitLocked      = 4 // the DuckDB file is held by another process
	exitRejects     = 5 // finished, but quarantined more rows than run.max_rejects allows
	exitInterrupted = 130
)

const usage = `matlens: Dagster event log -> DuckDB -> per-asset statistics and storage-tier savings

Usage:
  matlens demo      [--db FILE]                             whole pipeline on built-in data, no server
  matlens run       (--pg DSN | --source FILE) --db FILE     nightly job: ingest -> analyze -> recommend
  matlens ingest    (--pg DSN | --source FILE) --db FILE     load new event-log rows into DuckDB
  matlens objects   load --db FILE (--s3-inventory LOC | --gcs-inventory LOC |
                    --azure-inventory LOC | --list URL | --path DIR)...
                                                            snapshot object stores into storage_objects
  matlens objects   [list] --db FILE                         the object snapshots loaded, per source
  matlens analyze   --db FILE                                per-asset statistics, alerts, capacity plan
  matlens recommend --db FILE [--provider aws|gcp|azure] [--policies DIR]
                                                            storage classes and the money they save
  matlens report    --db FILE [--format table|csv|json|parquet|html] [--out PATH] [--top N]
                                                            recommendations, savings, stats, alerts, charts
  matlens plan      inventory|memory|network ... [--json]    the guide's calculators
  matlens fixtures  generate (--pg DSN | --out FILE) [--assets N] [--days N]
                    [--runs-per-day N] [--rows N] [--seed N]  realistic Dagster event logs
                    [--inventory DIR]                       and their bucket's S3 Inventory
  matlens prices    [--provider P] [--json]                  the effective storage price sheet
  matlens config    [--config FILE]                          the effective configuration, secrets redacted

Every command takes --config FILE (YAML; default $MATLENS_CONFIG). Precedence:
flags, then environment, then the config file, then built-in defaults.
Run "matlens <command> -h" for a command's flags.
`

// rejectsError: the run did all its work but quarantined more rows than
// allowed; the rows are in rejected_events.
type rejectsError struct{ rejected, allowed int64 }

func (e rejectsError) Error() string {
	return fmt.Sprintf("%d rows quarantined, more than run.max_rejects=%d allows; see the rejected_events table", e.rejected, e.allowed)
}

// usageError is a mistake in how matlens was called; it exits with exitUsage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// env is the injected environment lookup (os.Getenv in main, a map in tests).
type env func(string) string

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, rest := args[0], args[1:]
	do, ok := commands[cmd]
	if !ok {
		return exitCode(usagef("unknown command %q (see matlens --help)", cmd), stderr)
	}
	return exitCode(do(ctx, rest, stdout, stderr, getenv), stderr)
}

// command runs one subcommand on the arguments after its name.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error

// commands are the subcommands by name, as the usage text lists them.
var commands = map[string]command{
	"ingest": func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
		return cmdIngest(ctx, "ingest", args, stdout, stderr, getenv)
	},
	"run":       cmdRun,
	"recommend": cmdRecommend,
	"report":    cmdReport,
	"analyze":   cmdAnalyze,
	"objects":   cmdObjects,
	"plan":      cmdPlan,
	"demo":      cmdDemo,
	"fixtures":  cmdFixtures,
	"prices": func(_ context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
		return cmdPrices(args, stdout, stderr, getenv)
	},
	"config": func(_ context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
		return cmdConfig(args, stdout, stderr, getenv)
	},
}

// exitCode prints err once and maps it to the documented exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintln(stderr, "matlens:", err)
	var ue usageError
	var se *ingest.SourceError
	var re rejectsError
	var of *objectsFailed
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &of):
		return of.exitCode()
	case errors.As(err, &re):
		return exitRejects
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, duckfile.ErrLocked):
		return exitLocked
	case errors.As(err, &se):
		return exitSourceDown
	}
	return exitFailure
}

// newFlagSet returns a flag set whose errors come back as usage errors
// naming the flag, instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("matlens "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// logFlags adds --log-format and --log-level with a default level.
func logFlags(fs *flag.FlagSet, defaultLevel string) func(io.Writer) (*slog.Logger, error) {
	return configuredLogFlags(fs, logConfig{Format: "text", Level: defaultLevel})
}

// configuredLogFlags adds --log-format and --log-level over the configured
// defaults and returns a constructor.
func configuredLogFlags(fs *flag.FlagSet, cfg logConfig) func(io.Writer) (*slog.Logger, error) {
	format := fs.String("log-format", cfg.Format, "log format: text or json")
	level := fs.String("log-level", cfg.Level, "log level: debug, info, warn, error")
	return func(w io.Writer) (*slog.Logger, error) {
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(*level)); err != nil {
			return nil, usagef("--log-level: %q is not one of debug, info, warn, error", *level)
		}
		opts := &slog.HandlerOptions{Level: lv}
		switch strings.ToLower(*format) {
		case "text":
			return slog.New(slog.NewTextHandler(w, opts)), nil
		case "json":
			return slog.New(slog.NewJSONHandler(w, opts)), nil
		}
		return nil, usagef("--log-format: %q is not text or json", *format)
	}
}
