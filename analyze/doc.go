// Package analyze turns the fact tables ingest loaded into DuckDB into
// per-asset performance statistics (asset_stats), alerts and the
// performance-planning guide's capacity plan (capacity_plan), each also
// appended to a history table keyed by as_of.
//
// Data moves DuckDB -> Arrow -> gonum: the series queries order rows by
// asset (and partition) and time, so each series is a contiguous run of an
// Arrow float64 column, and the statistics read the column's buffer
// directly (a series that straddles two record batches is the only one
// copied). gonum panics on empty or unsorted input; every call here checks
// its preconditions first and yields NULL instead.
//
// The guide's planners (Inventory, Memory, Network, IOManager,
// ComputeCost) are pure functions, used both on observed data by Run and as
// what-if calculators by `matlens plan`.
//
// docs/analyze.md documents every column and formula.
package analyze
