package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/matlens/matlens/sql/duckfile/duckfiletest"
)

// TestReportBesideAReader renders a report from a file another process has
// open read-only (an analyst's session): a report only reads, so it shares
// the file, and it leaves the file as it found it.
func TestReportBesideAReader(t *testing.T) {
	db := reportDB(t)
	// A nightly run may leave a small write-ahead log beside the file for
	// the next run to fold in; a reader replays it and changes neither.
	snapshot := func() string {
		b, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		wal, err := os.ReadFile(db + ".wal")
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return string(b) + "\x00wal\x00" + string(wal)
	}
	before := snapshot()
	duckfiletest.Hold(t, db, true)
	html := filepath.Join(t.TempDir(), "r.html")
	if code, _, stderr := callReport(t, "--db", db, "--format", "html", "--out", html, "--lock-wait", "0s"); code != exitOK {
		t.Fatalf("report beside a read-only holder: exit %d: %s", code, stderr)
	}
	if code, stdout, stderr := callReport(t, "--db", db); code != exitOK || stdout == "" {
		t.Fatalf("table report beside a read-only holder: exit %d: %s", code, stderr)
	}
	if snapshot() != before {
		t.Error("the report changed the DuckDB file or its write-ahead log")
	}
}
