package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/matlens/matlens/ingest"
)

// ingestProgress draws a progress line on a terminal and stays silent
// otherwise (cron, pipes, CI), where the logs carry the progress.
type ingestProgress struct {
	w     io.Writer
	on    bool
	start time.Time
	bar   *progressbar.ProgressBar
}

func newIngestProgress(w io.Writer) *ingestProgress {
	f, ok := w.(*os.File)
	return &ingestProgress{w: w, on: ok && term.IsTerminal(int(f.Fd())), start: time.Now()}
}

// update is the ingest.Options.Progress callback. The bar measures event
// ids, because the source's highest id is known up front and its row count
// is not; the description counts rows.
func (p *ingestProgress) update(st ingest.Stats) {
	if !p.on {
		return
	}
	if p.bar == nil {
		total := int64(-1) // unknown: a spinner
		if st.TargetID > st.WatermarkBefore {
			total = st.TargetID - st.WatermarkBefore
		}
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("ingest"),
			progressbar.OptionSetPredictTime(total > 0),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	rate := float64(st.RowsRead) / max(time.Since(p.start).Seconds(), 1e-3)
	p.bar.Describe(fmt.Sprintf("%d rows, %.0f rows/s", st.RowsRead, rate))
	_ = p.bar.Set64(max(st.WatermarkAfter-st.WatermarkBefore, 0))
}

func (p *ingestProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// objectsProgress draws a spinner with the objects read so far while one
// object source loads, on a terminal only (the total is not known up
// front).
type objectsProgress struct {
	w     io.Writer
	on    bool
	desc  string
	start time.Time
	bar   *progressbar.ProgressBar
}

func newObjectsProgress(w io.Writer, source string) *objectsProgress {
	f, ok := w.(*os.File)
	return &objectsProgress{w: w, on: ok && term.IsTerminal(int(f.Fd())), desc: source, start: time.Now()}
}

// update is the objects.Options.Progress callback.
func (p *objectsProgress) update(read int64) {
	if !p.on {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	rate := float64(read) / max(time.Since(p.start).Seconds(), 1e-3)
	p.bar.Describe(fmt.Sprintf("%s: %d objects, %.0f objects/s", p.desc, read, rate))
	_ = p.bar.Set64(read)
}

func (p *objectsProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
