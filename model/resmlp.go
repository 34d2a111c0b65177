package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/faudit/faudit/nn"
)

// Block is one pre-LN residual branch f(h) = W2·act(W1·LN(h) + b1) + b2.
type Block[T nn.Float] struct {
	LNg, LNb *nn.Param[T] // [D]
	W1, B1   *nn.Param[T] // [H,D], [H]
	W2, B2   *nn.Param[T] // [D,H], [D]

	// workspace of the last forward, B rows
	ln, mean, rstd []T // LN(h) [B,D], statistics [B]
	a, z           []T // pre-activation W1·LN(h)+b1 and act(a), [B,H]
	// backward scratch
	dz, dln []T
}

// ResMLP is the pre-LN residual MLP (package doc).
type ResMLP[T nn.Float] struct {
	Cfg            Config
	EmbedW, EmbedB *nn.Param[T] // [D,In], [D]
	Blocks         []*Block[T]
	OutLNg, OutLNb *nn.Param[T] // [D] each; nil without a terminal LN
	HeadW, HeadB   *nn.Param[T] // [C,D], [C]

	B              int   // rows in the last forward
	X              []T   // the last input [B,In] (not copied)
	H              [][]T // residual stream h_0 … h_L, each [B,D]
	F              [][]T // block outputs f_0 … f_{L−1}, each [B,D]
	outLN          []T   // LN(h_L) [B,D] (h_L itself without terminal LN)
	outMean, outRs []T
	Logits, Probs  []T   // [B,C]
	DH             [][]T // ∂(scaled loss)/∂h_p after Backward
	dlogits, dout  []T
	capB           int // rows the workspace holds
	// The per-block scale penalty (SetPenalty): λ, the loss scale of the
	// last HeadBackward, and the branch gradient with the penalty added.
	penalty   float64
	lossScale T
	dF        []T

	slots []Slot[T] // built once by the constructor, in the order Slots documents
}

// NewResMLP builds the model and draws its initial weights.
func NewResMLP[T nn.Float](cfg Config, rng *rand.Rand) *ResMLP[T] {
	D, H, C := cfg.D, cfg.Hidden, cfg.Classes
	m := &ResMLP[T]{Cfg: cfg,
		EmbedW: nn.NewParam[T]("embed.weight", D, cfg.In), EmbedB: nn.NewParam[T]("embed.bias", D),
		HeadW: nn.NewParam[T]("out_head.weight", C, D), HeadB: nn.NewParam[T]("out_head.bias", C)}
	initLinear(m.EmbedW, m.EmbedB, cfg.In, rng)
	for l := 0; l < cfg.Blocks; l++ {
		p := fmt.Sprintf("blocks.%d.", l)
		b := &Block[T]{
			LNg: nn.NewParam[T](p+"ln.weight", D), LNb: nn.NewParam[T](p+"ln.bias", D),
			W1: nn.NewParam[T](p+"w1.weight", H, D), B1: nn.NewParam[T](p+"w1.bias", H),
			W2: nn.NewParam[T](p+"w2.weight", D, H), B2: nn.NewParam[T](p+"w2.bias", D)}
		fill(b.LNg, 1)
		initLinear(b.W1, b.B1, D, rng)
		initNormal(b.W2, cfg.W2Std, rng) // small init for the residual branch; bias 0
		m.Blocks = append(m.Blocks, b)
	}
	if cfg.TerminalLN {
		m.OutLNg, m.OutLNb = nn.NewParam[T]("out_ln.weight", D), nn.NewParam[T]("out_ln.bias", D)
		fill(m.OutLNg, 1)
	}
	initLinear(m.HeadW, m.HeadB, D, rng)
	m.slots = []Slot[T]{{m.HeadW, -1, uniformStd(D), "uniform"}}
	for l, b := range m.Blocks {
		m.slots = append(m.slots, Slot[T]{b.W1, l, uniformStd(D), "uniform"}, Slot[T]{b.W2, l, cfg.W2Std, "normal"})
	}
	return m
}

