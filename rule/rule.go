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
	"brsf":     "batch-wise random-magnitude sign-concordant feedback: |M|∘sign(W), M redrawn every batch",
	"frsf":     "fixed random-magnitude sign-concordant feedback: |M|∘sign(W), M drawn once",
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
	if opt.TrainBlocks == 0 { // the frozen-blocks baseline trains with BP
		c = newBP[T]
	}
	return c(a, opt, rand.New(rand.NewPCG(opt.FeedbackSeed, 2))), nil
}

// linear is a Linear layer whose error reaches its input, so a rule may
// replace its weight in the backward pass.
type linear[T nn.Float] struct {
	W     *nn.Param[T]
	block int     // owning block (or hidden layer); −1 for the head
	std   float64 // standard deviation of W's initial law
	law   string  // "uniform" or "normal"
}

// arch adapts the two network types to the drivers.
type arch[T nn.Float] struct {
	res     *model.ResMLP[T]
	mlp     *model.MLP[T]
	blocks  int
	widths  []int // width of each position
	classes int
	frozen  []bool // per block
	linears []linear[T]
	credit  [][]T // c_p, sized to the last batch
	scratch []T   // [B, width of the last position]
	e       []T   // output error [B, C] (dfa)
}

func adapt[T nn.Float](net model.Network[T], trainBlocks int) (*arch[T], error) {
	a := &arch[T]{}
	switch m := net.(type) {
	case *model.ResMLP[T]:
		c := m.Cfg
		a.res, a.blocks, a.classes = m, c.Blocks, c.Classes
		for range c.Blocks + 1 {
			a.widths = append(a.widths, c.D)
		}
		uni := 1 / math.Sqrt(float64(c.D)) / math.Sqrt(3)
		a.linears = append(a.linears, linear[T]{m.HeadW, -1, 1 / math.Sqrt(float64(c.D)) / math.Sqrt(3), "uniform"})
		for l, b := range m.Blocks {
			a.linears = append(a.linears,
				linear[T]{b.W1, l, uni, "uniform"},
				linear[T]{b.W2, l, c.W2Std, "normal"})
		}
	case *model.MLP[T]:
		c := m.Cfg
		a.mlp, a.blocks, a.classes = m, len(c.HiddenLayers), c.Classes
		a.widths = append(a.widths, c.HiddenLayers...)
		K := len(c.HiddenLayers)
		a.linears = append(a.linears, linear[T]{m.HeadW, -1, 1 / math.Sqrt(3*float64(c.HiddenLayers[K-1])), "uniform"})
		for k := 1; k < K; k++ { // layer 0's error has nowhere to go
			a.linears = append(a.linears, linear[T]{m.W[k], k, 1 / math.Sqrt(3*float64(c.HiddenLayers[k-1])), "uniform"})
		}
	default:
		return nil, fmt.Errorf("rules support the mlp and resmlp architectures, not %T", net)
	}
	if trainBlocks > a.blocks {
		return nil, fmt.Errorf("--train-blocks %d: the network has only %d blocks", trainBlocks, a.blocks)
	}
	a.frozen = make([]bool, a.blocks)
	if trainBlocks >= 0 {
		for l := range a.blocks - trainBlocks {
			a.frozen[l] = true
		}
	} else if trainBlocks < -1 {
		return nil, fmt.Errorf("--train-blocks %d: expected −1 (all) or 0…%d", trainBlocks, a.blocks)
	}
	return a, nil
}

// ensure sizes the credit buffers to the network's last batch.
func (a *arch[T]) ensure() {
	B := a.batch()
	if len(a.credit) == 0 || cap(a.credit[0]) < B*a.widths[0] {
		a.credit = make([][]T, len(a.widths))
		for p, w := range a.widths {
			a.credit[p] = make([]T, B*w)
		}
		a.scratch = make([]T, B*a.widths[len(a.widths)-1])
		a.e = make([]T, B*a.classes)
	}
	for p, w := range a.widths {
		a.credit[p] = a.credit[p][:B*w]
	}
	a.scratch, a.e = a.scratch[:B*a.widths[len(a.widths)-1]], a.e[:B*a.classes]
}

