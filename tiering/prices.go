package tiering

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// defaultSheetYAML is the price sheet shipped in the binary. It is data, not
// code, so that a dated snapshot can be reviewed, diffed and overridden
// without touching the cost model.
//
//go:embed prices.yaml
var defaultSheetYAML []byte

// PriceSheet holds list prices for every provider matlens knows. Load it
// with DefaultPriceSheet or LoadPriceSheet; apply a user's corrections with
// Override. A sheet is not safe for concurrent mutation, but any number of
// goroutines may read it.
type PriceSheet struct {
	// Version names the snapshot, so a report can say which prices it used.
	Version   string               `yaml:"version" json:"version"`
	Currency  string               `yaml:"currency" json:"currency"`
	Providers map[string]*Provider `yaml:"providers" json:"providers"`
}

// Provider is one cloud's object store in one region.
type Provider struct {
	Name       string `yaml:"name" json:"name"`
	Region     string `yaml:"region" json:"region"`
	AsOf       string `yaml:"as_of" json:"as_of"`
	Source     string `yaml:"source" json:"source"`
	Disputed   bool   `yaml:"disputed" json:"disputed"`
	Unverified bool   `yaml:"unverified" json:"unverified"`
	Note       string `yaml:"note" json:"note,omitempty"`
	// BytesPerGB is the size of the "GB" the provider bills storage in
	// (2^30 for GCS, which prices per GiB).
	BytesPerGB float64 `yaml:"bytes_per_gb" json:"bytes_per_gb"`
	// DefaultClass is where new objects land and where an asset is assumed
	// to live when the config names no class.
	DefaultClass string            `yaml:"default_class" json:"default_class"`
	GuideTiers   GuideTiers        `yaml:"guide_tiers" json:"guide_tiers"`
	Egress       Egress            `yaml:"egress" json:"egress"`
	Classes      map[string]*Class `yaml:"classes" json:"classes"`
}

// GuideTiers is the planning guide's naive mapping of access labels to
// classes, kept so reports can show where matlens disagrees with it.
type GuideTiers struct {
	Hot  string `yaml:"hot" json:"hot"`
	Warm string `yaml:"warm" json:"warm"`
	Cold string `yaml:"cold" json:"cold"`
}

// Egress is the provider's internet data-transfer-out price schedule.
type Egress struct {
	AsOf       string       `yaml:"as_of" json:"as_of"`
	Source     string       `yaml:"source" json:"source"`
	Disputed   bool         `yaml:"disputed" json:"disputed"`
	Unverified bool         `yaml:"unverified" json:"unverified"`
	Note       string       `yaml:"note" json:"note,omitempty"`
	Tiers      []EgressTier `yaml:"tiers" json:"tiers"`
}

// EgressTier prices the monthly volume up to UpToGB (cumulative from zero;
// 0 means unbounded, and only the last tier may be unbounded).
type EgressTier struct {
	UpToGB   float64 `yaml:"up_to_gb" json:"up_to_gb"`
	USDPerGB float64 `yaml:"usd_per_gb" json:"usd_per_gb"`
}

