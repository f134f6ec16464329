package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/matlens/matlens/sql/duckfile"
)

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
