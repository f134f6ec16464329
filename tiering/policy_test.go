package tiering

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// policyUsages mixes moves down the waterfall, a stay, a move to a managed
// class and a rewritten asset, so each policy format shows every branch.
func policyUsages() []Usage {
	return []Usage{
		{AssetKey: "events/daily", Partition: "2026-01-01", SizeBytes: 100 * gib, HistoryDays: 60},
		{AssetKey: "events/daily", Partition: "2026-01-02", SizeBytes: 100 * gib, HistoryDays: 60, ReadByPipelines: true},
		{AssetKey: "marts/orders", SizeBytes: 100 * gib, HistoryDays: 90, RewritesPerMonth: 30, ReadsPerMonth: 1},
		{AssetKey: "marts/monthly", StoragePrefix: "warehouse/marts/monthly/", SizeBytes: 200 * gib, HistoryDays: 120, RewritesPerMonth: 1},
		{AssetKey: "raw/logs", SizeBytes: 50 * gib, HistoryDays: 60, ReadsPerMonth: 0.2, ReadByPipelines: true},
	}
}

func TestLifecyclePoliciesGolden(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	for _, pn := range []string{"aws", "gcp", "azure"} {
		o := DefaultOptions()
		o.Provider = pn
		us := policyUsages()
		if pn == "azure" {
			for i := range us {
				us[i].StoragePrefix = "dagster/" + policyPrefix(Recommendation{AssetKey: us[i].AssetKey, Partition: us[i].Partition})
			}
		}
		recs, err := RecommendAll(sheet, us, o)
		if err != nil {
			t.Fatal(err)
		}
		files, err := LifecyclePolicies(sheet, recs, pn)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("%s: no policy files", pn)
		}
		for name, got := range files {
			var doc map[string]any
			if err := json.Unmarshal(got, &doc); err != nil {
				t.Fatalf("%s: invalid JSON: %v", name, err)
			}
			checkPolicyShape(t, pn, name, doc)
			path := filepath.Join("testdata", "policies", pn, name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./tiering -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (-update to accept):\n%s", name, path, got)
			}
		}
	}
}

// checkPolicyShape asserts the structure each cloud's API expects, so a
// golden file accepted by eye cannot drift into a shape the API rejects.
func checkPolicyShape(t *testing.T, provider, name string, doc map[string]any) {
	t.Helper()
	list := func(v any) []any { l, _ := v.([]any); return l }
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	switch name {
	case S3LifecycleFile:
		rules := list(doc["Rules"])
		if len(rules) == 0 {
			t.Fatalf("%s: no Rules", name)
		}
		for _, r := range rules {
			r := obj(r)
			tr := obj(list(r["Transitions"])[0])
			if r["Status"] != "Enabled" || obj(r["Filter"])["Prefix"] == nil || tr["StorageClass"] == nil || tr["Days"] == nil {
				t.Errorf("%s: bad rule %v", name, r)
			}
		}
	case GCSLifecycleFile:
		for _, r := range list(obj(doc["lifecycle"])["rule"]) {
			a, c := obj(obj(r)["action"]), obj(obj(r)["condition"])
			if a["type"] != "SetStorageClass" || a["storageClass"] == nil || c["age"] == nil || len(list(c["matchesPrefix"])) != 1 {
				t.Errorf("%s: bad rule %v", name, r)
			}
		}
	case GCSAutoclassFile:
		if obj(doc["autoclass"])["enabled"] != true {
			t.Errorf("%s: %v", name, doc)
		}
	case AzurePolicyFile:
		for _, r := range list(doc["rules"]) {
			r := obj(r)
			def := obj(r["definition"])
			base := obj(obj(def["actions"])["baseBlob"])
			if r["type"] != "Lifecycle" || r["enabled"] != true || len(base) != 1 {
				t.Errorf("%s: bad rule %v", name, r)
			}
			for action, cond := range base {
				if !slices.Contains([]string{"tierToCool", "tierToCold", "tierToArchive"}, action) || obj(cond)["daysAfterLastAccessTimeGreaterThan"] == nil {
					t.Errorf("%s: bad action %s %v", name, action, cond)
				}
			}
		}
	default:
		t.Errorf("%s: unexpected policy file %s", provider, name)
	}
}

func TestLifecyclePoliciesOnlyPayingMoves(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	recs, err := RecommendAll(sheet, []Usage{
		{AssetKey: "marts/orders", SizeBytes: 100 * gib, HistoryDays: 90, RewritesPerMonth: 30, ReadsPerMonth: 1},
		{AssetKey: "events/new", SizeBytes: 100 * gib, HistoryDays: 10},
	}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	files, err := LifecyclePolicies(sheet, recs, "aws")
	if err != nil || len(files) != 0 {
		t.Errorf("stays produced policies: %v %v", files, err)
	}
}

// A daily-partitioned asset whose oldest partitions move gets one rule on
// its directory, waiting as long as its latest-paying partition; an asset
// whose moving partitions are not the oldest, or that shares its directory
// with another asset, keeps one rule per partition.
func TestLifecyclePoliciesOneRulePerPartitionedAsset(t *testing.T) {
	t.Parallel()
	sheet := mustSheet(t)
	rec := func(asset, partition, prefix, to string, idleDays float64) Recommendation {
		r := Recommendation{AssetKey: asset, Partition: partition, StoragePrefix: prefix, Provider: "aws",
			CurrentClass: "STANDARD", RecommendedClass: "STANDARD", Action: ActionStay}
		if to != "" {
			r.RecommendedClass, r.Action, r.BreakEvenIdleDays = to, ActionMove, idleDays
		}
		return r
	}
	recs := []Recommendation{
		rec("sales", "", "lake/sales", "", 0),
		rec("sales", "2026-01-01", "lake/sales/2026-01-01/data.parquet", "GLACIER_IR", 95.2),
		rec("sales", "2026-01-02", "lake/sales/2026-01-02/data.parquet", "GLACIER_IR", 97),
		rec("sales", "2026-02-20", "lake/sales/2026-02-20/data.parquet", "", 0),
		// Backfilled lately: too little history to price, no evidence against the rule.
		{AssetKey: "sales", Partition: "2026-01-03", StoragePrefix: "lake/sales/2026-01-03/data.parquet", Provider: "aws",
			CurrentClass: "STANDARD", RecommendedClass: "STANDARD", Action: ActionInsufficientHistory},
		// A recent partition moves while an older one stays: no age rule says that.
		rec("clicks", "2026-01-01", "lake/clicks/2026-01-01", "", 0),
		rec("clicks", "2026-01-02", "lake/clicks/2026-01-02", "GLACIER_IR", 40),
		rec("clicks", "2026-01-03", "lake/clicks/2026-01-03", "GLACIER_IR", 40),
		// Shares lake/shared/ with another asset.
		rec("shared_a", "2026-01-01", "lake/shared/a_2026-01-01", "GLACIER_IR", 40),
		rec("shared_a", "2026-01-02", "lake/shared/a_2026-01-02", "GLACIER_IR", 40),
		rec("shared_b", "", "lake/shared/b", "", 0),
	}
	files, err := LifecyclePolicies(sheet, recs, "aws")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Rules []struct {
			Filter      struct{ Prefix string }
			Transitions []struct{ Days int }
		}
	}
	if err := json.Unmarshal(files[S3LifecycleFile], &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range doc.Rules {
		got[r.Filter.Prefix] = r.Transitions[0].Days
	}
	want := map[string]int{
		"lake/sales/":              97,
		"lake/clicks/2026-01-02":   40,
		"lake/clicks/2026-01-03":   40,
		"lake/shared/a_2026-01-01": 40,
		"lake/shared/a_2026-01-02": 40,
	}
	if !maps.Equal(got, want) {
		t.Errorf("rules (prefix: days) %v, want %v", got, want)
	}
}
