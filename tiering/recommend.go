package tiering

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Actions a Recommendation can carry.
const (
	ActionMove                = "move"
	ActionStay                = "stay"
	ActionInsufficientHistory = "insufficient history"
	ActionSizeUnknown         = "size unknown"
	// ActionPerPartition marks the own row of a partitioned asset after
	// RollUpPartitions: its figures are the sums of its partitions' rows,
	// which carry the decisions.
	ActionPerPartition = "per partition"
)

// SizeFromObjectStore is the Usage.SizeSource of sizes measured in an
// object inventory or listing (asset_storage), as analyze writes it.
const SizeFromObjectStore = "object store"

// maxBreakEvenReads caps the break-even search: a class still cheaper at a
// million full reads a month is cheaper at any rate a pipeline produces.
const maxBreakEvenReads = 1e6

// Options configures Recommend. Start from DefaultOptions.
type Options struct {
	// Provider is the price-sheet provider: aws, gcp or azure.
	Provider string
	// Region, when set, must match the sheet's region for the provider:
	// the sheet holds one region's prices and silently using them for
	// another would misprice every asset.
	Region string
	// AllowArchiveForRead lets assets that pipelines read go to classes
	// whose reads need a restore of hours.
	AllowArchiveForRead bool
	// PaybackMonths is the horizon within which a move's one-time cost
	// must be recovered by its monthly savings.
	PaybackMonths float64
	// MinHistoryDays is the observation needed before recommending a move
	// (S3 Storage Class Analysis also waits 30 days).
	MinHistoryDays float64
	// HotReadsPerDay and WarmReadsPerDay are the guide's labels: above
	// HotReadsPerDay reads a day is hot, above WarmReadsPerDay warm, else
	// cold.
	HotReadsPerDay  float64
	WarmReadsPerDay float64
	// CurrentClass is where assets are stored unless a prefix says
	// otherwise; "" is the provider's default class.
	CurrentClass string
	// CurrentClassByPrefix maps asset-key prefixes to their class; the
	// longest matching prefix wins.
	CurrentClassByPrefix map[string]string
	// AllowedClasses limits the candidates (the current class is always
	// kept); empty allows every class of the provider.
	AllowedClasses []string
}

// DefaultOptions returns the documented defaults: AWS, 12-month payback,
// 30 days of history, hot above 1 read a day, warm above 0.1.
func DefaultOptions() Options {
	return Options{
		Provider:        "aws",
		PaybackMonths:   12,
		MinHistoryDays:  30,
		HotReadsPerDay:  1,
		WarmReadsPerDay: 0.1,
	}
}

