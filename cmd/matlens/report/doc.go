// Package report renders the derived tables of a matlens DuckDB file
// (tier_recommendations, tier_savings_summary, asset_stats, alerts and
// capacity_plan, as analyze and recommend last wrote them) for people and
// for other tools: readable text tables, one CSV or Parquet file per
// section, one JSON document, or one self-contained HTML page with charts.
//
// The report only reads. Its SELECTs are the .sql files under sql/,
// embedded into the binary; the Parquet export is DuckDB's own COPY, so
// the files carry DuckDB's types. The HTML page loads nothing from
// anywhere: its CSS is inline and its charts are SVG drawn with
// gonum.org/v1/plot and inlined into the page.
package report
