// Package ingest loads Dagster's event log into the matlens DuckDB file, and
// is the only package that writes its fact tables.
//
// A Source (PostgreSQL in a READ ONLY transaction, or a pg_dump / COPY text
// file through FileSource) hands over raw event_logs rows of the types
// matlens uses; a Decoder parses each row's serdes JSON, legacy storage
// names included, into an Event: asset materializations, observations and
// plans, IO-manager reads and writes, step and run lifecycle events. Rows it
// cannot decode come back as a *DecodeError and are quarantined
// (rejected_events) instead of stopping the run.
//
// Run drives the stage: it reads the rows above the source's watermark plus
// a trailing re-read window (skipping ids already loaded), fills Arrow
// batches bounded by rows and bytes while the previous batch is loaded, and
// commits each batch (Arrow view + INSERT ... SELECT) and the watermark
// advance in one DuckDB transaction, with the lowest id whose derived rows
// (handled outputs' assets, read resolution, step executions, runs) are not
// rebuilt yet. Those are rebuilt every Options.DeriveEveryRows rows, inside
// a batch's transaction, and at the end of the run. Killing the process at
// any point leaves a consistent file; the next run ends where an
// uninterrupted one would have. A batch that runs DuckDB out of memory is
// rolled back and loaded again with a larger pool. The write-ahead log is
// folded into the file once it passes duckfile.WALCheckpointBytes or outgrows the
// file; smaller logs stay beside it for a later run.
//
// The file itself (opening, locks, session settings, Arrow views) belongs
// to sql/duckfile; OpenStore and NewStore add the fact schema and its
// upgrade. Run sets the threads and memory limit the load needs and leaves
// them for the next stage to set its own. Its errors start with "ingest: ",
// once; callers do not add the stage's name again.
package ingest
