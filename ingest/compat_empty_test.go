package ingest

import (
	"path/filepath"
	"testing"
)

// TestCompat1122EmptyEventLog reads a complete dump of a fresh Dagster
// 1.1.22 instance: its schema predates the primary-key migration and its
// event_logs is empty, while other tables hold rows. Nothing is an event,
// so nothing is read or rejected, and the load still succeeds.
func TestCompat1122EmptyEventLog(t *testing.T) {
	path := filepath.Join(fixturesDir(t), "dagster-1.1.22-pg_dump.txt")
	if rows := decodeFile(t, path); len(rows) != 0 {
		t.Fatalf("decoded %d rows from an empty event_logs, want 0 (first: %+v)", len(rows), rows[0])
	}
	store, err := OpenStore(t.Context(), filepath.Join(t.TempDir(), "m.duckdb"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := Run(t.Context(), NewFileSource(path), store, DefaultOptions(), nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st.RowsRead != 0 || st.RowsLoaded != 0 || st.RowsRejected != 0 {
		t.Errorf("read %d, loaded %d, rejected %d; want all 0", st.RowsRead, st.RowsLoaded, st.RowsRejected)
	}
}
