package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest"
)

// reportDB builds a DuckDB file through the real pipeline: a fixture dump
// (40 assets, 60 days) and its bucket's S3 Inventory, `matlens objects
// load`, then `matlens run` (ingest -> analyze -> recommend).
func reportDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	dump := filepath.Join(dir, "dagster.sql")
	f, err := os.Create(dump)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.WriteDump(context.Background(), f, fixtures.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	inventory := filepath.Join(dir, "inventory")
	if _, _, err := fixtures.WriteDeploymentInventory(context.Background(), inventory, fixtures.DefaultOptions(), fixtures.InventoryOptions{}); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "m.duckdb")
	if code, _, stderr := runCLI(t, noEnv, "objects", "load", "--db", db, "--s3-inventory", inventory, "--log-level", "warn"); code != exitOK {
		t.Fatalf("matlens objects load: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, noEnv, "run", "--source", dump, "--db", db, "--log-level", "warn"); code != exitOK {
		t.Fatalf("matlens run: exit %d: %s", code, stderr)
	}
	return db
}

func callReport(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := cmdReport(context.Background(), args, &out, &errb, noEnv)
	return exitCode(err, &errb), out.String(), errb.String()
}

// reportSections are the sections and the tables they export, in order.
var reportSections = []struct{ name, table string }{
	{"recommendations", "tier_recommendations"},
	{"savings_summary", "tier_savings_summary"},
	{"asset_stats", "asset_stats"},
	{"alerts", "alerts"},
	{"capacity_plan", "capacity_plan"},
	{"asset_storage", "asset_storage"},
	{"orphaned_objects", "orphaned_objects"},
}

