package tiering

import (
	"fmt"
	"math"
)

// namedValue is a number paired with the key it is read from, so that a
// rejection names the key the user wrote.
type namedValue struct {
	name string
	v    float64
}

// finiteNonNegative returns one error for each value that is negative, NaN
// or infinite: prices and usage counts are all quantities, never signed.
func finiteNonNegative(vs []namedValue) []error {
	var errs []error
	for _, f := range vs {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			errs = append(errs, fmt.Errorf("%s must be a finite number >= 0, got %v", f.name, f.v))
		}
	}
	return errs
}
