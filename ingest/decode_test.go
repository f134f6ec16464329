package ingest

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// envelopeJSON builds an EventLogEntry around a DagsterEvent of type typ
// with the given event_specific_data JSON, the way serdes writes it.
func envelopeJSON(typ, esd string) string {
	return `{"__class__": "EventLogEntry", "dagster_event": {"__class__": "DagsterEvent", "event_specific_data": ` + esd +
		`, "event_type_value": "` + typ + `", "logging_tags": {}, "message": "m", "pid": 1, "pipeline_name": "job_a", "solid_handle": null, "step_key": "step_a", "step_kind_value": "COMPUTE"}, ` +
		`"error_info": null, "level": 10, "message": "", "pipeline_name": "job_a", "run_id": "run-1", "step_key": "step_a", "timestamp": 1729528721.08461, "user_message": ""}`
}

// materializationJSON is StepMaterializationData with the given
// metadata_entries list and tags.
func materializationJSON(entries, tags string) string {
	return `{"__class__": "StepMaterializationData", "asset_lineage": [], "materialization": {"__class__": "AssetMaterialization", ` +
		`"asset_key": {"__class__": "AssetKey", "path": ["warehouse", "orders"]}, "description": null, "metadata_entries": ` + entries +
		`, "partition": "2024-01-01", "tags": ` + tags + `}}`
}

func entryJSON(label, entryData string) string {
	return `{"__class__": "EventMetadataEntry", "description": null, "entry_data": ` + entryData + `, "label": "` + label + `"}`
}

// rowFor is a row as PostgreSQL would hand it over for typ: the type
// column set, the other columns NULL so that the JSON is what counts.
func rowFor(typ, event string) *Row {
	r := &Row{ID: 7, Event: []byte(event), Nulls: ColumnNulls{RunID: true, StepKey: true, AssetKey: true, Partition: true}}
	if typ != "" {
		r.Type = sql.NullString{String: typ, Valid: true}
	}
	return r
}

func decodeRow(t *testing.T, r *Row) (Event, error) {
	t.Helper()
	var ev Event
	err := NewDecoder(DefaultMetadataKeys()).Decode(r, &ev)
	if err == nil && !json.Valid(ev.Metadata) {
		t.Fatalf("Metadata is not valid JSON: %s", ev.Metadata)
	}
	return ev, err
}

func mustDecode(t *testing.T, r *Row) Event {
	t.Helper()
	ev, err := decodeRow(t, r)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return ev
}

func TestDecodeEnvelope(t *testing.T) {
	t.Parallel()
	ev := mustDecode(t, rowFor("ASSET_MATERIALIZATION", envelopeJSON("ASSET_MATERIALIZATION", materializationJSON("[]", "{}"))))
	if ev.ID != 7 || ev.Kind != KindMaterialization || ev.Type != "ASSET_MATERIALIZATION" {
		t.Errorf("ID, Kind, Type = %d, %v, %q", ev.ID, ev.Kind, ev.Type)
	}
	if ev.RunID != "run-1" || ev.JobName != "job_a" || ev.StepKey != "step_a" {
		t.Errorf("RunID, JobName, StepKey = %q, %q, %q", ev.RunID, ev.JobName, ev.StepKey)
	}
	// 1729528721.08461 s is 16:38:41.084610 UTC, as the column holds it.
	want := time.Date(2024, 10, 21, 16, 38, 41, 84610000, time.UTC)
	if !ev.TS.Equal(want) || ev.TS.Location() != time.UTC {
		t.Errorf("TS = %v, want %v", ev.TS, want)
	}
	if got := ev.AssetKey(); got != "warehouse/orders" {
		t.Errorf("AssetKey = %q", got)
	}
	if ev.Partition != (sql.NullString{String: "2024-01-01", Valid: true}) {
		t.Errorf("Partition = %+v", ev.Partition)
	}
	if string(ev.Metadata) != "{}" || ev.SizeBytes.Valid {
		t.Errorf("Metadata = %s, SizeBytes = %+v", ev.Metadata, ev.SizeBytes)
	}
}

func TestDecodeTimestampRounding(t *testing.T) {
	t.Parallel()
	// Dump 1.8.12 id 1: JSON 1729528717.3807418, column 16:38:37.380742.
	js := strings.Replace(envelopeJSON("PIPELINE_START", "null"), "1729528721.08461", "1729528717.3807418", 1)
	ev := mustDecode(t, rowFor("PIPELINE_START", js))
	if want := time.Date(2024, 10, 21, 16, 38, 37, 380742000, time.UTC); !ev.TS.Equal(want) {
		t.Errorf("TS = %v, want %v", ev.TS, want)
	}
}

func TestDecodePrecedence(t *testing.T) {
	t.Parallel()
	colTS := time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC)
	r := rowFor("STEP_START", envelopeJSON("STEP_SUCCESS", "null"))
	r.RunID, r.Nulls.RunID = []byte("run-col"), false
	r.StepKey, r.Nulls.StepKey = []byte("step-col"), false
	r.Timestamp = sql.NullTime{Time: colTS, Valid: true}
	ev := mustDecode(t, r)
	// The column type wins, so STEP_SUCCESS's missing duration is no error.
	if ev.Type != "STEP_START" || ev.Kind != KindStep {
		t.Errorf("Type, Kind = %q, %v", ev.Type, ev.Kind)
	}
	if ev.RunID != "run-col" || ev.StepKey != "step-col" || !ev.TS.Equal(colTS) {
		t.Errorf("RunID, StepKey, TS = %q, %q, %v", ev.RunID, ev.StepKey, ev.TS)
	}

	// NULL type column: the JSON event_type_value decides.
	ev = mustDecode(t, rowFor("", envelopeJSON("STEP_START", "null")))
	if ev.Type != "STEP_START" || ev.Kind != KindStep {
		t.Errorf("from JSON: Type, Kind = %q, %v", ev.Type, ev.Kind)
	}

	// job_name is accepted where pipeline_name is missing.
	js := strings.ReplaceAll(envelopeJSON("PIPELINE_START", "null"), `"pipeline_name": "job_a"`, `"job_name": "job_b"`)
	if ev := mustDecode(t, rowFor("PIPELINE_START", js)); ev.JobName != "job_b" {
		t.Errorf("JobName = %q, want job_b", ev.JobName)
	}
}

