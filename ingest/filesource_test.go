package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// copyEscape encodes s the way PostgreSQL's COPY TO writes text columns,
// so tests can check that unescapeCopy inverts it.
func copyEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\v':
			b.WriteString(`\v`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func TestUnescapeCopy(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `a\b`, "tab\there", "nl\nx\r\n", "\b\f\v", `{"m": "say \"hi\"\\n"}`, "end\\", "ünïcode €"} {
		var buf []byte
		if got := string(unescapeCopy([]byte(copyEscape(s)), &buf)); got != s {
			t.Errorf("round trip %q -> %q -> %q", s, copyEscape(s), got)
		}
	}
	for in, want := range map[string]string{
		`\101\0611`: "A11", // octal, at most three digits
		`\x41\x4a2`: "AJ2", // hex, at most two digits
		`\xZ`:       "xZ",  // \x without digits is x
		`\q`:        "q",   // any other escaped char is itself
		`\7`:        "\a",
	} {
		var buf []byte
		if got := string(unescapeCopy([]byte(in), &buf)); got != want {
			t.Errorf("unescapeCopy(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Time{
		"2024-10-21 16:38:41.08461":     time.Date(2024, 10, 21, 16, 38, 41, 84610000, time.UTC),
		"2024-10-21 16:38:41":           time.Date(2024, 10, 21, 16, 38, 41, 0, time.UTC),
		"2021-07-08 16:10:08.338121":    time.Date(2021, 7, 8, 16, 10, 8, 338121000, time.UTC),
		"2024-10-21 16:38:41.5+02":      time.Date(2024, 10, 21, 14, 38, 41, 500000000, time.UTC),
		"2024-02-29 00:00:00.000000001": time.Date(2024, 2, 29, 0, 0, 0, 1, time.UTC),
	} {
		got, ok := parseTimestamp([]byte(in))
		if !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseTimestamp(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "yesterday", "2024-13-01 00:00:00", "2023-02-30 00:00:00", "2024-10-21 16:38:41.", "2024-10-21 16:38:41.12x"} {
		if got, ok := parseTimestamp([]byte(in)); ok {
			t.Errorf("parseTimestamp(%q) = %v, want failure", in, got)
		}
	}
}

const testEvent = `{"__class__": "EventLogEntry", "dagster_event": null, "run_id": "r1", "timestamp": 1.5}`

// readAll collects copies of every row a source hands over.
func readAll(t *testing.T, src *FileSource, q Query) []*Row {
	t.Helper()
	var rows []*Row
	if err := src.Read(t.Context(), q, func(r *Row) error {
		rows = append(rows, cloneRow(r))
		return nil
	}); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return rows
}

func TestFileSourceDump(t *testing.T) {
	t.Parallel()
	ev := `{"__class__": "EventLogEntry", "message": "a\tb \\ c\n"}`
	dump := strings.Join([]string{
		"--",
		"-- PostgreSQL database dump",
		"SET statement_timeout = 0;",
		"COPY public.runs (id, run_id) FROM stdin;",
		"1\tnot-an-event",
		`\.`,
		// Columns in an unusual order, one unknown, no partition column.
		`COPY public.event_logs (event, "timestamp", id, extra, dagster_event_type, run_id, step_key, asset_key) FROM stdin;`,
		copyEscape(ev) + "\t2024-10-21 16:38:41.08461\t5\tx\tSTEP_START\trun-5\t\\N\t[\"a\"]",
		copyEscape(ev) + "\t\\N\t6\tx\t\\N\t\\N\t\t\\N",
		`\.`,
		"COPY public.event_logs_archive (id) FROM stdin;",
		"99",
		`\.`,
	}, "\n") + "\n"
	src := NewCopyReader(strings.NewReader(dump), "demo")
	if src.Name() != "demo" {
		t.Errorf("Name = %q", src.Name())
	}
	rows := readAll(t, src, Query{})
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	r := rows[0]
	if r.ID != 5 || string(r.Event) != ev || r.Type.String != "STEP_START" || string(r.RunID) != "run-5" || r.Line != 8 {
		t.Errorf("row 5: ID %d, Event %q, Type %+v, RunID %q, Line %d", r.ID, r.Event, r.Type, r.RunID, r.Line)
	}
	if !r.Timestamp.Valid || !r.Timestamp.Time.Equal(time.Date(2024, 10, 21, 16, 38, 41, 84610000, time.UTC)) {
		t.Errorf("row 5: Timestamp %+v", r.Timestamp)
	}
	if r.Nulls != (ColumnNulls{StepKey: true, Partition: true}) || string(r.AssetKey) != `["a"]` {
		t.Errorf("row 5: Nulls %+v, AssetKey %q", r.Nulls, r.AssetKey)
	}
	r = rows[1]
	if r.ID != 6 || r.Type.Valid || r.Timestamp.Valid || !r.Nulls.RunID || r.Nulls.StepKey || len(r.StepKey) != 0 {
		t.Errorf("row 6: NULLs and empty string mixed up: %+v", r)
	}
}

func TestFileSourceBareAndFilters(t *testing.T) {
	t.Parallel()
	line := func(id int, typ string) string {
		return fmt.Sprintf("%d\trun\t%s\t%s\t2024-01-01 00:00:00\tstep\t\\N\t\\N", id, copyEscape(testEvent), typ)
	}
	text := strings.Join([]string{
		line(1, "STEP_START"),
		line(2, "ENGINE_EVENT"),
		line(3, `\N`),
		line(4, "STEP_SUCCESS"),
		"5\trun\t{\"cut", // cut mid-row: malformed but its id is known
		"x7\trun\t{}\tSTEP_START\t2024-01-01 00:00:00\t\\N\t\\N\t\\N",
		"8\trun\t{}\tSTEP_START\tnot a time\t\\N\t\\N\t\\N",
		line(9, "ENGINE_EVENT"),
	}, "\n") // no final newline: the last line still counts
	path := filepath.Join(t.TempDir(), "bare.txt")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	src := NewFileSource(path)
	if want := "file:" + path; src.Name() != want {
		t.Errorf("Name = %q, want %q", src.Name(), want)
	}

	ids := func(rows []*Row) string {
		var s []string
		for _, r := range rows {
			tag := ""
			if r.Malformed != "" {
				tag = "!"
			}
			s = append(s, fmt.Sprintf("%d%s", r.ID, tag))
		}
		return strings.Join(s, ",")
	}
	all := readAll(t, src, Query{})
	if got := ids(all); got != "1,2,3,4,5!,0!,8!,9" {
		t.Errorf("all rows: %s", got)
	}
	if all[2].Type.Valid {
		t.Errorf("\\N type not NULL: %+v", all[2].Type)
	}
	if m := all[4]; m.Line != 5 || !strings.Contains(m.Malformed, "3 fields, want 8") || string(m.Event) != "5\trun\t{\"cut" {
		t.Errorf("cut row: Line %d, Malformed %q, Event %q", m.Line, m.Malformed, m.Event)
	}
	if m := all[6]; !strings.Contains(m.Malformed, "bad timestamp") {
		t.Errorf("bad timestamp row: %q", m.Malformed)
	}
	// Types filter: malformed rows still come through.
	if got := ids(readAll(t, src, Query{Types: []string{"STEP_START", "STEP_SUCCESS"}})); got != "1,4,5!,0!,8!" {
		t.Errorf("Types filter: %s", got)
	}
	// AfterID applies wherever the id parsed, malformed or not.
	if got := ids(readAll(t, src, Query{AfterID: 5})); got != "0!,8!,9" {
		t.Errorf("AfterID filter: %s", got)
	}
}

func TestFileSourceLongLine(t *testing.T) {
	t.Parallel()
	big := `{"run_id": "r", "timestamp": 1, "pad": "` + strings.Repeat("x\\\\y", 1<<20) + `"}`
	text := "1\tr\t" + big + "\tENGINE_EVENT\t\\N\t\\N\t\\N\t\\N\n2\tr\t{}\tENGINE_EVENT\t\\N\t\\N\t\\N\t\\N\n"
	rows := readAll(t, NewCopyReader(strings.NewReader(text), "long"), Query{})
	if len(rows) != 2 || rows[0].Malformed != "" || len(rows[0].Event) != len(big)-(1<<20)*1 {
		t.Fatalf("long line: %d rows, first malformed %q, event len %d", len(rows), rows[0].Malformed, len(rows[0].Event))
	}
	if rows[1].ID != 2 || rows[1].Line != 2 {
		t.Errorf("row after long line: %+v", rows[1])
	}
}

func TestFileSourceErrors(t *testing.T) {
	t.Parallel()
	// A callback error stops the read and comes back wrapped.
	stop := errors.New("stop")
	text := "1\tr\t{}\tX\t\\N\t\\N\t\\N\t\\N\n2\tr\t{}\tX\t\\N\t\\N\t\\N\t\\N\n"
	n := 0
	err := NewCopyReader(strings.NewReader(text), "s").Read(t.Context(), Query{}, func(*Row) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 || !strings.Contains(err.Error(), "read s line 1") {
		t.Errorf("callback error: %v after %d rows", err, n)
	}

	// A cancelled context stops the read.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = NewCopyReader(strings.NewReader(text), "s").Read(ctx, Query{}, func(*Row) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled read: %v", err)
	}

	// Cancelling mid-way stops within ctxCheckEvery rows.
	var many bytes.Buffer
	for i := 1; i <= 3*ctxCheckEvery; i++ {
		fmt.Fprintf(&many, "%d\tr\t{}\tX\t\\N\t\\N\t\\N\t\\N\n", i)
	}
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	n = 0
	err = NewCopyReader(&many, "s").Read(ctx, Query{}, func(*Row) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > ctxCheckEvery+1 {
		t.Errorf("cancel mid-way: %v after %d rows", err, n)
	}

	// A dump without an event_logs block is an error, not an empty read.
	err = NewCopyReader(strings.NewReader("--\nSET x = 1;\n"), "s").Read(t.Context(), Query{}, func(*Row) error { return nil })
	if !errors.Is(err, errNoEventLogs) {
		t.Errorf("dump without event_logs: %v", err)
	}
	// A missing file.
	err = NewFileSource(filepath.Join(t.TempDir(), "nope")).Read(t.Context(), Query{}, func(*Row) error { return nil })
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// Empty input: no rows, no error.
	if err := NewCopyReader(strings.NewReader(""), "s").Read(t.Context(), Query{}, func(*Row) error {
		t.Error("row from empty input")
		return nil
	}); err != nil {
		t.Errorf("empty input: %v", err)
	}
}

func TestParseCopyHeader(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`COPY public.event_logs (id, run_id, event, dagster_event_type, "timestamp", step_key, asset_key, partition) FROM stdin;`: "id,run_id,event,dagster_event_type,timestamp,step_key,asset_key,partition",
		`COPY event_logs (id, event) FROM stdin;`:            "id,event",
		`COPY "public"."event_logs" (id, event) FROM stdin;`: "id,event",
		`COPY public.event_logs_old (id, event) FROM stdin;`: "",
		`COPY public.runs (id, event_logs) FROM stdin;`:      "",
		`-- COPY public.event_logs (id) FROM stdin;`:         "",
	} {
		cols, ok := parseCopyHeader([]byte(in))
		if got := strings.Join(cols, ","); got != want || ok != (want != "") {
			t.Errorf("parseCopyHeader(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// FuzzFileSource checks that no input makes the COPY reader panic and that
// every row it hands over is either well-formed or marked Malformed.
func FuzzFileSource(f *testing.F) {
	f.Add("1\tr\t{}\tSTEP_START\t2024-01-01 00:00:00.5\t\\N\t\\N\t\\N\n")
	f.Add("--\nCOPY public.event_logs (id, event, \"timestamp\") FROM stdin;\n1\t{\\x41\\101}\t\\N\n\\.\n")
	f.Add("5\tr\t{\"cut")
	f.Fuzz(func(t *testing.T, text string) {
		err := NewCopyReader(strings.NewReader(text), "fuzz").Read(t.Context(), Query{AfterID: 0}, func(r *Row) error {
			if r.Malformed == "" && r.ID <= 0 {
				t.Fatalf("row with id %d not marked malformed", r.ID)
			}
			return nil
		})
		if err != nil && !errors.Is(err, errNoEventLogs) && !strings.Contains(err.Error(), "inside the event_logs COPY") && !strings.Contains(err.Error(), "lacks id or event") {
			t.Fatalf("unexpected error: %v", err)
		}
	})
}
