// Package analyze turns the fact tables ingest loaded into DuckDB into
// per-asset performance statistics (asset_stats), alerts and the
// performance-planning guide's capacity plan (capacity_plan), each also
// appended to a history table keyed by as_of.
//
// Data moves DuckDB -> Arrow -> gonum: one series query orders the events
// by asset and time; Go gathers each asset's series (and its partitions')
// into reused 16-byte aligned buffers, so a statistic depends only on its
// series, however DuckDB cut its records. gonum panics on empty or unsorted
// input; every call here checks its preconditions first and yields NULL
// instead.
//
// The guide's planners (Inventory, Memory, Network, IOManager,
// ComputeCost) are pure functions, used both on observed data by Run and as
// what-if calculators by `matlens plan`.
//
// Errors: a stage names itself once, at the start of its errors
// (Recommend's start "recommend: "), and its caller does not add the
// stage's name again.
//
// docs/analyze.md documents every column and formula.
package analyze
