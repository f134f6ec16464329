package analyze

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/matlens/matlens/sql/duckfile"
)

// storeRecord copies rec into the temp table name, with the run's as_of as
// an extra first column, through an Arrow view (DuckDB reads the columns
// directly). rec stays owned by the caller.
func storeRecord(ctx context.Context, conn *sql.Conn, rec arrow.Record, name string) (err error) {
	view, err := duckfile.RegisterRecord(conn, rec, name+"_arrow")
	if err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	defer func() {
		if derr := view.Drop(ctx, conn); derr != nil && err == nil {
			err = fmt.Errorf("store %s: %w", name, derr)
		}
	}()
	// name is a constant of this package, never user input.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(
		"CREATE OR REPLACE TEMP TABLE %s AS SELECT getvariable('matlens_as_of') AS as_of, v.* FROM %s v", name, view.Name())); err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	return nil
}

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