func (a *arch[T]) batch() int {
	if a.res != nil {
		return a.res.B
	}
	return a.mlp.B
}

// params lists the network's trainable parameters: everything but the
// frozen blocks.
func (a *arch[T]) params() []*nn.Param[T] {
	var ps []*nn.Param[T]
	if m := a.res; m != nil {
		ps = append(ps, m.EmbedW, m.EmbedB)
		for l, b := range m.Blocks {
			if !a.frozen[l] {
				ps = append(ps, b.LNg, b.LNb, b.W1, b.B1, b.W2, b.B2)
			}
		}
		if m.OutLNg != nil {
			ps = append(ps, m.OutLNg, m.OutLNb)
		}
		return append(ps, m.HeadW, m.HeadB)
	}
	m := a.mlp
	for k := range m.W {
		if !a.frozen[k] {
			ps = append(ps, m.W[k], m.Bias[k])
		}
	}
	return append(ps, m.HeadW, m.HeadB)
}

// layerwise is BP's backward with each linear's input error carried through
// fb(i) for linear i (the weight itself for BP). It fills a.credit.
func (a *arch[T]) layerwise(y []int32, scale T, fb func(i int) []T) {
	a.ensure()
	c, L := a.credit, a.blocks
	if m := a.res; m != nil {
		m.HeadBackward(y, scale, c[L], fb(0))
		for l := L - 1; l >= 0; l-- {
			m.BlockBackward(l, c[l+1], c[l], fb(1+2*l), fb(2+2*l))
		}
		m.EmbedBackward(c[0])
		return
	}
	m := a.mlp
	m.HeadBackward(y, scale, c[L-1], fb(0))
	for k := L - 1; k >= 0; k-- {
		var dIn, w []T
		if k > 0 {
			dIn, w = c[k-1], fb(k) // linears[k] is layer k for k ≥ 1
		}
		m.LayerBackward(k, c[k], dIn, w)
	}
}

// headOnly trains the head (and terminal LN) on the true loss and writes
// the exact error at the last position into last.
func (a *arch[T]) headOnly(y []int32, scale T, last []T) {
	if m := a.res; m != nil {
		m.HeadBackward(y, scale, last, m.HeadW.W)
		return
	}
	a.mlp.HeadBackward(y, scale, last, a.mlp.HeadW.W)
}

// bodyLocal trains every unfrozen block (or hidden layer) on its own credit
// alone — block l on c_{l+1}, with h_l held constant — and the embedding on
// c_0.
func (a *arch[T]) bodyLocal() {
	c := a.credit
	if m := a.res; m != nil {
		for l, b := range m.Blocks {
			if !a.frozen[l] {
				m.BlockBackward(l, c[l+1], nil, b.W1.W, b.W2.W)
			}
		}
		m.EmbedBackward(c[0])
		return
	}
	m := a.mlp
	for k := range m.W {
		if !a.frozen[k] {
			m.LayerBackward(k, c[k], nil, m.W[k].W)
		}
	}
}

// outputError sets a.e = scale·(softmax − onehot(y)), the gradient of
// scale·(summed loss) at the logits.
func (a *arch[T]) outputError(y []int32, scale T) {
	probs := a.mlpOrRes(func(m *model.MLP[T]) []T { return m.Probs }, func(m *model.ResMLP[T]) []T { return m.Probs })
	nn.CrossEntropyBackward(a.e, probs, y, a.batch(), a.classes, scale)
}

func (a *arch[T]) mlpOrRes(f func(*model.MLP[T]) []T, g func(*model.ResMLP[T]) []T) []T {
	if a.res != nil {
		return g(a.res)
	}
	return f(a.mlp)
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
