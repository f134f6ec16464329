package objects

// listProgressEvery is how many objects pass between progress lines of a
// live listing: a bucket of millions lists for minutes, and the log should
// show it is moving without a line per page.
const listProgressEvery = 100_000

// listCounter hands a live listing's objects to the snapshot and logs a
// progress line every listProgressEvery of them.
type listCounter struct {
	s        *Snapshot
	location string
	n        int64
}

func (c *listCounter) add(o Object) error {
	if err := c.s.Add(o); err != nil {
		return err
	}
	c.n++
	if c.n%listProgressEvery == 0 {
		c.s.Logger().Info("listing objects", "location", c.location, "objects", c.n)
	}
	return nil
}
