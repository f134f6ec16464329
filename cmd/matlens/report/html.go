package report

import (
	_ "embed"
	"html/template"
	"io"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"usd": usd}).Parse(htmlSource))

// page is what report.html.tmpl renders.
type page struct {
	AsOf      string
	Facts     [][2]string
	Total     total
	Provider  string
	Charts    []chart
	Tables    []tableData
	Generated string
}

// writeHTML writes one self-contained page: inline CSS, inline SVG charts,
// no script and no URL to fetch, so it opens offline and can be mailed.
func writeHTML(w io.Writer, v *view) error {
	charts, err := v.charts()
	if err != nil {
		return err
	}
	return htmlTemplate.Execute(w, page{
		AsOf:      v.AsOf.Format("2006-01-02 15:04 UTC"),
		Facts:     headerFacts(v),
		Total:     v.Total,
		Provider:  v.Provider,
		Charts:    charts,
		Tables:    v.tables(),
		Generated: v.Generated.Format("2006-01-02 15:04:05 UTC"),
	})
}
