package main

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matlens/matlens/ingest"
	isql "github.com/matlens/matlens/sql"
)

// TestAnalystExamplesRunOnDemoData executes every sql/examples/*.sql file
// against the demo dataset: each must run and return rows.
func TestAnalystExamplesRunOnDemoData(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.duckdb")
	if code, _, stderr := runCLI(t, noEnv, "demo", "--db", db); code != exitOK {
		t.Fatalf("demo: %s", stderr)
	}
	store, err := ingest.OpenStore(context.Background(), db, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	names, err := fs.Glob(isql.Examples, "examples/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".sql"), func(t *testing.T) {
			q := isql.MustRead(isql.Examples, name)
			rows, err := store.Conn().QueryContext(context.Background(), q)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Errorf("%s returned no rows on the demo data", name)
			}
		})
	}
}
