package rule

import "github.com/faudit/faudit/nn"

// Pair is a weight and the matrix a layer-wise rule carries errors through
// in its place.
type Pair[T nn.Float] struct {
	Name string // the weight's name
	W, B []T
}

// Aligned is implemented by the layer-wise rules that replace weights (fa,
// kp, usf, brsf, frsf): the matrix each slot used in the last Backward, for
// the W–B angle.
type Aligned[T nn.Float] interface {
	Pairs() []Pair[T]
}

func pairs[T nn.Float](a *arch[T], b func(i int) []T) []Pair[T] {
	var ps []Pair[T]
	for i, s := range a.slots {
		ps = append(ps, Pair[T]{s.W.Name, s.W.W, b(i)})
	}
	return ps
}

func (r *fa[T]) Pairs() []Pair[T]      { return pairs(r.a, r.fbOf) }
func (r *kp[T]) Pairs() []Pair[T]      { return pairs(r.a, r.fbOf) }
func (r *signSym[T]) Pairs() []Pair[T] { return pairs(r.a, r.fbOf) }
