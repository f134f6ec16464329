package report

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// writeCSV writes one RFC 4180 file per section into dir, with a header
// row even when the section is empty.
func writeCSV(ctx context.Context, conn *sql.Conn, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, s := range sections {
		path := filepath.Join(dir, s.name+".csv")
		err := writeFileAtomic(path, func(w io.Writer) error {
			cw := csv.NewWriter(w)
			var rec []string
			err := scan(ctx, conn, s.query, nil, func(cols []string) error {
				rec = make([]string, len(cols))
				return cw.Write(cols)
			}, func(vals []any) error {
				for i, v := range vals {
					f, err := csvValue(v)
					if err != nil {
						return err
					}
					rec[i] = f
				}
				return cw.Write(rec)
			})
			cw.Flush()
			return errors.Join(err, cw.Error())
		})
		if err != nil {
			return files, fmt.Errorf("%s: %w", path, err)
		}
		files = append(files, path)
	}
	return files, nil
}

// writeParquet has DuckDB COPY each section into dir (DuckDB's own Parquet
// writer keeps the column types), through a temporary name renamed into
// place.
func writeParquet(ctx context.Context, conn *sql.Conn, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, s := range sections {
		path := filepath.Join(dir, s.name+".parquet")
		tmp := filepath.Join(dir, "."+s.name+".parquet.tmp")
		// COPY takes no parameter for its target, so the path is a quoted literal.
		q := fmt.Sprintf("COPY (\n%s\n) TO '%s' (FORMAT parquet)", s.query, strings.ReplaceAll(tmp, "'", "''"))
		if _, err := conn.ExecContext(ctx, q); err != nil {
			_ = os.Remove(tmp)
			return files, fmt.Errorf("%s: %w", path, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			_ = os.Remove(tmp)
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}

// writeJSON writes one document: as_of, then each section as an array of
// objects whose keys are the column names, in column order.
func writeJSON(ctx context.Context, conn *sql.Conn, w io.Writer, asOf time.Time, jsonCols map[string][]string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "{\n  \"as_of\": %q", asOf.UTC().Format(timeLayout))
	for _, s := range sections {
		fmt.Fprintf(bw, ",\n  %q: [", s.name)
		var keys [][]byte
		var isJSON []bool
		n := 0
		err := scan(ctx, conn, s.query, nil, func(cols []string) error {
			keys = make([][]byte, len(cols))
			isJSON = make([]bool, len(cols))
			for i, c := range cols {
				keys[i], _ = json.Marshal(c)
				isJSON[i] = slices.Contains(jsonCols[s.table], c)
			}
			return nil
		}, func(vals []any) error {
			if n > 0 {
				bw.WriteByte(',')
			}
			n++
			bw.WriteString("\n    {")
			for i, v := range vals {
				if i > 0 {
					bw.WriteString(", ")
				}
				b, err := json.Marshal(jsonValue(v, isJSON[i]))
				if err != nil {
					return fmt.Errorf("column %s: %w", keys[i], err)
				}
				bw.Write(keys[i])
				bw.WriteString(": ")
				bw.Write(b)
			}
			bw.WriteByte('}')
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if n > 0 {
			bw.WriteString("\n  ")
		}
		bw.WriteByte(']')
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}
