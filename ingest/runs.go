package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

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