func TestDecodeKinds(t *testing.T) {
	t.Parallel()
	errJSON := `{"__class__": "SerializableErrorInfo", "cause": null, "cls_name": "ValueError", "context": null, "message": "boom\n", "stack": ["x"]}`
	tests := []struct {
		name, typ, esd string
		check          func(t *testing.T, ev Event)
	}{
		{"observation", "ASSET_OBSERVATION",
			`{"__class__": "AssetObservationData", "asset_observation": {"__class__": "AssetObservation", "asset_key": {"__class__": "AssetKey", "path": ["a"]}, "description": null, "metadata_entries": [` +
				entryJSON("dagster/row_count", `{"__class__": "IntMetadataEntryData", "value": 42}`) + `], "partition": null, "tags": {"dagster/data_version": "dv1"}}}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindObservation || ev.AssetKey() != "a" || ev.Partition.Valid {
					t.Errorf("Kind, AssetKey, Partition = %v, %q, %+v", ev.Kind, ev.AssetKey(), ev.Partition)
				}
				if ev.RowCount != (sql.NullInt64{Int64: 42, Valid: true}) || ev.DataVersion.String != "dv1" || ev.CodeVersion.Valid {
					t.Errorf("RowCount, DataVersion, CodeVersion = %+v, %+v, %+v", ev.RowCount, ev.DataVersion, ev.CodeVersion)
				}
			}},
		{"planned", "ASSET_MATERIALIZATION_PLANNED",
			`{"__class__": "AssetMaterializationPlannedData", "asset_key": {"__class__": "AssetKey", "path": ["p", "q"]}, "partition": "2024-02-02", "partitions_subset": null}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindPlanned || ev.AssetKey() != "p/q" || ev.Partition.String != "2024-02-02" || string(ev.Metadata) != "{}" {
					t.Errorf("Kind, AssetKey, Partition, Metadata = %v, %q, %+v, %s", ev.Kind, ev.AssetKey(), ev.Partition, ev.Metadata)
				}
			}},
		{"loaded input", "LOADED_INPUT",
			`{"__class__": "LoadedInputData", "input_name": "orders", "manager_key": "io_manager", "metadata_entries": [` +
				entryJSON("path", `{"__class__": "PathMetadataEntryData", "path": "/data/orders"}`) + `], "upstream_output_name": "result", "upstream_step_key": "orders_step"}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindLoadedInput || ev.InputName != "orders" || ev.ManagerKey.String != "io_manager" {
					t.Errorf("Kind, InputName, ManagerKey = %v, %q, %+v", ev.Kind, ev.InputName, ev.ManagerKey)
				}
				if ev.UpstreamStepKey.String != "orders_step" || ev.UpstreamOutputName.String != "result" || ev.URI.String != "/data/orders" {
					t.Errorf("Upstream, URI = %+v, %+v, %+v", ev.UpstreamStepKey, ev.UpstreamOutputName, ev.URI)
				}
			}},
		{"loaded input without upstream", "LOADED_INPUT",
			`{"__class__": "LoadedInputData", "input_name": "src", "manager_key": null, "upstream_output_name": null, "upstream_step_key": null}`,
			func(t *testing.T, ev Event) {
				if ev.UpstreamStepKey.Valid || ev.UpstreamOutputName.Valid || ev.ManagerKey.Valid || string(ev.Metadata) != "{}" {
					t.Errorf("want NULL upstream and manager: %+v %+v %+v %s", ev.UpstreamStepKey, ev.UpstreamOutputName, ev.ManagerKey, ev.Metadata)
				}
			}},
		{"handled output", "HANDLED_OUTPUT",
			`{"__class__": "HandledOutputData", "manager_key": "io_manager", "metadata_entries": [` +
				entryJSON("uri", `{"__class__": "PathMetadataEntryData", "path": "s3://b/k"}`) + `], "output_name": "result"}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindHandledOutput || ev.OutputName != "result" || ev.URI.String != "s3://b/k" {
					t.Errorf("Kind, OutputName, URI = %v, %q, %+v", ev.Kind, ev.OutputName, ev.URI)
				}
			}},
		{"step success", "STEP_SUCCESS", `{"__class__": "StepSuccessData", "duration_ms": 154.78366700699553}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindStep || ev.DurationMS != (sql.NullFloat64{Float64: 154.78366700699553, Valid: true}) {
					t.Errorf("Kind, DurationMS = %v, %+v", ev.Kind, ev.DurationMS)
				}
			}},
		{"step failure", "STEP_FAILURE",
			`{"__class__": "StepFailureData", "error": ` + errJSON + `, "error_source": {"__enum__": "ErrorSource.USER_CODE_ERROR"}, "user_failure_data": null}`,
			func(t *testing.T, ev Event) {
				if ev.ErrorClass.String != "ValueError" || ev.ErrorMessage.String != "boom\n" {
					t.Errorf("ErrorClass, ErrorMessage = %+v, %+v", ev.ErrorClass, ev.ErrorMessage)
				}
			}},
		{"step failure null error", "STEP_FAILURE", `{"__class__": "StepFailureData", "error": null, "user_failure_data": null}`,
			func(t *testing.T, ev Event) {
				if ev.ErrorClass.Valid || ev.ErrorMessage.Valid {
					t.Errorf("want NULL error, got %+v %+v", ev.ErrorClass, ev.ErrorMessage)
				}
			}},
		{"retry", "STEP_UP_FOR_RETRY", `{"__class__": "StepRetryData", "error": ` + errJSON + `, "seconds_to_wait": null}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindStep || ev.ErrorClass.String != "ValueError" {
					t.Errorf("Kind, ErrorClass = %v, %+v", ev.Kind, ev.ErrorClass)
				}
			}},
		{"step skipped", "STEP_SKIPPED", "null", func(t *testing.T, ev Event) {
			if ev.Kind != KindStep || ev.DurationMS.Valid {
				t.Errorf("Kind, DurationMS = %v, %+v", ev.Kind, ev.DurationMS)
			}
		}},
		{"run failure", "PIPELINE_FAILURE",
			`{"__class__": "PipelineFailureData", "error": ` + errJSON + `, "failure_reason": {"__enum__": "RunFailureReason.STEP_FAILURE"}, "first_step_failure_event": null}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindRun || ev.ErrorClass.String != "ValueError" {
					t.Errorf("Kind, ErrorClass = %v, %+v", ev.Kind, ev.ErrorClass)
				}
			}},
		{"legacy init failure", "PIPELINE_INIT_FAILURE", `{"__class__": "PipelineInitFailureData", "error": ` + errJSON + `}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindRun || ev.ErrorMessage.String != "boom\n" {
					t.Errorf("Kind, ErrorMessage = %v, %+v", ev.Kind, ev.ErrorMessage)
				}
			}},
		{"run alias", "RUN_SUCCESS", "null", func(t *testing.T, ev Event) {
			if ev.Kind != KindRun {
				t.Errorf("Kind = %v", ev.Kind)
			}
		}},
		{"legacy step materialization", "STEP_MATERIALIZATION",
			`{"__class__": "StepMaterializationData", "materialization": {"__class__": "Materialization", "asset_key": {"__class__": "AssetKey", "path": ["old"]}, "description": null, "metadata_entries": [` +
				entryJSON("size_bytes", `{"__class__": "IntMetadataEntryData", "value": 2048}`) + `], "partition": null}}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindMaterialization || ev.AssetKey() != "old" || ev.SizeBytes.Int64 != 2048 {
					t.Errorf("Kind, AssetKey, SizeBytes = %v, %q, %+v", ev.Kind, ev.AssetKey(), ev.SizeBytes)
				}
			}},
		{"asset store get", "ASSET_STORE_OPERATION",
			`{"__class__": "AssetStoreOperationData", "asset_store_key": "my_store", "op": "GET_ASSET", "output_name": "result", "step_key": "solid_a.compute"}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindLoadedInput || ev.UpstreamStepKey.String != "solid_a.compute" || ev.UpstreamOutputName.String != "result" || ev.ManagerKey.String != "my_store" {
					t.Errorf("Kind, Upstream, ManagerKey = %v, %+v, %+v, %+v", ev.Kind, ev.UpstreamStepKey, ev.UpstreamOutputName, ev.ManagerKey)
				}
			}},
		{"asset store set enum", "ASSET_STORE_OPERATION",
			`{"__class__": "AssetStoreOperationData", "asset_store_key": "my_store", "op": {"__enum__": "AssetStoreOperationType.SET_ASSET"}, "output_name": "result", "step_key": "solid_a.compute"}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindHandledOutput || ev.OutputName != "result" || ev.ManagerKey.String != "my_store" || ev.UpstreamStepKey.Valid {
					t.Errorf("Kind, OutputName, ManagerKey = %v, %q, %+v", ev.Kind, ev.OutputName, ev.ManagerKey)
				}
			}},
		{"asset store get enum text", "ASSET_STORE_OPERATION",
			`{"__class__": "AssetStoreOperationData", "asset_store_key": "s", "op": "{\"__enum__\": \"AssetStoreOperationType.GET_ASSET\"}", "output_name": "o", "step_key": "k"}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindLoadedInput || ev.UpstreamStepKey.String != "k" {
					t.Errorf("Kind, UpstreamStepKey = %v, %+v", ev.Kind, ev.UpstreamStepKey)
				}
			}},
		{"unloaded type", "STEP_OUTPUT", `{"__class__": "StepOutputData", "metadata_entries": []}`,
			func(t *testing.T, ev Event) {
				if ev.Kind != KindOther || ev.RunID != "run-1" || ev.TS.IsZero() || string(ev.Metadata) != "{}" {
					t.Errorf("Kind, RunID, TS, Metadata = %v, %q, %v, %s", ev.Kind, ev.RunID, ev.TS, ev.Metadata)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, mustDecode(t, rowFor(tt.typ, envelopeJSON(tt.typ, tt.esd))))
		})
	}
}

