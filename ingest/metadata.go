package ingest

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// SizeKey is a metadata label that carries an asset's size, with the factor
// that turns its value into bytes (1 for bytes, 1<<20 for MiB, ...).
type SizeKey struct {
	Key          string
	BytesPerUnit float64
}

// MetadataKeys names the metadata labels the decoder maps onto Event
// fields. Within each list the first label present in an event wins, so
// order a list by preference.
type MetadataKeys struct {
	Size      []SizeKey
	Rows      []string
	ExecTimeS []string
	MemoryMB  []string
	Location  []string
}

// DefaultMetadataKeys returns the labels matlens maps out of the box.
// Dagster itself records no byte size, so the size keys are the ones teams
// commonly add by hand (and the guide's result_size_mb); row counts use
// Dagster's standard dagster/row_count family.
func DefaultMetadataKeys() MetadataKeys {
	return MetadataKeys{
		Size: []SizeKey{
			{"size_bytes", 1},
			{"size (bytes)", 1},
			{"bytes", 1},
			{"dagster/size_bytes", 1},
			{"result_size_bytes", 1},
			{"result_size_mb", 1 << 20},
			{"size_mb", 1 << 20},
			{"size_kb", 1 << 10},
			{"size_gb", 1 << 30},
		},
		Rows:      []string{"dagster/row_count", "dagster/partition_row_count", "row_count"},
		ExecTimeS: []string{"execution_time_seconds"},
		MemoryMB:  []string{"memory_delta_mb"},
		Location:  []string{"path", "uri", "dagster/uri", "dagster/table_name"},
	}
}

// mappedField is an Event field filled from a metadata label.
type mappedField uint8

const (
	fieldSize mappedField = iota
	fieldRows
	fieldExecTime
	fieldMemory
	fieldLocation
	numMappedFields
)

// keyRole says what a label maps to: the field, the label's rank in its
// list (lower wins) and, for sizes, the unit.
type keyRole struct {
	field        mappedField
	rank         int
	bytesPerUnit float64
}

func buildRoles(keys MetadataKeys) map[string][]keyRole {
	roles := make(map[string][]keyRole)
	for i, k := range keys.Size {
		roles[k.Key] = append(roles[k.Key], keyRole{field: fieldSize, rank: i, bytesPerUnit: k.BytesPerUnit})
	}
	add := func(f mappedField, labels []string) {
		for i, l := range labels {
			roles[l] = append(roles[l], keyRole{field: f, rank: i})
		}
	}
	add(fieldRows, keys.Rows)
	add(fieldExecTime, keys.ExecTimeS)
	add(fieldMemory, keys.MemoryMB)
	add(fieldLocation, keys.Location)
	return roles
}

// valueKind is the shape a metadata value took once converted.
type valueKind uint8

const (
	valueNull valueKind = iota
	valueNumber
	valueString
	valueOther // bool, object, array: never mapped onto a field
)

// metaValue is a converted metadata value, kept only long enough to map it
// onto an Event field. num and str point into the parser's buffer.
type metaValue struct {
	kind valueKind
	num  *fastjson.Value
	str  []byte
}

// metadata collects one event's metadata into ev.Metadata and the mapped
// fields. It is reset per event and lives inside the Decoder so that its
// slices are reused.
type metadata struct {
	labels [][]byte // labels written so far, to drop duplicates
	best   [numMappedFields]int
	ev     *Event
}

func (m *metadata) reset(ev *Event) {
	clear(m.labels)
	m.labels = m.labels[:0]
	for i := range m.best {
		m.best[i] = math.MaxInt
	}
	m.ev = ev
	ev.Metadata = append(ev.Metadata[:0], '{')
}

func (m *metadata) finish() {
	m.ev.Metadata = append(m.ev.Metadata, '}')
	m.ev = nil
}