// Class is one storage class (S3, GCS) or access tier (Azure). All request
// prices are per 1,000 requests; storage is per GB-month in the provider's
// BytesPerGB.
type Class struct {
	Name string `yaml:"name" json:"name"`
	// Rank is the class's position in the provider's lifecycle waterfall:
	// lifecycle rules only move objects to a higher rank, and anything else
	// is a copy.
	Rank       int    `yaml:"rank" json:"rank"`
	Region     string `yaml:"region" json:"region"`
	AsOf       string `yaml:"as_of" json:"as_of"`
	Source     string `yaml:"source" json:"source"`
	Disputed   bool   `yaml:"disputed" json:"disputed"`
	Unverified bool   `yaml:"unverified" json:"unverified"`
	Note       string `yaml:"note" json:"note,omitempty"`

	// Archive marks archive-grade classes (informational); NeedsRestore
	// marks those whose reads wait hours for a restore, which a pipeline
	// cannot do.
	Archive             bool    `yaml:"archive" json:"archive"`
	NeedsRestore        bool    `yaml:"needs_restore" json:"needs_restore"`
	RestoreLatencyHours float64 `yaml:"restore_latency_hours" json:"restore_latency_hours"`
	// Managed marks classes that move objects between Tiers on their own
	// (S3 Intelligent-Tiering, GCS Autoclass).
	Managed bool `yaml:"managed" json:"managed"`

	StorageUSDPerGBMonth float64        `yaml:"storage_usd_per_gb_month" json:"storage_usd_per_gb_month"`
	StorageVolumeTiers   []VolumeTier   `yaml:"storage_volume_tiers" json:"storage_volume_tiers,omitempty"`
	Tiers                []ManagedTier  `yaml:"tiers" json:"tiers,omitempty"`
	RetrievalUSDPerGB    float64        `yaml:"retrieval_usd_per_gb" json:"retrieval_usd_per_gb"`
	RetrievalOptions     []RetrievalOpt `yaml:"retrieval_options" json:"retrieval_options,omitempty"`

	MinStorageDays         float64 `yaml:"min_storage_days" json:"min_storage_days"`
	MinBillableObjectBytes float64 `yaml:"min_billable_object_bytes" json:"min_billable_object_bytes"`
	// Per-object overhead billed on top of the data (Glacier Flexible
	// Retrieval and Deep Archive): part at this class's rate, part at the
	// provider's default class rate.
	OverheadClassBytes   float64 `yaml:"overhead_class_bytes_per_object" json:"overhead_class_bytes_per_object"`
	OverheadDefaultBytes float64 `yaml:"overhead_default_bytes_per_object" json:"overhead_default_bytes_per_object"`

	WriteUSDPer1k          float64 `yaml:"write_usd_per_1k" json:"write_usd_per_1k"`
	ReadUSDPer1k           float64 `yaml:"read_usd_per_1k" json:"read_usd_per_1k"`
	RestoreRequestUSDPer1k float64 `yaml:"restore_request_usd_per_1k" json:"restore_request_usd_per_1k"`
	TransitionInUSDPer1k   float64 `yaml:"transition_in_usd_per_1k" json:"transition_in_usd_per_1k"`
	// Lifecycle constraints: objects younger or smaller than these are not
	// transitioned into the class.
	MinTransitionAgeDays     float64 `yaml:"min_transition_age_days" json:"min_transition_age_days"`
	MinTransitionObjectBytes float64 `yaml:"min_transition_object_bytes" json:"min_transition_object_bytes"`

	MonitoringUSDPer1kObjectsMonth float64 `yaml:"monitoring_usd_per_1k_objects_month" json:"monitoring_usd_per_1k_objects_month"`
	// Objects smaller than this are neither monitored nor tiered by a
	// managed class: they stay in its first tier and pay no fee.
	MonitoringMinObjectBytes float64 `yaml:"monitoring_min_object_bytes" json:"monitoring_min_object_bytes"`
}

// VolumeTier is a bucket-level volume discount (display only: the model
// prices each asset at the class's StorageUSDPerGBMonth).
type VolumeTier struct {
	UpToGB        float64 `yaml:"up_to_gb" json:"up_to_gb"`
	USDPerGBMonth float64 `yaml:"usd_per_gb_month" json:"usd_per_gb_month"`
}

// ManagedTier is one tier of a managed class: objects not accessed for
// AfterIdleDays days are stored at its price.
type ManagedTier struct {
	Name          string  `yaml:"name" json:"name"`
	AfterIdleDays float64 `yaml:"after_idle_days" json:"after_idle_days"`
	USDPerGBMonth float64 `yaml:"storage_usd_per_gb_month" json:"storage_usd_per_gb_month"`
}

