package analyze

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// assetRows are one asset's rows of analyze_series.sql in time order,
// (us, event_id), copied out of the Arrow records.
type assetRows struct {
	asset int64
	part  []int64 // 0: the row has no partition (key ids start at 1)
	t     []float64
	exec  []float64
	hasEx []bool
	size  []int64
	hasSz []bool
}

func (g *assetRows) reset(asset int64) {
	g.asset = asset
	g.part, g.t, g.exec, g.hasEx, g.size, g.hasSz = g.part[:0], g.t[:0], g.exec[:0], g.hasEx[:0], g.size[:0], g.hasSz[:0]
}

// seriesColumns are the typed columns of one record of analyze_series.sql.
type seriesColumns struct {
	asset, part, us, event, size *array.Int64
	exec                         *array.Float64
}

func columnsOf(rec arrow.Record) (c seriesColumns, err error) {
	if rec.NumCols() != 6 {
		return c, fmt.Errorf("series: want 6 columns (asset_id, part_id, us, event_id, exec_s, size_bytes), got %d", rec.NumCols())
	}
	var ok [6]bool
	c.asset, ok[0] = rec.Column(0).(*array.Int64)
	c.part, ok[1] = rec.Column(1).(*array.Int64)
	c.us, ok[2] = rec.Column(2).(*array.Int64)
	c.event, ok[3] = rec.Column(3).(*array.Int64)
	c.exec, ok[4] = rec.Column(4).(*array.Float64)
	c.size, ok[5] = rec.Column(5).(*array.Int64)
	for i, good := range ok {
		if !good {
			return c, fmt.Errorf("series: column %s is %s", rec.ColumnName(i), rec.Column(i).DataType())
		}
	}
	if c.asset.NullN() > 0 || c.us.NullN() > 0 || c.event.NullN() > 0 {
		return c, fmt.Errorf("series: asset_id, us and event_id must not be NULL")
	}
	return c, nil
}

// seriesTable holds all rows of analyze_series.sql, in arrival order, in
// 42 bytes a row (84 MB at 2M series rows; the 2M-row bench fixture has
// 160,000). Key ids are dense and small, so they are kept as int32.
type seriesTable struct {
	asset, part     []int32
	us, event, size []int64
	exec            []float64
	hasEx, hasSz    []bool
	maxAsset        int32
}

func (tab *seriesTable) reserve(n int) {
	tab.asset, tab.part = make([]int32, 0, n), make([]int32, 0, n)
	tab.us, tab.event, tab.size = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	tab.exec = make([]float64, 0, n)
	tab.hasEx, tab.hasSz = make([]bool, 0, n), make([]bool, 0, n)
}

func (tab *seriesTable) add(c seriesColumns) error {
	assets, parts, us, events, execs, sizes := c.asset.Int64Values(), c.part.Int64Values(), c.us.Int64Values(), c.event.Int64Values(), c.exec.Float64Values(), c.size.Int64Values()
	if len(tab.asset)+len(assets) > math.MaxInt32 {
		return fmt.Errorf("series: more than %d rows", math.MaxInt32)
	}
	for i, a := range assets {
		part := int64(0)
		if c.part.IsValid(i) {
			part = parts[i]
		}
		// Below MaxInt32, so asset+1 and the loops over ids stay in int32.
		if a < 1 || a >= math.MaxInt32 || part < 0 || part >= math.MaxInt32 {
			return fmt.Errorf("series: key id outside 1..%d (asset_id %d, part_id %d)", math.MaxInt32-1, a, part)
		}
		tab.asset = append(tab.asset, int32(a))
		tab.maxAsset = max(tab.maxAsset, int32(a))
		tab.part = append(tab.part, int32(part))
		tab.us = append(tab.us, us[i])
		tab.event = append(tab.event, events[i])
		tab.exec = append(tab.exec, execs[i])
		tab.hasEx = append(tab.hasEx, c.exec.IsValid(i))
		tab.size = append(tab.size, sizes[i])
		tab.hasSz = append(tab.hasSz, c.size.IsValid(i))
	}
	return nil
}

// byAsset returns the row indexes ordered by asset, and where each asset's
// rows start: asset a's are order[start[a]:start[a+1]], in arrival order.
// A counting sort: the asset ids are dense.
func (tab *seriesTable) byAsset() (order, start []int32) {
	start = make([]int32, int(tab.maxAsset)+2)
	for _, a := range tab.asset {
		start[a+1]++
	}
	for a := 1; a < len(start); a++ {
		start[a] += start[a-1]
	}
	next := slices.Clone(start)
	order = make([]int32, len(tab.asset))
	for i, a := range tab.asset {
		order[next[a]] = int32(i)
		next[a]++
	}
	return order, start
}

