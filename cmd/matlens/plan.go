package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/matlens/matlens/analyze"
)

const planUsage = `Usage:
  matlens plan inventory --file F [--json]
  matlens plan memory    --sizes-mb 5,10,50 [--concurrent K] [--available-mb M] [--json]
  matlens plan network   --upload-gb U --download-gb D [--peak-hours H] [--provider aws|gcp|azure]
                         [--monthly-transfer-gb T] [--config FILE] [--json]

The performance-planning guide's calculators on given numbers; no database needed.
The network planner's egress prices come from the effective price sheet
(tiering.prices_file of the configuration applied).
`

// cmdPlan runs one of the guide's what-if calculators.
func cmdPlan(_ context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, planUsage)
		return usagef("plan: name a calculator: inventory, memory or network")
	}
	switch args[0] {
	case "inventory":
		return planInventory(args[1:], stdout, stderr)
	case "memory":
		return planMemory(args[1:], stdout, stderr)
	case "network":
		return planNetwork(args[1:], stdout, stderr, getenv)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, planUsage)
		return nil
	}
	return usagef("plan: unknown calculator %q (inventory, memory or network)", args[0])
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func planInventory(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plan inventory", stderr)
	file := fs.String("file", "", `JSON file: {"<category>": {"count", "avg_size_mb", "frequency_per_day", "retention_days"}, ...}`)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return usagef("--file is required (a JSON file of categories)")
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return usagef("--file: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cats map[string]analyze.InventoryCategory
	if err := dec.Decode(&cats); err != nil {
		return usagef("--file %s: %v", *file, err)
	}
	if len(cats) == 0 {
		return usagef("--file %s: no categories", *file)
	}
	res, err := analyze.Inventory(cats)
	if err != nil {
		return usagef("--file %s: %v", *file, err)
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	names := make([]string, 0, len(cats))
	for n := range cats {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "category\tcount\tavg MB\tper day\tretention days\tdaily GB\tretained GB\t")
	for _, n := range names {
		c, r := cats[n], res.Categories[n]
		fmt.Fprintf(tw, "%s\t%g\t%g\t%g\t%g\t%.3f\t%.3f\t\n", n, c.Count, c.AvgSizeMB, c.FrequencyPerDay, c.RetentionDays, r.DailyGB, r.RetainedGB)
	}
	fmt.Fprintf(tw, "total\t\t\t\t\t%.3f\t%.3f\t\n", res.TotalDailyGB, res.TotalStorageGB)
	return tw.Flush()
}

func planMemory(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plan memory", stderr)
	sizes := fs.String("sizes-mb", "", "asset sizes in MB, comma-separated (5,10,50)")
	def := analyze.DefaultOptions()
	concurrent := fs.Int("concurrent", 1, "assets materialized at once")
	available := fs.Float64("available-mb", def.AvailableMemoryMB, "memory available to a run, MB")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *sizes == "" {
		return usagef("--sizes-mb is required (asset sizes in MB, comma-separated)")
	}
	var mb []float64
	for _, s := range strings.Split(*sizes, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !(v >= 0) {
			return usagef("--sizes-mb: %q is not a size in MB", s)
		}
		mb = append(mb, v)
	}
	if *concurrent < 1 {
		return usagef("--concurrent must be >= 1, got %d", *concurrent)
	}
	if !(*available > 0) {
		return usagef("--available-mb must be > 0, got %v", *available)
	}
	res, err := analyze.Memory(analyze.MemoryInput{SizesMB: mb, Concurrent: *concurrent, AvailableMB: *available}, def.Memory)
	if err != nil {
		return usageError{err.Error()}
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "sequential\tpeak memory\t%.1f MB\n", res.Sequential.PeakMemoryMB)
	fmt.Fprintf(tw, "\trecommended memory\t%.1f MB\n", res.Sequential.RecommendedMemoryMB)
	fmt.Fprintf(tw, "\tlargest asset\t%.1f MB\n", res.Sequential.MaxAssetMB)
	fmt.Fprintf(tw, "parallel\tpeak memory\t%.1f MB\n", res.Parallel.PeakMemoryMB)
	fmt.Fprintf(tw, "\trecommended memory\t%.1f MB\n", res.Parallel.RecommendedMemoryMB)
	fmt.Fprintf(tw, "\tconcurrent assets\t%d\n", res.Parallel.ConcurrentAssets)
	fmt.Fprintf(tw, "\tlargest concurrent\t%.1f MB\n", res.Parallel.LargestConcurrentMB)
	fmt.Fprintf(tw, "\tconcurrent sum\t%.1f MB\n", res.Parallel.ConcurrentSumMB)
	fmt.Fprintf(tw, "recommendation\tconcurrency\t%d (for %.0f MB available)\n", res.Recommendation.RecommendedConcurrency, *available)
	fmt.Fprintf(tw, "\tmax safe asset\t%.1f MB\n", res.Recommendation.MaxSafeAssetMB)
	fmt.Fprintf(tw, "\tmemory utilization\t%.1f%%\n", res.Recommendation.MemoryUtilizationPercent)
	fmt.Fprintf(tw, "input load\tlargest asset x %g\t%.1f MB\n", def.Memory.Loading, res.InputLoadMB)
	return tw.Flush()
}

func planNetwork(args []string, stdout, stderr io.Writer, getenv env) error {
	cfg, err := loadConfig(args, getenv)
	if err != nil {
		return err
	}
	fs := newFlagSet("plan network", stderr)
	def := analyze.DefaultOptions()
	fs.String("config", "", "the YAML configuration file whose tiering.prices_file applies (default: $MATLENS_CONFIG)")
	var up, down, monthly float64
	fs.Float64Var(&up, "upload-gb", -1, "GB uploaded per day")
	fs.Float64Var(&down, "download-gb", -1, "GB downloaded per day")
	peak := fs.Float64("peak-hours", def.PeakHours, "hours a day the transfer happens in")
	provider := fs.String("provider", "aws", "cloud provider whose internet egress price (from the price sheet) applies")
	fs.Float64Var(&monthly, "monthly-transfer-gb", 0, "GB transferred per month (default: (upload + download) x 30)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if up < 0 {
		return usagef("--upload-gb is required (GB uploaded per day, >= 0)")
	}
	if down < 0 {
		return usagef("--download-gb is required (GB downloaded per day, >= 0)")
	}
	if !(*peak > 0 && *peak <= 24) {
		return usagef("--peak-hours must be within (0, 24], got %v", *peak)
	}
	if !(monthly >= 0) {
		return usagef("--monthly-transfer-gb must be >= 0, got %v", monthly)
	}
	sheet, err := cfg.priceSheet()
	if err != nil {
		return err
	}
	price, ok := analyze.EgressRates(sheet)[*provider]
	if !ok {
		return usagef("--provider: %q is not one of %s", *provider, strings.Join(sheet.ProviderNames(), ", "))
	}
	res, err := analyze.Network(analyze.NetworkInput{
		UploadGBPerDay: up, DownloadGBPerDay: down, PeakHours: *peak,
		MonthlyTransferGB: monthly, EgressUSDPerGB: price,
	}, def.Network)
	if err != nil {
		return usageError{err.Error()}
	}
	if *asJSON {
		return writeJSON(stdout, res)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "total daily transfer\t%.3f GB\t(upload + download) x %g x %g\n", res.TotalDailyGB, def.Network.Protocol, def.Network.Retry)
	fmt.Fprintf(tw, "peak bandwidth\t%.2f Mbps\tover %g peak hours\n", res.PeakBandwidthMbps, *peak)
	fmt.Fprintf(tw, "average bandwidth\t%.2f Mbps\t\n", res.AvgBandwidthMbps)
	fmt.Fprintf(tw, "recommended bandwidth\t%.2f Mbps\t%g x peak\n", res.RecommendedBandwidthMbps, def.Network.Headroom)
	fmt.Fprintf(tw, "monthly transfer\t%.1f GB\t\n", res.MonthlyTransferGB)
	fmt.Fprintf(tw, "monthly cost\t$%.2f\t%s internet egress $%g/GB on half the transfer\n", res.MonthlyCostUSD, *provider, price)
	fmt.Fprintf(tw, "annual cost\t$%.2f\t\n", res.AnnualCostUSD)
	fmt.Fprintf(tw, "cost per GB\t$%.4f\t\n", res.CostPerGB)
	return tw.Flush()
}
