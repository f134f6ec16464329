package tiering

import (
	"math"
	"strings"
	"testing"
)

// gib is the billing GB of all three providers on the shipped sheet.
const gib = 1 << 30

func mustSheet(tb testing.TB) *PriceSheet {
	tb.Helper()
	s, err := DefaultPriceSheet()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// cents compares money to the cent.
func cents(a, b float64) bool { return math.Abs(a-b) < 0.005 }

// TestRecommendCases are the cases. Every dollar figure in the
// comments is worked out by hand from the shipped price sheet (GB = 2^30
// bytes) and the model in docs/tiering.md; the test checks the code
// reproduces them to the cent.
func TestRecommendCases(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	type class struct {
		name  string
		total float64
	}
	tests := []struct {
		name       string
		provider   string
		payback    float64 // 0 = default 12
		u          Usage
		wantClass  string
		wantAction string
		wantNow    float64
		wantRec    float64
		wantSaving float64
		others     []class // other classes' monthly totals
		reasonHas  string
	}{
		{
			// 100 GB partition, written once, never read, nobody loads it.
			// STANDARD: 100 x 0.023 = 2.30.
			// DEEP_ARCHIVE: (100 GB + 32 KiB) x 0.00099 = 0.0990000302
			//   + 8 KiB x 0.023 = 0.0000001755  -> 0.0990002 = $0.10.
			// GLACIER: (100 GB + 32 KiB) x 0.0036 + 8 KiB x 0.023 = $0.36.
			// GLACIER_IR: 100 x 0.004 = 0.40. ONEZONE_IA 1.00, STANDARD_IA 1.25.
			// INTELLIGENT_TIERING, never touched -> Archive Instant tier:
			//   100 x 0.004 + 1 object x 0.0025/1000 = 0.4000025.
			// Savings 2.30 - 0.099 = 2.20. Move cost: transition 0.05/1000 =
			// 0.00005; margin: one read 100 x 0.02 + (0.0004 + 0.1)/1000 =
			// 2.0001004; payback 2.00015 / 2.201 = 0.91 months < 12.
			name: "aws written once never read goes to deep archive", provider: "aws",
			u:         Usage{AssetKey: "events/daily", Partition: "2026-01-01", SizeBytes: 100 * gib, HistoryDays: 60},
			wantClass: "DEEP_ARCHIVE", wantAction: ActionMove, wantNow: 2.30, wantRec: 0.10, wantSaving: 2.20,
			others: []class{{"GLACIER", 0.36}, {"GLACIER_IR", 0.40}, {"INTELLIGENT_TIERING", 0.40}, {"STANDARD_IA", 1.25}},
		},
		{
			// Same partition, but a pipeline loads it: GLACIER and
			// DEEP_ARCHIVE need hours of restore and are out. GLACIER_IR
			// 0.40 beats INTELLIGENT_TIERING 0.4000025 by the monitoring fee.
			// Savings 2.30 - 0.40 = 1.90; margin 100 x 0.03 + 0.01/1000 = 3.00001,
			// transition 0.02/1000; payback 3.00003 / 1.90 = 1.58 months.
			name: "aws read by pipelines avoids restore classes", provider: "aws",
			u:         Usage{AssetKey: "events/daily", Partition: "2026-01-01", SizeBytes: 100 * gib, HistoryDays: 60, ReadByPipelines: true},
			wantClass: "GLACIER_IR", wantAction: ActionMove, wantNow: 2.30, wantRec: 0.40, wantSaving: 1.90,
		},
		{
			// 100 GB overwritten daily (w = 1/30 month), read once a month.
			// STANDARD: 2.30 + 30 PUTs x 0.005/1000 + 1 GET x 0.0004/1000
			//   = 2.3001504.
			// STANDARD_IA: storage 1.25 x max(1, 1/(1/30)) = 1.25 x 30 = 37.50
			//   (each daily version is billed 30 days) + retrieval 100 x 0.01
			//   = 1.00 + GET 0.000001 + PUTs 30 x 0.01/1000 = 0.0003
			//   + transitions 30 x 0.01/1000 = 0.0003 -> 38.500601 = $38.50.
			// GLACIER_IR: 0.40 x 90 = 36.00 + 3.00 retrieval + ... = $39.00.
			// INTELLIGENT_TIERING: touched daily -> Frequent 2.30 + fee
			//   0.0000025 + PUTs 0.00015 + transitions 0.0003 = $2.30, but
			//   0.0003 more than STANDARD: stays.
			name: "aws overwritten daily read monthly stays standard", provider: "aws",
			u:         Usage{AssetKey: "marts/orders", SizeBytes: 100 * gib, HistoryDays: 90, RewritesPerMonth: 30, ReadsPerMonth: 1},
			wantClass: "STANDARD", wantAction: ActionStay, wantNow: 2.30, wantRec: 2.30,
			others: []class{{"STANDARD_IA", 38.50}, {"GLACIER_IR", 39.00}, {"INTELLIGENT_TIERING", 2.30}},
		},
		{
			// 50 GB, written once, read three times a month.
			// STANDARD: 50 x 0.023 = 1.15 (+ 3 GETs 0.0000012).
			// STANDARD_IA: 0.625 + retrieval 3 x 50 x 0.01 = 1.50 -> 2.125.
			// ONEZONE_IA: 0.50 + 1.50 = 2.00. GLACIER_IR: 0.20 + 4.50 = 4.70.
			// INTELLIGENT_TIERING: read every 10 days, never leaves Frequent:
			//   1.15 + fee. Retrieval fees keep it in Standard.
			name: "aws read three times a month stays standard", provider: "aws",
			u:         Usage{AssetKey: "marts/customers", SizeBytes: 50 * gib, HistoryDays: 90, ReadsPerMonth: 3},
			wantClass: "STANDARD", wantAction: ActionStay, wantNow: 1.15, wantRec: 1.15,
			others: []class{{"STANDARD_IA", 2.125}, {"ONEZONE_IA", 2.00}, {"GLACIER_IR", 4.70}},
		},
		{
			// 10,000 objects of 100 KiB (0.95 GB): STANDARD 0.9537 x 0.023 =
			// $0.02. STANDARD_IA would bill 128 KiB each: 1.2207 x 0.0125 =
			// $0.02 as well, but no lifecycle rule moves objects under
			// 128 KiB, so every colder class is out.
			name: "aws objects under 128 KiB are not moved", provider: "aws",
			u:         Usage{AssetKey: "raw/small", SizeBytes: 10000 * 100 * 1024, Objects: 10000, HistoryDays: 90},
			wantClass: "STANDARD", wantAction: ActionStay, wantNow: 0.02, wantRec: 0.02,
			others:    []class{{"STANDARD_IA", 0.02}},
			reasonHas: "under the 128 KiB",
		},
		{
			// 10 days observed, 30 needed: no move, savings 0.
			name: "aws insufficient history", provider: "aws",
			u:         Usage{AssetKey: "events/new", SizeBytes: 100 * gib, HistoryDays: 10},
			wantClass: "STANDARD", wantAction: ActionInsufficientHistory, wantNow: 2.30, wantRec: 2.30,
			reasonHas: "insufficient history: 10 days observed, need 30",
		},
		{
			// 10,000 objects of 200 KiB (1.9073 GB), never read. Per-object
			// charges now matter.
			// STANDARD: 1.9073 x 0.023 = 0.04387.
			// GLACIER_IR: 1.9073 x 0.004 = 0.00763; savings 0.03624;
			//   transition 10 x 0.02 = 0.20; margin 1.9073 x 0.03 + 10 x 0.01
			//   = 0.15722; payback 0.35722 / 0.03624 = 9.9 months.
			// ONEZONE_IA: 0.01907; savings 0.02480; transition 0.10, margin
			//   0.01907 + 0.01 -> payback 5.2 months.
			// DEEP_ARCHIVE: (1.9073 + 0.3052 overhead) x 0.00099 + 0.0763 x 0.023
			//   = 0.00395; savings 0.0399; transition 0.50 + margin 1.04 ->
			//   38 months: does not pay back.
			// With a 12-month horizon the cheapest class that pays back is
			// GLACIER_IR: savings 0.04387 - 0.00763 = $0.04.
			name: "aws per-object charges: cheapest class that pays back", provider: "aws",
			u:         Usage{AssetKey: "raw/medium", SizeBytes: 10000 * 200 * 1024, Objects: 10000, HistoryDays: 90},
			wantClass: "GLACIER_IR", wantAction: ActionMove, wantNow: 0.04, wantRec: 0.01, wantSaving: 0.04,
			others: []class{{"DEEP_ARCHIVE", 0.00}},
		},
		{
			// Same objects with a 3-month horizon: GLACIER_IR (9.9),
			// ONEZONE_IA (5.2), STANDARD_IA (0.1 + 0.029 over 0.02003 = 6.4),
			// INTELLIGENT_TIERING (0.1 + 0.004 over 0.01124 = 9.3) all take
			// longer: stay.
			name: "aws per-object charges: nothing pays back in 3 months", provider: "aws", payback: 3,
			u:         Usage{AssetKey: "raw/medium", SizeBytes: 10000 * 200 * 1024, Objects: 10000, HistoryDays: 90},
			wantClass: "STANDARD", wantAction: ActionStay, wantNow: 0.04, wantRec: 0.04,
			reasonHas: "moving costs",
		},
		{
			// GCS 200 GiB partition written once, loaded by a pipeline.
			// Archive is online in GCS (no restore), so it is allowed.
			// STANDARD 200 x 0.02 = 4.00; ARCHIVE 200 x 0.0012 = 0.24;
			// COLDLINE 0.80; NEARLINE 2.00; AUTOCLASS (terminal Nearline)
			// 2.00 + 0.0025/1000. Savings 3.76; margin 200 x 0.05 = 10.00
			// (+ 0.05/1000), payback 10.0001 / 3.76 = 2.66 months.
			name: "gcp written once goes to archive", provider: "gcp",
			u:         Usage{AssetKey: "events/hourly", Partition: "2026-01-01-00:00", SizeBytes: 200 * gib, HistoryDays: 45, ReadByPipelines: true},
			wantClass: "ARCHIVE", wantAction: ActionMove, wantNow: 4.00, wantRec: 0.24, wantSaving: 3.76,
			others: []class{{"COLDLINE", 0.80}, {"NEARLINE", 2.00}, {"AUTOCLASS", 2.00}},
		},
		{
			// GCS 200 GiB rewritten monthly (w = 1), never read.
			// STANDARD: 4.00 + 1 PUT 0.000005 = 4.000005.
			// NEARLINE: 2.00 (30 d minimum = w, no penalty) + PUT 0.00001
			//   + transition 0.00001 = 2.00002.
			// COLDLINE: 0.80 x max(1, 3/1) = 2.40 + 0.00004 = 2.40004.
			// ARCHIVE: 0.24 x 365/30 = 2.92 + 0.0001 = 2.9201.
			// The minimums make the colder classes dearer than NEARLINE.
			// Savings 4.000005 - 2.00002 = $2.00.
			name: "gcp monthly rewrite stops at nearline", provider: "gcp",
			u:         Usage{AssetKey: "marts/monthly", SizeBytes: 200 * gib, HistoryDays: 120, RewritesPerMonth: 1},
			wantClass: "NEARLINE", wantAction: ActionMove, wantNow: 4.00, wantRec: 2.00, wantSaving: 2.00,
			others: []class{{"COLDLINE", 2.40}, {"ARCHIVE", 2.92}},
		},
		{
			// GCS 100 GiB read twice a month: STANDARD 2.00; NEARLINE 1.00
			// + retrieval 2 x 100 x 0.01 = 3.00; COLDLINE 0.40 + 4.00 = 4.40.
			name: "gcp read twice a month stays standard", provider: "gcp",
			u:         Usage{AssetKey: "marts/weekly", SizeBytes: 100 * gib, HistoryDays: 120, ReadsPerMonth: 2},
			wantClass: "STANDARD", wantAction: ActionStay, wantNow: 2.00, wantRec: 2.00,
			others: []class{{"NEARLINE", 3.00}, {"COLDLINE", 4.40}},
		},
		{
			// Azure 100 GB written once, never read, nobody loads it.
			// Hot 100 x 0.018 = 1.80; Archive 100 x 0.002 = 0.20; Cold 0.36;
			// Cool 1.00. Savings 1.60; margin 100 x 0.022 + 0.55/1000 =
			// 2.20055, transition 0.01/1000; payback 1.38 months.
			name: "azure written once goes to archive", provider: "azure",
			u:         Usage{AssetKey: "raw/logs", Partition: "2026-01", SizeBytes: 100 * gib, HistoryDays: 60},
			wantClass: "Archive", wantAction: ActionMove, wantNow: 1.80, wantRec: 0.20, wantSaving: 1.60,
			others: []class{{"Cold", 0.36}, {"Cool", 1.00}},
		},
		{
			// Loaded by a pipeline: Archive rehydration takes up to 15 h, so
			// Cold: savings 1.80 - 0.36 = 1.44.
			name: "azure read by pipelines goes to cold", provider: "azure",
			u:         Usage{AssetKey: "raw/logs", Partition: "2026-01", SizeBytes: 100 * gib, HistoryDays: 60, ReadByPipelines: true},
			wantClass: "Cold", wantAction: ActionMove, wantNow: 1.80, wantRec: 0.36, wantSaving: 1.44,
		},
		{
			// Azure 100 GB read once a month: Hot 1.80; Cool 1.00 + retrieval
			// 100 x 0.01 = 2.00; Cold 0.36 + 3.00 = 3.36; stays Hot.
			name: "azure read monthly stays hot", provider: "azure",
			u:         Usage{AssetKey: "marts/finance", SizeBytes: 100 * gib, HistoryDays: 60, ReadsPerMonth: 1},
			wantClass: "Hot", wantAction: ActionStay, wantNow: 1.80, wantRec: 1.80,
			others:    []class{{"Cool", 2.00}, {"Cold", 3.36}},
			reasonHas: "retrieval fees",
		},
		{
			// Azure, overwritten daily, never read: Cool would bill each
			// daily version 30 days: 1.00 x 30 = 30.00. Stays Hot at 1.80
			// (+ 30 writes x 0.005/1000).
			name: "azure overwritten daily stays hot", provider: "azure",
			u:         Usage{AssetKey: "marts/daily", SizeBytes: 100 * gib, HistoryDays: 60, RewritesPerMonth: 30},
			wantClass: "Hot", wantAction: ActionStay, wantNow: 1.80, wantRec: 1.80,
			others:    []class{{"Cool", 30.00}, {"Cold", 32.40}},
			reasonHas: "minimum-duration",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := DefaultOptions()
			o.Provider = tt.provider
			if tt.payback > 0 {
				o.PaybackMonths = tt.payback
			}
			r, err := Recommend(sheet, tt.u, o)
			if err != nil {
				t.Fatal(err)
			}
			if r.RecommendedClass != tt.wantClass || r.Action != tt.wantAction {
				t.Fatalf("got %s (%s), want %s (%s); reason: %s", r.RecommendedClass, r.Action, tt.wantClass, tt.wantAction, r.Reason)
			}
			if !cents(r.CostNowUSDMonth, tt.wantNow) || !cents(r.CostRecommendedUSDMonth, tt.wantRec) || !cents(r.SavingsUSDMonth, tt.wantSaving) {
				t.Errorf("now %.4f rec %.4f savings %.4f, want %.2f %.2f %.2f", r.CostNowUSDMonth, r.CostRecommendedUSDMonth, r.SavingsUSDMonth, tt.wantNow, tt.wantRec, tt.wantSaving)
			}
			if !cents(r.SavingsUSDYear, 12*r.SavingsUSDMonth) {
				t.Errorf("savings/year %.4f != 12 x %.4f", r.SavingsUSDYear, r.SavingsUSDMonth)
			}
			for _, c := range tt.others {
				var got *Breakdown
				for i := range r.Costs {
					if r.Costs[i].Class == c.name {
						got = &r.Costs[i]
					}
				}
				if got == nil || !cents(got.TotalUSD, c.total) {
					t.Errorf("%s cost = %+v, want %.2f", c.name, got, c.total)
				}
			}
			if !strings.Contains(r.Reason, tt.reasonHas) {
				t.Errorf("reason %q does not mention %q", r.Reason, tt.reasonHas)
			}
		})
	}
}

