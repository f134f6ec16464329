package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest"
)

func callAnalyze(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := cmdAnalyze(context.Background(), args, &out, &errb, func(string) string { return "" })
	return exitCode(err, &errb), out.String(), errb.String()
}

func TestAnalyzeCommand(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "m.duckdb")
	o := fixtures.DefaultOptions()
	o.Assets, o.Days, o.RunsPerDay, o.Seed = 12, 8, 2, 3
	pr, pw := io.Pipe()
	go func() {
		_, err := fixtures.WriteDump(ctx, pw, o)
		pw.CloseWithError(err)
	}()
	store, err := ingest.OpenStore(ctx, db, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(ctx, ingest.NewCopyReader(pr, "test"), store, ingest.DefaultOptions(), nil); err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, pr)
	store.Close()

	code, out, errs := callAnalyze(t, "--db", db, "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !regexp.MustCompile(`^analyze: \d+ assets \(\d+ partitions\), \d+ alerts \(\d+ critical, \d+ warning\) in \S+\n$`).MatchString(out) {
		t.Errorf("summary line %q", out)
	}
	code, _, errs = callAnalyze(t, "--db", db, "--as-of", "2026-01-05T00:00:00Z", "--log-level", "warn")
	if code != exitOK {
		t.Fatalf("--as-of: exit %d: %s", code, errs)
	}

	// analyze.duckdb_memory_limit reaches DuckDB: too small a pool fails
	// the run with the setting to raise, and publishes nothing.
	cfg := filepath.Join(t.TempDir(), "small.yaml")
	if err := os.WriteFile(cfg, []byte("analyze:\n  duckdb_memory_limit: 1MB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = callAnalyze(t, "--db", db, "--config", cfg, "--log-level", "warn")
	if code != exitFailure || !strings.Contains(errs, "analyze.duckdb_memory_limit 1MB: raise it") {
		t.Errorf("1MB pool: exit %d, stderr %q; want exit %d saying to raise analyze.duckdb_memory_limit", code, errs, exitFailure)
	}
	store, err = ingest.OpenStore(ctx, db, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var asOf time.Time
	if err := store.Conn().QueryRowContext(ctx, "SELECT max(as_of) FROM asset_stats").Scan(&asOf); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC); !asOf.Equal(want) {
		t.Errorf("asset_stats as_of %s after the failed run, want the earlier run's %s", asOf, want)
	}
}

func TestAnalyzeBadFlagsExit2NamingTheFlag(t *testing.T) {
	t.Parallel()
	badLimit := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badLimit, []byte("analyze:\n  duckdb_memory_limit: lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{}, "--db"},
		{[]string{"--db", "x.duckdb", "--as-of", "yesterday"}, "--as-of"},
		{[]string{"--db", "x.duckdb", "--window-days", "0"}, "--window-days"},
		{[]string{"--db", "x.duckdb", "--min-success-rate", "2"}, "--min-success-rate"},
		{[]string{"--db", "x.duckdb", "--regression-window", "0"}, "--regression-window"},
		{[]string{"--db", "x.duckdb", "--spike-sigma", "abc"}, "-spike-sigma"},
		{[]string{"--db", "x.duckdb", "--config", badLimit}, "analyze.duckdb_memory_limit"},
	} {
		code, _, errs := callAnalyze(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.flag) {
			t.Errorf("analyze %v: exit %d, stderr %q; want exit 2 naming %s", c.args, code, errs, c.flag)
		}
	}
}
