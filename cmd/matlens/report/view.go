package report

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// view is what the text and HTML reports show.
type view struct {
	Generated time.Time
	AsOf      time.Time
	DB        string
	Provider  string
	Top       int
	Status    status
	Total     total

	Summary    *table // tier_savings_summary, every provider
	TopRecs    *table // the Top moves that save the most
	Alerts     *table
	AssetCosts []assetCost // the charted provider's assets, dearest first
	Capacity   *table      // capacity_plan's deployment-wide figures
	Sizes      *table      // whole assets by where their size came from
	Orphans    *table      // the Top orphan groups by savings

	CostByClass classCosts
	Exec        []series // execution-time series of the assets with alerts
	ExecAssets  int      // assets with alerts (Exec may show fewer)
	Growth      []growth // the fastest-growing assets
}

// total is a provider's total row of tier_savings_summary.
type total struct {
	Assets, Rows         int64
	SizeGB               float64
	CostNow, CostAfter   float64
	Savings, SavingsYear float64
}

type assetCost struct {
	Asset                       string
	Rows, Moves                 int64
	SizeGB                      float64
	CostNow, CostAfter, Savings float64
	Compute                     float64
	ComputeKnown                bool
}

func (a assetCost) totalNow() float64 { return a.CostNow + a.Compute }

// classCosts is the monthly storage bill per class, now and after the moves.
type classCosts struct {
	Classes    []string
	Now, After []float64
}

type point struct {
	T time.Time
	V float64
}

type series struct {
	Name   string
	Points []point
}

type growth struct {
	series
	AsOf                   time.Time
	Latest, PerDay         float64
	Forecast30, Forecast90 float64
}

// Chart limits: more lines than these are unreadable.
const (
	maxExecLines   = 8
	maxGrowthLines = 6
)

func loadView(ctx context.Context, conn *sql.Conn, opts Options, st status) (*view, error) {
	v := &view{Generated: opts.Now.UTC(), AsOf: st.AsOf, DB: opts.DB, Top: opts.Top, Status: st}
	var err error
	if v.Summary, err = queryTable(ctx, conn, sectionQuery("savings_summary")); err != nil {
		return nil, fmt.Errorf("savings summary: %w", err)
	}
	v.Provider = pickProvider(v.Summary, opts.Provider)
	v.Total, v.CostByClass = summarize(v.Summary, v.Provider)
	if v.TopRecs, err = queryTable(ctx, conn, topRecommendationsSQL, opts.Top); err != nil {
		return nil, fmt.Errorf("top recommendations: %w", err)
	}
	if v.Alerts, err = queryTable(ctx, conn, sectionQuery("alerts")); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	if v.Capacity, err = queryTable(ctx, conn, capacityHighlightsSQL, v.Provider); err != nil {
		return nil, fmt.Errorf("capacity plan: %w", err)
	}
	if v.Sizes, err = queryTable(ctx, conn, sizeSourcesSQL); err != nil {
		return nil, fmt.Errorf("size sources: %w", err)
	}
	if v.Orphans, err = queryTable(ctx, conn, topOrphansSQL, opts.Top); err != nil {
		return nil, fmt.Errorf("orphaned objects: %w", err)
	}
	costs, err := queryTable(ctx, conn, assetCostsSQL)
	if err != nil {
		return nil, fmt.Errorf("asset costs: %w", err)
	}
	for r := range costs.rows {
		if costs.str(r, "provider") != v.Provider {
			continue
		}
		compute, known := costs.float(r, "compute_usd_month")
		v.AssetCosts = append(v.AssetCosts, assetCost{
			Asset: costs.str(r, "asset_key"),
			Rows:  int64(costs.f(r, "rows")), Moves: int64(costs.f(r, "moves")),
			SizeGB: costs.f(r, "size_gb"), CostNow: costs.f(r, "cost_now_usd_month"),
			CostAfter: costs.f(r, "cost_after_usd_month"), Savings: costs.f(r, "savings_usd_month"),
			Compute: compute, ComputeKnown: known,
		})
	}
	slices.SortStableFunc(v.AssetCosts, func(a, b assetCost) int {
		return cmp.Or(cmp.Compare(b.totalNow(), a.totalNow()), cmp.Compare(a.Asset, b.Asset))
	})
	if v.Exec, v.ExecAssets, err = readExecSeries(ctx, conn, v.Alerts); err != nil {
		return nil, fmt.Errorf("execution-time series: %w", err)
	}
	if v.Growth, err = readGrowth(ctx, conn); err != nil {
		return nil, fmt.Errorf("size series: %w", err)
	}
	return v, nil
}

func sectionQuery(name string) string {
	for _, s := range sections {
		if s.name == name {
			return s.query
		}
	}
	panic("report: no section " + name)
}

