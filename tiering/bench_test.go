package tiering

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkRecommendAll prices a deployment's worth of assets and
// partitions in every class of each provider.
func BenchmarkRecommendAll(b *testing.B) {
	sheet, err := DefaultPriceSheet()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10_000} {
		rng := rand.New(rand.NewPCG(9, 9))
		us := make([]Usage, n)
		for i := range us {
			us[i] = randomUsage(rng)
		}
		for _, provider := range []string{"aws", "gcp", "azure"} {
			o := DefaultOptions()
			o.Provider = provider
			b.Run(fmt.Sprintf("provider=%s,usages=%d", provider, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := RecommendAll(sheet, us, o); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
