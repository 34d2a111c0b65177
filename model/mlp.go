package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/faudit/faudit/nn"
)

// MLP is x → [Linear → act]×K → Linear head.
type MLP[T nn.Float] struct {
	Cfg          Config
	W, Bias      []*nn.Param[T] // hidden layer k: [H_k, H_{k−1}], [H_k]
	HeadW, HeadB *nn.Param[T]   // [C, H_K], [C]

	B             int
	X             []T   // last input [B,In]
	A             [][]T // pre-activations, [B,H_k]
	Hs            [][]T // positions: hidden outputs act(A_k), [B,H_k]
	Logits, Probs []T
	DH            [][]T // ∂(scaled loss)/∂Hs[k] after Backward
	da            [][]T
	dlogits       []T
	capB          int
	// The per-block scale penalty (SetPenalty): λ and the loss scale of
	// the last HeadBackward.
	penalty   float64
	lossScale T

	slots []Slot[T] // built once by the constructor, in the order Slots documents
}

// NewMLP builds the model and draws its initial weights (PyTorch's default
// Linear init).
func NewMLP[T nn.Float](cfg Config, rng *rand.Rand) *MLP[T] {
	m := &MLP[T]{Cfg: cfg}
	in := cfg.In
	for k, h := range cfg.HiddenLayers {
		w, b := nn.NewParam[T](fmt.Sprintf("layers.%d.weight", k), h, in), nn.NewParam[T](fmt.Sprintf("layers.%d.bias", k), h)
		initLinear(w, b, in, rng)
		m.W, m.Bias = append(m.W, w), append(m.Bias, b)
		in = h
	}
	m.HeadW, m.HeadB = nn.NewParam[T]("head.weight", cfg.Classes, in), nn.NewParam[T]("head.bias", cfg.Classes)
	initLinear(m.HeadW, m.HeadB, in, rng)
	m.slots = []Slot[T]{{m.HeadW, -1, uniformStd(in), "uniform"}}
	for k := 1; k < len(m.W); k++ {
		m.slots = append(m.slots, Slot[T]{m.W[k], k, uniformStd(m.inWidth(k)), "uniform"})
	}
	return m
}

func (m *MLP[T]) Params() []*nn.Param[T] {
	var ps []*nn.Param[T]
	for k := range m.W {
		ps = append(ps, m.W[k], m.Bias[k])
	}
	return append(ps, m.HeadW, m.HeadB)
}

func (m *MLP[T]) Positions() [][]T     { return m.Hs }
func (m *MLP[T]) PositionGrads() [][]T { return m.DH }

// width of layer k's input
func (m *MLP[T]) inWidth(k int) int {
	if k == 0 {
		return m.Cfg.In
	}
	return m.Cfg.HiddenLayers[k-1]
}

func (m *MLP[T]) ensure(B int) {
	K, C := len(m.W), m.Cfg.Classes
	if B > m.capB {
		m.A, m.Hs, m.DH, m.da = make([][]T, K), make([][]T, K), make([][]T, K), make([][]T, K)
		for k, h := range m.Cfg.HiddenLayers {
			m.A[k], m.Hs[k], m.DH[k], m.da[k] = make([]T, B*h), make([]T, B*h), make([]T, B*h), make([]T, B*h)
		}
		m.Logits, m.Probs, m.dlogits = make([]T, B*C), make([]T, B*C), make([]T, B*C)
		m.capB = B
	}
	for k, h := range m.Cfg.HiddenLayers {
		m.A[k], m.Hs[k], m.DH[k], m.da[k] = m.A[k][:B*h], m.Hs[k][:B*h], m.DH[k][:B*h], m.da[k][:B*h]
	}
	m.Logits, m.Probs, m.dlogits = m.Logits[:B*C], m.Probs[:B*C], m.dlogits[:B*C]
	m.B = B
}

// Forward: logits[B,C] for x[B,In], keeping every pre-activation and output.
func (m *MLP[T]) Forward(x []T, B int) []T {
	m.ensure(B)
	m.X = x[:B*m.Cfg.In]
	return m.forwardLayers(0)
}

// ForwardFrom recomputes the network from the current contents of position
// p (hidden output p) onwards and returns the logits.
func (m *MLP[T]) ForwardFrom(p int) []T { return m.forwardLayers(p + 1) }

// forwardLayers runs hidden layers k0… and the head.
func (m *MLP[T]) forwardLayers(k0 int) []T {
	B := m.B
	for k := k0; k < len(m.W); k++ {
		h := m.Cfg.HiddenLayers[k]
		nn.LinearForward(m.A[k], m.input(k), m.W[k].W, m.Bias[k].W, B, m.inWidth(k), h)
		nn.ActForward(m.Cfg.Act, m.Hs[k], m.A[k])
	}
	K := len(m.W)
	nn.LinearForward(m.Logits, m.input(K), m.HeadW.W, m.HeadB.W, B, m.inWidth(K), m.Cfg.Classes)
	return m.Logits
}

// input of layer k (k = K is the head).
func (m *MLP[T]) input(k int) []T {
	if k == 0 {
		return m.X
	}
	return m.Hs[k-1]
}

func (m *MLP[T]) Loss(y []int32) float64 {
	return nn.CrossEntropyForward(m.Probs, m.Logits, y, m.B, m.Cfg.Classes)
}

// Backward is exact backpropagation of scale·(summed loss).
func (m *MLP[T]) Backward(y []int32, scale T) {
	m.BackwardWith(y, scale, func(i int) []T { return m.slots[i].W.W }, m.DH)
}

// HeadBackward: the head's gradients for scale·(summed loss) and the
// gradient dhK[B,H_K] at the last hidden output, carried through fb [C,H_K]
// (the head weight for BP).
func (m *MLP[T]) HeadBackward(y []int32, scale T, dhK, fb []T) {
	K, C := len(m.W), m.Cfg.Classes
	m.lossScale = scale
	nn.CrossEntropyBackward(m.dlogits, m.Probs, y, m.B, C, scale)
	nn.LinearBackward(dhK, m.HeadW.G, m.HeadB.G, m.dlogits, m.input(K), fb, m.B, m.inWidth(K), C)
}

// LayerBackward: given dOut[B,H_k], the gradient at hidden output k, fills
// layer k's gradients and, when dIn is non-nil, the gradient at its input
// (hidden output k−1) carried through fb [H_k, H_{k−1}] (W_k for BP).
func (m *MLP[T]) LayerBackward(k int, dOut, dIn, fb []T) {
	if m.penalty != 0 { // the layer's error becomes dOut + 2λ·scale·h_k
		addPenalty(m.da[k], dOut, m.Hs[k], T(2*m.penalty)*m.lossScale)
		dOut = m.da[k]
	}
	nn.ActBackward(m.Cfg.Act, m.da[k], dOut, m.A[k])
	nn.LinearBackward(dIn, m.W[k].G, m.Bias[k].G, m.da[k], m.input(k), fb, m.B, m.inWidth(k), m.Cfg.HiddenLayers[k])
}
