package report

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// chart is one figure of the HTML report: an inline SVG or, when there is
// nothing to draw, a sentence saying so.
type chart struct {
	ID, Caption string
	SVG         template.HTML
	Empty       string
	Wide        bool // spans the page's width
}

// palette: distinguishable colours (Tableau 10), one per series.
var palette = []color.RGBA{
	{0x4E, 0x79, 0xA7, 0xFF}, {0xF2, 0x8E, 0x2B, 0xFF}, {0x59, 0xA1, 0x4F, 0xFF}, {0xE1, 0x57, 0x59, 0xFF},
	{0x76, 0xB7, 0xB2, 0xFF}, {0xB0, 0x7A, 0xA1, 0xFF}, {0x9C, 0x75, 0x5F, 0xFF}, {0xED, 0xC9, 0x48, 0xFF},
}

var grey = color.RGBA{0x99, 0x99, 0x99, 0xFF}

// Chart sizes in points (1 pt = 4/3 CSS px): a half-width figure is about
// 560 px wide on the page, so the SVG is drawn near 1:1 and its 10-12 pt
// labels stay legible; the time series take the full width.
const (
	chartWidth     = 420
	chartHeight    = 300
	wideChartWidth = 840
)

// charts draws the four figures, in page order.
func (v *view) charts() ([]chart, error) {
	out := make([]chart, 0, 4)
	for _, build := range []func() (chart, error){v.costByClassChart, v.savingsChart, v.execChart, v.growthChart} {
		c, err := build()
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", c.ID, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	// gonum/plot defaults to Liberation Serif; the page is sans-serif.
	for _, s := range []*text.Style{
		&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle,
	} {
		s.Font.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(8)
	return p
}

// renderSVG draws p into an SVG element ready to inline in HTML. A side
// legend, when given, is drawn right of the plot instead of on top of the
// lines.
func renderSVG(p *plot.Plot, w, h vg.Length, label string, side *plot.Legend) (template.HTML, error) {
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	if side != nil {
		lw := legendWidth(side)
		p.Draw(draw.Crop(dc, 0, -lw-vg.Points(8), 0, 0))
		lc := draw.Crop(dc, w-lw, 0, 0, -vg.Points(28)) // below the title
		side.Draw(lc)
	} else {
		p.Draw(dc)
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", err
	}
	s := buf.String()
	// Drop the XML prolog: inside HTML the <svg> element stands alone.
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", fmt.Errorf("gonum/plot wrote no <svg> element")
	}
	s = s[i:]
	// The fonts are named, not embedded (embedding would add ~400 KB per
	// chart); Arial and Helvetica have Liberation Sans's metrics, so the
	// labels keep the width gonum/plot laid them out with where Liberation
	// is not installed.
	s = strings.ReplaceAll(s, "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	s = strings.Replace(s, "<svg ", fmt.Sprintf(`<svg role="img" aria-label="%s" `, template.HTMLEscapeString(label)), 1)
	return template.HTML(s), nil //nolint:gosec // drawn by gonum/plot from escaped text, not user HTML
}

// costByClassChart: the provider's monthly storage bill per class, now
// (by current class) and after the recommended moves (by recommended class).
func (v *view) costByClassChart() (chart, error) {
	c := chart{ID: "chart-cost-by-class",
		Caption: fmt.Sprintf("Monthly storage cost by storage class on %s, now and after the recommended moves: %s now, %s after, %s saved per month.",
			v.Provider, usd(v.Total.CostNow), usd(v.Total.CostAfter), usd(v.Total.Savings))}
	cc := v.CostByClass
	if len(cc.Classes) == 0 {
		c.Empty = "No storage cost to chart: tier_savings_summary has no rows for " + v.Provider + "."
		return c, nil
	}
	p := newPlot("Monthly storage cost by class ("+v.Provider+")", "storage class", "USD per month")
	w := vg.Points(math.Min(40, 360/float64(len(cc.Classes))))
	now, err := plotter.NewBarChart(plotter.Values(cc.Now), w)
	if err != nil {
		return c, err
	}
	now.Color, now.LineStyle.Width, now.Offset = palette[0], 0, -w/2
	after, err := plotter.NewBarChart(plotter.Values(cc.After), w)
	if err != nil {
		return c, err
	}
	after.Color, after.LineStyle.Width, after.Offset = palette[2], 0, w/2
	p.Add(plotter.NewGrid(), now, after)
	p.X.Tick.Marker = nil
	p.NominalX(cc.Classes...)
	p.Y.Min = 0
	p.Y.Max = maxOf(cc.Now, cc.After) * 1.2 // head-room for the legend
	p.Y.Tick.Marker = usdTicks{}
	p.Legend.Add("now", now)
	p.Legend.Add("after the moves", after)
	p.Legend.Top = true
	c.SVG, err = renderSVG(p, chartWidth, chartHeight, p.Title.Text, nil)
	return c, err
}

// savingsChart: the assets whose moves save the most, largest on top.
func (v *view) savingsChart() (chart, error) {
	c := chart{ID: "chart-top-savings"}
	var names []string
	var vals plotter.Values
	for _, a := range v.AssetCosts {
		if a.Savings > 0 {
			names = append(names, a.Asset)
			vals = append(vals, a.Savings)
		}
	}
	// AssetCosts is ordered by cost; the chart ranks by savings.
	order := make([]int, len(vals))
	for i := range order {
		order[i] = i
	}
	sortDesc(order, vals, names)
	if len(order) > v.Top {
		order = order[:v.Top]
	}
	c.Caption = fmt.Sprintf("Top %d assets by monthly savings on %s (a partitioned asset sums its partitions' moves).", len(order), v.Provider)
	if len(order) == 0 {
		c.Caption = "Top assets by monthly savings."
		c.Empty = "No move saves money: every asset is already in its cheapest allowed class."
		return c, nil
	}
	// NominalY puts the first name at the bottom: reverse for largest on top.
	ys := make(plotter.Values, len(order))
	labels := make([]string, len(order))
	for i, j := range order {
		k := len(order) - 1 - i
		ys[k], labels[k] = vals[j], names[j]
	}
	p := newPlot("Top savings by asset ("+v.Provider+")", "USD saved per month", "")
	bars, err := plotter.NewBarChart(ys, vg.Points(12))
	if err != nil {
		return c, err
	}
	bars.Horizontal, bars.Color, bars.LineStyle.Width = true, palette[2], 0
	p.Add(plotter.NewGrid(), bars)
	p.NominalY(labels...)
	p.X.Min = 0
	p.X.Max = vals[order[0]] * 1.05
	p.X.Tick.Marker = usdTicks{}
	h := vg.Points(math.Max(chartHeight, 80+16*float64(len(order))))
	c.SVG, err = renderSVG(p, chartWidth, h, p.Title.Text, nil)
	return c, err
}

// sortDesc orders idx by vals descending, then names ascending.
func sortDesc(idx []int, vals []float64, names []string) {
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Or(cmp.Compare(vals[b], vals[a]), cmp.Compare(names[a], names[b]))
	})
}

