package ingest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/marcboeker/go-duckdb"

	isql "github.com/matlens/matlens/sql"
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

// DefaultDuckDBMemoryLimit bounds DuckDB's buffer pool while loading: a
// cold run over the 2M-row fixture peaks at about 220 MB RSS with 64MB, 275
// MB with 128MB. Some loads need more (a 3.7M-row first load ran out
// deriving step executions at 64MB, not at 128MB); commitBatch then raises
// the limit for the rest of the run, up to four times this.
const DefaultDuckDBMemoryLimit = "64MB"

var memoryLimitPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

// setMemoryLimit sets DuckDB's memory_limit for the load (validated: it
// is spliced into a SET statement, which takes no parameters).
func (s *Store) setMemoryLimit(ctx context.Context, limit string) error {
	n, ok := parseSize(limit)
	if !ok {
		return fmt.Errorf("ingest.duckdb_memory_limit: %q is not a size like 128MB or 1GB", limit)
	}
	s.memLimit, s.memLimitConfigured, s.raisedTo = n, n, 0
	return s.applyMemoryLimit(ctx)
}

func (s *Store) applyMemoryLimit(ctx context.Context) error {
	if _, err := s.conn.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%dB'", s.memLimit)); err != nil {
		return fmt.Errorf("set memory limit: %w", err)
	}
	return nil
}

// parseSize reads a size such as 64MB, 1.5GB or 512MiB (DuckDB's units: KB
// and MB are powers of 1000, KiB and MiB of 1024) into bytes.
func parseSize(v string) (int64, bool) {
	m := memoryLimitPattern.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, m[2])), 64)
	if err != nil {
		return 0, false
	}
	unit := map[string]float64{"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[m[2]]
	return int64(f * unit), true
}

// oneThread runs DuckDB on one thread for the load and returns how to set
// the previous count back. PostgreSQL and the reading goroutine keep both
// cores of a small machine busy, and DuckDB's parallel plans over one
// batch only add scheduling: the 2M-row ingest took 12.9 s on one thread
// against 14.9 s on two.
func (s *Store) oneThread(ctx context.Context) (func() error, error) {
	var prev int64
	if err := s.conn.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&prev); err != nil {
		return nil, fmt.Errorf("read threads: %w", err)
	}
	if _, err := s.conn.ExecContext(ctx, "SET threads = 1"); err != nil {
		return nil, fmt.Errorf("set threads: %w", err)
	}
	return func() error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := s.conn.ExecContext(cctx, fmt.Sprintf("SET threads = %d", prev)); err != nil {
			return fmt.Errorf("restore threads: %w", err)
		}
		return nil
	}, nil
}

// ErrLocked means another process holds the DuckDB file (DuckDB allows one
// writing process). The wrapped message names the holder's PID.
var ErrLocked = errors.New("duckdb file is locked by another process")

