package analyze

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/marcboeker/go-duckdb"
)

// queryArrow runs query on conn through DuckDB's Arrow interface and hands
// the record stream to fn; the stream is released when fn returns.
func queryArrow(ctx context.Context, conn *sql.Conn, query string, fn func(array.RecordReader) error) error {
	return withArrow(conn, func(ar *duckdb.Arrow) error {
		rr, err := ar.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rr.Release()
		return fn(rr)
	})
}

// withArrow hands fn DuckDB's Arrow interface on conn's driver connection.
func withArrow(conn *sql.Conn, fn func(*duckdb.Arrow) error) error {
	return conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("not a database/sql driver connection: %T", dc)
		}
		ar, err := duckdb.NewArrowFromConn(dconn)
		if err != nil {
			return err
		}
		return fn(ar)
	})
}

// storeRecord copies rec into the temp table name, with the run's as_of as
// an extra first column, through an Arrow view (DuckDB reads the columns
// directly). rec stays owned by the caller.
func storeRecord(ctx context.Context, conn *sql.Conn, rec arrow.Record, name string) error {
	reader, err := array.NewRecordReader(rec.Schema(), []arrow.Record{rec})
	if err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	defer reader.Release()
	lent := &lentReader{r: reader, schema: rec.Schema()}
	defer lent.detach()
	view := name + "_arrow"
	release, err := registerView(conn, lent, view)
	if err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	defer release()
	// name and view are constants of this package, never user input.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(
		"CREATE OR REPLACE TEMP TABLE %s AS SELECT getvariable('matlens_as_of') AS as_of, v.* FROM %s v", name, view)); err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	// The view points at a stream that is now consumed; drop it before the
	// stream's memory is released.
	if _, err := conn.ExecContext(ctx, "DROP VIEW IF EXISTS "+view); err != nil {
		return fmt.Errorf("store %s: drop view: %w", name, err)
	}
	return nil
}

// registerView makes the stream readable in SQL as the view named view;
// release frees what DuckDB holds of it (drop the view first).
func registerView(conn *sql.Conn, rr array.RecordReader, view string) (release func(), err error) {
	err = withArrow(conn, func(ar *duckdb.Arrow) error {
		release, err = ar.RegisterView(rr, view)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("register arrow view: %w", err)
	}
	return release, nil
}

// lentReader lends a record reader to DuckDB without giving up ownership.
// go-duckdb v1.8.2 exports the reader through the Arrow C stream interface,
// which retains it and pins it in a cgo handle but never calls the stream's
// release callback; the lent reader ignores Retain/Release and is detached
// after use, so only this small struct stays pinned (the same workaround as
// ingest's loader).
type lentReader struct {
	r      array.RecordReader
	schema *arrow.Schema
}

func (l *lentReader) Retain()               {}
func (l *lentReader) Release()              {}
func (l *lentReader) Schema() *arrow.Schema { return l.schema }
func (l *lentReader) Next() bool            { return l.r != nil && l.r.Next() }
func (l *lentReader) Record() arrow.Record  { return l.r.Record() }
func (l *lentReader) Err() error {
	if l.r == nil {
		return nil
	}
	return l.r.Err()
}
func (l *lentReader) detach() { l.r = nil }

// appendNullable appends v to b, NaN as NULL.
func appendNullable(b *array.Float64Builder, v float64) {
	if v != v { // NaN
		b.AppendNull()
		return
	}
	b.Append(v)
}

func appendNullString(b *array.StringBuilder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	b.Append(s)
}
