package tiering

import (
	"errors"
	"fmt"
	"math"
)

// DaysPerMonth converts the providers' day-based rules (30-day minimums,
// 30 days idle) into the model's months. Providers state those rules in
// 30-day units, so 30 keeps a "30-day minimum" exactly one month.
const DaysPerMonth = 30

// Usage is what was observed about one asset, or one partition of a
// partitioned asset (partitions are separate objects with their own
// history, which is what makes them tiering candidates).
type Usage struct {
	AssetKey  string
	Partition string // "" for the asset's own row
	// StoragePrefix is the object-key prefix the asset lives under, used
	// in lifecycle policy filters; "" means asset key + "/" (+ partition +
	// "/"). For Azure it must start with the container name.
	StoragePrefix string
	// SizeBytes is the latest size of the stored object(s); 0 means the
	// size is unknown, which Recommend reports instead of pricing.
	SizeBytes float64
	// Objects is the number of stored objects; 0 is read as 1.
	Objects float64
	// ReadsPerMonth counts full reads of the stored bytes: each read
	// fetches every object once.
	ReadsPerMonth float64
	// RewritesPerMonth counts materializations that overwrite the
	// object(s); 0 means written once.
	RewritesPerMonth float64
	// LifetimeMonths is the remaining lifetime before deletion
	// (retention); 0 means unbounded.
	LifetimeMonths float64
	// HistoryDays is how long the asset has been observed.
	HistoryDays float64
	// ReadByPipelines is set when a pipeline step loads the asset, which
	// rules out classes whose reads wait hours for a restore.
	ReadByPipelines bool
	// SizeSource says where SizeBytes came from (SizeFromObjectStore,
	// "metadata"); it is carried to the recommendation as is.
	SizeSource string
	// CurrentClass is the class the asset is stored in; "" defers to
	// Options and then to the provider's default class.
	CurrentClass string
}

func (u Usage) validate() error {
	errs := finiteNonNegative([]namedValue{
		{"size_bytes", u.SizeBytes},
		{"objects", u.Objects},
		{"reads_per_month", u.ReadsPerMonth},
		{"rewrites_per_month", u.RewritesPerMonth},
		{"lifetime_months", u.LifetimeMonths},
		{"history_days", u.HistoryDays},
	})
	if u.Objects > 0 && u.Objects < 1 {
		errs = append(errs, fmt.Errorf("objects must be >= 1, got %v", u.Objects))
	}
	return errors.Join(errs...)
}

func (u Usage) label() string {
	if u.Partition != "" {
		return u.AssetKey + "[" + u.Partition + "]"
	}
	return u.AssetKey
}

func objectCount(u Usage) float64 { return math.Max(1, u.Objects) }

// versionLife is min(w, L) of §D.2 in months: how long one version of the
// object stays before it is overwritten or deleted. +Inf when neither
// happens.
func versionLife(u Usage) float64 {
	life := math.Inf(1)
	if u.RewritesPerMonth > 0 {
		life = 1 / u.RewritesPerMonth
	}
	if u.LifetimeMonths > 0 {
		life = math.Min(life, u.LifetimeMonths)
	}
	return life
}

// Breakdown is the expected monthly cost of keeping one asset in one class,
// in steady state, split by charge so a reader can see which one decides.
// All amounts are USD per month.
type Breakdown struct {
	Class string `json:"class"`
	// BillableGB is what storage is billed on: objects below the class's
	// minimum billable size count as that size, plus per-object overhead.
	BillableGB float64 `json:"billable_gb"`
	// StorageUSD is billable GB x price, as if every version lived at
	// least the class's minimum duration.
	StorageUSD float64 `json:"storage_usd"`
	// MinDurationUSD is the extra storage billed because versions are
	// overwritten or deleted before the class's minimum storage duration.
	MinDurationUSD   float64 `json:"min_duration_usd"`
	RetrievalUSD     float64 `json:"retrieval_usd"`
	ReadRequestsUSD  float64 `json:"read_requests_usd"`
	WriteRequestsUSD float64 `json:"write_requests_usd"`
	// TransitionUSD is the lifecycle transition each new version pays to
	// reach the class, spread over the version's life.
	TransitionUSD float64 `json:"transition_usd"`
	MonitoringUSD float64 `json:"monitoring_usd"`
	TotalUSD      float64 `json:"total_usd"`
}

// CostPerMonth prices u in one class of one provider with the steady-state
// model of the reference's §D.2 (see docs/tiering.md):
//
//	C = s·S·max(1, D/min(w,L)) + r·B + (g+restore)·Q/1000 + p·N/(1000·w)
//	  + t·N/(1000·min(w,L)) + m·N/1000
func CostPerMonth(sheet *PriceSheet, provider, class string, u Usage) (Breakdown, error) {
	pr, err := sheet.lookup(provider)
	if err != nil {
		return Breakdown{}, fmt.Errorf("cost: %w", err)
	}
	name, err := pr.CanonicalClass(class)
	if err != nil {
		return Breakdown{}, fmt.Errorf("cost: %w", err)
	}
	if err := u.validate(); err != nil {
		return Breakdown{}, fmt.Errorf("cost %s: %w", u.label(), err)
	}
	return pr.cost(name, u), nil
}