// execChart: the execution time of every materialization of the assets
// with alerts, one line per asset.
func (v *view) execChart() (chart, error) {
	c := chart{ID: "chart-exec-time", Wide: true}
	if v.ExecAssets == 0 {
		c.Caption = "Execution time of the assets with alerts."
		c.Empty = "No alerts: no asset's execution time or success rate crossed a threshold, so there is nothing to chart."
		return c, nil
	}
	c.Caption = fmt.Sprintf("Execution time per materialization of the %d assets with alerts (execution_time_s metadata, else the successful step attempt's duration).", v.ExecAssets)
	if len(v.Exec) < v.ExecAssets {
		c.Caption = fmt.Sprintf("Execution time per materialization of %d of the %d assets with alerts, critical ones first (execution_time_s metadata, else the successful step attempt's duration).", len(v.Exec), v.ExecAssets)
	}
	if len(v.Exec) == 0 {
		c.Empty = "The assets with alerts recorded no execution time."
		return c, nil
	}
	p := newPlot("Execution time of assets with alerts", "", "seconds")
	p.Add(plotter.NewGrid())
	legend := sideLegend()
	ymax := 0.0
	for i, s := range v.Exec {
		xys := toXYs(s.Points, 1)
		for _, xy := range xys {
			ymax = math.Max(ymax, xy.Y)
		}
		col := palette[i%len(palette)]
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return c, err
		}
		l.Color, l.Width = col, vg.Points(1.5)
		pts.Color, pts.Radius, pts.Shape = col, vg.Points(2), draw.CircleGlyph{}
		p.Add(l, pts)
		legend.Add(s.Name, l, pts)
	}
	timeAxis(p)
	p.Y.Min = 0
	p.Y.Max = ymax * 1.05
	var err error
	c.SVG, err = renderSVG(p, wideChartWidth, chartHeight, p.Title.Text, &legend)
	return c, err
}

