package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest"
)

// Exit codes, as matlens uses them for the same causes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitSourceDown  = 3
	exitInterrupted = 130
)

// usageError is a mistake in how the bench was called; it exits with
// exitUsage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// env is the injected environment lookup (os.Getenv in main, a map in tests).
type env func(string) string

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	err := bench(ctx, args, stdout, stderr, getenv)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintln(stderr, "matlens-bench:", err)
	var ue usageError
	var se *ingest.SourceError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &se):
		return exitSourceDown
	}
	return exitFailure
}

// bench measures a cold `matlens run` against PostgreSQL's own read limit
// on the same data, alternating the two so both see the same machine
// state, then an incremental run after appending 1% new rows.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs := flag.NewFlagSet("matlens-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("config", "", "the YAML configuration file (accepted for uniformity with matlens; the bench reads nothing from it)")
	pg := fs.String("pg", "", "a PostgreSQL server DSN; bench creates or reuses databases matlens_bench_<rows> on it")
	rowsList := fs.String("rows", "2000000", "fixture sizes in event rows, comma separated (e.g. 200000,2000000)")
	k := fs.Int("k", 5, "repetitions of each measurement")
	workDir := fs.String("dir", "", "directory for the DuckDB files (default: a temporary one)")
	matlens := fs.String("matlens", "", "the matlens binary to time (default: built from this module's cmd/matlens, so the figures are the checked-out code's)")
	objectCount := fs.Int64("objects", 0, "instead of matlens run, time matlens objects load of a generated S3 Inventory of this many objects and matlens analyze joining it to --assets assets (no PostgreSQL)")
	assets := fs.Int("assets", 10_000, "with --objects: the assets of the synthetic store")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *k < 1 {
		return usagef("--k must be >= 1")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var plan objectsPlan
	if set["objects"] {
		if set["pg"] || set["rows"] {
			return usagef("--objects times the object store alone, from files: drop --pg and --rows")
		}
		var err error
		if plan, err = newObjectsPlan(*objectCount, *assets); err != nil {
			return usageError{err.Error()}
		}
	} else if set["assets"] {
		return usagef("--assets sizes the --objects bench; give --objects too")
	}
	var sizes []int64
	if !set["objects"] {
		if *pg == "" {
			*pg = getenv("DATABASE_URL")
		}
		if *pg == "" {
			return usagef("--pg is required: a PostgreSQL server bench may create databases on")
		}
		for _, f := range strings.Split(*rowsList, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil || n < 1000 {
				return usagef("--rows: %q is not a size of at least 1000 rows", f)
			}
			sizes = append(sizes, n)
		}
	}
	bin := *matlens
	if bin == "" {
		binDir, err := os.MkdirTemp("", "matlens-bench-bin-")
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(binDir)
		if bin, err = buildMatlens(ctx, stderr, binDir); err != nil {
			return err
		}
	}
	dir := *workDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "matlens-bench-"); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		// A --dir that does not exist yet is created, as a user naming a
		// scratch directory expects, rather than failing in the first run.
		return fmt.Errorf("bench: --dir: %w", err)
	}
	if set["objects"] {
		return benchObjects(ctx, stdout, bin, dir, plan, *k)
	}
	for _, n := range sizes {
		if err := benchSize(ctx, stdout, bin, *pg, dir, n, *k); err != nil {
			return err
		}
	}
	return nil
}

// matlensPackage is the command the bench times when no --matlens is given.
const matlensPackage = "github.com/matlens/matlens/cmd/matlens"

// buildMatlens builds cmd/matlens into dir with the go tool, from the
// module the bench is started in, and returns the binary's path.
func buildMatlens(ctx context.Context, stderr io.Writer, dir string) (string, error) {
	bin := filepath.Join(dir, "matlens")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, matlensPackage)
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("bench: go build %s: %w (run the bench inside the matlens module, or pass --matlens)", matlensPackage, err)
	}
	return bin, nil
}

