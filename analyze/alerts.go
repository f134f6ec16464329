package analyze

import (
	"context"
	"database/sql"
	"fmt"
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Alert kinds and severities (the values of alerts.kind and
// alerts.severity).
const (
	KindExecTimeSpike      = "exec_time_spike"
	KindLowSuccessRate     = "low_success_rate"
	KindExecTimeRegression = "exec_time_regression"

	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Alert is one row of the alerts table (without as_of).
type Alert struct {
	AssetKey  string
	Kind      string
	Severity  string
	Value     float64
	Threshold float64
	Message   string
}

// assetRow is an asset's own row of asset_stats, as the alert rules and the
// capacity plan read it. NaN stands for NULL.
type assetRow struct {
	key                        string
	materializations           int64
	successes, failures        int64
	successRate                float64
	execN                      int64
	execMean, execStd, execMax float64
	execLatest, execBaseline   float64
	sizeKnown                  bool
	writeBytesMean             float64
	writeBytesMax              float64
	writesPerDay               float64
	writeBytesPerDay           float64
	readBytesPerDay            float64
	computeSeconds             float64
	computeSecondsPerDay       float64
}

func readAssetRows(ctx context.Context, conn *sql.Conn) ([]assetRow, error) {
	rows, err := conn.QueryContext(ctx, assetRowsSQL)
	if err != nil {
		return nil, fmt.Errorf("read asset statistics: %w", err)
	}
	defer rows.Close()
	var out []assetRow
	for rows.Next() {
		var a assetRow
		var rate, mean, std, mx, latest, base, wmean, wmax, wbpd, rbpd sql.NullFloat64
		if err := rows.Scan(&a.key, &a.materializations, &a.successes, &a.failures, &rate,
			&a.execN, &mean, &std, &mx, &latest, &base,
			&a.sizeKnown, &wmean, &wmax, &a.writesPerDay, &wbpd, &rbpd, &a.computeSeconds, &a.computeSecondsPerDay); err != nil {
			return nil, fmt.Errorf("read asset statistics: %w", err)
		}
		a.successRate, a.execMean, a.execStd, a.execMax = nf(rate), nf(mean), nf(std), nf(mx)
		a.execLatest, a.execBaseline = nf(latest), nf(base)
		a.writeBytesMean, a.writeBytesMax, a.writeBytesPerDay, a.readBytesPerDay = nf(wmean), nf(wmax), nf(wbpd), nf(rbpd)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read asset statistics: %w", err)
	}
	return out, nil
}

func nf(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

// evaluateAlerts applies the three rules to every asset's own row
// (partitions are not alerted on separately).
func evaluateAlerts(assets []assetRow, o Options) []Alert {
	var out []Alert
	for _, a := range assets {
		// The guide's spike rule: the slowest execution beyond mean + k sigma.
		if a.execN >= 2 && !math.IsNaN(a.execStd) && a.execStd > 0 {
			th := a.execMean + o.SpikeSigma*a.execStd
			if a.execMax > th {
				out = append(out, Alert{a.key, KindExecTimeSpike, SeverityWarning, a.execMax, th,
					fmt.Sprintf("slowest execution took %s, above mean %s + %g x stddev %s = %s over %d executions",
						secs(a.execMax), secs(a.execMean), o.SpikeSigma, secs(a.execStd), secs(th), a.execN)})
			}
		}
		// The guide's reliability rule, on the Dagster+ Insights definition.
		if !math.IsNaN(a.successRate) && a.successRate < o.MinSuccessRate {
			out = append(out, Alert{a.key, KindLowSuccessRate, SeverityCritical, a.successRate, o.MinSuccessRate,
				fmt.Sprintf("success rate %.1f%% is below %.1f%%: %d of %d step executions failed for good (attempts that were retried do not count)",
					100*a.successRate, 100*o.MinSuccessRate, a.failures, a.successes+a.failures)})
		}
		// Regression against the trailing baseline.
		if !math.IsNaN(a.execBaseline) && !math.IsNaN(a.execLatest) {
			th := o.RegressionFactor * a.execBaseline
			if a.execLatest > th {
				out = append(out, Alert{a.key, KindExecTimeRegression, SeverityWarning, a.execLatest, th,
					fmt.Sprintf("latest execution took %s, more than %g x the median %s of the %d executions before it",
						secs(a.execLatest), o.RegressionFactor, secs(a.execBaseline), o.RegressionWindow)})
			}
		}
	}
	return out
}

// secs renders seconds for a person: 0.42 s, 12.3 s, 4m05s, 1h02m.
func secs(s float64) string {
	switch {
	case s < 60:
		return fmt.Sprintf("%.3g s", s)
	case s < 3600:
		m := int(s) / 60
		return fmt.Sprintf("%dm%02ds", m, int(s)-60*m)
	}
	h := int(s) / 3600
	return fmt.Sprintf("%dh%02dm", h, (int(s)-3600*h)/60)
}

var alertSchema = arrow.NewSchema([]arrow.Field{
	{Name: "asset_key", Type: arrow.BinaryTypes.String},
	{Name: "kind", Type: arrow.BinaryTypes.String},
	{Name: "severity", Type: arrow.BinaryTypes.String},
	{Name: "value", Type: arrow.PrimitiveTypes.Float64},
	{Name: "threshold", Type: arrow.PrimitiveTypes.Float64},
	{Name: "message", Type: arrow.BinaryTypes.String},
}, nil)

func storeAlerts(ctx context.Context, conn *sql.Conn, mem memory.Allocator, alerts []Alert) error {
	b := array.NewRecordBuilder(mem, alertSchema)
	defer b.Release()
	for _, a := range alerts {
		b.Field(0).(*array.StringBuilder).Append(a.AssetKey)
		b.Field(1).(*array.StringBuilder).Append(a.Kind)
		b.Field(2).(*array.StringBuilder).Append(a.Severity)
		b.Field(3).(*array.Float64Builder).Append(a.Value)
		b.Field(4).(*array.Float64Builder).Append(a.Threshold)
		b.Field(5).(*array.StringBuilder).Append(a.Message)
	}
	rec := b.NewRecord()
	defer rec.Release()
	return storeRecord(ctx, conn, rec, "analyze_alerts")
}
