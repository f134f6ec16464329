// Package sql holds every SQL statement matlens runs, as .sql files embedded
// into the binary. Import it under another name (isql) so it does not clash
// with database/sql.
package sql

import "embed"

// DuckDB holds the DuckDB schema and queries (duckdb/*.sql).
//
//go:embed duckdb/*.sql
var DuckDB embed.FS

// Postgres holds the read-only extraction queries run against Dagster's
// database (postgres/*.sql).
//
//go:embed postgres/*.sql
var Postgres embed.FS

// Examples holds the analyst example queries (examples/*.sql), one
// statement each; tests run every one of them against fixture data.
//
//go:embed examples/*.sql
var Examples embed.FS

// MustRead returns the text of one embedded file; a missing file is a build
// mistake, so it panics.
func MustRead(fs embed.FS, name string) string {
	b, err := fs.ReadFile(name)
	if err != nil {
		panic("sql: " + err.Error())
	}
	return string(b)
}