// billableGB splits the billed volume into the part charged at the class's
// rate and the part charged at the default class's rate (the 8 KB of
// Glacier metadata S3 keeps in Standard).
func (pr *Provider) billableGB(c *Class, u Usage) (classGB, defaultGB float64) {
	n := objectCount(u)
	obj := u.SizeBytes / n
	classGB = n * (math.Max(obj, c.MinBillableObjectBytes) + c.OverheadClassBytes) / pr.BytesPerGB
	defaultGB = n * c.OverheadDefaultBytes / pr.BytesPerGB
	return classGB, defaultGB
}

func (pr *Provider) cost(name string, u Usage) Breakdown {
	c := pr.Classes[name]
	n := objectCount(u)
	obj := u.SizeBytes / n
	life := versionLife(u)
	dataGB := u.SizeBytes / pr.BytesPerGB
	classGB, defGB := pr.billableGB(c, u)
	price := c.storagePrice(obj, u.ReadsPerMonth, life)

	b := Breakdown{Class: name, BillableGB: classGB + defGB}
	b.StorageUSD = price*classGB + pr.Classes[pr.DefaultClass].StorageUSDPerGBMonth*defGB
	// A version replaced or deleted before the minimum is billed for the
	// minimum anyway (S3 "charged for 30 days", GCS and Azure prorate the
	// remainder: the same total). With one version every min(w,L) months
	// that is D/min(w,L) minimum-length bills per month instead of one.
	if d := c.MinStorageDays / DaysPerMonth; d > life {
		b.MinDurationUSD = price * classGB * (d/life - 1)
	}
	// Retrieval is billed on the bytes actually read, not on the billable
	// size: the minimum billable size is a storage rule only.
	b.RetrievalUSD = c.RetrievalUSDPerGB * dataGB * u.ReadsPerMonth
	// A full read touches every object; archive classes add a restore
	// request per object on top of the GET.
	b.ReadRequestsUSD = (c.ReadUSDPer1k + c.RestoreRequestUSDPer1k) * n * u.ReadsPerMonth / 1000
	// Each rewrite PUTs every object. It is priced at the class's own PUT
	// rate, which on this sheet is never below the default class's: so it
	// bounds from above the real path (PUT into the default class, then a
	// transition) and never flatters the colder class.
	b.WriteRequestsUSD = c.WriteUSDPer1k * n * u.RewritesPerMonth / 1000
	// Every new version reaches a non-default class by a lifecycle
	// transition; a version that is never replaced pays it once, which
	// Recommend charges against the payback horizon instead.
	if name != pr.DefaultClass && !math.IsInf(life, 1) {
		b.TransitionUSD = c.TransitionInUSDPer1k * n / 1000 / life
	}
	// Intelligent-Tiering and Autoclass exempt small objects from their fee.
	if c.MonitoringUSDPer1kObjectsMonth > 0 && obj >= c.MonitoringMinObjectBytes {
		b.MonitoringUSD = c.MonitoringUSDPer1kObjectsMonth * n / 1000
	}
	b.TotalUSD = b.StorageUSD + b.MinDurationUSD + b.RetrievalUSD + b.ReadRequestsUSD +
		b.WriteRequestsUSD + b.TransitionUSD + b.MonitoringUSD
	return b
}

// storagePrice is the per-GB-month rate of a class for this access
// pattern. A managed class keeps an object in its first tier until it has
// been idle for the next tier's threshold, and any read or new version
// resets the clock. Accesses are taken as evenly spaced, every
// min(1/reads, w, L) months; the price is the time-weighted mean over one
// such interval, or the last tier's price when the object is never touched.
func (c *Class) storagePrice(objBytes, readsPerMonth, life float64) float64 {
	if !c.Managed {
		return c.StorageUSDPerGBMonth
	}
	if objBytes < c.MonitoringMinObjectBytes {
		return c.Tiers[0].USDPerGBMonth
	}
	touch := life
	if readsPerMonth > 0 {
		touch = math.Min(touch, 1/readsPerMonth)
	}
	if math.IsInf(touch, 1) {
		return c.Tiers[len(c.Tiers)-1].USDPerGBMonth
	}
	days := touch * DaysPerMonth
	if days <= 0 {
		return c.Tiers[0].USDPerGBMonth
	}
	var sum float64
	for i, t := range c.Tiers {
		if days <= t.AfterIdleDays {
			break
		}
		end := math.Inf(1)
		if i+1 < len(c.Tiers) {
			end = c.Tiers[i+1].AfterIdleDays
		}
		sum += t.USDPerGBMonth * (math.Min(days, end) - t.AfterIdleDays)
	}
	return sum / days
}