func benchSize(ctx context.Context, stdout io.Writer, bin, serverDSN, dir string, rows int64, k int) error {
	dsn, err := benchDatabase(ctx, stdout, serverDSN, rows)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bench: %d-row fixture in %s\n", rows, ingest.RedactDSN(dsn))
	// Rows an earlier bench appended and did not remove (it was killed
	// first) would make the cold runs load 1% more than the fixture.
	if err := removeLeftovers(ctx, dsn); err != nil {
		return err
	}

	var limits, fetches, colds []time.Duration
	var rss []int64
	var loaded, fetched int64
	var lastCold string
	for i := range k {
		d, err := benchLimit(ctx, dsn)
		if err != nil {
			return err
		}
		limits = append(limits, d)
		f, n, err := benchFetch(ctx, dsn)
		if err != nil {
			return err
		}
		fetches = append(fetches, f)
		fetched = n
		lastCold = filepath.Join(dir, fmt.Sprintf("cold-%d-%d.duckdb", rows, i))
		// A file left by an earlier bench in the same --dir would make this
		// run incremental, not cold.
		for _, f := range []string{lastCold, lastCold + ".wal"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("bench: %w", err)
			}
		}
		res, err := benchRun(ctx, bin, dsn, lastCold)
		if err != nil {
			return err
		}
		colds = append(colds, res.wall)
		rss = append(rss, res.maxRSSKB)
		loaded = res.loaded
		fmt.Fprintf(stdout, "  round %d: limit %s, fetch %s, cold run %s, peak RSS %d MB\n", i+1, d.Round(time.Millisecond), f.Round(time.Millisecond), res.wall.Round(time.Millisecond), res.maxRSSKB/1024)
		if i < k-1 {
			_ = os.Remove(lastCold)
			_ = os.Remove(lastCold + ".wal")
		}
	}

	// Incremental: append 1% rows once, then time runs that each start from
	// a copy of the same cold file.
	restore, err := benchAppend(ctx, dsn, rows/100)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := restore(); rerr != nil {
			fmt.Fprintln(stdout, "bench: could not remove the appended rows:", rerr)
		}
	}()
	var incs []time.Duration
	for i := range k {
		inc := filepath.Join(dir, fmt.Sprintf("inc-%d-%d.duckdb", rows, i))
		if err := copyDuckDB(lastCold, inc); err != nil {
			return err
		}
		res, err := benchRun(ctx, bin, dsn, inc)
		if err != nil {
			return err
		}
		incs = append(incs, res.wall)
		_ = os.Remove(inc)
		_ = os.Remove(inc + ".wal")
	}

	lm, cm, im := median(limits), median(colds), median(incs)
	fmt.Fprintf(stdout, "  limit (COPY of the extraction query to a discard): median %s  min %s  max %s\n", lm.Round(time.Millisecond), slices.Min(limits).Round(time.Millisecond), slices.Max(limits).Round(time.Millisecond))
	fm := median(fetches)
	fmt.Fprintf(stdout, "  fetch (the same query through matlens' reader):    median %s  min %s  max %s  (%d rows, not decoded)\n", fm.Round(time.Millisecond), slices.Min(fetches).Round(time.Millisecond), slices.Max(fetches).Round(time.Millisecond), fetched)
	fmt.Fprintf(stdout, "  cold matlens run:                                  median %s  min %s  max %s\n", cm.Round(time.Millisecond), slices.Min(colds).Round(time.Millisecond), slices.Max(colds).Round(time.Millisecond))
	// Each round's limit and cold run follow each other, so a slow spell of
	// the machine slows both: the median of the rounds' own ratios is the
	// steadier figure on a noisy host.
	ratios := make([]time.Duration, k)
	for i := range k {
		ratios[i] = time.Duration(float64(time.Second) * colds[i].Seconds() / limits[i].Seconds())
	}
	fmt.Fprintf(stdout, "  cold / limit = %.2f   %.0f event rows/s (%d rows of the types matlens reads)\n", cm.Seconds()/lm.Seconds(), float64(rows)/cm.Seconds(), loaded)
	fmt.Fprintf(stdout, "  cold / limit per round: median %.2f  min %.2f  max %.2f\n", median(ratios).Seconds(), slices.Min(ratios).Seconds(), slices.Max(ratios).Seconds())
	fmt.Fprintf(stdout, "  cold / fetch = %.2f\n", cm.Seconds()/fm.Seconds())
	fmt.Fprintf(stdout, "  peak RSS of the cold run: median %d MB, max %d MB\n", medianInt(rss)/1024, slices.Max(rss)/1024)
	fmt.Fprintf(stdout, "  incremental run after +1%% rows: median %s = %.1f%% of the cold run\n", im.Round(time.Millisecond), 100*im.Seconds()/cm.Seconds())
	return nil
}

