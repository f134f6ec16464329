package ingest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/matlens/matlens/sql/duckfile"
)

// Options configure the ingest stage.
type Options struct {
	// BatchRows and BatchBytes are the ceilings at which a batch is flushed
	// to DuckDB; both must be set so memory stays bounded.
	BatchRows  int
	BatchBytes int
	// ReReadWindow is how many ids below the watermark each run reads again,
	// so a row whose lower id committed after a higher one is not lost.
	ReReadWindow int64
	// LockWait bounds how long a run waits for a DuckDB file held by
	// another process.
	LockWait time.Duration
	// DeriveEveryRows is how many loaded rows wait before their derived
	// rows (step executions, runs, resolved outputs and reads) are rebuilt;
	// the rest are rebuilt at the end of the run. A rebuild has a fixed
	// cost on top of its rows, so rebuilding after every batch would pay it
	// dozens of times in a large load (docs/performance.md).
	DeriveEveryRows int
	// Keys maps metadata labels to sizes, rows, times, memory and location.
	Keys MetadataKeys
	// DuckDBMemoryLimit bounds DuckDB's buffer pool during the load ("" =
	// DefaultDuckDBMemoryLimit); raise it when a run says DuckDB ran out.
	DuckDBMemoryLimit string
	// Allocator for Arrow buffers; nil means the Go allocator.
	Allocator memory.Allocator
	// Progress, when set, is called after every committed batch.
	Progress func(Stats)
}

// DefaultOptions returns the settings matlens runs with unless configured.
func DefaultOptions() Options {
	return Options{
		BatchRows:         50_000,
		BatchBytes:        32 << 20,
		ReReadWindow:      10_000,
		DeriveEveryRows:   150_000,
		LockWait:          30 * time.Second,
		Keys:              DefaultMetadataKeys(),
		DuckDBMemoryLimit: DefaultDuckDBMemoryLimit,
	}
}

// Validate names the first bad option, in the config file's terms.
func (o Options) Validate() error {
	switch {
	case o.BatchRows <= 0:
		return errors.New("ingest.batch_rows must be > 0")
	case o.BatchBytes <= 0:
		return errors.New("ingest.batch_bytes must be > 0")
	case o.DeriveEveryRows <= 0:
		return errors.New("ingest: DeriveEveryRows must be > 0")
	case o.ReReadWindow < 0:
		return errors.New("ingest.reread_window must be >= 0")
	case o.DuckDBMemoryLimit != "" && !duckfile.ValidSize(o.DuckDBMemoryLimit):
		_, err := duckfile.ParseSize(o.DuckDBMemoryLimit)
		return fmt.Errorf("ingest.duckdb_memory_limit: %w", err)
	}
	return nil
}

// Stats describe one ingest run.
type Stats struct {
	Source          string
	RowsRead        int64 // rows the source handed over
	RowsLoaded      int64 // events inserted into the fact tables
	RowsRejected    int64 // rows quarantined to rejected_events
	RowsSkipped     int64 // rows of the re-read window already loaded
	Batches         int64
	WatermarkBefore int64
	WatermarkAfter  int64
	// TargetID is the source's highest id when the run started (0 when the
	// source cannot say); progress is WatermarkAfter against it.
	TargetID       int64
	FlushedByBytes int64 // batches flushed by the byte ceiling, not the row ceiling
	// MemoryLimitRaisedTo is DuckDB's memory limit in bytes after a batch
	// ran out of memory and was loaded again with more (0: never).
	MemoryLimitRaisedTo int64
	Elapsed             time.Duration
}