// eachAsset reads analyze_series.sql's stream, which may come in any
// order, and calls fn once per asset, in ascending asset_id, with all of
// its rows in (us, event_id) order. That order is total (event ids are
// unique), so each series, and every statistic of it, does not depend on
// how DuckDB cut or ordered its records.
//
// rows, when known, is how many rows the stream has: the columns are then
// allocated once rather than grown by appends.
func eachAsset(rr array.RecordReader, rows int, fn func(*assetRows) error) error {
	var tab seriesTable
	tab.reserve(rows)
	for rr.Next() {
		rec := rr.Record()
		if rec.NumRows() == 0 {
			continue
		}
		c, err := columnsOf(rec)
		if err != nil {
			return err
		}
		if err := tab.add(c); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("series: %w", err)
	}
	order, start := tab.byAsset()
	byTime := func(x, y int32) int {
		if c := cmp.Compare(tab.us[x], tab.us[y]); c != 0 {
			return c
		}
		return cmp.Compare(tab.event[x], tab.event[y])
	}
	g := &assetRows{}
	for a := 1; a <= int(tab.maxAsset); a++ {
		idx := order[start[a]:start[a+1]]
		if len(idx) == 0 {
			continue
		}
		slices.SortFunc(idx, byTime)
		g.reset(int64(a))
		for _, i := range idx {
			g.part = append(g.part, int64(tab.part[i]))
			// Days since the epoch: the BIGINT microseconds divided as a
			// DOUBLE, so the regression sees the same bits on every run.
			g.t = append(g.t, float64(tab.us[i])/86400e6)
			g.exec = append(g.exec, tab.exec[i])
			g.hasEx = append(g.hasEx, tab.hasEx[i])
			g.size = append(g.size, tab.size[i])
			g.hasSz = append(g.hasSz, tab.hasSz[i])
		}
		if err := fn(g); err != nil {
			return err
		}
	}
	return nil
}

// seriesOf gathers an asset's series: its execution times, its footprint,
// and each partition's execution times and sizes, in row order. Every
// slice handed out starts on a 16-byte boundary: gonum's vectorised sums
// (floats.Sum behind stat.Mean and stat.LinearRegression) add in an order
// that depends on the slice's alignment, and with aligned buffers a
// statistic depends only on its series (not on where DuckDB cut its Arrow
// records, nor on how many threads it sorted with).
type seriesOf struct {
	exec         []float64
	footT, footV []float64
	parts        map[int64]*partSeries
	order        []int64 // partitions in first-seen order
	latest       map[int64]int64
	spare        []*partSeries
}

type partSeries struct {
	exec, sizeT, sizeV []float64
}

func newSeriesOf() *seriesOf {
	return &seriesOf{
		exec: alignedFloats(64), footT: alignedFloats(64), footV: alignedFloats(64),
		parts: map[int64]*partSeries{}, latest: map[int64]int64{},
	}
}

// maxFootprint bounds the footprint: it is summed exactly in int64, and
// asset_stats stores it rounded to a BIGINT, which a float64 at 2^63 (what
// sums in the last 512 below it round to) does not fit.
const maxFootprint = math.MaxInt64 - 1024

// errFootprintOverflow: the footprint would not fit asset_stats' BIGINT.
var errFootprintOverflow = fmt.Errorf("footprint exceeds %d bytes", maxFootprint)

// gather fills s from g. It returns errFootprintOverflow (and an empty
// footprint; the other series are filled) when the footprint passes
// maxFootprint.
func (s *seriesOf) gather(g *assetRows) error {
	for _, p := range s.order {
		ps := s.parts[p]
		ps.exec, ps.sizeT, ps.sizeV = ps.exec[:0], ps.sizeT[:0], ps.sizeV[:0]
		s.spare = append(s.spare, ps)
		delete(s.parts, p)
	}
	s.order = s.order[:0]
	clear(s.latest)
	s.exec, s.footT, s.footV = s.exec[:0], s.footT[:0], s.footV[:0]
	var sum int64
	overflow := false
	for i, part := range g.part {
		var ps *partSeries
		if part != 0 {
			ps = s.parts[part]
			if ps == nil {
				if n := len(s.spare); n > 0 {
					ps, s.spare = s.spare[n-1], s.spare[:n-1]
				} else {
					ps = &partSeries{exec: alignedFloats(16), sizeT: alignedFloats(16), sizeV: alignedFloats(16)}
				}
				s.parts[part] = ps
				s.order = append(s.order, part)
			}
		}
		if g.hasEx[i] {
			s.exec = appendAligned(s.exec, g.exec[i])
			if ps != nil {
				ps.exec = appendAligned(ps.exec, g.exec[i])
			}
		}
		if !g.hasSz[i] {
			continue
		}
		size := g.size[i]
		if ps != nil {
			ps.sizeT = appendAligned(ps.sizeT, g.t[i])
			ps.sizeV = appendAligned(ps.sizeV, float64(size))
		}
		// The footprint changes by this partition's (or, for rows without
		// a partition, the asset's own) new size less its previous one.
		// Sizes are >= 0 (ingest keeps them in 0..2^53), so the sum and
		// each delta stay within int64 as long as the sum is bounded.
		prev := s.latest[part]
		s.latest[part] = size
		if size-prev > maxFootprint-sum {
			overflow = true
		}
		sum += size - prev
		s.footT = appendAligned(s.footT, g.t[i])
		s.footV = appendAligned(s.footV, float64(sum))
	}
	if overflow {
		s.footT, s.footV = s.footT[:0], s.footV[:0]
		return errFootprintOverflow
	}
	return nil
}

// appendAligned appends v, moving to a new 16-byte aligned buffer when the
// slice is full (append's own growth would not keep the alignment).
func appendAligned(s []float64, v float64) []float64 {
	if len(s) == cap(s) {
		n := alignedFloats(max(2*cap(s), 16))
		s = append(n, s...)
	}
	return append(s, v)
}

// alignedFloats returns an empty slice of capacity n whose first element is
// on a 16-byte boundary (Go's heap does not move objects, so it stays
// there).
func alignedFloats(n int) []float64 {
	b := make([]float64, n+1)
	if uintptr(unsafe.Pointer(&b[0]))%16 != 0 {
		b = b[1:]
	}
	return b[:0:n]
}
