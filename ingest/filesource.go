package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileSource reads event_logs rows from a file in PostgreSQL's COPY text
// format: either a plain pg_dump (the rows of its `COPY ... event_logs (...)
// FROM stdin;` block, columns in any order) or a bare COPY text file whose
// every line is a row with the columns id, run_id, event,
// dagster_event_type, timestamp, step_key, asset_key, partition.
//
// The format is chosen by the first non-blank line: SQL or a comment (what
// pg_dump starts with) means a dump, anything else a bare COPY file.
type FileSource struct {
	path string
	r    io.Reader
	name string
}

// NewFileSource returns a source reading the file at path.
func NewFileSource(path string) *FileSource {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return &FileSource{path: path, name: "file:" + path}
}

// NewCopyReader returns a source reading r, in either format FileSource
// accepts; name is what Name returns. r is consumed by the first Read.
func NewCopyReader(r io.Reader, name string) *FileSource {
	return &FileSource{r: r, name: name}
}

// Name identifies the source: "file:" plus the absolute path, or the name
// given to NewCopyReader.
func (s *FileSource) Name() string { return s.name }

// Read hands every row matching q to fn in file order. Lines it cannot
// split into the expected columns, or whose id or timestamp does not
// parse, are handed over with Row.Malformed set; the type filter does not
// apply to them (their type is not trustworthy), AfterID does when the id
// parsed.
func (s *FileSource) Read(ctx context.Context, q Query, fn func(*Row) error) error {
	r := s.r
	if r == nil {
		f, err := os.Open(s.path)
		if err != nil {
			return fmt.Errorf("read %s: %w", s.name, err)
		}
		defer f.Close()
		r = f
	}
	cr := newCopyReader(r, q)
	if err := cr.run(ctx, fn); err != nil {
		return fmt.Errorf("read %s line %d: %w", s.name, cr.line, err)
	}
	return nil
}

// The event_logs columns a file can carry.
const (
	colID = iota
	colRunID
	colEvent
	colType
	colTimestamp
	colStepKey
	colAssetKey
	colPartition
	numCols
)

var colNames = [numCols]string{"id", "run_id", "event", "dagster_event_type", "timestamp", "step_key", "asset_key", "partition"}

// readBufSize is the bufio buffer. Lines longer than this (event JSON can
// exceed a megabyte) are assembled in copyReader.long.
const readBufSize = 1 << 20

// ctxCheckEvery is how many lines pass between checks for cancellation.
const ctxCheckEvery = 4096

type copyReader struct {
	br    *bufio.Reader
	line  int64
	long  []byte
	q     Query
	types map[string]struct{}
	// colIdx maps a field position on the line to its column, -1 for a
	// column matlens does not read.
	colIdx []int
	fields [][]byte
	bufs   [numCols][]byte
	row    Row
}

func newCopyReader(r io.Reader, q Query) *copyReader {
	cr := &copyReader{br: bufio.NewReaderSize(r, readBufSize), q: q}
	if len(q.Types) > 0 {
		cr.types = make(map[string]struct{}, len(q.Types))
		for _, t := range q.Types {
			cr.types[t] = struct{}{}
		}
	}
	return cr
}

// errNoEventLogs reports a dump without an event_logs COPY block.
var errNoEventLogs = errors.New("no COPY ... event_logs block in dump")

func (cr *copyReader) run(ctx context.Context, fn func(*Row) error) error {
	// Decide the format on the first non-blank line.
	var first []byte
	for {
		b, err := cr.readLine()
		if err == io.EOF && b == nil {
			return nil // empty input: no rows
		}
		if err != nil && err != io.EOF {
			return err
		}
		if len(bytes.TrimSpace(b)) > 0 || err == io.EOF {
			first = b
			break
		}
	}
	if !looksLikeSQL(first) {
		cr.colIdx = []int{colID, colRunID, colEvent, colType, colTimestamp, colStepKey, colAssetKey, colPartition}
		if err := cr.handle(first, fn); err != nil {
			return err
		}
		return cr.rows(ctx, fn, false)
	}
	// A dump: skip to the event_logs COPY line.
	b := first
	for {
		if cols, ok := parseCopyHeader(b); ok {
			if err := cr.setColumns(cols); err != nil {
				return err
			}
			return cr.rows(ctx, fn, true)
		}
		var err error
		b, err = cr.readLine()
		if err == io.EOF && b == nil {
			return errNoEventLogs
		}
		if err != nil && err != io.EOF {
			return err
		}
	}
}

// looksLikeSQL reports whether a first line is how a pg_dump begins.
func looksLikeSQL(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\ufeff")
	for _, p := range []string{"--", "SET ", "SELECT ", "CREATE ", "COPY ", "ALTER ", "BEGIN", `\`} {
		if bytes.HasPrefix(b, []byte(p)) {
			return true
		}
	}
	return false
}

// parseCopyHeader recognises `COPY [schema.]event_logs (cols) FROM stdin;`
// and returns the column names.
func parseCopyHeader(b []byte) ([]string, bool) {
	s := string(bytes.TrimSpace(b))
	rest, ok := strings.CutPrefix(s, "COPY ")
	if !ok || !strings.Contains(s, "event_logs") {
		return nil, false
	}
	open := strings.IndexByte(rest, '(')
	end := strings.LastIndexByte(rest, ')')
	if open < 0 || end < open {
		return nil, false
	}
	table := strings.TrimSpace(rest[:open])
	if i := strings.LastIndexByte(table, '.'); i >= 0 {
		table = table[i+1:]
	}
	if strings.Trim(table, `"`) != "event_logs" {
		return nil, false
	}
	if !strings.Contains(strings.ToLower(rest[end:]), "from stdin") {
		return nil, false
	}
	var cols []string
	for c := range strings.SplitSeq(rest[open+1:end], ",") {
		cols = append(cols, strings.Trim(strings.TrimSpace(c), `"`))
	}
	return cols, true
}

func (cr *copyReader) setColumns(cols []string) error {
	cr.colIdx = make([]int, len(cols))
	var have [numCols]bool
	for i, c := range cols {
		cr.colIdx[i] = -1
		for j, n := range colNames {
			if c == n {
				cr.colIdx[i] = j
				have[j] = true
			}
		}
	}
	if !have[colID] || !have[colEvent] {
		return fmt.Errorf("COPY event_logs lacks id or event column: %v", cols)
	}
	return nil
}

// rows reads data lines until EOF or, in a dump, the `\.` terminator.
func (cr *copyReader) rows(ctx context.Context, fn func(*Row) error, dump bool) error {
	for n := 1; ; n++ {
		if n%ctxCheckEvery == 1 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b, err := cr.readLine()
		if err == io.EOF && b == nil {
			if dump {
				return errors.New("dump ends inside the event_logs COPY block")
			}
			return ctx.Err()
		}
		if err != nil && err != io.EOF {
			return err
		}
		if dump && string(b) == `\.` {
			return ctx.Err()
		}
		if len(b) == 0 && !dump {
			continue // a blank line in a bare file carries no row
		}
		if herr := cr.handle(b, fn); herr != nil {
			return herr
		}
		if err == io.EOF {
			return ctx.Err()
		}
	}
}

// readLine returns the next line without its newline (and a CR before it:
// COPY escapes real CRs, so a raw one is only a line ending). The slice is
// valid until the next call. At the end it returns the last unterminated
// line with io.EOF, or nil and io.EOF.
func (cr *copyReader) readLine() ([]byte, error) {
	b, err := cr.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		cr.long = append(cr.long[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = cr.br.ReadSlice('\n')
			cr.long = append(cr.long, b...)
		}
		b = cr.long
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	if len(b) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	cr.line++
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	return b, err
}

// handle splits one data line into a Row and hands it to fn if q keeps it.
func (cr *copyReader) handle(line []byte, fn func(*Row) error) error {
	r := &cr.row
	*r = Row{Line: cr.line}
	cr.fields = cr.fields[:0]
	for {
		i := bytes.IndexByte(line, '\t')
		if i < 0 {
			cr.fields = append(cr.fields, line)
			break
		}
		cr.fields = append(cr.fields, line[:i])
		line = line[i+1:]
	}
	raw := func() []byte { return joinFields(cr.fields, &cr.bufs[colEvent]) }
	if len(cr.fields) != len(cr.colIdx) {
		// A cut line may still start with its id; keep it for AfterID.
		if id, ok := parseID(cr.fields[0]); ok && len(cr.fields) > 1 {
			if id <= cr.q.AfterID {
				return nil
			}
			r.ID = id
		}
		r.Malformed = fmt.Sprintf("line has %d fields, want %d", len(cr.fields), len(cr.colIdx))
		r.Event = raw()
		return fn(r)
	}

	var idField, tsField []byte
	for i, f := range cr.fields {
		switch cr.colIdx[i] {
		case colID:
			idField = f
		case colTimestamp:
			tsField = f
		case colType:
			if isNull(f) {
				continue
			}
			r.Type.String, r.Type.Valid = cr.internType(unescapeCopy(f, &cr.bufs[colType])), true
		}
	}
	id, ok := parseID(idField)
	if !ok {
		r.Malformed = fmt.Sprintf("bad id %q", Excerpt(idField))
		r.Event = raw()
		return fn(r)
	}
	r.ID = id
	if id <= cr.q.AfterID {
		return nil
	}
	if tsField != nil && !isNull(tsField) {
		t, ok := parseTimestamp(unescapeCopy(tsField, &cr.bufs[colTimestamp]))
		if !ok {
			r.Malformed = fmt.Sprintf("bad timestamp %q", Excerpt(tsField))
			r.Event = raw()
			return fn(r)
		}
		r.Timestamp.Time, r.Timestamp.Valid = t, true
	}
	// The type filter runs before the event JSON is unescaped, the costly
	// part of a row.
	if cr.types != nil {
		if !r.Type.Valid {
			return nil
		}
		if _, keep := cr.types[r.Type.String]; !keep {
			return nil
		}
	}
	r.Nulls = ColumnNulls{RunID: true, StepKey: true, AssetKey: true, Partition: true}
	for i, f := range cr.fields {
		c := cr.colIdx[i]
		switch c {
		case colRunID, colStepKey, colAssetKey, colPartition, colEvent:
		default:
			continue
		}
		null := isNull(f)
		var v []byte
		if !null {
			v = unescapeCopy(f, &cr.bufs[c])
		}
		switch c {
		case colRunID:
			r.RunID, r.Nulls.RunID = v, null
		case colStepKey:
			r.StepKey, r.Nulls.StepKey = v, null
		case colAssetKey:
			r.AssetKey, r.Nulls.AssetKey = v, null
		case colPartition:
			r.Partition, r.Nulls.Partition = v, null
		case colEvent:
			r.Event = v
		}
	}
	return fn(r)
}

// internType returns the type string, reusing the canonical copy of the
// types matlens knows so that most rows do not allocate for it.
func (cr *copyReader) internType(b []byte) string {
	if ti, ok := eventTypes[string(b)]; ok {
		return ti.name
	}
	return string(b)
}

// joinFields rebuilds a raw line from its fields, for the excerpt of a
// malformed row.
func joinFields(fields [][]byte, buf *[]byte) []byte {
	out := (*buf)[:0]
	for i, f := range fields {
		if i > 0 {
			out = append(out, '\t')
		}
		out = append(out, f...)
	}
	*buf = out
	return out
}

func isNull(f []byte) bool { return len(f) == 2 && f[0] == '\\' && f[1] == 'N' }

// parseID parses a decimal int64 without allocating.
func parseID(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, true
}

// unescapeCopy decodes COPY text escapes (\b \f \n \r \t \v \\, octal \ooo,
// hex \xHH, and \c for any other c) into *buf, or returns f itself when it
// has none.
func unescapeCopy(f []byte, buf *[]byte) []byte {
	i := bytes.IndexByte(f, '\\')
	if i < 0 {
		return f
	}
	out := append((*buf)[:0], f[:i]...)
	for ; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 == len(f) {
			out = append(out, c)
			continue
		}
		i++
		c = f[i]
		switch c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(f) && f[i+1] >= '0' && f[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(f[i]-'0')
			}
			out = append(out, byte(v))
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(f) && isHex(f[i+1]) {
				i++
				v = v*16 + hexVal(f[i])
				n++
			}
			if n == 0 {
				out = append(out, 'x') // PostgreSQL reads a bare \x as x
			} else {
				out = append(out, byte(v))
			}
		default:
			out = append(out, c)
		}
	}
	*buf = out
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= 'a':
		return int(c-'a') + 10
	case c >= 'A':
		return int(c-'A') + 10
	}
	return int(c - '0')
}

// parseTimestamp parses a timestamp column value such as
// "2024-10-21 16:38:41.08461" (naive UTC, 0-9 fraction digits) without
// time.Parse, falling back to it for anything else (offsets, BC dates).
func parseTimestamp(b []byte) (time.Time, bool) {
	if t, ok := parseTimestampFast(b); ok {
		return t, true
	}
	s := string(b)
	for _, layout := range []string{
		"2006-01-02 15:04:05.999999999",
		"2006-01-02 15:04:05.999999999Z07",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05.999999999Z07:00",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func parseTimestampFast(b []byte) (time.Time, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if len(b) > 19 {
		frac := b[20:]
		if b[19] != '.' || len(frac) == 0 || len(frac) > 9 {
			return time.Time{}, false
		}
		n, ok := num(frac)
		if !ok {
			return time.Time{}, false
		}
		for range 9 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // e.g. February 30th, which time.Date normalises
		return time.Time{}, false
	}
	return t, true
}
