package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/matlens/matlens/fixtures"
)

// benchSizes are the row counts of the stage benchmarks; MATLENS_BENCH_ROWS
// replaces them (e.g. MATLENS_BENCH_ROWS=2000000).
func benchSizes() []int64 {
	if v := os.Getenv("MATLENS_BENCH_ROWS"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return []int64{n}
		}
	}
	return []int64{20_000, 200_000}
}

// benchDump renders a fixture deployment of about rows event rows as a
// pg_dump in memory.
func benchDump(b *testing.B, rows int64) []byte {
	b.Helper()
	o := fixtures.DefaultOptions()
	o.Rows = rows
	var buf bytes.Buffer
	if _, err := fixtures.WriteDump(context.Background(), &buf, o); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// decodedEvents decodes the loadable rows of a dump once, for the stages
// after the decoder.
func decodedEvents(b *testing.B, dump []byte) []Event {
	b.Helper()
	dec := NewDecoder(DefaultMetadataKeys())
	var evs []Event
	err := NewCopyReader(bytes.NewReader(dump), "bench").Read(context.Background(), Query{Types: LoadedTypes()}, func(r *Row) error {
		var ev Event
		if err := dec.Decode(r, &ev); err != nil {
			return err
		}
		evs = append(evs, ev)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return evs
}

// BenchmarkArrowBatch: decoded events -> Arrow records, one batch of 50,000.
func BenchmarkArrowBatch(b *testing.B) {
	evs := decodedEvents(b, benchDump(b, 120_000))
	evs = evs[:min(len(evs), 50_000)]
	b.Run(fmt.Sprintf("rows=%d", len(evs)), func(b *testing.B) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(b, 0)
		batch := NewBatch(mem)
		defer batch.Release()
		b.ReportAllocs()
		for b.Loop() {
			for i := range evs {
				batch.Add(&evs[i])
			}
			for _, t := range factTables {
				if rec := batch.takeRecord(t); rec != nil {
					rec.Release()
				}
			}
			batch.Reset()
		}
		b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkDuckDBLoad: one 50,000-row batch committed (Arrow view, INSERT,
// derived rows, watermark) into a DuckDB file that already holds one batch.
func BenchmarkDuckDBLoad(b *testing.B) {
	evs := decodedEvents(b, benchDump(b, 240_000))
	const n = 50_000
	if len(evs) < 2*n {
		b.Fatalf("only %d events", len(evs))
	}
	b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
		ctx := context.Background()
		mem := memory.NewGoAllocator()
		batch := NewBatch(mem)
		defer batch.Release()
		fill := func(part []Event) {
			batch.Reset()
			for i := range part {
				batch.Add(&part[i])
			}
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			store, err := OpenStore(ctx, filepath.Join(b.TempDir(), fmt.Sprintf("l%d.duckdb", i)), time.Second)
			if err != nil {
				b.Fatal(err)
			}
			st := &Stats{}
			fill(evs[:n])
			if _, err := store.commitBatch(ctx, "bench", 1, batch, st); err != nil {
				b.Fatal(err)
			}
			fill(evs[n : 2*n])
			b.StartTimer()
			if _, err := store.commitBatch(ctx, "bench", 1, batch, st); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := store.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkIngestFile: the whole stage from a pg_dump in memory to a fresh
// DuckDB file (read, decode, Arrow, load, derive, checkpoint).
func BenchmarkIngestFile(b *testing.B) {
	for _, rows := range benchSizes() {
		dump := benchDump(b, rows)
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			ctx := context.Background()
			b.SetBytes(int64(len(dump)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				store, err := OpenStore(ctx, filepath.Join(b.TempDir(), fmt.Sprintf("i%d.duckdb", i)), time.Second)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Run(ctx, NewCopyReader(bytes.NewReader(dump), "bench"), store, DefaultOptions(), nil); err != nil {
					b.Fatal(err)
				}
				if err := store.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
