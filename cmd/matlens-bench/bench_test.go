package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/matlens/matlens/ingest/ingesttest"
)

// The bench command against the test server, on a tiny fixture: every
// figure is reported, each cold run loads the whole fixture (none reuses a
// file an earlier bench left in --dir, nor rows an interrupted bench
// appended), and the incremental run starts from the cold file. --dir need
// not exist yet. The first pass times a matlens the bench builds itself,
// the second the one named by --matlens.
func TestBenchReportsEveryFigure(t *testing.T) {
	ingesttest.NewPostgres(t) // skips, or fails under CI, when no server is up
	admin := ingesttest.AdminDSN()
	const rows = 3001 // an odd size: no user's bench database has it
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS matlens_bench_3001 WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	dir := filepath.Join(t.TempDir(), "not", "yet") // bench creates a missing --dir
	var fetched string
	for pass := range 2 { // the second pass finds the first one's files in dir
		args := []string{"--pg", admin, "--rows", strconv.Itoa(rows), "--k", "2", "--dir", dir}
		if pass == 1 {
			// As a bench killed between its append and its clean-up leaves it.
			ctx := context.Background()
			dsn, err := benchDatabase(ctx, io.Discard, admin, rows)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := benchAppend(ctx, dsn, 100); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--matlens", testMatlens(t))
		}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, &stdout, &stderr, noEnv)
		out, errOut := stdout.String(), stderr.String()
		if code != 0 {
			t.Fatalf("pass %d: exit %d\n%s\n%s", pass, code, out, errOut)
		}
		for _, want := range []string{
			`limit \(COPY of the extraction query to a discard\): median \S+`,
			`cold / limit = [0-9.]+`,
			`cold / limit per round: median [0-9.]+  min [0-9.]+  max [0-9.]+`,
			`peak RSS of the cold run: median [1-9][0-9]* MB`,
			`incremental run after \+1% rows: median \S+ = [0-9.]+% of the cold run`,
		} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("pass %d: no %q in\n%s", pass, want, out)
			}
		}
		m := regexp.MustCompile(`\((\d+) rows of the types matlens reads\)`).FindStringSubmatch(out)
		if m == nil || m[1] == "0" {
			t.Fatalf("pass %d: the last cold run loaded nothing (it reused an earlier file?):\n%s", pass, out)
		}
		// The fetch reference reads the rows a cold run loads (the fixture
		// has no malformed events).
		f := regexp.MustCompile(`fetch \(the same query through matlens' reader\): +median \S+  min \S+  max \S+  \((\d+) rows, not decoded\)`).FindStringSubmatch(out)
		if f == nil || f[1] != m[1] {
			t.Errorf("pass %d: the fetch reference should read the %s rows the cold run loaded:\n%s", pass, m[1], out)
		}
		if !regexp.MustCompile(`cold / fetch = [0-9.]+`).MatchString(out) {
			t.Errorf("pass %d: no cold / fetch ratio in\n%s", pass, out)
		}
		if pass == 0 {
			fetched = m[1]
		} else if m[1] != fetched {
			t.Errorf("pass 1: cold runs loaded %s rows, pass 0 %s: rows appended by an interrupted bench were not removed", m[1], fetched)
		}
	}
}

func noEnv(string) string { return "" }

// A bad flag is a usage error, before any server or build is touched.
func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--pg", "postgres://x@127.0.0.1:1/x", "--k", "0"},
		{"--pg", "postgres://x@127.0.0.1:1/x", "--rows", "10"},
		{"--pg", "postgres://x@127.0.0.1:1/x", "extra"},
		{"--objects", "20000", "--assets", "5"},
		{"--objects", "400", "--assets", "100"}, // fewer than the 441 the assets need
		{"--objects", "20000", "--pg", "postgres://x@127.0.0.1:1/x"},
		{"--objects", "20000", "--rows", "2000"},
		{"--objects", "many"},
		{"--objects", "20000", "--k", "0"},
		{"--assets", "100"}, // sizes the --objects bench only
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr, noEnv); code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, exitUsage, stderr.String())
		}
	}
}

var (
	matlensOnce sync.Once
	matlensBin  string
	matlensErr  error
	matlensDir  string
)

