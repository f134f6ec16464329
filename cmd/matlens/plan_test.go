package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// callPlan calls the plan command directly (run.go's switch is wired by
// the lead).
func callPlan(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := cmdPlan(context.Background(), args, &out, &errb, func(string) string { return "" })
	return exitCode(err, &errb), out.String(), errb.String()
}

// keysOf flattens a decoded JSON object into dotted key paths.
func keysOf(prefix string, v any, out *[]string) {
	m, ok := v.(map[string]any)
	if !ok {
		*out = append(*out, prefix)
		return
	}
	for k, x := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		keysOf(p, x, out)
	}
}

func jsonKeys(t *testing.T, s string) (map[string]any, []string) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	var keys []string
	keysOf("", v, &keys)
	slices.Sort(keys)
	return v, keys
}

// planJSON runs a plan subcommand that must succeed and decodes its JSON
// output, returning it with its sorted dotted keys.
func planJSON(t *testing.T, args ...string) (map[string]any, []string) {
	t.Helper()
	code, out, errs := callPlan(t, args...)
	if code != exitOK {
		t.Fatalf("plan %v: exit %d: %s", args, code, errs)
	}
	return jsonKeys(t, out)
}

func TestPlanInventoryJSONContract(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "inv.json")
	if err := os.WriteFile(f, []byte(`{"small": {"count": 100, "avg_size_mb": 5, "frequency_per_day": 24, "retention_days": 30},
		"large": {"count": 10, "avg_size_mb": 512, "frequency_per_day": 1, "retention_days": 365}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	v, keys := planJSON(t, "inventory", "--file", f, "--json")
	want := []string{"categories.large.daily_gb", "categories.large.retained_gb", "categories.small.daily_gb",
		"categories.small.retained_gb", "total_daily_gb", "total_storage_gb"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if v["total_daily_gb"].(float64) != 16.71875 {
		t.Errorf("total_daily_gb = %v, want 16.71875", v["total_daily_gb"])
	}
	code, out, _ := callPlan(t, "inventory", "--file", f)
	if code != exitOK || !strings.Contains(out, "total") || !strings.Contains(out, "351.56") {
		t.Errorf("table output (exit %d):\n%s", code, out)
	}
}

func TestPlanMemoryJSONContract(t *testing.T) {
	t.Parallel()
	v, keys := planJSON(t, "memory", "--sizes-mb", "5,10,50", "--concurrent", "2", "--available-mb", "1000", "--json")
	want := []string{
		"parallel.concurrent_assets", "parallel.largest_concurrent_mb", "parallel.peak_memory_mb", "parallel.recommended_memory_mb",
		"recommendation.max_safe_asset_mb", "recommendation.memory_utilization_percent", "recommendation.recommended_concurrency",
		"sequential.max_asset_mb", "sequential.peak_memory_mb", "sequential.recommended_memory_mb",
	}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	// 50 x 2.5 = 125; (50 + 10) x 2.5 = 150.
	if p := v["sequential"].(map[string]any)["peak_memory_mb"].(float64); p != 125 {
		t.Errorf("sequential peak %v, want 125", p)
	}
	if p := v["parallel"].(map[string]any)["peak_memory_mb"].(float64); p != 150 {
		t.Errorf("parallel peak %v, want 150", p)
	}
}

func TestPlanNetworkJSONContract(t *testing.T) {
	t.Parallel()
	v, keys := planJSON(t, "network", "--upload-gb", "100", "--download-gb", "50", "--json")
	want := []string{"annual_cost_usd", "avg_bandwidth_mbps", "cost_per_gb", "monthly_cost_usd", "monthly_transfer_gb",
		"peak_bandwidth_mbps", "recommended_bandwidth_mbps", "total_daily_gb"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	// 150 x 30 = 4500 GB; 2250 GB x $0.09 = $202.50.
	if c := v["monthly_cost_usd"].(float64); c < 202.4999 || c > 202.5001 {
		t.Errorf("monthly_cost_usd %v, want 202.5", c)
	}
	code, out, _ := callPlan(t, "network", "--upload-gb", "1", "--download-gb", "1", "--provider", "gcp")
	if code != exitOK || !strings.Contains(out, "gcp") {
		t.Errorf("table output (exit %d):\n%s", code, out)
	}
}

func TestPlanBadFlagsExit2NamingTheFlag(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{}, "inventory"},
		{[]string{"bogus"}, "bogus"},
		{[]string{"inventory"}, "--file"},
		{[]string{"inventory", "--file", "/nonexistent/x.json"}, "--file"},
		{[]string{"memory"}, "--sizes-mb"},
		{[]string{"memory", "--sizes-mb", "5,x"}, "--sizes-mb"},
		{[]string{"memory", "--sizes-mb", "5", "--concurrent", "0"}, "--concurrent"},
		{[]string{"memory", "--sizes-mb", "5", "--available-mb", "-1"}, "--available-mb"},
		{[]string{"memory", "--sizes-mb", "5", "--nope"}, "-nope"},
		{[]string{"network", "--download-gb", "1"}, "--upload-gb"},
		{[]string{"network", "--upload-gb", "1"}, "--download-gb"},
		{[]string{"network", "--upload-gb", "1", "--download-gb", "1", "--provider", "ibm"}, "--provider"},
		{[]string{"network", "--upload-gb", "1", "--download-gb", "1", "--peak-hours", "30"}, "--peak-hours"},
		{[]string{"network", "--upload-gb", "x"}, "-upload-gb"},
	} {
		code, _, errs := callPlan(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.flag) {
			t.Errorf("plan %v: exit %d, stderr %q; want exit 2 naming %s", c.args, code, errs, c.flag)
		}
	}
	// An unknown field in the inventory file is refused, not ignored.
	f := filepath.Join(t.TempDir(), "inv.json")
	os.WriteFile(f, []byte(`{"a": {"count": 1, "avg_size": 5}}`), 0o644)
	if code, _, errs := callPlan(t, "inventory", "--file", f); code != exitUsage || !strings.Contains(errs, "avg_size") {
		t.Errorf("unknown field: exit %d, %q", code, errs)
	}
}

// TestPlanMemoryGuideExample runs the planning guide's own example through
// the CLI: calculate_parallel_memory's largest_concurrent_mb is
// max(concurrent_assets) = 500, not the sum of the three largest.
func TestPlanMemoryGuideExample(t *testing.T) {
	t.Parallel()
	v, _ := planJSON(t, "memory", "--sizes-mb", "5,10,50,100,200,500", "--concurrent", "3", "--available-mb", "4096", "--json")
	par := v["parallel"].(map[string]any)
	if got := par["largest_concurrent_mb"].(float64); got != 500 {
		t.Errorf("parallel.largest_concurrent_mb = %v, want 500", got)
	}
	if got := par["peak_memory_mb"].(float64); got != 2000 {
		t.Errorf("parallel.peak_memory_mb = %v, want 2000", got)
	}
}

// TestPlanNetworkUsesPriceSheetOverride: a tiering.prices_file that changes
// an egress price reaches `plan network`, as it reaches analyze.
func TestPlanNetworkUsesPriceSheetOverride(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	args := []string{"network", "--upload-gb", "100", "--download-gb", "50", "--json"}
	v, _ := planJSON(t, args...)
	if c := v["monthly_cost_usd"].(float64); c < 202.4999 || c > 202.5001 {
		t.Fatalf("built-in sheet: monthly_cost_usd %v, want 202.5", c)
	}
	prices := writeFile(t, dir, "prices.yaml",
		"providers:\n  aws:\n    egress:\n      tiers:\n        - {up_to_gb: 100, usd_per_gb: 0}\n        - {up_to_gb: 0, usd_per_gb: 0.2}\n")
	cfg := writeFile(t, dir, "m.yaml", "tiering:\n  prices_file: "+prices+"\n")
	v, _ = planJSON(t, append(args, "--config", cfg)...)
	// 4500 GB x 0.5 x $0.20 = $450.
	if c := v["monthly_cost_usd"].(float64); c < 449.9999 || c > 450.0001 {
		t.Errorf("with override: monthly_cost_usd %v, want 450", c)
	}
	code, out, errs := callPlan(t, "network", "--upload-gb", "1", "--download-gb", "1", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "$0.2/GB") {
		t.Errorf("table with override (exit %d, %s):\n%s", code, errs, out)
	}
}
