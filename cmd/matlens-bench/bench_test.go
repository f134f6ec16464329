package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
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
			bin, err := buildMatlens(ctx, io.Discard, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			args = append(args, "--matlens", bin)
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
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr, noEnv); code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, exitUsage, stderr.String())
		}
	}
}
