package analyze

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// assetRows are one asset's rows of analyze_series.sql, copied out of the
// Arrow records (an asset may straddle records).
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
	asset, part, size *array.Int64
	t, exec           *array.Float64
}

func columnsOf(rec arrow.Record) (c seriesColumns, err error) {
	if rec.NumCols() != 5 {
		return c, fmt.Errorf("series: want 5 columns (asset_id, part_id, t, exec_s, size_bytes), got %d", rec.NumCols())
	}
	var ok [5]bool
	c.asset, ok[0] = rec.Column(0).(*array.Int64)
	c.part, ok[1] = rec.Column(1).(*array.Int64)
	c.t, ok[2] = rec.Column(2).(*array.Float64)
	c.exec, ok[3] = rec.Column(3).(*array.Float64)
	c.size, ok[4] = rec.Column(4).(*array.Int64)
	for i, good := range ok {
		if !good {
			return c, fmt.Errorf("series: column %s is %s", rec.ColumnName(i), rec.Column(i).DataType())
		}
	}
	if c.asset.NullN() > 0 || c.t.NullN() > 0 {
		return c, fmt.Errorf("series: asset_id and t must not be NULL")
	}
	return c, nil
}

// eachAsset walks analyze_series.sql's stream, ordered by asset_id, and
// calls fn once per asset with all of its rows. Assets must ascend;
// anything else is an error rather than a silently split series.
func eachAsset(rr array.RecordReader, fn func(*assetRows) error) error {
	g := &assetRows{}
	started := false
	for rr.Next() {
		rec := rr.Record()
		if rec.NumRows() == 0 {
			continue
		}
		c, err := columnsOf(rec)
		if err != nil {
			return err
		}
		assets, parts, ts, execs, sizes := c.asset.Int64Values(), c.part.Int64Values(), c.t.Float64Values(), c.exec.Float64Values(), c.size.Int64Values()
		for i, a := range assets {
			if !started || a != g.asset {
				if started {
					if a < g.asset {
						return fmt.Errorf("series: asset_id %d after %d: rows are not ordered by asset", a, g.asset)
					}
					if err := fn(g); err != nil {
						return err
					}
				}
				started = true
				g.reset(a)
			}
			part := int64(0)
			if c.part.IsValid(i) {
				part = parts[i]
			}
			g.part = append(g.part, part)
			g.t = append(g.t, ts[i])
			g.exec = append(g.exec, execs[i])
			g.hasEx = append(g.hasEx, c.exec.IsValid(i))
			g.size = append(g.size, sizes[i])
			g.hasSz = append(g.hasSz, c.size.IsValid(i))
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("series: %w", err)
	}
	if started {
		return fn(g)
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