// Store is the single writer connection to the matlens DuckDB file.
type Store struct {
	db   *sql.DB
	conn *sql.Conn
	path string
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

// OpenStore opens (creating if needed) the DuckDB file and applies the
// schema. When another process holds the file it retries until lockWait
// has passed, then returns an error wrapping ErrLocked.
func OpenStore(ctx context.Context, path string, lockWait time.Duration) (*Store, error) {
	deadline := time.Now().Add(lockWait)
	for {
		s, err := openStore(ctx, path)
		if err == nil {
			return s, nil
		}
		if !isLockError(err) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("open %s: %w (waited %s): %s; close the other program (an analyst's DuckDB session?) or retry later",
				path, ErrLocked, lockWait, lockHolder(err))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func isLockError(err error) bool {
	return strings.Contains(err.Error(), "Could not set lock") || strings.Contains(err.Error(), "Conflicting lock")
}

// lockHolder extracts DuckDB's "Conflicting lock is held in ... (PID n)" part.
func lockHolder(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "Conflicting lock"); i >= 0 {
		return strings.TrimSpace(msg[i:])
	}
	return msg
}

func openStore(ctx context.Context, path string) (*Store, error) {
	connector, err := duckdb.NewConnector(path, nil)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), db.Close())
	}
	s := &Store{db: db, conn: conn, path: path}
	// A checkpoint on every batch commit rewrites and recompresses the
	// touched row groups, and grew to seconds per batch on a 2M-row load:
	// batches go to the WAL instead, and matlens decides when to checkpoint
	// (checkpointIfLarge, at the end of a load and at Close), not DuckDB at
	// every close (2M-row load: 31 s -> 14 s). DuckDB's buffer pool would
	// otherwise take up to 80% of RAM; Options.DuckDBMemoryLimit bounds it
	// for ingest.
	if _, err := conn.ExecContext(ctx, "SET wal_autocheckpoint = '1GB'; SET memory_limit = '"+DefaultDuckDBMemoryLimit+"'; PRAGMA disable_checkpoint_on_shutdown"); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), s.Close())
	}
	older, err := s.needsUpgrade(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), s.Close())
	}
	if older {
		if err := s.upgrade(ctx); err != nil {
			return nil, errors.Join(fmt.Errorf("upgrade %s: %w", path, err), s.Close())
		}
	} else if _, err := conn.ExecContext(ctx, schemaSQL); err != nil {
		return nil, errors.Join(fmt.Errorf("apply schema to %s: %w", path, err), s.Close())
	}
	if err := s.backfill(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("upgrade %s: %w", path, err), s.Close())
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
	limit, _ := parseSize(DefaultDuckDBMemoryLimit)
	if _, err := s.conn.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%dB'", 4*limit)); err != nil {
		return err
	}
	defer func() {
		_, rerr := s.conn.ExecContext(context.WithoutCancel(ctx), "SET memory_limit = '"+DefaultDuckDBMemoryLimit+"'")
		err = errors.Join(err, rerr)
	}()
	tx, err := s.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, q := range []string{schemaSQL, "DELETE FROM run_spans", backfillSQL, upgradeSQL} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return errors.Join(err, tx.Rollback())
		}
	}
	if _, err := tx.ExecContext(ctx, deriveExecSQL, int64(math.MinInt64)); err != nil {
		return errors.Join(err, tx.Rollback())
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
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// WALCheckpointBytes is the size of the write-ahead log above which matlens
// writes it into the database file (a checkpoint), as it also does when the
// log has outgrown the file. A checkpoint rewrites the last, partly filled
// row group of every table written to: about 1 s after a nightly increment
// of 1% on the 2M-row fixture (a 7 MB log), most of such a run. A smaller
// log is left for a later run to fold in; DuckDB replays it when the file
// is opened (read-only opens too), which takes milliseconds.
const WALCheckpointBytes = 64 << 20

// checkpointIfLarge checkpoints when the write-ahead log has outgrown
// WALCheckpointBytes or the database file itself (a new file's first load
// then lands in the file, which holds the data on its own), and says
// whether it did. before, when set, runs just before the checkpoint.
func (s *Store) checkpointIfLarge(ctx context.Context, before func()) (bool, error) {
	wal, err := os.Stat(s.path + ".wal")
	if err != nil {
		return false, nil
	}
	db, err := os.Stat(s.path)
	if err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	if wal.Size() < WALCheckpointBytes && wal.Size() < db.Size() {
		return false, nil
	}
	if before != nil {
		before()
	}
	if _, err := s.conn.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	return true, nil
}

// Close checkpoints when the write-ahead log has grown large, then
// releases the connection and the file lock.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, err := s.checkpointIfLarge(ctx, nil)
	return errors.Join(err, s.conn.Close(), s.db.Close())
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
			err = errors.Join(err, ignoreDone(tx.Rollback()))
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
		if err == nil || !isOutOfMemory(err) || s.memLimit == 0 || s.memLimit*2 > 4*s.memLimitConfigured {
			return err
		}
		s.memLimit *= 2
		if serr := s.applyMemoryLimit(ctx); serr != nil {
			return errors.Join(err, serr)
		}
		s.raisedTo = s.memLimit
	}
}

