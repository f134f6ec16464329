package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigUnknownKeysAndBadValuesNameThemselves(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ body, want string }{
		{"ingest:\n  batch_rowz: 10\n", "batch_rowz"},
		{"ingest:\n  lock_wait: soon\n", `"soon" is not a duration`},
		{"ingest:\n  batch_rows: many\n", "many"},
		{"ingest:\n  duckdb_memory_limit: lots\n", "duckdb_memory_limit"},
		{"ingest:\n  batch_rows: 0\n", "ingest.batch_rows"},
		{"colour: blue\n", "colour"},
		{"ingest:\n  metadata_keys:\n    size:\n      - {key: bytes_written, unit: furlongs}\n", `unit "furlongs"`},
	} {
		cfg := writeFile(t, dir, "m.yaml", tc.body)
		code, _, stderr := runCLI(t, noEnv, "ingest", "--config", cfg, "--source", "x", "--db", filepath.Join(dir, "m.duckdb"))
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("config %q: exit %d, stderr %q; want exit %d naming %q", tc.body, code, stderr, exitUsage, tc.want)
		}
	}
}

func TestConfigPrecedenceFlagsEnvFileDefaults(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "m.yaml", "db: from-file.duckdb\ningest:\n  batch_rows: 123\n  reread_window: 7\nsource:\n  pg: postgres://filer:filepw@db.example:5432/dagster\n")
	vars := map[string]string{"MATLENS_DB": "from-env.duckdb"}
	getenv := func(k string) string { return vars[k] }

	code, out, stderr := runCLI(t, getenv, "config", "--config", cfg)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"db: from-env.duckdb", "batch_rows: 123", "reread_window: 7", "postgres://filer:xxxxx@db.example", "result_size_mb", "unit: MiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("effective config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "filepw") {
		t.Errorf("config printed the password:\n%s", out)
	}
	// A flag beats both: the source flag replaces the file's DSN.
	code, out, stderr = runCLI(t, getenv, "ingest", "--config", cfg, "--source", compatDump(t), "--db", filepath.Join(dir, "flag.duckdb"))
	if code != exitOK {
		t.Fatalf("ingest with flags over config: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "8 loaded") {
		t.Errorf("ingest summary %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "flag.duckdb")); err != nil {
		t.Errorf("--db flag was not used: %v", err)
	}
}

func TestConfigReadsDagsterYAML(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, dagster, want string }{
		{"postgres_db with env", `
storage:
  postgres:
    postgres_db:
      username: {env: DAGSTER_PG_USERNAME}
      password: {env: DAGSTER_PG_PASSWORD}
      hostname: dagster-db
      db_name: dagster
      port: 5433
      params:
        sslmode: require
`, "postgresql://dag:xxxxx@dagster-db:5433/dagster?sslmode=require"},
		{"postgres_url", `
storage:
  postgres:
    postgres_url: {env: DAGSTER_PG_URL}
`, "postgres://u:xxxxx@h:5432/d"},
		{"legacy event_log_storage", `
event_log_storage:
  module: dagster_postgres.event_log
  class: PostgresEventLogStorage
  config:
    postgres_url: postgres://old@legacy:5432/dagster
`, "postgres://old@legacy:5432/dagster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dy := writeFile(t, dir, "dagster.yaml", tc.dagster)
			cfg := writeFile(t, dir, "m.yaml", "source:\n  dagster_yaml: "+dy+"\n")
			vars := map[string]string{"DAGSTER_PG_USERNAME": "dag", "DAGSTER_PG_PASSWORD": "s3cret", "DAGSTER_PG_URL": "postgres://u:s3cret@h:5432/d"}
			code, out, stderr := runCLI(t, func(k string) string { return vars[k] }, "config", "--config", cfg)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(out, "pg: "+tc.want) {
				t.Errorf("want pg %s in:\n%s", tc.want, out)
			}
			if strings.Contains(out, "s3cret") {
				t.Errorf("password printed:\n%s", out)
			}
		})
	}
	// An env reference that is not set is a configuration error naming it.
	dy := writeFile(t, dir, "dagster.yaml", "storage:\n  postgres:\n    postgres_url: {env: NOT_SET_URL}\n")
	cfg := writeFile(t, dir, "m.yaml", "source:\n  dagster_yaml: "+dy+"\n")
	code, _, stderr := runCLI(t, noEnv, "config", "--config", cfg)
	if code != exitUsage || !strings.Contains(stderr, "NOT_SET_URL") {
		t.Errorf("exit %d, %s", code, stderr)
	}
}

func TestPricesShowsOverrides(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCLI(t, noEnv, "prices", "--provider", "gcp", "--json")
	if code != exitOK || !strings.Contains(out, "NEARLINE") {
		t.Fatalf("exit %d %s %s", code, out, stderr)
	}
	code, _, stderr = runCLI(t, noEnv, "prices", "--provider", "ibm")
	if code != exitUsage || !strings.Contains(stderr, `"ibm"`) {
		t.Errorf("unknown provider: exit %d %s", code, stderr)
	}
	override := writeFile(t, dir, "prices.yaml", "providers:\n  aws:\n    classes:\n      STANDARD:\n        storage_usd_per_gb_month: 0.0999\n")
	cfg := writeFile(t, dir, "m.yaml", "tiering:\n  prices_file: "+override+"\n")
	code, out, stderr = runCLI(t, noEnv, "prices", "--config", cfg, "--provider", "aws")
	if code != exitOK || !strings.Contains(out, "0.0999") {
		t.Errorf("override not shown: exit %d %s %s", code, out, stderr)
	}
	bad := writeFile(t, dir, "bad.yaml", "providers:\n  aws:\n    classes:\n      STANDARD:\n        storage_usd_per_gb_mnth: 1\n")
	code, _, stderr = runCLI(t, noEnv, "prices", "--prices", bad)
	if code != exitUsage || !strings.Contains(stderr, "storage_usd_per_gb_mnth") {
		t.Errorf("bad override: exit %d %s", code, stderr)
	}
}

// TestREADMEConfigExampleIsValid keeps the README's configuration example
// true: it must load with no unknown key.
func TestREADMEConfigExampleIsValid(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\ndb: ")
	if !ok {
		t.Fatal("README has no configuration example starting with db:")
	}
	example, _, _ := strings.Cut("db: "+rest, "```")
	dir := t.TempDir()
	dagster := writeFile(t, dir, "dagster.yaml", "storage:\n  postgres:\n    postgres_url: postgres://dagster@db:5432/dagster\n")
	example = strings.Replace(example, "/opt/dagster/dagster_home/dagster.yaml", dagster, 1)
	cfg := writeFile(t, dir, "m.yaml", example)
	code, out, stderr := runCLI(t, noEnv, "config", "--config", cfg)
	if code != exitOK {
		t.Fatalf("README config example: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "postgres://dagster@db:5432/dagster") {
		t.Errorf("the example's dagster_yaml source was not used:\n%s", out)
	}
}