// Run ingests every new row of src into the store: rows above the watermark
// plus the trailing re-read window, decoded, batched as Arrow records and
// committed batch by batch together with the watermark. Cancelling ctx stops
// between rows; what was committed stays, and the next run continues.
func Run(ctx context.Context, src Source, store *Store, opts Options, logger *slog.Logger) (st Stats, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("ingest: %w", err)
		}
	}()
	if err := opts.Validate(); err != nil {
		return st, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("stage", "ingest")
	mem := opts.Allocator
	if mem == nil {
		mem = memory.NewGoAllocator()
	}
	start := time.Now()
	st.Source = src.Name()
	limit := cmp.Or(opts.DuckDBMemoryLimit, DefaultDuckDBMemoryLimit)
	if err := store.setMemoryLimit(ctx, limit); err != nil {
		return st, err
	}
	// PostgreSQL and the reading goroutine keep both cores of a small
	// machine busy; DuckDB's parallel plans over one batch only add
	// scheduling.
	if err := duckfile.SetThreads(ctx, store.conn, 1); err != nil {
		return st, err
	}

	watermark, err := store.Watermark(ctx, st.Source)
	if err != nil {
		return st, err
	}
	st.WatermarkBefore, st.WatermarkAfter = watermark, watermark
	store.deriveEvery = opts.DeriveEveryRows
	from := max(watermark-opts.ReReadWindow, 0)
	seen, err := store.loadedIDs(ctx, st.Source, from+1)
	if err != nil {
		return st, err
	}
	logger.Debug("re-read window prepared", "ids_already_loaded", len(seen), "elapsed", time.Since(start).Round(time.Millisecond))
	runID, err := store.beginRun(ctx, st.Source, watermark, start.UTC())
	if err != nil {
		return st, err
	}
	defer func() {
		st.Elapsed = time.Since(start)
		status := "success"
		switch {
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			status = "interrupted"
		case err != nil:
			status = "failed"
		}
		err = errors.Join(err, store.finishRun(runID, &st, status, err))
	}()
	if sz, ok := src.(Sizer); ok {
		if st.TargetID, err = sz.MaxID(ctx); err != nil {
			return st, err
		}
	}
	logger.Info("ingest started", "source", st.Source, "watermark", watermark, "reread_from", from, "source_max_id", st.TargetID)

	// Two batches: the reader fills one while the loader commits the other,
	// so reading/decoding and DuckDB overlap and memory stays at two batches.
	free := make(chan *Batch, 2)
	full := make(chan *Batch, 1)
	for range 2 {
		b := NewBatch(mem)
		defer b.Release()
		free <- b
	}

	// warnRaised says once per raise that DuckDB needed a larger pool.
	warnRaised := func() {
		if store.raisedTo > st.MemoryLimitRaisedTo {
			st.MemoryLimitRaisedTo = store.raisedTo
			logger.Warn("DuckDB ran out of memory; the work was rolled back and done again with a larger memory limit",
				"memory_limit_mb", store.raisedTo/1e6, "configured", limit,
				"hint", "set ingest.duckdb_memory_limit to avoid the retry")
		}
	}
	outOfMemory := func(err error) error {
		if duckfile.IsOutOfMemory(err) {
			return fmt.Errorf("%w (DuckDB ran out of memory at %dMB, four times ingest.duckdb_memory_limit %s: raise it in the config; the run can simply be repeated)",
				err, store.memLimit/1e6, limit)
		}
		return err
	}

	// The reader goroutine owns these counters; each batch carries a copy
	// so the loader can record progress without sharing them.
	var read, skipped, byBytes int64
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(full)
		dec := NewDecoder(opts.Keys)
		var ev Event
		b := <-free
		flush := func() error {
			if b.Rows == 0 {
				return nil
			}
			b.readSoFar, b.skippedSoFar = read, skipped
			select {
			case full <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
			select {
			case b = <-free:
			case <-gctx.Done():
				return gctx.Err()
			}
			return nil
		}
		err := src.Read(gctx, Query{AfterID: from, Types: LoadedTypes()}, func(r *Row) error {
			read++
			if r.ID <= watermark {
				if _, ok := seen[r.ID]; ok {
					skipped++
					return nil
				}
			}
			if err := dec.Decode(r, &ev); err != nil {
				var de *DecodeError
				if !errors.As(err, &de) {
					return err
				}
				b.AddReject(Reject{EventID: r.ID, Line: r.Line, Type: r.Type.String, Reason: de.Reason, Excerpt: Excerpt(r.Event)})
			} else {
				b.Add(&ev)
			}
			switch {
			case b.Rows >= opts.BatchRows:
				return flush()
			case b.Bytes >= opts.BatchBytes:
				byBytes++
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return flush()
	})
	g.Go(func() error {
		lastLog := time.Now()
		// A batch that has started to commit finishes even when the run is
		// being stopped: cancelling a DuckDB transaction midway makes
		// database/sql discard the connection, and the run could not then
		// record how it ended. The stop takes effect between batches.
		commitCtx := context.WithoutCancel(gctx)
		for b := range full {
			if err := gctx.Err(); err != nil {
				return err
			}
			st.RowsRead, st.RowsSkipped = b.readSoFar, b.skippedSoFar
			tm, err := store.commitBatch(commitCtx, st.Source, runID, b, &st)
			if err != nil {
				err = outOfMemory(err)
				return fmt.Errorf("batch %d (ids %d-%d): %w", st.Batches+1, b.MinID, b.MaxID, err)
			}
			warnRaised()
			releaseCHeap()
			logger.Debug("batch committed", "batch", st.Batches, "rows", b.Rows, "min_id", b.MinID, "max_id", b.MaxID,
				"load", tm.load.Round(time.Millisecond), "derive", tm.derive.Round(time.Millisecond), "commit", tm.commit.Round(time.Millisecond))
			b.Reset()
			if opts.Progress != nil {
				opts.Progress(st)
			}
			if time.Since(lastLog) >= 5*time.Second {
				lastLog = time.Now()
				logger.Info("ingest progress", "rows_read", st.RowsRead, "rows_loaded", st.RowsLoaded,
					"rows_per_s", int64(float64(st.RowsRead)/time.Since(start).Seconds()))
			}
			select {
			case free <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	err = g.Wait()
	// Both goroutines are done: the counters are safe to read.
	st.RowsRead, st.RowsSkipped, st.FlushedByBytes = read, skipped, byBytes
	if err != nil {
		return st, err
	}
	// The final derivation is the load's memory peak (see docs/performance.md).
	releaseCHeap()
	deriving := time.Now()
	err = store.finishDerive(ctx)
	warnRaised()
	if err != nil {
		return st, outOfMemory(err)
	}
	logger.Debug("final derivation finished", "elapsed", time.Since(deriving).Round(time.Millisecond))
	// Reading is over: the checkpoint may compress on every core. A large
	// load is written into the file now, within the load's memory limit,
	// so the later stages read compressed tables. The checkpoint is the
	// run's memory peak: the Go heap the reading left behind is handed back
	// to the OS first. A run being stopped skips it; closing the file still
	// checkpoints a large log.
	if err := duckfile.SetThreads(ctx, store.conn, 0); err != nil {
		return st, err
	}
	ckpt := time.Now()
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if done, err := store.file.CheckpointIfLarge(ctx, debug.FreeOSMemory); err != nil {
		return st, err
	} else if done {
		logger.Debug("checkpoint written", "elapsed", time.Since(ckpt).Round(time.Millisecond))
	}
	logger.Info("ingest finished", "rows_read", st.RowsRead, "rows_loaded", st.RowsLoaded,
		"rows_rejected", st.RowsRejected, "rows_skipped", st.RowsSkipped, "batches", st.Batches,
		"watermark", st.WatermarkAfter, "elapsed", time.Since(start).Round(time.Millisecond))
	return st, nil
}
