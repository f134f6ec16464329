package analyze

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// Errors for series gonum cannot describe. Callers store NULLs for them.
var (
	errEmpty     = errors.New("empty series")
	errNotFinite = errors.New("series holds NaN or Inf")
	errUnsorted  = errors.New("series timestamps are not in order")
	errLength    = errors.New("series columns differ in length")
)

// null is how a statistic that does not exist is carried until it is
// written: NaN becomes SQL NULL.
var null = math.NaN()

// execStats describes one execution-time series.
type execStats struct {
	n                      int64
	mean, stddev           float64
	p50, p95, p99, max     float64
	latest, baselineMedian float64
}

// sizeStats describes one size series.
type sizeStats struct {
	n                      int64
	latest, mean, max      float64
	growthPerDay           float64
	forecast30, forecast90 float64
	forecast365            float64
}

var nullExec = execStats{mean: null, stddev: null, p50: null, p95: null, p99: null, max: null, latest: null, baselineMedian: null}

var nullSize = sizeStats{latest: null, mean: null, max: null, growthPerDay: null, forecast30: null, forecast90: null, forecast365: null}

func checkFinite(v []float64) error {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return errNotFinite
		}
	}
	return nil
}

// describeExec computes the execution-time statistics of v, which is in
// time order. v is not modified: the quantiles sort a copy in *scratch
// (reused between calls). window is the regression rule's baseline length:
// baselineMedian is the median of the window values before the latest, NULL
// when there are fewer.
func describeExec(v []float64, window int, scratch *[]float64) (execStats, error) {
	if len(v) == 0 {
		return nullExec, errEmpty
	}
	if err := checkFinite(v); err != nil {
		return nullExec, err
	}
	s := nullExec
	s.n = int64(len(v))
	if len(v) == 1 {
		s.mean = v[0]
	} else {
		s.mean, s.stddev = stat.MeanStdDev(v, nil)
	}
	sorted := append((*scratch)[:0], v...)
	slices.Sort(sorted)
	*scratch = sorted
	// stat.Quantile panics on unsorted or empty input: both excluded above.
	s.p50 = stat.Quantile(0.50, stat.Empirical, sorted, nil)
	s.p95 = stat.Quantile(0.95, stat.Empirical, sorted, nil)
	s.p99 = stat.Quantile(0.99, stat.Empirical, sorted, nil)
	s.max = sorted[len(sorted)-1]
	s.latest = v[len(v)-1]
	if window > 0 && len(v)-1 >= window {
		base := append((*scratch)[:0], v[len(v)-1-window:len(v)-1]...)
		slices.Sort(base)
		*scratch = base
		s.baselineMedian = median(base)
	}
	return s, nil
}

// median of sorted, non-empty x: the middle value, or the mean of the two
// middle values.
func median(x []float64) float64 {
	n := len(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}

// describeSize computes the size statistics of the series (t days, v
// bytes), in time order. Growth is the slope of gonum's least-squares line
// of v over t; it needs two points at distinct times, else it stays NULL.
// Forecasts are latest + growth x horizon, clamped at 0.
func describeSize(t, v []float64) (sizeStats, error) {
	if len(t) != len(v) {
		return nullSize, errLength
	}
	if len(v) == 0 {
		return nullSize, errEmpty
	}
	if err := checkFinite(v); err != nil {
		return nullSize, err
	}
	if err := checkFinite(t); err != nil {
		return nullSize, err
	}
	for i := 1; i < len(t); i++ {
		if t[i] < t[i-1] {
			return nullSize, fmt.Errorf("%w at %d", errUnsorted, i)
		}
	}
	s := nullSize
	s.n = int64(len(v))
	s.latest = v[len(v)-1]
	s.mean = stat.Mean(v, nil)
	s.max = slices.Max(v)
	// All timestamps equal (or one point): the slope is undefined, and
	// gonum would divide by a zero variance.
	if len(v) >= 2 && t[len(t)-1] > t[0] {
		// The slope is invariant under shifting t, so t (days relative to
		// as_of) is used as is, without a copy.
		_, beta := stat.LinearRegression(t, v, nil, false)
		if !math.IsNaN(beta) && !math.IsInf(beta, 0) {
			s.growthPerDay = beta
			s.forecast30 = forecast(s.latest, beta, 30)
			s.forecast90 = forecast(s.latest, beta, 90)
			s.forecast365 = forecast(s.latest, beta, 365)
		}
	}
	return s, nil
}

func forecast(latest, perDay, days float64) float64 {
	return max(0, latest+perDay*days)
}
