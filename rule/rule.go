package rule

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
)

// Rule is a credit-assignment rule bound to one network.
type Rule[T nn.Float] interface {
	Name() string
	// Backward runs after the network's Forward and Loss: it writes the
	// credit c_p at every position (Credit) and the gradients of every
	// parameter in Params for scale·(summed loss). step is the optimiser
	// step about to be taken (brsf redraws its magnitudes from it).
	Backward(y []int32, scale T, step int64)
	// Credit is c_p for every position after Backward, each [B, width].
	Credit() [][]T
	// Params is what the optimiser updates: the network's trainable
	// parameters (frozen blocks excluded) and any learned feedback (kp).
	Params() []*nn.Param[T]
	// Feedback is the rule's feedback state, saved in checkpoints; nil when
	// there is none to save (bp; usf and brsf derive theirs from W and the
	// step).
	Feedback() []*nn.Param[T]
}

// Options configure a rule.
type Options struct {
	FeedbackSeed  uint64  // seed of the feedback matrices
	FeedbackScale float64 // multiplies every feedback matrix's standard deviation (1 = the documented law)
	// TrainBlocks is the number of trailing blocks (ResMLP) or hidden layers
	// (MLP) that learn; the others keep their initial weights. −1: all. 0 is
	// the frozen-blocks baseline: embedding, terminal LN and head trained
	// with BP whatever the rule.
	TrainBlocks int
	// LocalNorm, for the local rules (fa-block, dfa): "" trains each block
	// on its credit as is; "rms" divides each sample's credit by its root
	// mean square first (the paper's release code uses "rms-normalized local
	// surrogate losses").
	LocalNorm string
	// Penalty is λ of the per-block scale penalty λ·mean_b ‖f_l(h_l)‖²
	// (model.Penalized has the reduction): added to every block's local
	// objective by the local rules and to the loss by the layer-wise ones
	// (BP's capacity-cost control). 0: none.
	Penalty float64
}

// constructor builds a rule over a network whose blocks are adapted by a.
type constructor[T nn.Float] func(a *arch[T], opt Options, rng *rand.Rand) Rule[T]

// Descriptions: one line each, for the CLI and README.
var Descriptions = map[string]string{
	"bp":       "exact backpropagation; c_p = ∂L/∂h_p",
	"fa":       "feedback alignment (Lillicrap 2016): BP with every Linear's Wᵀ replaced by a fixed random B",
	"fa-block": "block-level FA (the paper's FA): c_L exact, c_p = c_{p+1}·B_p with fixed random d×d B_p; blocks trained locally",
	"dfa":      "direct feedback alignment (Nøkland 2016): c_p = e·B_p, e = softmax − onehot, fixed random C×d B_p; blocks trained locally",
	"usf":      "uniform sign-concordant feedback (Liao et al. 2016): BP with W replaced by sign(W)·σ",
	"brsf":     "batch-wise random-magnitude sign-concordant feedback (Liao et al. 2016): |M|∘sign(W), M redrawn every batch",
	"frsf":     "fixed random-magnitude sign-concordant feedback (Liao et al. 2016): |M|∘sign(W), M drawn once",
	"kp":       "Kolen-Pollack (Akrout et al. 2019): FA whose B receives W's update and weight decay, so B → W",
}

