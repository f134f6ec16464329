package analyze

// RecommendWithAllocator lets tests check that recommend releases every
// Arrow record it builds.
var RecommendWithAllocator = recommend

// ReferenceExec and NearestRank let the database-level tests check the
// published execution statistics against the same independent computation
// the describeExec tests use.
var (
	ReferenceExec = referenceExec
	NearestRank   = nearestRank
)
