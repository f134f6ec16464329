package ingesttest

import "github.com/matlens/matlens/fixtures"

// SmallDeployment is big enough to have every event shape (retries,
// failures, shared steps, partitions, cross-run reads) and small enough to
// load into PostgreSQL or DuckDB in about a second. Only the number of days
// varies: checking a load needs less history than checking windowed
// statistics.
func SmallDeployment(days int) fixtures.Options {
	o := fixtures.DefaultOptions()
	o.Assets, o.Days, o.RunsPerDay, o.Seed = 24, days, 3, 7
	return o
}
