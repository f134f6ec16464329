package ingest

import (
	"database/sql"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// column is one Arrow column of a fact table and how an Event fills it.
type column struct {
	name string
	typ  arrow.DataType
	put  func(b array.Builder, ev *Event)
}

// factTable describes the Arrow shape of one DuckDB fact table. The column
// names are those of sql/duckdb/schema.sql; the INSERT lists them explicitly
// so derived columns (resolution, asset_key of outputs) keep their defaults.
type factTable struct {
	name   string
	kind   Kind
	cols   []column
	schema *arrow.Schema
}

var tsType = &arrow.TimestampType{Unit: arrow.Microsecond} // no zone: DuckDB TIMESTAMP, UTC by contract

func putString(b array.Builder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	b.(*array.StringBuilder).Append(s)
}

func putNullString(b array.Builder, s sql.NullString) {
	if !s.Valid {
		b.AppendNull()
		return
	}
	b.(*array.StringBuilder).Append(s.String)
}

func putNullInt(b array.Builder, v sql.NullInt64) {
	if !v.Valid {
		b.AppendNull()
		return
	}
	b.(*array.Int64Builder).Append(v.Int64)
}

func putNullFloat(b array.Builder, v sql.NullFloat64) {
	if !v.Valid {
		b.AppendNull()
		return
	}
	b.(*array.Float64Builder).Append(v.Float64)
}

func putTS(b array.Builder, t time.Time) {
	b.(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
}

var (
	factEventID   = column{"event_id", arrow.PrimitiveTypes.Int64, func(b array.Builder, e *Event) { b.(*array.Int64Builder).Append(e.ID) }}
	factRunID     = column{"run_id", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putString(b, e.RunID) }}
	factJobName   = column{"job_name", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putString(b, e.JobName) }}
	factStepKey   = column{"step_key", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putString(b, e.StepKey) }}
	factTS        = column{"ts", tsType, func(b array.Builder, e *Event) { putTS(b, e.TS) }}
	factEventType = column{"event_type", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { b.(*array.StringBuilder).Append(e.Type) }}
	factAssetKey  = column{"asset_key", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { b.(*array.StringBuilder).Append(e.AssetKey()) }}
	factAssetPath = column{"asset_path", arrow.ListOf(arrow.BinaryTypes.String), func(b array.Builder, e *Event) {
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder().(*array.StringBuilder)
		for _, p := range e.AssetPath {
			vb.Append(p)
		}
	}}
	factPartition = column{"partition", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putNullString(b, e.Partition) }}
	factMetadata  = column{"metadata", arrow.BinaryTypes.String, func(b array.Builder, e *Event) {
		if len(e.Metadata) == 0 {
			b.(*array.StringBuilder).Append("{}")
			return
		}
		b.(*array.StringBuilder).BinaryBuilder.Append(e.Metadata)
	}}
	factManagerKey = column{"manager_key", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putNullString(b, e.ManagerKey) }}
)

func assetEventColumns() []column {
	return []column{
		factEventID, factRunID, factJobName, factStepKey, factAssetKey, factAssetPath, factPartition, factTS,
		{"size_bytes", arrow.PrimitiveTypes.Int64, func(b array.Builder, e *Event) { putNullInt(b, e.SizeBytes) }},
		{"row_count", arrow.PrimitiveTypes.Int64, func(b array.Builder, e *Event) { putNullInt(b, e.RowCount) }},
		{"execution_time_s", arrow.PrimitiveTypes.Float64, func(b array.Builder, e *Event) { putNullFloat(b, e.ExecTimeS) }},
		{"memory_delta_mb", arrow.PrimitiveTypes.Float64, func(b array.Builder, e *Event) { putNullFloat(b, e.MemoryDeltaMB) }},
		{"uri", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putNullString(b, e.URI) }},
		{"code_version", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putNullString(b, e.CodeVersion) }},
		{"data_version", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putNullString(b, e.DataVersion) }},
		factEventType, factMetadata,
	}
}

