package nn

import (
	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/internal/parallel"
)

// Activation names an element-wise nonlinearity.
type Activation string

const (
	ReLU Activation = "relu"
	GELU Activation = "gelu" // tanh form, with a rational tanh (see blas.FastTanh)
)

// ActForward: out[N] = act(x[N]).
func ActForward[T Float](act Activation, out, x []T) {
	runAct(act, false, out, nil, x)
}

// ActBackward: dx[N] = dout[N]·act'(x[N]), where x is the forward input.
// dx may alias dout.
func ActBackward[T Float](act Activation, dx, dout, x []T) {
	runAct(act, true, dx, dout, x)
}

// runAct runs the forward (backward false) or backward kernel of act over
// x, split into parallel chunks when big enough. The kernels are vectorised
// (internal/blas); GELU costs some 30 operations an element, ReLU one.
func runAct[T Float](act Activation, backward bool, out, dout, x []T) {
	work := len(x) / 8
	switch act {
	case ReLU:
	case GELU:
		work = len(x) * 4
	default:
		panic("nn: unknown activation " + string(act))
	}
	j := actJob[T]{act, backward, out, dout, x, 1}
	if j.parts = parallel.Parts(len(x), work, parallel.MinWork); j.parts <= 1 {
		j.Run(0)
		return
	}
	runParts[T](&actJobs, j, j.parts)
}

type actJob[T Float] struct {
	act          Activation
	backward     bool
	out, dout, x []T
	parts        int
}

var actJobs jobPool

// Run is part p: a contiguous block of the elements.
func (j *actJob[T]) Run(p int) {
	lo, hi := rowBlock(p, j.parts, len(j.x))
	out, x := j.out[lo:hi], j.x[lo:hi]
	switch {
	case j.act == ReLU && !j.backward:
		blas.ReLU(out, x)
	case j.act == ReLU:
		blas.ReLUGrad(out, j.dout[lo:hi], x)
	case !j.backward:
		blas.GELU(out, x)
	default:
		blas.GELUGrad(out, j.dout[lo:hi], x)
	}
}