// Params lists every trainable tensor in a fixed order (checkpoint order).
func (m *ResMLP[T]) Params() []*nn.Param[T] {
	ps := []*nn.Param[T]{m.EmbedW, m.EmbedB}
	for _, b := range m.Blocks {
		ps = append(ps, b.LNg, b.LNb, b.W1, b.B1, b.W2, b.B2)
	}
	if m.OutLNg != nil {
		ps = append(ps, m.OutLNg, m.OutLNb)
	}
	return append(ps, m.HeadW, m.HeadB)
}

func (m *ResMLP[T]) Positions() [][]T     { return m.H }
func (m *ResMLP[T]) PositionGrads() [][]T { return m.DH }

// ensure sizes the workspace for B rows, allocating only when B exceeds
// every earlier batch.
func (m *ResMLP[T]) ensure(B int) {
	D, H, C, L := m.Cfg.D, m.Cfg.Hidden, m.Cfg.Classes, m.Cfg.Blocks
	if B > m.capB {
		m.H, m.F, m.DH = make([][]T, L+1), make([][]T, L), make([][]T, L+1)
		for p := range m.H {
			m.H[p], m.DH[p] = make([]T, B*D), make([]T, B*D)
		}
		for l, b := range m.Blocks {
			m.F[l] = make([]T, B*D)
			b.ln, b.mean, b.rstd = make([]T, B*D), make([]T, B), make([]T, B)
			b.a, b.z, b.dz, b.dln = make([]T, B*H), make([]T, B*H), make([]T, B*H), make([]T, B*D)
		}
		m.outLN, m.outMean, m.outRs = make([]T, B*D), make([]T, B), make([]T, B)
		m.Logits, m.Probs, m.dlogits, m.dout = make([]T, B*C), make([]T, B*C), make([]T, B*C), make([]T, B*D)
		m.dF = make([]T, B*D)
		m.capB = B
	}
	for p := range m.H {
		m.H[p], m.DH[p] = m.H[p][:B*D], m.DH[p][:B*D]
	}
	for l, b := range m.Blocks {
		m.F[l] = m.F[l][:B*D]
		b.ln, b.mean, b.rstd = b.ln[:B*D], b.mean[:B], b.rstd[:B]
		b.a, b.z, b.dz, b.dln = b.a[:B*H], b.z[:B*H], b.dz[:B*H], b.dln[:B*D]
	}
	m.outLN, m.outMean, m.outRs = m.outLN[:B*D], m.outMean[:B], m.outRs[:B]
	m.Logits, m.Probs, m.dlogits, m.dout = m.Logits[:B*C], m.Probs[:B*C], m.dlogits[:B*C], m.dout[:B*D]
	m.dF = m.dF[:B*D]
	m.B = B
}

// Forward: logits[B,C] for x[B,In], keeping h_0 … h_L, f_l and every
// LayerNorm statistic and pre-activation.
func (m *ResMLP[T]) Forward(x []T, B int) []T {
	m.ensure(B)
	c := m.Cfg
	m.X = x[:B*c.In]
	nn.LinearForward(m.H[0], m.X, m.EmbedW.W, m.EmbedB.W, B, c.In, c.D)
	return m.ForwardFrom(0)
}

// ForwardFrom recomputes the network from the current contents of position
// p (h_p) onwards, for the B rows of the last Forward, and returns the
// logits. Perturbation measurements edit h_p and call it.
func (m *ResMLP[T]) ForwardFrom(p int) []T {
	c := m.Cfg
	B, D, H := m.B, c.D, c.Hidden
	for l := p; l < c.Blocks; l++ {
		b, h := m.Blocks[l], m.H[l]
		nn.LayerNormForward(b.ln, b.mean, b.rstd, h, b.LNg.W, b.LNb.W, B, D)
		nn.LinearForward(b.a, b.ln, b.W1.W, b.B1.W, B, D, H)
		nn.ActForward(c.Act, b.z, b.a)
		nn.LinearForward(m.F[l], b.z, b.W2.W, b.B2.W, B, H, D)
		if c.Residual {
			nn.ResidualForward(m.H[l+1], h, m.F[l])
		} else {
			copy(m.H[l+1], m.F[l])
		}
	}
	hL := m.H[c.Blocks]
	if c.TerminalLN {
		nn.LayerNormForward(m.outLN, m.outMean, m.outRs, hL, m.OutLNg.W, m.OutLNb.W, B, D)
	} else {
		copy(m.outLN, hL)
	}
	nn.LinearForward(m.Logits, m.outLN, m.HeadW.W, m.HeadB.W, B, D, c.Classes)
	return m.Logits
}

