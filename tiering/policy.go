package tiering

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
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
	for _, r := range recs {
		if r.Provider != provider || r.Action != ActionMove {
			continue
		}
		from, ok1 := pr.Classes[r.CurrentClass]
		to, ok2 := pr.Classes[r.RecommendedClass]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("lifecycle policies: %s: unknown class %s or %s", r.AssetKey, r.CurrentClass, r.RecommendedClass)
		}
		if to.Rank <= from.Rank {
			continue
		}
		prefix := policyPrefix(r)
		if seen[prefix] {
			continue
		}
		seen[prefix] = true
		// A rewritten asset was priced as if each version went to the new
		// class right away, so its rule fires at once; waiting for the
		// break-even idle time only makes sense for written-once data.
		days := 0.0
		if !to.Managed && r.RewritesPerMonth == 0 {
			days = math.Ceil(r.BreakEvenIdleDays - 1e-9)
		}
		days = math.Max(days, to.MinTransitionAgeDays)
		moves = append(moves, move{prefix: prefix, from: r.CurrentClass, to: r.RecommendedClass, days: int(days), managed: to.Managed})
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
