package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
}

func TestAnalyzeBadFlagsExit2NamingTheFlag(t *testing.T) {
	t.Parallel()
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
	} {
		code, _, errs := callAnalyze(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.flag) {
			t.Errorf("analyze %v: exit %d, stderr %q; want exit 2 naming %s", c.args, code, errs, c.flag)
		}
	}
}