// seen reports whether label was already written. Dagster's dict form
// cannot repeat a label, but the stored list can; the first one wins so
// that the output stays a JSON object with unique keys.
func (m *metadata) seen(label []byte) bool {
	for _, l := range m.labels {
		if string(l) == string(label) {
			return true
		}
	}
	return false
}

// decodeMetadata reads the list form metadata_entries and the dict form
// metadata of container (either may be absent or null) into m.
func (d *Decoder) decodeMetadata(typ string, container *fastjson.Object) error {
	if v := container.Get("metadata_entries"); v != nil {
		switch v.Type() {
		case fastjson.TypeNull:
		case fastjson.TypeArray:
			entries, _ := v.Array()
			for i, e := range entries {
				if err := d.metadataEntry(typ, i, e); err != nil {
					return err
				}
			}
		default:
			return decodeErrorf("%s metadata_entries is a %s, want array", typ, v.Type())
		}
	}
	if v := container.Get("metadata"); v != nil {
		switch v.Type() {
		case fastjson.TypeNull:
		case fastjson.TypeObject:
			o, _ := v.Object()
			o.Visit(func(label []byte, val *fastjson.Value) {
				d.addMetadata(label, d.dictValue(val))
			})
		default:
			return decodeErrorf("%s metadata is a %s, want object", typ, v.Type())
		}
	}
	return nil
}

// metadataEntry converts one EventMetadataEntry of the list form.
func (d *Decoder) metadataEntry(typ string, i int, e *fastjson.Value) error {
	o, err := e.Object()
	if err != nil {
		return decodeErrorf("%s metadata_entries[%d] is a %s, want object", typ, i, e.Type())
	}
	lv := o.Get("label")
	if lv == nil || lv.Type() != fastjson.TypeString {
		return decodeErrorf("%s metadata_entries[%d] without a string label", typ, i)
	}
	label, _ := lv.StringBytes()
	if d.meta.seen(label) {
		return nil
	}
	data := o.Get("entry_data")
	d.startEntry(label)
	if data == nil || data.Type() != fastjson.TypeObject {
		// An entry without data is odd but harmless; keep what it has.
		if data == nil {
			d.addValueEnd(metaValue{}, appendNull)
		} else {
			d.addValueEnd(d.rawValue(data), nil)
		}
		return nil
	}
	d.addValueEnd(d.classValue(data), nil)
	return nil
}

// addMetadata writes label (unless already written) and the value the
// converter already appended to d.scratch.
func (d *Decoder) addMetadata(label []byte, mv metaValue) {
	if d.meta.seen(label) {
		return
	}
	d.startEntry(label)
	d.addValueEnd(mv, nil)
}

func appendNull(dst []byte) []byte { return append(dst, "null"...) }

// startEntry writes the label of the next entry.
func (d *Decoder) startEntry(label []byte) {
	ev := d.meta.ev
	if len(d.meta.labels) > 0 {
		ev.Metadata = append(ev.Metadata, ',')
	}
	d.meta.labels = append(d.meta.labels, label)
	ev.Metadata = appendJSONString(ev.Metadata, label)
	ev.Metadata = append(ev.Metadata, ':')
	d.curLabel = label
}

// addValueEnd appends the converted value held in d.scratch (or what write
// produces) and maps it onto an Event field if its label is configured.
func (d *Decoder) addValueEnd(mv metaValue, write func([]byte) []byte) {
	ev := d.meta.ev
	if write != nil {
		ev.Metadata = write(ev.Metadata)
	} else {
		ev.Metadata = append(ev.Metadata, d.scratch...)
	}
	d.scratch = d.scratch[:0]
	d.mapValue(d.curLabel, mv)
}

// dictValue converts one value of the dict form: a serdes object with a
// __class__, or a plain JSON value as Pipes messages carry it.
func (d *Decoder) dictValue(v *fastjson.Value) metaValue {
	d.scratch = d.scratch[:0]
	if v.Type() == fastjson.TypeObject {
		if c := v.Get("__class__"); c != nil && c.Type() == fastjson.TypeString {
			return d.classValue(v)
		}
	}
	return d.rawValue(v)
}

