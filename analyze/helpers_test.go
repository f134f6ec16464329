package analyze_test

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/matlens/matlens/analyze"
	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest"
)

// smallFixture gives the windowed statistics 20 days of history; ingest's
// tests load the same deployment over 12 days (smallFixture12Days).
func smallFixture() fixtures.Options {
	return fixtures.SmallDeployment(20)
}

// loadFixture generates a fixture deployment and loads it into a fresh
// DuckDB file in t's temp dir.
func loadFixture(t testing.TB, o fixtures.Options) (string, *fixtures.Expected) {
	t.Helper()
	ctx := context.Background()
	var buf bytes.Buffer
	exp, err := fixtures.WriteDump(ctx, &buf, o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "matlens.duckdb")
	store, err := ingest.OpenStore(ctx, path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := ingest.Run(ctx, ingest.NewCopyReader(&buf, "test"), store, ingest.DefaultOptions(), nil); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return path, exp
}

func smallDB(t testing.TB) (string, *fixtures.Expected) {
	t.Helper()
	return loadFixture(t, smallFixture())
}

// openStore opens path for the duration of the test.
func openStore(t testing.TB, path string) *sql.Conn {
	t.Helper()
	s, err := ingest.OpenStore(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s.Conn()
}

// runAnalyze runs the stage with a checked allocator.
func runAnalyze(t testing.TB, conn *sql.Conn, mutate func(*analyze.Options)) analyze.Stats {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts := analyze.DefaultOptions()
	opts.Allocator = mem
	if mutate != nil {
		mutate(&opts)
	}
	st, err := analyze.Run(context.Background(), conn, opts, nil)
	if err != nil {
		t.Fatalf("analyze: %v", err)
	}
	return st
}
