package analyze

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

func TestDescribeNeverPanics(t *testing.T) {
	t.Parallel()
	var scratch []float64
	nan := math.NaN()
	for name, v := range map[string][]float64{
		"empty": nil, "nan": {1, nan, 3}, "inf": {math.Inf(1)},
	} {
		if _, err := describeExec(v, 10, &scratch); err == nil {
			t.Errorf("exec %s: no error", name)
		}
	}
	// One point: mean and quantiles are that point, stddev is NULL.
	s, err := describeExec([]float64{4}, 10, &scratch)
	if err != nil || s.mean != 4 || s.p50 != 4 || s.p99 != 4 || s.max != 4 || !math.IsNaN(s.stddev) || !math.IsNaN(s.baselineMedian) {
		t.Errorf("one point: %+v, %v", s, err)
	}

	for name, c := range map[string]struct{ t, v []float64 }{
		"empty":    {nil, nil},
		"nan":      {[]float64{0, 1}, []float64{1, nan}},
		"nan time": {[]float64{0, nan}, []float64{1, 2}},
		"unsorted": {[]float64{1, 0}, []float64{1, 2}},
		"length":   {[]float64{1}, []float64{1, 2}},
	} {
		if _, err := describeSize(c.t, c.v); err == nil {
			t.Errorf("size %s: no error", name)
		}
	}
	// One point and all-equal timestamps: sizes, but no growth.
	for name, c := range map[string]struct{ t, v []float64 }{
		"one point":   {[]float64{-1}, []float64{100}},
		"equal times": {[]float64{-1, -1, -1}, []float64{100, 200, 300}},
	} {
		s, err := describeSize(c.t, c.v)
		if err != nil {
			t.Fatalf("size %s: %v", name, err)
		}
		if !math.IsNaN(s.growthPerDay) || !math.IsNaN(s.forecast30) || s.latest != c.v[len(c.v)-1] {
			t.Errorf("size %s: %+v", name, s)
		}
	}
	if !errors.Is(func() error { _, err := describeSize([]float64{2, 1}, []float64{1, 1}); return err }(), errUnsorted) {
		t.Error("unsorted: want errUnsorted")
	}
}

// nearestRank is the empirical quantile gonum's stat.Empirical computes:
// the smallest x whose cumulative count reaches p x n.
func nearestRank(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func TestDescribeMatchesIndependentComputation(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 1))
	var scratch []float64
	for n := 1; n <= 200; n += 7 {
		v := make([]float64, n)
		for i := range v {
			v[i] = 10 + 100*rng.Float64()
		}
		orig := slices.Clone(v)
		s, err := describeExec(v, 10, &scratch)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(v, orig) {
			t.Fatal("describeExec modified its input")
		}
		var sum float64
		for _, x := range v {
			sum += x
		}
		mean := sum / float64(n)
		var ss float64
		for _, x := range v {
			ss += (x - mean) * (x - mean)
		}
		sorted := slices.Clone(v)
		slices.Sort(sorted)
		checks := []struct {
			name      string
			got, want float64
		}{
			{"mean", s.mean, mean}, {"p50", s.p50, nearestRank(sorted, 0.5)}, {"p95", s.p95, nearestRank(sorted, 0.95)},
			{"p99", s.p99, nearestRank(sorted, 0.99)}, {"max", s.max, sorted[n-1]}, {"latest", s.latest, v[n-1]},
		}
		if n > 1 {
			checks = append(checks, struct {
				name      string
				got, want float64
			}{"stddev", s.stddev, math.Sqrt(ss / float64(n-1))})
		}
		if n > 10 {
			base := slices.Clone(v[n-11 : n-1])
			slices.Sort(base)
			checks = append(checks, struct {
				name      string
				got, want float64
			}{"baseline median", s.baselineMedian, (base[4] + base[5]) / 2})
		}
		for _, c := range checks {
			if math.Abs(c.got-c.want) > 1e-9*math.Abs(c.want) {
				t.Errorf("n=%d %s = %v, want %v", n, c.name, c.got, c.want)
			}
		}
		// Properties.
		if !(s.p50 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max) {
			t.Errorf("n=%d quantiles out of order: %+v", n, s)
		}
	}
}

func TestDescribeSizeRegression(t *testing.T) {
	t.Parallel()
	// y = 1000 + 50 t plus noise; plain least squares gives the slope.
	rng := rand.New(rand.NewPCG(2, 2))
	n := 40
	ts, vs := make([]float64, n), make([]float64, n)
	for i := range n {
		ts[i] = -40 + float64(i) + 0.3*rng.Float64()
		vs[i] = 1000 + 50*(ts[i]+40) + 20*rng.NormFloat64()
	}
	s, err := describeSize(ts, vs)
	if err != nil {
		t.Fatal(err)
	}
	var mt, mv float64
	for i := range n {
		mt += ts[i]
		mv += vs[i]
	}
	mt, mv = mt/float64(n), mv/float64(n)
	var sxy, sxx float64
	for i := range n {
		sxy += (ts[i] - mt) * (vs[i] - mv)
		sxx += (ts[i] - mt) * (ts[i] - mt)
	}
	slope := sxy / sxx
	if math.Abs(s.growthPerDay-slope) > 1e-9*math.Abs(slope) {
		t.Errorf("growth = %v, want %v", s.growthPerDay, slope)
	}
	if want := vs[n-1] + 30*slope; math.Abs(s.forecast30-want) > 1e-6 {
		t.Errorf("forecast30 = %v, want %v", s.forecast30, want)
	}
	// A growing asset's forecasts grow with the horizon.
	if !(s.latest <= s.forecast30 && s.forecast30 <= s.forecast90 && s.forecast90 <= s.forecast365) {
		t.Errorf("forecasts not monotone: %+v", s)
	}
	// A shrinking one is clamped at zero, never negative.
	for i := range vs {
		vs[i] = 1000 - 100*(ts[i]+40)
	}
	s, _ = describeSize(ts, vs)
	if s.forecast365 != 0 {
		t.Errorf("shrinking forecast365 = %v, want 0", s.forecast365)
	}
}