// RetrievalOpt is one restore speed of an archive class (display only: the
// model uses the class's standard retrieval fields).
type RetrievalOpt struct {
	Name            string  `yaml:"name" json:"name"`
	USDPerGB        float64 `yaml:"usd_per_gb" json:"usd_per_gb"`
	RequestUSDPer1k float64 `yaml:"request_usd_per_1k" json:"request_usd_per_1k"`
	LatencyHours    float64 `yaml:"latency_hours" json:"latency_hours"`
}

// DefaultPriceSheet returns a fresh copy of the embedded price sheet.
func DefaultPriceSheet() (*PriceSheet, error) {
	s, err := LoadPriceSheet(bytes.NewReader(defaultSheetYAML))
	if err != nil {
		return nil, fmt.Errorf("embedded price sheet: %w", err)
	}
	return s, nil
}

// LoadPriceSheet decodes a complete price sheet and validates it. Unknown
// keys are errors: a misspelt price would otherwise silently keep its old
// value.
func LoadPriceSheet(r io.Reader) (*PriceSheet, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var s PriceSheet
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode price sheet: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Override applies a user's partial price sheet on top of p: any field of
// any provider, egress schedule or class may be given, and lists (tiers,
// options) replace the sheet's list whole. Keys that do not exist in p
// (misspelt fields, providers or classes) are errors naming the key's path.
// On error p is unchanged.
func (p *PriceSheet) Override(r io.Reader) error {
	var user yaml.Node
	dec := yaml.NewDecoder(r)
	if err := dec.Decode(&user); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file overrides nothing
		}
		return fmt.Errorf("decode price override: %w", err)
	}
	var base yaml.Node
	if err := base.Encode(p); err != nil {
		return fmt.Errorf("encode price sheet: %w", err)
	}
	if err := mergeNode(&base, docRoot(&user), ""); err != nil {
		return fmt.Errorf("price override: %w", err)
	}
	out, err := yaml.Marshal(&base)
	if err != nil {
		return fmt.Errorf("encode price sheet: %w", err)
	}
	merged, err := LoadPriceSheet(bytes.NewReader(out))
	if err != nil {
		return fmt.Errorf("price override: %w", err)
	}
	*p = *merged
	return nil
}

func docRoot(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return n.Content[0]
	}
	return n
}

// mergeNode walks the user's mapping alongside the base one. Only mappings
// merge key by key; a scalar or a list in the user file replaces the base
// value, so a user never has to restate a whole class to change one price.
func mergeNode(base, user *yaml.Node, path string) error {
	base = docRoot(base)
	if user.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: want a mapping", displayPath(path))
	}
	if base.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: not a mapping", displayPath(path))
	}
	for i := 0; i+1 < len(user.Content); i += 2 {
		key, uv := user.Content[i].Value, user.Content[i+1]
		kp := key
		if path != "" {
			kp = path + "." + key
		}
		bi := -1
		for j := 0; j+1 < len(base.Content); j += 2 {
			if base.Content[j].Value == key {
				bi = j + 1
				break
			}
		}
		if bi < 0 {
			return fmt.Errorf("unknown key %q (known: %s)", kp, strings.Join(mappingKeys(base), ", "))
		}
		bv := base.Content[bi]
		if bv.Kind == yaml.MappingNode {
			if err := mergeNode(bv, uv, kp); err != nil {
				return err
			}
			continue
		}
		if uv.Kind == yaml.MappingNode {
			return fmt.Errorf("%s: want a %s, not a mapping", kp, kindName(bv.Kind))
		}
		base.Content[bi] = uv
	}
	return nil
}

func displayPath(p string) string {
	if p == "" {
		return "top level"
	}
	return p
}

func kindName(k yaml.Kind) string {
	if k == yaml.SequenceNode {
		return "list"
	}
	return "value"
}

func mappingKeys(n *yaml.Node) []string {
	var ks []string
	for j := 0; j+1 < len(n.Content); j += 2 {
		ks = append(ks, n.Content[j].Value)
	}
	return ks
}

