package rule

import (
	"math"
	"math/rand/v2"

	"github.com/faudit/faudit/nn"
)

// The sign-symmetry family (Liao, Leibo & Poggio 2016; biotorch's
// definitions): BP's backward with each Linear's W replaced by M∘sign(W),
// recomputed from the current W at every step:
//   - usf: M = σ, a constant — sign(W) with unit magnitudes, scaled by σ;
//   - brsf: M = |N(0, σ²)| redrawn every batch, from PCG(feedback seed,
//     2^32 + step) so a resumed run redraws the same magnitudes;
//   - frsf: M = |N(0, σ²)| drawn once (saved in checkpoints as
//     feedback.<weight name>, the magnitudes).
//
// σ is the standard deviation of W's initial law times the feedback scale,
// so the backward signal starts at the scale BP's has.
type signSym[T nn.Float] struct {
	name  string
	a     *arch[T]
	seed  uint64
	scale float64
	mag   []*nn.Param[T]  // frsf: fixed magnitudes; brsf: this step's
	fb    [][]T           // M∘sign(W), rebuilt every step
	fbOf  func(i int) []T // fb[i], built once: no allocation per step
	pcg   *rand.PCG       // brsf: re-seeded every step
	rng   *rand.Rand
}

func newSignSym[T nn.Float](name string, a *arch[T], opt Options, rng *rand.Rand) *signSym[T] {
	r := &signSym[T]{name: name, a: a, seed: opt.FeedbackSeed, scale: opt.FeedbackScale, pcg: rand.NewPCG(0, 0)}
	r.rng = rand.New(r.pcg)
	r.fbOf = func(i int) []T { return r.fb[i] }
	for _, l := range a.slots {
		r.fb = append(r.fb, make([]T, len(l.W.W)))
		if name != "usf" {
			r.mag = append(r.mag, nn.NewParam[T]("feedback."+l.W.Name, l.W.Shape...))
		}
	}
	if name == "frsf" {
		r.drawMagnitudes(rng)
	}
	return r
}

func newUSF[T nn.Float](a *arch[T], opt Options, rng *rand.Rand) Rule[T] {
	return newSignSym("usf", a, opt, rng)
}
func newBRSF[T nn.Float](a *arch[T], opt Options, rng *rand.Rand) Rule[T] {
	return newSignSym("brsf", a, opt, rng)
}
func newFRSF[T nn.Float](a *arch[T], opt Options, rng *rand.Rand) Rule[T] {
	return newSignSym("frsf", a, opt, rng)
}

func (r *signSym[T]) drawMagnitudes(rng *rand.Rand) {
	for i, l := range r.a.slots {
		sd := l.Std * r.scale
		for j := range r.mag[i].W {
			r.mag[i].W[j] = T(math.Abs(sd * rng.NormFloat64()))
		}
	}
}

func (r *signSym[T]) Name() string { return r.name }

func (r *signSym[T]) Backward(y []int32, scale T, step int64) {
	if r.name == "brsf" {
		r.pcg.Seed(r.seed, 1<<32+uint64(step))
		r.drawMagnitudes(r.rng)
	}
	for i, l := range r.a.slots {
		w, fb := l.W.W, r.fb[i]
		if r.name == "usf" {
			s := T(l.Std * r.scale)
			for j, v := range w {
				fb[j] = sign(v) * s
			}
			continue
		}
		m := r.mag[i].W
		for j, v := range w {
			fb[j] = sign(v) * m[j]
		}
	}
	r.a.layerwise(y, scale, r.fbOf)
}

// sign is −1, 0 or +1.
func sign[T nn.Float](v T) T {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func (r *signSym[T]) Credit() [][]T          { return r.a.credit }
func (r *signSym[T]) Params() []*nn.Param[T] { return r.a.params() }
func (r *signSym[T]) Feedback() []*nn.Param[T] {
	if r.name == "frsf" {
		return r.mag
	}
	return nil
}
