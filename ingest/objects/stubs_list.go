package objects

import (
	"context"
	"errors"
)

// errNotBuilt is what a source kind whose reader is not written yet fails with.
var errNotBuilt = errors.New("this source kind is not built yet")

// Filled in by the live listing; until then a source of its kind fails
// clearly.
func listAzure(ctx context.Context, src Source, bucket, prefix string, s *Snapshot) error {
	return errNotBuilt
}
