package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/marcboeker/go-duckdb"

	isql "github.com/matlens/matlens/sql"
	"github.com/matlens/matlens/sql/duckfile"
)

var (
	schemaSQL        = isql.MustRead(isql.DuckDB, "duckdb/schema.sql")
	touchedRunsSQL   = isql.MustRead(isql.DuckDB, "duckdb/touched_runs.sql")
	deriveOutputsSQL = isql.MustRead(isql.DuckDB, "duckdb/derive_outputs.sql")
	deriveReadsSQL   = isql.MustRead(isql.DuckDB, "duckdb/derive_reads.sql")
	deriveStepsSQL   = isql.MustRead(isql.DuckDB, "duckdb/derive_steps.sql")
	deriveRunsSQL    = isql.MustRead(isql.DuckDB, "duckdb/derive_runs.sql")
	deriveExecSQL    = isql.MustRead(isql.DuckDB, "duckdb/derive_exec.sql")
	upgradeSQL       = isql.MustRead(isql.DuckDB, "duckdb/derive_upgrade.sql")
	loadedIDsSQL     = isql.MustRead(isql.DuckDB, "duckdb/loaded_ids.sql")
	runSpansSQL      = isql.MustRead(isql.DuckDB, "duckdb/run_spans.sql")
	backfillSQL      = isql.MustRead(isql.DuckDB, "duckdb/run_spans_backfill.sql")
	producersRebuild = isql.MustRead(isql.DuckDB, "duckdb/producers_rebuild.sql")
	producersUpdate  = isql.MustRead(isql.DuckDB, "duckdb/producers_update.sql")
	producersMerge   = isql.MustRead(isql.DuckDB, "duckdb/producers_merge.sql")
)

// DefaultDuckDBMemoryLimit bounds DuckDB's buffer pool while loading, which
// keeps a cold load's RSS within the targets of docs/performance.md. A
// load that needs more (a first load of millions of rows deriving step
// executions) makes commitBatch raise the limit for the rest of the run, up
// to four times this.
const DefaultDuckDBMemoryLimit = "64MB"

// setMemoryLimit sets DuckDB's memory_limit for the load.
func (s *Store) setMemoryLimit(ctx context.Context, limit string) error {
	n, err := duckfile.ParseSize(limit)
	if err != nil {
		return fmt.Errorf("ingest.duckdb_memory_limit: %w", err)
	}
	s.memLimit, s.memLimitConfigured, s.raisedTo = n, n, 0
	return duckfile.SetMemoryLimit(ctx, s.conn, s.memLimit)
}

// Store is ingest's view of the matlens DuckDB file: the fact schema, its
// upgrade, and the load's bookkeeping, on the file's single connection.
type Store struct {
	file *duckfile.File
	conn *sql.Conn
	// ownsFile says Close closes the file (OpenStore opened it).
	ownsFile bool
	// deriveFrom is ingest_state.derive_from as last committed (0: nothing
	// pending), pendingRows the rows loaded since the last derivation, and
	// deriveEvery Options.DeriveEveryRows.
	deriveFrom  int64
	pendingRows int
	deriveEvery int
	// loadedTop is the highest id any source had loaded when the run began.
	loadedTop int64
	// memLimit is DuckDB's memory_limit in bytes during the load (0: not
	// set by ingest), memLimitConfigured the configured one, and raisedTo
	// the limit a batch had to be retried with (0: none).
	memLimit, memLimitConfigured, raisedTo int64
}

// OpenStore opens (creating if needed) the DuckDB file read-write, waiting
// up to lockWait for another process's lock (the error then wraps
// duckfile.ErrLocked), and applies the fact schema. Close closes the file.
func OpenStore(ctx context.Context, path string, lockWait time.Duration) (*Store, error) {
	f, err := duckfile.Open(ctx, path, duckfile.Options{LockWait: lockWait})
	if err != nil {
		return nil, err
	}
	s, err := NewStore(ctx, f)
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	s.ownsFile = true
	return s, nil
}

