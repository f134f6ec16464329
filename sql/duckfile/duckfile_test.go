package duckfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/matlens/matlens/sql/duckfile"
	"github.com/matlens/matlens/sql/duckfile/duckfiletest"
)

func TestMain(m *testing.M) {
	duckfiletest.ServeHold()
	os.Exit(m.Run())
}

func create(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.duckdb")
	f, err := duckfile.Open(context.Background(), path, duckfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Conn().ExecContext(context.Background(), "CREATE TABLE t AS SELECT 42 AS x"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLockedFileNamesTheHolderAfterTheWait(t *testing.T) {
	path := create(t)
	pid := duckfiletest.Hold(t, path, false)
	start := time.Now()
	_, err := duckfile.Open(context.Background(), path, duckfile.Options{LockWait: 600 * time.Millisecond})
	if !errors.Is(err, duckfile.ErrLocked) {
		t.Fatalf("err = %v, want duckfile.ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "PID "+strconv.Itoa(pid)) {
		t.Errorf("error %q does not name the holder's PID %d", err, pid)
	}
	if waited := time.Since(start); waited < 600*time.Millisecond {
		t.Errorf("gave up after %s, before the lock wait", waited)
	}
	// A read-only open needs the file's lock too while a writer holds it.
	if _, err := duckfile.Open(context.Background(), path, duckfile.Options{ReadOnly: true}); !errors.Is(err, duckfile.ErrLocked) {
		t.Errorf("read-only open beside a writer: err = %v, want duckfile.ErrLocked", err)
	}
}

func TestReadOnlyOpensShareAFileAndCannotWrite(t *testing.T) {
	path := create(t)
	duckfiletest.Hold(t, path, true)
	f, err := duckfile.Open(context.Background(), path, duckfile.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open beside another reader: %v", err)
	}
	defer f.Close()
	var x int
	if err := f.Conn().QueryRowContext(context.Background(), "SELECT x FROM t").Scan(&x); err != nil || x != 42 {
		t.Fatalf("read x = %d, %v", x, err)
	}
	if _, err := f.Conn().ExecContext(context.Background(), "CREATE TABLE u (y INT)"); err == nil {
		t.Error("a read-only file accepted CREATE TABLE")
	}
	if _, err := duckfile.Open(context.Background(), path, duckfile.Options{}); !errors.Is(err, duckfile.ErrLocked) {
		t.Errorf("read-write open beside a reader: err = %v, want duckfile.ErrLocked", err)
	}
}

func TestReadOnlyOpenOfAMissingFileCreatesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.duckdb")
	if _, err := duckfile.Open(context.Background(), path, duckfile.Options{ReadOnly: true}); err == nil {
		t.Fatal("opened a missing file read-only")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the open left %s behind (stat: %v)", path, err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"64MB": 64e6, "1.5GB": 1.5e9, "512MiB": 512 << 20, "4096B": 4096, "2 GiB": 2 << 30, "1TB": 1e12, "10KiB": 10 << 10,
	} {
		got, err := duckfile.ParseSize(in)
		if err != nil || got != want {
			t.Errorf("duckfile.ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "64", "64mb", "MB", "-1MB", "0MB", "1e3MB", "64MB; DROP TABLE x"} {
		if n, err := duckfile.ParseSize(in); err == nil {
			t.Errorf("duckfile.ParseSize(%q) = %d, want an error", in, n)
		}
	}
}

func TestSettingsApplyToTheConnection(t *testing.T) {
	ctx := context.Background()
	f, err := duckfile.Open(ctx, filepath.Join(t.TempDir(), "m.duckdb"), duckfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	setting := func(name string) string {
		var v string
		if err := f.Conn().QueryRowContext(ctx, "SELECT current_setting('"+name+"')::VARCHAR").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	defaultThreads := setting("threads")
	if err := duckfile.SetThreads(ctx, f.Conn(), 1); err != nil {
		t.Fatal(err)
	}
	if got := setting("threads"); got != "1" {
		t.Errorf("threads = %s after duckfile.SetThreads(1)", got)
	}
	if err := duckfile.SetThreads(ctx, f.Conn(), 0); err != nil {
		t.Fatal(err)
	}
	if got := setting("threads"); got != defaultThreads {
		t.Errorf("threads = %s after duckfile.SetThreads(0), want the default %s", got, defaultThreads)
	}
	before := setting("memory_limit")
	if err := duckfile.SetMemoryLimit(ctx, f.Conn(), 300e6); err != nil {
		t.Fatal(err)
	}
	if after := setting("memory_limit"); after == before {
		t.Errorf("memory_limit stayed %s after duckfile.SetMemoryLimit(300MB)", after)
	}
}

// TestViewReleasesEverything holds the go-duckdb release-callback
// workaround to its promise: after Drop nothing of the record stays
// allocated, and the view is gone.
func TestViewReleasesEverything(t *testing.T) {
	ctx := context.Background()
	f, err := duckfile.Open(ctx, filepath.Join(t.TempDir(), "m.duckdb"), duckfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	rec := b.NewRecord()
	b.Release()

	v, err := duckfile.RegisterRecord(f.Conn(), rec, "lent")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	if err := f.Conn().QueryRowContext(ctx, "SELECT sum(x) FROM lent").Scan(&sum); err != nil || sum != 6 {
		t.Fatalf("sum = %d, %v", sum, err)
	}
	if err := v.Drop(ctx, f.Conn()); err != nil {
		t.Fatal(err)
	}
	if err := v.Drop(ctx, f.Conn()); err != nil {
		t.Errorf("a second Drop: %v", err)
	}
	rec.Release()
	mem.AssertSize(t, 0)
	if _, err := f.Conn().ExecContext(ctx, "SELECT * FROM lent"); err == nil {
		t.Error("the view outlived Drop")
	}
}

func TestIsOutOfMemory(t *testing.T) {
	ctx := context.Background()
	f, err := duckfile.Open(ctx, filepath.Join(t.TempDir(), "m.duckdb"), duckfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := duckfile.SetMemoryLimit(ctx, f.Conn(), 4e6); err != nil {
		t.Fatal(err)
	}
	_, err = f.Conn().ExecContext(ctx, "SELECT string_agg(i::VARCHAR || repeat('x', 100), ',') FROM range(2000000) r(i) GROUP BY i % 1000000")
	if err == nil {
		t.Fatal("a 4MB pool held a 200MB aggregate")
	}
	if !duckfile.IsOutOfMemory(err) {
		t.Errorf("duckfile.IsOutOfMemory(%v) = false", err)
	}
	if duckfile.IsOutOfMemory(errors.New("syntax error")) || duckfile.IsOutOfMemory(nil) {
		t.Error("IsOutOfMemory says yes to other errors")
	}
}