// rawValue writes v unchanged (but re-encoded as valid JSON).
func (d *Decoder) rawValue(v *fastjson.Value) metaValue {
	d.scratch = appendJSONValue(d.scratch[:0], v)
	switch v.Type() {
	case fastjson.TypeNull:
		return metaValue{kind: valueNull}
	case fastjson.TypeNumber:
		return metaValue{kind: valueNumber, num: v}
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return metaValue{kind: valueString, str: b}
	}
	return metaValue{kind: valueOther}
}

// classValue converts a metadata value object by its serdes class. Both the
// storage names (…MetadataEntryData) and the Python class names
// (…MetadataValue) are accepted, because the dict form of other producers
// uses the latter. A known class whose fields have an unexpected shape, and
// any unknown class, is kept as its raw JSON so nothing is lost.
func (d *Decoder) classValue(data *fastjson.Value) metaValue {
	d.scratch = d.scratch[:0]
	cls := data.GetStringBytes("__class__")
	switch string(cls) {
	case "TextMetadataEntryData", "TextMetadataValue":
		return d.stringField(data, "text")
	case "UrlMetadataEntryData", "UrlMetadataValue":
		return d.stringField(data, "url")
	case "PathMetadataEntryData", "PathMetadataValue",
		"NotebookMetadataEntryData", "NotebookMetadataValue":
		// Newer record-based classes name the field fspath internally;
		// accept it in case a producer stores that name.
		if data.Get("path") == nil && data.Get("fspath") != nil {
			return d.stringField(data, "fspath")
		}
		return d.stringField(data, "path")
	case "MarkdownMetadataEntryData", "MarkdownMetadataValue":
		return d.stringField(data, "md_str")
	case "FloatMetadataEntryData", "FloatMetadataValue",
		"IntMetadataEntryData", "IntMetadataValue",
		"TimestampMetadataValue", "TimestampMetadataEntryData":
		v := data.Get("value")
		if v == nil {
			break
		}
		switch v.Type() {
		case fastjson.TypeNull:
			d.scratch = appendNull(d.scratch)
			return metaValue{kind: valueNull}
		case fastjson.TypeNumber:
			d.scratch = appendJSONNumber(d.scratch, v)
			return metaValue{kind: valueNumber, num: v}
		}
	case "BoolMetadataEntryData", "BoolMetadataValue":
		v := data.Get("value")
		if v == nil {
			break
		}
		switch v.Type() {
		case fastjson.TypeTrue, fastjson.TypeFalse, fastjson.TypeNull:
			d.scratch = appendJSONValue(d.scratch, v)
			return metaValue{kind: valueOther}
		}
	case "JsonMetadataEntryData", "JsonMetadataValue":
		if v := data.Get("data"); v != nil {
			d.scratch = appendJSONValue(d.scratch, v)
			return metaValue{kind: valueOther}
		}
	case "PythonArtifactMetadataEntryData", "PythonArtifactMetadataValue":
		mod, name := data.Get("module"), data.Get("name")
		if mod != nil && name != nil && mod.Type() == fastjson.TypeString && name.Type() == fastjson.TypeString {
			mb, _ := mod.StringBytes()
			nb, _ := name.StringBytes()
			d.scratch = appendJSONString2(d.scratch, mb, '.', nb)
			return metaValue{kind: valueOther}
		}
	case "DagsterPipelineRunMetadataEntryData", "DagsterRunMetadataValue":
		return d.stringField(data, "run_id")
	case "DagsterAssetMetadataEntryData", "DagsterAssetMetadataValue":
		if path, ok := stringPath(data.Get("asset_key")); ok {
			d.scratch = append(d.scratch, '"')
			for i, p := range path {
				if i > 0 {
					d.scratch = append(d.scratch, '/')
				}
				d.scratch = appendJSONStringBody(d.scratch, p)
			}
			d.scratch = append(d.scratch, '"')
			return metaValue{kind: valueOther}
		}
	case "NullMetadataEntryData", "NullMetadataValue":
		d.scratch = appendNull(d.scratch)
		return metaValue{kind: valueNull}
	}
	// Table, TableSchema, TableColumnLineage, DagsterJob, CodeReferences,
	// unknown classes, and known classes with unexpected fields.
	d.scratch = appendJSONValue(d.scratch[:0], data)
	return metaValue{kind: valueOther}
}

