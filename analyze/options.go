package analyze

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/matlens/matlens/sql/duckfile"
	"github.com/matlens/matlens/tiering"
)

// Options configure one analyze run. Start from DefaultOptions.
type Options struct {
	// AsOf is the moment the statistics describe; events after it are
	// ignored and the windows end at it. The zero value means the latest
	// event timestamp in the fact tables, so a run is deterministic.
	AsOf time.Time
	// WindowDays is the trailing window of reads_per_day, writes_per_day
	// and the other windowed rates.
	WindowDays float64

	// SpikeSigma: an exec_time_spike alert fires when the slowest
	// execution exceeds mean + SpikeSigma x stddev (the guide's 3 sigma).
	SpikeSigma float64
	// MinSuccessRate: a low_success_rate alert fires below it (the guide's
	// 95%).
	MinSuccessRate float64
	// RegressionFactor and RegressionWindow: an exec_time_regression alert
	// fires when the latest execution time exceeds RegressionFactor x the
	// median of the RegressionWindow executions before it.
	RegressionFactor float64
	RegressionWindow int

	// Memory holds the memory planner's factors; AvailableMemoryMB and
	// Concurrency are the deployment the observed sizes are planned for.
	Memory            MemoryFactors
	AvailableMemoryMB float64
	Concurrency       int
	// Network holds the network planner's factors; PeakHours is how many
	// hours a day the transfer is concentrated in.
	Network   NetworkFactors
	PeakHours float64
	// EgressUSDPerGB is each provider's internet egress price; EgressRates
	// derives it from a price sheet, overrides included.
	EgressUSDPerGB map[string]float64
	// RetentionDays is the retention the observed inventory assumes.
	RetentionDays float64
	// MultiNode says the deployment runs steps on several nodes (the I/O
	// manager matrix's distribution axis).
	MultiNode bool
	// ComputeUSDPerHour prices step seconds.
	ComputeUSDPerHour float64

	// LocationKeys are the materialization metadata keys an asset's
	// location is read from, in order of preference; nil means
	// DefaultLocationKeys.
	LocationKeys []string
	// OrphanPrefixes are further prefixes (s3://bucket/prefix, ...) under
	// which objects no asset points to are reported as orphans, beside the
	// longest common prefix of each bucket's locations.
	OrphanPrefixes []string

	// MemoryLimit is DuckDB's memory_limit for analyze, in the size grammar
	// of duckfile.ParseSize; "" leaves the connection's setting alone. Analyze's
	// memory grows with the history it reads (see docs/performance.md):
	// lower it to bound a run, raise it when analyze runs out.
	MemoryLimit string
	// Allocator for the Arrow records analyze builds; nil means the Go
	// allocator.
	Allocator memory.Allocator
}

// DefaultOptions returns the guide's thresholds and factors.
func DefaultOptions() Options {
	return Options{
		WindowDays:        30,
		SpikeSigma:        3,
		MinSuccessRate:    0.95,
		RegressionFactor:  2,
		RegressionWindow:  10,
		Memory:            DefaultMemoryFactors(),
		AvailableMemoryMB: 8192,
		Concurrency:       4,
		Network:           DefaultNetworkFactors(),
		PeakHours:         8,
		EgressUSDPerGB:    DefaultEgressUSDPerGB(),
		RetentionDays:     90,
		// An AWS m5.xlarge (4 vCPU, 16 GiB) on demand in us-east-1.
		ComputeUSDPerHour: 0.192,
		MemoryLimit:       "256MB",
	}
}

// DefaultEgressUSDPerGB returns EgressRates of the built-in price sheet.
// The sheet is embedded and validated by its own tests; should it fail to
// load, the map is empty and Validate refuses the options.
func DefaultEgressUSDPerGB() map[string]float64 {
	sheet, err := tiering.DefaultPriceSheet()
	if err != nil {
		return map[string]float64{}
	}
	return EgressRates(sheet)
}

// EgressRates is each provider's first paid internet egress price per GB:
// the guide's network planner bills transfer at one rate, and the free
// allowance below the first paid tier is not part of its formula. A
// provider whose tiers are all free gets 0.
func EgressRates(sheet *tiering.PriceSheet) map[string]float64 {
	rates := map[string]float64{}
	for name, pr := range sheet.Providers {
		rates[name] = 0
		for _, t := range pr.Egress.Tiers {
			if t.USDPerGB > 0 {
				rates[name] = t.USDPerGB
				break
			}
		}
	}
	return rates
}

// Validate reports the first invalid field, naming the command-line flag
// that sets it.
func (o Options) Validate() error {
	pos := func(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
	switch {
	case !pos(o.WindowDays):
		return fmt.Errorf("--window-days must be > 0, got %v", o.WindowDays)
	case !pos(o.SpikeSigma):
		return fmt.Errorf("--spike-sigma must be > 0, got %v", o.SpikeSigma)
	case !(o.MinSuccessRate >= 0 && o.MinSuccessRate <= 1):
		return fmt.Errorf("--min-success-rate must be within [0, 1], got %v", o.MinSuccessRate)
	case !pos(o.RegressionFactor):
		return fmt.Errorf("--regression-factor must be > 0, got %v", o.RegressionFactor)
	case o.RegressionWindow < 1:
		return fmt.Errorf("--regression-window must be >= 1, got %d", o.RegressionWindow)
	case !pos(o.AvailableMemoryMB):
		return fmt.Errorf("--available-mb must be > 0, got %v", o.AvailableMemoryMB)
	case o.Concurrency < 1:
		return fmt.Errorf("--concurrent must be >= 1, got %d", o.Concurrency)
	case !(o.PeakHours > 0 && o.PeakHours <= 24):
		return fmt.Errorf("--peak-hours must be within (0, 24], got %v", o.PeakHours)
	case !(o.RetentionDays >= 0) || math.IsInf(o.RetentionDays, 0):
		return fmt.Errorf("--retention-days must be >= 0, got %v", o.RetentionDays)
	case !(o.ComputeUSDPerHour >= 0) || math.IsInf(o.ComputeUSDPerHour, 0):
		return fmt.Errorf("--compute-usd-per-hour must be >= 0, got %v", o.ComputeUSDPerHour)
	case o.MemoryLimit != "" && !duckfile.ValidSize(o.MemoryLimit):
		_, err := duckfile.ParseSize(o.MemoryLimit)
		return fmt.Errorf("analyze.duckdb_memory_limit: %w", err)
	case len(o.EgressUSDPerGB) == 0:
		return errors.New("egress prices: at least one provider is needed")
	}
	for p, v := range o.EgressUSDPerGB {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("egress price for %s must be >= 0, got %v", p, v)
		}
	}
	if err := o.Memory.validate(); err != nil {
		return err
	}
	return o.Network.validate()
}