// NewStore applies the fact schema to a file opened read-write, upgrading
// one an earlier matlens wrote. The caller keeps the file and closes it.
func NewStore(ctx context.Context, f *duckfile.File) (*Store, error) {
	if f.ReadOnly() {
		return nil, fmt.Errorf("ingest: open %s: the load needs the file read-write", f.Path())
	}
	s := &Store{file: f, conn: f.Conn()}
	path := f.Path()
	older, err := s.needsUpgrade(ctx)
	if err != nil {
		return nil, fmt.Errorf("ingest: open %s: %w", path, err)
	}
	if older {
		if err := s.upgrade(ctx); err != nil {
			return nil, fmt.Errorf("ingest: upgrade %s: %w", path, err)
		}
	} else if _, err := s.conn.ExecContext(ctx, schemaSQL); err != nil {
		return nil, fmt.Errorf("ingest: apply schema to %s: %w", path, err)
	}
	if err := s.backfill(ctx); err != nil {
		return nil, fmt.Errorf("ingest: upgrade %s: %w", path, err)
	}
	return s, nil
}

// DeriveVersion names what the loader keeps derived beyond the fact tables:
// 1 is step_executions.partition, materialization_exec and run_spans, kept
// for the runs each batch touches. Every ingest run records it.
const DeriveVersion = 1

// needsUpgrade says whether the file was written, or loaded into, by a
// matlens that did not keep what DeriveVersion names: it has step
// executions but no materialization_exec, or an ingest run without
// derive_version (an earlier matlens ran since; its derived rows lack the
// partition and the fallback times, and its runs have no run_spans).
func (s *Store) needsUpgrade(ctx context.Context) (bool, error) {
	if has, err := s.hasColumn(ctx, "step_executions", "run_id"); err != nil || !has {
		return false, err
	}
	for _, c := range [][2]string{{"materialization_exec", "event_id"}, {"ingest_runs", "derive_version"}} {
		has, err := s.hasColumn(ctx, c[0], c[1])
		if err != nil {
			return false, err
		}
		if !has {
			return true, nil
		}
	}
	var unversioned bool
	err := s.conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM ingest_runs WHERE derive_version IS NULL)").Scan(&unversioned)
	return unversioned, err
}

// hasColumn says whether the table exists and has the column. It asks
// pragma_table_info rather than duckdb_columns(): the first call of
// DuckDB's catalog functions in a process sets up every built-in view
// first, about 20 ms of every open.
func (s *Store) hasColumn(ctx context.Context, table, column string) (bool, error) {
	var n int
	err := s.conn.QueryRowContext(ctx,
		"SELECT count(*) FROM pragma_table_info('"+table+"') WHERE name = $1", column).Scan(&n)
	var derr *duckdb.Error
	if errors.As(err, &derr) && derr.Type == duckdb.ErrorTypeCatalog {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	return n > 0, nil
}

// upgrade applies the schema to a file that needsUpgrade and rebuilds from
// all loaded rows what DeriveVersion names, in one transaction: run_spans
// and output_producers (run_spans_backfill.sql), step_executions.partition
// (derive_upgrade.sql) and materialization_exec (derive_exec.sql over every
// run).
//
// It goes over all loaded rows at once, so it runs with four times the
// load's memory limit (the most the loader's retries go to), which a file
// of years of history may need; a file that cannot be upgraded cannot be
// opened, by any command.
func (s *Store) upgrade(ctx context.Context) (err error) {
	limit, err := duckfile.ParseSize(DefaultDuckDBMemoryLimit)
	if err != nil {
		return err
	}
	if err := duckfile.SetMemoryLimit(ctx, s.conn, 4*limit); err != nil {
		return err
	}
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, q := range []string{schemaSQL, "DELETE FROM run_spans", backfillSQL, upgradeSQL} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return errors.Join(err, duckfile.Rollback(tx))
		}
	}
	if _, err := tx.ExecContext(ctx, deriveExecSQL, int64(math.MinInt64)); err != nil {
		return errors.Join(err, duckfile.Rollback(tx))
	}
	return tx.Commit()
}

