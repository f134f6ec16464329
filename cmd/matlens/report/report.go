package report

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Formats are the values Options.Format accepts.
var Formats = []string{"table", "csv", "json", "parquet", "html"}

// ErrNoData means the DuckDB file holds no analysis to report on: analyze
// and recommend (or matlens run) have not filled it yet.
var ErrNoData = errors.New("nothing to report")

// Options say what to write where.
type Options struct {
	// Format is one of Formats.
	Format string
	// Out is where it goes. table, json and html: a file, or "-" for
	// Stdout. csv and parquet: a directory (created if missing), one file
	// per section.
	Out string
	// Top is how many rows the ranked lists and charts show (top
	// recommendations, assets by cost, assets by savings). The exports
	// (csv, json, parquet) always hold every row.
	Top int
	// Provider is the configured cloud. The recommendations are priced on
	// one provider per recommend run; when the tables hold several, this
	// one is charted.
	Provider string
	// DB is the DuckDB file's path, shown in the report's header.
	DB string
	// Stdout receives the output when Out is "-".
	Stdout io.Writer
	// Now stamps the report ("generated at"); zero means time.Now.
	Now time.Time
}

// DefaultOptions is a text report of the top 20 to stdout.
func DefaultOptions() Options {
	return Options{Format: "table", Out: "-", Top: 20, Provider: "aws", Stdout: os.Stdout}
}

// Validate names the first bad option.
func (o Options) Validate() error {
	if !slices.Contains(Formats, o.Format) {
		return fmt.Errorf("format %q is not one of %s", o.Format, strings.Join(Formats, ", "))
	}
	if o.Out == "" {
		return errors.New("out: no output path")
	}
	if o.Out == "-" && (o.Format == "csv" || o.Format == "parquet") {
		return fmt.Errorf("out: %s writes one file per section, into a directory, not to stdout", o.Format)
	}
	if o.Top < 1 {
		return fmt.Errorf("top: %d is not a positive number", o.Top)
	}
	return nil
}

// Summary says what Write wrote.
type Summary struct {
	AsOf     time.Time
	Format   string
	Files    []string // the files written; empty for stdout
	Provider string   // the provider the recommendations were priced on

	Assets, Partitions     int64
	Recommendations, Moves int64
	Alerts, CriticalAlerts int64
	CostNowUSDMonth        float64
	SavingsUSDMonth        float64
}

//go:embed sql/*.sql
var queries embed.FS

func mustQuery(name string) string {
	b, err := queries.ReadFile("sql/" + name + ".sql")
	if err != nil {
		panic("report: " + err.Error())
	}
	return strings.TrimSpace(string(b))
}

// section is one exported table: its name is the JSON key and the file stem.
type section struct {
	name, table, query string
}

var sections = []section{
	{"recommendations", "tier_recommendations", mustQuery("recommendations")},
	{"savings_summary", "tier_savings_summary", mustQuery("savings_summary")},
	{"asset_stats", "asset_stats", mustQuery("asset_stats")},
	{"alerts", "alerts", mustQuery("alerts")},
	{"capacity_plan", "capacity_plan", mustQuery("capacity_plan")},
	{"asset_storage", "asset_storage", mustQuery("asset_storage")},
	{"orphaned_objects", "orphaned_objects", mustQuery("orphaned_objects")},
}

var (
	statusSQL             = mustQuery("status")
	tablesSQL             = mustQuery("tables")
	topRecommendationsSQL = mustQuery("top_recommendations")
	assetCostsSQL         = mustQuery("asset_costs")
	capacityHighlightsSQL = mustQuery("capacity_highlights")
	sizeSourcesSQL        = mustQuery("size_sources")
	topOrphansSQL         = mustQuery("top_orphans")
	execSeriesSQL         = mustQuery("exec_series")
	sizeSeriesSQL         = mustQuery("size_series")
)

