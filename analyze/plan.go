package analyze

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// The guide's planners: pure functions with the guide's formulas, used by
// Run on observed data and by `matlens plan` as what-if calculators. The
// JSON field names are a contract (docs/analyze.md).

// InventoryCategory is one category of the data inventory, as the guide's
// calculator takes it.
type InventoryCategory struct {
	Count           float64 `json:"count"`
	AvgSizeMB       float64 `json:"avg_size_mb"`
	FrequencyPerDay float64 `json:"frequency_per_day"`
	RetentionDays   float64 `json:"retention_days"`
}

// InventoryCategoryResult is one category's daily and retained volume.
type InventoryCategoryResult struct {
	DailyGB    float64 `json:"daily_gb"`
	RetainedGB float64 `json:"retained_gb"`
}

// InventoryResult is the inventory per category and in total.
type InventoryResult struct {
	Categories     map[string]InventoryCategoryResult `json:"categories"`
	TotalDailyGB   float64                            `json:"total_daily_gb"`
	TotalStorageGB float64                            `json:"total_storage_gb"`
}

// Inventory applies the guide's data characterisation: per category,
// daily GB = count x avg size MB x frequency per day / 1024 and retained GB
// = daily GB x retention days; the totals sum the categories.
func Inventory(cats map[string]InventoryCategory) (InventoryResult, error) {
	res := InventoryResult{Categories: make(map[string]InventoryCategoryResult, len(cats))}
	names := make([]string, 0, len(cats))
	for n := range cats {
		names = append(names, n)
	}
	sort.Strings(names) // a fixed summation order: totals do not depend on map order
	for _, n := range names {
		c := cats[n]
		for _, f := range []struct {
			name string
			v    float64
		}{{"count", c.Count}, {"avg_size_mb", c.AvgSizeMB}, {"frequency_per_day", c.FrequencyPerDay}, {"retention_days", c.RetentionDays}} {
			if !finiteNonNeg(f.v) {
				return InventoryResult{}, fmt.Errorf("inventory category %q: %s must be a finite number >= 0, got %v", n, f.name, f.v)
			}
		}
		daily := c.Count * c.AvgSizeMB * c.FrequencyPerDay / 1024
		r := InventoryCategoryResult{DailyGB: daily, RetainedGB: daily * c.RetentionDays}
		res.Categories[n] = r
		res.TotalDailyGB += r.DailyGB
		res.TotalStorageGB += r.RetainedGB
	}
	return res, nil
}

// MemoryFactors are the memory planner's factors.
type MemoryFactors struct {
	// Pickle is the in-memory overhead of serialising an output (2.5).
	Pickle float64
	// Loading is the overhead of deserialising an input into a downstream
	// step (1.2). The guide's peaks use Pickle only (serialising the output
	// is the larger of the two); Loading gives MemoryResult.InputLoadMB.
	Loading float64
	// Buffer is the safety margin on top of a peak (0.5: recommended =
	// peak x 1.5).
	Buffer float64
	// Ceiling is the share of available memory the concurrency
	// recommendation may fill (0.8).
	Ceiling float64
}

// DefaultMemoryFactors returns the guide's factors.
func DefaultMemoryFactors() MemoryFactors {
	return MemoryFactors{Pickle: 2.5, Loading: 1.2, Buffer: 0.5, Ceiling: 0.8}
}

func (f MemoryFactors) validate() error {
	switch {
	case !(f.Pickle > 0) || math.IsInf(f.Pickle, 0):
		return fmt.Errorf("memory pickle factor must be > 0, got %v", f.Pickle)
	case !(f.Loading > 0) || math.IsInf(f.Loading, 0):
		return fmt.Errorf("memory loading factor must be > 0, got %v", f.Loading)
	case !finiteNonNeg(f.Buffer):
		return fmt.Errorf("memory buffer must be >= 0, got %v", f.Buffer)
	case !(f.Ceiling > 0 && f.Ceiling <= 1):
		return fmt.Errorf("memory ceiling must be within (0, 1], got %v", f.Ceiling)
	}
	return nil
}

// MemoryInput is what the memory planner needs.
type MemoryInput struct {
	SizesMB     []float64 // asset sizes in MB (at least one)
	Concurrent  int       // assets materialized at once (>= 1)
	AvailableMB float64   // memory available to a run (> 0)
}

// MemorySequential is the plan when assets materialize one at a time.
type MemorySequential struct {
	PeakMemoryMB        float64 `json:"peak_memory_mb"`
	RecommendedMemoryMB float64 `json:"recommended_memory_mb"`
	MaxAssetMB          float64 `json:"max_asset_mb"`
}

