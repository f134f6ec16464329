package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