// growthChart: the footprint over time of the fastest-growing assets, and
// analyze's linear forecast to 30 and 90 days after as_of, dashed. Sizes a
// hundred times apart share a log axis, or the small assets lie flat on
// the floor of the chart.
func (v *view) growthChart() (chart, error) {
	c := chart{ID: "chart-size-growth", Wide: true,
		Caption: fmt.Sprintf("Size over time of the %d fastest-growing assets (asset_stats.size_growth_bytes_per_day), with the linear forecast to 30 and 90 days after as_of dashed.", len(v.Growth))}
	if len(v.Growth) == 0 {
		c.Caption = "Size growth and forecast."
		c.Empty = "No asset grows: no size_growth_bytes_per_day above zero in asset_stats."
		return c, nil
	}
	const gib = 1 << 30
	type lines struct{ hist, forecast plotter.XYs }
	all := make([]lines, len(v.Growth))
	ymin, ymax := math.Inf(1), 0.0
	for i, g := range v.Growth {
		all[i].hist = toXYs(g.Points, gib)
		all[i].forecast = plotter.XYs{
			{X: unix(g.AsOf), Y: g.Latest / gib},
			{X: unix(g.AsOf.Add(30 * 24 * time.Hour)), Y: g.Forecast30 / gib},
			{X: unix(g.AsOf.Add(90 * 24 * time.Hour)), Y: g.Forecast90 / gib},
		}
		for _, xy := range append(all[i].hist, all[i].forecast...) {
			if xy.Y > 0 {
				ymin, ymax = math.Min(ymin, xy.Y), math.Max(ymax, xy.Y)
			}
		}
	}
	if ymax == 0 {
		c.Empty = "The growing assets recorded no size above zero."
		return c, nil
	}
	logY := ymax/ymin > 100
	yLabel := "GiB"
	if logY {
		yLabel = "GiB (log scale)"
		for i := range all {
			all[i].hist, all[i].forecast = positive(all[i].hist), positive(all[i].forecast)
		}
	}
	p := newPlot("Size growth and forecast", "", yLabel)
	p.Add(plotter.NewGrid())
	legend := sideLegend()
	for i, g := range v.Growth {
		col := palette[i%len(palette)]
		if len(all[i].hist) > 0 {
			hist, err := plotter.NewLine(all[i].hist)
			if err != nil {
				return c, err
			}
			hist.Color, hist.Width = col, vg.Points(1.5)
			p.Add(hist)
			legend.Add(fmt.Sprintf("%s (+%s/day)", g.Name, bytesIEC(g.PerDay)), hist)
		}
		if len(all[i].forecast) > 0 {
			fl, fp, err := plotter.NewLinePoints(all[i].forecast)
			if err != nil {
				return c, err
			}
			fl.Color, fl.Width, fl.Dashes = col, vg.Points(1.5), []vg.Length{vg.Points(5), vg.Points(4)}
			fp.Color, fp.Radius, fp.Shape = col, vg.Points(2.5), draw.CircleGlyph{}
			p.Add(fl, fp)
		}
	}
	timeAxis(p)
	if logY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		p.Y.Min, p.Y.Max = ymin/1.5, ymax*1.5
	} else {
		p.Y.Min, p.Y.Max = 0, ymax*1.05
	}
	// A grey line at as_of: left of it is observed, right of it forecast.
	asOf := unix(v.AsOf)
	marker, err := plotter.NewLine(plotter.XYs{{X: asOf, Y: p.Y.Min}, {X: asOf, Y: ymax}})
	if err != nil {
		return c, err
	}
	marker.Color, marker.Width, marker.Dashes = grey, vg.Points(1), []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(marker)
	legend.Add("as_of (observed | forecast)", marker)
	c.SVG, err = renderSVG(p, wideChartWidth, chartHeight+40, p.Title.Text, &legend)
	return c, err
}

// positive keeps the points a log axis can show.
func positive(xys plotter.XYs) plotter.XYs {
	out := xys[:0:0]
	for _, xy := range xys {
		if xy.Y > 0 {
			out = append(out, xy)
		}
	}
	return out
}

func maxOf(vs ...[]float64) float64 {
	m := 0.0
	for _, v := range vs {
		for _, x := range v {
			m = math.Max(m, x)
		}
	}
	return m
}

// sideLegend is a legend for the right of a chart, in the charts' font.
func sideLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font.Variant = "Sans"
	l.TextStyle.Font.Size = vg.Points(10)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = vg.Points(22)
	l.Padding = vg.Points(4)
	return l
}

// legendWidth is the room the legend's longest entry needs.
func legendWidth(l *plot.Legend) vg.Length {
	return l.Rectangle(draw.New(vgsvg.New(wideChartWidth, chartHeight))).Size().X
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// toXYs turns a series into plot points (x = unix seconds, y = v / scale),
// leaving out values no axis can show.
func toXYs(ps []point, scale float64) plotter.XYs {
	xys := make(plotter.XYs, 0, len(ps))
	for _, pt := range ps {
		y := pt.V / scale
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		xys = append(xys, plotter.XY{X: unix(pt.T), Y: y})
	}
	return xys
}

func timeAxis(p *plot.Plot) {
	p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2"}
}

// usdTicks labels a money axis with dollars.
type usdTicks struct{}

func (usdTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = "$" + ticks[i].Label
		}
	}
	return ticks
}