// MemoryParallel is the plan when Concurrent assets materialize at once.
type MemoryParallel struct {
	PeakMemoryMB        float64 `json:"peak_memory_mb"`
	RecommendedMemoryMB float64 `json:"recommended_memory_mb"`
	ConcurrentAssets    int     `json:"concurrent_assets"`
	// LargestConcurrentMB is the largest of the concurrent assets (the
	// guide's max(concurrent_assets)).
	LargestConcurrentMB float64 `json:"largest_concurrent_mb"`
	// ConcurrentSumMB is the sum of the concurrent assets, before the
	// pickle factor. Not part of the guide's JSON.
	ConcurrentSumMB float64 `json:"-"`
}

// MemoryRecommendation fits the plan to the available memory.
type MemoryRecommendation struct {
	RecommendedConcurrency   int     `json:"recommended_concurrency"`
	MaxSafeAssetMB           float64 `json:"max_safe_asset_mb"`
	MemoryUtilizationPercent float64 `json:"memory_utilization_percent"`
}

// MemoryResult is the memory plan.
type MemoryResult struct {
	Sequential     MemorySequential     `json:"sequential"`
	Parallel       MemoryParallel       `json:"parallel"`
	Recommendation MemoryRecommendation `json:"recommendation"`
	// InputLoadMB is the memory to load the largest asset as an input
	// (largest x Loading). Not part of the guide's JSON.
	InputLoadMB float64 `json:"-"`
}

// Memory applies the guide's memory planner:
//
//	sequential peak = largest x pickle; recommended = peak x (1 + buffer)
//	parallel peak   = sum of the k largest x pickle (k = min(concurrent, n));
//	                  recommended = peak x (1 + buffer); largest concurrent
//	                  = the largest of those k
//	recommended concurrency = the most of the largest assets whose pickled
//	                  sum fits under ceiling x available (at least 1)
//	max safe asset  = available / (pickle x (1 + buffer))
//	utilisation %   = pickled sum at the recommended concurrency / available x 100
func Memory(in MemoryInput, f MemoryFactors) (MemoryResult, error) {
	if err := f.validate(); err != nil {
		return MemoryResult{}, err
	}
	if len(in.SizesMB) == 0 {
		return MemoryResult{}, errors.New("memory plan: no asset sizes")
	}
	if in.Concurrent < 1 {
		return MemoryResult{}, fmt.Errorf("memory plan: concurrent assets must be >= 1, got %d", in.Concurrent)
	}
	if !(in.AvailableMB > 0) || math.IsInf(in.AvailableMB, 0) {
		return MemoryResult{}, fmt.Errorf("memory plan: available memory must be > 0 MB, got %v", in.AvailableMB)
	}
	sizes := slices.Clone(in.SizesMB)
	for _, s := range sizes {
		if !finiteNonNeg(s) {
			return MemoryResult{}, fmt.Errorf("memory plan: sizes must be finite numbers >= 0, got %v", s)
		}
	}
	slices.Sort(sizes)
	slices.Reverse(sizes) // largest first
	buffer := 1 + f.Buffer
	var r MemoryResult
	r.Sequential.MaxAssetMB = sizes[0]
	r.Sequential.PeakMemoryMB = sizes[0] * f.Pickle
	r.Sequential.RecommendedMemoryMB = r.Sequential.PeakMemoryMB * buffer

	k := min(in.Concurrent, len(sizes))
	var sumK float64
	for _, s := range sizes[:k] {
		sumK += s
	}
	r.Parallel.ConcurrentAssets = k
	r.Parallel.LargestConcurrentMB = sizes[0]
	r.Parallel.ConcurrentSumMB = sumK
	r.Parallel.PeakMemoryMB = sumK * f.Pickle
	r.Parallel.RecommendedMemoryMB = r.Parallel.PeakMemoryMB * buffer

	limit := f.Ceiling * in.AvailableMB
	conc, sum := 1, sizes[0]
	for i := 1; i < len(sizes); i++ {
		if (sum+sizes[i])*f.Pickle > limit {
			break
		}
		sum += sizes[i]
		conc = i + 1
	}
	r.Recommendation.RecommendedConcurrency = conc
	r.Recommendation.MaxSafeAssetMB = in.AvailableMB / (f.Pickle * buffer)
	r.Recommendation.MemoryUtilizationPercent = sum * f.Pickle / in.AvailableMB * 100
	r.InputLoadMB = sizes[0] * f.Loading
	return r, nil
}

// NetworkFactors are the network planner's factors.
type NetworkFactors struct {
	Protocol float64 // HTTP/TLS overhead (1.2)
	Retry    float64 // retries (1.1)
	Headroom float64 // recommended bandwidth = Headroom x peak (2)
	// DownloadShare is the share of the monthly transfer billed as
	// internet egress (0.5: the guide bills half as download, upload is
	// free).
	DownloadShare float64
}

