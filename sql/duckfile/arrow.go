package duckfile

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/marcboeker/go-duckdb"
)

// Execer runs a statement: a *sql.Conn, or a *sql.Tx on it.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// WithArrow hands fn DuckDB's Arrow interface on conn's driver connection.
func WithArrow(conn *sql.Conn, fn func(*duckdb.Arrow) error) error {
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

// QueryArrow runs query on conn through DuckDB's Arrow interface and hands
// the record stream to fn; the stream is released when fn returns.
func QueryArrow(ctx context.Context, conn *sql.Conn, query string, fn func(array.RecordReader) error) error {
	return WithArrow(conn, func(ar *duckdb.Arrow) error {
		rr, err := ar.QueryContext(ctx, query)
		if err != nil {
			return err
		}
		defer rr.Release()
		return fn(rr)
	})
}

// View is Arrow data readable in SQL under a name, until Drop.
type View struct {
	name    string
	lent    *lentReader
	release func()
	owned   array.RecordReader
}

// RegisterRecord makes rec readable in SQL as the view name; rec stays
// owned by the caller and must outlive the view.
func RegisterRecord(conn *sql.Conn, rec arrow.Record, name string) (*View, error) {
	rr, err := array.NewRecordReader(rec.Schema(), []arrow.Record{rec})
	if err != nil {
		return nil, fmt.Errorf("register view %s: %w", name, err)
	}
	v, err := RegisterReader(conn, rr, name)
	if err != nil {
		rr.Release()
		return nil, err
	}
	v.owned = rr
	return v, nil
}

// RegisterReader makes the stream rr readable in SQL as the view name; rr
// stays owned by the caller and must outlive the view. DuckDB reads the
// stream once.
func RegisterReader(conn *sql.Conn, rr array.RecordReader, name string) (*View, error) {
	v := &View{name: name, lent: &lentReader{r: rr, schema: rr.Schema()}}
	err := WithArrow(conn, func(ar *duckdb.Arrow) error {
		var err error
		v.release, err = ar.RegisterView(v.lent, name)
		return err
	})
	if err != nil {
		v.lent.detach()
		return nil, fmt.Errorf("register view %s: %w", name, err)
	}
	return v, nil
}

// Name is the view's name in SQL.
func (v *View) Name() string { return v.name }

// Drop drops the view through ex (the transaction it was read in, if any)
// and frees what DuckDB holds of the stream. It frees the stream also when
// the DROP fails (a transaction DuckDB aborted), so it is safe to defer.
func (v *View) Drop(ctx context.Context, ex Execer) error {
	if v.lent == nil {
		return nil
	}
	// The view points at the stream: drop it before the stream's memory
	// can go.
	_, err := ex.ExecContext(ctx, "DROP VIEW IF EXISTS "+v.name)
	if err != nil {
		err = fmt.Errorf("drop view %s: %w", v.name, err)
	}
	v.release()
	v.lent.detach()
	v.lent = nil
	if v.owned != nil {
		v.owned.Release()
	}
	return err
}

// lentReader lends a record reader to DuckDB without giving up ownership.
// go-duckdb v1.8.2 exports the reader through the Arrow C stream interface,
// which retains it and pins it in a cgo handle, but never calls the stream's
// release callback, so a plain reader (and its records) would stay pinned
// after every use. The lent reader ignores Retain/Release and is detached
// when the view is dropped, so only this small struct stays pinned.
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
