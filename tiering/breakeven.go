package tiering

// HasBreakEven says whether r's break-even figures are figures: there is a
// class to compare with (there is none when the size or the history is
// missing, when no other class is allowed, or on a row RollUpPartitions
// summed) and it is cheaper at some read rate. Otherwise both are 0, which
// is not a rate: 0 reads a month would mean any read loses the move money.
func (r *Recommendation) HasBreakEven() bool {
	return r.BreakEvenClass != "" && r.BreakEvenReadsPerMonth > 0
}
