package analyze

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// eachSeries walks a record stream whose first column is key_id (BIGINT,
// non-NULL) and whose other columns are DOUBLE (non-NULL), ordered by
// key_id, and calls fn once per key with that key's rows of each value
// column as float64 slices.
//
// The slices are valid only during fn. Each series is copied into a reused
// buffer that starts on a 16-byte boundary: gonum's vectorised sums
// (floats.Sum behind stat.Mean and stat.LinearRegression) add in an order
// that depends on the alignment of the slice they get, and a window of an
// Arrow buffer is aligned however the record happened to be cut. With the
// copy, a statistic depends only on the series, so DuckDB may cut records
// anywhere (and run the query on any number of threads). The copy costs
// about 10 ms per 4M values. Keys must ascend; anything else is an error
// rather than a silently split series.
func eachSeries(rr array.RecordReader, fn func(key int64, cols [][]float64) error) error {
	sc := rr.Schema()
	if sc.NumFields() < 2 || sc.Field(0).Type.ID() != arrow.INT64 {
		return fmt.Errorf("series: want (key_id BIGINT, DOUBLE...), got %s", sc)
	}
	nv := sc.NumFields() - 1
	for i := 1; i <= nv; i++ {
		if sc.Field(i).Type.ID() != arrow.FLOAT64 {
			return fmt.Errorf("series: column %s is %s, want DOUBLE", sc.Field(i).Name, sc.Field(i).Type)
		}
	}
	cols := make([][]float64, nv)
	carry := make([][]float64, nv)
	carryKey, haveCarry := int64(0), false
	lastKey, started := int64(0), false

	aligned := newAlignedSeries(nv)
	call := func(k int64, c [][]float64) error { return fn(k, aligned.copy(c)) }
	flushCarry := func() error {
		if !haveCarry {
			return nil
		}
		haveCarry = false
		return call(carryKey, carry)
	}
	for rr.Next() {
		rec := rr.Record()
		n := int(rec.NumRows())
		if n == 0 {
			continue
		}
		keyArr, ok := rec.Column(0).(*array.Int64)
		if !ok || keyArr.NullN() > 0 {
			return fmt.Errorf("series: key_id must be a non-NULL BIGINT")
		}
		keys := keyArr.Int64Values()
		vals := make([][]float64, nv)
		for j := range nv {
			a, ok := rec.Column(j + 1).(*array.Float64)
			if !ok || a.NullN() > 0 {
				return fmt.Errorf("series: column %s must be a non-NULL DOUBLE", sc.Field(j+1).Name)
			}
			vals[j] = a.Float64Values()
		}
		i := 0
		for i < n {
			k := keys[i]
			end := i + 1
			for end < n && keys[end] == k {
				end++
			}
			if started && k < lastKey || (started && k == lastKey && !(haveCarry && i == 0)) {
				return fmt.Errorf("series: key_id %d after %d: rows are not ordered by key", k, lastKey)
			}
			started, lastKey = true, k
			if haveCarry && k == carryKey {
				// The key continues from the previous record.
				for j := range nv {
					carry[j] = append(carry[j], vals[j][i:end]...)
				}
				if end == n {
					break // may continue in the next record too
				}
				if err := flushCarry(); err != nil {
					return err
				}
				i = end
				continue
			}
			if err := flushCarry(); err != nil {
				return err
			}
			if end == n {
				// The last key of a record may continue in the next one:
				// keep a copy, since the record is released on Next.
				for j := range nv {
					carry[j] = append(carry[j][:0], vals[j][i:end]...)
				}
				carryKey, haveCarry = k, true
				break
			}
			for j := range nv {
				cols[j] = vals[j][i:end]
			}
			if err := call(k, cols); err != nil {
				return err
			}
			i = end
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("series: %w", err)
	}
	return flushCarry()
}

// alignedSeries copies series into reused buffers that start on a 16-byte
// boundary, see eachSeries.
type alignedSeries struct {
	bufs [][]float64
	out  [][]float64
}

func newAlignedSeries(n int) *alignedSeries {
	return &alignedSeries{bufs: make([][]float64, n), out: make([][]float64, n)}
}

func (a *alignedSeries) copy(cols [][]float64) [][]float64 {
	for j, c := range cols {
		if cap(a.bufs[j]) < len(c) {
			a.bufs[j] = alignedFloats(max(len(c), 2*cap(a.bufs[j])))
		}
		a.out[j] = append(a.bufs[j][:0], c...)
	}
	return a.out
}

// alignedFloats returns a slice of capacity n whose first element is on a
// 16-byte boundary (Go's heap does not move objects, so it stays there).
func alignedFloats(n int) []float64 {
	b := make([]float64, n+1)
	if uintptr(unsafe.Pointer(&b[0]))%16 != 0 {
		b = b[1:]
	}
	return b[:0:n]
}
