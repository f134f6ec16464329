package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// writeText writes the report as aligned text tables: a header, then the
// savings summary, the top recommendations, the alerts, the dearest assets
// and the capacity plan's totals.
func writeText(w io.Writer, v *view) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "matlens report")
	for _, kv := range headerFacts(v) {
		fmt.Fprintf(bw, "  %-16s %s\n", kv[0], kv[1])
	}
	for _, t := range v.tables() {
		fmt.Fprintf(bw, "\n== %s\n", t.Title)
		if len(t.Rows) == 0 {
			fmt.Fprintln(bw, t.Empty)
			continue
		}
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(t.Cols, "\t")+"\t")
		for _, r := range t.Rows {
			fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// headerFacts are the report's key figures, shared by text and HTML.
func headerFacts(v *view) [][2]string {
	st := v.Status
	facts := [][2]string{
		{"as of", v.AsOf.Format("2006-01-02 15:04:05 UTC")},
		{"database", v.DB},
		{"provider", v.Provider},
		{"assets", fmt.Sprintf("%d (%d partitions)", st.Assets, st.Partitions)},
		{"storage now", fmt.Sprintf("%s/month for %s GB", usd(v.Total.CostNow), num(v.Total.SizeGB))},
		{"after the moves", fmt.Sprintf("%s/month (%d moves)", usd(v.Total.CostAfter), st.Moves)},
		{"savings", fmt.Sprintf("%s/month, %s/year", usd(v.Total.Savings), usd(v.Total.SavingsYear))},
		{"alerts", fmt.Sprintf("%d (%d critical, %d warning)", st.Alerts, st.Critical, st.Alerts-st.Critical)},
		{"generated", v.Generated.Format("2006-01-02 15:04:05 UTC")},
	}
	if v.DB == "" {
		facts = append(facts[:1], facts[2:]...)
	}
	return facts
}
