// Package ingesttest gives tests a real PostgreSQL database of their own
// and an AWS environment that reaches no real account.
package ingesttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// EnvDSN names the variable that points tests at a PostgreSQL server. Its
// database is only used to create and drop per-test databases.
const EnvDSN = "MATLENS_TEST_PG"

// DefaultDSN is the server these machines run (trust auth).
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminDSN returns the DSN of the test server.
func AdminDSN() string {
	if v := os.Getenv(EnvDSN); v != "" {
		return v
	}
	return DefaultDSN
}

// NewPostgres creates an empty database for the calling test and returns
// its DSN; the database is dropped when the test ends. When no server is
// reachable the test is skipped, except under CI=true, where it fails:
// integration tests never silently skip in CI.
func NewPostgres(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin := AdminDSN()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL not reachable at %s under CI=true: %v", EnvDSN, err)
		}
		t.Skipf("PostgreSQL not reachable (set %s): %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("matlens_t_%d_%d", time.Now().UnixNano()%1e9, rand.IntN(1e6))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	dsn, err := WithDatabase(admin, name)
	if err != nil {
		t.Fatalf("%s: %v", EnvDSN, err)
	}
	return dsn
}

// WithDatabase returns dsn naming database name instead of its own,
// everything else (password, query parameters, options) kept. dsn is a
// postgres:// URL or a keyword/value string.
func WithDatabase(dsn, name string) (string, error) {
	if _, err := pgconn.ParseConfig(dsn); err != nil {
		return "", fmt.Errorf("parse DSN: %w", err)
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN: %w", err)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	// In a keyword/value string the last setting of a keyword wins.
	return strings.TrimSpace(dsn) + " dbname=" + name, nil
}

// MustExec runs statements against dsn and fails the test on error.
func MustExec(t testing.TB, dsn string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("exec %q: %v", s, err)
		}
	}
}