// pickProvider: recommend prices one provider per run, so the tables
// normally hold one; when they hold several, the configured one wins.
func pickProvider(summary *table, preferred string) string {
	var providers []string
	for r := range summary.rows {
		p := summary.str(r, "provider")
		if p == preferred {
			return p
		}
		if !slices.Contains(providers, p) {
			providers = append(providers, p)
		}
	}
	if len(providers) == 0 {
		return preferred
	}
	slices.Sort(providers)
	return providers[0]
}

// summarize takes the provider's total row and its bill per class: now by
// current class, after by recommended class.
func summarize(summary *table, provider string) (total, classCosts) {
	var t total
	var cc classCosts
	idx := func(class string) int {
		i := slices.Index(cc.Classes, class)
		if i < 0 {
			cc.Classes = append(cc.Classes, class)
			cc.Now = append(cc.Now, 0)
			cc.After = append(cc.After, 0)
			i = len(cc.Classes) - 1
		}
		return i
	}
	for r := range summary.rows {
		if summary.str(r, "provider") != provider {
			continue
		}
		cur, rec := summary.str(r, "current_class"), summary.str(r, "recommended_class")
		if cur == "*" {
			t = total{
				Assets: int64(summary.f(r, "assets")), Rows: int64(summary.f(r, "objects_rows")),
				SizeGB: summary.f(r, "size_gb"), CostNow: summary.f(r, "cost_now_usd_month"),
				CostAfter: summary.f(r, "cost_after_usd_month"), Savings: summary.f(r, "savings_usd_month"),
				SavingsYear: summary.f(r, "savings_usd_year"),
			}
			continue
		}
		cc.Now[idx(cur)] += summary.f(r, "cost_now_usd_month")
		cc.After[idx(rec)] += summary.f(r, "cost_after_usd_month")
	}
	// Dearest class (now) first, so the bars read left to right by weight.
	order := make([]int, len(cc.Classes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(cc.Now[b]+cc.After[b], cc.Now[a]+cc.After[a]), cmp.Compare(cc.Classes[a], cc.Classes[b]))
	})
	sorted := classCosts{}
	for _, i := range order {
		sorted.Classes = append(sorted.Classes, cc.Classes[i])
		sorted.Now = append(sorted.Now, cc.Now[i])
		sorted.After = append(sorted.After, cc.After[i])
	}
	return t, sorted
}

// totals is the provider and money of Summary for the exports.
func totals(ctx context.Context, conn *sql.Conn, preferred string) (string, float64, float64, error) {
	s, err := queryTable(ctx, conn, sectionQuery("savings_summary"))
	if err != nil {
		return "", 0, 0, fmt.Errorf("savings summary: %w", err)
	}
	p := pickProvider(s, preferred)
	t, _ := summarize(s, p)
	return p, t.CostNow, t.Savings, nil
}

// readExecSeries reads the execution times of the assets with alerts,
// charting the critical ones first, then those with the most alerts.
func readExecSeries(ctx context.Context, conn *sql.Conn, alerts *table) ([]series, int, error) {
	rank := map[string]int{}
	for r := range alerts.rows {
		w := 1
		if alerts.str(r, "severity") == "critical" {
			w = 100
		}
		rank[alerts.str(r, "asset_key")] += w
	}
	if len(rank) == 0 {
		return nil, 0, nil
	}
	t, err := queryTable(ctx, conn, execSeriesSQL)
	if err != nil {
		return nil, 0, err
	}
	var all []series
	for r := range t.rows {
		name := t.str(r, "asset_key")
		if len(all) == 0 || all[len(all)-1].Name != name {
			all = append(all, series{Name: name})
		}
		ts, _ := t.rows[r][t.col("ts")].(time.Time)
		all[len(all)-1].Points = append(all[len(all)-1].Points, point{ts, t.f(r, "exec_time_s")})
	}
	slices.SortStableFunc(all, func(a, b series) int {
		return cmp.Or(cmp.Compare(rank[b.Name], rank[a.Name]), cmp.Compare(a.Name, b.Name))
	})
	if len(all) > maxExecLines {
		all = all[:maxExecLines]
	}
	return all, len(rank), nil
}

func readGrowth(ctx context.Context, conn *sql.Conn) ([]growth, error) {
	t, err := queryTable(ctx, conn, sizeSeriesSQL, maxGrowthLines)
	if err != nil {
		return nil, err
	}
	var out []growth
	for r := range t.rows {
		name := t.str(r, "asset_key")
		if len(out) == 0 || out[len(out)-1].Name != name {
			asOf, _ := t.rows[r][t.col("as_of")].(time.Time)
			out = append(out, growth{
				series: series{Name: name}, AsOf: asOf,
				Latest: t.f(r, "size_bytes_latest"), PerDay: t.f(r, "size_growth_bytes_per_day"),
				Forecast30: t.f(r, "size_bytes_forecast_30d"), Forecast90: t.f(r, "size_bytes_forecast_90d"),
			})
		}
		ts, _ := t.rows[r][t.col("ts")].(time.Time)
		g := &out[len(out)-1]
		g.Points = append(g.Points, point{ts, t.f(r, "size_bytes")})
	}
	return out, nil
}