// DefaultNetworkFactors returns the guide's factors.
func DefaultNetworkFactors() NetworkFactors {
	return NetworkFactors{Protocol: 1.2, Retry: 1.1, Headroom: 2, DownloadShare: 0.5}
}

func (f NetworkFactors) validate() error {
	switch {
	case !(f.Protocol > 0) || math.IsInf(f.Protocol, 0):
		return fmt.Errorf("network protocol overhead must be > 0, got %v", f.Protocol)
	case !(f.Retry > 0) || math.IsInf(f.Retry, 0):
		return fmt.Errorf("network retry overhead must be > 0, got %v", f.Retry)
	case !(f.Headroom > 0) || math.IsInf(f.Headroom, 0):
		return fmt.Errorf("network headroom must be > 0, got %v", f.Headroom)
	case !(f.DownloadShare >= 0 && f.DownloadShare <= 1):
		return fmt.Errorf("network download share must be within [0, 1], got %v", f.DownloadShare)
	}
	return nil
}

// NetworkInput is what the network planner needs.
type NetworkInput struct {
	UploadGBPerDay   float64
	DownloadGBPerDay float64
	PeakHours        float64 // hours a day the transfer happens in, (0, 24]
	// MonthlyTransferGB is billed transfer per month; 0 means
	// (upload + download) x 30.
	MonthlyTransferGB float64
	EgressUSDPerGB    float64 // the provider's internet egress price
}

// NetworkResult is the network plan.
type NetworkResult struct {
	TotalDailyGB             float64 `json:"total_daily_gb"`
	PeakBandwidthMbps        float64 `json:"peak_bandwidth_mbps"`
	AvgBandwidthMbps         float64 `json:"avg_bandwidth_mbps"`
	RecommendedBandwidthMbps float64 `json:"recommended_bandwidth_mbps"`
	MonthlyTransferGB        float64 `json:"monthly_transfer_gb"`
	MonthlyCostUSD           float64 `json:"monthly_cost_usd"`
	AnnualCostUSD            float64 `json:"annual_cost_usd"`
	CostPerGB                float64 `json:"cost_per_gb"`
}

// Network applies the guide's network planner:
//
//	total daily GB = (upload + download) x protocol x retry
//	peak Mbps      = total daily GB / (peak hours x 3600) x 1024 x 8
//	avg Mbps       = peak x peak hours / 24
//	recommended    = headroom x peak
//	monthly cost   = monthly transfer x download share x egress $/GB
//	annual cost    = 12 x monthly cost; cost per GB = monthly cost / monthly transfer
func Network(in NetworkInput, f NetworkFactors) (NetworkResult, error) {
	if err := f.validate(); err != nil {
		return NetworkResult{}, err
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"upload GB per day", in.UploadGBPerDay}, {"download GB per day", in.DownloadGBPerDay},
		{"monthly transfer GB", in.MonthlyTransferGB}, {"egress $/GB", in.EgressUSDPerGB}} {
		if !finiteNonNeg(v.v) {
			return NetworkResult{}, fmt.Errorf("network plan: %s must be a finite number >= 0, got %v", v.name, v.v)
		}
	}
	if !(in.PeakHours > 0 && in.PeakHours <= 24) {
		return NetworkResult{}, fmt.Errorf("network plan: peak hours must be within (0, 24], got %v", in.PeakHours)
	}
	var r NetworkResult
	r.TotalDailyGB = (in.UploadGBPerDay + in.DownloadGBPerDay) * f.Protocol * f.Retry
	r.PeakBandwidthMbps = r.TotalDailyGB / (in.PeakHours * 3600) * 1024 * 8
	r.AvgBandwidthMbps = r.PeakBandwidthMbps * in.PeakHours / 24
	r.RecommendedBandwidthMbps = f.Headroom * r.PeakBandwidthMbps
	r.MonthlyTransferGB = in.MonthlyTransferGB
	if r.MonthlyTransferGB == 0 {
		r.MonthlyTransferGB = (in.UploadGBPerDay + in.DownloadGBPerDay) * 30
	}
	r.MonthlyCostUSD = r.MonthlyTransferGB * f.DownloadShare * in.EgressUSDPerGB
	r.AnnualCostUSD = 12 * r.MonthlyCostUSD
	if r.MonthlyTransferGB > 0 {
		r.CostPerGB = r.MonthlyCostUSD / r.MonthlyTransferGB
	}
	return r, nil
}

// Size bands of the guide, by the size of one materialization.
const (
	BandSmall  = "<10MB"
	BandMedium = "10-100MB"
	BandLarge  = "100MB-1GB"
	BandXLarge = ">1GB"
)

