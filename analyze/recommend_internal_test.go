package analyze

import (
	"database/sql"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	_ "github.com/marcboeker/go-duckdb"

	"github.com/matlens/matlens/tiering"
)

// TestRecReaderCostsAreMarshal: the costs column holds json.Marshal's
// bytes for each row (null for a row without costs), and a cost json
// cannot encode fails the batch instead of going in as text.
func TestRecReaderCostsAreMarshal(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := []tiering.Recommendation{
		{AssetKey: "a", Provider: "aws", CurrentClass: "STANDARD", Costs: []tiering.Breakdown{
			{Class: "STANDARD", BillableGB: 1e21, StorageUSD: 1e-7, TotalUSD: 0.0022333115339279175},
			{Class: "a<b&\"c\"", RetrievalUSD: math.Copysign(0, -1), TotalUSD: 123456789.125}}},
		{AssetKey: "b", Provider: "aws", CurrentClass: "STANDARD"},
		{AssetKey: "c", Provider: "aws", CurrentClass: "STANDARD", Costs: []tiering.Breakdown{}},
	}
	rr := &recReader{mem: mem, asOf: 1, recs: recs}
	defer rr.close()
	if !rr.Next() {
		t.Fatal(rr.Err())
	}
	col := rr.Record().Column(recSchema.FieldIndices("costs")[0]).(*array.String)
	for i := range recs {
		want, err := json.Marshal(recs[i].Costs)
		if err != nil {
			t.Fatal(err)
		}
		if got := col.Value(i); got != string(want) {
			t.Errorf("row %d: costs %s, want %s", i, got, want)
		}
	}
	bad := &recReader{mem: mem, asOf: 1, recs: []tiering.Recommendation{
		{AssetKey: "a", Costs: []tiering.Breakdown{{Class: "STANDARD", TotalUSD: math.NaN()}}}}}
	defer bad.close()
	if bad.Next() || bad.Err() == nil {
		t.Error("NaN cost written; json.Marshal refuses it")
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

// TestRecSchemaMatchesTable: recSchema has tier_recommendations' columns,
// in its order and with matching types, so a column added to the table and
// not to recColumns (or the other way round) fails here instead of going
// in empty.
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
	i := 0
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		if i >= recSchema.NumFields() {
			t.Errorf("column %s has no field in recSchema", name)
			continue
		}
		f := recSchema.Field(i)
		i++
		if name == "costs" && typ == "JSON" { // JSON text goes in as a string
			typ = "VARCHAR"
		}
		if f.Name != name || want[f.Type.ID()] != typ {
			t.Errorf("column %d is %s %s, field is %s %s", i, name, typ, f.Name, f.Type)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, f := range recSchema.Fields()[i:] {
		t.Errorf("field %s is not a column of tier_recommendations", f.Name)
	}
}