// Validate checks that the sheet is usable by the cost model and carries
// its provenance: every provider and class needs a region, an as-of date
// and a source, and a disputed entry needs a note saying how.
func (p *PriceSheet) Validate() error {
	if len(p.Providers) == 0 {
		return errors.New("price sheet: no providers")
	}
	var errs []error
	for _, pn := range sortedKeys(p.Providers) {
		if err := p.Providers[pn].validate(); err != nil {
			errs = append(errs, fmt.Errorf("provider %s: %w", pn, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("price sheet: %w", errors.Join(errs...))
	}
	return nil
}

func (pr *Provider) validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if pr == nil {
		return errors.New("empty")
	}
	if err := provenance(pr.Region, pr.AsOf, pr.Source, pr.Disputed, pr.Note); err != nil {
		add("%w", err)
	}
	if !(pr.BytesPerGB > 0) {
		add("bytes_per_gb must be > 0")
	}
	if len(pr.Classes) == 0 {
		add("no classes")
	}
	for _, c := range []struct{ field, name string }{
		{"default_class", pr.DefaultClass},
		{"guide_tiers.hot", pr.GuideTiers.Hot},
		{"guide_tiers.warm", pr.GuideTiers.Warm},
		{"guide_tiers.cold", pr.GuideTiers.Cold},
	} {
		if _, ok := pr.Classes[c.name]; !ok {
			add("%s %q is not a class", c.field, c.name)
		}
	}
	if err := provenance("-", pr.Egress.AsOf, pr.Egress.Source, pr.Egress.Disputed, pr.Egress.Note); err != nil {
		add("egress: %w", err)
	}
	for i, t := range pr.Egress.Tiers {
		last := i == len(pr.Egress.Tiers)-1
		switch {
		case t.USDPerGB < 0 || math.IsNaN(t.USDPerGB):
			add("egress tier %d: negative price", i)
		case t.UpToGB == 0 && !last:
			add("egress tier %d: only the last tier may be unbounded", i)
		case t.UpToGB != 0 && (last || (i > 0 && t.UpToGB <= pr.Egress.Tiers[i-1].UpToGB)):
			add("egress tier %d: bounds must increase and the last tier be unbounded (up_to_gb: 0)", i)
		}
	}
	if len(pr.Egress.Tiers) == 0 {
		add("egress: no tiers")
	}
	ranks := map[int]string{}
	for _, cn := range sortedKeys(pr.Classes) {
		c := pr.Classes[cn]
		if c == nil {
			add("class %s: empty", cn)
			continue
		}
		if other, dup := ranks[c.Rank]; dup {
			add("class %s: rank %d already used by %s", cn, c.Rank, other)
		}
		ranks[c.Rank] = cn
		if err := c.validate(); err != nil {
			add("class %s: %w", cn, err)
		}
	}
	if d, ok := pr.Classes[pr.DefaultClass]; ok && d.Managed {
		add("default_class %s must not be a managed class", pr.DefaultClass)
	}
	return errors.Join(errs...)
}

func (c *Class) validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := provenance(c.Region, c.AsOf, c.Source, c.Disputed, c.Note); err != nil {
		add("%w", err)
	}
	errs = append(errs, finiteNonNegative([]namedValue{
		{"storage_usd_per_gb_month", c.StorageUSDPerGBMonth},
		{"retrieval_usd_per_gb", c.RetrievalUSDPerGB},
		{"min_storage_days", c.MinStorageDays},
		{"min_billable_object_bytes", c.MinBillableObjectBytes},
		{"overhead_class_bytes_per_object", c.OverheadClassBytes},
		{"overhead_default_bytes_per_object", c.OverheadDefaultBytes},
		{"write_usd_per_1k", c.WriteUSDPer1k},
		{"read_usd_per_1k", c.ReadUSDPer1k},
		{"restore_request_usd_per_1k", c.RestoreRequestUSDPer1k},
		{"transition_in_usd_per_1k", c.TransitionInUSDPer1k},
		{"min_transition_age_days", c.MinTransitionAgeDays},
		{"min_transition_object_bytes", c.MinTransitionObjectBytes},
		{"monitoring_usd_per_1k_objects_month", c.MonitoringUSDPer1kObjectsMonth},
		{"monitoring_min_object_bytes", c.MonitoringMinObjectBytes},
		{"restore_latency_hours", c.RestoreLatencyHours},
	})...)
	if c.NeedsRestore && c.RestoreLatencyHours <= 0 {
		add("needs_restore requires restore_latency_hours > 0")
	}
	if c.Managed {
		if len(c.Tiers) == 0 {
			add("managed class needs tiers")
		}
		for i, t := range c.Tiers {
			switch {
			case i == 0 && t.AfterIdleDays != 0:
				add("tier 0 must start at after_idle_days 0")
			case i > 0 && t.AfterIdleDays <= c.Tiers[i-1].AfterIdleDays:
				add("tier %d: after_idle_days must increase", i)
			case t.USDPerGBMonth < 0 || math.IsNaN(t.USDPerGBMonth):
				add("tier %d: negative price", i)
			}
		}
		if c.MinStorageDays > 0 {
			add("managed class with min_storage_days is not modelled")
		}
	} else if len(c.Tiers) > 0 {
		add("tiers given but managed is false")
	}
	return errors.Join(errs...)
}

// provenance is the rule that no price enters the sheet without saying
// where and when it was seen.
func provenance(region, asOf, source string, disputed bool, note string) error {
	var errs []error
	if region == "" {
		errs = append(errs, errors.New("region is empty"))
	}
	if source == "" {
		errs = append(errs, errors.New("source is empty"))
	}
	if _, err := parseAsOf(asOf); err != nil {
		errs = append(errs, err)
	}
	if disputed && note == "" {
		errs = append(errs, errors.New("disputed entry needs a note"))
	}
	return errors.Join(errs...)
}

func parseAsOf(s string) (time.Time, error) {
	for _, layout := range []string{time.DateOnly, "2006-01"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("as_of %q is not YYYY-MM-DD or YYYY-MM", s)
}

// ProviderNames returns the sheet's providers in name order.
func (p *PriceSheet) ProviderNames() []string { return sortedKeys(p.Providers) }

// lookup resolves a provider name; the error lists the valid ones because
// the name usually comes straight from a flag or config file.
func (p *PriceSheet) lookup(name string) (*Provider, error) {
	if p == nil {
		return nil, errors.New("nil price sheet")
	}
	pr, ok := p.Providers[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("unknown provider %q (known: %s)", name, strings.Join(p.ProviderNames(), ", "))
	}
	return pr, nil
}

// ClassNames returns the provider's classes in waterfall order, hottest
// first.
func (pr *Provider) ClassNames() []string {
	names := sortedKeys(pr.Classes)
	sort.SliceStable(names, func(i, j int) bool { return pr.Classes[names[i]].Rank < pr.Classes[names[j]].Rank })
	return names
}

// CanonicalClass maps a user-supplied class name to the sheet's spelling,
// ignoring case, so configs may say "standard_ia" or "cool".
func (pr *Provider) CanonicalClass(name string) (string, error) {
	if _, ok := pr.Classes[name]; ok {
		return name, nil
	}
	for _, n := range pr.ClassNames() {
		if strings.EqualFold(n, name) {
			return n, nil
		}
	}
	return "", fmt.Errorf("unknown class %q for %s (known: %s)", name, pr.Name, strings.Join(pr.ClassNames(), ", "))
}

// EgressUSD prices gb of internet egress in one month through the tiers.
func (pr *Provider) EgressUSD(gb float64) float64 {
	var usd, lo float64
	for _, t := range pr.Egress.Tiers {
		hi := t.UpToGB
		if hi == 0 {
			hi = math.Inf(1)
		}
		if gb <= lo {
			break
		}
		usd += (math.Min(gb, hi) - lo) * t.USDPerGB
		lo = hi
	}
	return usd
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
