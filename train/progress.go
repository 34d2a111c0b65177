package train

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is a progress bar over an epoch's steps; a nil writer (not a
// terminal) makes every method a no-op.
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(w io.Writer, steps int, desc string) progress {
	if w == nil {
		return progress{}
	}
	return progress{progressbar.NewOptions(steps,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30))}
}

func (p progress) add() {
	if p.bar != nil {
		p.bar.Add(1)
	}
}

func (p progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