func TestDecodeLegacyEnvelopes(t *testing.T) {
	t.Parallel()
	base := envelopeJSON("PIPELINE_START", "null")
	for _, cls := range []string{"DagsterEventRecord", "LogMessageRecord", "EventRecord"} {
		js := strings.Replace(base, `"EventLogEntry"`, `"`+cls+`"`, 1)
		if ev := mustDecode(t, rowFor("PIPELINE_START", js)); ev.Kind != KindRun || ev.RunID != "run-1" {
			t.Errorf("%s: Kind, RunID = %v, %q", cls, ev.Kind, ev.RunID)
		}
	}
	// No __class__ at all (2020 rows).
	js := strings.Replace(base, `"__class__": "EventLogEntry", `, "", 1)
	if ev := mustDecode(t, rowFor("PIPELINE_START", js)); ev.Kind != KindRun {
		t.Errorf("no __class__: Kind = %v", ev.Kind)
	}
	// A plain log line: NULL type, dagster_event null.
	line := `{"__class__": "EventLogEntry", "dagster_event": null, "level": 10, "pipeline_name": "j", "run_id": "r", "step_key": "s", "timestamp": 1.5, "user_message": "hi"}`
	ev := mustDecode(t, rowFor("", line))
	if ev.Kind != KindOther || ev.Type != "" || ev.RunID != "r" || !ev.TS.Equal(time.UnixMilli(1500)) {
		t.Errorf("log line: %+v", ev)
	}
	// A bare DagsterEvent without envelope or timestamp, unloaded type.
	bare := `{"event_specific_data": {"pipeline_name": "p"}, "event_type_value": "PIPELINE_PROCESS_START", "logging_tags": {}, "pipeline_name": "error_monster", "step_key": null}`
	ev = mustDecode(t, &Row{ID: 1, Event: []byte(bare)})
	if ev.Kind != KindOther || ev.Type != "PIPELINE_PROCESS_START" || ev.JobName != "error_monster" || !ev.TS.IsZero() {
		t.Errorf("bare event: %+v", ev)
	}
}

