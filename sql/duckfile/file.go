package duckfile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/marcboeker/go-duckdb"
)

// DefaultMemoryLimit is DuckDB's memory_limit on a freshly opened file, in
// bytes. DuckDB's own default (80% of RAM) would let an unattended run take
// the machine; a stage that needs more sets it with SetMemoryLimit.
const DefaultMemoryLimit = 64_000_000

// WALCheckpointBytes is the size of the write-ahead log above which Close
// and CheckpointIfLarge write it into the database file. A checkpoint
// rewrites the last, partly filled row group of every table written to,
// which costs about a second even after a small nightly load; a smaller log
// is left for a later run, and DuckDB replays it in milliseconds when the
// file is opened (read-only opens too).
const WALCheckpointBytes = 64 << 20

// ErrLocked means another process holds the DuckDB file (DuckDB lets one
// process write a file, and none while it is open for writing elsewhere).
// The wrapped message names the holder's PID.
var ErrLocked = errors.New("duckdb file is locked by another process")

// Options say how to open a file.
type Options struct {
	// ReadOnly opens an existing file without taking the writer's lock: any
	// number of read-only processes can share a file no one writes.
	ReadOnly bool
	// LockWait bounds how long Open retries while another process holds
	// the file; 0 tries once.
	LockWait time.Duration
}

// File is one open matlens DuckDB file and its single connection.
type File struct {
	db       *sql.DB
	conn     *sql.Conn
	path     string
	readOnly bool
}

// Open opens the file at path. Read-write opens create a missing file and
// leave checkpoints to the caller (CheckpointIfLarge, Close): DuckDB would
// otherwise checkpoint at every commit that outgrows its 16 MB log and at
// every close. Read-only opens fail on a missing file. When another process
// holds the file, Open retries until opts.LockWait has passed and then
// returns an error wrapping ErrLocked that names the holder.
func Open(ctx context.Context, path string, opts Options) (*File, error) {
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	deadline := time.Now().Add(opts.LockWait)
	for {
		f, err := open(ctx, path, opts.ReadOnly)
		if err == nil {
			return f, nil
		}
		if !isLockError(err) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("open %s: %w (waited %s): %s; close the other program (an analyst's DuckDB session?) or retry later",
				path, ErrLocked, opts.LockWait, lockHolder(err))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func open(ctx context.Context, path string, readOnly bool) (*File, error) {
	dsn := path
	if readOnly {
		dsn += "?access_mode=READ_ONLY"
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), db.Close())
	}
	f := &File{db: db, conn: conn, path: path, readOnly: readOnly}
	settings := fmt.Sprintf("SET memory_limit = '%dB'", int64(DefaultMemoryLimit))
	if !readOnly {
		settings += "; SET wal_autocheckpoint = '1GB'; PRAGMA disable_checkpoint_on_shutdown"
	}
	if _, err := conn.ExecContext(ctx, settings); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), f.close())
	}
	return f, nil
}

// Conn is the file's single connection. DuckDB's temporary tables, views
// and settings belong to a connection, so every stage works on this one.
func (f *File) Conn() *sql.Conn { return f.conn }

// Path is the file's path as it was opened.
func (f *File) Path() string { return f.path }

// ReadOnly says whether the file was opened read-only.
func (f *File) ReadOnly() bool { return f.readOnly }

// CheckpointIfLarge checkpoints when the write-ahead log has outgrown
// WALCheckpointBytes or the database file itself (a new file's first load
// then lands in the file, which holds the data on its own), and says
// whether it did. before, when set, runs just before the checkpoint.
func (f *File) CheckpointIfLarge(ctx context.Context, before func()) (bool, error) {
	if f.readOnly {
		return false, nil
	}
	wal, err := os.Stat(f.path + ".wal")
	if err != nil {
		return false, nil
	}
	db, err := os.Stat(f.path)
	if err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	if wal.Size() < WALCheckpointBytes && wal.Size() < db.Size() {
		return false, nil
	}
	if before != nil {
		before()
	}
	if _, err := f.conn.ExecContext(ctx, "CHECKPOINT"); err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	return true, nil
}

// Close checkpoints a read-write file whose write-ahead log has grown
// large, then releases the connection and the file lock.
func (f *File) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, err := f.CheckpointIfLarge(ctx, nil)
	return errors.Join(err, f.close())
}

func (f *File) close() error { return errors.Join(f.conn.Close(), f.db.Close()) }

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

// IsOutOfMemory recognises DuckDB running out of its buffer pool, which it
// reports as an Out of Memory Error or, at commit, as a block it could not
// allocate (under another error type).
func IsOutOfMemory(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "Out of Memory") || strings.Contains(msg, "could not allocate block")
}

// Rollback rolls tx back for a caller that is already returning an error;
// a transaction that has already ended (DuckDB aborts some on error) is not
// a second error.
func Rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}
