package tiering

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Policy file names LifecyclePolicies produces.
const (
	S3LifecycleFile     = "s3-lifecycle.json"
	GCSLifecycleFile    = "gcs-lifecycle.json"
	GCSAutoclassFile    = "gcs-autoclass.json"
	AzurePolicyFile     = "azure-management-policy.json"
	maxS3Rules          = 1000
	maxGCSRules         = 100
	maxAzureRules       = 100
	azureRuleNameMaxLen = 256
	s3RuleIDMaxLen      = 255
)

// LifecyclePolicies renders the moves of recs for one provider as
// ready-to-apply policy documents, keyed by file name:
//
//   - aws: an S3 lifecycle configuration (put-bucket-lifecycle-configuration),
//     one rule per prefix transitioning after Days;
//   - gcp: a GCS lifecycle configuration (SetStorageClass on age and
//     prefix), plus a bucket Autoclass setting if any asset should use it;
//   - azure: a storage-account management policy moving blobs with
//     daysAfterLastAccessTimeGreaterThan (needs last-access tracking on).
//
// Only recommendations whose action is a move down the provider's
// lifecycle waterfall appear: staying costs nothing to configure, and a
// move to a hotter class is a copy no lifecycle rule can do. For
// written-once data the wait is the break-even idle days rounded up; S3 and
// GCS count it from object creation, which for a partition nobody reads is
// its idle time. Rewritten assets move at once (the cost model priced every
// version in the new class). The wait is never below the class's minimum
// transition age (30 days for S3 Standard-IA), so an asset rewritten more
// often than that can only get there by writing into the class directly
// (the I/O manager's storage class). Intelligent-Tiering and Autoclass
// manage their own timing. No moves give an empty map.
func LifecyclePolicies(sheet *PriceSheet, recs []Recommendation, provider string) (map[string][]byte, error) {
	pr, err := sheet.lookup(provider)
	if err != nil {
		return nil, fmt.Errorf("lifecycle policies: %w", err)
	}
	provider = strings.ToLower(provider)
	type move struct {
		prefix, from, to string
		days             int
		managed          bool
	}
	var moves []move
	seen := map[string]bool{}
	downward := func(r Recommendation) (bool, error) {
		from, ok1 := pr.Classes[r.CurrentClass]
		to, ok2 := pr.Classes[r.RecommendedClass]
		if !ok1 || !ok2 {
			return false, fmt.Errorf("lifecycle policies: %s: unknown class %s or %s", r.AssetKey, r.CurrentClass, r.RecommendedClass)
		}
		return r.Action == ActionMove && to.Rank > from.Rank, nil
	}
	perAsset, err := assetRules(pr, recs, provider, downward)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Provider != provider || r.Action != ActionMove {
			continue
		}
		down, err := downward(r)
		if err != nil {
			return nil, err
		}
		if !down {
			continue
		}
		prefix, days := policyPrefix(r), transitionDays(pr.Classes[r.RecommendedClass], r)
		if a, ok := perAsset[r.AssetKey]; ok && r.Partition != "" {
			prefix, days = a.prefix, a.days
		}
		if seen[prefix] {
			continue
		}
		seen[prefix] = true
		moves = append(moves, move{prefix: prefix, from: r.CurrentClass, to: r.RecommendedClass, days: days, managed: pr.Classes[r.RecommendedClass].Managed})
	}
	slices.SortFunc(moves, func(a, b move) int { return cmp.Compare(a.prefix, b.prefix) })
	out := map[string][]byte{}
	if len(moves) == 0 {
		return out, nil
	}

	switch provider {
	case "aws":
		if len(moves) > maxS3Rules {
			return nil, fmt.Errorf("lifecycle policies: %d S3 rules exceed the limit of %d per bucket", len(moves), maxS3Rules)
		}
		type transition struct {
			Days         int    `json:"Days"`
			StorageClass string `json:"StorageClass"`
		}
		type rule struct {
			ID          string            `json:"ID"`
			Filter      map[string]string `json:"Filter"`
			Status      string            `json:"Status"`
			Transitions []transition      `json:"Transitions"`
		}
		var doc struct {
			Rules []rule `json:"Rules"`
		}
		for _, m := range moves {
			id := truncate("matlens "+m.prefix+" to "+m.to, s3RuleIDMaxLen)
			doc.Rules = append(doc.Rules, rule{ID: id, Filter: map[string]string{"Prefix": m.prefix}, Status: "Enabled",
				Transitions: []transition{{Days: m.days, StorageClass: m.to}}})
		}
		return out, putJSON(out, S3LifecycleFile, doc)

	case "gcp":
		type action struct {
			Type         string `json:"type"`
			StorageClass string `json:"storageClass"`
		}
		type condition struct {
			Age                 int      `json:"age"`
			MatchesPrefix       []string `json:"matchesPrefix"`
			MatchesStorageClass []string `json:"matchesStorageClass"`
		}
		type rule struct {
			Action    action    `json:"action"`
			Condition condition `json:"condition"`
		}
		var rules []rule
		autoclass := false
		for _, m := range moves {
			if m.managed {
				autoclass = true
				continue
			}
			rules = append(rules, rule{action{"SetStorageClass", m.to}, condition{m.days, []string{m.prefix}, []string{m.from}}})
		}
		if len(rules) > maxGCSRules {
			return nil, fmt.Errorf("lifecycle policies: %d GCS rules exceed the limit of %d per bucket", len(rules), maxGCSRules)
		}
		if len(rules) > 0 {
			var doc struct {
				Lifecycle struct {
					Rule []rule `json:"rule"`
				} `json:"lifecycle"`
			}
			doc.Lifecycle.Rule = rules
			if err := putJSON(out, GCSLifecycleFile, doc); err != nil {
				return nil, err
			}
		}
		if autoclass {
			// Autoclass is a bucket setting: this is the bucket resource
			// patch, for the bucket that holds the assets recommended for it.
			terminal := "NEARLINE"
			for _, n := range pr.ClassNames() {
				if c := pr.Classes[n]; c.Managed && len(c.Tiers) > 0 {
					terminal = c.Tiers[len(c.Tiers)-1].Name
				}
			}
			doc := map[string]any{"autoclass": map[string]any{"enabled": true, "terminalStorageClass": terminal}}
			if err := putJSON(out, GCSAutoclassFile, doc); err != nil {
				return nil, err
			}
		}
		return out, nil

	case "azure":
		if len(moves) > maxAzureRules {
			return nil, fmt.Errorf("lifecycle policies: %d Azure rules exceed the limit of %d per policy", len(moves), maxAzureRules)
		}
		type filters struct {
			BlobTypes   []string `json:"blobTypes"`
			PrefixMatch []string `json:"prefixMatch"`
		}
		type definition struct {
			Actions map[string]map[string]map[string]int `json:"actions"`
			Filters filters                              `json:"filters"`
		}
		type rule struct {
			Enabled    bool       `json:"enabled"`
			Name       string     `json:"name"`
			Type       string     `json:"type"`
			Definition definition `json:"definition"`
		}
		var doc struct {
			Rules []rule `json:"rules"`
		}
		for i, m := range moves {
			name := truncate(fmt.Sprintf("matlens%03d%s", i+1, alnum(m.prefix)+"To"+m.to), azureRuleNameMaxLen)
			doc.Rules = append(doc.Rules, rule{
				Enabled: true, Name: name, Type: "Lifecycle",
				Definition: definition{
					Actions: map[string]map[string]map[string]int{"baseBlob": {
						"tierTo" + m.to: {"daysAfterLastAccessTimeGreaterThan": m.days},
					}},
					Filters: filters{BlobTypes: []string{"blockBlob"}, PrefixMatch: []string{m.prefix}},
				},
			})
		}
		return out, putJSON(out, AzurePolicyFile, doc)
	}
	return nil, fmt.Errorf("lifecycle policies: no policy format for provider %q", provider)
}