// stringField converts a class whose value is one string field (null
// allowed). Anything else falls back to the raw object.
func (d *Decoder) stringField(data *fastjson.Value, field string) metaValue {
	v := data.Get(field)
	if v != nil {
		switch v.Type() {
		case fastjson.TypeString:
			b, _ := v.StringBytes()
			d.scratch = appendJSONString(d.scratch, b)
			return metaValue{kind: valueString, str: b}
		case fastjson.TypeNull:
			d.scratch = appendNull(d.scratch)
			return metaValue{kind: valueNull}
		}
	}
	d.scratch = appendJSONValue(d.scratch[:0], data)
	return metaValue{kind: valueOther}
}

// stringPath returns the path of a serdes AssetKey object, or ok=false if v
// is not one.
func stringPath(v *fastjson.Value) (path [][]byte, ok bool) {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil, false
	}
	arr := v.Get("path")
	if arr == nil || arr.Type() != fastjson.TypeArray {
		return nil, false
	}
	items, _ := arr.Array()
	path = make([][]byte, 0, len(items))
	for _, it := range items {
		b, err := it.StringBytes()
		if err != nil {
			return nil, false
		}
		path = append(path, b)
	}
	return path, true
}

// mapValue fills the Event field label is configured for, if this label
// outranks the one that filled it so far.
func (d *Decoder) mapValue(label []byte, mv metaValue) {
	roles, ok := d.roles[string(label)]
	if !ok {
		return
	}
	ev := d.meta.ev
	for _, r := range roles {
		if r.rank >= d.meta.best[r.field] {
			continue
		}
		switch r.field {
		case fieldSize:
			if n, ok := sizeBytes(mv, r.bytesPerUnit, &d.numText); ok {
				ev.SizeBytes.Int64, ev.SizeBytes.Valid = n, true
				d.meta.best[r.field] = r.rank
			}
		case fieldRows:
			if n, ok := count(mv, &d.numText); ok {
				ev.RowCount.Int64, ev.RowCount.Valid = n, true
				d.meta.best[r.field] = r.rank
			}
		case fieldExecTime:
			if f, ok := number(mv); ok {
				ev.ExecTimeS.Float64, ev.ExecTimeS.Valid = f, true
				d.meta.best[r.field] = r.rank
			}
		case fieldMemory:
			if f, ok := number(mv); ok {
				ev.MemoryDeltaMB.Float64, ev.MemoryDeltaMB.Valid = f, true
				d.meta.best[r.field] = r.rank
			}
		case fieldLocation:
			if mv.kind == valueString && len(mv.str) > 0 {
				ev.URI.String, ev.URI.Valid = copyString(mv.str), true
				d.meta.best[r.field] = r.rank
			}
		}
	}
}