// Write reads the current derived tables through conn and writes them in
// opts.Format to opts.Out. Single files are written to a temporary file
// and renamed into place, so a reader never sees half a report; so is each
// file of a directory output.
func Write(ctx context.Context, conn *sql.Conn, opts Options) (Summary, error) {
	if err := opts.Validate(); err != nil {
		return Summary{}, err
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	st, jsonCols, err := readStatus(ctx, conn)
	if err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	sum := Summary{
		AsOf: st.AsOf, Format: opts.Format,
		Assets: st.Assets, Partitions: st.Partitions,
		Recommendations: st.Recommendations, Moves: st.Moves,
		Alerts: st.Alerts, CriticalAlerts: st.Critical,
	}
	switch opts.Format {
	case "csv":
		sum.Files, err = writeCSV(ctx, conn, opts.Out)
	case "parquet":
		sum.Files, err = writeParquet(ctx, conn, opts.Out)
	case "json":
		err = output(opts, &sum, func(w io.Writer) error { return writeJSON(ctx, conn, w, st.AsOf, jsonCols) })
	case "table", "html":
		var v *view
		v, err = loadView(ctx, conn, opts, st)
		if err != nil {
			break
		}
		sum.Provider = v.Provider
		sum.CostNowUSDMonth, sum.SavingsUSDMonth = v.Total.CostNow, v.Total.Savings
		if opts.Format == "table" {
			err = output(opts, &sum, func(w io.Writer) error { return writeText(w, v) })
		} else {
			err = output(opts, &sum, func(w io.Writer) error { return writeHTML(w, v) })
		}
	}
	if err != nil {
		return Summary{}, fmt.Errorf("report: %s: %w", opts.Format, err)
	}
	if sum.Provider == "" {
		// The exports do not load the view; the totals come from the summary.
		sum.Provider, sum.CostNowUSDMonth, sum.SavingsUSDMonth, err = totals(ctx, conn, opts.Provider)
		if err != nil {
			return Summary{}, fmt.Errorf("report: %w", err)
		}
	}
	return sum, nil
}

// output sends a single-file report to stdout or, atomically, to opts.Out.
func output(opts Options, sum *Summary, write func(io.Writer) error) error {
	if opts.Out == "-" {
		return write(opts.Stdout)
	}
	if err := writeFileAtomic(opts.Out, write); err != nil {
		return err
	}
	sum.Files = []string{opts.Out}
	return nil
}

// writeFileAtomic writes path through a temporary file in the same
// directory, synced and then renamed over path: a crash leaves the old
// file or the new one, never a torn one. The temporary file is removed on
// failure.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// status is what the file holds.
type status struct {
	AsOf                   time.Time
	Assets, Partitions     int64
	Recommendations, Moves int64
	Alerts, Critical       int64
	CapacityRows           int64
	SummaryRows            int64
}

// readStatus checks that analyze and recommend have filled the file and
// returns the JSON-typed columns of each table.
func readStatus(ctx context.Context, conn *sql.Conn) (status, map[string][]string, error) {
	var st status
	rows, err := conn.QueryContext(ctx, tablesSQL)
	if err != nil {
		return st, nil, fmt.Errorf("list tables: %w", err)
	}
	jsonCols := map[string][]string{}
	for rows.Next() {
		var name string
		var cols []any
		if err := rows.Scan(&name, &cols); err != nil {
			return st, nil, errors.Join(fmt.Errorf("list tables: %w", err), rows.Close())
		}
		jsonCols[name] = []string{}
		for _, c := range cols {
			if s, ok := c.(string); ok {
				jsonCols[name] = append(jsonCols[name], s)
			}
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return st, nil, fmt.Errorf("list tables: %w", err)
	}
	var missing []string
	for _, s := range sections {
		if _, ok := jsonCols[s.table]; !ok {
			missing = append(missing, s.table)
		}
	}
	if len(missing) > 0 {
		return st, nil, fmt.Errorf("%w: the DuckDB file has no %s yet; run `matlens analyze` and `matlens recommend` (or `matlens run`) first",
			ErrNoData, strings.Join(missing, ", "))
	}
	var asOf sql.NullTime
	err = conn.QueryRowContext(ctx, statusSQL).Scan(&asOf, &st.Assets, &st.Partitions, &st.Recommendations, &st.Moves,
		&st.Alerts, &st.Critical, &st.CapacityRows, &st.SummaryRows)
	if err != nil {
		return st, nil, fmt.Errorf("read status: %w", err)
	}
	switch {
	case !asOf.Valid:
		return st, nil, fmt.Errorf("%w: asset_stats is empty; run `matlens analyze` and `matlens recommend` (or `matlens run`) first", ErrNoData)
	case st.Recommendations == 0:
		return st, nil, fmt.Errorf("%w: tier_recommendations is empty; run `matlens recommend` (or `matlens run`) first", ErrNoData)
	}
	st.AsOf = asOf.Time.UTC()
	return st, jsonCols, nil
}