// benchDatabase returns the DSN of matlens_bench_<rows> on the server,
// generating the fixture into it unless it is already there. Bench only
// ever writes to databases it created.
func benchDatabase(ctx context.Context, stdout io.Writer, serverDSN string, rows int64) (string, error) {
	cfg, err := pgx.ParseConfig(serverDSN)
	if err != nil {
		return "", usagef("--pg: %s", ingest.RedactDSN(err.Error()))
	}
	name := fmt.Sprintf("matlens_bench_%d", rows)
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", &ingest.SourceError{Op: "bench: connect", Err: err}
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	dbCfg := cfg.Copy()
	dbCfg.Database = name
	dsn := dbCfg.ConnString()
	if dsn == "" || !strings.Contains(dsn, name) {
		dsn = fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, name)
		if cfg.Password != "" {
			dsn = fmt.Sprintf("postgres://%s:%s@%s:%d/%s", cfg.User, cfg.Password, cfg.Host, cfg.Port, name)
		}
	}
	if exists {
		conn, err := pgx.ConnectConfig(ctx, dbCfg)
		if err != nil {
			return "", &ingest.SourceError{Op: "bench: connect", Err: err}
		}
		defer conn.Close(ctx)
		var n int64
		err = conn.QueryRow(ctx, "SELECT (expected->>'rows')::bigint FROM matlens_fixture_expected ORDER BY id LIMIT 1").Scan(&n)
		if err == nil {
			return dsn, nil
		}
		return "", fmt.Errorf("bench: database %s exists but holds no matlens fixture (%v); drop it or use another server", name, err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	o := fixtures.DefaultOptions()
	o.Rows = rows
	start := time.Now()
	if _, err := fixtures.LoadPostgres(ctx, dsn, o); err != nil {
		return "", fmt.Errorf("bench: generate fixture: %w", err)
	}
	fmt.Fprintf(stdout, "bench: generated %s in %s\n", name, time.Since(start).Round(time.Second))
	return dsn, nil
}

// benchLimit times COPY (extraction query) TO STDOUT into a discard, in the
// same read-only transaction shape a run uses.
func benchLimit(ctx context.Context, dsn string) (time.Duration, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, &ingest.SourceError{Op: "bench: connect", Err: err}
	}
	defer conn.Close(ctx)
	start := time.Now()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := conn.PgConn().CopyTo(ctx, io.Discard, "COPY ("+ingest.ExtractionSQL(0)+") TO STDOUT"); err != nil {
		return 0, fmt.Errorf("bench: limit query: %w", err)
	}
	return time.Since(start), nil
}

// benchFetch times what matlens' reader receives from PostgreSQL: the
// extraction query through the source a run uses, with nothing done with
// the rows. It is a second reference beside the limit: PostgreSQL sends
// rows over the query protocol with less work than it formats them as
// COPY text, so on some data this is faster than the limit (see
// docs/performance.md).
func benchFetch(ctx context.Context, dsn string) (time.Duration, int64, error) {
	src, err := ingest.NewPostgresSource(dsn)
	if err != nil {
		return 0, 0, usagef("--pg: %s", err)
	}
	var n int64
	start := time.Now()
	err = src.Read(ctx, ingest.Query{Types: ingest.LoadedTypes()}, func(*ingest.Row) error {
		n++
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("bench: fetch: %w", err)
	}
	return time.Since(start), n, nil
}

type runResult struct {
	wall     time.Duration
	maxRSSKB int64
	loaded   int64
}

// benchRun runs `matlens run` as a child process and reads its peak RSS
// from the kernel's rusage.
func benchRun(ctx context.Context, bin, dsn, db string) (runResult, error) {
	res, out, err := timeMatlens(ctx, bin, "run", "--pg", dsn, "--db", db, "--log-level", "warn")
	if err != nil {
		return runResult{}, err
	}
	if _, after, ok := strings.Cut(out, "rows read, "); ok {
		fmt.Sscanf(after, "%d loaded", &res.loaded)
	}
	return res, nil
}

// timeMatlens runs bin with args as a child process, timing it and reading
// its peak RSS from the kernel's rusage; it returns what the child wrote
// (stdout and stderr together). args[0] is the subcommand, which names a
// failure.
func timeMatlens(ctx context.Context, bin string, args ...string) (runResult, string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return runResult{}, "", fmt.Errorf("bench: matlens %s: %w\n%s", args[0], err, ingest.RedactDSN(out.String()))
	}
	res := runResult{wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSSKB = ru.Maxrss
	}
	return res, out.String(), nil
}

