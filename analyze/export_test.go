package analyze

// RecommendWithAllocator lets tests check that recommend releases every
// Arrow record it builds.
var RecommendWithAllocator = recommend
