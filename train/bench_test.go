package train

import (
	"math/rand/v2"
	"testing"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
)

// BenchmarkTrainStep times one BP training step (forward, loss, backward,
// AdamW) at batch 128 on MNIST-shaped inputs for each architecture:
//   - resmlp: 784→256, 4 blocks of hidden 256, terminal LN, ReLU — the model
//     of ../shared/bench/torch_resmlp_bench.py;
//   - mlp: 784→256→256→10;
//   - vit: ViT-Mini, 7×7 patches (17 tokens), d=128, 4 blocks, 4 heads, MLP
//     hidden 256, GELU, terminal LN;
//   - cnn: three Conv3×3–BN–ReLU–pool stages (32, 64, 128 channels) with
//     skips, FC 128, head.
//
// Reports samples/s; compare ratios within one run (the VM drifts ±20 %).
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range benchConfigs() {
		b.Run(c.Arch+"/float32", func(b *testing.B) { benchStep[float32](b, c) })
		b.Run(c.Arch+"/float64", func(b *testing.B) { benchStep[float64](b, c) })
	}
}

func benchConfigs() []model.Config {
	base := model.DefaultConfig(784, 10)
	base.Shape = [3]int{1, 28, 28}
	res, mlp, vit, cnn := base, base, base, base
	res.HiddenLayers = nil
	mlp.Arch = "mlp"
	vit.Arch, vit.Act, vit.D, vit.Heads, vit.MLPHidden, vit.Hidden, vit.W2Std, vit.HiddenLayers = "vit", nn.GELU, 128, 4, 256, 0, 0, nil
	cnn.Arch, cnn.Channels, cnn.Residual, cnn.HiddenLayers = "cnn", []int{32, 64, 128}, true, nil
	return []model.Config{res, mlp, vit, cnn}
}

func benchStep[T nn.Float](b *testing.B, cfg model.Config) {
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := model.New[T](cfg, rng)
	if err != nil {
		b.Fatal(err)
	}
	setTraining(net, true)
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
