package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/matlens/matlens/analyze"
	"github.com/matlens/matlens/sql/duckfile"
)

// cmdAnalyze computes asset_stats, alerts and capacity_plan in the DuckDB
// file ingest filled.
func cmdAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) (err error) {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("analyze", stderr)
	db, newLogger := commonFlags(fs, cfg, "the matlens DuckDB file ingest filled (default: config db or $MATLENS_DB)")
	asOf := fs.String("as-of", "", "analyze as of this RFC 3339 time (default: the latest event loaded)")
	lockWait := fs.Duration("lock-wait", time.Duration(cfg.Ingest.LockWait), "how long to wait for a DuckDB file another process holds")
	sheet, err := cfg.priceSheet()
	if err != nil {
		return err
	}
	opts := cfg.analyzeOptions(sheet)
	addAnalyzeFlags(fs, &opts)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *db == "" {
		return usagef("--db is required (the DuckDB file ingest filled)")
	}
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339Nano, *asOf)
		if err != nil {
			return usagef("--as-of: %q is not an RFC 3339 time such as 2026-03-01T00:00:00Z", *asOf)
		}
		opts.AsOf = t.UTC()
	}
	if err := opts.Validate(); err != nil {
		return usageError{err.Error()}
	}
	logger, err := newLogger(stderr)
	if err != nil {
		return err
	}
	file, err := openStageFile(ctx, *db, duckfile.Options{LockWait: *lockWait}, "`matlens ingest` (or `matlens run`)")
	if err != nil {
		return err
	}
	// Close checkpoints the file: its error is the run's error too.
	defer func() { err = errors.Join(err, file.Close()) }()
	st, err := analyze.Run(ctx, file.Conn(), opts, logger)
	if err != nil {
		return err
	}
	printAnalyzeSummary(stdout, st)
	return nil
}

// addAnalyzeFlags binds the thresholds and planner settings to opts.
func addAnalyzeFlags(fs flagSet, opts *analyze.Options) {
	fs.Float64Var(&opts.WindowDays, "window-days", opts.WindowDays, "trailing window of the per-day rates, in days")
	fs.Float64Var(&opts.SpikeSigma, "spike-sigma", opts.SpikeSigma, "exec_time_spike: slowest execution above mean + this many stddev")
	fs.Float64Var(&opts.MinSuccessRate, "min-success-rate", opts.MinSuccessRate, "low_success_rate: success rate below this (0..1)")
	fs.Float64Var(&opts.RegressionFactor, "regression-factor", opts.RegressionFactor, "exec_time_regression: latest execution above this x the trailing median")
	fs.IntVar(&opts.RegressionWindow, "regression-window", opts.RegressionWindow, "exec_time_regression: executions in the trailing median")
	fs.Float64Var(&opts.AvailableMemoryMB, "available-mb", opts.AvailableMemoryMB, "memory plan: memory available to a run, MB")
	fs.IntVar(&opts.Concurrency, "concurrent", opts.Concurrency, "memory plan: assets materialized at once")
	fs.Float64Var(&opts.PeakHours, "peak-hours", opts.PeakHours, "network plan: hours a day the transfer happens in")
	fs.Float64Var(&opts.RetentionDays, "retention-days", opts.RetentionDays, "inventory: days materializations are kept")
	fs.BoolVar(&opts.MultiNode, "multi-node", opts.MultiNode, "I/O manager matrix: steps run on several nodes")
	fs.Float64Var(&opts.ComputeUSDPerHour, "compute-usd-per-hour", opts.ComputeUSDPerHour, "compute cost: price of an hour of step time, USD")
}

// flagSet is the part of *flag.FlagSet the flag helpers use.
type flagSet interface {
	Float64Var(p *float64, name string, value float64, usage string)
	IntVar(p *int, name string, value int, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
}

func printAnalyzeSummary(w io.Writer, st analyze.Stats) {
	fmt.Fprintf(w, "analyze: %d assets (%d partitions), %d alerts (%d critical, %d warning) in %s\n",
		st.Assets, st.Partitions, st.Alerts, st.Critical, st.Warning, st.Elapsed.Round(time.Millisecond))
}
