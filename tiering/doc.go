// Package tiering recommends object-storage classes for Dagster assets and
// says what the move saves, counting every charge that can eat the savings.
//
// The planning guide maps hot/warm/cold access straight to Standard, IA and
// Glacier and multiplies size by price. That recommends cold classes for
// assets that are rewritten daily (each version is billed for the class's
// minimum duration) or read often enough that retrieval fees exceed the
// storage saved. Instead, CostPerMonth prices an asset (or one partition)
// in every class with the steady-state model of the pricing reference
// (§D.2): storage with the minimum-duration penalty, retrieval, read and
// write requests, lifecycle transitions, monitoring fees and minimum
// billable sizes. Recommend picks the cheapest class the asset may use (no
// restore-bound archive for assets pipelines read) whose one-time move cost
// pays back within a horizon, and reports the guide's label alongside so
// the two can be compared. LifecyclePolicies turns the moves into S3, GCS
// and Azure policy documents.
//
// Prices come from a dated, sourced PriceSheet embedded in the binary
// (prices.yaml) and overridable field by field from a user file.
//
// The package is pure: no I/O beyond reading a price sheet, no logging,
// and it imports nothing else from matlens. docs/tiering.md explains the
// method with a worked example.
package tiering