// Loss is the summed cross-entropy of the last forward (probabilities kept).
func (m *ResMLP[T]) Loss(y []int32) float64 {
	return nn.CrossEntropyForward(m.Probs, m.Logits, y, m.B, m.Cfg.Classes)
}

// Backward is exact backpropagation of scale·(summed loss) (see Network).
func (m *ResMLP[T]) Backward(y []int32, scale T) {
	m.BackwardWith(y, scale, func(i int) []T { return m.slots[i].W.W }, m.DH)
}

// HeadBackward: from the last Loss, the gradients of the head and terminal LN
// for scale·(summed loss), and the error dhL[B,D] arriving at h_L, carried
// back through the head by fb [C,D] (the head weight for BP). The head and
// terminal LN always train on the true loss, whatever the rule.
func (m *ResMLP[T]) HeadBackward(y []int32, scale T, dhL, fb []T) {
	c := m.Cfg
	B, D := m.B, c.D
	m.lossScale = scale
	nn.CrossEntropyBackward(m.dlogits, m.Probs, y, B, c.Classes, scale)
	if !c.TerminalLN {
		nn.LinearBackward(dhL, m.HeadW.G, m.HeadB.G, m.dlogits, m.outLN, fb, B, D, c.Classes)
		return
	}
	nn.LinearBackward(m.dout, m.HeadW.G, m.HeadB.G, m.dlogits, m.outLN, fb, B, D, c.Classes)
	nn.LayerNormBackward(dhL, m.OutLNg.G, m.OutLNb.G, m.dout, m.H[c.Blocks], m.outMean, m.outRs, m.OutLNg.W, B, D)
}

// BlockBackward: given dOut[B,D], the gradient at block l's output (equal to
// the gradient at h_{l+1}), fills block l's parameter gradients and, when dIn
// is non-nil, writes the gradient at h_l: dOut through the skip (if any) plus
// the branch's backward, in which W1 and W2 carry the error to their inputs
// through fb1 [H,D] and fb2 [D,H] (the weights themselves for BP). With a
// penalty λ the branch's error is dOut + 2λ·scale·f_l (the skip carries dOut
// alone). dIn must not alias dOut.
func (m *ResMLP[T]) BlockBackward(l int, dOut, dIn, fb1, fb2 []T) {
	c := m.Cfg
	B, D, H := m.B, c.D, c.Hidden
	b := m.Blocks[l]
	dF := dOut
	if m.penalty != 0 {
		dF = m.dF
		addPenalty(dF, dOut, m.F[l], T(2*m.penalty)*m.lossScale)
	}
	nn.LinearBackward(b.dz, b.W2.G, b.B2.G, dF, b.z, fb2, B, H, D)
	nn.ActBackward(c.Act, b.dz, b.dz, b.a)
	nn.LinearBackward(b.dln, b.W1.G, b.B1.G, b.dz, b.ln, fb1, B, D, H)
	branch := dIn
	if branch == nil {
		branch = m.dout
	}
	nn.LayerNormBackward(branch, b.LNg.G, b.LNb.G, b.dln, m.H[l], b.mean, b.rstd, b.LNg.W, B, D)
	if dIn != nil && c.Residual {
		nn.ResidualBackward(dIn, dOut, dIn)
	}
}

// EmbedBackward: the embedding's gradients from dh0[B,D], the gradient at h_0.
func (m *ResMLP[T]) EmbedBackward(dh0 []T) {
	nn.LinearBackward(nil, m.EmbedW.G, m.EmbedB.G, dh0, m.X, nil, m.B, m.Cfg.In, m.Cfg.D)
}