// SizeBands lists the bands smallest first.
var SizeBands = []string{BandSmall, BandMedium, BandLarge, BandXLarge}

// SizeBand returns the guide's size band of an object of sizeMB (MiB).
func SizeBand(sizeMB float64) string {
	switch {
	case sizeMB < 10:
		return BandSmall
	case sizeMB < 100:
		return BandMedium
	case sizeMB < 1024:
		return BandLarge
	}
	return BandXLarge
}

// HighFrequencyPerDay splits the matrix's frequency axis: an asset
// materialized more than this many times a day (hourly or more often) is
// high-frequency.
const HighFrequencyPerDay = 24

// IOManagerChoice is the I/O manager the matrix recommends.
type IOManagerChoice struct {
	Manager         string  `json:"manager"`
	OverheadPercent float64 `json:"expected_overhead_percent"`
	Band            string  `json:"size_band"`
	Frequency       string  `json:"frequency"`    // low | high
	Distribution    string  `json:"distribution"` // single_node | multi_node
	Reason          string  `json:"reason"`
}

type ioCell struct {
	manager  string
	overhead float64
	reason   string
}

// ioMatrix is matlens's rendering of the guide's I/O manager selection
// matrix, indexed by size band, then [low, high] frequency, then [single,
// multi] node. docs/analyze.md shows it as a table; keep the two in step.
var ioMatrix = map[string][2][2]ioCell{
	BandSmall: {
		{ // low frequency
			{"fs_io_manager", 5, "small pickles on local disk cost almost nothing to write and read back"},
			{"s3_pickle_io_manager", 15, "other nodes must read the output, so it goes to object storage; small objects keep the request overhead low"},
		},
		{ // high frequency
			{"fs_io_manager", 5, "frequent small writes are cheapest on local disk"},
			{"duckdb_io_manager", 10, "frequent small objects shared between nodes are cheaper as table rows than as object-store requests"},
		},
	},
	BandMedium: {
		{
			{"fs_io_manager", 10, "medium pickles still fit local disk and memory comfortably"},
			{"s3_pickle_io_manager", 20, "shared between nodes through object storage; pickling tens of MB adds noticeable overhead"},
		},
		{
			{"duckdb_io_manager", 10, "frequent medium tables load faster from a columnar database than from pickles"},
			{"snowflake_io_manager", 15, "frequent medium tables shared between nodes belong in a warehouse"},
		},
	},
	BandLarge: {
		{
			{"duckdb_io_manager", 10, "large tables: columnar storage avoids pickling hundreds of MB"},
			{"s3_parquet_io_manager", 12, "large tables shared between nodes: Parquet on object storage, read column-wise"},
		},
		{
			{"duckdb_io_manager", 8, "large tables written often: columnar and incremental"},
			{"snowflake_io_manager", 12, "large tables written often and shared between nodes belong in a warehouse"},
		},
	},
	BandXLarge: {
		{
			{"s3_parquet_io_manager", 8, "over 1 GB never fits a pickle comfortably: partitioned Parquet on object storage"},
			{"s3_parquet_io_manager", 8, "over 1 GB: partitioned Parquet on object storage, which every node reads"},
		},
		{
			{"snowflake_io_manager", 6, "over 1 GB written often: let a warehouse do the work"},
			{"snowflake_io_manager", 6, "over 1 GB written often across nodes: let a warehouse do the work"},
		},
	},
}

// IOManager returns the matrix's recommendation for an asset whose
// materializations are sizeMB (MiB) each and happen perDay times a day, in
// a single- or multi-node deployment.
func IOManager(sizeMB, perDay float64, multiNode bool) (IOManagerChoice, error) {
	if !finiteNonNeg(sizeMB) || !finiteNonNeg(perDay) {
		return IOManagerChoice{}, fmt.Errorf("io manager: size and frequency must be finite numbers >= 0, got %v MB, %v/day", sizeMB, perDay)
	}
	band := SizeBand(sizeMB)
	fi, freq := 0, "low"
	if perDay > HighFrequencyPerDay {
		fi, freq = 1, "high"
	}
	ni, dist := 0, "single_node"
	if multiNode {
		ni, dist = 1, "multi_node"
	}
	c := ioMatrix[band][fi][ni]
	return IOManagerChoice{Manager: c.manager, OverheadPercent: c.overhead, Band: band, Frequency: freq, Distribution: dist, Reason: c.reason}, nil
}

// ComputeCost prices step seconds at usdPerHour.
func ComputeCost(seconds, usdPerHour float64) float64 {
	return seconds / 3600 * usdPerHour
}

func finiteNonNeg(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }
