package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/matlens/matlens/sql/duckfile"
)

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
