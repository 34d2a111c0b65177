package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/faudit/faudit/nn"
)

// CNNHidden is the width of the CNN's fully connected layer.
const CNNHidden = 128

// CNN is the small BatchNorm CNN (paper §2.3; no LayerNorm anywhere), for
// inputs [C,H,W] (Config.Shape) and three widths Config.Channels (default
// 32, 64, 128). Stage s maps x_s [Cin,H,W] to
//
//	h_s = maxpool2×2( act(BN(conv3×3(x_s))) [+ skip(x_s)] )   [Co, ⌊H/2⌋, ⌊W/2⌋]
//
// with the convolution 3×3, padding 1, stride 1, no bias (BatchNorm2d
// follows, whose β takes its place), x_0 the image and x_s = h_{s−1}; then
// logits = head(act(fc(h_2))), fc: C·H·W of h_2 → 128, head: 128 → classes.
// With Config.Residual each stage adds a skip from its input to the pre-pool
// activation: skip(x) = x when Cin = Co, else a 1×1 convolution Cin → Co
// with no bias and no BatchNorm ("stages.s.proj.weight"); without it there
// is no skip. Positions are h_0, h_1, h_2; stage s is block s and writes
// position s.
//
// Init is PyTorch's default: conv weights U(−1/√fan_in, 1/√fan_in) with
// fan_in = Cin·kh·kw, Linear as initLinear, BN γ = 1, β = 0, running mean 0
// and variance 1. The model starts in training mode (batch statistics; every
// Forward updates the running statistics with momentum 0.1); SetTraining(false)
// switches to the running statistics. ForwardFrom never updates them: it
// re-runs a measurement on the last batch.
//
// Inside a stage the feature maps are kept channel-major, [Co, B, H, W]: the
// layout the convolution's GEMM writes, in which BatchNorm's channels are
// contiguous; positions are NCHW rows, [B, Co·OH·OW].
type CNN[T nn.Float] struct {
	Cfg          Config
	Stages       []*CNNStage[T]
	FCW, FCB     *nn.Param[T] // [128, F], [128], F = C·H·W of h_2
	HeadW, HeadB *nn.Param[T] // [classes, 128], [classes]
	Training     bool

	B             int
	X             []T   // the last input [B,In] (not copied)
	H             [][]T // positions h_0 … h_2, each [B, Co·OH·OW]
	fcA, fcZ      []T   // fc pre-activation and act, [B,128]
	Logits, Probs []T   // [B,C]
	DH            [][]T // ∂(scaled loss)/∂h_s after Backward
	dlogits, dfc  []T
	ws            []T // convolution scratch, shared by every conv
	capB, capBack int
	// Scratch that lives within one stage's forward or backward, shared by
	// the stages (channel-major): pre-pool activation z and projection p
	// [Co,B,Hgt,Wid], pooled z [Co,B,OH,OW]; their gradients dz, da, dpool;
	// the projection's input error dskip [B,Cin,Hgt,Wid].
	z, p, pool, dz, da, dpool, dskip []T

	slots              []Slot[T]
	convSlot, projSlot [3]int // slot of stage s's conv / projection, −1 if none
	weightOf           func(i int) []T
}

// CNNStage is one conv → BN → act (→ + skip) → pool stage.
type CNNStage[T nn.Float] struct {
	Conv            *nn.Param[T] // [Co, Cin, 3, 3]
	BNg, BNb        *nn.Param[T] // [Co]
	RunMean, RunVar *nn.Param[T] // running statistics [Co] (buffers, not trained)
	Proj            *nn.Param[T] // [Co, Cin, 1, 1]; nil: identity skip or none

	Cin, Co, Hgt, Wid, OH, OW int // input [Cin,Hgt,Wid], output [Co,OH,OW]

	// what the backward pass needs from the last forward, B rows, channel-major
	a, bn      []T     // conv output, BN output [Co,B,Hgt,Wid]
	mean, rstd []T     // BN statistics the last forward used [Co]
	idx        []int32 // pool argmax [Co,B,OH,OW]
}

