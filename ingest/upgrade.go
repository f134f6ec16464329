package ingest

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/marcboeker/go-duckdb"

	"github.com/matlens/matlens/sql/duckfile"
)

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
