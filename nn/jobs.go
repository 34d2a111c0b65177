package nn

import "sync"

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