// metaOf decodes a materialization with the given metadata entries.
func metaOf(t *testing.T, entries ...string) Event {
	t.Helper()
	return mustDecode(t, rowFor("ASSET_MATERIALIZATION",
		envelopeJSON("ASSET_MATERIALIZATION", materializationJSON("["+strings.Join(entries, ", ")+"]", "{}"))))
}

func TestDecodeMetadataClasses(t *testing.T) {
	t.Parallel()
	table := `{"__class__": "TableMetadataEntryData", "records": [{"__class__": "TableRecord", "data": {"a": 1}}], "schema": {"__class__": "TableSchema", "columns": [], "constraints": null}}`
	schema := `{"__class__": "TableSchemaMetadataEntryData", "schema": {"__class__": "TableSchema", "columns": [{"__class__": "TableColumn", "name": "id", "type": "int"}]}}`
	lineage := `{"__class__": "TableColumnLineageMetadataValue", "column_lineage": {"__class__": "TableColumnLineage", "deps_by_column": {}}}`
	job := `{"__class__": "DagsterJobMetadataValue", "job_name": "j", "location_name": "loc", "repository_name": null}`
	codeRefs := `{"__class__": "CodeReferencesMetadataValue", "code_references": [{"__class__": "LocalFileCodeReference", "file_path": "/a.py", "line_number": 3}]}`
	unknown := `{"__class__": "BrandNewMetadataValue", "x": [1, 2.5, "y"]}`
	tests := []struct{ class, data, want string }{
		{"Text", `{"__class__": "TextMetadataEntryData", "text": "hello \"q\""}`, `"hello \"q\""`},
		{"Text null", `{"__class__": "TextMetadataEntryData", "text": null}`, `null`},
		{"Url", `{"__class__": "UrlMetadataEntryData", "url": "https://x/y"}`, `"https://x/y"`},
		{"Path", `{"__class__": "PathMetadataEntryData", "path": "/tmp/a"}`, `"/tmp/a"`},
		{"Notebook", `{"__class__": "NotebookMetadataEntryData", "path": "nb.ipynb"}`, `"nb.ipynb"`},
		{"Markdown", `{"__class__": "MarkdownMetadataEntryData", "md_str": "# T"}`, `"# T"`},
		{"Json", `{"__class__": "JsonMetadataEntryData", "data": {"k": [1, {"z": null}]}}`, `{"k":[1,{"z":null}]}`},
		{"PythonArtifact", `{"__class__": "PythonArtifactMetadataEntryData", "module": "pkg.mod", "name": "Cls"}`, `"pkg.mod.Cls"`},
		{"Float", `{"__class__": "FloatMetadataEntryData", "value": 1625760608.337679}`, `1625760608.337679`},
		{"Float exponent", `{"__class__": "FloatMetadataEntryData", "value": 1e+20}`, `1e+20`},
		{"Float null", `{"__class__": "FloatMetadataEntryData", "value": null}`, `null`},
		{"Float NaN", `{"__class__": "FloatMetadataEntryData", "value": NaN}`, `"NaN"`},
		{"Float Infinity", `{"__class__": "FloatMetadataEntryData", "value": Infinity}`, `"Infinity"`},
		{"Float -Infinity", `{"__class__": "FloatMetadataEntryData", "value": -Infinity}`, `"-Infinity"`},
		{"Int", `{"__class__": "IntMetadataEntryData", "value": 3}`, `3`},
		{"Int beyond int64", `{"__class__": "IntMetadataEntryData", "value": 123456789012345678901234567890}`, `123456789012345678901234567890`},
		{"Bool", `{"__class__": "BoolMetadataEntryData", "value": true}`, `true`},
		{"Timestamp", `{"__class__": "TimestampMetadataValue", "value": 1700000000.5}`, `1700000000.5`},
		{"DagsterRun", `{"__class__": "DagsterPipelineRunMetadataEntryData", "run_id": "abc"}`, `"abc"`},
		{"DagsterAsset", `{"__class__": "DagsterAssetMetadataEntryData", "asset_key": {"__class__": "AssetKey", "path": ["a", "b"]}}`, `"a/b"`},
		{"Null", `{"__class__": "NullMetadataEntryData"}`, `null`},
		{"Table raw", table, compactJSON(t, table)},
		{"TableSchema raw", schema, compactJSON(t, schema)},
		{"TableColumnLineage raw", lineage, compactJSON(t, lineage)},
		{"DagsterJob raw", job, compactJSON(t, job)},
		{"CodeReferences raw", codeRefs, compactJSON(t, codeRefs)},
		{"unknown class raw", unknown, compactJSON(t, unknown)},
		{"Float with string value raw", `{"__class__": "FloatMetadataEntryData", "value": "x"}`, `{"__class__":"FloatMetadataEntryData","value":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.class, func(t *testing.T) {
			t.Parallel()
			ev := metaOf(t, entryJSON("m", tt.data))
			if want := `{"m":` + tt.want + `}`; string(ev.Metadata) != want {
				t.Errorf("Metadata = %s, want %s", ev.Metadata, want)
			}
		})
	}
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestDecodeMetadataDictForm(t *testing.T) {
	t.Parallel()
	esd := `{"__class__": "HandledOutputData", "manager_key": "m", "output_name": "result", "metadata": {` +
		`"rows": {"__class__": "IntMetadataValue", "value": 5}, "dagster/row_count": 9, "uri": "s3://b/x", ` +
		`"f": {"__class__": "FloatMetadataValue", "value": 0.5}, "plain": {"a": 1}, "list": [1, 2], "none": null, ` +
		`"asset": {"__class__": "DagsterAssetMetadataValue", "asset_key": {"__class__": "AssetKey", "path": ["x", "y"]}}}}`
	ev := mustDecode(t, rowFor("HANDLED_OUTPUT", envelopeJSON("HANDLED_OUTPUT", esd)))
	want := `{"rows":5,"dagster/row_count":9,"uri":"s3://b/x","f":0.5,"plain":{"a":1},"list":[1,2],"none":null,"asset":"x/y"}`
	if string(ev.Metadata) != want {
		t.Errorf("Metadata = %s\nwant       %s", ev.Metadata, want)
	}
	if ev.RowCount.Int64 != 9 || ev.URI.String != "s3://b/x" {
		t.Errorf("RowCount, URI = %+v, %+v", ev.RowCount, ev.URI)
	}
}

func TestDecodeMetadataDuplicatesAndEscaping(t *testing.T) {
	t.Parallel()
	ev := metaOf(t,
		entryJSON(`a\"b\n\u0001`, `{"__class__": "TextMetadataEntryData", "text": "tab\there \u2028 \ud83d\ude00"}`),
		entryJSON("dup", `{"__class__": "IntMetadataEntryData", "value": 1}`),
		entryJSON("dup", `{"__class__": "IntMetadataEntryData", "value": 2}`),
	)
	var got map[string]any
	if err := json.Unmarshal(ev.Metadata, &got); err != nil {
		t.Fatalf("Unmarshal %s: %v", ev.Metadata, err)
	}
	if got["a\"b\n\x01"] != "tab\there \u2028 😀" {
		t.Errorf("escaped entry = %q (all: %s)", got["a\"b\n\x01"], ev.Metadata)
	}
	if got["dup"] != 1.0 || bytes.Count(ev.Metadata, []byte(`"dup"`)) != 1 {
		t.Errorf("duplicate label: %s", ev.Metadata)
	}
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "plain", "\"\\/\b\f\n\r\t\x00\x1f\x7f", "é😀\u2028\u2029", "bad \xff\xfe utf8 \xc3"} {
		out := appendJSONString(nil, []byte(in))
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Errorf("%q -> %s: %v", in, out, err)
			continue
		}
		if want := string([]rune(in)); back != want { // one U+FFFD per invalid byte
			t.Errorf("round trip %q -> %s -> %q", in, out, back)
		}
	}
}

