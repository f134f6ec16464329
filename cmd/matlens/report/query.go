package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// table is a small query result held in memory (the ranked lists and
// summaries; the exports stream instead).
type table struct {
	cols []string
	rows [][]any
}

func (t *table) col(name string) int {
	for i, c := range t.cols {
		if c == name {
			return i
		}
	}
	panic("report: no column " + name) // a query and its reader disagree: a bug
}

func (t *table) str(r int, name string) string {
	s, _ := t.rows[r][t.col(name)].(string)
	return s
}

// float returns the column as a float64; ok is false for NULL.
func (t *table) float(r int, name string) (v float64, ok bool) {
	switch x := t.rows[r][t.col(name)].(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	}
	return 0, false
}

func (t *table) f(r int, name string) float64 {
	v, _ := t.float(r, name)
	return v
}

func queryTable(ctx context.Context, conn *sql.Conn, query string, args ...any) (*table, error) {
	t := &table{}
	err := scan(ctx, conn, query, args, func(cols []string) error {
		t.cols = cols
		return nil
	}, func(vals []any) error {
		t.rows = append(t.rows, append([]any(nil), vals...))
		return nil
	})
	return t, err
}

// scan runs query and hands header the column names, then row each row's
// values (the slice is reused between calls).
func scan(ctx context.Context, conn *sql.Conn, query string, args []any, header func([]string) error, row func([]any) error) (err error) {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	if err := header(cols); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := row(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// timeLayout is RFC 3339 in UTC with the microseconds DuckDB keeps.
const timeLayout = "2006-01-02T15:04:05.999999Z07:00"

// jsonValue turns a scanned DuckDB value into what encoding/json should
// write: times as RFC 3339 UTC, NaN and infinities as null (JSON has no
// such numbers), a JSON-typed column as the document itself.
func jsonValue(v any, isJSON bool) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(timeLayout)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil
		}
	case string:
		if isJSON && json.Valid([]byte(x)) {
			return json.RawMessage(x)
		}
	case []byte:
		return string(x)
	}
	return v
}

// csvValue writes a scanned value as a CSV field: NULL as the empty field,
// floats in plain decimal notation (spreadsheets read it), times as RFC
// 3339 UTC, lists and structs as JSON.
func csvValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case time.Time:
		return x.UTC().Format(timeLayout), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", nil
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case float32:
		return csvValue(float64(x))
	case bool:
		return strconv.FormatBool(x), nil
	case int64, int32, int16, int8, int, uint64, uint32, uint16, uint8:
		return fmt.Sprint(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}
