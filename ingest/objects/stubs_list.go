package objects

import (
	"context"
	"errors"
)

// errNotBuilt is what a source kind whose reader is not written yet fails with.
var errNotBuilt = errors.New("this source kind is not built yet")

// Filled in by the live listings; until then a source of their kind fails
// clearly.
func listS3(ctx context.Context, src Source, bucket, prefix string, s *Snapshot) error {
	return errNotBuilt
}
func listGCS(ctx context.Context, src Source, bucket, prefix string, s *Snapshot) error {
	return errNotBuilt
}