// backfill fills the loader's bookkeeping tables (run_spans,
// output_producers) of a file written before they existed, once.
func (s *Store) backfill(ctx context.Context) error {
	var need bool
	err := s.conn.QueryRowContext(ctx,
		"SELECT NOT EXISTS (SELECT 1 FROM run_spans) AND EXISTS (SELECT 1 FROM step_events UNION ALL SELECT 1 FROM handled_outputs UNION ALL SELECT 1 FROM run_events)",
	).Scan(&need)
	if err != nil || !need {
		return err
	}
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, backfillSQL); err != nil {
		return errors.Join(err, duckfile.Rollback(tx))
	}
	return tx.Commit()
}

// Close closes the file when OpenStore opened it (checkpointing a large
// write-ahead log first); a file handed to NewStore stays open.
func (s *Store) Close() error {
	if !s.ownsFile {
		return nil
	}
	return s.file.Close()
}

// Conn is the store's single connection, for the stages that follow ingest.
func (s *Store) Conn() *sql.Conn { return s.conn }

// Watermark returns the highest event id loaded from source (0 if none).
// It also reads what holds for the file whatever the source: the highest
// id any source loaded (the fact tables are shared, so a batch skips its
// duplicate check only above it), and the derivations any earlier run left
// pending. A source is named by its redacted DSN or path, so the same
// Dagster database reached under another name is another source.
func (s *Store) Watermark(ctx context.Context, source string) (int64, error) {
	var w, top, from sql.NullInt64
	err := s.conn.QueryRowContext(ctx,
		"SELECT max(watermark) FILTER (WHERE source = $1), max(watermark), min(derive_from) FROM ingest_state", source,
	).Scan(&w, &top, &from)
	if err != nil {
		return 0, fmt.Errorf("read watermark: %w", err)
	}
	s.loadedTop, s.deriveFrom, s.pendingRows = top.Int64, from.Int64, 0
	return w.Int64, nil
}

// finishDerive rebuilds the derived rows still pending at the end of a run.
// Once begun it is not cancelled (as a batch commit is not): a DuckDB
// transaction cancelled midway makes database/sql discard the connection,
// and the run could not record how it ended. What is pending stays
// committed in ingest_state until it is done.
func (s *Store) finishDerive(ctx context.Context) (err error) {
	if s.deriveFrom == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	return s.retryOutOfMemory(ctx, func() error { return s.deriveRest(ctx) })
}

func (s *Store) deriveRest(ctx context.Context) (err error) {
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("derive: begin: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, duckfile.Rollback(tx))
		}
	}()
	if err := derive(ctx, tx, s.deriveFrom); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, clearDeriveFrom); err != nil {
		return fmt.Errorf("derive: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("derive: commit: %w", err)
	}
	s.deriveFrom, s.pendingRows = 0, 0
	return nil
}

// loadedIDs returns the ids already loaded or quarantined at or above from.
func (s *Store) loadedIDs(ctx context.Context, source string, from int64) (map[int64]struct{}, error) {
	rows, err := s.conn.QueryContext(ctx, loadedIDsSQL, from, source)
	if err != nil {
		return nil, fmt.Errorf("read loaded ids: %w", err)
	}
	defer rows.Close()
	ids := make(map[int64]struct{})
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read loaded ids: %w", err)
		}
		ids[id] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read loaded ids: %w", err)
	}
	return ids, nil
}

