package ingest_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/jackc/pgx/v5"

	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest"
	"github.com/matlens/matlens/ingest/ingesttest"
)

// smallFixture12Days is analyze's smallFixture with 12 days instead of 20:
// ingest checks the load, not windowed statistics, so fewer days suffice.
func smallFixture12Days() fixtures.Options {
	return fixtures.SmallDeployment(12)
}

// fixtureSource loads a generated deployment into a fresh PostgreSQL
// database and returns its DSN, a source reading it, and the answers.
func fixtureSource(t *testing.T, o fixtures.Options) (string, *ingest.PostgresSource, *fixtures.Expected) {
	t.Helper()
	dsn := ingesttest.NewPostgres(t)
	exp, err := fixtures.LoadPostgres(context.Background(), dsn, o)
	if err != nil {
		t.Fatal(err)
	}
	src, err := ingest.NewPostgresSource(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return dsn, src, exp
}

// ingestOnce opens the DuckDB file, runs the stage and closes the file,
// checking that every Arrow allocation was released.
func ingestOnce(t *testing.T, src ingest.Source, dbPath string, mutate func(*ingest.Options)) ingest.Stats {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts := ingest.DefaultOptions()
	opts.Allocator = mem
	if mutate != nil {
		mutate(&opts)
	}
	ctx := context.Background()
	store, err := ingest.OpenStore(ctx, dbPath, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	}()
	st, err := ingest.Run(ctx, src, store, opts, nil)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return st
}

func openDuck(t *testing.T, path string) *ingest.Store {
	t.Helper()
	s, err := ingest.OpenStore(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func queryInt(t *testing.T, conn *sql.Conn, q string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := conn.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}

// factTables are compared between runs; bookkeeping tables (ingest_runs,
// ingest_state) legitimately differ in times and run numbers.
var factTables = []string{
	"materializations", "observations", "materialization_planned", "handled_outputs",
	"asset_reads", "step_events", "run_events", "step_executions", "runs", "materialization_exec",
}

// sameTables reports every fact and derived table whose digest differs
// from the reference's (named by what it is, for the message).
func sameTables(t *testing.T, got, want map[string]string, reference string) {
	t.Helper()
	for _, tbl := range factTables {
		if got[tbl] != want[tbl] {
			t.Errorf("%s differs from %s: %s, want %s", tbl, reference, got[tbl], want[tbl])
		}
	}
}

// tableDigests renders every fact table to a sorted digest so two files can
// be compared exactly, whatever their physical order.
func tableDigests(t *testing.T, path string) map[string]string {
	t.Helper()
	s, err := ingest.OpenStore(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out := map[string]string{}
	for _, tbl := range append(slices.Clone(factTables), "rejected_events") {
		q := fmt.Sprintf("SELECT count(*)::VARCHAR || ':' || coalesce(md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR))), '') FROM %s t", tbl)
		if tbl == "rejected_events" {
			q = "SELECT count(*)::VARCHAR || ':' || coalesce(md5(string_agg(reject_key || reason, chr(10) ORDER BY reject_key)), '') FROM rejected_events"
		}
		var d string
		if err := s.Conn().QueryRowContext(context.Background(), q).Scan(&d); err != nil {
			t.Fatalf("digest %s: %v", tbl, err)
		}
		out[tbl] = d
	}
	return out
}

func TestIngestPostgresMatchesGeneratorAnswers(t *testing.T) {
	ctx := context.Background()
	dsn, src, exp := fixtureSource(t, smallFixture12Days())
	dbPath := filepath.Join(t.TempDir(), "m.duckdb")
	// Small batches so the answers also hold across batch boundaries.
	st := ingestOnce(t, src, dbPath, func(o *ingest.Options) { o.BatchRows, o.DeriveEveryRows = 997, 1500 })
	if st.RowsRejected != 0 {
		t.Errorf("rejected %d rows of generated data", st.RowsRejected)
	}
	if st.Batches < 2 {
		t.Errorf("want several batches, got %d", st.Batches)
	}
	// The watermark is the highest id of the types matlens reads (trailing
	// noise events are never fetched).
	pg, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var maxLoadable int64
	if err := pg.QueryRow(ctx, "SELECT max(id) FROM event_logs WHERE dagster_event_type = ANY($1)", ingest.LoadedTypes()).Scan(&maxLoadable); err != nil {
		t.Fatal(err)
	}
	pg.Close(ctx)
	if st.WatermarkAfter != maxLoadable || maxLoadable > exp.MaxEventID {
		t.Errorf("watermark = %d, want %d (max event id %d)", st.WatermarkAfter, maxLoadable, exp.MaxEventID)
	}

	s := openDuck(t, dbPath)
	c := s.Conn()
	var loadedTypes int64
	for typ, n := range exp.EventsByType {
		if ingest.KindOf(typ) == ingest.KindOther {
			continue
		}
		loadedTypes += n
	}
	if st.RowsLoaded != loadedTypes || st.RowsRead != loadedTypes {
		t.Errorf("read %d loaded %d rows, want %d (the rows of the types matlens uses)", st.RowsRead, st.RowsLoaded, loadedTypes)
	}
	for _, tc := range []struct {
		q    string
		want int64
	}{
		{"SELECT count(*) FROM materializations", exp.EventsByType["ASSET_MATERIALIZATION"]},
		{"SELECT count(*) FROM observations", exp.EventsByType["ASSET_OBSERVATION"]},
		{"SELECT count(*) FROM materialization_planned", exp.EventsByType["ASSET_MATERIALIZATION_PLANNED"]},
		{"SELECT count(*) FROM handled_outputs", exp.EventsByType["HANDLED_OUTPUT"]},
		{"SELECT count(*) FROM asset_reads", exp.ReadsTotal},
		{"SELECT count(*) FROM asset_reads WHERE resolution = 'same_run'", exp.ReadsSameRun},
		{"SELECT count(*) FROM asset_reads WHERE resolution = 'cross_run'", exp.ReadsCrossRun},
		{"SELECT count(*) FROM asset_reads WHERE resolution = 'unresolved'", exp.ReadsUnresolved},
		{"SELECT count(*) FROM runs", exp.Runs},
	} {
		if got := queryInt(t, c, tc.q); got != tc.want {
			t.Errorf("%s = %d, want %d", tc.q, got, tc.want)
		}
	}
	for status, want := range exp.RunsByStatus {
		if got := queryInt(t, c, "SELECT count(*) FROM runs WHERE status = $1", strings.ToLower(status)); got != want {
			t.Errorf("runs with status %s = %d, want %d", status, got, want)
		}
	}
	for status, want := range exp.StepExecutionsByStatus {
		if got := queryInt(t, c, "SELECT count(*) FROM step_executions WHERE status = $1", status); got != want {
			t.Errorf("step executions %s = %d, want %d", status, got, want)
		}
	}
	for key, a := range exp.Assets {
		q := func(sql string) int64 { return queryInt(t, c, sql, key) }
		if got := q("SELECT count(*) FROM materializations WHERE asset_key = $1"); got != a.Materializations {
			t.Errorf("%s: materializations = %d, want %d", key, got, a.Materializations)
		}
		if got := q("SELECT count(*) FROM observations WHERE asset_key = $1"); got != a.Observations {
			t.Errorf("%s: observations = %d, want %d", key, got, a.Observations)
		}
		if got := q("SELECT count(*) FROM asset_reads WHERE asset_key = $1 AND resolution = 'same_run'"); got != a.ReadsSameRun {
			t.Errorf("%s: same-run reads = %d, want %d", key, got, a.ReadsSameRun)
		}
		if got := q("SELECT count(*) FROM asset_reads WHERE asset_key = $1 AND resolution = 'cross_run'"); got != a.ReadsCrossRun {
			t.Errorf("%s: cross-run reads = %d, want %d", key, got, a.ReadsCrossRun)
		}
		if got := q("SELECT count(DISTINCT partition) FROM materializations WHERE asset_key = $1"); got != int64(a.Partitions) {
			t.Errorf("%s: partitions = %d, want %d", key, got, a.Partitions)
		}
		sized := q("SELECT count(size_bytes) FROM materializations WHERE asset_key = $1")
		if a.SizeKnown != (sized > 0) {
			t.Errorf("%s: size known = %v, but %d materializations carry a size", key, a.SizeKnown, sized)
		}
		if got := q("SELECT coalesce(sum(size_bytes), 0) FROM materializations WHERE asset_key = $1"); got != a.SizeBytesTotal {
			t.Errorf("%s: bytes = %d, want %d", key, got, a.SizeBytesTotal)
		}
		if got := q("SELECT count(*) FROM step_executions WHERE list_contains(asset_keys, $1) AND status = 'failure'"); got != a.Failures {
			t.Errorf("%s: failed step executions = %d, want %d", key, got, a.Failures)
		}
		shared := q("SELECT count(*) FROM step_executions WHERE list_contains(asset_keys, $1) AND shared_step")
		if a.SharedStep != (shared > 0) {
			t.Errorf("%s: shared step = %v, but %d shared executions", key, a.SharedStep, shared)
		}
	}
	if n := queryInt(t, c, "SELECT count(*) - count(DISTINCT (run_id, step_key, attempt)) FROM step_executions"); n != 0 {
		t.Errorf("%d duplicate step executions", n)
	}
	if n := queryInt(t, c, "SELECT count(*) - count(DISTINCT run_id) FROM runs"); n != 0 {
		t.Errorf("%d duplicate runs", n)
	}
	if n := queryInt(t, c, "SELECT count(*) FROM materializations WHERE size_bytes = 0"); n != 0 {
		t.Errorf("%d materializations claim 0 bytes; unknown sizes must be NULL", n)
	}

	// A second run over unchanged data loads nothing and changes no table.
	before := tableDigests(t, dbPath)
	s.Close()
	st2 := ingestOnce(t, src, dbPath, nil)
	if st2.RowsLoaded != 0 || st2.WatermarkAfter != st.WatermarkAfter {
		t.Errorf("second run loaded %d rows, watermark %d -> %d", st2.RowsLoaded, st2.WatermarkBefore, st2.WatermarkAfter)
	}
	if after := tableDigests(t, dbPath); !mapsEqual(before, after) {
		t.Errorf("second run changed tables:\nbefore %v\nafter  %v", before, after)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestIngestFileSourceEqualsPostgres: the same deployment read from a dump
// file and from PostgreSQL gives identical fact tables.
func TestIngestFileSourceEqualsPostgres(t *testing.T) {
	dsn := ingesttest.NewPostgres(t)
	ctx := context.Background()
	o := smallFixture12Days()
	if _, err := fixtures.LoadPostgres(ctx, dsn, o); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dump := filepath.Join(dir, "dump.sql")
	f, err := os.Create(dump)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if _, err := fixtures.WriteDump(ctx, w, o); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	pgSrc, err := ingest.NewPostgresSource(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ingestOnce(t, pgSrc, filepath.Join(dir, "pg.duckdb"), nil)
	ingestOnce(t, ingest.NewFileSource(dump), filepath.Join(dir, "file.duckdb"), nil)
	a, b := tableDigests(t, filepath.Join(dir, "pg.duckdb")), tableDigests(t, filepath.Join(dir, "file.duckdb"))
	if !mapsEqual(a, b) {
		t.Errorf("file and postgres sources differ:\npg   %v\nfile %v", a, b)
	}
}

// TestIngestLateCommit: a row whose id was taken before a higher id, but
// that commits after the higher one was read, is loaded by the next run.
func TestIngestLateCommit(t *testing.T) {
	dsn := ingesttest.NewPostgres(t)
	ctx := context.Background()
	o := smallFixture12Days()
	o.Days = 2
	if _, err := fixtures.LoadPostgres(ctx, dsn, o); err != nil {
		t.Fatal(err)
	}
	slow, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close(ctx)
	fast, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close(ctx)

	// Copy a real materialization row and its shape for both inserts.
	var runID, event, stepKey, assetKey string
	if err := fast.QueryRow(ctx, `SELECT run_id, event, step_key, asset_key FROM event_logs
		WHERE dagster_event_type = 'ASSET_MATERIALIZATION' ORDER BY id LIMIT 1`).Scan(&runID, &event, &stepKey, &assetKey); err != nil {
		t.Fatal(err)
	}
	insert := `INSERT INTO event_logs (id, run_id, event, dagster_event_type, "timestamp", step_key, asset_key)
		VALUES ($1, $2, $3, 'ASSET_MATERIALIZATION', now() AT TIME ZONE 'UTC', $4, $5)`
	tx, err := slow.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var lowID, highID int64
	if err := tx.QueryRow(ctx, "SELECT nextval('event_logs_id_seq')").Scan(&lowID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, insert, lowID, runID, event, stepKey, assetKey); err != nil {
		t.Fatal(err)
	}
	if err := fast.QueryRow(ctx, "SELECT nextval('event_logs_id_seq')").Scan(&highID); err != nil {
		t.Fatal(err)
	}
	if _, err := fast.Exec(ctx, insert, highID, runID, event, stepKey, assetKey); err != nil {
		t.Fatal(err)
	}

	src, err := ingest.NewPostgresSource(dsn)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "m.duckdb")
	st := ingestOnce(t, src, dbPath, nil)
	if st.WatermarkAfter != highID {
		t.Fatalf("watermark %d, want %d", st.WatermarkAfter, highID)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	st2 := ingestOnce(t, src, dbPath, nil)
	if st2.RowsLoaded != 1 {
		t.Errorf("second run loaded %d rows, want the 1 late row", st2.RowsLoaded)
	}
	s := openDuck(t, dbPath)
	if n := queryInt(t, s.Conn(), "SELECT count(*) FROM materializations WHERE event_id = $1", lowID); n != 1 {
		t.Errorf("late-committed row %d not loaded", lowID)
	}
}

// The kill test re-executes the test binary as "matlens ingest": the child
// branch runs when this variable is set.
const childEnv = "MATLENS_INGEST_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(childIngest(spec))
	}
	os.Exit(m.Run())
}

// childIngest runs an ingest with tiny batches and reports each commit on
// stdout, so the parent can kill it mid-load.
func childIngest(spec string) int {
	dsn, dbPath, _ := strings.Cut(spec, "|")
	src, err := ingest.NewPostgresSource(dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	store, err := ingest.OpenStore(context.Background(), dbPath, 10*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	opts := ingest.DefaultOptions()
	opts.BatchRows, opts.DeriveEveryRows = 200, 500
	opts.Progress = func(st ingest.Stats) { fmt.Printf("committed %d\n", st.Batches) }
	if _, err := ingest.Run(context.Background(), src, store, opts, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestIngestSurvivesSIGKILL: a load killed mid-way is followed by a run that
// ends with exactly the tables of an uninterrupted load.
func TestIngestSurvivesSIGKILL(t *testing.T) {
	dsn := ingesttest.NewPostgres(t)
	ctx := context.Background()
	if _, err := fixtures.LoadPostgres(ctx, dsn, smallFixture12Days()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	killed := filepath.Join(dir, "killed.duckdb")

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dsn+"|"+killed)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	commits := 0
	for sc.Scan() && commits < 3 {
		commits++
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	if commits < 3 {
		t.Fatalf("child finished after %d commits before it could be killed (%v); the fixture is too small", commits, werr)
	}
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v", werr)
	}

	src, err := ingest.NewPostgresSource(dsn)
	if err != nil {
		t.Fatal(err)
	}
	partial := openDuck(t, killed)
	loadedBefore := queryInt(t, partial.Conn(), "SELECT count(*) FROM step_events")
	if loadedBefore == 0 {
		t.Fatal("the killed run committed nothing; the test did not exercise a partial load")
	}
	partial.Close()

	resumed := ingestOnce(t, src, killed, func(o *ingest.Options) { o.BatchRows, o.DeriveEveryRows = 333, 700 })
	if resumed.RowsLoaded == 0 {
		t.Error("the resumed run loaded nothing")
	}
	clean := filepath.Join(dir, "clean.duckdb")
	ingestOnce(t, src, clean, nil)
	a, b := tableDigests(t, killed), tableDigests(t, clean)
	if !mapsEqual(a, b) {
		t.Errorf("killed+resumed differs from uninterrupted:\nresumed %v\nclean   %v", a, b)
	}
	s := openDuck(t, killed)
	if n := queryInt(t, s.Conn(), "SELECT count(*) FROM ingest_runs WHERE status = 'interrupted'"); n != 1 {
		t.Errorf("the killed run is recorded %d times as interrupted, want 1", n)
	}
}

// TestPostgresErrorsNeverShowThePassword: connection failures name the
// server but not the secret.
func TestPostgresErrorsNeverShowThePassword(t *testing.T) {
	const secret = "s3cr3t-PaSS"
	for _, dsn := range []string{
		"postgres://matlens:" + secret + "@127.0.0.1:1/dagster?connect_timeout=2",
		"host=127.0.0.1 port=1 user=matlens password=" + secret + " dbname=dagster connect_timeout=2",
	} {
		src, err := ingest.NewPostgresSource(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(src.Name(), secret) {
			t.Errorf("source name %q shows the password", src.Name())
		}
		err = src.Read(context.Background(), ingest.Query{}, func(*ingest.Row) error { return nil })
		if err == nil {
			t.Fatal("connect to port 1 succeeded")
		}
		var se *ingest.SourceError
		if !errors.As(err, &se) {
			t.Errorf("error %T is not a SourceError", err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the password: %v", err)
		}
		if got := ingest.RedactDSN(dsn); strings.Contains(got, secret) {
			t.Errorf("RedactDSN(%q) = %q", dsn, got)
		}
	}
}

// TestIngestQuarantinesMalformedRows: a row matlens reads but cannot decode
// lands in rejected_events with its id, reason and an excerpt; the run goes
// on, counts it, and a second run neither re-counts nor loses it.
func TestIngestQuarantinesMalformedRows(t *testing.T) {
	dsn := ingesttest.NewPostgres(t)
	ctx := context.Background()
	o := smallFixture12Days()
	o.Days = 3
	if _, err := fixtures.LoadPostgres(ctx, dsn, o); err != nil {
		t.Fatal(err)
	}
	// The test damages its own fixture database (matlens itself never writes
	// to Dagster's): one cut-off JSON, one materialization without asset_key.
	var cut, noKey int64
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(ctx, `UPDATE event_logs SET event = left(event, 90)
		WHERE id = (SELECT min(id) FROM event_logs WHERE dagster_event_type = 'STEP_SUCCESS') RETURNING id`).Scan(&cut)
	if err == nil {
		err = conn.QueryRow(ctx, `UPDATE event_logs SET event = replace(event, '"asset_key": {"__class__": "AssetKey", "path": ', '"asset_kex": {"__class__": "AssetKey", "path": ')
			WHERE id = (SELECT max(id) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION') RETURNING id`).Scan(&noKey)
	}
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src, err := ingest.NewPostgresSource(dsn)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "m.duckdb")
	st := ingestOnce(t, src, dbPath, func(o *ingest.Options) { o.BatchRows = 500 })
	if st.RowsRejected != 2 || st.RowsLoaded+st.RowsRejected != st.RowsRead {
		t.Errorf("read %d, loaded %d, rejected %d; want 2 rejected and the rest loaded", st.RowsRead, st.RowsLoaded, st.RowsRejected)
	}
	st2 := ingestOnce(t, src, dbPath, nil)
	if st2.RowsRejected != 0 || st2.RowsLoaded != 0 {
		t.Errorf("second run loaded %d and rejected %d rows again", st2.RowsLoaded, st2.RowsRejected)
	}
	s := openDuck(t, dbPath)
	rows, err := s.Conn().QueryContext(ctx, "SELECT event_id, event_type, reason, excerpt FROM rejected_events ORDER BY event_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int64
		var typ, reason, excerpt string
		if err := rows.Scan(&id, &typ, &reason, &excerpt); err != nil {
			t.Fatal(err)
		}
		if excerpt == "" || reason == "" {
			t.Errorf("reject %d has no reason or excerpt", id)
		}
		got = append(got, fmt.Sprintf("%d %s", id, typ))
		t.Logf("rejected %d %s: %s", id, typ, reason)
	}
	want := []string{fmt.Sprintf("%d STEP_SUCCESS", cut), fmt.Sprintf("%d ASSET_MATERIALIZATION", noKey)}
	if !slices.Equal(got, want) {
		t.Errorf("rejected_events = %v, want %v", got, want)
	}
	if n := queryInt(t, s.Conn(), "SELECT sum(rows_rejected) FROM ingest_runs"); n != 2 {
		t.Errorf("ingest_runs counts %d rejects, want 2", n)
	}
}

func TestRedactDSNKeywordValueWithQuotes(t *testing.T) {
	for _, tc := range []struct{ dsn, secret string }{
		{`host='db' user='u' password='pw\'with quote' dbname='d'`, `pw\'with quote`},
		{`host=db password=plain dbname=d`, "plain"},
		{`host=db password='a b\\c' dbname=d`, `a b\\c`},
	} {
		got := ingest.RedactDSN(tc.dsn)
		if strings.Contains(got, tc.secret) || strings.Contains(got, "quote") || strings.Contains(got, "plain") {
			t.Errorf("RedactDSN(%q) = %q", tc.dsn, got)
		}
		if !strings.Contains(got, "host") {
			t.Errorf("RedactDSN(%q) = %q lost the rest", tc.dsn, got)
		}
	}
}

// The derived tables (resolved outputs and reads, step executions, runs) are
// a function of the data alone: loading in two runs, with rows committed
// late inside the re-read window, or into a file written before the
// loader's bookkeeping tables existed, gives exactly what one run gives.
func TestIngestDerivedRowsIndependentOfRunSplit(t *testing.T) {
	dsn, src, _ := fixtureSource(t, smallFixture12Days())
	ctx := context.Background()
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.duckdb")
	ingestOnce(t, src, whole, func(o *ingest.Options) { o.BatchRows = 997 })
	want := tableDigests(t, whole)

	pg, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	exec := func(q string) {
		t.Helper()
		if _, err := pg.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var maxID int64
	if err := pg.QueryRow(ctx, "SELECT max(id) FROM event_logs").Scan(&maxID); err != nil {
		t.Fatal(err)
	}
	cut := maxID * 2 / 3
	// The first held-back read resolves across runs to a producer before it
	// while its output was produced again before the cut: the second run
	// must not take that newer producer (or none) for it.
	firstHeld := queryInt(t, openDuck(t, whole).Conn(), `SELECT min(r.event_id) FROM asset_reads r
		WHERE r.resolution = 'cross_run' AND r.event_id > $1 AND EXISTS (SELECT 1 FROM handled_outputs h
		  WHERE h.step_key = r.upstream_step_key AND h.output_name = r.upstream_output_name
		    AND h.event_id > r.event_id AND h.event_id <= $2)`, maxID/3, cut)
	if firstHeld == 0 {
		t.Fatal("fixture has no cross-run read re-produced before the cut")
	}
	for _, tc := range []struct {
		name    string
		between func(path string)
	}{
		{"late rows", func(string) {}},
		{"upgraded file", func(path string) {
			s := openDuck(t, path)
			// As an earlier matlens left it: no bookkeeping rows, no
			// materialization_exec, no step_executions.partition.
			for _, q := range []string{"DELETE FROM run_spans", "DELETE FROM output_producers",
				"DROP TABLE materialization_exec", "ALTER TABLE step_executions DROP COLUMN partition"} {
				if _, err := s.Conn().ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{"an earlier matlens loaded in between", func(path string) {
			// What a run of an earlier matlens leaves: derived rows without
			// partitions or fallback times, runs without run_spans, and an
			// ingest_runs row without derive_version.
			s := openDuck(t, path)
			for _, q := range []string{"UPDATE step_executions SET partition = NULL", "DELETE FROM materialization_exec",
				"DELETE FROM run_spans WHERE run_id IN (SELECT run_id FROM run_spans ORDER BY first_event_id DESC LIMIT 20)",
				"INSERT INTO ingest_runs (source, started_at, status) VALUES ('an earlier matlens', now(), 'success')"} {
				if _, err := s.Conn().ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Hold back everything above the cut and, below it, some step
			// events and many reads of the re-read window: the second run
			// finds them under its watermark, below producers it already
			// has, so reads must still resolve to the older producer.
			exec(fmt.Sprintf(`CREATE TABLE held AS SELECT * FROM event_logs WHERE id > %[1]d
				OR (id >= %[2]d AND dagster_event_type = 'LOADED_INPUT')
				OR (id >= %[2]d AND id %% 7 = 0 AND dagster_event_type IN ('STEP_START', 'STEP_SUCCESS'))`, cut, firstHeld))
			defer exec("DROP TABLE IF EXISTS held")
			exec("DELETE FROM event_logs WHERE id IN (SELECT id FROM held)")
			path := filepath.Join(t.TempDir(), "split.duckdb")
			ingestOnce(t, src, path, func(o *ingest.Options) { o.BatchRows, o.DeriveEveryRows = 500, 1200 })
			exec("INSERT INTO event_logs SELECT * FROM held")
			tc.between(path)
			st := ingestOnce(t, src, path, func(o *ingest.Options) { o.BatchRows, o.DeriveEveryRows = 500, 1200 })
			if st.RowsLoaded == 0 {
				t.Fatal("second run loaded nothing")
			}
			sameTables(t, tableDigests(t, path), want, "a single run")
		})
	}
}

// The same Dagster database reached under another name (localhost instead
// of 127.0.0.1, a read-only role) is another source with its own watermark,
// but loads into the same fact tables: nothing may be loaded twice, and
// derivations the first source left pending are finished.
func TestIngestSecondSourceNameLoadsNothingTwice(t *testing.T) {
	dsn, src, _ := fixtureSource(t, smallFixture12Days())
	alt := strings.Replace(dsn, "127.0.0.1", "localhost", 1)
	if alt == dsn {
		t.Skipf("cannot name %s another way", ingest.RedactDSN(dsn))
	}
	src2, err := ingest.NewPostgresSource(alt)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.duckdb")
	ingestOnce(t, src, whole, nil)
	want := tableDigests(t, whole)

	path := filepath.Join(dir, "two.duckdb")
	ingestOnce(t, src, path, nil)
	// Leave derivations pending under the first name, as a stopped run would.
	s := openDuck(t, path)
	if _, err := s.Conn().ExecContext(context.Background(), "UPDATE ingest_state SET derive_from = 1; DELETE FROM step_executions; DELETE FROM runs"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := ingestOnce(t, src2, path, nil)
	if st.RowsLoaded != 0 {
		t.Errorf("the second name loaded %d rows again", st.RowsLoaded)
	}
	sameTables(t, tableDigests(t, path), want, "one load")
}

// A first load lands in the database file itself, not only in its
// write-ahead log: a copy of the .duckdb file alone holds the data.
func TestFirstLoadIsInTheFileItself(t *testing.T) {
	_, src, exp := fixtureSource(t, smallFixture12Days())
	dir := t.TempDir()
	path := filepath.Join(dir, "m.duckdb")
	ingestOnce(t, src, path, nil)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	alone := filepath.Join(dir, "alone.duckdb")
	if err := os.WriteFile(alone, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, openDuck(t, alone).Conn(), "SELECT count(*) FROM materializations"); n != exp.EventsByType["ASSET_MATERIALIZATION"] {
		t.Errorf("the file without its log holds %d materializations, want %d", n, exp.EventsByType["ASSET_MATERIALIZATION"])
	}
}

// When DuckDB runs out of memory, the batch is rolled back and loaded again
// with a larger pool: the run finishes, says so, and its tables are those of
// a run that never ran short.
func TestIngestRetriesWhenDuckDBRunsOutOfMemory(t *testing.T) {
	o := smallFixture12Days()
	o.Days = 40
	_, src, _ := fixtureSource(t, o)
	dir := t.TempDir()
	want := filepath.Join(dir, "want.duckdb")
	ingestOnce(t, src, want, nil)
	path := filepath.Join(dir, "short.duckdb")
	st := ingestOnce(t, src, path, func(o *ingest.Options) { o.DuckDBMemoryLimit = "16MB" })
	if st.MemoryLimitRaisedTo <= 16e6 {
		t.Fatalf("memory limit raised to %d bytes: the test no longer makes DuckDB run short at 4MB", st.MemoryLimitRaisedTo)
	}
	sameTables(t, tableDigests(t, path), tableDigests(t, want), "a load that never ran short")
}
