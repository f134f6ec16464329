package ingest

import (
	"database/sql"
	"time"
)

// Row is one row of Dagster's event_logs table as a source hands it over.
// The byte slices are owned by the source and are valid only until the
// callback that received the row returns; the decoder copies what it keeps.
type Row struct {
	ID int64
	// Line is the 1-based line of the row in a file source, 0 for Postgres.
	Line      int64
	RunID     []byte
	Event     []byte // serdes JSON of the EventLogEntry
	Type      sql.NullString
	Timestamp sql.NullTime // naive UTC, as Dagster writes the column
	StepKey   []byte
	AssetKey  []byte // AssetKey.to_string(): a JSON array such as ["a","b"]
	Partition []byte
	// Nulls records which of the []byte columns were NULL (a NULL and an
	// empty string differ in Dagster's data).
	Nulls ColumnNulls
	// Malformed is set by a source for a row it could not parse; Event
	// then holds the raw line for the quarantine excerpt.
	Malformed string
}

// ColumnNulls flags NULL text columns of a Row.
type ColumnNulls struct {
	RunID, StepKey, AssetKey, Partition bool
}

// Kind says which fact table a decoded event belongs to.
type Kind uint8

// The kinds of events matlens keeps. KindOther covers event types matlens
// does not load (they are decoded only far enough to validate the envelope).
const (
	KindOther Kind = iota
	KindMaterialization
	KindObservation
	KindPlanned
	KindLoadedInput
	KindHandledOutput
	KindStep
	KindRun
)

var kindNames = [...]string{"other", "materialization", "observation", "planned", "loaded_input", "handled_output", "step", "run"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Event is one decoded Dagster event, flattened to the columns of the fact
// tables. Which fields are set depends on Kind.
type Event struct {
	ID   int64
	Kind Kind
	// Type is the dagster_event_type exactly as stored, legacy strings
	// included (STEP_MATERIALIZATION, ASSET_STORE_OPERATION, PIPELINE_*).
	Type    string
	RunID   string
	JobName string
	StepKey string
	TS      time.Time // UTC

	// Asset events (materialization, observation, planned).
	AssetPath     []string
	Partition     sql.NullString
	SizeBytes     sql.NullInt64
	RowCount      sql.NullInt64
	ExecTimeS     sql.NullFloat64
	MemoryDeltaMB sql.NullFloat64
	URI           sql.NullString
	CodeVersion   sql.NullString
	DataVersion   sql.NullString
	// Metadata is every metadata entry as one JSON object: label -> value.
	// Known value classes become plain JSON values; unknown classes are kept
	// as their raw entry_data JSON. "{}" when there is none.
	Metadata []byte

	// LOADED_INPUT and HANDLED_OUTPUT.
	InputName          string
	OutputName         string
	ManagerKey         sql.NullString
	UpstreamStepKey    sql.NullString
	UpstreamOutputName sql.NullString

	// Step events: STEP_SUCCESS duration and failure details.
	DurationMS   sql.NullFloat64
	ErrorClass   sql.NullString
	ErrorMessage sql.NullString
}

// AssetKey joins the asset path with "/", the form every matlens table uses.
func (e *Event) AssetKey() string { return JoinAssetPath(e.AssetPath) }