func TestDecodeMappedFields(t *testing.T) {
	t.Parallel()
	intE := func(l string, v string) string {
		return entryJSON(l, `{"__class__": "IntMetadataEntryData", "value": `+v+`}`)
	}
	floatE := func(l string, v string) string {
		return entryJSON(l, `{"__class__": "FloatMetadataEntryData", "value": `+v+`}`)
	}
	textE := func(l string, v string) string {
		return entryJSON(l, `{"__class__": "TextMetadataEntryData", "text": "`+v+`"}`)
	}
	tests := []struct {
		name    string
		entries []string
		size    sql.NullInt64
	}{
		{"none", nil, sql.NullInt64{}},
		{"bytes", []string{intE("size_bytes", "12345")}, sql.NullInt64{Int64: 12345, Valid: true}},
		{"mb", []string{floatE("result_size_mb", "1.5")}, sql.NullInt64{Int64: 1572864, Valid: true}},
		{"kb", []string{intE("size_kb", "3")}, sql.NullInt64{Int64: 3072, Valid: true}},
		{"gb", []string{floatE("size_gb", "0.25")}, sql.NullInt64{Int64: 1 << 28, Valid: true}},
		{"text number", []string{textE("size (bytes)", " 123 ")}, sql.NullInt64{Int64: 123, Valid: true}},
		{"text not a number", []string{textE("size_bytes", "big")}, sql.NullInt64{}},
		{"negative ignored", []string{intE("size_bytes", "-5")}, sql.NullInt64{}},
		{"NaN ignored", []string{floatE("size_mb", "NaN")}, sql.NullInt64{}},
		{"null ignored", []string{floatE("size_mb", "null")}, sql.NullInt64{}},
		{"rank beats order", []string{floatE("result_size_mb", "1"), intE("size_bytes", "7")}, sql.NullInt64{Int64: 7, Valid: true}},
		{"lower rank only if valid", []string{textE("size_bytes", "n/a"), intE("size_kb", "2")}, sql.NullInt64{Int64: 2048, Valid: true}},
		{"exact large int", []string{intE("bytes", "9007199254740993")}, sql.NullInt64{Int64: 9007199254740993, Valid: true}},
		{"too large", []string{floatE("size_gb", "1e30")}, sql.NullInt64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if ev := metaOf(t, tt.entries...); ev.SizeBytes != tt.size {
				t.Errorf("SizeBytes = %+v, want %+v (metadata %s)", ev.SizeBytes, tt.size, ev.Metadata)
			}
		})
	}

	ev := metaOf(t,
		intE("row_count", "10"), intE("dagster/row_count", "20"),
		floatE("execution_time_seconds", "2.5"), floatE("memory_delta_mb", "-3.25"),
		textE("dagster/table_name", "db.t"), entryJSON("path", `{"__class__": "PathMetadataEntryData", "path": "/p"}`))
	if ev.RowCount.Int64 != 20 || ev.ExecTimeS.Float64 != 2.5 || ev.MemoryDeltaMB != (sql.NullFloat64{Float64: -3.25, Valid: true}) || ev.URI.String != "/p" {
		t.Errorf("RowCount, ExecTimeS, MemoryDeltaMB, URI = %+v, %+v, %+v, %+v", ev.RowCount, ev.ExecTimeS, ev.MemoryDeltaMB, ev.URI)
	}

	// Custom keys replace the defaults.
	d := NewDecoder(MetadataKeys{Size: []SizeKey{{"weight_tb", 1 << 40}}})
	var ev2 Event
	js := envelopeJSON("ASSET_MATERIALIZATION", materializationJSON("["+floatE("weight_tb", "2")+", "+intE("size_bytes", "1")+"]", `{"dagster/code_version": "cv"}`))
	if err := d.Decode(rowFor("ASSET_MATERIALIZATION", js), &ev2); err != nil {
		t.Fatal(err)
	}
	if ev2.SizeBytes.Int64 != 2<<40 || ev2.CodeVersion.String != "cv" || ev2.URI.Valid {
		t.Errorf("custom keys: SizeBytes, CodeVersion, URI = %+v, %+v, %+v", ev2.SizeBytes, ev2.CodeVersion, ev2.URI)
	}
}

func TestDecodeQuarantine(t *testing.T) {
	t.Parallel()
	mat := envelopeJSON("ASSET_MATERIALIZATION", materializationJSON("[]", "{}"))
	tests := []struct {
		name, typ, event, reason string
		malformed                string
	}{
		{"malformed JSON", "ASSET_MATERIALIZATION", `{"run_id": "r", `, "malformed JSON", ""},
		{"truncated", "ASSET_MATERIALIZATION", mat[:len(mat)/2], "malformed JSON", ""},
		{"not an object", "STEP_START", `[1, 2]`, "event is a JSON array, want object", ""},
		{"unloaded type still needs an object", "ENGINE_EVENT", `"x"`, "event is a JSON string, want object", ""},
		{"empty", "ENGINE_EVENT", ``, "malformed JSON", ""},
		{"source malformed", "ASSET_MATERIALIZATION", mat, "line has 3 fields, want 8", "line has 3 fields, want 8"},
		{"asset_key missing", "ASSET_MATERIALIZATION",
			strings.Replace(mat, `"asset_key": {"__class__": "AssetKey", "path": ["warehouse", "orders"]}, `, "", 1),
			"ASSET_MATERIALIZATION without asset_key", ""},
		{"asset_key.path not a list", "ASSET_MATERIALIZATION",
			strings.Replace(mat, `"path": ["warehouse", "orders"]`, `"path": "warehouse"`, 1),
			"ASSET_MATERIALIZATION asset_key.path is a string, want array", ""},
		{"asset_key.path element", "ASSET_MATERIALIZATION",
			strings.Replace(mat, `"path": ["warehouse", "orders"]`, `"path": ["warehouse", 3]`, 1),
			"ASSET_MATERIALIZATION asset_key.path[1] is a number, want string", ""},
		{"partition wrong type", "ASSET_MATERIALIZATION",
			strings.Replace(mat, `"partition": "2024-01-01"`, `"partition": 5`, 1), "partition is a number, want string", ""},
		{"metadata_entries wrong type", "ASSET_MATERIALIZATION",
			strings.Replace(mat, `"metadata_entries": []`, `"metadata_entries": {}`, 1),
			"ASSET_MATERIALIZATION metadata_entries is a object, want array", ""},
		{"materialization missing", "ASSET_MATERIALIZATION",
			envelopeJSON("ASSET_MATERIALIZATION", `{"__class__": "StepMaterializationData"}`), "ASSET_MATERIALIZATION without materialization", ""},
		{"duration_ms string", "STEP_SUCCESS",
			envelopeJSON("STEP_SUCCESS", `{"__class__": "StepSuccessData", "duration_ms": "12"}`), "STEP_SUCCESS duration_ms is a string, want number", ""},
		{"STEP_SUCCESS without data", "STEP_SUCCESS", envelopeJSON("STEP_SUCCESS", "null"), "STEP_SUCCESS without event_specific_data", ""},
		{"LOADED_INPUT without input_name", "LOADED_INPUT",
			envelopeJSON("LOADED_INPUT", `{"__class__": "LoadedInputData", "manager_key": "io"}`), "LOADED_INPUT without input_name", ""},
		{"HANDLED_OUTPUT without data", "HANDLED_OUTPUT", envelopeJSON("HANDLED_OUTPUT", "null"), "HANDLED_OUTPUT without event_specific_data", ""},
		{"dagster_event missing", "STEP_START", `{"run_id": "r", "timestamp": 1.0}`, "STEP_START without dagster_event", ""},
		{"run_id not a string", "STEP_START", strings.Replace(envelopeJSON("STEP_START", "null"), `"run_id": "run-1"`, `"run_id": 5`, 1), "run_id is a number, want string", ""},
		{"no timestamp", "STEP_START", strings.Replace(envelopeJSON("STEP_START", "null"), `"timestamp": 1729528721.08461`, `"timestamp": null`, 1), "STEP_START without timestamp", ""},
		{"timestamp wrong type", "ENGINE_EVENT", strings.Replace(envelopeJSON("ENGINE_EVENT", "null"), `"timestamp": 1729528721.08461`, `"timestamp": "now"`, 1), "timestamp is a string, want number", ""},
		{"asset store bad op", "ASSET_STORE_OPERATION",
			envelopeJSON("ASSET_STORE_OPERATION", `{"op": "DELETE", "output_name": "o", "step_key": "s"}`), `ASSET_STORE_OPERATION op "DELETE" is neither GET_ASSET nor SET_ASSET`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := rowFor(tt.typ, tt.event)
			r.Malformed = tt.malformed
			ev, err := decodeRow(t, r)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode error = %v, want *DecodeError", err)
			}
			if !strings.HasPrefix(de.Reason, tt.reason) {
				t.Errorf("Reason = %q, want prefix %q", de.Reason, tt.reason)
			}
			if ev.ID != 7 || ev.Type != tt.typ {
				t.Errorf("rejected event keeps ID, Type = %d, %q", ev.ID, ev.Type)
			}
		})
	}
}

func TestDecodeReusesEvent(t *testing.T) {
	t.Parallel()
	d := NewDecoder(DefaultMetadataKeys())
	var ev Event
	long := strings.Replace(envelopeJSON("ASSET_MATERIALIZATION", materializationJSON("["+entryJSON("size_bytes", `{"__class__": "IntMetadataEntryData", "value": 1}`)+"]", "{}")),
		`"path": ["warehouse", "orders"]`, `"path": ["a", "b", "c"]`, 1)
	if err := d.Decode(rowFor("ASSET_MATERIALIZATION", long), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.AssetKey() != "a/b/c" || !ev.SizeBytes.Valid {
		t.Fatalf("first: %q %+v", ev.AssetKey(), ev.SizeBytes)
	}
	if err := d.Decode(rowFor("ASSET_MATERIALIZATION", envelopeJSON("ASSET_MATERIALIZATION", materializationJSON("[]", "{}"))), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.AssetKey() != "warehouse/orders" || ev.SizeBytes.Valid || string(ev.Metadata) != "{}" {
		t.Errorf("second decode leaks the first: %q %+v %s", ev.AssetKey(), ev.SizeBytes, ev.Metadata)
	}
	// A failed decode resets the event too.
	if err := d.Decode(rowFor("STEP_SUCCESS", `{`), &ev); err == nil {
		t.Fatal("want error")
	}
	if len(ev.AssetPath) != 0 || ev.RunID != "" {
		t.Errorf("failed decode leaks: %+v", ev)
	}
}

func TestKindOfAndLoadedTypes(t *testing.T) {
	t.Parallel()
	types := LoadedTypes()
	if !slices.IsSorted(types) {
		t.Errorf("LoadedTypes not sorted: %v", types)
	}
	for _, typ := range types {
		if KindOf(typ) == KindOther {
			t.Errorf("KindOf(%q) = other, but it is loaded", typ)
		}
	}
	for _, typ := range []string{"STEP_MATERIALIZATION", "ASSET_STORE_OPERATION", "PIPELINE_INIT_FAILURE", "PIPELINE_ENQUEUED", "RUN_START", "STEP_RESTARTED"} {
		if !slices.Contains(types, typ) {
			t.Errorf("LoadedTypes lacks %s", typ)
		}
	}
	for _, typ := range []string{"ENGINE_EVENT", "LOGS_CAPTURED", "STEP_OUTPUT", "STEP_INPUT", "OBJECT_STORE_OPERATION", "PIPELINE_PROCESS_START", ""} {
		if KindOf(typ) != KindOther || slices.Contains(types, typ) {
			t.Errorf("%q should not be loaded", typ)
		}
	}
	want := map[string]Kind{
		"ASSET_MATERIALIZATION": KindMaterialization, "STEP_MATERIALIZATION": KindMaterialization,
		"ASSET_OBSERVATION": KindObservation, "ASSET_MATERIALIZATION_PLANNED": KindPlanned,
		"LOADED_INPUT": KindLoadedInput, "HANDLED_OUTPUT": KindHandledOutput,
		"STEP_SUCCESS": KindStep, "PIPELINE_FAILURE": KindRun, "PIPELINE_INIT_FAILURE": KindRun,
	}
	for typ, k := range want {
		if KindOf(typ) != k {
			t.Errorf("KindOf(%q) = %v, want %v", typ, KindOf(typ), k)
		}
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	if got := Excerpt([]byte("short")); got != "short" {
		t.Errorf("Excerpt(short) = %q", got)
	}
	// A 3-byte rune straddling the cut must not be split.
	in := strings.Repeat("a", 299) + "€" + strings.Repeat("b", 100)
	got := Excerpt([]byte(in))
	if !utf8.ValidString(got) || len(got) > excerptLen || !strings.HasPrefix(in, got) || len(got) < excerptLen-utf8.UTFMax {
		t.Errorf("Excerpt cut badly: len %d, %q", len(got), got[len(got)-5:])
	}
	if got := Excerpt([]byte("x\xffy")); got != "x\uFFFDy" {
		t.Errorf("Excerpt(invalid) = %q", got)
	}
}

func TestJoinAssetPath(t *testing.T) {
	t.Parallel()
	if got := JoinAssetPath([]string{"a", "b", "c"}); got != "a/b/c" {
		t.Errorf("JoinAssetPath = %q", got)
	}
	if got := JoinAssetPath(nil); got != "" {
		t.Errorf("JoinAssetPath(nil) = %q", got)
	}
}

func TestRewriteInfinity(t *testing.T) {
	t.Parallel()
	b := []byte(`{"a": Infinity, "s": "Infinity \" Infinity", "b": [-Infinity]}`)
	if !rewriteInfinity(b) {
		t.Fatal("nothing rewritten")
	}
	if want := `{"a": Inf     , "s": "Infinity \" Infinity", "b": [-Inf     ]}`; string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// FuzzDecode checks that no input panics and that every accepted row
// yields valid JSON metadata and valid UTF-8 strings. Seeds are the real
// fixture rows plus synthetic shapes.
func FuzzDecode(f *testing.F) {
	for _, s := range fixtureEvents(f) {
		f.Add(s, "")
	}
	f.Add(envelopeJSON("ASSET_MATERIALIZATION", materializationJSON("["+entryJSON("m", `{"__class__": "FloatMetadataEntryData", "value": Infinity}`)+"]", "{}")), "ASSET_MATERIALIZATION")
	f.Add(envelopeJSON("STEP_SUCCESS", `{"duration_ms": 1}`), "STEP_SUCCESS")
	f.Add(envelopeJSON("ASSET_STORE_OPERATION", `{"op": "GET_ASSET", "output_name": "o", "step_key": "s"}`), "")
	f.Add(`{"metadata": {"a": {"__class__": "JsonMetadataValue", "data": [1e999, "\ud800"]}}}`, "HANDLED_OUTPUT")
	d := NewDecoder(DefaultMetadataKeys())
	var ev Event
	f.Fuzz(func(t *testing.T, event, typ string) {
		r := &Row{ID: 1, Event: []byte(event)}
		if typ != "" {
			r.Type = sql.NullString{String: typ, Valid: true}
		}
		err := d.Decode(r, &ev)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error is not a *DecodeError: %v", err)
			}
			return
		}
		if !json.Valid(ev.Metadata) {
			t.Fatalf("invalid metadata JSON %q", ev.Metadata)
		}
		for _, s := range append([]string{ev.RunID, ev.JobName, ev.StepKey, ev.Type, ev.URI.String, ev.InputName, ev.OutputName}, ev.AssetPath...) {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q", s)
			}
		}
	})
}

// fixtureEvents returns the event JSON of every row in the compat fixtures
// (nil when they are absent; FuzzDecode then runs on synthetic seeds).
func fixtureEvents(tb testing.TB) []string {
	dir := findFixtures()
	if dir == "" {
		return nil
	}
	var out []string
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	for _, f := range files {
		src := NewFileSource(f)
		err := src.Read(tb.Context(), Query{}, func(r *Row) error {
			if r.Malformed == "" {
				out = append(out, string(r.Event))
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "dagster-2020-dead_events.jsonl")); err == nil {
		for l := range strings.Lines(string(b)) {
			out = append(out, strings.TrimSuffix(l, "\n"))
		}
	}
	return out
}

// benchRows picks realistic rows by id from the 1.8.12 dump (and LOADED_INPUT
// from 0.14.1, the only version in the fixtures that has one).
func benchRows(b *testing.B) map[string]*Row {
	dir := findFixtures()
	if dir == "" {
		b.Skip("compat fixtures not found")
	}
	want := map[string]struct {
		file string
		id   int64
	}{
		"materialization": {"dagster-1.8.12-pg_dump.txt", 14},
		"planned":         {"dagster-1.8.12-pg_dump.txt", 1},
		"handled_output":  {"dagster-1.8.12-pg_dump.txt", 15},
		"step_success":    {"dagster-1.8.12-pg_dump.txt", 16},
		"step_start":      {"dagster-1.8.12-pg_dump.txt", 11},
		"run":             {"dagster-1.8.12-pg_dump.txt", 18},
		"engine_event":    {"dagster-1.8.12-pg_dump.txt", 3},
		"loaded_input":    {"dagster-0.14.1-pg_dump-excerpt.txt", 139},
	}
	out := make(map[string]*Row)
	for name, w := range want {
		err := NewFileSource(filepath.Join(dir, w.file)).Read(b.Context(), Query{}, func(r *Row) error {
			if r.ID == w.id && r.Malformed == "" {
				out[name] = cloneRow(r)
			}
			return nil
		})
		if err != nil || out[name] == nil {
			b.Fatalf("row %s id %d: %v", w.file, w.id, err)
		}
	}
	return out
}

func cloneRow(r *Row) *Row {
	c := *r
	c.RunID = bytes.Clone(r.RunID)
	c.Event = bytes.Clone(r.Event)
	c.StepKey = bytes.Clone(r.StepKey)
	c.AssetKey = bytes.Clone(r.AssetKey)
	c.Partition = bytes.Clone(r.Partition)
	return &c
}

// benchDecodeRow decodes r for b.Loop and returns the last event, for the
// caller to check.
func benchDecodeRow(b *testing.B, r *Row) Event {
	d := NewDecoder(DefaultMetadataKeys())
	var ev Event
	b.ReportAllocs()
	b.SetBytes(int64(len(r.Event)))
	for b.Loop() {
		if err := d.Decode(r, &ev); err != nil {
			b.Fatal(err)
		}
	}
	return ev
}

func BenchmarkDecode(b *testing.B) {
	rows := benchRows(b)
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		r := rows[name]
		b.Run("type="+name, func(b *testing.B) { benchDecodeRow(b, r) })
	}
	// A realistic mix: the materialization with a dozen numeric metadata
	// entries, as teams that record size and row counts produce it.
	r := cloneRow(rows["materialization"])
	var extra strings.Builder
	for i, l := range []string{"size_bytes", "dagster/row_count", "execution_time_seconds", "memory_delta_mb", "a", "b", "c", "d", "e", "f", "g", "h"} {
		extra.WriteString(entryJSON(l, `{"__class__": "FloatMetadataEntryData", "value": `+strings.Repeat("1", i+1)+`.5}`))
		extra.WriteString(", ")
	}
	r.Event = bytes.Replace(r.Event, []byte(`"metadata_entries": [`), []byte(`"metadata_entries": [`+extra.String()), 1)
	b.Run("type=materialization_rich_metadata", func(b *testing.B) {
		ev := benchDecodeRow(b, r)
		if !ev.SizeBytes.Valid || math.Abs(float64(ev.SizeBytes.Int64)-1.5) > 1 {
			b.Fatalf("SizeBytes = %+v", ev.SizeBytes)
		}
	})
}