func (s *CNNStage[T]) mapSize(B int) int { return B * s.Co * s.Hgt * s.Wid }

func (s *CNNStage[T]) conv(B int) nn.Conv2dDims {
	return nn.Conv2dDims{N: B, Cin: s.Cin, H: s.Hgt, W: s.Wid, Cout: s.Co, KH: 3, KW: 3, Pad: 1, Stride: 1, ChannelMajorOut: true}
}

func (s *CNNStage[T]) proj(B int) nn.Conv2dDims {
	return nn.Conv2dDims{N: B, Cin: s.Cin, H: s.Hgt, W: s.Wid, Cout: s.Co, KH: 1, KW: 1, Stride: 1, ChannelMajorOut: true}
}

func (s *CNNStage[T]) outWidth() int { return s.Co * s.OH * s.OW }

// NewCNN builds the CNN and draws its initial weights (in this order: each
// stage's conv, then its projection; fc; head).
func NewCNN[T nn.Float](cfg Config, rng *rand.Rand) (Credited[T], error) {
	if err := cfg.validateCNN(); err != nil {
		return nil, err
	}
	if cfg.Shape == [3]int{} {
		return nil, fmt.Errorf("--arch cnn: the input shape (channels, height, width) is unknown; it comes from the data set")
	}
	m := &CNN[T]{Cfg: cfg, Training: true}
	cin, h, w := cfg.Shape[0], cfg.Shape[1], cfg.Shape[2]
	for s, co := range cfg.Channels {
		p := fmt.Sprintf("stages.%d.", s)
		st := &CNNStage[T]{
			Conv: nn.NewParam[T](p+"conv.weight", co, cin, 3, 3),
			BNg:  nn.NewParam[T](p+"bn.weight", co), BNb: nn.NewParam[T](p+"bn.bias", co),
			RunMean: nn.NewParam[T](p+"bn.running_mean", co), RunVar: nn.NewParam[T](p+"bn.running_var", co),
			Cin: cin, Co: co, Hgt: h, Wid: w, OH: h / 2, OW: w / 2}
		initConv(st.Conv, rng)
		if cfg.Residual && cin != co {
			st.Proj = nn.NewParam[T](p+"proj.weight", co, cin, 1, 1)
			initConv(st.Proj, rng)
		}
		fill(st.BNg, 1)
		fill(st.RunVar, 1)
		m.Stages = append(m.Stages, st)
		cin, h, w = co, h/2, w/2
	}
	F := m.Stages[2].outWidth()
	m.FCW, m.FCB = nn.NewParam[T]("fc.weight", CNNHidden, F), nn.NewParam[T]("fc.bias", CNNHidden)
	m.HeadW, m.HeadB = nn.NewParam[T]("head.weight", cfg.Classes, CNNHidden), nn.NewParam[T]("head.bias", cfg.Classes)
	initLinear(m.FCW, m.FCB, F, rng)
	initLinear(m.HeadW, m.HeadB, CNNHidden, rng)

	m.slots = []Slot[T]{{m.HeadW, -1, uniformStd(CNNHidden), "uniform"}, {m.FCW, -1, uniformStd(F), "uniform"}}
	for s, st := range m.Stages {
		m.convSlot[s], m.projSlot[s] = -1, -1
		if s == 0 { // stage 0 reads the image: its errors have nowhere to go
			continue
		}
		m.convSlot[s] = len(m.slots)
		m.slots = append(m.slots, Slot[T]{st.Conv, s, uniformStd(st.Cin * 9), "uniform"})
		if st.Proj != nil {
			m.projSlot[s] = len(m.slots)
			m.slots = append(m.slots, Slot[T]{st.Proj, s, uniformStd(st.Cin), "uniform"})
		}
	}
	m.weightOf = func(i int) []T { return m.slots[i].W.W }
	return m, nil
}

// initConv draws PyTorch's default Conv2d weight init,
// U(−1/√fan_in, 1/√fan_in) with fan_in = Cin·kh·kw.
func initConv[T nn.Float](w *nn.Param[T], rng *rand.Rand) {
	bound := 1 / math.Sqrt(float64(w.Shape[1]*w.Shape[2]*w.Shape[3]))
	for i := range w.W {
		w.W[i] = T((2*rng.Float64() - 1) * bound)
	}
}

// validateCNN checks the CNN's settings; the shape checks apply once the
// data set has set Shape.
func (c Config) validateCNN() error {
	if len(c.Channels) != 3 {
		return fmt.Errorf("--channels %v: expected exactly three positive widths, e.g. 32,64,128", c.Channels)
	}
	for _, ch := range c.Channels {
		if ch <= 0 {
			return fmt.Errorf("--channels %v: expected exactly three positive widths, e.g. 32,64,128", c.Channels)
		}
	}
	if c.Shape == [3]int{} {
		return nil
	}
	C, H, W := c.Shape[0], c.Shape[1], c.Shape[2]
	if C <= 0 || H <= 0 || W <= 0 || C*H*W != c.In {
		return fmt.Errorf("--arch cnn: input shape %d×%d×%d does not match the input width %d", C, H, W, c.In)
	}
	if H < 8 || W < 8 {
		return fmt.Errorf("--arch cnn: input %d×%d is too small; three 2×2 poolings need height and width ≥ 8 (use image data, not --data synthetic)", H, W)
	}
	return nil
}

// Params lists every trainable tensor (checkpoint order): per stage conv,
// BN γ, β (and projection), then fc and head.
func (m *CNN[T]) Params() []*nn.Param[T] {
	var ps []*nn.Param[T]
	for s := range m.Stages {
		ps = append(ps, m.BlockParams(s)...)
	}
	return append(ps, m.FCW, m.FCB, m.HeadW, m.HeadB)
}

// Buffers are the BN running statistics, stage by stage (mean, then var).
func (m *CNN[T]) Buffers() []*nn.Param[T] {
	var bs []*nn.Param[T]
	for _, st := range m.Stages {
		bs = append(bs, st.RunMean, st.RunVar)
	}
	return bs
}

// SetTraining switches BatchNorm between batch statistics (true) and the
// running statistics (false).
func (m *CNN[T]) SetTraining(training bool) { m.Training = training }

func (m *CNN[T]) Positions() [][]T     { return m.H }
func (m *CNN[T]) PositionGrads() [][]T { return m.DH }

func (m *CNN[T]) NumBlocks() int        { return len(m.Stages) }
func (m *CNN[T]) BlockOutput(s int) int { return s }
func (m *CNN[T]) Classes() int          { return m.Cfg.Classes }
func (m *CNN[T]) Batch() int            { return m.B }
func (m *CNN[T]) Probabilities() []T    { return m.Probs }
func (m *CNN[T]) TrainInput([]T)        {} // stage 0, a block, reads the image

// BlockParams: stage s's conv weight, BN γ and β, and projection if any.
func (m *CNN[T]) BlockParams(s int) []*nn.Param[T] {
	st := m.Stages[s]
	ps := []*nn.Param[T]{st.Conv, st.BNg, st.BNb}
	if st.Proj != nil {
		ps = append(ps, st.Proj)
	}
	return ps
}

func (m *CNN[T]) PositionWidths() []int {
	w := make([]int, len(m.Stages))
	for s, st := range m.Stages {
		w[s] = st.outWidth()
	}
	return w
}

func (m *CNN[T]) PositionLayout(p int) Layout {
	st := m.Stages[p]
	return Layout{Channels: st.Co, Height: st.OH, Width: st.OW}
}

// Slots: the head (slot 0), fc (slot 1), then for stages 1 and 2 the 3×3
// conv and, if any, the projection (stage 0's read the image, so their error
// goes nowhere and they are not slots). Std/Law are PyTorch's default init.
func (m *CNN[T]) Slots() []Slot[T] { return append([]Slot[T](nil), m.slots...) }

// ensure sizes the forward workspace for B rows, allocating only when B
// exceeds every earlier batch.
func (m *CNN[T]) ensure(B int) {
	C := m.Cfg.Classes
	if B > m.capB {
		m.H = make([][]T, len(m.Stages))
		for s, st := range m.Stages {
			st.a, st.bn = make([]T, st.mapSize(B)), make([]T, st.mapSize(B))
			st.mean, st.rstd = make([]T, st.Co), make([]T, st.Co)
			st.idx = make([]int32, B*st.outWidth())
			m.H[s] = make([]T, B*st.outWidth())
		}
		m.z, m.pool = make([]T, m.maxOver(B, (*CNNStage[T]).mapSize)), make([]T, m.maxOver(B, (*CNNStage[T]).poolSize))
		if m.Cfg.Residual {
			m.p = make([]T, m.maxOver(B, (*CNNStage[T]).projSize))
		}
		m.fcA, m.fcZ = make([]T, B*CNNHidden), make([]T, B*CNNHidden)
		m.Logits, m.Probs = make([]T, B*C), make([]T, B*C)
		m.capB = B
	}
	need := 0
	for _, st := range m.Stages {
		need = max(need, nn.Conv2dWorkspace(st.conv(B)))
		if st.Proj != nil {
			need = max(need, nn.Conv2dWorkspace(st.proj(B)))
		}
	}
	m.ws = grow(m.ws, need)
	for s, st := range m.Stages {
		st.a, st.bn = st.a[:st.mapSize(B)], st.bn[:st.mapSize(B)]
		st.idx = st.idx[:B*st.outWidth()]
		m.H[s] = m.H[s][:B*st.outWidth()]
	}
	m.fcA, m.fcZ = m.fcA[:B*CNNHidden], m.fcZ[:B*CNNHidden]
	m.Logits, m.Probs = m.Logits[:B*C], m.Probs[:B*C]
	m.B = B
}

func (s *CNNStage[T]) poolSize(B int) int { return B * s.outWidth() }
func (s *CNNStage[T]) inSize(B int) int   { return B * s.Cin * s.Hgt * s.Wid }

// projSize is the size of the projection's output (0 without one).
func (s *CNNStage[T]) projSize(B int) int {
	if s.Proj == nil {
		return 0
	}
	return s.mapSize(B)
}

// maxOver is the largest size(B) over the stages.
func (m *CNN[T]) maxOver(B int, size func(*CNNStage[T], int) int) int {
	n := 0
	for _, st := range m.Stages {
		n = max(n, size(st, B))
	}
	return n
}

// ensureBack sizes the backward scratch for the last forward's B rows
// (separately from ensure, so that large evaluation batches, which never
// run backward, do not allocate it).
func (m *CNN[T]) ensureBack() {
	B, C := m.B, m.Cfg.Classes
	if B > m.capBack {
		m.DH = make([][]T, len(m.Stages))
		for s, st := range m.Stages {
			m.DH[s] = make([]T, B*st.outWidth())
		}
		n := m.maxOver(B, (*CNNStage[T]).mapSize)
		m.dz, m.da, m.dpool = make([]T, n), make([]T, n), make([]T, m.maxOver(B, (*CNNStage[T]).poolSize))
		ns := 0 // stage 0's projection sends no error to the image
		for _, st := range m.Stages[1:] {
			ns = max(ns, st.projSize(B)/st.Co*st.Cin)
		}
		m.dskip = make([]T, ns)
		m.dlogits, m.dfc = make([]T, B*C), make([]T, B*CNNHidden)
		m.capBack = B
	}
	for s, st := range m.Stages {
		m.DH[s] = m.DH[s][:B*st.outWidth()]
	}
	m.dlogits, m.dfc = m.dlogits[:B*C], m.dfc[:B*CNNHidden]
}

// Forward: logits[B,C] for x[B,In] (NCHW rows), keeping every stage's conv
// output, BN output and statistics, pre-pool activation, pool argmax and
// output. In training mode it updates the BN running statistics.
func (m *CNN[T]) Forward(x []T, B int) []T {
	m.ensure(B)
	m.X = x[:B*m.Cfg.In]
	return m.forwardFrom(0, m.Training)
}

// ForwardFrom recomputes the network from the current contents of position
// p (h_p) onwards, for the B rows of the last Forward, and returns the
// logits. It does not touch the running statistics.
func (m *CNN[T]) ForwardFrom(p int) []T { return m.forwardFrom(p+1, false) }

// forwardFrom runs stages s0… and the head; update: fold the batch
// statistics into the running ones (training mode only).
func (m *CNN[T]) forwardFrom(s0 int, update bool) []T {
	B := m.B
	for s := s0; s < len(m.Stages); s++ {
		m.stageForward(s, update)
	}
	F := m.Stages[len(m.Stages)-1].outWidth()
	nn.LinearForward(m.fcA, m.H[len(m.Stages)-1], m.FCW.W, m.FCB.W, B, F, CNNHidden)
	nn.ActForward(m.Cfg.Act, m.fcZ, m.fcA)
	nn.LinearForward(m.Logits, m.fcZ, m.HeadW.W, m.HeadB.W, B, CNNHidden, m.Cfg.Classes)
	return m.Logits
}

// input of stage s: the image or h_{s−1}.
func (m *CNN[T]) input(s int) []T {
	if s == 0 {
		return m.X
	}
	return m.H[s-1]
}

func (m *CNN[T]) stageForward(s int, update bool) {
	st, B := m.Stages[s], m.B
	in, HW := m.input(s), st.Hgt*st.Wid
	nn.Conv2dForward(st.a, in, st.Conv.W, nil, m.ws, st.conv(B))
	rm, rv := st.RunMean.W, st.RunVar.W // read in evaluation mode
	if m.Training && !update {
		rm, rv = nil, nil // training mode updates them when non-nil
	}
	// channel-major [Co, B·HW] is BatchNorm2d's [1, Co, B·HW]
	nn.BatchNorm2dForward(st.bn, st.mean, st.rstd, st.a, st.BNg.W, st.BNb.W, rm, rv, 1, st.Co, B*HW, m.Training)
	z, pool := m.z[:st.mapSize(B)], m.pool[:st.poolSize(B)]
	nn.ActForward(m.Cfg.Act, z, st.bn)
	if m.Cfg.Residual && st.Proj != nil {
		p := m.p[:st.mapSize(B)]
		nn.Conv2dForward(p, in, st.Proj.W, nil, m.ws, st.proj(B))
		nn.ResidualForward(z, z, p)
	} else if m.Cfg.Residual {
		nn.SwapAxes01(z, in, B, st.Co, HW, true) // identity skip: z[c,n] += x[n,c]
	}
	nn.MaxPool2x2Forward(pool, st.idx, z, 1, st.Co*B, st.Hgt, st.Wid)
	nn.SwapAxes01(m.H[s], pool, st.Co, B, st.OH*st.OW, false)
}

// Loss is the summed cross-entropy of the last forward (probabilities kept).
func (m *CNN[T]) Loss(y []int32) float64 {
	return nn.CrossEntropyForward(m.Probs, m.Logits, y, m.B, m.Cfg.Classes)
}

// Backward is exact backpropagation of scale·(summed loss) (see Network).
func (m *CNN[T]) Backward(y []int32, scale T) {
	m.ensureBack()
	m.BackwardWith(y, scale, m.weightOf, m.DH)
}

// BackwardWith: see Credited. The head's error reaches h_2 through fb(0)
// and fb(1); stage s (s = 2, 1) sends its error to h_{s−1} through its conv's
// and projection's slots.
func (m *CNN[T]) BackwardWith(y []int32, scale T, fb func(i int) []T, credit [][]T) {
	last := len(m.Stages) - 1
	m.HeadBackward(y, scale, credit[last], fb(0), fb(1))
	for s := last; s >= 0; s-- {
		var dIn, fc, fp []T
		if s > 0 {
			dIn, fc = credit[s-1], fb(m.convSlot[s])
			if m.projSlot[s] >= 0 {
				fp = fb(m.projSlot[s])
			}
		}
		m.StageBackward(s, credit[s], dIn, fc, fp)
	}
}