// testMatlens is cmd/matlens built once for the package's tests (removed
// by TestMain).
func testMatlens(t testing.TB) string {
	t.Helper()
	matlensOnce.Do(func() {
		if matlensDir, matlensErr = os.MkdirTemp("", "matlens-bench-test-"); matlensErr == nil {
			matlensBin, matlensErr = buildMatlens(context.Background(), io.Discard, matlensDir)
		}
	})
	if matlensErr != nil {
		t.Fatal(matlensErr)
	}
	return matlensBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if matlensDir != "" {
		os.RemoveAll(matlensDir)
	}
	os.Exit(code)
}

// The object-store bench on 20,000 objects and 100 assets, twice: the
// first run generates the store and the inventory into --dir, the second
// reuses them; both check the results and print every figure. Then a
// generator's expectation that analyze cannot meet makes it fail.
func TestBenchObjects(t *testing.T) {
	bin := testMatlens(t)
	dir := filepath.Join(t.TempDir(), "bench")
	args := []string{"--objects", "20000", "--assets", "100", "--k", "1", "--dir", dir, "--matlens", bin}
	for pass := range 2 {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr, noEnv); code != exitOK {
			t.Fatalf("pass %d: exit %d\n%s\n%s", pass, code, stdout.String(), stderr.String())
		}
		out := stdout.String()
		if generated := strings.Contains(out, "bench: generated the store and inventory"); generated != (pass == 0) {
			t.Errorf("pass %d: generated = %v, want %v (the second pass reuses --dir)\n%s", pass, generated, pass == 0, out)
		}
		for _, want := range []string{
			`bench: 20000-object S3 Inventory \(CSV.gz, 1 files, \d+ MB\) of 100 assets \(10 partitioned, 20 directories\)`,
			`round 1: objects load \S+ \(peak RSS [1-9]\d* MB\), analyze \S+ \(peak RSS [1-9]\d* MB; without objects \S+, [1-9]\d* MB\); results as generated`,
			`objects load: +median \S+  min \S+  max \S+   peak RSS median [1-9]\d* MB, max [1-9]\d* MB`,
			`analyze: +median \S+  min \S+  max \S+   peak RSS median [1-9]\d* MB`,
			`no objects: +median \S+`,
			`peak RSS <= 256 MB \(issue 15\): objects load (not )?met \(max \d+ MB\), analyze (not )?met`,
		} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("pass %d: no %q in\n%s", pass, want, out)
			}
		}
	}

	marker := filepath.Join(dir, "objects-20000-100", "expected.json")
	body, err := os.ReadFile(marker)
	if err != nil {
		t.Fatal(err)
	}
	var exp objectsExpected
	if err := json.Unmarshal(body, &exp); err != nil {
		t.Fatal(err)
	}
	if exp.Objects != 20000 || exp.OrphanBytes == 0 || exp.NoncurrentBytes == 0 || len(exp.ClassBytes) < 3 {
		t.Fatalf("the generator planted too little to check: %+v", exp)
	}
	exp.OrphanBytes++
	if body, err = json.Marshal(exp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(marker, body, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr, noEnv); code != exitFailure {
		t.Fatalf("with a wrong expectation: exit %d, want %d\n%s", code, exitFailure, stderr.String())
	}
	if want := fmt.Sprintf("orphaned bytes: %d, generated %d", exp.OrphanBytes-1, exp.OrphanBytes); !strings.Contains(stderr.String(), want) {
		t.Errorf("the failure does not say %q:\n%s", want, stderr.String())
	}
}

// The smallest --objects the usage error suggests is accepted, and one
// fewer is not.
func TestObjectsPlanLeast(t *testing.T) {
	for _, assets := range []int{10, 100, 10_000} {
		_, err := newObjectsPlan(1, assets)
		m := regexp.MustCompile(`give at least (\d+)`).FindStringSubmatch(fmt.Sprint(err))
		if m == nil {
			t.Fatalf("assets %d: %v", assets, err)
		}
		least, _ := strconv.ParseInt(m[1], 10, 64)
		if _, err := newObjectsPlan(least, assets); err != nil {
			t.Errorf("assets %d: the suggested %d is refused: %v", assets, least, err)
		}
		if _, err := newObjectsPlan(least-1, assets); err == nil {
			t.Errorf("assets %d: %d objects, one fewer than suggested, is accepted", assets, least-1)
		}
	}
}
