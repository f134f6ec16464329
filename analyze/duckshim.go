package analyze

// Temporary: recommend.go is being split; these forward to duckfile until
// it uses duckfile directly.

import (
	"context"
	"database/sql"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/marcboeker/go-duckdb"

	"github.com/matlens/matlens/sql/duckfile"
)

func queryArrow(ctx context.Context, conn *sql.Conn, query string, fn func(array.RecordReader) error) error {
	return duckfile.QueryArrow(ctx, conn, query, fn)
}

func registerView(conn *sql.Conn, rr array.RecordReader, view string) (release func(), err error) {
	err = duckfile.WithArrow(conn, func(ar *duckdb.Arrow) error {
		release, err = ar.RegisterView(rr, view)
		return err
	})
	return release, err
}

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
