package analyze

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	_ "github.com/marcboeker/go-duckdb"

	"github.com/matlens/matlens/tiering"
)

// TestAppendCostsJSONMatchesMarshal: the hand-written encoder gives
// json.Marshal's bytes for every field of tiering.Breakdown (a field added
// there and not here fails), for the floats json writes in exponent form,
// and for class names that need escaping.
func TestAppendCostsJSONMatchesMarshal(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 1))
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99e-7, 1e-7, 1.5e-300, 1e20, 1e21, 1.2e21, -3e-9,
		0.0022333115339279175, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64}
	classes := []string{"STANDARD", "GLACIER_IR", "cool", "a<b", `q"uote`, "back\\slash", "tab\t", "é", "x&y", "\u2028"}
	bt := reflect.TypeFor[tiering.Breakdown]()
	for i := range 2000 {
		costs := make([]tiering.Breakdown, rng.IntN(9))
		for j := range costs {
			v := reflect.ValueOf(&costs[j]).Elem()
			for k := range bt.NumField() {
				switch f := v.Field(k); f.Kind() {
				case reflect.Float64:
					if rng.IntN(2) == 0 {
						f.SetFloat(floats[rng.IntN(len(floats))])
					} else {
						f.SetFloat(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20)))
					}
				case reflect.String:
					f.SetString(classes[rng.IntN(len(classes))])
				default:
					t.Fatalf("Breakdown.%s is a %s: teach appendCostsJSON about it", bt.Field(k).Name, f.Kind())
				}
			}
		}
		if i == 0 {
			costs = nil
		}
		want, err := json.Marshal(costs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendCostsJSON([]byte("prefix"), costs)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("costs %d:\ngot  %s\nwant prefix%s", i, got, want)
		}
	}
	empty, err := appendCostsJSON(nil, []tiering.Breakdown{})
	if err != nil || string(empty) != "[]" {
		t.Errorf("empty costs: %q, %v; want []", empty, err)
	}
	if _, err := appendCostsJSON(nil, []tiering.Breakdown{{Class: "STANDARD", TotalUSD: math.NaN()}}); err == nil {
		t.Error("NaN encoded; json.Marshal refuses it")
	}
}

// TestRecReaderReleasesEveryBatch: the reader hands out several batches
// with every row once, and leaves nothing allocated after close.
func TestRecReaderReleasesEveryBatch(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := make([]tiering.Recommendation, 2*recBatchRows+7)
	for i := range recs {
		recs[i] = tiering.Recommendation{AssetKey: "a", Provider: "aws", CurrentClass: "STANDARD", Reason: "r",
			Costs: []tiering.Breakdown{{Class: "STANDARD", TotalUSD: float64(i)}}}
		if i%2 == 0 {
			recs[i].Partition = "p"
		}
	}
	rr := &recReader{mem: mem, asOf: 1, recs: recs}
	defer rr.close()
	rows, batches := 0, 0
	for rr.Next() {
		rec := rr.Record()
		if rec.NumCols() != int64(recSchema.NumFields()) {
			t.Fatalf("%d columns, want %d", rec.NumCols(), recSchema.NumFields())
		}
		rows += int(rec.NumRows())
		batches++
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != len(recs) || batches != 3 {
		t.Errorf("%d rows in %d batches, want %d in 3", rows, batches, len(recs))
	}
}

// TestRecSchemaMatchesTable: every column of tier_recommendations has a
// field of the same name and a matching type in recSchema, and every
// string and DOUBLE field has exactly one getter in recStrings or
// recFloats, so a column added to the table or the schema fails here
// instead of going in empty.
func TestRecSchemaMatchesTable(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "schema.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(tieringSchemaSQL); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT column_name, data_type FROM duckdb_columns()
		WHERE table_name = 'tier_recommendations' ORDER BY column_index`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[arrow.Type]string{arrow.STRING: "VARCHAR", arrow.FLOAT64: "DOUBLE", arrow.TIMESTAMP: "TIMESTAMP"}
	seen := map[string]bool{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		seen[name] = true
		i := recSchema.FieldIndices(name)
		if len(i) != 1 {
			t.Errorf("column %s has no field in recSchema", name)
			continue
		}
		f := recSchema.Field(i[0])
		if name == "costs" && typ == "JSON" { // JSON text goes in as a string
			typ = "VARCHAR"
		}
		if want[f.Type.ID()] != typ {
			t.Errorf("column %s is %s, field is %s", name, typ, f.Type)
		}
		_, isString := recStrings[i[0]]
		_, isFloat := recFloats[i[0]]
		switch {
		case name == "as_of" || name == "costs":
		case f.Type.ID() == arrow.STRING && !(isString && !isFloat):
			t.Errorf("string column %s (field %d) needs one getter in recStrings", name, i[0])
		case f.Type.ID() == arrow.FLOAT64 && !(isFloat && !isString):
			t.Errorf("DOUBLE column %s (field %d) needs one getter in recFloats", name, i[0])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, f := range recSchema.Fields() {
		if !seen[f.Name] {
			t.Errorf("field %s is not a column of tier_recommendations", f.Name)
		}
	}
}
