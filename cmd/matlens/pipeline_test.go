package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest"
	"github.com/matlens/matlens/ingest/ingesttest"
)

// derivedDigests renders the stage outputs so two runs can be compared.
func derivedDigests(t *testing.T, db string) map[string]string {
	t.Helper()
	s, err := ingest.OpenStore(context.Background(), db, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := map[string]string{}
	for _, tbl := range []string{
		"materializations", "asset_reads", "step_executions", "runs",
		"asset_stats", "asset_stats_history", "alerts", "alerts_history", "capacity_plan",
		"tier_recommendations", "tier_recommendations_history", "tier_savings_summary",
	} {
		var d string
		q := fmt.Sprintf("SELECT count(*)::VARCHAR || ':' || coalesce(md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR))), '') FROM %s t", tbl)
		if err := s.Conn().QueryRowContext(context.Background(), q).Scan(&d); err != nil {
			t.Fatalf("digest %s: %v", tbl, err)
		}
		out[tbl] = d
	}
	return out
}

// TestRunTwiceAgainstPostgresGivesTheSameTables: the nightly job over a
// fixture PostgreSQL, twice: every stage reports, the second run loads
// nothing and leaves every table as it was (histories are not doubled).
func TestRunTwiceAgainstPostgresGivesTheSameTables(t *testing.T) {
	dsn := ingesttest.NewPostgres(t)
	o := fixtures.DefaultOptions()
	o.Assets, o.Days = 20, 40
	if _, err := fixtures.LoadPostgres(context.Background(), dsn, o); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "m.duckdb")
	code, out, stderr := runCLI(t, noEnv, "run", "--pg", dsn, "--db", db, "--policies", filepath.Join(dir, "policies"))
	if code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"ingest: ", "analyze: ", "recommend: ", "priced on aws", "policies: "} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "policies", "s3-lifecycle.json")); err != nil {
		t.Errorf("no S3 lifecycle policy: %v", err)
	}
	first := derivedDigests(t, db)
	for tbl, d := range first {
		if strings.HasPrefix(d, "0:") && tbl != "alerts" && tbl != "alerts_history" {
			t.Errorf("%s is empty after a run", tbl)
		}
	}
	code, out, stderr = runCLI(t, noEnv, "run", "--pg", dsn, "--db", db)
	if code != exitOK {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, " 0 loaded") {
		t.Errorf("second run loaded rows:\n%s", out)
	}
	second := derivedDigests(t, db)
	for tbl := range first {
		if first[tbl] != second[tbl] {
			t.Errorf("%s changed on the second run: %s -> %s", tbl, first[tbl], second[tbl])
		}
	}
}

func TestRecommendOtherProviders(t *testing.T) {
	dump := generatedDump(t, 12, 45)
	dir := t.TempDir()
	db := filepath.Join(dir, "m.duckdb")
	if code, _, stderr := runCLI(t, noEnv, "run", "--source", dump, "--db", db); code != exitOK {
		t.Fatal(stderr)
	}
	for provider, file := range map[string]string{"gcp": "gcs-lifecycle.json", "azure": "azure-management-policy.json"} {
		pol := filepath.Join(dir, "pol-"+provider)
		code, out, stderr := runCLI(t, noEnv, "recommend", "--db", db, "--provider", provider, "--policies", pol)
		if code != exitOK || !strings.Contains(out, "priced on "+provider) {
			t.Errorf("recommend --provider %s: exit %d %s %s", provider, code, out, stderr)
			continue
		}
		if _, err := os.Stat(filepath.Join(pol, file)); err != nil {
			t.Errorf("%s: %v", provider, err)
		}
	}
	// The stage's own log lines reach the chosen level: the command used to
	// hand recommend no logger, so --log-level debug showed none of them.
	code, _, stderr := runCLI(t, noEnv, "recommend", "--db", db, "--log-level", "debug")
	if code != exitOK || !strings.Contains(stderr, `msg="recommend phase finished" stage=recommend phase=insert`) ||
		!strings.Contains(stderr, `msg="recommend finished"`) {
		t.Errorf("recommend --log-level debug: exit %d, want its phase and summary lines in:\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, noEnv, "recommend", "--db", db, "--provider", "oracle")
	if code != exitUsage || !strings.Contains(stderr, `"oracle"`) {
		t.Errorf("unknown provider: exit %d %s", code, stderr)
	}
}