// TestEachSeriesStraddlesRecords checks the grouping across record
// boundaries, including a key spanning three records.
func TestEachSeriesStraddlesRecords(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "key_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	batches := [][]int64{{1, 1, 2, 2}, {2, 3}, {3}, {3, 4, 5}, {}, {5}}
	var recs []arrow.Record
	var want = map[int64][]float64{}
	x := 0.0
	for _, keys := range batches {
		b := array.NewRecordBuilder(mem, schema)
		for _, k := range keys {
			x++
			b.Field(0).(*array.Int64Builder).Append(k)
			b.Field(1).(*array.Float64Builder).Append(x)
			want[k] = append(want[k], x)
		}
		recs = append(recs, b.NewRecord())
		b.Release()
	}
	rr, err := array.NewRecordReader(schema, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Release()
	}
	defer rr.Release()
	got := map[int64][]float64{}
	var order []int64
	err = eachSeries(rr, func(k int64, cols [][]float64) error {
		order = append(order, k)
		got[k] = slices.Clone(cols[0])
		if p := uintptr(unsafe.Pointer(&cols[0][0])); p%16 != 0 {
			t.Errorf("key %d: series at %#x, not on a 16-byte boundary", k, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("keys %v", order)
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("key %d: %v, want %v", k, got[k], w)
		}
	}

	// Out-of-order keys are an error, not two series.
	b := array.NewRecordBuilder(mem, schema)
	for _, k := range []int64{2, 1} {
		b.Field(0).(*array.Int64Builder).Append(k)
		b.Field(1).(*array.Float64Builder).Append(1)
	}
	rec := b.NewRecord()
	b.Release()
	rr2, _ := array.NewRecordReader(schema, []arrow.Record{rec})
	rec.Release()
	defer rr2.Release()
	if err := eachSeries(rr2, func(int64, [][]float64) error { return nil }); err == nil {
		t.Error("unordered keys accepted")
	}
}

// TestSeriesStatisticsIndependentOfRecordCuts feeds the same series to
// eachSeries behind a varying number of rows of another key, so it starts
// at every offset of its record, and requires bit-identical statistics:
// the guarantee that lets DuckDB run the series queries on any number of
// threads.
func TestSeriesStatisticsIndependentOfRecordCuts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "key_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "t", Type: arrow.PrimitiveTypes.Float64},
		{Name: "v", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	rng := rand.New(rand.NewPCG(6, 6))
	const n = 101
	ts, vs := make([]float64, n), make([]float64, n)
	for i := range n {
		ts[i] = float64(i) - n + rng.Float64()
		vs[i] = rng.Float64() * math.Pow(10, float64(rng.IntN(12)))
	}
	var first execStats
	var firstSize sizeStats
	for lead := range 8 {
		b := array.NewRecordBuilder(mem, schema)
		for range lead {
			b.Field(0).(*array.Int64Builder).Append(1)
			b.Field(1).(*array.Float64Builder).Append(0)
			b.Field(2).(*array.Float64Builder).Append(0)
		}
		for i := range n {
			b.Field(0).(*array.Int64Builder).Append(2)
			b.Field(1).(*array.Float64Builder).Append(ts[i])
			b.Field(2).(*array.Float64Builder).Append(vs[i])
		}
		// A row of a later key, so the series is read in place rather
		// than through the copy kept for a key that may continue.
		b.Field(0).(*array.Int64Builder).Append(3)
		b.Field(1).(*array.Float64Builder).Append(0)
		b.Field(2).(*array.Float64Builder).Append(0)
		rec := b.NewRecord()
		b.Release()
		rr, err := array.NewRecordReader(schema, []arrow.Record{rec})
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		var scratch []float64
		err = eachSeries(rr, func(k int64, cols [][]float64) error {
			if k != 2 {
				return nil
			}
			e, err := describeExec(cols[1], 10, &scratch)
			if err != nil {
				return err
			}
			s, err := describeSize(cols[0], cols[1])
			if err != nil {
				return err
			}
			if lead == 0 {
				first, firstSize = e, s
				return nil
			}
			if !sameBits(e.mean, first.mean) || !sameBits(e.stddev, first.stddev) ||
				!sameBits(s.mean, firstSize.mean) || !sameBits(s.growthPerDay, firstSize.growthPerDay) {
				t.Errorf("series behind %d rows: mean %v stddev %v size mean %v growth %v; behind 0: %v %v %v %v",
					lead, e.mean, e.stddev, s.mean, s.growthPerDay, first.mean, first.stddev, firstSize.mean, firstSize.growthPerDay)
			}
			return nil
		})
		rr.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }
