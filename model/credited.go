package model

import (
	"math"

	"github.com/faudit/faudit/nn"
)

// Slot is a weight whose transpose carries the error to its input in
// backprop: the place where a feedback-alignment rule substitutes its own
// matrix (of W's shape).
type Slot[T nn.Float] struct {
	W     *nn.Param[T]
	Block int     // owning block (MLP: hidden layer); −1 outside the blocks (the head)
	Std   float64 // standard deviation of W's initial law
	Law   string  // that law: "uniform" or "normal"
}

// Credited is a network that credit-assignment rules can drive. Positions
// are the states the protocol inspects; block l reads position
// BlockOutput(l)−1 (or the embedding's output) and writes BlockOutput(l).
type Credited[T nn.Float] interface {
	Network[T]
	NumBlocks() int
	BlockOutput(l int) int
	BlockParams(l int) []*nn.Param[T]
	PositionWidths() []int
	// PositionLayout says how each sample's row at position p is shaped.
	PositionLayout(p int) Layout
	Classes() int
	Batch() int         // rows of the last forward
	Probabilities() []T // softmax of the last Loss, [B, C]
	Slots() []Slot[T]
	// BackwardWith is exact backprop of scale·(summed loss), except that
	// slot i's weight is replaced by fb(i) where it carries an error to its
	// input. It fills every parameter gradient and writes the error arriving
	// at position p into credit[p].
	BackwardWith(y []int32, scale T, fb func(i int) []T, credit [][]T)
	// TrainHead fills the gradients of the head (and terminal LN) for
	// scale·(summed loss) and writes the exact error at the last position
	// into dLast.
	TrainHead(y []int32, scale T, dLast []T)
	// TrainBlock fills block l's gradients from dOut, the credit at its
	// output position, with its input held constant: the gradient of
	// ⟨block output, dOut⟩.
	TrainBlock(l int, dOut []T)
	// TrainInput fills the gradients of what produces position 0 from c0
	// (the embedding); a no-op for models where a block does.
	TrainInput(c0 []T)
}

// Layout is the shape of one sample's state at a position: a plain vector
// (the zero Layout), Tokens token vectors of width Width/… with token 0 the
// CLS token (transformers), or a Channels×Height×Width feature map (CNNs).
type Layout struct {
	Tokens                  int `json:"tokens,omitempty"`
	Channels, Height, Width int `json:"-"`
}

// Stateful is implemented by models with state that is saved but not
// trained (BatchNorm's running statistics) and that behave differently in
// training and evaluation.
type Stateful[T nn.Float] interface {
	Buffers() []*nn.Param[T]
	SetTraining(training bool)
}

// uniformStd is the standard deviation of PyTorch's default Linear init,
// U(−1/√in, 1/√in).
func uniformStd(in int) float64 { return 1 / math.Sqrt(3*float64(in)) }

// --- ResMLP ---

func (m *ResMLP[T]) NumBlocks() int                      { return m.Cfg.Blocks }
func (m *ResMLP[T]) BlockOutput(l int) int               { return l + 1 }
func (m *ResMLP[T]) Classes() int                        { return m.Cfg.Classes }
func (m *ResMLP[T]) Batch() int                          { return m.B }
func (m *ResMLP[T]) Probabilities() []T                  { return m.Probs }
func (m *ResMLP[T]) TrainInput(c0 []T)                   { m.EmbedBackward(c0) }
func (m *ResMLP[T]) TrainHead(y []int32, scale T, d []T) { m.HeadBackward(y, scale, d, m.HeadW.W) }

func (m *ResMLP[T]) BlockParams(l int) []*nn.Param[T] {
	b := m.Blocks[l]
	return []*nn.Param[T]{b.LNg, b.LNb, b.W1, b.B1, b.W2, b.B2}
}

func (m *ResMLP[T]) PositionWidths() []int {
	w := make([]int, m.Cfg.Blocks+1)
	for p := range w {
		w[p] = m.Cfg.D
	}
	return w
}

// Slots: the head, then W1 and W2 of every block (slot 1+2l and 2+2l).
func (m *ResMLP[T]) Slots() []Slot[T] { return append([]Slot[T](nil), m.slots...) }

func (m *ResMLP[T]) BackwardWith(y []int32, scale T, fb func(i int) []T, credit [][]T) {
	L := m.Cfg.Blocks
	m.HeadBackward(y, scale, credit[L], fb(0))
	for l := L - 1; l >= 0; l-- {
		m.BlockBackward(l, credit[l+1], credit[l], fb(1+2*l), fb(2+2*l))
	}
	m.EmbedBackward(credit[0])
}

func (m *ResMLP[T]) TrainBlock(l int, dOut []T) {
	b := m.Blocks[l]
	m.BlockBackward(l, dOut, nil, b.W1.W, b.W2.W)
}

// --- MLP ---

func (m *MLP[T]) NumBlocks() int                      { return len(m.W) }
func (m *MLP[T]) BlockOutput(k int) int               { return k }
func (m *MLP[T]) BlockParams(k int) []*nn.Param[T]    { return []*nn.Param[T]{m.W[k], m.Bias[k]} }
func (m *MLP[T]) PositionWidths() []int               { return append([]int(nil), m.Cfg.HiddenLayers...) }
func (m *MLP[T]) Classes() int                        { return m.Cfg.Classes }
func (m *MLP[T]) Batch() int                          { return m.B }
func (m *MLP[T]) Probabilities() []T                  { return m.Probs }
func (m *MLP[T]) TrainInput([]T)                      {}
func (m *MLP[T]) TrainBlock(k int, dOut []T)          { m.LayerBackward(k, dOut, nil, nil) }
func (m *MLP[T]) TrainHead(y []int32, scale T, d []T) { m.HeadBackward(y, scale, d, m.HeadW.W) }

// Slots: the head, then hidden layers 1 … K−1 (slot k is layer k); layer
// 0's error has nowhere to go.
func (m *MLP[T]) Slots() []Slot[T] { return append([]Slot[T](nil), m.slots...) }

func (m *MLP[T]) BackwardWith(y []int32, scale T, fb func(i int) []T, credit [][]T) {
	K := len(m.W)
	m.HeadBackward(y, scale, credit[K-1], fb(0))
	for k := K - 1; k >= 0; k-- {
		var dIn, w []T
		if k > 0 {
			dIn, w = credit[k-1], fb(k)
		}
		m.LayerBackward(k, credit[k], dIn, w)
	}
}

func (m *ResMLP[T]) PositionLayout(int) Layout { return Layout{} }
func (m *MLP[T]) PositionLayout(int) Layout    { return Layout{} }