// transitionDays is how long after creation r's objects should wait
// before the lifecycle rule moves them to class to. A rewritten asset was
// priced as if each version went to the new class right away, so its rule
// fires at once; waiting for the break-even idle time only makes sense for
// written-once data.
func transitionDays(to *Class, r Recommendation) int {
	days := 0.0
	if !to.Managed && r.RewritesPerMonth == 0 {
		days = math.Ceil(r.BreakEvenIdleDays - 1e-9)
	}
	return int(math.Max(days, to.MinTransitionAgeDays))
}

type assetRule struct {
	prefix string
	days   int
}

// assetRules finds the partitioned assets whose moves one lifecycle rule
// on the asset's own prefix makes: every partition is a time window, the
// moving ones (two or more) all go from one class to one class, no
// partition older than the youngest of them stays, and their prefixes
// share a directory that holds no other asset. The rule waits as long as the latest-paying of those moves,
// so no partition moves before it pays, and it keeps moving the partitions
// written after today, which per-partition rules would not (and would
// exhaust the providers' 100 to 1,000 rules per bucket).
func assetRules(pr *Provider, recs []Recommendation, provider string, downward func(Recommendation) (bool, error)) (map[string]assetRule, error) {
	type part struct {
		rec  Recommendation
		day  time.Time
		down bool
	}
	byAsset := map[string][]part{}
	var others []Recommendation
	undated := map[string]bool{}
	for _, r := range recs {
		if r.Provider != provider {
			continue
		}
		others = append(others, r)
		if r.Partition == "" {
			continue
		}
		day, ok := partitionStart(r.Partition)
		if !ok {
			undated[r.AssetKey] = true
		}
		down, err := downward(r)
		if err != nil {
			return nil, err
		}
		byAsset[r.AssetKey] = append(byAsset[r.AssetKey], part{r, day, down})
	}
	out := map[string]assetRule{}
	for asset, parts := range byAsset {
		if undated[asset] {
			continue
		}
		var moving []part
		var youngestMove time.Time
		for _, p := range parts {
			if p.down {
				moving = append(moving, p)
				if p.day.After(youngestMove) {
					youngestMove = p.day
				}
			}
		}
		if len(moving) < 2 {
			continue
		}
		ok := true
		days := 0
		common := policyPrefix(parts[0].rec)
		for _, p := range parts {
			common = commonDir(common, policyPrefix(p.rec))
			if p.down {
				ok = ok && p.rec.CurrentClass == moving[0].rec.CurrentClass && p.rec.RecommendedClass == moving[0].rec.RecommendedClass
				days = max(days, transitionDays(pr.Classes[p.rec.RecommendedClass], p.rec))
			} else if p.rec.Action == ActionStay {
				// A stay is evidence that moving this partition costs money;
				// a partition without enough history or a size is not, and an
				// age rule counts from its (recent) creation anyway.
				ok = ok && p.day.After(youngestMove)
			}
		}
		if !ok || common == "" {
			continue
		}
		if slices.ContainsFunc(others, func(r Recommendation) bool {
			return r.AssetKey != asset && strings.HasPrefix(policyPrefix(r), common)
		}) {
			continue // another asset lives under the same directory
		}
		out[asset] = assetRule{prefix: common, days: days}
	}
	return out, nil
}

// commonDir is the longest common prefix of a and b that ends in '/'.
func commonDir(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:strings.LastIndexByte(a[:n], '/')+1]
}

func policyPrefix(r Recommendation) string {
	if r.StoragePrefix != "" {
		return r.StoragePrefix
	}
	p := r.AssetKey + "/"
	if r.Partition != "" {
		p += r.Partition + "/"
	}
	return p
}

func putJSON(out map[string][]byte, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	out[name] = append(b, '\n')
	return nil
}

func alnum(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func truncate(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
