package ingesttest

import (
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestWithDatabaseKeepsTheRest: only the database name changes; a password
// and query parameters in MATLENS_TEST_PG reach the per-test database.
func TestWithDatabaseKeepsTheRest(t *testing.T) {
	t.Parallel()
	for _, admin := range []string{
		"postgres://ci:s3cr%2Ft@db.example:6543/postgres?sslmode=require&application_name=matlens_ci&connect_timeout=7",
		"host=db.example port=6543 user=ci password='s3cr/t' dbname=postgres sslmode=require application_name=matlens_ci connect_timeout=7",
	} {
		dsn, err := WithDatabase(admin, "matlens_t_1")
		if err != nil {
			t.Fatalf("%s: %v", admin, err)
		}
		cfg, err := pgconn.ParseConfig(dsn)
		if err != nil {
			t.Fatalf("%s: %v", dsn, err)
		}
		if cfg.Database != "matlens_t_1" {
			t.Errorf("%s: database %q, want matlens_t_1", dsn, cfg.Database)
		}
		if cfg.User != "ci" || cfg.Password != "s3cr/t" || cfg.Host != "db.example" || cfg.Port != 6543 {
			t.Errorf("%s: user %q password %q host %q port %d", dsn, cfg.User, cfg.Password, cfg.Host, cfg.Port)
		}
		if cfg.RuntimeParams["application_name"] != "matlens_ci" || cfg.ConnectTimeout.Seconds() != 7 {
			t.Errorf("%s: application_name %q, connect_timeout %v", dsn, cfg.RuntimeParams["application_name"], cfg.ConnectTimeout)
		}
		if cfg.TLSConfig == nil {
			t.Errorf("%s: sslmode=require lost", dsn)
		}
	}
	if _, err := WithDatabase("postgres://[bad", "x"); err == nil {
		t.Error("malformed DSN accepted")
	}
}