// beginRun marks earlier runs of this source that never finished as
// interrupted and records a new running one.
func (s *Store) beginRun(ctx context.Context, source string, watermark int64, now time.Time) (int64, error) {
	if _, err := s.conn.ExecContext(ctx,
		"UPDATE ingest_runs SET status = 'interrupted' WHERE source = $1 AND status = 'running'", source); err != nil {
		return 0, fmt.Errorf("record ingest run: %w", err)
	}
	var id int64
	err := s.conn.QueryRowContext(ctx,
		`INSERT INTO ingest_runs (source, started_at, watermark_before, watermark_after, status, derive_version)
		 VALUES ($1, $2, $3, $3, 'running', $4) RETURNING ingest_run_id`, source, now, watermark, DeriveVersion).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record ingest run: %w", err)
	}
	return id, nil
}

// finishRun records how the run ended. It uses its own context so an
// interrupted run is still recorded as such.
func (s *Store) finishRun(runID int64, st *Stats, status string, runErr error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var msg sql.NullString
	if runErr != nil {
		msg = sql.NullString{String: runErr.Error(), Valid: true}
	}
	_, err := s.conn.ExecContext(ctx,
		`UPDATE ingest_runs SET finished_at = $2, rows_read = $3, rows_loaded = $4, rows_rejected = $5,
		 rows_skipped = $6, batches = $7, watermark_after = $8, status = $9, error = $10
		 WHERE ingest_run_id = $1`,
		runID, time.Now().UTC(), st.RowsRead, st.RowsLoaded, st.RowsRejected, st.RowsSkipped, st.Batches,
		st.WatermarkAfter, status, msg)
	if err != nil {
		return fmt.Errorf("record ingest run: %w", err)
	}
	return nil
}

// batchTiming splits a batch's commit: the fact-table inserts, the derived
// rows, and DuckDB's commit (the write-ahead log).
type batchTiming struct{ load, derive, commit time.Duration }

// commitBatch loads one batch and advances the watermark in one DuckDB
// transaction: either all of it is visible afterwards or none of it.
// Re-read rows that were already there are not counted as loaded. It
// returns where the batch's time went, for the debug log.
//
// When DuckDB runs out of memory the batch is rolled back and tried again
// with twice the memory limit, up to four times the configured one: a
// nightly run should not stop where a bigger pool would do.
func (s *Store) commitBatch(ctx context.Context, source string, runID int64, b *Batch, st *Stats) (tm batchTiming, err error) {
	recs := make([]arrow.Record, len(factTables))
	for i, t := range factTables {
		recs[i] = b.takeRecord(t)
	}
	defer func() {
		for _, r := range recs {
			if r != nil {
				r.Release()
			}
		}
	}()
	err = s.retryOutOfMemory(ctx, func() error {
		tm, err = s.commitOnce(ctx, source, runID, b, recs, st)
		return err
	})
	return tm, err
}

// retryOutOfMemory runs a transaction (fn rolls back on error) again with
// twice DuckDB's memory limit while it runs out of memory, up to four times
// the configured limit.
func (s *Store) retryOutOfMemory(ctx context.Context, fn func() error) error {
	for {
		err := fn()
		if err == nil || !duckfile.IsOutOfMemory(err) || s.memLimit == 0 || s.memLimit*2 > 4*s.memLimitConfigured {
			return err
		}
		s.memLimit *= 2
		if serr := duckfile.SetMemoryLimit(ctx, s.conn, s.memLimit); serr != nil {
			return errors.Join(err, serr)
		}
		s.raisedTo = s.memLimit
	}
}