// number returns a finite numeric value: a JSON number, or a Text value
// that holds one (teams do write sizes as text).
func number(mv metaValue) (float64, bool) {
	var f float64
	switch mv.kind {
	case valueNumber:
		var err error
		if f, err = mv.num.Float64(); err != nil {
			return 0, false
		}
	case valueString:
		s := strings.TrimSpace(string(mv.str))
		var err error
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// maxExactInt64 is the largest float64 below 2^63; larger values do not
// fit an int64.
const maxExactInt64 = float64(1<<63 - 1024)

// count returns a non-negative integral count, exact for integer JSON
// numbers of any size int64 can hold.
// buf is scratch space for the number's text.
func count(mv metaValue, buf *[]byte) (int64, bool) {
	if mv.kind == valueNumber {
		// Parse integer text exactly; fastjson's Int64 allocates an error
		// for "1.5", so only integer-looking text goes to it.
		*buf = mv.num.MarshalTo((*buf)[:0])
		if isIntegerText(*buf) {
			if n, err := mv.num.Int64(); err == nil {
				return n, n >= 0
			}
		}
	}
	f, ok := number(mv)
	if !ok || f < 0 || f > maxExactInt64 {
		return 0, false
	}
	return int64(math.Round(f)), true
}

func isIntegerText(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// sizeBytes converts a size value to bytes. A negative size is treated as
// absent: it cannot be a size and would corrupt cost sums.
func sizeBytes(mv metaValue, perUnit float64, buf *[]byte) (int64, bool) {
	if perUnit == 1 {
		return count(mv, buf)
	}
	f, ok := number(mv)
	if !ok {
		return 0, false
	}
	f *= perUnit
	if f < 0 || f > maxExactInt64 || math.IsInf(f, 0) {
		return 0, false
	}
	return int64(math.Round(f)), true
}

// appendJSONValue re-encodes v as valid JSON. fastjson accepts some input
// that is not JSON (raw control characters in strings, NaN, malformed
// number text), so v is never copied verbatim.
func appendJSONValue(dst []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		dst = append(dst, '{')
		first := true
		o.Visit(func(k []byte, vv *fastjson.Value) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendJSONValue(dst, vv)
		})
		return append(dst, '}')
	case fastjson.TypeArray:
		a, _ := v.Array()
		dst = append(dst, '[')
		for i, vv := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONValue(dst, vv)
		}
		return append(dst, ']')
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return appendJSONString(dst, b)
	case fastjson.TypeNumber:
		return appendJSONNumber(dst, v)
	case fastjson.TypeTrue:
		return append(dst, "true"...)
	case fastjson.TypeFalse:
		return append(dst, "false"...)
	}
	return appendNull(dst)
}

// appendJSONNumber writes a number token. Valid JSON number text is copied
// exactly (Python ints beyond int64 stay exact). Python's json writes NaN,
// Infinity and -Infinity bare, which JSON cannot hold; they become the
// strings "NaN", "Infinity", "-Infinity", which DuckDB casts back to DOUBLE.
func appendJSONNumber(dst []byte, v *fastjson.Value) []byte {
	start := len(dst)
	dst = v.MarshalTo(dst) // the number's text, without allocating
	if validJSONNumber(dst[start:]) {
		return dst
	}
	text := string(dst[start:])
	dst = dst[:start]
	f, err := v.Float64()
	switch {
	case err == nil && math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case err == nil && math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case err == nil && math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	// Number-like garbage such as "1.2.3": keep the text, as a string.
	return appendJSONString(dst, []byte(text))
}

// validJSONNumber reports whether s matches the JSON number grammar.
func validJSONNumber(s []byte) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = skipDigits(s, i)
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		start := i + 1
		if i = skipDigits(s, start); i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		if i = skipDigits(s, start); i == start {
			return false
		}
	}
	return i == len(s)
}

// skipDigits returns the index of the first byte at or after i that is not
// an ASCII digit.
func skipDigits(s []byte, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// appendJSONString writes b as a JSON string. Unlike strconv.Quote this
// follows JSON: \uXXXX for control characters, no \x or \U escapes, and
// invalid UTF-8 becomes U+FFFD so DuckDB's JSON type accepts the result.
func appendJSONString(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = appendJSONStringBody(dst, b)
	return append(dst, '"')
}

// appendJSONString2 writes a + sep + b as one JSON string.
func appendJSONString2(dst, a []byte, sep byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = appendJSONStringBody(dst, a)
	dst = append(dst, sep)
	dst = appendJSONStringBody(dst, b)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

func appendJSONStringBody(dst, b []byte) []byte {
	start := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, b[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, b[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript consumers.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, b[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, b[start:]...)
}