// TrainHead trains fc and head on the true loss and writes the exact error at
// h_2 into dLast.
func (m *CNN[T]) TrainHead(y []int32, scale T, dLast []T) {
	m.HeadBackward(y, scale, dLast, m.HeadW.W, m.FCW.W)
}

// TrainBlock fills stage s's gradients from dOut, the credit at h_s, with
// its input held constant.
func (m *CNN[T]) TrainBlock(s int, dOut []T) { m.StageBackward(s, dOut, nil, nil, nil) }

// HeadBackward: from the last Loss, the gradients of head and fc for
// scale·(summed loss), and the error dLast[B,F] arriving at h_2, carried back
// through the head by fbHead [C,128] and through fc by fbFC [128,F] (the
// weights themselves for BP).
func (m *CNN[T]) HeadBackward(y []int32, scale T, dLast, fbHead, fbFC []T) {
	m.ensureBack()
	B, C, F := m.B, m.Cfg.Classes, m.Stages[len(m.Stages)-1].outWidth()
	nn.CrossEntropyBackward(m.dlogits, m.Probs, y, B, C, scale)
	nn.LinearBackward(m.dfc, m.HeadW.G, m.HeadB.G, m.dlogits, m.fcZ, fbHead, B, CNNHidden, C)
	nn.ActBackward(m.Cfg.Act, m.dfc, m.dfc, m.fcA)
	nn.LinearBackward(dLast, m.FCW.G, m.FCB.G, m.dfc, m.H[len(m.Stages)-1], fbFC, B, F, CNNHidden)
}

// StageBackward: given dOut[B,Co·OH·OW], the gradient at stage s's output
// h_s, fills stage s's parameter gradients and, when dIn is non-nil, writes
// the gradient at its input h_{s−1}: the 3×3 conv carries its error there
// through fbConv, the projection through fbProj (the weights themselves for
// BP), an identity skip unchanged. BatchNorm is differentiated in the mode
// of the last forward. dIn must not alias dOut.
func (m *CNN[T]) StageBackward(s int, dOut, dIn, fbConv, fbProj []T) {
	m.ensureBack()
	st, B := m.Stages[s], m.B
	in, HW := m.input(s), st.Hgt*st.Wid
	dz, da, dpool := m.dz[:st.mapSize(B)], m.da[:st.mapSize(B)], m.dpool[:st.poolSize(B)]
	nn.SwapAxes01(dpool, dOut, B, st.Co, st.OH*st.OW, false)
	nn.MaxPool2x2Backward(dz, dpool, st.idx, 1, st.Co*B, st.Hgt, st.Wid)
	nn.ActBackward(m.Cfg.Act, da, dz, st.bn)
	nn.BatchNorm2dBackward(da, st.BNg.G, st.BNb.G, da, st.a, st.mean, st.rstd, st.BNg.W, 1, st.Co, B*HW, m.Training)
	nn.Conv2dBackward(dIn, st.Conv.G, nil, da, in, fbConv, m.ws, st.conv(B))
	if !m.Cfg.Residual {
		return
	}
	if st.Proj != nil {
		var dskip []T
		if dIn != nil {
			dskip = m.dskip[:st.inSize(B)]
		}
		nn.Conv2dBackward(dskip, st.Proj.G, nil, dz, in, fbProj, m.ws, st.proj(B))
		if dIn != nil {
			nn.ResidualForward(dIn, dIn, dskip)
		}
	} else if dIn != nil {
		nn.SwapAxes01(dIn, dz, st.Co, B, HW, true) // identity skip: dIn[n,c] += dz[c,n]
	}
}

var (
	_ Credited[float64] = (*CNN[float64])(nil)
	_ Stateful[float32] = (*CNN[float32])(nil)
)