// isOutOfMemory recognises DuckDB running out of its pool, which it reports
// as an Out of Memory Error or, at commit, as a block it could not allocate.
func isOutOfMemory(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Out of Memory") || strings.Contains(msg, "could not allocate block")
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
			err = errors.Join(err, ignoreDone(tx.Rollback()))
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

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

func rejectKey(source string, r Reject) (key string, id, line sql.NullInt64) {
	if r.EventID != 0 {
		return fmt.Sprintf("%s#%d", source, r.EventID), sql.NullInt64{Int64: r.EventID, Valid: true}, sql.NullInt64{Int64: r.Line, Valid: r.Line > 0}
	}
	return fmt.Sprintf("%s@line%d", source, r.Line), sql.NullInt64{}, sql.NullInt64{Int64: r.Line, Valid: r.Line > 0}
}

// insertRecord registers rec as a temporary Arrow view on the store's
// connection and copies it into the table with one INSERT ... SELECT, so
// DuckDB reads the columns directly instead of row by row.
// fresh says no id of the batch can be loaded yet (all are above the
// watermark the run started from), so the duplicate check is skipped.
func (s *Store) insertRecord(ctx context.Context, tx *sql.Tx, t *factTable, rec arrow.Record, minID, maxID int64, fresh bool) (int64, error) {
	view := "matlens_batch_" + t.name
	reader, err := array.NewRecordReader(t.schema, []arrow.Record{rec})
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", t.name, err)
	}
	defer reader.Release()
	lent := &lentReader{r: reader, schema: t.schema}
	defer lent.detach()
	var release func()
	err = s.conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		release, err = ar.RegisterView(lent, view)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("load %s: register arrow view: %w", t.name, err)
	}
	defer release()
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	cols := strings.Join(names, ", ")
	// Rows already present (a re-read the skip set did not catch) are left
	// out by id; the id range lets DuckDB skip row groups by their min/max.
	var res sql.Result
	if fresh {
		res, err = tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %[1]s (%[2]s) SELECT %[2]s FROM %[3]s", t.name, cols, view))
	} else {
		res, err = tx.ExecContext(ctx, fmt.Sprintf(
			"INSERT INTO %[1]s (%[2]s) SELECT %[2]s FROM %[3]s ANTI JOIN (SELECT event_id FROM %[1]s WHERE event_id BETWEEN $1 AND $2) USING (event_id)",
			t.name, cols, view), minID, maxID)
	}
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", t.name, err)
	}
	// The view points at a stream that is now consumed; drop it before the
	// stream's memory is released.
	if _, err := tx.ExecContext(ctx, "DROP VIEW IF EXISTS "+view); err != nil {
		return 0, fmt.Errorf("load %s: drop view: %w", t.name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", t.name, err)
	}
	return n, nil
}

// lentReader lends a record reader to DuckDB without giving up ownership.
// go-duckdb v1.8.2 exports the reader through the Arrow C stream interface,
// which retains it and pins it in a cgo handle, but never calls the stream's
// release callback; a plain reader (and its record) would stay pinned after
// every batch. The lent reader ignores Retain/Release and is detached after
// the INSERT, so only this small struct stays pinned.
type lentReader struct {
	r      array.RecordReader
	schema *arrow.Schema
}

func (l *lentReader) Retain()               {}
func (l *lentReader) Release()              {}
func (l *lentReader) Schema() *arrow.Schema { return l.schema }
func (l *lentReader) Next() bool            { return l.r != nil && l.r.Next() }
func (l *lentReader) Record() arrow.Record  { return l.r.Record() }
func (l *lentReader) Err() error {
	if l.r == nil {
		return nil
	}
	return l.r.Err()
}
func (l *lentReader) detach() { l.r = nil }
