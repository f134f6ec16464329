// Package duckfile owns the matlens DuckDB file: opening it read-write or
// read-only with a bounded wait for another process's lock, the session
// settings a stage asks for (threads, memory limit, checkpoint policy),
// lending Arrow data to DuckDB as a view, and recognising the errors a
// caller acts on (a held lock, an exhausted buffer pool).
//
// It knows no table: ingest owns the fact schema and its upgrade, analyze
// the derived schema. Each stage sets the settings it needs when it starts
// and restores nothing behind another stage's back, so the order of stages
// on one connection never changes what a stage runs with.
//
// Errors carry the operation that failed ("open FILE: ..."), not a stage
// name: the stage that called names itself once.
package duckfile
