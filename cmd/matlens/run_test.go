package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matlens/matlens/ingest"
	"github.com/matlens/matlens/sql/duckfile/duckfiletest"
)

// cliEnv makes the re-executed test binary act as the matlens binary, with
// the arguments it holds (separated by \x1f) and main's signal handling.
const cliEnv = "MATLENS_TEST_CLI_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(cliEnv); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, strings.Split(args, "\x1f"), os.Stdout, os.Stderr, os.Getenv)
		stop()
		os.Exit(code)
	}
	duckfiletest.ServeHold()
	os.Exit(m.Run())
}

func noEnv(string) string { return "" }

func runCLI(t *testing.T, getenv env, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, getenv)
	return code, out.String(), errb.String()
}

func compatDump(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "dagster-compat", "dagster-1.8.12-pg_dump.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("compat fixtures missing under CI: %v", err)
		}
		t.Skipf("compat fixtures not here: %v", err)
	}
	return p
}

// generatedDump writes a fixture deployment of the given size through
// `fixtures generate` and returns the dump's path.
func generatedDump(t *testing.T, assets, days int) string {
	t.Helper()
	dump := filepath.Join(t.TempDir(), "dump.sql")
	code, _, stderr := runCLI(t, noEnv, "fixtures", "generate", "--out", dump, "--assets", strconv.Itoa(assets), "--days", strconv.Itoa(days))
	if code != exitOK {
		t.Fatal(stderr)
	}
	return dump
}

func TestUsageErrorsNameTheProblem(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.duckdb")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"ingest", "--source", "x"}, exitUsage, "--db is required"},
		{[]string{"ingest", "--bogus", "--db", db}, exitUsage, "-bogus"},
		{[]string{"ingest", "--db", db}, exitUsage, "no source"},
		{[]string{"ingest", "--pg", "postgres://a@b/c", "--source", "f", "--db", db}, exitUsage, "not both"},
		{[]string{"ingest", "--source", "x", "--db", db, "--log-format", "xml"}, exitUsage, "--log-format"},
		{[]string{"ingest", "--source", filepath.Join(t.TempDir(), "missing.sql"), "--db", db}, exitSourceDown, "missing.sql"},
		{[]string{"ingest", "--pg", "postgres://u:hunter2pw@127.0.0.1:1/d?connect_timeout=2", "--db", db}, exitSourceDown, "127.0.0.1"},
		{[]string{"fixtures", "generate", "--out", filepath.Join(t.TempDir(), "f.sql"), "--assets", "0"}, exitUsage, "--assets"},
	} {
		code, _, stderr := runCLI(t, noEnv, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("matlens %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
		if strings.Contains(stderr, "hunter2pw") {
			t.Errorf("matlens %s printed the password: %s", strings.Join(tc.args, " "), stderr)
		}
	}
}

func TestIngestCompatDumpTwice(t *testing.T) {
	dump := compatDump(t)
	db := filepath.Join(t.TempDir(), "m.duckdb")
	code, out, stderr := runCLI(t, noEnv, "ingest", "--source", dump, "--db", db)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "8 rows read, 8 loaded, 0 rejected") {
		t.Errorf("summary %q: want the dump's 8 loadable rows", out)
	}
	code, out, stderr = runCLI(t, noEnv, "run", "--source", dump, "--db", db)
	if code != exitOK {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "0 loaded") || !strings.Contains(out, "watermark 18 -> 18") {
		t.Errorf("second run summary %q: want nothing new", out)
	}
}

func TestPGEnvironmentIsUsed(t *testing.T) {
	vars := map[string]string{"PGHOST": "127.0.0.1", "PGPORT": "1", "PGUSER": "dagster", "PGPASSWORD": "pw'with quote", "PGDATABASE": "dag"}
	getenv := func(k string) string { return vars[k] }
	code, _, stderr := runCLI(t, getenv, "ingest", "--db", filepath.Join(t.TempDir(), "m.duckdb"))
	if code != exitSourceDown {
		t.Fatalf("exit %d (%s), want %d: the PG* variables name an unreachable server", code, stderr, exitSourceDown)
	}
	if !strings.Contains(stderr, "dagster@127.0.0.1:1/dag") {
		t.Errorf("stderr %q does not name the server from PG*", stderr)
	}
	if strings.Contains(stderr, "quote") {
		t.Errorf("stderr shows the password: %s", stderr)
	}
}

func TestLockedDuckDBFileNamesTheHolder(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.duckdb")
	pid := duckfiletest.Hold(t, db, false)
	code, _, stderr := runCLI(t, noEnv, "ingest", "--source", compatDump(t), "--db", db, "--lock-wait", "500ms")
	if code != exitLocked {
		t.Fatalf("exit %d (%s), want %d", code, stderr, exitLocked)
	}
	if !strings.Contains(stderr, "PID "+strconv.Itoa(pid)) || !strings.Contains(stderr, "locked") {
		t.Errorf("stderr %q does not say the file is locked by PID %d", stderr, pid)
	}
}

func TestDemoRunsTwiceAndProtectsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "demo.duckdb")
	for i := range 2 {
		code, out, stderr := runCLI(t, noEnv, "demo", "--db", db)
		if code != exitOK {
			t.Fatalf("demo run %d: exit %d: %s", i+1, code, stderr)
		}
		// The demo rebuilds the file: both runs load everything afresh.
		if !strings.Contains(out, "0 rejected, 0 already loaded") || !strings.Contains(out, "watermark 0 ->") {
			t.Errorf("demo run %d did not load afresh:\n%s", i+1, out)
		}
		for _, want := range []string{"materializations", "step executions retried", "shared (multi-asset) step executions", "Next:"} {
			if !strings.Contains(out, want) {
				t.Errorf("demo output lacks %q:\n%s", want, out)
			}
		}
		// The demo file is one file to copy or share, with no log beside it.
		if fi, err := os.Stat(db + ".wal"); err == nil && fi.Size() > 0 {
			t.Errorf("demo run %d left a %d-byte write-ahead log", i+1, fi.Size())
		}
	}
	// A file loaded from a real source is never replaced by the demo.
	real := filepath.Join(dir, "real.duckdb")
	if code, _, stderr := runCLI(t, noEnv, "ingest", "--source", compatDump(t), "--db", real); code != exitOK {
		t.Fatalf("ingest: %s", stderr)
	}
	code, _, stderr := runCLI(t, noEnv, "demo", "--db", real)
	if code != exitUsage || !strings.Contains(stderr, "real source") {
		t.Errorf("demo over a real file: exit %d, %s", code, stderr)
	}
	// Nor is an analyst's own DuckDB file, nor something that is not DuckDB;
	// both are left byte for byte as they were.
	other := filepath.Join(dir, "analyst.duckdb")
	s, err := ingest.OpenStore(context.Background(), other, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Conn().ExecContext(context.Background(), "CREATE TABLE my_work AS SELECT 42 AS answer"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	notDuck := writeFile(t, dir, "notes.duckdb", "not a database")
	for _, p := range []string{other, notDuck} {
		before, _ := os.ReadFile(p)
		code, _, stderr := runCLI(t, noEnv, "demo", "--db", p)
		after, err := os.ReadFile(p)
		if code != exitUsage || err != nil || string(before) != string(after) {
			t.Errorf("demo over %s: exit %d (%s); file kept unchanged: %v", filepath.Base(p), code, stderr, err == nil && string(before) == string(after))
		}
	}
}

func TestRejectsAboveThresholdExitFive(t *testing.T) {
	excerpt := filepath.Join(filepath.Dir(compatDump(t)), "dagster-0.14.1-pg_dump-excerpt.txt")
	db := filepath.Join(t.TempDir(), "m.duckdb")
	code, out, stderr := runCLI(t, noEnv, "ingest", "--source", excerpt, "--db", db)
	if code != exitRejects || !strings.Contains(stderr, "2 rows quarantined") || !strings.Contains(out, "2 rejected") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d for the excerpt's 2 cut lines", code, out, stderr, exitRejects)
	}
	// Allowed: the same data passes with a threshold, and a re-run has no
	// new rejects at all.
	code, _, stderr = runCLI(t, noEnv, "ingest", "--source", excerpt, "--db", filepath.Join(t.TempDir(), "n.duckdb"), "--max-rejects", "2")
	if code != exitOK {
		t.Errorf("with --max-rejects 2: exit %d %s", code, stderr)
	}
	code, _, stderr = runCLI(t, noEnv, "ingest", "--source", excerpt, "--db", db)
	if code != exitOK {
		t.Errorf("re-run: exit %d %s", code, stderr)
	}
}

// TestSIGTERMStopsBetweenBatches: a terminated run exits 130, keeps what it
// committed, records itself as interrupted, and the next run finishes.
func TestSIGTERMStopsBetweenBatches(t *testing.T) {
	dump := generatedDump(t, 30, 40)
	db := filepath.Join(t.TempDir(), "m.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cliEnv+"="+strings.Join([]string{"ingest", "--source", dump, "--db", db, "--batch-rows", "300", "--log-level", "debug"}, "\x1f"))
	errOut, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(errOut)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("child ended before its first batch: %v", err)
		}
		if strings.Contains(line, "batch committed") {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d after SIGTERM, want %d; stderr: %s", code, exitInterrupted, rest)
	}
	s, err := ingest.OpenStore(context.Background(), db, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var status string
	var loaded int64
	err = s.Conn().QueryRowContext(context.Background(), "SELECT status, rows_loaded FROM ingest_runs ORDER BY ingest_run_id DESC LIMIT 1").Scan(&status, &loaded)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if status != "interrupted" || loaded == 0 {
		t.Logf("child stderr: %s", rest)
		t.Errorf("last ingest run: status %q with %d rows loaded; want interrupted with its committed batches", status, loaded)
	}
	code, out, stderr := runCLI(t, noEnv, "ingest", "--source", dump, "--db", db)
	if code != exitOK || strings.Contains(out, " 0 loaded") {
		t.Errorf("the next run: exit %d, %s %s", code, out, stderr)
	}
}

// TestHelpNeverShowsAConfiguredPassword: flag defaults are printed by -h,
// so a DSN from the environment or the config must not become one.
func TestHelpNeverShowsAConfiguredPassword(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "postgres://dagster:t0p-s3cret@db:5432/dagster", "PGPASSWORD": "t0p-s3cret", "PGHOST": "db"}
	getenv := func(k string) string { return vars[k] }
	for _, cmd := range []string{"run", "ingest", "demo", "analyze", "recommend", "report", "config", "prices"} {
		_, out, stderr := runCLI(t, getenv, cmd, "-h")
		if strings.Contains(out+stderr, "t0p-s3cret") {
			t.Errorf("matlens %s -h shows the password", cmd)
		}
	}
}
