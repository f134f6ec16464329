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

// referenceExec computes, straight from the definitions and without gonum,
// what describeExec should report for v: the mean, the sample standard
// deviation (NaN for one point) and a sorted copy to take nearest-rank
// quantiles from.
func referenceExec(v []float64) (mean, stddev float64, sorted []float64) {
	n := float64(len(v))
	var sum float64
	for _, x := range v {
		sum += x
	}
	mean = sum / n
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	stddev = math.NaN()
	if len(v) > 1 {
		stddev = math.Sqrt(ss / (n - 1))
	}
	sorted = slices.Clone(v)
	slices.Sort(sorted)
	return mean, stddev, sorted
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
		mean, stddev, sorted := referenceExec(v)
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
			}{"stddev", s.stddev, stddev})
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

// seriesRow is one row of analyze_series.sql; part 0, a NaN exec or a
// negative size stand for NULL, event 0 for the row's position + 1. t is
// only for assetRows built by hand (TestGatherSeries).
type seriesRow struct {
	asset, part int64
	us, event   int64
	t, exec     float64
	size        int64
}

var seriesSchema = arrow.NewSchema([]arrow.Field{
	{Name: "asset_id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "part_id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "us", Type: arrow.PrimitiveTypes.Int64},
	{Name: "event_id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "exec_s", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "size_bytes", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

// seriesReader returns the rows as a stream of records cut after the
// given row counts (the rest in a last record).
func seriesReader(t *testing.T, mem memory.Allocator, rows []seriesRow, cuts ...int) array.RecordReader {
	t.Helper()
	var recs []arrow.Record
	b := array.NewRecordBuilder(mem, seriesSchema)
	defer b.Release()
	flush := func() { recs = append(recs, b.NewRecord()) }
	next := 0
	for i, r := range rows {
		if next < len(cuts) && i == cuts[next] {
			flush()
			next++
		}
		b.Field(0).(*array.Int64Builder).Append(r.asset)
		if r.part == 0 {
			b.Field(1).(*array.Int64Builder).AppendNull()
		} else {
			b.Field(1).(*array.Int64Builder).Append(r.part)
		}
		b.Field(2).(*array.Int64Builder).Append(r.us)
		if r.event == 0 {
			r.event = int64(i + 1)
		}
		b.Field(3).(*array.Int64Builder).Append(r.event)
		if math.IsNaN(r.exec) {
			b.Field(4).(*array.Float64Builder).AppendNull()
		} else {
			b.Field(4).(*array.Float64Builder).Append(r.exec)
		}
		if r.size < 0 {
			b.Field(5).(*array.Int64Builder).AppendNull()
		} else {
			b.Field(5).(*array.Int64Builder).Append(r.size)
		}
	}
	flush()
	rr, err := array.NewRecordReader(seriesSchema, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Release()
	}
	return rr
}

// TestEachAssetOrdersRows checks the grouping by asset across record
// boundaries (an asset spanning three records, an empty record), and that
// rows arriving in any order come out by asset, then by time, then by
// event id, with us turned into days.
func TestEachAssetOrdersRows(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	nan := math.NaN()
	collect := func(rows []seriesRow, cuts ...int) ([]int64, map[int64][]float64, map[int64][]int64) {
		t.Helper()
		rr := seriesReader(t, mem, rows, cuts...)
		defer rr.Release()
		var order []int64
		days, parts := map[int64][]float64{}, map[int64][]int64{}
		err := eachAsset(rr, 0, func(g *assetRows) error {
			order = append(order, g.asset)
			days[g.asset] = slices.Clone(g.t)
			parts[g.asset] = slices.Clone(g.part)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return order, days, parts
	}

	var rows []seriesRow
	want := map[int64][]float64{}
	for i, a := range []int64{1, 1, 2, 2, 2, 2, 2, 3, 5, 5} {
		rows = append(rows, seriesRow{asset: a, us: int64(i) * 3_600_000_000, exec: nan, size: -1})
		want[a] = append(want[a], float64(i)/24)
	}
	order, got, _ := collect(rows, 1, 3, 5, 5, 8)
	if !slices.Equal(order, []int64{1, 2, 3, 5}) {
		t.Fatalf("assets %v", order)
	}
	for a, w := range want {
		if !slices.Equal(got[a], w) {
			t.Errorf("asset %d: t %v, want %v", a, got[a], w)
		}
	}

	// Reversed: assets descend, times descend, and two rows of asset 2 share
	// a time, so their event ids decide (the part ids show which is which).
	rev := []seriesRow{
		{asset: 5, us: -1, exec: nan, size: -1},
		{asset: 2, part: 9, us: -5, event: 40, exec: nan, size: -1},
		{asset: 2, part: 8, us: -5, event: 30, exec: nan, size: -1},
		{asset: 2, part: 7, us: -9, event: 50, exec: nan, size: -1},
		{asset: 1, us: -2, exec: nan, size: -1},
	}
	order, _, parts := collect(rev, 2)
	if !slices.Equal(order, []int64{1, 2, 5}) {
		t.Errorf("reversed rows: assets %v, want [1 2 5]", order)
	}
	if !slices.Equal(parts[2], []int64{7, 8, 9}) {
		t.Errorf("reversed rows: asset 2's partitions in order %v, want [7 8 9]", parts[2])
	}

	for _, bad := range []seriesRow{{asset: 0}, {asset: -3}, {asset: math.MaxInt32}, {asset: 1, part: 1 << 40}} {
		rr := seriesReader(t, mem, []seriesRow{bad})
		if err := eachAsset(rr, 1, func(*assetRows) error { return nil }); err == nil {
			t.Errorf("key ids %d/%d accepted", bad.asset, bad.part)
		}
		rr.Release()
	}
}

// TestGatherSeries checks the series of one asset: execution times of the
// asset and of each partition, each partition's sizes, and the footprint,
// which sums the latest size of every partition (rows without a partition
// count as one more) and skips rows of unknown size.
func TestGatherSeries(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	g := &assetRows{}
	g.reset(1)
	for _, r := range []seriesRow{
		{part: 7, t: -5, exec: 10, size: 100},
		{part: 8, t: -4, exec: nan, size: 50},
		{part: 7, t: -3, exec: 12, size: 120},
		{part: 0, t: -2, exec: 3, size: 5},
		{part: 8, t: -1, exec: 9, size: -1},
		{part: 0, t: 0, exec: nan, size: 1},
	} {
		g.part = append(g.part, r.part)
		g.t = append(g.t, r.t)
		g.exec = append(g.exec, r.exec)
		g.hasEx = append(g.hasEx, !math.IsNaN(r.exec))
		g.size = append(g.size, max(r.size, 0))
		g.hasSz = append(g.hasSz, r.size >= 0)
	}
	s := newSeriesOf()
	if err := s.gather(g); err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want []float64) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
		if len(got) > 0 {
			if p := uintptr(unsafe.Pointer(&got[0])); p%16 != 0 {
				t.Errorf("%s at %#x, not on a 16-byte boundary", name, p)
			}
		}
	}
	check("asset exec", s.exec, []float64{10, 12, 3, 9})
	check("footprint t", s.footT, []float64{-5, -4, -3, -2, 0})
	check("footprint", s.footV, []float64{100, 150, 170, 175, 171})
	if !slices.Equal(s.order, []int64{7, 8}) {
		t.Fatalf("partitions %v, want [7 8]", s.order)
	}
	check("part 7 exec", s.parts[7].exec, []float64{10, 12})
	check("part 7 sizes", s.parts[7].sizeV, []float64{100, 120})
	check("part 7 t", s.parts[7].sizeT, []float64{-5, -3})
	check("part 8 exec", s.parts[8].exec, []float64{9})
	check("part 8 sizes", s.parts[8].sizeV, []float64{50})

	// A second asset starts from nothing.
	g.reset(2)
	g.part, g.t, g.exec, g.hasEx = append(g.part, 0), append(g.t, 0), append(g.exec, 0), append(g.hasEx, false)
	g.size, g.hasSz = append(g.size, maxFootprint), append(g.hasSz, true)
	if err := s.gather(g); err != nil {
		t.Fatal(err)
	}
	if len(s.order) != 0 || len(s.exec) != 0 {
		t.Errorf("second asset kept partitions %v or exec %v", s.order, s.exec)
	}
	check("second footprint", s.footV, []float64{maxFootprint})
	if s.footV[0] >= 0x1p63 {
		t.Errorf("largest footprint %v does not fit a BIGINT", s.footV[0])
	}
	// One more byte in another partition is past the bound: an error, not
	// a size that wraps around or fails the BIGINT cast downstream.
	g.part, g.t, g.exec, g.hasEx = append(g.part, 3), append(g.t, 1), append(g.exec, 0), append(g.hasEx, false)
	g.size, g.hasSz = append(g.size, 1), append(g.hasSz, true)
	if err := s.gather(g); !errors.Is(err, errFootprintOverflow) {
		t.Errorf("overflowing footprint: err %v", err)
	}
}

// TestSeriesStatisticsIndependentOfRecordCuts feeds the same asset behind
// a varying number of rows of another asset, so its rows start at every
// offset of a record, cut at varying places and arriving shuffled, and requires
// bit-identical statistics: the guarantee that lets DuckDB produce the
// series on any number of threads.
func TestSeriesStatisticsIndependentOfRecordCuts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(6, 6))
	const n = 101
	var rows []seriesRow
	for i := range n {
		rows = append(rows, seriesRow{asset: 2, part: int64(3 + i%2), us: int64((float64(i) - n + rng.Float64()) * 86400e6),
			exec: rng.Float64() * math.Pow(10, float64(rng.IntN(12))), size: rng.Int64N(1 << 40)})
	}
	var first *results
	for lead := range 8 {
		all := make([]seriesRow, 0, lead+n)
		for range lead {
			all = append(all, seriesRow{asset: 1, part: 0, us: -200 * 86400e6, event: int64(1000 + len(all)), exec: 1, size: 1})
		}
		all = append(all, rows...)
		for i := range all[lead:] {
			all[lead+i].event = int64(1 + i)
		}
		// Arrival order must not matter either.
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		rr := seriesReader(t, mem, all, lead+1+lead*7)
		r := newResults(4)
		s := newSeriesOf()
		err := eachAsset(rr, 0, func(g *assetRows) error { return r.describeAsset(s, g, 10) })
		rr.Release()
		if err != nil {
			t.Fatal(err)
		}
		if lead == 0 {
			first = r
			continue
		}
		for k := 2; k <= 4; k++ {
			e, f := r.exec[k], first.exec[k]
			z, y := r.size[k], first.size[k]
			if !sameBits(e.mean, f.mean) || !sameBits(e.stddev, f.stddev) || !sameBits(z.mean, y.mean) || !sameBits(z.growthPerDay, y.growthPerDay) {
				t.Errorf("key %d behind %d rows: exec mean %v stddev %v, size mean %v growth %v; behind 0: %v %v %v %v",
					k, lead, e.mean, e.stddev, z.mean, z.growthPerDay, f.mean, f.stddev, y.mean, y.growthPerDay)
			}
		}
	}
}

func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }
