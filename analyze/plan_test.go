package analyze_test

import (
	"math"
	"strings"
	"testing"

	"github.com/matlens/matlens/analyze"
	"github.com/matlens/matlens/tiering"
)

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

// checkParallel compares every field of a parallel memory plan, the sizes
// within near's tolerance.
func checkParallel(t *testing.T, got, want analyze.MemoryParallel) {
	t.Helper()
	near(t, "parallel largest_concurrent_mb", got.LargestConcurrentMB, want.LargestConcurrentMB)
	near(t, "parallel peak_memory_mb", got.PeakMemoryMB, want.PeakMemoryMB)
	near(t, "parallel recommended_memory_mb", got.RecommendedMemoryMB, want.RecommendedMemoryMB)
	near(t, "parallel concurrent sum", got.ConcurrentSumMB, want.ConcurrentSumMB)
	if got.ConcurrentAssets != want.ConcurrentAssets {
		t.Errorf("parallel concurrent_assets = %d, want %d", got.ConcurrentAssets, want.ConcurrentAssets)
	}
}

func TestInventoryHandWorked(t *testing.T) {
	t.Parallel()
	res, err := analyze.Inventory(map[string]analyze.InventoryCategory{
		// 100 x 5 MB x 24/day = 12000 MB/day = 11.71875 GB/day; x 30 days = 351.5625 GB
		"small": {Count: 100, AvgSizeMB: 5, FrequencyPerDay: 24, RetentionDays: 30},
		// 10 x 512 MB x 1/day = 5120 MB = 5 GB/day; x 365 = 1825 GB
		"large": {Count: 10, AvgSizeMB: 512, FrequencyPerDay: 1, RetentionDays: 365},
	})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "small daily", res.Categories["small"].DailyGB, 11.71875)
	near(t, "small retained", res.Categories["small"].RetainedGB, 351.5625)
	near(t, "large daily", res.Categories["large"].DailyGB, 5)
	near(t, "large retained", res.Categories["large"].RetainedGB, 1825)
	near(t, "total daily", res.TotalDailyGB, 16.71875)
	near(t, "total storage", res.TotalStorageGB, 2176.5625)

	if _, err := analyze.Inventory(map[string]analyze.InventoryCategory{"x": {Count: -1}}); err == nil {
		t.Error("negative count accepted")
	}
	if _, err := analyze.Inventory(map[string]analyze.InventoryCategory{"x": {AvgSizeMB: math.NaN()}}); err == nil {
		t.Error("NaN size accepted")
	}
}

// TestMemoryGuideExample runs the planning guide's own example: sizes 5,
// 10, 50, 100, 200 and 500 MB, 3 concurrent. calculate_parallel_memory
// returns largest_concurrent_mb = max(concurrent_assets) = 500 and
// peak_memory_mb = (500 + 200 + 100) x 2.5 = 2000.
func TestMemoryGuideExample(t *testing.T) {
	t.Parallel()
	res, err := analyze.Memory(analyze.MemoryInput{SizesMB: []float64{5, 10, 50, 100, 200, 500}, Concurrent: 3, AvailableMB: 4096}, analyze.DefaultMemoryFactors())
	if err != nil {
		t.Fatal(err)
	}
	checkParallel(t, res.Parallel, analyze.MemoryParallel{
		LargestConcurrentMB: 500, PeakMemoryMB: 2000, RecommendedMemoryMB: 3000, ConcurrentSumMB: 800, ConcurrentAssets: 3,
	})
}

func TestMemoryHandWorked(t *testing.T) {
	t.Parallel()
	f := analyze.DefaultMemoryFactors()
	res, err := analyze.Memory(analyze.MemoryInput{SizesMB: []float64{5, 50, 10, 200}, Concurrent: 2, AvailableMB: 1000}, f)
	if err != nil {
		t.Fatal(err)
	}
	// Sequential: largest 200 MB x 2.5 = 500 MB peak; x 1.5 = 750 MB.
	near(t, "sequential peak", res.Sequential.PeakMemoryMB, 500)
	near(t, "sequential recommended", res.Sequential.RecommendedMemoryMB, 750)
	near(t, "sequential max asset", res.Sequential.MaxAssetMB, 200)
	// Parallel k=2: (200 + 50) = 250 MB x 2.5 = 625; x 1.5 = 937.5.
	checkParallel(t, res.Parallel, analyze.MemoryParallel{
		PeakMemoryMB: 625, RecommendedMemoryMB: 937.5, LargestConcurrentMB: 200, ConcurrentSumMB: 250, ConcurrentAssets: 2,
	})
	// 80% of 1000 = 800 MB. 200x2.5 = 500; +50 -> 625; +10 -> 650; +5 -> 662.5:
	// all four fit, utilisation 662.5 / 1000 = 66.25%.
	if res.Recommendation.RecommendedConcurrency != 4 {
		t.Errorf("recommended concurrency = %d, want 4", res.Recommendation.RecommendedConcurrency)
	}
	near(t, "utilisation", res.Recommendation.MemoryUtilizationPercent, 66.25)
	// 1000 / (2.5 x 1.5) = 266.666...
	near(t, "max safe asset", res.Recommendation.MaxSafeAssetMB, 1000/3.75)
	// Loading factor: 200 x 1.2 = 240.
	near(t, "input load", res.InputLoadMB, 240)

	// Tight memory: 80% of 600 = 480 < 500: not even the largest fits, but
	// the recommendation is at least 1; utilisation 500/600.
	res, err = analyze.Memory(analyze.MemoryInput{SizesMB: []float64{200, 50}, Concurrent: 5, AvailableMB: 600}, f)
	if err != nil {
		t.Fatal(err)
	}
	if res.Recommendation.RecommendedConcurrency != 1 || res.Parallel.ConcurrentAssets != 2 {
		t.Errorf("concurrency = %d (want 1), concurrent assets = %d (want 2: capped at the sizes given)",
			res.Recommendation.RecommendedConcurrency, res.Parallel.ConcurrentAssets)
	}
	near(t, "tight utilisation", res.Recommendation.MemoryUtilizationPercent, 500.0/600*100)

	for _, in := range []analyze.MemoryInput{
		{SizesMB: nil, Concurrent: 1, AvailableMB: 1},
		{SizesMB: []float64{1}, Concurrent: 0, AvailableMB: 1},
		{SizesMB: []float64{1}, Concurrent: 1, AvailableMB: 0},
		{SizesMB: []float64{math.NaN()}, Concurrent: 1, AvailableMB: 1},
	} {
		if _, err := analyze.Memory(in, f); err == nil {
			t.Errorf("Memory(%+v): no error", in)
		}
	}
}

func TestNetworkHandWorked(t *testing.T) {
	t.Parallel()
	res, err := analyze.Network(analyze.NetworkInput{UploadGBPerDay: 100, DownloadGBPerDay: 50, PeakHours: 8, EgressUSDPerGB: 0.09},
		analyze.DefaultNetworkFactors())
	if err != nil {
		t.Fatal(err)
	}
	// (100 + 50) x 1.2 x 1.1 = 198 GB/day.
	near(t, "total daily", res.TotalDailyGB, 198)
	// 198 / (8 x 3600) x 1024 x 8 = 56.32 Mbps.
	near(t, "peak", res.PeakBandwidthMbps, 56.32)
	// 56.32 x 8 / 24 = 18.7733...
	near(t, "avg", res.AvgBandwidthMbps, 56.32/3)
	near(t, "recommended", res.RecommendedBandwidthMbps, 112.64)
	// T = (100 + 50) x 30 = 4500 GB; half is egress: 2250 x 0.09 = 202.50 USD.
	near(t, "monthly transfer", res.MonthlyTransferGB, 4500)
	near(t, "monthly cost", res.MonthlyCostUSD, 202.5)
	near(t, "annual cost", res.AnnualCostUSD, 2430)
	near(t, "cost per GB", res.CostPerGB, 0.045)

	// An explicit monthly transfer replaces the default.
	res, err = analyze.Network(analyze.NetworkInput{UploadGBPerDay: 1, DownloadGBPerDay: 1, PeakHours: 24, MonthlyTransferGB: 1000, EgressUSDPerGB: 0.12},
		analyze.DefaultNetworkFactors())
	if err != nil {
		t.Fatal(err)
	}
	near(t, "monthly cost (gcp, T=1000)", res.MonthlyCostUSD, 60)
	// Peak over 24 hours equals the average.
	near(t, "avg over 24h", res.AvgBandwidthMbps, res.PeakBandwidthMbps)

	for _, in := range []analyze.NetworkInput{
		{PeakHours: 0}, {PeakHours: 25}, {PeakHours: 8, UploadGBPerDay: -1}, {PeakHours: 8, EgressUSDPerGB: math.Inf(1)},
	} {
		if _, err := analyze.Network(in, analyze.DefaultNetworkFactors()); err == nil {
			t.Errorf("Network(%+v): no error", in)
		}
	}
	// Nothing transferred: no division by zero.
	res, err = analyze.Network(analyze.NetworkInput{PeakHours: 8, EgressUSDPerGB: 0.09}, analyze.DefaultNetworkFactors())
	if err != nil || res.CostPerGB != 0 || res.MonthlyCostUSD != 0 {
		t.Errorf("zero transfer: %+v, %v", res, err)
	}
}

