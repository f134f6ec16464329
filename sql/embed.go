// Package sql holds every SQL statement matlens runs, as .sql files embedded
// into the binary. Import it under another name (isql) so it does not clash
// with database/sql.
package sql

import (
	"embed"
	"io/fs"
	"regexp"
	"slices"
)

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

// createTable matches the name in a CREATE TABLE statement that starts a
// line; CREATE TEMP TABLE does not match, temporary tables live and die
// with one connection and are never in a file.
var createTable = regexp.MustCompile(`(?im)^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)`)

// DuckDBTables returns, sorted, the names of the permanent tables the
// embedded DuckDB statements create: every table matlens may leave in its
// file. The statements are the one place the schema is written down.
func DuckDBTables() []string {
	var names []string
	files, err := fs.Glob(DuckDB, "duckdb/*.sql")
	if err != nil {
		panic("sql: " + err.Error())
	}
	for _, f := range files {
		for _, m := range createTable.FindAllStringSubmatch(MustRead(DuckDB, f), -1) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
