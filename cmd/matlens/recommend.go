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
	"sort"
	"strings"
	"time"

	"github.com/matlens/matlens/analyze"
	"github.com/matlens/matlens/sql/duckfile"
	"github.com/matlens/matlens/tiering"
)

// tieringFlags declares --provider and --policies over the config.
func tieringFlags(fs interface {
	String(name, value, usage string) *string
}, cfg config) (provider, policies *string) {
	provider = fs.String("provider", cfg.Tiering.Provider, "cloud whose storage classes are priced: aws, gcp or azure")
	policies = fs.String("policies", "", "write ready-to-apply lifecycle policies for the moves that pay into this directory")
	return provider, policies
}

func cmdRecommend(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) (err error) {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("recommend", stderr)
	db, newLogger := commonFlags(fs, cfg, "the matlens DuckDB file analyze filled (default: config db or $MATLENS_DB)")
	provider, policies := tieringFlags(fs, cfg)
	lockWait := fs.Duration("lock-wait", time.Duration(cfg.Ingest.LockWait), "how long to wait for a DuckDB file another process holds")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *db == "" {
		return usagef("--db is required (the DuckDB file analyze filled)")
	}
	sheet, err := cfg.priceSheet()
	if err != nil {
		return err
	}
	topts, err := cfg.tieringOptionsFor(*provider, sheet)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr)
	if err != nil {
		return err
	}
	file, err := openStageFile(ctx, *db, duckfile.Options{LockWait: *lockWait}, "`matlens run` (or ingest and analyze)")
	if err != nil {
		return err
	}
	// Close checkpoints the file: its error is the run's error too.
	defer func() { err = errors.Join(err, file.Close()) }()
	return recommendStage(ctx, stdout, file.Conn(), sheet, topts, *policies, logger)
}

// recommendStage prices, writes tier_recommendations, prints the summary
// line and, when asked, the lifecycle policies.
func recommendStage(ctx context.Context, stdout io.Writer, conn *sql.Conn, sheet *tiering.PriceSheet, topts tiering.Options, policiesDir string, logger *slog.Logger) error {
	st, recs, err := analyze.Recommend(ctx, conn, sheet, topts, logger)
	if err != nil {
		// Its errors start with "recommend: ".
		return err
	}
	printRecommendSummary(stdout, topts.Provider, st, recs)
	if policiesDir == "" {
		return nil
	}
	files, err := tiering.LifecyclePolicies(sheet, recs, topts.Provider)
	if err != nil {
		// Its errors start with "lifecycle policies".
		return err
	}
	if err := os.MkdirAll(policiesDir, 0o755); err != nil {
		return fmt.Errorf("policies: %w", err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(policiesDir, name), files[name], 0o644); err != nil {
			return fmt.Errorf("policies: %w", err)
		}
	}
	fmt.Fprintf(stdout, "policies: %s written to %s\n", strings.Join(names, ", "), policiesDir)
	logger.Info("policies written", "dir", policiesDir, "files", len(names))
	return nil
}

func printRecommendSummary(w io.Writer, provider string, st analyze.RecommendStats, recs []tiering.Recommendation) {
	actions := map[string]int{}
	for _, r := range recs {
		actions[r.Action]++
	}
	fmt.Fprintf(w, "recommend: %d assets and partitions priced on %s: %d moves save $%.2f/month ($%.2f/year); %d stay, %d insufficient history, %d size unknown, %d partitioned assets summed from their partitions\n",
		st.Rows, provider, actions[tiering.ActionMove], st.SavingsUSDMonth, 12*st.SavingsUSDMonth,
		actions[tiering.ActionStay], actions[tiering.ActionInsufficientHistory], actions[tiering.ActionSizeUnknown],
		actions[tiering.ActionPerPartition])
}