// commitOnce is one attempt at commitBatch; st changes only when it commits.
func (s *Store) commitOnce(ctx context.Context, source string, runID int64, b *Batch, recs []arrow.Record, st *Stats) (tm batchTiming, err error) {
	start := time.Now()
	next := *st
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return tm, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, duckfile.Rollback(tx))
		}
	}()

	var loaded int64
	for i, t := range factTables {
		if recs[i] == nil {
			continue
		}
		n, err := s.insertRecord(ctx, tx, t, recs[i], b.MinID, b.MaxID, b.MinID > s.loadedTop)
		if err != nil {
			return tm, err
		}
		loaded += n
	}
	now := time.Now().UTC()
	var rejected int64
	for _, r := range b.Rejects {
		key, id, line := rejectKey(source, r)
		res, err := tx.ExecContext(ctx,
			`INSERT INTO rejected_events (reject_key, source, event_id, line, event_type, reason, excerpt, rejected_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
			key, source, id, line, sql.NullString{String: r.Type, Valid: r.Type != ""}, r.Reason, r.Excerpt, now)
		if err != nil {
			return tm, fmt.Errorf("quarantine event %d: %w", r.EventID, err)
		}
		// A row quarantined by an earlier run (a cut line without an id is
		// re-read every time) is not a new reject.
		n, err := res.RowsAffected()
		if err != nil {
			return tm, fmt.Errorf("quarantine event %d: %w", r.EventID, err)
		}
		rejected += n
	}
	tm.load = time.Since(start)
	// Derived rows are rebuilt from the lowest id not yet derived, every
	// deriveEveryRows; until then that id is committed as pending.
	deriveFrom, pendingRows := s.deriveFrom, s.pendingRows
	if b.MinID > 0 {
		if deriveFrom == 0 || b.MinID < deriveFrom {
			deriveFrom = b.MinID
		}
		pendingRows += b.Rows
		if pendingRows >= s.deriveEvery {
			if err := derive(ctx, tx, deriveFrom); err != nil {
				return tm, err
			}
			if _, err := tx.ExecContext(ctx, clearDeriveFrom); err != nil {
				return tm, fmt.Errorf("derive: %w", err)
			}
			deriveFrom, pendingRows = 0, 0
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO ingest_state (source, watermark, updated_at, derive_from) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (source) DO UPDATE SET watermark = greatest(ingest_state.watermark, excluded.watermark),
			 updated_at = excluded.updated_at, derive_from = excluded.derive_from`,
			source, b.MaxID, now, sql.NullInt64{Int64: deriveFrom, Valid: deriveFrom > 0}); err != nil {
			return tm, fmt.Errorf("advance watermark: %w", err)
		}
	}
	next.RowsLoaded += loaded
	next.RowsRejected += rejected
	next.Batches++
	if b.MaxID > next.WatermarkAfter {
		next.WatermarkAfter = b.MaxID
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE ingest_runs SET rows_read = $2, rows_loaded = $3, rows_rejected = $4, rows_skipped = $5,
		 batches = $6, watermark_after = $7 WHERE ingest_run_id = $1`,
		runID, next.RowsRead, next.RowsLoaded, next.RowsRejected, next.RowsSkipped, next.Batches, next.WatermarkAfter); err != nil {
		return tm, fmt.Errorf("record progress: %w", err)
	}
	tm.derive = time.Since(start) - tm.load
	if err := tx.Commit(); err != nil {
		return tm, fmt.Errorf("commit: %w", err)
	}
	s.deriveFrom, s.pendingRows = deriveFrom, pendingRows
	*st = next
	tm.commit = time.Since(start) - tm.load - tm.derive
	return tm, nil
}

// clearDeriveFrom marks every source's pending derivations done: a
// derivation covers all ids from the lowest pending one, whichever source
// loaded them.
const clearDeriveFrom = "UPDATE ingest_state SET derive_from = NULL WHERE derive_from IS NOT NULL"

// derive rebuilds the derived rows of the runs with events at or above
// minID (the lowest id not yet derived): resolved outputs and reads, step
// executions and runs. Every query scans only the ids at or above those
// runs' first event, so a derivation costs what its runs hold, not what
// the tables hold.
func derive(ctx context.Context, tx *sql.Tx, minID int64) error {
	if _, err := tx.ExecContext(ctx, touchedRunsSQL, minID); err != nil {
		return fmt.Errorf("find touched runs: %w", err)
	}
	if _, err := tx.ExecContext(ctx, runSpansSQL); err != nil {
		return fmt.Errorf("record run spans: %w", err)
	}
	var lo sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT min(first_event_id) FROM touched_runs").Scan(&lo); err != nil {
		return fmt.Errorf("find touched runs: %w", err)
	}
	from := minID
	if lo.Valid && lo.Int64 < from {
		from = lo.Int64
	}
	if _, err := tx.ExecContext(ctx, deriveOutputsSQL, minID, from); err != nil {
		return fmt.Errorf("resolve handled outputs: %w", err)
	}
	// Reads resolve across runs against the latest producer below minID.
	// output_producers keeps a running maximum, which is that only when
	// every recorded producer is below minID; a batch reaching lower (late
	// rows in the re-read window) rebuilds it from the table first.
	var top sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT max(event_id) FROM output_producers").Scan(&top); err != nil {
		return fmt.Errorf("read output producers: %w", err)
	}
	if top.Valid && top.Int64 >= minID {
		if _, err := tx.ExecContext(ctx, producersRebuild, minID); err != nil {
			return fmt.Errorf("rebuild output producers: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, deriveReadsSQL, minID, from); err != nil {
		return fmt.Errorf("resolve reads: %w", err)
	}
	if _, err := tx.ExecContext(ctx, producersUpdate, minID); err != nil {
		return fmt.Errorf("record output producers: %w", err)
	}
	if _, err := tx.ExecContext(ctx, producersMerge); err != nil {
		return fmt.Errorf("record output producers: %w", err)
	}
	if _, err := tx.ExecContext(ctx, deriveStepsSQL, from); err != nil {
		return fmt.Errorf("derive step executions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, deriveExecSQL, from); err != nil {
		return fmt.Errorf("derive materialization execution times: %w", err)
	}
	if _, err := tx.ExecContext(ctx, deriveRunsSQL, from); err != nil {
		return fmt.Errorf("derive runs: %w", err)
	}
	return nil
}

func rejectKey(source string, r Reject) (key string, id, line sql.NullInt64) {
	if r.EventID != 0 {
		return fmt.Sprintf("%s#%d", source, r.EventID), sql.NullInt64{Int64: r.EventID, Valid: true}, sql.NullInt64{Int64: r.Line, Valid: r.Line > 0}
	}
	return fmt.Sprintf("%s@line%d", source, r.Line), sql.NullInt64{}, sql.NullInt64{Int64: r.Line, Valid: r.Line > 0}
}

// insertRecord lends rec to DuckDB as a view on the store's connection and
// copies it into the table with one INSERT ... SELECT, so DuckDB reads the
// columns directly instead of row by row.
// fresh says no id of the batch can be loaded yet (all are above the
// watermark the run started from), so the duplicate check is skipped.
func (s *Store) insertRecord(ctx context.Context, tx *sql.Tx, t *factTable, rec arrow.Record, minID, maxID int64, fresh bool) (n int64, err error) {
	view, err := duckfile.RegisterRecord(s.conn, rec, "matlens_batch_"+t.name)
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", t.name, err)
	}
	defer func() {
		if derr := view.Drop(ctx, tx); derr != nil && err == nil {
			err = fmt.Errorf("load %s: %w", t.name, derr)
		}
	}()
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	cols := strings.Join(names, ", ")
	// Rows already present (a re-read the skip set did not catch) are left
	// out by id; the id range lets DuckDB skip row groups by their min/max.
	var res sql.Result
	if fresh {
		res, err = tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %[1]s (%[2]s) SELECT %[2]s FROM %[3]s", t.name, cols, view.Name()))
	} else {
		res, err = tx.ExecContext(ctx, fmt.Sprintf(
			"INSERT INTO %[1]s (%[2]s) SELECT %[2]s FROM %[3]s ANTI JOIN (SELECT event_id FROM %[1]s WHERE event_id BETWEEN $1 AND $2) USING (event_id)",
			t.name, cols, view.Name()), minID, maxID)
	}
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", t.name, err)
	}
	if n, err = res.RowsAffected(); err != nil {
		return 0, fmt.Errorf("load %s: %w", t.name, err)
	}
	return n, nil
}