// Names lists the rules in a fixed order.
func Names() []string {
	n := make([]string, 0, len(Descriptions))
	for k := range Descriptions {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// New binds the named rule to net.
func New[T nn.Float](name string, net model.Network[T], opt Options) (Rule[T], error) {
	rules := map[string]constructor[T]{
		"bp": newBP[T], "fa": newFA[T], "fa-block": newFABlock[T], "dfa": newDFA[T],
		"usf": newUSF[T], "brsf": newBRSF[T], "frsf": newFRSF[T], "kp": newKP[T],
	}
	c, ok := rules[name]
	if !ok {
		return nil, fmt.Errorf("--rule %q: unknown rule; expected one of %v", name, Names())
	}
	if opt.FeedbackScale == 0 {
		opt.FeedbackScale = 1
	}
	if !(opt.FeedbackScale > 0) || math.IsInf(opt.FeedbackScale, 0) {
		return nil, fmt.Errorf("--feedback-scale %v: expected a finite value > 0", opt.FeedbackScale)
	}
	a, err := adapt(net, opt.TrainBlocks)
	if err != nil {
		return nil, err
	}
	if opt.LocalNorm != "" && opt.LocalNorm != "rms" {
		return nil, fmt.Errorf("--local-norm %q: expected none or rms", opt.LocalNorm)
	}
	a.localNorm = opt.LocalNorm
	if opt.Penalty != 0 || !(opt.Penalty >= 0) {
		pn, ok := net.(model.Penalized)
		switch {
		case !(opt.Penalty > 0) || math.IsInf(opt.Penalty, 0):
			return nil, fmt.Errorf("--penalty %v: expected a finite λ ≥ 0", opt.Penalty)
		case !ok:
			return nil, fmt.Errorf("--penalty %v: the per-block scale penalty is defined for resmlp and mlp, not for %T", opt.Penalty, net)
		}
		pn.SetPenalty(opt.Penalty)
	}
	if opt.TrainBlocks == 0 { // the frozen-blocks baseline trains with BP
		c = newBP[T]
	}
	return c(a, opt, rand.New(rand.NewPCG(opt.FeedbackSeed, 2))), nil
}

// arch holds a rule's view of its network and the buffers rules share.
type arch[T nn.Float] struct {
	net     model.Credited[T]
	blocks  int
	widths  []int // width of each position
	classes int
	frozen  []bool // per block
	slots   []model.Slot[T]
	credit  [][]T // c_p, sized to the last batch
	scratch []T   // [B, width of the last position]
	e       []T   // output error [B, C] (dfa)
	// localNorm and its scratch: see target.
	localNorm string
	normed    []T
}

func adapt[T nn.Float](net model.Network[T], trainBlocks int) (*arch[T], error) {
	cn, ok := net.(model.Credited[T])
	if !ok {
		return nil, fmt.Errorf("rules cannot drive a %T", net)
	}
	a := &arch[T]{net: cn, blocks: cn.NumBlocks(), widths: cn.PositionWidths(), classes: cn.Classes(), slots: cn.Slots()}
	switch {
	case trainBlocks > a.blocks:
		return nil, fmt.Errorf("--train-blocks %d: the network has only %d blocks", trainBlocks, a.blocks)
	case trainBlocks < -1:
		return nil, fmt.Errorf("--train-blocks %d: expected −1 (all) or 0…%d", trainBlocks, a.blocks)
	}
	a.frozen = make([]bool, a.blocks)
	if trainBlocks >= 0 {
		for l := range a.blocks - trainBlocks {
			a.frozen[l] = true
		}
	}
	return a, nil
}

// ensure sizes the credit buffers to the network's last batch.
func (a *arch[T]) ensure() {
	B := a.net.Batch()
	last := a.widths[len(a.widths)-1]
	if len(a.credit) == 0 || cap(a.credit[0]) < B*a.widths[0] {
		a.credit = make([][]T, len(a.widths))
		for p, w := range a.widths {
			a.credit[p] = make([]T, B*w)
		}
		a.scratch, a.e = make([]T, B*last), make([]T, B*a.classes)
	}
	for p, w := range a.widths {
		a.credit[p] = a.credit[p][:B*w]
	}
	a.scratch, a.e = a.scratch[:B*last], a.e[:B*a.classes]
}

// params lists the network's trainable parameters: everything but the
// frozen blocks'.
func (a *arch[T]) params() []*nn.Param[T] {
	frozen := map[*nn.Param[T]]bool{}
	for l, f := range a.frozen {
		if f {
			for _, p := range a.net.BlockParams(l) {
				frozen[p] = true
			}
		}
	}
	var ps []*nn.Param[T]
	for _, p := range a.net.Params() {
		if !frozen[p] {
			ps = append(ps, p)
		}
	}
	return ps
}

// layerwise is BP's backward with slot i's weight replaced by fb(i) where
// it carries an error to its input. It fills a.credit.
func (a *arch[T]) layerwise(y []int32, scale T, fb func(i int) []T) {
	a.ensure()
	a.net.BackwardWith(y, scale, fb, a.credit)
}

// headOnly trains the head (and terminal LN) on the true loss and writes
// the exact error at the last position into last.
func (a *arch[T]) headOnly(y []int32, scale T, last []T) { a.net.TrainHead(y, scale, last) }

// bodyLocal trains every unfrozen block on the credit at its own output
// alone, with its input held constant, and the embedding on c_0.
func (a *arch[T]) bodyLocal() {
	for l, f := range a.frozen {
		if !f {
			a.net.TrainBlock(l, a.target(a.net.BlockOutput(l)))
		}
	}
	a.net.TrainInput(a.target(0))
}

// target is the credit a local update at position p follows: c_p itself, or
// with LocalNorm "rms" each sample's c_p divided by its root mean square
// (times the loss scale that c carries), so every sample pulls with equal
// strength however well it is already classified.
func (a *arch[T]) target(p int) []T {
	c := a.credit[p]
	if a.localNorm != "rms" {
		return c
	}
	w := a.widths[p]
	if cap(a.normed) < len(c) {
		a.normed = make([]T, len(c))
	}
	out := a.normed[:len(c)]
	B := len(c) / w
	for r := 0; r < B; r++ {
		row, dst := c[r*w:(r+1)*w], out[r*w:(r+1)*w]
		s := 0.0
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		k := 0.0
		if s > 0 {
			k = 1 / math.Sqrt(s/float64(w)) / float64(B)
		}
		for j, v := range row {
			dst[j] = v * T(k)
		}
	}
	return out
}

// outputError sets a.e = scale·(softmax − onehot(y)), the gradient of
// scale·(summed loss) at the logits.
func (a *arch[T]) outputError(y []int32, scale T) {
	nn.CrossEntropyBackward(a.e, a.net.Probabilities(), y, a.net.Batch(), a.classes, scale)
}

// draw fills p with the feedback law: "uniform" on [−√3·std, √3·std] or
// "normal" N(0, std²), times scale.
func draw[T nn.Float](p *nn.Param[T], law string, std float64, rng *rand.Rand) {
	for i := range p.W {
		if law == "uniform" {
			p.W[i] = T((2*rng.Float64() - 1) * math.Sqrt(3) * std)
		} else {
			p.W[i] = T(std * rng.NormFloat64())
		}
	}
}
