package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/faudit/faudit/nn"
)

// Config describes an architecture. Zero values are not defaults: use
// DefaultConfig and override.
type Config struct {
	Arch    string        `json:"arch"` // "mlp", "resmlp", "vit" or "cnn"
	In      int           `json:"in"`
	Shape   [3]int        `json:"shape"` // C, H, W of one input (set from the data)
	Classes int           `json:"classes"`
	Act     nn.Activation `json:"act"`

	// ResMLP
	D          int     `json:"d,omitempty"`
	Hidden     int     `json:"hidden,omitempty"` // block hidden width
	Blocks     int     `json:"blocks,omitempty"`
	TerminalLN bool    `json:"terminal_ln"`
	Residual   bool    `json:"residual"`
	W2Std      float64 `json:"w2_std,omitempty"`

	// MLP
	HiddenLayers []int `json:"hidden_layers,omitempty"`

	// ViT (D, Blocks and TerminalLN above apply too)
	Patch     int `json:"patch,omitempty"`
	Heads     int `json:"heads,omitempty"`
	MLPHidden int `json:"mlp_hidden,omitempty"`

	// CNN (Residual above adds skips per stage)
	Channels []int `json:"channels,omitempty"`
}

// DefaultConfig is the paper's primary ResMLP (d=256, L=4, hidden d, ReLU,
// terminal LN, skip, W2 ~ N(0, 0.01²)) for the given input and class counts.
func DefaultConfig(in, classes int) Config {
	return Config{Arch: "resmlp", In: in, Classes: classes, Act: nn.ReLU,
		D: 256, Hidden: 256, Blocks: 4, TerminalLN: true, Residual: true, W2Std: 0.01,
		HiddenLayers: []int{256, 256}}
}

// Validate reports the first inconsistent setting, naming the flag.
func (c Config) Validate() error {
	if c.Act != nn.ReLU && c.Act != nn.GELU {
		return fmt.Errorf("--act %q: expected relu or gelu", c.Act)
	}
	if c.In <= 0 || c.Classes <= 1 {
		return fmt.Errorf("model: input width %d and class count %d must be positive (classes ≥ 2)", c.In, c.Classes)
	}
	switch c.Arch {
	case "resmlp":
		if c.D <= 0 || c.Hidden <= 0 || c.Blocks < 0 {
			return fmt.Errorf("--d %d, --hidden %d, --blocks %d: expected d, hidden > 0 and blocks ≥ 0", c.D, c.Hidden, c.Blocks)
		}
		if !(c.W2Std >= 0) || math.IsInf(c.W2Std, 0) {
			return fmt.Errorf("--w2-std %v: expected a finite value ≥ 0", c.W2Std)
		}
	case "mlp":
		if len(c.HiddenLayers) == 0 {
			return fmt.Errorf("--hidden-layers: expected at least one width, e.g. 256,256")
		}
		for _, h := range c.HiddenLayers {
			if h <= 0 {
				return fmt.Errorf("--hidden-layers %v: widths must be positive", c.HiddenLayers)
			}
		}
	case "vit":
		return c.validateViT()
	case "cnn":
		return c.validateCNN()
	default:
		return fmt.Errorf("--arch %q: expected mlp, resmlp, vit or cnn", c.Arch)
	}
	return nil
}

// Network is what training needs from a model.
type Network[T nn.Float] interface {
	Params() []*nn.Param[T]
	// Forward runs x[B,In] through the network, keeping every intermediate,
	// and returns the logits [B,Classes].
	Forward(x []T, B int) []T
	// Loss returns the summed cross-entropy of the last forward against y,
	// leaving the softmax probabilities in the workspace.
	Loss(y []int32) float64
	// Backward is exact backpropagation for the last forward and Loss: it
	// fills every Param.G and the position gradients with the gradient of
	// scale·(summed loss); scale = 1/B gives PyTorch's mean reduction.
	Backward(y []int32, scale T)
	// Positions are the states the protocol inspects (each [B,width]), and
	// PositionGrads their gradients after Backward.
	Positions() [][]T
	PositionGrads() [][]T
	// ForwardFrom recomputes the last forward from the current contents of
	// position p onwards and returns the logits.
	ForwardFrom(p int) []T
}

// New builds and initialises a model from cfg, drawing its weights from rng
// (in float64, then rounded to T, so float32 and float64 runs of one seed
// start from the same weights up to rounding).
func New[T nn.Float](cfg Config, rng *rand.Rand) (Credited[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Arch {
	case "mlp":
		return NewMLP[T](cfg, rng), nil
	case "vit":
		return NewViT[T](cfg, rng)
	case "cnn":
		return NewCNN[T](cfg, rng)
	}
	return NewResMLP[T](cfg, rng), nil
}

// initLinear draws PyTorch's default Linear init: weight and bias
// ~ U(−1/√in, 1/√in) (kaiming_uniform with a=√5).
func initLinear[T nn.Float](w, b *nn.Param[T], in int, rng *rand.Rand) {
	bound := 1 / math.Sqrt(float64(in))
	for i := range w.W {
		w.W[i] = T((2*rng.Float64() - 1) * bound)
	}
	if b != nil {
		for i := range b.W {
			b.W[i] = T((2*rng.Float64() - 1) * bound)
		}
	}
}

func initNormal[T nn.Float](w *nn.Param[T], std float64, rng *rand.Rand) {
	for i := range w.W {
		w.W[i] = T(std * rng.NormFloat64())
	}
}

func fill[T nn.Float](p *nn.Param[T], v T) {
	for i := range p.W {
		p.W[i] = v
	}
}

// grow returns s with length n, reusing its storage when large enough.
func grow[T nn.Float](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// NumBlocks is L, the number of blocks --train-blocks counts: residual
// blocks (resmlp, vit), hidden layers (mlp) or conv stages (cnn).
func (c Config) NumBlocks() int {
	switch c.Arch {
	case "mlp":
		return len(c.HiddenLayers)
	case "cnn":
		return len(c.Channels)
	}
	return c.Blocks
}
