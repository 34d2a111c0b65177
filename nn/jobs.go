package nn

import (
	"sync"

	"github.com/faudit/faudit/internal/parallel"
)

// The layers that split their work hand parallel.Run a small job object; a
// closure would escape to the heap on every call. Jobs are recycled through a
// jobPool, one free list per element type (named float types just allocate).
type jobPool struct{ f32, f64 sync.Pool }

func getJob[T Float, J any](p *jobPool) *J {
	var j any
	switch any(*new(T)).(type) {
	case float32:
		j = p.f32.Get()
	case float64:
		j = p.f64.Get()
	}
	if j, ok := j.(*J); ok {
		return j
	}
	return new(J)
}

// putJob zeroes j (dropping its slices) and returns it to p.
func putJob[T Float, J any](p *jobPool, j *J) {
	var zero J
	*j = zero
	switch any(*new(T)).(type) {
	case float32:
		p.f32.Put(j)
	case float64:
		p.f64.Put(j)
	}
}

// rowBlock is part p of n rows split into parts blocks.
func rowBlock(p, parts, n int) (lo, hi int) { return p * n / parts, (p + 1) * n / parts }

// taskJob is a pointer to a job type J that parallel.Run can run.
type taskJob[J any] interface {
	*J
	parallel.Task
}

// partJob is a job that runs in parts and is told their number.
type partJob[J any] interface {
	taskJob[J]
	setParts(parts int)
}

// runParts runs j (which knows its own split) on parts goroutines from a
// pooled copy, so that nothing escapes to the heap. Callers with a cheaper
// whole-range path for one part take it themselves and call runParts only
// for parts > 1.
func runParts[T Float, J any, PJ taskJob[J]](p *jobPool, j J, parts int) {
	jp := getJob[T, J](p)
	*jp = j
	parallel.Run(parts, PJ(jp))
	putJob[T](p, jp)
}

// runJob runs j over n items of the given work in parallel.Parts(n, work,
// parallel.MinWork) parts. The job runs from a pooled copy even on one part:
// a method called through the type parameter would make j escape.
func runJob[T Float, J any, PJ partJob[J]](p *jobPool, j J, n, work int) {
	parts := parallel.Parts(n, work, parallel.MinWork)
	jp := getJob[T, J](p)
	*jp = j
	PJ(jp).setParts(parts)
	if parts <= 1 {
		PJ(jp).Run(0)
	} else {
		parallel.Run(parts, PJ(jp))
	}
	putJob[T](p, jp)
}
