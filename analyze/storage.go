package analyze

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	isql "github.com/matlens/matlens/sql"
)

var (
	storageLocationsSQL = isql.MustRead(isql.DuckDB, "duckdb/analyze_storage_locations.sql")
	storageSourcesSQL   = isql.MustRead(isql.DuckDB, "duckdb/analyze_storage_sources.sql")
	storageMatchSQL     = isql.MustRead(isql.DuckDB, "duckdb/analyze_storage_match.sql")
	storageSQL          = isql.MustRead(isql.DuckDB, "duckdb/analyze_storage.sql")
)

// DefaultLocationKeys are the metadata keys Dagster's IO managers record an
// output's location under, in the order they are trusted: S3 / GCS / Azure
// pickle IO managers write uri, newer ones dagster/uri, UPath and
// filesystem IO managers path (which the S3 pickle IO manager also writes,
// as a bare key).
var DefaultLocationKeys = []string{"uri", "dagster/uri", "path"}

// storage joins assets to the loaded objects: analyze_asset_storage and
// analyze_orphans, published with the other tables.
func storage(ctx context.Context, conn *sql.Conn, opts Options) error {
	keys := opts.LocationKeys
	if len(keys) == 0 {
		keys = DefaultLocationKeys
	}
	paths := make([]string, len(keys))
	for i, k := range keys {
		// A JSONPath member in quotes, so keys with '/' or '.' stay one key.
		paths[i] = `$."` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(k) + `"`
	}
	pathsJSON, _ := json.Marshal(paths)
	rootsJSON, _ := json.Marshal(append([]string{}, opts.OrphanPrefixes...))
	if _, err := conn.ExecContext(ctx, `SET VARIABLE matlens_location_paths = from_json($1, '["VARCHAR"]')`, string(pathsJSON)); err != nil {
		return fmt.Errorf("set location keys: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SET VARIABLE matlens_orphan_roots = from_json($1, '["VARCHAR"]')`, string(rootsJSON)); err != nil {
		return fmt.Errorf("set orphan prefixes: %w", err)
	}
	if _, err := conn.ExecContext(ctx, storageLocationsSQL); err != nil {
		return fmt.Errorf("find asset locations: %w", err)
	}
	if _, err := conn.ExecContext(ctx, storageSourcesSQL); err != nil {
		return fmt.Errorf("choose object sources: %w", err)
	}
	var depth sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT max(depth) FROM analyze_prefixes").Scan(&depth); err != nil {
		return fmt.Errorf("find prefix depth: %w", err)
	}
	if _, err := conn.ExecContext(ctx, matchQuery(int(depth.Int64))); err != nil {
		return fmt.Errorf("match objects to locations: %w", err)
	}
	if _, err := conn.ExecContext(ctx, storageSQL); err != nil {
		return fmt.Errorf("sum asset storage: %w", err)
	}
	return nil
}

// matchQuery fills analyze_storage_match.sql for prefixes up to depth:
// one LEFT JOIN per depth, deepest first in the coalesce so the deepest
// location or known prefix wins.
func matchQuery(depth int) string {
	var joins, locID, locDepth, known, root []string
	for d := depth; d >= 1; d-- {
		p := fmt.Sprintf("p%d", d)
		joins = append(joins, fmt.Sprintf(
			"    LEFT JOIN analyze_prefixes %[1]s ON %[1]s.depth = %[2]d AND %[1]s.provider = o.provider AND %[1]s.bucket = o.bucket AND %[1]s.prefix = array_to_string(o.parts[1:%[2]d], '/')",
			p, d))
		locID = append(locID, p+".loc_id")
		locDepth = append(locDepth, fmt.Sprintf("WHEN %s.loc_id IS NOT NULL THEN %d", p, d))
		known = append(known, fmt.Sprintf("WHEN %s.prefix IS NOT NULL THEN %d", p, d))
		root = append(root, fmt.Sprintf("coalesce(%s.is_root, false)", p))
	}
	if depth == 0 {
		locID, root = []string{"NULL::BIGINT"}, []string{"false"}
		locDepth, known = []string{"WHEN false THEN 0"}, []string{"WHEN false THEN 0"}
	}
	return strings.NewReplacer(
		"{{joins}}", strings.Join(joins, "\n"),
		"{{loc_id}}", "coalesce("+strings.Join(append(locID, "NULL"), ", ")+")",
		"{{loc_depth}}", "CASE "+strings.Join(locDepth, " ")+" END",
		"{{known_depth}}", "CASE "+strings.Join(known, " ")+" END",
		"{{under_root}}", "("+strings.Join(root, " OR ")+")",
	).Replace(storageMatchSQL)
}
