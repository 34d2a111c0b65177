package train

import (
	"math/rand/v2"
	"testing"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
)

// BenchmarkTrainStepViT times one BP training step (forward, loss, backward,
// AdamW) of the default ViT-Mini on MNIST-shaped inputs (7×7 patches, 17
// tokens, d=128, 4 blocks, 4 heads, MLP hidden 256, GELU, terminal LN) at
// batch 128. Reports samples/s; compare ratios within one run.
func BenchmarkTrainStepViT(b *testing.B) {
	b.Run("float32", func(b *testing.B) { benchViTStep[float32](b) })
	b.Run("float64", func(b *testing.B) { benchViTStep[float64](b) })
}

func vitBenchConfig() model.Config {
	cfg := model.DefaultConfig(784, 10)
	cfg.Arch, cfg.Shape, cfg.Act = "vit", [3]int{1, 28, 28}, nn.GELU
	cfg.D, cfg.Blocks, cfg.Heads, cfg.MLPHidden, cfg.Patch = 128, 4, 4, 256, 0
	cfg.Hidden, cfg.W2Std, cfg.HiddenLayers = 0, 0, nil
	return cfg
}

func benchViTStep[T nn.Float](b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := model.New[T](vitBenchConfig(), rng)
	if err != nil {
		b.Fatal(err)
	}
	opt := NewAdamW(net.Params(), 0.01)
	const B = 128
	x, y := make([]T, B*784), make([]int32, B)
	for i := range x {
		x[i] = T(rng.NormFloat64())
	}
	for i := range y {
		y[i] = int32(rng.IntN(10))
	}
	step := func() {
		net.Forward(x, B)
		net.Loss(y)
		net.Backward(y, 1.0/B)
		opt.Step(1e-3)
	}
	step()
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(B*b.N)/b.Elapsed().Seconds(), "samples/s")
}