// TestRecommendBreakEven checks the break-even figures against the closed
// forms of reference §D.3, which they must reduce to for one large object
// written once (requests are then negligible).
func TestRecommendBreakEven(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	tests := []struct {
		provider, class string
		readByPipelines bool
		// f* = (s_hot - s_c) / r_c reads per month; T* = 30 / f* days.
		wantReads float64
	}{
		// (0.023 - 0.004) / 0.03 = 0.6333: §D.3 "0.63, ≈ 48 d".
		{"aws", "GLACIER_IR", true, 0.6333},
		// (0.023 - 0.00099) / 0.02 = 1.1005: §D.3 "1.10, ≈ 28 d".
		{"aws", "DEEP_ARCHIVE", false, 1.1005},
		// (0.02 - 0.0012) / 0.05 = 0.376: §D.3 "0.38, ≈ 81 d".
		{"gcp", "ARCHIVE", true, 0.376},
		// (0.018 - 0.0036) / 0.03 = 0.48: §D.3 "0.48, ≈ 63 d".
		{"azure", "Cold", true, 0.48},
	}
	for _, tt := range tests {
		o := DefaultOptions()
		o.Provider = tt.provider
		r, err := Recommend(sheet, Usage{AssetKey: "a", SizeBytes: 1000 * gib, HistoryDays: 60, ReadByPipelines: tt.readByPipelines}, o)
		if err != nil {
			t.Fatal(err)
		}
		if r.BreakEvenClass != tt.class || math.Abs(r.BreakEvenReadsPerMonth-tt.wantReads) > 0.001 {
			t.Errorf("%s: break-even %s at %.4f reads/month, want %s at %.4f", tt.provider, r.BreakEvenClass, r.BreakEvenReadsPerMonth, tt.class, tt.wantReads)
		}
		if want := 30 / tt.wantReads; math.Abs(r.BreakEvenIdleDays-want) > 0.1 {
			t.Errorf("%s: idle days %.2f, want %.2f", tt.provider, r.BreakEvenIdleDays, want)
		}
	}
}

func TestRecommendCurrentClassResolution(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	o := DefaultOptions()
	o.CurrentClass = "standard_ia"
	o.CurrentClassByPrefix = map[string]string{"raw/": "onezone_ia", "raw/archive/": "GLACIER"}
	for _, tt := range []struct {
		u    Usage
		want string
	}{
		{Usage{AssetKey: "marts/x"}, "STANDARD_IA"},
		{Usage{AssetKey: "raw/x"}, "ONEZONE_IA"},
		{Usage{AssetKey: "raw/archive/x"}, "GLACIER"},
		{Usage{AssetKey: "raw/archive/x", CurrentClass: "standard"}, "STANDARD"},
	} {
		tt.u.SizeBytes, tt.u.HistoryDays = gib, 60
		r, err := Recommend(sheet, tt.u, o)
		if err != nil {
			t.Fatal(err)
		}
		if r.CurrentClass != tt.want {
			t.Errorf("%+v: current %s, want %s", tt.u, r.CurrentClass, tt.want)
		}
	}
}

func TestRecommendGuideLabel(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	o := DefaultOptions()
	for _, tt := range []struct {
		reads      float64
		cat, guide string
	}{
		{31, "hot", "STANDARD"}, // 1.03/day
		{30, "warm", "STANDARD_IA"},
		{3.01, "warm", "STANDARD_IA"},
		{3, "cold", "GLACIER"},
		{0, "cold", "GLACIER"},
	} {
		r, err := Recommend(sheet, Usage{AssetKey: "a", SizeBytes: gib, HistoryDays: 60, ReadsPerMonth: tt.reads}, o)
		if err != nil {
			t.Fatal(err)
		}
		if r.AccessCategory != tt.cat || r.GuideTier != tt.guide {
			t.Errorf("%v reads/month: %s %s, want %s %s", tt.reads, r.AccessCategory, r.GuideTier, tt.cat, tt.guide)
		}
	}
}

func TestRecommendSizeUnknown(t *testing.T) {
	t.Parallel()
	r, err := Recommend(mustSheet(t), Usage{AssetKey: "a", HistoryDays: 60}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r.Action != ActionSizeUnknown || r.RecommendedClass != "STANDARD" || r.SavingsUSDMonth != 0 {
		t.Errorf("got %+v", r)
	}
}

// An asset measured in the object store with nothing current at its
// location is known to hold nothing: it stays, free, and says why, rather
// than asking for size metadata it does not need.
func TestRecommendMeasuredEmptyStays(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	r, err := Recommend(sheet, Usage{AssetKey: "a", HistoryDays: 60, SizeSource: SizeFromObjectStore}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r.Action != ActionStay || r.CostNowUSDMonth != 0 || r.SizeSource != SizeFromObjectStore ||
		!strings.Contains(r.Reason, "no current objects") {
		t.Errorf("got %+v", r)
	}
	r, err = Recommend(sheet, Usage{AssetKey: "a", HistoryDays: 60, SizeSource: "metadata"}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r.Action != ActionSizeUnknown {
		t.Errorf("a zero metadata size: action %q, want %q", r.Action, ActionSizeUnknown)
	}
}

func TestRecommendErrors(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	bad := func(mut func(*Options), u Usage, want string) {
		t.Helper()
		o := DefaultOptions()
		mut(&o)
		_, err := Recommend(sheet, u, o)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
			return
		}
		// Each layer wraps once: no prefix appears twice.
		if msg := err.Error(); strings.Count(msg, "recommend") != 1 {
			t.Errorf("prefix repeated: %q", msg)
		}
	}
	ok := Usage{AssetKey: "a", SizeBytes: gib, HistoryDays: 60}
	bad(func(o *Options) { o.Provider = "oracle" }, ok, `unknown provider "oracle"`)
	bad(func(o *Options) { o.Region = "eu-west-1" }, ok, "us-east-1 only")
	bad(func(o *Options) { o.PaybackMonths = 0 }, ok, "payback months")
	bad(func(o *Options) { o.CurrentClassByPrefix = map[string]string{"x/": "TAPE"} }, ok, `unknown class "TAPE"`)
	bad(func(o *Options) {}, Usage{AssetKey: "a", SizeBytes: -1}, "size_bytes")
	bad(func(o *Options) {}, Usage{AssetKey: "a", SizeBytes: 1, ReadsPerMonth: math.NaN()}, "reads_per_month")
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	us := []Usage{
		{AssetKey: "events/daily", SizeBytes: 200 * gib, HistoryDays: 60},
		{AssetKey: "events/daily", Partition: "p1", SizeBytes: 100 * gib, HistoryDays: 60},
		{AssetKey: "events/daily", Partition: "p2", SizeBytes: 100 * gib, HistoryDays: 60},
		{AssetKey: "marts/orders", SizeBytes: 100 * gib, HistoryDays: 90, RewritesPerMonth: 30, ReadsPerMonth: 1},
	}
	recs, err := RecommendAll(sheet, us, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	rows := Summarize(recs)
	// Total: partitions 2 x 2.30 + orders 2.30 = 6.90 now; after
	// 2 x 0.099 + 2.30 = 2.50; savings 2 x 2.201 = 4.40. The asset row of
	// events/daily is left out: its partitions price the same bytes.
	if len(rows) != 3 {
		t.Fatalf("rows = %+v", rows)
	}
	total := rows[0]
	if total.CurrentClass != AllClasses || total.Assets != 2 || total.Rows != 3 ||
		!cents(total.CostNowUSDMonth, 6.90) || !cents(total.CostAfterUSDMonth, 2.50) || !cents(total.SavingsUSDMonth, 4.40) {
		t.Errorf("total = %+v", total)
	}
	if r := rows[1]; r.RecommendedClass != "DEEP_ARCHIVE" || r.Rows != 2 || !cents(r.SizeGB, 200) {
		t.Errorf("row 1 = %+v", r)
	}
}

// TestWorkedExample checks every figure of the worked example in
// docs/tiering.md.
func TestWorkedExample(t *testing.T) {
	t.Parallel()
	u := Usage{AssetKey: "events/daily", Partition: "2026-01-01", SizeBytes: 100 * gib, HistoryDays: 60, ReadByPipelines: true}
	r, err := Recommend(mustSheet(t), u, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.7f, want %.7f", name, got, want)
		}
	}
	if r.RecommendedClass != "GLACIER_IR" || r.GuideTier != "GLACIER" || r.AccessCategory != "cold" {
		t.Fatalf("got %+v", r)
	}
	near("savings/month", r.SavingsUSDMonth, 1.90, 1e-9)
	near("savings/year", r.SavingsUSDYear, 22.80, 1e-9)
	near("transition", r.TransitionCostUSD, 0.00002, 1e-12)
	near("margin", r.RetrievalMarginUSD, 3.00001, 1e-9)
	near("payback", r.PaybackMonths, 3.00003/1.90, 1e-9)
	near("break-even reads", r.BreakEvenReadsPerMonth, 1.90/(3.00001-0.0000004), 1e-6)
	near("idle days", r.BreakEvenIdleDays, 30/(1.90/(3.00001-0.0000004)), 1e-4)
	near("guide claim", r.GuideClaimedSavingsUSDMonth, 1.94, 1e-9)
	want := map[string]float64{
		"STANDARD": 2.30, "STANDARD_IA": 1.25, "INTELLIGENT_TIERING": 0.4000025, "ONEZONE_IA": 1.00,
		"GLACIER_IR": 0.40, "GLACIER": 0.36 + 0.0036*32768/gib + 0.023*8192/gib,
		"DEEP_ARCHIVE": 0.099 + 0.00099*32768/gib + 0.023*8192/gib,
	}
	for _, b := range r.Costs {
		near(b.Class, b.TotalUSD, want[b.Class], 1e-9)
	}
}
