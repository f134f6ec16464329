package analyze

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Capacity-plan sections (capacity_plan.section).
const (
	SectionInventory = "inventory"
	SectionIOManager = "io_manager"
	SectionMemory    = "memory"
	SectionNetwork   = "network"
	SectionCompute   = "compute"
)

const (
	mib = 1 << 20
	gib = 1 << 30
)

// PlanRow is one row of capacity_plan (without as_of). Empty strings and
// NaN are NULL.
type PlanRow struct {
	Section  string
	AssetKey string
	Category string
	Item     string
	Value    float64
	Unit     string
	Detail   string
}

// capacityPlan runs the guide's planners over the observed asset rows.
func capacityPlan(assets []assetRow, o Options) ([]PlanRow, error) {
	var rows []PlanRow
	add := func(r PlanRow) { rows = append(rows, r) }

	// Inventory: assets by the size band of one materialization.
	type acc struct{ n, sizeMB, perDay float64 }
	bands := map[string]*acc{}
	for _, b := range SizeBands {
		bands[b] = &acc{}
	}
	var unknown float64
	for _, a := range assets {
		if a.materializations == 0 {
			continue // source assets: nothing is written
		}
		if math.IsNaN(a.writeBytesMean) {
			unknown++
			continue
		}
		mb := a.writeBytesMean / mib
		c := bands[SizeBand(mb)]
		c.n++
		c.sizeMB += mb
		c.perDay += a.writesPerDay
	}
	cats := map[string]InventoryCategory{}
	for _, b := range SizeBands {
		c := bands[b]
		ic := InventoryCategory{Count: c.n, RetentionDays: o.RetentionDays}
		if c.n > 0 {
			ic.AvgSizeMB, ic.FrequencyPerDay = c.sizeMB/c.n, c.perDay/c.n
		}
		cats[b] = ic
	}
	inv, err := Inventory(cats)
	if err != nil {
		return nil, err
	}
	for _, b := range SizeBands {
		ic, r := cats[b], inv.Categories[b]
		add(PlanRow{SectionInventory, "", b, "count", ic.Count, "assets", "materialized assets whose mean materialization falls in this band"})
		add(PlanRow{SectionInventory, "", b, "avg_size_mb", ic.AvgSizeMB, "MB", "mean materialization size of those assets"})
		add(PlanRow{SectionInventory, "", b, "frequency_per_day", ic.FrequencyPerDay, "per_day", "mean writes_per_day of those assets"})
		add(PlanRow{SectionInventory, "", b, "retention_days", ic.RetentionDays, "days", "configured retention"})
		add(PlanRow{SectionInventory, "", b, "daily_gb", r.DailyGB, "GB", "count x avg_size_mb x frequency_per_day / 1024"})
		add(PlanRow{SectionInventory, "", b, "retained_gb", r.RetainedGB, "GB", "daily_gb x retention_days"})
	}
	add(PlanRow{SectionInventory, "", "", "total_daily_gb", inv.TotalDailyGB, "GB", "sum of daily_gb"})
	add(PlanRow{SectionInventory, "", "", "total_storage_gb", inv.TotalStorageGB, "GB", "sum of retained_gb"})
	add(PlanRow{SectionInventory, "", "", "size_unknown_assets", unknown, "assets", "materialized assets that record no size (left out above)"})

	// I/O manager per materialized asset.
	for _, a := range assets {
		if a.materializations == 0 {
			continue
		}
		if math.IsNaN(a.writeBytesMean) {
			add(PlanRow{SectionIOManager, a.key, "", "expected_overhead_percent", math.NaN(), "percent",
				"size unknown: record size_bytes or result_size_mb metadata to get a recommendation"})
			continue
		}
		c, err := IOManager(a.writeBytesMean/mib, a.writesPerDay, o.MultiNode)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.key, err)
		}
		add(PlanRow{SectionIOManager, a.key, c.Manager, "expected_overhead_percent", c.OverheadPercent, "percent",
			fmt.Sprintf("%s, %s frequency (%.2f/day), %s: %s", c.Band, c.Frequency, a.writesPerDay, c.Distribution, c.Reason)})
	}

	// Memory: the largest materialization of every asset that records one.
	var sizes []float64
	largest, largestKey := -1.0, ""
	for _, a := range assets {
		if math.IsNaN(a.writeBytesMax) {
			continue
		}
		mb := a.writeBytesMax / mib
		sizes = append(sizes, mb)
		if mb > largest {
			largest, largestKey = mb, a.key
		}
	}
	if len(sizes) > 0 {
		m, err := Memory(MemoryInput{SizesMB: sizes, Concurrent: o.Concurrency, AvailableMB: o.AvailableMemoryMB}, o.Memory)
		if err != nil {
			return nil, err
		}
		mem := func(item string, v float64, unit, detail string) {
			add(PlanRow{SectionMemory, "", "", item, v, unit, detail})
		}
		mem("assets_planned", float64(len(sizes)), "assets", "assets with a recorded size; each at its largest materialization")
		mem("available_memory_mb", o.AvailableMemoryMB, "MB", "configured")
		mem("sequential.peak_memory_mb", m.Sequential.PeakMemoryMB, "MB", fmt.Sprintf("largest asset x %g (pickle)", o.Memory.Pickle))
		mem("sequential.recommended_memory_mb", m.Sequential.RecommendedMemoryMB, "MB", fmt.Sprintf("peak x %g", 1+o.Memory.Buffer))
		mem("sequential.max_asset_mb", m.Sequential.MaxAssetMB, "MB", "largest asset: "+largestKey)
		mem("parallel.peak_memory_mb", m.Parallel.PeakMemoryMB, "MB", fmt.Sprintf("sum of the %d largest x %g", m.Parallel.ConcurrentAssets, o.Memory.Pickle))
		mem("parallel.recommended_memory_mb", m.Parallel.RecommendedMemoryMB, "MB", fmt.Sprintf("peak x %g", 1+o.Memory.Buffer))
		mem("parallel.concurrent_assets", float64(m.Parallel.ConcurrentAssets), "assets", fmt.Sprintf("configured %d, at most the assets planned", o.Concurrency))
		mem("parallel.largest_concurrent_mb", m.Parallel.LargestConcurrentMB, "MB", "largest of the concurrent assets")
		mem("parallel.concurrent_sum_mb", m.Parallel.ConcurrentSumMB, "MB", "sum of the concurrent assets, before the pickle factor")
		mem("recommendation.recommended_concurrency", float64(m.Recommendation.RecommendedConcurrency), "assets",
			fmt.Sprintf("most of the largest assets whose pickled sum fits in %g%% of available memory", 100*o.Memory.Ceiling))
		mem("recommendation.max_safe_asset_mb", m.Recommendation.MaxSafeAssetMB, "MB", fmt.Sprintf("available / (%g x %g)", o.Memory.Pickle, 1+o.Memory.Buffer))
		mem("recommendation.memory_utilization_percent", m.Recommendation.MemoryUtilizationPercent, "percent", "pickled sum at the recommended concurrency / available")
		mem("input_load_mb", m.InputLoadMB, "MB", fmt.Sprintf("largest asset x %g (loading factor): memory to load it as an input", o.Memory.Loading))
	}

	// Network from observed bytes written and read per day.
	var up, down float64
	for _, a := range assets {
		if !math.IsNaN(a.writeBytesPerDay) {
			up += a.writeBytesPerDay
		}
		if !math.IsNaN(a.readBytesPerDay) {
			down += a.readBytesPerDay
		}
	}
	up, down = up/gib, down/gib
	providers := make([]string, 0, len(o.EgressUSDPerGB))
	for p := range o.EgressUSDPerGB {
		providers = append(providers, p)
	}
	sort.Strings(providers)
	for i, p := range providers {
		n, err := Network(NetworkInput{UploadGBPerDay: up, DownloadGBPerDay: down, PeakHours: o.PeakHours, EgressUSDPerGB: o.EgressUSDPerGB[p]}, o.Network)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			net := func(item string, v float64, unit, detail string) {
				add(PlanRow{SectionNetwork, "", "", item, v, unit, detail})
			}
			net("upload_gb_per_day", up, "GB", "bytes written per day (sum of write_bytes_per_day)")
			net("download_gb_per_day", down, "GB", "bytes read per day (sum of read_bytes_per_day)")
			net("peak_hours", o.PeakHours, "hours", "configured")
			net("total_daily_gb", n.TotalDailyGB, "GB", fmt.Sprintf("(upload + download) x %g x %g", o.Network.Protocol, o.Network.Retry))
			net("peak_bandwidth_mbps", n.PeakBandwidthMbps, "Mbps", "total_daily_gb / (peak_hours x 3600) x 1024 x 8")
			net("avg_bandwidth_mbps", n.AvgBandwidthMbps, "Mbps", "peak x peak_hours / 24")
			net("recommended_bandwidth_mbps", n.RecommendedBandwidthMbps, "Mbps", fmt.Sprintf("%g x peak", o.Network.Headroom))
			net("monthly_transfer_gb", n.MonthlyTransferGB, "GB", "(upload + download) x 30")
		}
		cost := func(item string, v float64, unit, detail string) {
			add(PlanRow{SectionNetwork, "", p, item, v, unit, detail})
		}
		cost("egress_usd_per_gb", o.EgressUSDPerGB[p], "USD/GB", "internet egress price")
		cost("monthly_cost_usd", n.MonthlyCostUSD, "USD", fmt.Sprintf("monthly_transfer_gb x %g (download share) x egress price", o.Network.DownloadShare))
		cost("annual_cost_usd", n.AnnualCostUSD, "USD", "12 x monthly_cost_usd")
		cost("cost_per_gb", n.CostPerGB, "USD/GB", "monthly_cost_usd / monthly_transfer_gb")
	}

	// Compute cost per asset and in total.
	var totS, totC, totM float64
	for _, a := range assets {
		if a.computeSeconds == 0 && a.computeSecondsPerDay == 0 {
			continue
		}
		c := ComputeCost(a.computeSeconds, o.ComputeUSDPerHour)
		m := ComputeCost(a.computeSecondsPerDay*30, o.ComputeUSDPerHour)
		totS, totC, totM = totS+a.computeSeconds, totC+c, totM+m
		add(PlanRow{SectionCompute, a.key, "", "compute_seconds", a.computeSeconds, "s", "step seconds over the asset's life (a shared step's seconds split among its assets)"})
		add(PlanRow{SectionCompute, a.key, "", "cost_usd", c, "USD", fmt.Sprintf("compute_seconds / 3600 x %g USD/hour", o.ComputeUSDPerHour)})
		add(PlanRow{SectionCompute, a.key, "", "cost_usd_per_month", m, "USD", "compute_seconds_per_day x 30, priced the same way"})
	}
	add(PlanRow{SectionCompute, "", "", "compute_seconds", totS, "s", "all assets"})
	add(PlanRow{SectionCompute, "", "", "cost_usd", totC, "USD", "all assets"})
	add(PlanRow{SectionCompute, "", "", "cost_usd_per_month", totM, "USD", "all assets"})
	add(PlanRow{SectionCompute, "", "", "usd_per_hour", o.ComputeUSDPerHour, "USD/hour", "configured"})
	return rows, nil
}

var planSchema = arrow.NewSchema([]arrow.Field{
	{Name: "section", Type: arrow.BinaryTypes.String},
	{Name: "asset_key", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "category", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "item", Type: arrow.BinaryTypes.String},
	{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "unit", Type: arrow.BinaryTypes.String},
	{Name: "detail", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

func storePlan(ctx context.Context, conn *sql.Conn, mem memory.Allocator, plan []PlanRow) error {
	b := array.NewRecordBuilder(mem, planSchema)
	defer b.Release()
	s := func(i int) *array.StringBuilder { return b.Field(i).(*array.StringBuilder) }
	for _, r := range plan {
		s(0).Append(r.Section)
		appendNullString(s(1), r.AssetKey)
		appendNullString(s(2), r.Category)
		s(3).Append(r.Item)
		appendNullable(b.Field(4).(*array.Float64Builder), r.Value)
		s(5).Append(r.Unit)
		appendNullString(s(6), r.Detail)
	}
	rec := b.NewRecord()
	defer rec.Release()
	return storeRecord(ctx, conn, rec, "analyze_capacity")
}
