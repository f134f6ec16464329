package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/matlens/matlens/analyze"
)

// cmdRun is the nightly job: ingest -> objects -> analyze -> recommend on one open
// DuckDB file (which also keeps a second run from overlapping: DuckDB lets
// one process write the file). One summary line per stage.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) (err error) {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("run", stderr)
	f := addIngestCmdFlags(fs, cfg)
	provider, policies := tieringFlags(fs, cfg)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	sheet, err := cfg.priceSheet()
	if err != nil {
		return err
	}
	storage, err := cfg.storageSources()
	if err != nil {
		return err
	}
	aopts := cfg.analyzeOptions(sheet)
	if err := aopts.Validate(); err != nil {
		return usageError{"config analyze: " + err.Error()}
	}
	topts, err := cfg.tieringOptionsFor(*provider, sheet)
	if err != nil {
		return err
	}
	logger, err := f.newLogger(stderr)
	if err != nil {
		return err
	}
	file, ist, err := ingestStage(ctx, stdout, stderr, f.src, *f.db, opts, logger)
	if file != nil {
		// Close checkpoints the file: its error is the run's error too.
		defer func() { err = errors.Join(err, file.Close()) }()
	}
	if err != nil {
		return err
	}
	// A signal during ingest ends the run here, with what was committed.
	if err := ctx.Err(); err != nil {
		return err
	}
	// Object sources refresh after ingest has committed and before analyze
	// joins assets to them. A failed source is a partial failure, like
	// quarantined rows: it is logged, keeps its previous snapshot (the load
	// is atomic), analyze and recommend still run on what is there, and the
	// run exits non-zero at the end (exitSourceDown when the source could
	// not be reached, exitFailure otherwise) naming the source.
	var objErr error
	if len(storage) > 0 {
		objErr = objectsStage(ctx, stdout, stderr, file, storage, logger)
		if err := ctx.Err(); err != nil {
			return err
		}
		var of *objectsFailed
		if objErr != nil && !errors.As(objErr, &of) {
			return objErr
		}
	}
	ast, err := analyze.Run(ctx, file.Conn(), aopts, logger)
	if err != nil {
		return errors.Join(objErr, err)
	}
	printAnalyzeSummary(stdout, ast)
	if ast.Assets == 0 {
		fmt.Fprintln(stdout, "recommend: skipped, no assets yet")
	} else if err := recommendStage(ctx, stdout, file.Conn(), sheet, topts, *policies, logger); err != nil {
		return errors.Join(objErr, err)
	}
	return errors.Join(objErr, f.checkRejects(ist))
}
