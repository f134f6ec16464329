// Package ingest reads Dagster's event log and turns its rows into the
// events matlens loads.
//
// A Source (PostgreSQL, or a pg_dump / COPY text file through FileSource)
// hands over raw event_logs rows; a Decoder parses each row's serdes JSON,
// legacy storage names included, into an Event: asset materializations,
// observations and plans, IO-manager reads and writes, step and run
// lifecycle events. Rows it cannot decode come back as a *DecodeError so
// the caller can quarantine them instead of stopping.
package ingest
