package ingest

import "context"

// Query selects the rows a Source hands over.
type Query struct {
	// AfterID keeps only rows with id > AfterID.
	AfterID int64
	// Types keeps only rows whose dagster_event_type is one of these.
	// Empty means every row (used by tests of the decoder).
	Types []string
}

// Source hands over rows of Dagster's event_logs table.
//
// Read calls fn once per row, in ascending id order where the source can
// promise it (PostgreSQL does; a dump file is in the order it was written,
// which for event_logs is id order). The Row and its byte slices are reused
// after fn returns. A row the source itself cannot parse (a line cut mid-row
// in an excerpt, a bad id) is still handed over, with Malformed set, so the
// caller can quarantine it. Read stops at the first error fn returns, and
// when ctx is cancelled.
type Source interface {
	// Name identifies the source in ingest_state and ingest_runs. It never
	// contains a password.
	Name() string
	Read(ctx context.Context, q Query, fn func(*Row) error) error
}

// Sizer is a Source that can say, cheaply, the highest id it holds; Run uses
// it to report how far it has come.
type Sizer interface {
	MaxID(ctx context.Context) (int64, error)
}