// benchAppend adds about n rows after the fixture, as the next day's runs
// would, and returns a function that removes them again.
func benchAppend(ctx context.Context, dsn string, n int64) (func() error, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, &ingest.SourceError{Op: "bench: connect", Err: err}
	}
	defer conn.Close(ctx)
	maxID, err := fixtureMaxID(ctx, conn)
	if err != nil {
		return nil, err
	}
	restore := func() error { return removeAppended(dsn, maxID) }
	var last time.Time
	if err := conn.QueryRow(ctx, `SELECT max("timestamp") FROM event_logs`).Scan(&last); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	o := fixtures.DefaultOptions()
	o.Rows = max(n, 1000)
	o.Days = 1
	o.IDStart = maxID + 1
	o.Seed = 2
	o.Start = time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, time.UTC)
	if _, err := fixtures.LoadPostgres(ctx, dsn, o); err != nil {
		return nil, fmt.Errorf("bench: append: %w", err)
	}
	return restore, nil
}

// fixtureMaxID is the fixture's own last id, not max(id): an earlier bench
// killed before it cleaned up may have left appended rows behind.
func fixtureMaxID(ctx context.Context, conn *pgx.Conn) (int64, error) {
	var maxID int64
	if err := conn.QueryRow(ctx, "SELECT (expected->>'max_event_id')::bigint FROM matlens_fixture_expected ORDER BY id LIMIT 1").Scan(&maxID); err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	return maxID, nil
}

// removeLeftovers removes rows an earlier, interrupted bench appended.
func removeLeftovers(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return &ingest.SourceError{Op: "bench: connect", Err: err}
	}
	defer conn.Close(ctx)
	maxID, err := fixtureMaxID(ctx, conn)
	if err != nil {
		return err
	}
	if err := removeAppended(dsn, maxID); err != nil {
		return fmt.Errorf("bench: clean up an earlier append: %w", err)
	}
	return nil
}

// removeAppended deletes what benchAppend added after the fixture's last
// id, so the fixture can be reused as it was generated.
func removeAppended(dsn string, maxID int64) error {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	for _, q := range []string{
		"DELETE FROM event_logs WHERE id > $1",
		"DELETE FROM run_tags WHERE run_id NOT IN (SELECT DISTINCT run_id FROM event_logs WHERE run_id IS NOT NULL)",
		"DELETE FROM runs WHERE run_id NOT IN (SELECT DISTINCT run_id FROM event_logs WHERE run_id IS NOT NULL)",
		"DELETE FROM matlens_fixture_expected WHERE id <> (SELECT min(id) FROM matlens_fixture_expected)",
		"SELECT setval('event_logs_id_seq', $1)",
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, maxID)
		}
		if _, err := c.Exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// copyDuckDB copies a DuckDB file and its write-ahead log, when it has one
// (matlens leaves small logs for a later run to fold in).
func copyDuckDB(from, to string) error {
	if err := copyFile(from, to); err != nil {
		return err
	}
	err := copyFile(from+".wal", to+".wal")
	if errors.Is(err, fs.ErrNotExist) {
		// A log left at the destination by an earlier copy is not this file's.
		if err := os.Remove(to + ".wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("bench: %w", err)
		}
		return nil
	}
	return err
}

func copyFile(from, to string) (err error) {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer func() { err = errors.Join(err, out.Close()) }()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianInt(xs []int64) int64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