func TestIOManagerMatrix(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mb, perDay float64
		multi      bool
		manager    string
		overhead   float64
		band       string
	}{
		{5, 1, false, "fs_io_manager", 5, analyze.BandSmall},
		{5, 1, true, "s3_pickle_io_manager", 15, analyze.BandSmall},
		{9.99, 48, true, "duckdb_io_manager", 10, analyze.BandSmall},
		{10, 1, false, "fs_io_manager", 10, analyze.BandMedium},
		{50, 100, false, "duckdb_io_manager", 10, analyze.BandMedium},
		{500, 1, false, "duckdb_io_manager", 10, analyze.BandLarge},
		{500, 1, true, "s3_parquet_io_manager", 12, analyze.BandLarge},
		{1024, 1, false, "s3_parquet_io_manager", 8, analyze.BandXLarge},
		{4096, 25, true, "snowflake_io_manager", 6, analyze.BandXLarge},
	} {
		got, err := analyze.IOManager(c.mb, c.perDay, c.multi)
		if err != nil {
			t.Fatal(err)
		}
		if got.Manager != c.manager || got.OverheadPercent != c.overhead || got.Band != c.band {
			t.Errorf("IOManager(%v MB, %v/day, multi=%v) = %s %v%% %s, want %s %v%% %s",
				c.mb, c.perDay, c.multi, got.Manager, got.OverheadPercent, got.Band, c.manager, c.overhead, c.band)
		}
	}
	if _, err := analyze.IOManager(math.NaN(), 1, false); err == nil {
		t.Error("NaN size accepted")
	}
}

func TestComputeCost(t *testing.T) {
	t.Parallel()
	// 7200 s = 2 h at 0.192 $/h = 0.384 $.
	near(t, "cost", analyze.ComputeCost(7200, 0.192), 0.384)
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	if err := analyze.DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*analyze.Options){
		"--window-days":       func(o *analyze.Options) { o.WindowDays = 0 },
		"--spike-sigma":       func(o *analyze.Options) { o.SpikeSigma = -1 },
		"--min-success-rate":  func(o *analyze.Options) { o.MinSuccessRate = 1.5 },
		"--regression-factor": func(o *analyze.Options) { o.RegressionFactor = math.NaN() },
		"--regression-window": func(o *analyze.Options) { o.RegressionWindow = 0 },
		"--peak-hours":        func(o *analyze.Options) { o.PeakHours = 30 },
	} {
		o := analyze.DefaultOptions()
		mut(&o)
		err := o.Validate()
		if err == nil || !contains(err.Error(), name) {
			t.Errorf("%s: error %v does not name the flag", name, err)
		}
	}
}

func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}

// TestEgressRatesFollowPriceSheet: the planners' egress prices are the
// price sheet's first paid tier, so an override reaches capacity_plan.
func TestEgressRatesFollowPriceSheet(t *testing.T) {
	t.Parallel()
	sheet, err := tiering.DefaultPriceSheet()
	if err != nil {
		t.Fatal(err)
	}
	def := analyze.DefaultOptions().EgressUSDPerGB
	for _, p := range sheet.ProviderNames() {
		var first float64
		for _, tr := range sheet.Providers[p].Egress.Tiers {
			if tr.USDPerGB > 0 {
				first = tr.USDPerGB
				break
			}
		}
		if def[p] != first {
			t.Errorf("default egress for %s = %v, want the sheet's %v", p, def[p], first)
		}
	}
	if err := sheet.Override(strings.NewReader("providers:\n  gcp:\n    egress:\n      tiers:\n        - {up_to_gb: 0, usd_per_gb: 0.33}\n")); err != nil {
		t.Fatal(err)
	}
	if got := analyze.EgressRates(sheet)["gcp"]; got != 0.33 {
		t.Errorf("overridden gcp egress = %v, want 0.33", got)
	}
}