// tableFacts reads each section table's row count and column names
// straight from DuckDB, to hold the exports against.
func tableFacts(t *testing.T, db string) (counts map[string]int, cols map[string][]string) {
	t.Helper()
	ctx := context.Background()
	store, err := ingest.OpenStore(ctx, db, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	counts, cols = map[string]int{}, map[string][]string{}
	for _, s := range reportSections {
		var n int
		if err := store.Conn().QueryRowContext(ctx, "SELECT count(*) FROM "+s.table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[s.name] = n
		rows, err := store.Conn().QueryContext(ctx, "SELECT * FROM "+s.table+" LIMIT 0")
		if err != nil {
			t.Fatal(err)
		}
		cols[s.name], err = rows.Columns()
		rows.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return counts, cols
}

func TestReportFormats(t *testing.T) {
	db := reportDB(t)
	counts, cols := tableFacts(t, db)
	for _, s := range []string{"recommendations", "savings_summary", "asset_stats", "alerts", "capacity_plan"} {
		if counts[s] == 0 {
			t.Fatalf("the fixture pipeline left %s empty; the report tests need rows in every section", s)
		}
	}
	out := t.TempDir()
	summaryLine := regexp.MustCompile(`^report: \w+ written to .+ \(as of 2026-\d\d-\d\d \d\d:\d\d UTC; \d+ recommendations on aws, \d+ moves save \$\d+\.\d\d/month; \d+ alerts\)\n$`)
	// writeReport writes the report in format to dest. With --out, stdout is
	// for the summary line alone, so anything else there fails the test.
	writeReport := func(t *testing.T, format, dest string) {
		t.Helper()
		code, stdout, stderr := callReport(t, "--db", db, "--format", format, "--out", dest)
		if code != exitOK || !summaryLine.MatchString(stdout) {
			t.Fatalf("exit %d, stdout %q: %s", code, stdout, stderr)
		}
	}
	// readReport is writeReport for the single-file formats, returning the file.
	readReport := func(t *testing.T, format, path string) []byte {
		t.Helper()
		writeReport(t, format, path)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	t.Run("table", func(t *testing.T) {
		code, stdout, stderr := callReport(t, "--db", db)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, want := range []string{
			"matlens report", "as of ", "provider         aws",
			"== Savings summary", "== Top 20 recommendations by savings", "== Alerts",
			"== Top 20 assets by cost", "== Capacity plan", "low_success_rate", "GLACIER_IR",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("table output lacks %q", want)
			}
		}
		code, stdout, _ = callReport(t, "--db", db, "--top", "3", "--out", filepath.Join(out, "report.txt"))
		if code != exitOK || !summaryLine.MatchString(stdout) {
			t.Errorf("--out file: exit %d, stdout %q", code, stdout)
		}
		b, err := os.ReadFile(filepath.Join(out, "report.txt"))
		if err != nil || !strings.Contains(string(b), "== Top 3 recommendations") {
			t.Errorf("report.txt: %v %.200q", err, b)
		}
	})

	t.Run("json", func(t *testing.T) {
		path := filepath.Join(out, "report.json")
		b := readReport(t, "json", path)
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		var asOf time.Time
		if err := json.Unmarshal(doc["as_of"], &asOf); err != nil || asOf.Year() != 2026 {
			t.Errorf("as_of %s: %v", doc["as_of"], err)
		}
		keys := []string{"as_of"}
		for _, s := range reportSections {
			keys = append(keys, s.name)
			var rows []map[string]json.RawMessage
			if err := json.Unmarshal(doc[s.name], &rows); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if len(rows) != counts[s.name] {
				t.Errorf("%s: %d rows, the table has %d", s.name, len(rows), counts[s.name])
			}
			for _, c := range cols[s.name] {
				if _, ok := rows[0][c]; !ok {
					t.Errorf("%s: no key %q in %v", s.name, c, rows[0])
				}
			}
		}
		for k := range doc {
			if !slices.Contains(keys, k) {
				t.Errorf("unexpected top-level key %q", k)
			}
		}
		// JSON-typed columns are nested documents, not strings holding JSON.
		var recs []struct {
			Costs            json.RawMessage `json:"costs"`
			SavingsUSDMonth  float64         `json:"savings_usd_month"`
			AsOf             string          `json:"as_of"`
			RecommendedClass string          `json:"recommended_class"`
		}
		if err := json.Unmarshal(doc["recommendations"], &recs); err != nil {
			t.Fatal(err)
		}
		arrays := 0
		for _, r := range recs {
			if len(r.Costs) > 0 && r.Costs[0] == '"' {
				t.Fatalf("costs is a string holding JSON (%.80s), want the document itself", r.Costs)
			}
			if len(r.Costs) > 0 && r.Costs[0] == '[' {
				arrays++
			}
		}
		if arrays == 0 {
			t.Error("no recommendation has its costs breakdown as a JSON array")
		}
		if recs[0].SavingsUSDMonth <= 0 || !strings.HasSuffix(recs[0].AsOf, "Z") {
			t.Errorf("top recommendation %+v: want the biggest saving first and a UTC as_of", recs[0])
		}
		// The bytes-per-class MAP is a JSON object too.
		var storage []struct {
			BytesByClass map[string]int64 `json:"bytes_by_class"`
		}
		if err := json.Unmarshal(doc["asset_storage"], &storage); err != nil || len(storage) == 0 || len(storage[0].BytesByClass) == 0 {
			t.Errorf("asset_storage: %v; first row %+v, want bytes_by_class as an object of bytes per class", err, storage[:min(1, len(storage))])
		}

		code, stdout, _ := callReport(t, "--db", db, "--format", "json", "--out", "-")
		if code != exitOK || !json.Valid([]byte(stdout)) {
			t.Errorf("--out -: exit %d, valid JSON %v", code, json.Valid([]byte(stdout)))
		}
	})

	t.Run("csv", func(t *testing.T) {
		dir := filepath.Join(out, "csv")
		writeReport(t, "csv", dir)
		for _, s := range reportSections {
			f, err := os.Open(filepath.Join(dir, s.name+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil {
				t.Fatalf("%s.csv: %v", s.name, err)
			}
			if !slices.Equal(recs[0], cols[s.name]) {
				t.Errorf("%s.csv header %v, want the table's columns %v", s.name, recs[0], cols[s.name])
			}
			if len(recs)-1 != counts[s.name] {
				t.Errorf("%s.csv: %d rows, the table has %d", s.name, len(recs)-1, counts[s.name])
			}
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != len(reportSections) {
			t.Errorf("%d files in %s (temporary files left?), want %d", len(entries), dir, len(reportSections))
		}
	})

	t.Run("parquet", func(t *testing.T) {
		dir := filepath.Join(out, "parquet")
		writeReport(t, "parquet", dir)
		mem, err := sql.Open("duckdb", "")
		if err != nil {
			t.Fatal(err)
		}
		defer mem.Close()
		for _, s := range reportSections {
			path := filepath.Join(dir, s.name+".parquet")
			var n int
			if err := mem.QueryRow(fmt.Sprintf("SELECT count(*) FROM '%s'", path)).Scan(&n); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if n != counts[s.name] {
				t.Errorf("%s: %d rows, the table has %d", path, n, counts[s.name])
			}
		}
		var typ string
		q := fmt.Sprintf("SELECT typeof(as_of) FROM '%s' LIMIT 1", filepath.Join(dir, "asset_stats.parquet"))
		if err := mem.QueryRow(q).Scan(&typ); err != nil || !strings.HasPrefix(typ, "TIMESTAMP") {
			t.Errorf("asset_stats.parquet as_of is %q (%v), want a TIMESTAMP", typ, err)
		}
	})

	t.Run("html", func(t *testing.T) {
		path := filepath.Join(out, "report.html")
		b := readReport(t, "html", path)
		page := string(b)
		for _, id := range reportChartIDs {
			if !strings.Contains(page, `<figure id="`+id+`"`) {
				t.Errorf("no figure %s", id)
			}
		}
		for _, want := range []string{"<figcaption>", "Savings summary", "Top 20 recommendations", "low_success_rate", "Capacity plan", db} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		// Self-contained: nothing to fetch, from anywhere.
		remote := regexp.MustCompile(`(?i)(\b(src|href|xlink:href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import|<script|<link[^>]+stylesheet)`)
		if m := remote.FindString(page); m != "" {
			t.Errorf("the page refers to an outside resource: %q", m)
		}
		checkInChromium(t, path)
	})
}

var reportChartIDs = []string{"chart-cost-by-class", "chart-top-savings", "chart-exec-time", "chart-size-growth"}

// chromium finds Debian's chromium. CI installs it (.ci/run), so there a
// missing browser fails the test; elsewhere the test says what it skipped.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; .ci/run installs Debian's chromium package")
	}
	t.Skip("chromium not installed (apt-get install chromium): the HTML report was not rendered in a browser")
	return ""
}

// checkInChromium opens the page in headless Chromium with no network and
// checks: no console error, exception or failed load; no request other than
// the file itself; the four charts drawn (an <svg> with shapes, a
// figcaption, a real size); and a screenshot that is not blank and shows
// the cost chart's two bar colours.
func checkInChromium(t *testing.T, page string) {
	exe := chromium(t)
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1600),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	var problems, requests []string
	// Listen starts the browser; events arrive from the navigation on.
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value))
				}
				problems = append(problems, "console."+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+(&chromedp.ExceptionError{ExceptionDetails: e.ExceptionDetails}).Error())
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				problems = append(problems, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		case *network.EventLoadingFailed:
			problems = append(problems, "loading failed: "+e.ErrorText)
		}
	})
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}

	const drawn = `(() => {
		const out = {};
		for (const id of %s) {
			const f = document.getElementById(id);
			const svg = f && f.querySelector("svg");
			if (!f || f.tagName !== "FIGURE" || !svg || !f.querySelector("figcaption")) { out[id] = -1; continue; }
			const r = svg.getBoundingClientRect();
			if (r.width < 200 || r.height < 150) { out[id] = -2; continue; }
			out[id] = svg.querySelectorAll("path, rect, line, polyline, polygon, circle").length;
		}
		return out;
	})()`
	ids, _ := json.Marshal(reportChartIDs)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitReady(chromedp.CSS("#chart-size-growth svg"))); err != nil {
		t.Fatalf("chromium: open %s: %v", page, err)
	}
	shapes, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]int](fmt.Sprintf(drawn, ids)))
	if err != nil {
		t.Fatalf("chromium: evaluate: %v", err)
	}
	full, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	costChart, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#chart-cost-by-class")))
	if err != nil {
		t.Fatalf("chromium: screenshot of the cost chart: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
	for _, u := range requests {
		if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s", u)
		}
	}
	for _, id := range reportChartIDs {
		// An axis alone is a few paths; a chart with data has dozens.
		if n := shapes[id]; n < 20 {
			t.Errorf("chart %s: %d SVG shapes (negative: missing or not laid out), want a drawn chart", id, n)
		}
	}

	shot := filepath.Join(t.TempDir(), "report.png")
	if err := os.WriteFile(shot, full, 0o644); err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("MATLENS_TEST_SCREENSHOT"); p != "" {
		_ = os.WriteFile(p, full, 0o644)
	}
	img, err := png.Decode(bytes.NewReader(full))
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 1500 {
		t.Errorf("screenshot %s is %v, want the whole page", shot, b)
	}
	if n := distinctColours(img); n < 64 {
		t.Errorf("screenshot %s has %d distinct colours: a blank or broken page", shot, n)
	}
	cost, err := png.Decode(bytes.NewReader(costChart))
	if err != nil {
		t.Fatalf("cost chart screenshot: %v", err)
	}
	// The bars "now" and "after the moves" in their palette colours.
	for name, want := range map[string]color.RGBA{"now": {0x4E, 0x79, 0xA7, 0xFF}, "after": {0x59, 0xA1, 0x4F, 0xFF}} {
		if n := countNear(cost, want); n < 200 {
			t.Errorf("cost chart: %d pixels of the %q bar colour, want bars drawn (screenshot %s)", n, name, shot)
		}
	}
}

func distinctColours(img image.Image) int {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			seen[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)] = true
		}
	}
	return len(seen)
}

func countNear(img image.Image, want color.RGBA) int {
	near := func(a, b uint8) bool { return a+6 >= b && b+6 >= a }
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if near(c.R, want.R) && near(c.G, want.G) && near(c.B, want.B) {
				n++
			}
		}
	}
	return n
}

func TestReportErrorsNameTheProblem(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.duckdb")
	store, err := ingest.OpenStore(context.Background(), empty, 0)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	missing := filepath.Join(dir, "missing.duckdb")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--db", empty, "--format", "pdf", "--out", "x"}, exitUsage, "--format"},
		{[]string{"--db", empty, "--format", "html"}, exitUsage, "--out is required"},
		{[]string{"--db", empty, "--format", "csv", "--out", "-"}, exitUsage, "--out"},
		{[]string{"--db", empty, "--top", "0"}, exitUsage, "--top"},
		{[]string{"--format", "table"}, exitUsage, "--db is required"},
		{[]string{"--db", missing}, exitFailure, "no such file"},
		{[]string{"--db", empty}, exitFailure, "run `matlens analyze` and `matlens recommend` (or `matlens run`) first"},
		{[]string{"--db", empty, "--format", "html", "--out", filepath.Join(dir, "r.html")}, exitFailure, "nothing to report"},
	} {
		code, _, stderr := callReport(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("report %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(c.args, " "), code, stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("report created %s", missing)
	}
	if _, err := os.Stat(filepath.Join(dir, "r.html")); err == nil {
		t.Error("a failed report left r.html behind")
	}
}