func (o Options) validate(sheet *PriceSheet) (*Provider, error) {
	pr, err := sheet.lookup(o.Provider)
	if err != nil {
		return nil, err
	}
	var errs []error
	if o.Region != "" && !strings.EqualFold(o.Region, pr.Region) {
		errs = append(errs, fmt.Errorf("region %q: the price sheet has %s prices for %s only; override its prices to use another region", o.Region, o.Provider, pr.Region))
	}
	if !(o.PaybackMonths > 0) || math.IsInf(o.PaybackMonths, 0) {
		errs = append(errs, fmt.Errorf("payback months must be > 0, got %v", o.PaybackMonths))
	}
	if o.MinHistoryDays < 0 || math.IsNaN(o.MinHistoryDays) {
		errs = append(errs, fmt.Errorf("min history days must be >= 0, got %v", o.MinHistoryDays))
	}
	if !(o.WarmReadsPerDay >= 0 && o.HotReadsPerDay >= o.WarmReadsPerDay) {
		errs = append(errs, fmt.Errorf("want 0 <= warm reads/day (%v) <= hot reads/day (%v)", o.WarmReadsPerDay, o.HotReadsPerDay))
	}
	if o.CurrentClass != "" {
		if _, err := pr.CanonicalClass(o.CurrentClass); err != nil {
			errs = append(errs, fmt.Errorf("current class: %w", err))
		}
	}
	for _, prefix := range sortedKeys(o.CurrentClassByPrefix) {
		if _, err := pr.CanonicalClass(o.CurrentClassByPrefix[prefix]); err != nil {
			errs = append(errs, fmt.Errorf("current class for prefix %q: %w", prefix, err))
		}
	}
	for _, c := range o.AllowedClasses {
		if _, err := pr.CanonicalClass(c); err != nil {
			errs = append(errs, fmt.Errorf("allowed classes: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("options: %w", errors.Join(errs...))
	}
	return pr, nil
}

// currentClass resolves where u is stored now: the usage's own class, then
// the longest configured prefix of its asset key, then the configured
// default, then the provider's default class.
func (o Options) currentClass(pr *Provider, u Usage) (string, error) {
	name := u.CurrentClass
	if name == "" {
		best := -1
		for prefix, c := range o.CurrentClassByPrefix {
			if strings.HasPrefix(u.AssetKey, prefix) && len(prefix) > best {
				best, name = len(prefix), c
			}
		}
	}
	if name == "" {
		name = o.CurrentClass
	}
	if name == "" {
		return pr.DefaultClass, nil
	}
	return pr.CanonicalClass(name)
}

func (o Options) category(readsPerMonth float64) string {
	perDay := readsPerMonth / DaysPerMonth
	switch {
	case perDay > o.HotReadsPerDay:
		return "hot"
	case perDay > o.WarmReadsPerDay:
		return "warm"
	default:
		return "cold"
	}
}

// Recommendation is one row of tier_recommendations: where the asset is,
// where it should be, what that saves, and why. Money is USD.
type Recommendation struct {
	AssetKey      string `json:"asset_key"`
	Partition     string `json:"partition,omitempty"`
	StoragePrefix string `json:"storage_prefix,omitempty"`
	// SizeSource says where the priced size came from: object store,
	// metadata, or "" when unknown.
	SizeSource string `json:"size_source,omitempty"`
	Provider   string `json:"provider"`
	Region     string `json:"region"`

	CurrentClass     string `json:"current_class"`
	RecommendedClass string `json:"recommended_class"`
	// Action is one of the Action constants.
	Action string `json:"action"`

	// AccessCategory is the guide's hot/warm/cold label and GuideTier the
	// class the guide maps it to. GuideCostUSDMonth is what that class
	// really costs under this model and GuideClaimedSavingsUSDMonth what
	// the guide would claim (size x storage price difference only, and
	// negative when its tier is pricier than the current class).
	AccessCategory              string  `json:"access_category"`
	GuideTier                   string  `json:"guide_tier"`
	GuideCostUSDMonth           float64 `json:"guide_cost_usd_month"`
	GuideClaimedSavingsUSDMonth float64 `json:"guide_claimed_savings_usd_month"`

	SizeGB           float64 `json:"size_gb"`
	Objects          float64 `json:"objects"`
	ReadsPerMonth    float64 `json:"reads_per_month"`
	RewritesPerMonth float64 `json:"rewrites_per_month"`
	HistoryDays      float64 `json:"history_days"`

	CostNowUSDMonth         float64 `json:"cost_now_usd_month"`
	CostRecommendedUSDMonth float64 `json:"cost_recommended_usd_month"`
	// SavingsUSDMonth is cost now - cost recommended: zero unless a move
	// is recommended, and a move is only recommended when it pays back.
	SavingsUSDMonth float64 `json:"savings_usd_month"`
	SavingsUSDYear  float64 `json:"savings_usd_year"`

	// BreakEvenClass is the class the break-even figures compare with the
	// current one: the recommended class, or when staying the cheapest
	// class the asset may use. BreakEvenReadsPerMonth is the full-read rate
	// at which it stops being cheaper (0: it is never cheaper), and
	// BreakEvenIdleDays = 30 / that rate, the idle time after which moving
	// pays (the five-minute rule's interval, T* of §D.2).
	BreakEvenClass         string  `json:"break_even_class,omitempty"`
	BreakEvenReadsPerMonth float64 `json:"break_even_reads_per_month"`
	BreakEvenIdleDays      float64 `json:"break_even_idle_days"`

	// TransitionCostUSD is the one-time cost of the move: transition
	// requests (or restore and copy when moving to a hotter class) plus
	// the early-deletion charge of leaving the current class before its
	// minimum. RetrievalMarginUSD is one full read from the new class,
	// held back so that a single unexpected read cannot eat the savings.
	// PaybackMonths = (TransitionCostUSD + RetrievalMarginUSD) / savings.
	TransitionCostUSD  float64 `json:"transition_cost_usd"`
	RetrievalMarginUSD float64 `json:"retrieval_margin_usd"`
	PaybackMonths      float64 `json:"payback_months"`

	Reason string `json:"reason"`
	// Costs has every class of the provider, hottest first.
	Costs []Breakdown `json:"costs,omitempty"`
}

// candidate is one class weighed against staying put.
type candidate struct {
	name     string
	cost     Breakdown
	savings  float64
	move     float64 // transition or copy, plus early deletion
	margin   float64 // one retrieval
	blocked  string  // why the class may not be used at all ("" = allowed)
	paysBack bool
}

// RecommendAll runs Recommend over every usage, stopping at the first
// error.
func RecommendAll(sheet *PriceSheet, us []Usage, o Options) ([]Recommendation, error) {
	// The options and the class order are worked out once, not per usage.
	pr, err := o.validate(sheet)
	if err != nil {
		return nil, fmt.Errorf("recommend: %w", err)
	}
	names := pr.ClassNames()
	out := make([]Recommendation, 0, len(us))
	for _, u := range us {
		r, err := o.recommend(pr, names, u)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Recommend prices u in every class of the provider and picks the cheapest
// one that the asset may use and whose move pays back within
// o.PaybackMonths; otherwise the asset stays where it is.
func Recommend(sheet *PriceSheet, u Usage, o Options) (Recommendation, error) {
	pr, err := o.validate(sheet)
	if err != nil {
		return Recommendation{}, fmt.Errorf("recommend: %w", err)
	}
	return o.recommend(pr, pr.ClassNames(), u)
}

// recommend is Recommend with the options checked against pr, and pr's
// classes in names (pr.ClassNames()).
func (o Options) recommend(pr *Provider, names []string, u Usage) (Recommendation, error) {
	if err := u.validate(); err != nil {
		return Recommendation{}, fmt.Errorf("recommend %s: %w", u.label(), err)
	}
	cur, err := o.currentClass(pr, u)
	if err != nil {
		return Recommendation{}, fmt.Errorf("recommend %s: %w", u.label(), err)
	}
	rec := Recommendation{
		AssetKey:         u.AssetKey,
		Partition:        u.Partition,
		StoragePrefix:    u.StoragePrefix,
		SizeSource:       u.SizeSource,
		Provider:         strings.ToLower(o.Provider),
		Region:           pr.Region,
		CurrentClass:     cur,
		RecommendedClass: cur,
		Action:           ActionStay,
		AccessCategory:   o.category(u.ReadsPerMonth),
		SizeGB:           u.SizeBytes / pr.BytesPerGB,
		Objects:          objectCount(u),
		ReadsPerMonth:    u.ReadsPerMonth,
		RewritesPerMonth: u.RewritesPerMonth,
		HistoryDays:      u.HistoryDays,
	}
	switch rec.AccessCategory {
	case "hot":
		rec.GuideTier = pr.GuideTiers.Hot
	case "warm":
		rec.GuideTier = pr.GuideTiers.Warm
	default:
		rec.GuideTier = pr.GuideTiers.Cold
	}
	if u.SizeSource == SizeFromObjectStore && u.SizeBytes == 0 {
		// The store was read and holds nothing current at the location:
		// the objects were deleted after the last materialization. There
		// is nothing to move; what the versions left behind is priced as
		// orphans.
		rec.Reason = "no current objects at its location in the object store: nothing to move (noncurrent versions are priced in orphaned_objects)"
		return rec, nil
	}
	if !(u.SizeBytes > 0) {
		rec.Action = ActionSizeUnknown
		rec.Reason = "size unknown: no size metadata recorded, so nothing can be priced"
		return rec, nil
	}

	rec.Costs = make([]Breakdown, len(names))
	costOf := func(class string) Breakdown {
		for i, n := range names {
			if n == class {
				return rec.Costs[i]
			}
		}
		return Breakdown{}
	}
	for i, name := range names {
		rec.Costs[i] = pr.cost(name, u)
	}
	nowCost := costOf(cur)
	now := nowCost.TotalUSD
	rec.CostNowUSDMonth = now
	rec.CostRecommendedUSDMonth = now
	rec.GuideCostUSDMonth = costOf(rec.GuideTier).TotalUSD
	rec.GuideClaimedSavingsUSDMonth = rec.SizeGB *
		(pr.Classes[cur].StorageUSDPerGBMonth - pr.Classes[rec.GuideTier].StorageUSDPerGBMonth)

	if u.HistoryDays < o.MinHistoryDays {
		rec.Action = ActionInsufficientHistory
		rec.Reason = fmt.Sprintf("insufficient history: %s days observed, need %s",
			trimFloat(u.HistoryDays), trimFloat(o.MinHistoryDays))
		return rec, nil
	}

	cands := make([]candidate, 0, len(names))
	for i, name := range names {
		if name == cur {
			continue
		}
		c := candidate{name: name, cost: rec.Costs[i], savings: now - rec.Costs[i].TotalUSD}
		c.blocked = o.blocked(pr, cur, name, u)
		tr, early := pr.moveCost(cur, name, u)
		c.move = tr + early
		c.margin = pr.retrievalMargin(name, u)
		c.paysBack = c.savings > 0 && c.move+c.margin <= c.savings*o.PaybackMonths
		cands = append(cands, c)
	}

	// Cheapest allowed class that pays back; ties keep the current class,
	// then the hotter one, so a move is never made for nothing.
	var best *candidate
	for i := range cands {
		c := &cands[i]
		if c.blocked == "" && c.paysBack && c.cost.TotalUSD < now &&
			(best == nil || c.cost.TotalUSD < best.cost.TotalUSD) {
			best = c
		}
	}
	// The comparison class for the break-even figures when staying: the
	// cheapest class the asset may use, payback or not.
	cmp := best
	if cmp == nil {
		for i := range cands {
			c := &cands[i]
			if c.blocked == "" && (cmp == nil || c.cost.TotalUSD < cmp.cost.TotalUSD) {
				cmp = c
			}
		}
	}
	if cmp != nil {
		rec.BreakEvenClass = cmp.name
		rec.BreakEvenReadsPerMonth = pr.breakEvenReads(cur, cmp.name, u)
		if rec.BreakEvenReadsPerMonth > 0 {
			rec.BreakEvenIdleDays = DaysPerMonth / rec.BreakEvenReadsPerMonth
		}
	}

	if best != nil {
		rec.Action = ActionMove
		rec.RecommendedClass = best.name
		rec.CostRecommendedUSDMonth = best.cost.TotalUSD
		rec.SavingsUSDMonth = best.savings
		rec.SavingsUSDYear = best.savings * 12
		rec.TransitionCostUSD = best.move
		rec.RetrievalMarginUSD = best.margin
		rec.PaybackMonths = (best.move + best.margin) / best.savings
		rec.Reason = fmt.Sprintf("move to %s: %s/month instead of %s; one-time cost %s (+ %s margin for one read) pays back in %.1f months",
			best.name, usd(best.cost.TotalUSD), usd(now), usd(best.move), usd(best.margin), rec.PaybackMonths)
		return rec, nil
	}
	rec.Reason = stayReason(cur, nowCost, cands, o.PaybackMonths)
	return rec, nil
}

// blocked says why the asset may not go to class to at all, or "".
func (o Options) blocked(pr *Provider, cur, to string, u Usage) string {
	c := pr.Classes[to]
	if len(o.AllowedClasses) > 0 {
		ok := false
		for _, a := range o.AllowedClasses {
			ok = ok || strings.EqualFold(a, to)
		}
		if !ok {
			return "not in the allowed classes"
		}
	}
	if c.NeedsRestore && u.ReadByPipelines && !o.AllowArchiveForRead {
		return fmt.Sprintf("reads need a restore of up to %s h and a pipeline reads this asset", trimFloat(c.RestoreLatencyHours))
	}
	if obj := u.SizeBytes / objectCount(u); obj < c.MinTransitionObjectBytes {
		return fmt.Sprintf("objects average %s KiB, under the %s KiB below which lifecycle rules do not transition",
			trimFloat(math.Round(obj/1024*10)/10), trimFloat(c.MinTransitionObjectBytes/1024))
	}
	return ""
}

// moveCost is the one-time cost of moving u from class from to class to.
// Going down the waterfall is a lifecycle transition; going up cannot be,
// so it is priced as reading everything out of the current class and
// writing it again. Leaving a class before its minimum storage duration
// bills the rest of the minimum: the current version's age is taken as
// half the rewrite interval (the average age of a version), capped by the
// observed history.
func (pr *Provider) moveCost(from, to string, u Usage) (transition, early float64) {
	cf, ct := pr.Classes[from], pr.Classes[to]
	n := objectCount(u)
	if ct.Rank > cf.Rank {
		transition = ct.TransitionInUSDPer1k * n / 1000
	} else {
		transition = cf.RetrievalUSDPerGB*u.SizeBytes/pr.BytesPerGB +
			(cf.ReadUSDPer1k+cf.RestoreRequestUSDPer1k)*n/1000 + ct.WriteUSDPer1k*n/1000
	}
	if cf.MinStorageDays > 0 {
		age := u.HistoryDays
		if u.RewritesPerMonth > 0 {
			age = math.Min(age, DaysPerMonth/u.RewritesPerMonth/2)
		}
		if rem := cf.MinStorageDays - age; rem > 0 {
			classGB, _ := pr.billableGB(cf, u)
			price := cf.storagePrice(u.SizeBytes/n, u.ReadsPerMonth, versionLife(u))
			early = price * classGB * rem / DaysPerMonth
		}
	}
	return transition, early
}

// retrievalMargin is one full read of u from class to: the reference's
// rule (§D.5) never to recommend a move whose savings are below the
// transition cost plus one expected retrieval.
func (pr *Provider) retrievalMargin(to string, u Usage) float64 {
	c := pr.Classes[to]
	return c.RetrievalUSDPerGB*u.SizeBytes/pr.BytesPerGB +
		(c.ReadUSDPer1k+c.RestoreRequestUSDPer1k)*objectCount(u)/1000
}

// breakEvenReads finds the full-read rate at which class cmp stops being
// cheaper than class cur, holding everything else in u fixed. Both costs
// grow with reads, cmp's faster when it is the colder class, so one
// crossing is searched by bisection.
func (pr *Provider) breakEvenReads(cur, cmp string, u Usage) float64 {
	diff := func(k float64) float64 {
		v := u
		v.ReadsPerMonth = k
		return pr.cost(cmp, v).TotalUSD - pr.cost(cur, v).TotalUSD
	}
	if diff(0) >= 0 {
		return 0
	}
	lo, hi := 0.0, 1.0
	for diff(hi) < 0 {
		lo, hi = hi, hi*2
		if hi > maxBreakEvenReads {
			return maxBreakEvenReads
		}
	}
	for range 200 {
		mid := (lo + hi) / 2
		if mid == lo || mid == hi {
			break
		}
		if diff(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// stayReason names what keeps the asset where it is: the cheapest class
// it may not use, or a move that would not pay back, or simply that every
// other class costs more and which charge makes it so.
func stayReason(cur string, now Breakdown, cands []candidate, payback float64) string {
	var cheapest, runner *candidate
	for i := range cands {
		c := &cands[i]
		if c.savings > 0 && (cheapest == nil || c.cost.TotalUSD < cheapest.cost.TotalUSD) {
			cheapest = c
		}
		if runner == nil || c.cost.TotalUSD < runner.cost.TotalUSD {
			runner = c
		}
	}
	switch {
	case cheapest != nil && cheapest.blocked != "":
		return fmt.Sprintf("stay in %s: %s would save %s/month but %s", cur, cheapest.name, usd(cheapest.savings), cheapest.blocked)
	case cheapest != nil:
		return fmt.Sprintf("stay in %s: %s would save %s/month but moving costs %s (+ %s for one read), more than %s months of savings",
			cur, cheapest.name, usd(cheapest.savings), usd(cheapest.move), usd(cheapest.margin), trimFloat(payback))
	case runner != nil:
		return fmt.Sprintf("stay in %s: cheapest class; next best %s costs %s/month more, mostly %s",
			cur, runner.name, usd(-runner.savings), largestExtra(now, runner.cost))
	default:
		return fmt.Sprintf("stay in %s: no other class", cur)
	}
}

// largestExtra names the charge that grows most from b to a.
func largestExtra(b, a Breakdown) string {
	parts := []struct {
		name string
		d    float64
	}{
		{"storage", a.StorageUSD - b.StorageUSD},
		{"the minimum-duration charge", a.MinDurationUSD - b.MinDurationUSD},
		{"retrieval fees", a.RetrievalUSD - b.RetrievalUSD},
		{"read requests", a.ReadRequestsUSD - b.ReadRequestsUSD},
		{"write requests", a.WriteRequestsUSD - b.WriteRequestsUSD},
		{"transitions", a.TransitionUSD - b.TransitionUSD},
		{"monitoring fees", a.MonitoringUSD - b.MonitoringUSD},
	}
	best := parts[0]
	for _, p := range parts[1:] {
		if p.d > best.d {
			best = p
		}
	}
	return fmt.Sprintf("%s (+%s)", best.name, usd(best.d))
}

func usd(v float64) string {
	if math.Abs(v) < 0.01 && v != 0 {
		return fmt.Sprintf("$%.6f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}

func trimFloat(v float64) string { return fmt.Sprintf("%g", math.Round(v*100)/100) }
