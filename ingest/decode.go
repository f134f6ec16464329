package ingest

import (
	"bytes"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// DecodeError says why a row cannot be loaded. The ingest loop quarantines
// such rows (rejected_events) and goes on; it is never a reason to stop.
type DecodeError struct {
	// Reason is short and meant for humans, e.g. "ASSET_MATERIALIZATION
	// without asset_key".
	Reason string
}

func (e *DecodeError) Error() string { return "decode event: " + e.Reason }

func decodeErrorf(format string, args ...any) *DecodeError {
	return &DecodeError{Reason: fmt.Sprintf(format, args...)}
}

// typeInfo is what matlens knows about a stored dagster_event_type.
type typeInfo struct {
	name string // canonical copy, so decoding a type from JSON does not allocate
	kind Kind
}

// eventTypes maps every stored type string matlens loads to its kind.
// Legacy strings stay here because the column keeps them forever:
// STEP_MATERIALIZATION (< 0.10), ASSET_STORE_OPERATION (0.9/0.10, read or
// write depending on its op), PIPELINE_INIT_FAILURE. RUN_* are Python
// aliases Dagster never stores, accepted in case another producer does.
var eventTypes = func() map[string]typeInfo {
	m := make(map[string]typeInfo)
	add := func(k Kind, names ...string) {
		for _, n := range names {
			m[n] = typeInfo{name: n, kind: k}
		}
	}
	add(KindMaterialization, "ASSET_MATERIALIZATION", "STEP_MATERIALIZATION")
	add(KindObservation, "ASSET_OBSERVATION")
	add(KindPlanned, "ASSET_MATERIALIZATION_PLANNED")
	add(KindLoadedInput, "LOADED_INPUT", "ASSET_STORE_OPERATION")
	add(KindHandledOutput, "HANDLED_OUTPUT")
	add(KindStep, "STEP_START", "STEP_RESTARTED", "STEP_SUCCESS", "STEP_FAILURE",
		"STEP_UP_FOR_RETRY", "STEP_SKIPPED")
	add(KindRun,
		"PIPELINE_STARTING", "PIPELINE_START", "PIPELINE_SUCCESS", "PIPELINE_FAILURE",
		"PIPELINE_CANCELING", "PIPELINE_CANCELED", "PIPELINE_ENQUEUED", "PIPELINE_DEQUEUED",
		"PIPELINE_INIT_FAILURE",
		"RUN_STARTING", "RUN_START", "RUN_SUCCESS", "RUN_FAILURE",
		"RUN_CANCELING", "RUN_CANCELED", "RUN_ENQUEUED", "RUN_DEQUEUED")
	return m
}()

// KindOf returns the kind of a stored dagster_event_type. Types matlens does
// not load are KindOther. ASSET_STORE_OPERATION is reported as
// KindLoadedInput; Decode sets KindHandledOutput when its op is a write.
func KindOf(eventType string) Kind {
	return eventTypes[eventType].kind
}

// LoadedTypes returns, sorted, every stored type string matlens fetches:
// all types whose KindOf is not KindOther.
func LoadedTypes() []string {
	out := make([]string, 0, len(eventTypes))
	for n := range eventTypes {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// JoinAssetPath joins an asset key path with "/", the form every matlens
// table uses.
func JoinAssetPath(path []string) string { return strings.Join(path, "/") }

// excerptLen bounds the quarantine excerpt.
const excerptLen = 300

// Excerpt returns the start of a rejected row (about 300 bytes) as valid
// UTF-8, for the quarantine table.
func Excerpt(b []byte) string {
	if len(b) > excerptLen {
		n := excerptLen
		// Cut on a rune boundary so a multi-byte character is not split.
		for n > excerptLen-utf8.UTFMax && !utf8.RuneStart(b[n]) {
			n--
		}
		b = b[:n]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// Decoder turns event_logs rows into Events. It reuses its parser and
// buffers, so it is not safe for concurrent use: give each goroutine its
// own.
type Decoder struct {
	keys    MetadataKeys
	roles   map[string][]keyRole
	p       fastjson.Parser
	fixed   []byte // the row with bare Infinity rewritten, see parse
	scratch []byte // one converted metadata value
	numText []byte // a number's text while mapping it
	meta    metadata
	// curLabel is the label of the metadata entry being written.
	curLabel []byte
	// Consecutive rows usually share run, job and step, so the last
	// string of each is reused instead of allocating it again.
	lastRun, lastJob, lastStep string
}

// NewDecoder returns a Decoder that maps the metadata labels in keys onto
// Event fields.
func NewDecoder(keys MetadataKeys) *Decoder {
	return &Decoder{keys: keys, roles: buildRoles(keys)}
}

// Decode decodes row into ev. It resets ev first but reuses the backing
// arrays of ev.AssetPath and ev.Metadata, so a caller that keeps those
// beyond the next Decode into the same ev must copy them. Strings in ev
// never alias row.
//
// A row that cannot be loaded (malformed JSON, a field matlens needs
// missing or of the wrong JSON type, a row the source marked Malformed)
// yields a *DecodeError; ev.ID and, where known, ev.Type are still set.
// Rows of kinds matlens does not load are only checked to be a JSON object
// with a sane envelope.
func (d *Decoder) Decode(row *Row, ev *Event) error {
	path, meta := ev.AssetPath[:0], ev.Metadata[:0]
	*ev = Event{AssetPath: path, Metadata: meta}
	ev.ID = row.ID
	if row.Type.Valid {
		ev.Type = row.Type.String
		if !utf8.ValidString(ev.Type) { // possible only from a damaged file
			ev.Type = strings.ToValidUTF8(ev.Type, "\uFFFD")
		}
		ev.Kind = KindOf(ev.Type)
	}
	if row.Malformed != "" {
		return &DecodeError{Reason: row.Malformed}
	}
	root, err := d.parse(row.Event)
	if err != nil {
		return &DecodeError{Reason: "malformed JSON: " + shorten(err.Error())}
	}
	env, err := root.Object()
	if err != nil {
		return decodeErrorf("event is a JSON %s, want object", root.Type())
	}

	// The DagsterEvent: nested in the envelope, or (2020 rows) the whole
	// document.
	var de *fastjson.Object
	dv := env.Get("dagster_event")
	if dv == nil && env.Get("event_type_value") != nil {
		dv = root
	}
	if dv != nil {
		switch dv.Type() {
		case fastjson.TypeObject:
			de, _ = dv.Object()
		case fastjson.TypeNull:
		default:
			return decodeErrorf("dagster_event is a %s, want object", dv.Type())
		}
	}
	if !row.Type.Valid && de != nil {
		b, ok, err := optString(de, "event_type_value")
		if err != nil {
			return err
		}
		if ok {
			if ti, known := eventTypes[string(b)]; known {
				ev.Type = ti.name
			} else {
				ev.Type = copyString(b)
			}
			ev.Kind = KindOf(ev.Type)
		}
	}
	if err := d.envelope(row, env, de, ev); err != nil {
		return err
	}
	if ev.Kind != KindOther {
		if de == nil {
			return decodeErrorf("%s without dagster_event", ev.Type)
		}
		if err := d.specific(de, ev); err != nil {
			return err
		}
	}
	if len(ev.Metadata) == 0 {
		ev.Metadata = append(ev.Metadata, "{}"...)
	}
	return nil
}

// parse parses the event JSON. Python's json module writes NaN, Infinity
// and -Infinity bare; fastjson accepts NaN but not Infinity, so on failure
// the row is retried with those tokens rewritten to the "Inf" fastjson
// understands (padded to the same length).
func (d *Decoder) parse(b []byte) (*fastjson.Value, error) {
	v, err := d.p.ParseBytes(b)
	if err == nil || !bytes.Contains(b, []byte("Infinity")) {
		return v, err
	}
	d.fixed = append(d.fixed[:0], b...)
	if !rewriteInfinity(d.fixed) {
		return v, err
	}
	if v2, err2 := d.p.ParseBytes(d.fixed); err2 == nil {
		return v2, nil
	}
	return nil, err
}

// rewriteInfinity replaces bare Infinity tokens outside JSON strings with
// "Inf     " in place and reports whether it changed anything.
func rewriteInfinity(b []byte) bool {
	changed := false
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			continue
		}
		if c == 'I' && bytes.HasPrefix(b[i:], []byte("Infinity")) {
			copy(b[i:], "Inf     ")
			i += len("Infinity") - 1
			changed = true
		}
	}
	return changed
}

// maxReason bounds a DecodeError reason built from parser output.
const maxReason = 200

func shorten(s string) string {
	if len(s) <= maxReason {
		return s
	}
	return strings.ToValidUTF8(s[:maxReason], "") + "…"
}

// envelope fills the EventLogEntry fields: run, job, step and time.
func (d *Decoder) envelope(row *Row, env, de *fastjson.Object, ev *Event) error {
	loaded := ev.Kind != KindOther
	name := ev.Type
	if name == "" {
		name = "log line"
	}

	// Columns win over JSON; a NULL or empty column falls back to it.
	runJSON, hasRun, err := optString(env, "run_id")
	if err != nil {
		return err
	}
	switch {
	case !row.Nulls.RunID && len(row.RunID) > 0:
		ev.RunID = intern(&d.lastRun, row.RunID)
	case hasRun:
		ev.RunID = intern(&d.lastRun, runJSON)
	case loaded:
		return decodeErrorf("%s without run_id", name)
	}

	job, ok, err := jobName(env)
	if err != nil {
		return err
	}
	if !ok && de != nil {
		if job, ok, err = jobName(de); err != nil {
			return err
		}
	}
	if ok {
		ev.JobName = intern(&d.lastJob, job)
	}

	if !row.Nulls.StepKey && len(row.StepKey) > 0 {
		ev.StepKey = intern(&d.lastStep, row.StepKey)
	} else {
		step, ok, err := optString(env, "step_key")
		if err != nil {
			return err
		}
		if !ok && de != nil {
			if step, ok, err = optString(de, "step_key"); err != nil {
				return err
			}
		}
		if ok {
			ev.StepKey = intern(&d.lastStep, step)
		}
	}

	tsv := env.Get("timestamp")
	var jsonTS float64
	hasTS := false
	if tsv != nil {
		switch tsv.Type() {
		case fastjson.TypeNumber:
			f, err := tsv.Float64()
			if err != nil {
				return decodeErrorf("timestamp %q is not a number", shorten(tsv.String()))
			}
			jsonTS, hasTS = f, true
		case fastjson.TypeNull:
		default:
			return decodeErrorf("timestamp is a %s, want number", tsv.Type())
		}
	}
	if row.Timestamp.Valid {
		ev.TS = row.Timestamp.Time.UTC()
		return nil
	}
	if hasTS {
		if t, ok := unixSeconds(jsonTS); ok {
			ev.TS = t
			return nil
		}
		if loaded {
			return decodeErrorf("%s timestamp %v out of range", name, jsonTS)
		}
		return nil
	}
	if loaded {
		return decodeErrorf("%s without timestamp", name)
	}
	return nil
}

// maxUnixMicros keeps timestamps well inside time.Time's int64 range.
const maxUnixMicros = 1 << 62

// unixSeconds converts Dagster's float seconds to UTC, rounded to
// microseconds as Dagster rounds the timestamp column.
func unixSeconds(f float64) (time.Time, bool) {
	us := math.Round(f * 1e6)
	if math.IsNaN(us) || us >= maxUnixMicros || us <= -maxUnixMicros {
		return time.Time{}, false
	}
	return time.UnixMicro(int64(us)).UTC(), true
}

// jobName reads pipeline_name, the storage name of job_name, or job_name
// as newer producers might write it.
func jobName(o *fastjson.Object) ([]byte, bool, error) {
	b, ok, err := optString(o, "pipeline_name")
	if ok || err != nil {
		return b, ok, err
	}
	return optString(o, "job_name")
}

// specific decodes event_specific_data by kind.
func (d *Decoder) specific(de *fastjson.Object, ev *Event) error {
	typ := ev.Type
	esd, err := optObject(de, "event_specific_data", typ)
	if err != nil {
		return err
	}
	switch ev.Kind {
	case KindMaterialization:
		return d.nestedAssetEvent(esd, "materialization", typ, ev)
	case KindObservation:
		return d.nestedAssetEvent(esd, "asset_observation", typ, ev)
	case KindPlanned:
		if esd == nil {
			return decodeErrorf("%s without event_specific_data", typ)
		}
		return d.assetEvent(esd, ev, false)
	case KindLoadedInput, KindHandledOutput:
		if esd == nil {
			return decodeErrorf("%s without event_specific_data", typ)
		}
		if typ == "ASSET_STORE_OPERATION" {
			return d.assetStoreOperation(esd, ev)
		}
		return d.io(esd, ev)
	case KindStep:
		if typ == "STEP_SUCCESS" {
			if esd == nil {
				return decodeErrorf("%s without event_specific_data", typ)
			}
			v := esd.Get("duration_ms")
			if v == nil || v.Type() == fastjson.TypeNull {
				return decodeErrorf("%s without duration_ms", typ)
			}
			if v.Type() != fastjson.TypeNumber {
				return decodeErrorf("%s duration_ms is a %s, want number", typ, v.Type())
			}
			if f, err := v.Float64(); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				ev.DurationMS.Float64, ev.DurationMS.Valid = f, true
			}
			return nil
		}
		return errorInfo(esd, ev)
	case KindRun:
		return errorInfo(esd, ev)
	}
	return nil
}

// nestedAssetEvent reads the asset event that materializations and
// observations wrap under key in event_specific_data; both are required.
func (d *Decoder) nestedAssetEvent(esd *fastjson.Object, key, typ string, ev *Event) error {
	if esd == nil {
		return decodeErrorf("%s without event_specific_data", typ)
	}
	o, err := optObject(esd, key, typ)
	if err != nil {
		return err
	}
	if o == nil {
		return decodeErrorf("%s without %s", typ, key)
	}
	return d.assetEvent(o, ev, true)
}

// assetEvent reads an AssetMaterialization, AssetObservation or
// AssetMaterializationPlannedData object.
func (d *Decoder) assetEvent(o *fastjson.Object, ev *Event, withMetadata bool) error {
	typ := ev.Type
	ak := o.Get("asset_key")
	if ak == nil || ak.Type() == fastjson.TypeNull {
		return decodeErrorf("%s without asset_key", typ)
	}
	ako, err := ak.Object()
	if err != nil {
		return decodeErrorf("%s asset_key is a %s, want object", typ, ak.Type())
	}
	pv := ako.Get("path")
	if pv == nil {
		return decodeErrorf("%s without asset_key.path", typ)
	}
	items, err := pv.Array()
	if err != nil {
		return decodeErrorf("%s asset_key.path is a %s, want array", typ, pv.Type())
	}
	if len(items) == 0 {
		return decodeErrorf("%s asset_key.path is empty", typ)
	}
	for i, it := range items {
		b, err := it.StringBytes()
		if err != nil {
			return decodeErrorf("%s asset_key.path[%d] is a %s, want string", typ, i, it.Type())
		}
		ev.AssetPath = append(ev.AssetPath, copyString(b))
	}

	part, ok, err := optString(o, "partition")
	if err != nil {
		return err
	}
	if ok {
		ev.Partition.String, ev.Partition.Valid = copyString(part), true
	}

	if !withMetadata {
		return nil
	}
	tags, err := optObject(o, "tags", typ)
	if err != nil {
		return err
	}
	if tags != nil {
		if ev.CodeVersion, err = tagString(tags, "dagster/code_version", typ); err != nil {
			return err
		}
		if ev.DataVersion, err = tagString(tags, "dagster/data_version", typ); err != nil {
			return err
		}
	}
	return d.metadataOf(o, ev)
}

// metadataOf decodes the metadata of container into ev.
func (d *Decoder) metadataOf(container *fastjson.Object, ev *Event) error {
	d.meta.reset(ev)
	err := d.decodeMetadata(ev.Type, container)
	d.meta.finish()
	if err != nil {
		ev.Metadata = ev.Metadata[:0]
	}
	return err
}

// io reads LoadedInputData or HandledOutputData.
func (d *Decoder) io(esd *fastjson.Object, ev *Event) error {
	typ := ev.Type
	nameField := "output_name"
	if ev.Kind == KindLoadedInput {
		nameField = "input_name"
	}
	name, ok, err := optString(esd, nameField)
	if err != nil {
		return err
	}
	if !ok {
		return decodeErrorf("%s without %s", typ, nameField)
	}
	if ev.Kind == KindLoadedInput {
		ev.InputName = copyString(name)
		if ev.UpstreamStepKey, err = nullString(esd, "upstream_step_key"); err != nil {
			return err
		}
		if ev.UpstreamOutputName, err = nullString(esd, "upstream_output_name"); err != nil {
			return err
		}
	} else {
		ev.OutputName = copyString(name)
	}
	if ev.ManagerKey, err = nullString(esd, "manager_key"); err != nil {
		return err
	}
	return d.metadataOf(esd, ev)
}

// assetStoreOperation reads the 0.9/0.10 AssetStoreOperationData
// {op, step_key, output_name, asset_store_key}. A GET_ASSET op is a read of
// the output step_key/output_name (Dagster itself reads it back as
// LOADED_INPUT with input_name = output_name, which this mirrors); a
// SET_ASSET op is a write of that output (HANDLED_OUTPUT).
func (d *Decoder) assetStoreOperation(esd *fastjson.Object, ev *Event) error {
	typ := ev.Type
	op, err := assetStoreOp(esd)
	if err != nil {
		return err
	}
	step, _, err := optString(esd, "step_key")
	if err != nil {
		return err
	}
	output, hasOutput, err := optString(esd, "output_name")
	if err != nil {
		return err
	}
	// Some pre-release shapes carried a StepOutputHandle instead.
	if h, err := optObject(esd, "step_output_handle", typ); err != nil {
		return err
	} else if h != nil && !hasOutput {
		if step, _, err = optString(h, "step_key"); err != nil {
			return err
		}
		if output, hasOutput, err = optString(h, "output_name"); err != nil {
			return err
		}
	}
	if !hasOutput {
		return decodeErrorf("%s without output_name", typ)
	}
	mk, err := nullString(esd, "asset_store_key")
	if err != nil {
		return err
	}
	if !mk.Valid {
		if mk, err = nullString(esd, "manager_key"); err != nil {
			return err
		}
	}
	ev.ManagerKey = mk
	switch op {
	case "GET":
		ev.Kind = KindLoadedInput
		ev.InputName = copyString(output)
		ev.UpstreamOutputName.String, ev.UpstreamOutputName.Valid = ev.InputName, true
		if len(step) > 0 {
			ev.UpstreamStepKey.String, ev.UpstreamStepKey.Valid = copyString(step), true
		}
	default:
		ev.Kind = KindHandledOutput
		ev.OutputName = copyString(output)
		if ev.StepKey == "" && len(step) > 0 {
			ev.StepKey = copyString(step)
		}
	}
	return d.metadataOf(esd, ev)
}

// assetStoreOp returns "GET" or "SET" for the op of an
// AssetStoreOperationData, stored as "GET_ASSET", as the enum object
// {"__enum__": "AssetStoreOperationType.GET_ASSET"}, or as that object's
// JSON text.
func assetStoreOp(esd *fastjson.Object) (string, error) {
	v := esd.Get("op")
	if v == nil || v.Type() == fastjson.TypeNull {
		return "", decodeErrorf("ASSET_STORE_OPERATION without op")
	}
	var b []byte
	switch v.Type() {
	case fastjson.TypeString:
		b, _ = v.StringBytes()
	case fastjson.TypeObject:
		e := v.Get("__enum__")
		if e == nil || e.Type() != fastjson.TypeString {
			return "", decodeErrorf("ASSET_STORE_OPERATION op is an object without __enum__")
		}
		b, _ = e.StringBytes()
	default:
		return "", decodeErrorf("ASSET_STORE_OPERATION op is a %s, want string", v.Type())
	}
	switch {
	case bytes.Contains(b, []byte("GET_ASSET")):
		return "GET", nil
	case bytes.Contains(b, []byte("SET_ASSET")):
		return "SET", nil
	}
	return "", decodeErrorf("ASSET_STORE_OPERATION op %q is neither GET_ASSET nor SET_ASSET", shorten(string(b)))
}

// errorInfo reads error.cls_name and error.message of StepFailureData,
// StepRetryData, PipelineFailureData or PipelineCanceledData; esd and error
// may be null.
func errorInfo(esd *fastjson.Object, ev *Event) error {
	if esd == nil {
		return nil
	}
	e, err := optObject(esd, "error", ev.Type)
	if err != nil || e == nil {
		return err
	}
	if ev.ErrorClass, err = nullString(e, "cls_name"); err != nil {
		return err
	}
	ev.ErrorMessage, err = nullString(e, "message")
	return err
}

// optString returns the string at key; ok is false when the key is absent
// or null. Any other JSON type is a DecodeError.
func optString(o *fastjson.Object, key string) (b []byte, ok bool, err error) {
	v := o.Get(key)
	if v == nil {
		return nil, false, nil
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ = v.StringBytes()
		return b, true, nil
	case fastjson.TypeNull:
		return nil, false, nil
	}
	return nil, false, decodeErrorf("%s is a %s, want string", key, v.Type())
}

// nullString is optString copied into a sql.NullString.
func nullString(o *fastjson.Object, key string) (ns sql.NullString, err error) {
	b, ok, err := optString(o, key)
	if ok {
		ns.String, ns.Valid = copyString(b), true
	}
	return ns, err
}

// optObject returns the object at key, nil when absent or null.
func optObject(o *fastjson.Object, key, typ string) (*fastjson.Object, error) {
	v := o.Get(key)
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil, nil
	}
	obj, err := v.Object()
	if err != nil {
		return nil, decodeErrorf("%s %s is a %s, want object", typ, key, v.Type())
	}
	return obj, nil
}

func tagString(tags *fastjson.Object, key, typ string) (sql.NullString, error) {
	v := tags.Get(key)
	if v != nil && v.Type() != fastjson.TypeString && v.Type() != fastjson.TypeNull {
		return sql.NullString{}, decodeErrorf("%s tag %s is a %s, want string", typ, key, v.Type())
	}
	return nullString(tags, key)
}

// copyString copies b out of the parser's or source's buffer. Invalid UTF-8
// (possible only through lone \u surrogates or broken sources) is replaced,
// because Arrow and DuckDB strings must be valid UTF-8.
func copyString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// intern returns *last when it equals b, else a new copy stored in *last.
func intern(last *string, b []byte) string {
	if *last == string(b) {
		return *last
	}
	*last = copyString(b)
	return *last
}