// factTables lists the tables a batch fills, in load order.
var factTables = func() []*factTable {
	ts := []*factTable{
		{name: "materializations", kind: KindMaterialization, cols: assetEventColumns()},
		{name: "observations", kind: KindObservation, cols: assetEventColumns()},
		{name: "materialization_planned", kind: KindPlanned, cols: []column{
			factEventID, factRunID, factJobName, factStepKey, factAssetKey, factAssetPath, factPartition, factTS,
		}},
		{name: "handled_outputs", kind: KindHandledOutput, cols: []column{
			factEventID, factRunID, factJobName, factStepKey, factTS,
			{"output_name", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putString(b, e.OutputName) }},
			factManagerKey, factEventType, factMetadata,
		}},
		{name: "asset_reads", kind: KindLoadedInput, cols: []column{
			factEventID, factRunID, factJobName, factStepKey, factTS,
			{"input_name", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putString(b, e.InputName) }},
			{"upstream_step_key", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putNullString(b, e.UpstreamStepKey) }},
			{"upstream_output_name", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putNullString(b, e.UpstreamOutputName) }},
			factManagerKey, factEventType,
		}},
		{name: "step_events", kind: KindStep, cols: []column{
			factEventID, factRunID, factJobName, factStepKey, factTS, factEventType,
			{"duration_ms", arrow.PrimitiveTypes.Float64, func(b array.Builder, e *Event) { putNullFloat(b, e.DurationMS) }},
			{"error_class", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putNullString(b, e.ErrorClass) }},
			{"error_message", arrow.BinaryTypes.String, func(b array.Builder, e *Event) { putNullString(b, e.ErrorMessage) }},
		}},
		{name: "run_events", kind: KindRun, cols: []column{factEventID, factRunID, factJobName, factTS, factEventType}},
	}
	for _, t := range ts {
		fields := make([]arrow.Field, len(t.cols))
		for i, c := range t.cols {
			fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
		}
		t.schema = arrow.NewSchema(fields, nil)
	}
	return ts
}()

// tableFor maps a kind to its fact table (nil for KindOther).
var tableFor = func() [KindRun + 1]*factTable {
	var m [KindRun + 1]*factTable
	for _, t := range factTables {
		m[t.kind] = t
	}
	return m
}()

// Reject is a row quarantined to rejected_events.
type Reject struct {
	EventID int64 // 0 when unknown
	Line    int64
	Type    string
	Reason  string
	Excerpt string
}

// Batch accumulates decoded events as Arrow columns, one builder per fact
// table, until a row or byte ceiling says flush. It is not safe for
// concurrent use. Records returned by Records belong to the caller.
type Batch struct {
	builders [KindRun + 1]*array.RecordBuilder
	counts   [KindRun + 1]int
	Rejects  []Reject
	Rows     int   // events plus rejects
	Bytes    int   // approximate bytes held
	MinID    int64 // lowest event id in the batch (0 when empty)
	MaxID    int64
	// Reader counters at the time the batch was flushed, for ingest_runs.
	readSoFar, skippedSoFar int64
}

// NewBatch allocates builders from mem; Release frees them.
func NewBatch(mem memory.Allocator) *Batch {
	b := &Batch{}
	for _, t := range factTables {
		b.builders[t.kind] = array.NewRecordBuilder(mem, t.schema)
	}
	return b
}

// Release frees the builders.
func (b *Batch) Release() {
	for _, rb := range b.builders {
		if rb != nil {
			rb.Release()
		}
	}
}

func (b *Batch) noteID(id int64) {
	if id == 0 {
		return
	}
	if b.MinID == 0 || id < b.MinID {
		b.MinID = id
	}
	if id > b.MaxID {
		b.MaxID = id
	}
}

// Add appends one event to its table. Events of KindOther are ignored.
func (b *Batch) Add(ev *Event) {
	t := tableFor[ev.Kind]
	if t == nil {
		return
	}
	rb := b.builders[t.kind]
	for i, c := range t.cols {
		c.put(rb.Field(i), ev)
	}
	b.counts[t.kind]++
	b.Rows++
	b.Bytes += 96 + len(ev.RunID) + len(ev.JobName) + len(ev.StepKey) + len(ev.Metadata) +
		len(ev.InputName) + len(ev.OutputName) + len(ev.ErrorMessage.String)
	for _, p := range ev.AssetPath {
		b.Bytes += 16 + 2*len(p) // path list plus the joined key
	}
	b.noteID(ev.ID)
}

// AddReject quarantines a row.
func (b *Batch) AddReject(r Reject) {
	b.Rejects = append(b.Rejects, r)
	b.Rows++
	b.Bytes += 128 + len(r.Excerpt) + len(r.Reason)
	b.noteID(r.EventID)
}

// Count returns the events of one kind held in the batch.
func (b *Batch) Count(k Kind) int { return b.counts[k] }

// takeRecord builds the record of one table and resets its builder; the
// caller releases the record. It returns nil when the table got no rows.
func (b *Batch) takeRecord(t *factTable) arrow.Record {
	if b.counts[t.kind] == 0 {
		return nil
	}
	return b.builders[t.kind].NewRecord()
}

// Reset empties the batch for reuse (builders are already reset by
// takeRecord; this clears the counters).
func (b *Batch) Reset() {
	for _, t := range factTables {
		if b.counts[t.kind] > 0 {
			// Drop anything not taken (an aborted load) so it does not leak
			// into the next batch.
			b.builders[t.kind].NewRecord().Release()
		}
	}
	b.counts = [KindRun + 1]int{}
	b.Rejects = b.Rejects[:0]
	b.Rows, b.Bytes, b.MinID, b.MaxID = 0, 0, 0, 0
}
