package duckfile

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var sizePattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

var sizeUnits = map[string]float64{"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}

// ParseSize reads a size such as 64MB, 1.5GB, 512MiB or 4096B into bytes,
// with DuckDB's units (KB and MB are powers of 1000, KiB and MiB of 1024).
// Every memory setting of the config uses this one grammar.
func ParseSize(s string) (int64, error) {
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size such as 256MB, 1.5GB or 512MiB", s)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size such as 256MB, 1.5GB or 512MiB", s)
	}
	n := int64(f * sizeUnits[m[2]])
	if n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size", s)
	}
	return n, nil
}

// ValidSize says whether ParseSize reads s, for a validation switch.
func ValidSize(s string) bool {
	_, err := ParseSize(s)
	return err == nil
}

// SetMemoryLimit sets DuckDB's memory_limit on conn, in bytes.
func SetMemoryLimit(ctx context.Context, conn *sql.Conn, bytes int64) error {
	// SET takes no parameters; bytes is a number, so nothing is spliced.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%dB'", bytes)); err != nil {
		return fmt.Errorf("set memory_limit: %w", err)
	}
	return nil
}

// SetThreads sets how many threads DuckDB runs conn's queries on; n <= 0
// gives DuckDB's default (one per core).
func SetThreads(ctx context.Context, conn *sql.Conn, n int) error {
	q := "RESET threads"
	if n > 0 {
		q = fmt.Sprintf("SET threads = %d", n)
	}
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("set threads: %w", err)
	}
	return nil
}
