package objects

import "context"

// Filled in by the inventory readers; until then a source of their kind
// fails clearly.
func readS3Inventory(ctx context.Context, src Source, s *Snapshot) error    { return errNotBuilt }
func readGCSInventory(ctx context.Context, src Source, s *Snapshot) error   { return errNotBuilt }
func readAzureInventory(ctx context.Context, src Source, s *Snapshot) error { return errNotBuilt }
