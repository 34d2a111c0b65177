package train

import (
	"math/rand/v2"
	"testing"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
)

// BenchmarkTrainStep times one BP training step (forward, loss, backward,
// AdamW) of the default ResMLP (784→256, 4 blocks of hidden 256, terminal LN,
// ReLU) at batch 128, the model of ../shared/bench/torch_resmlp_bench.py.
// Reports samples/s; compare ratios within one run (the VM drifts ±20 %).
func BenchmarkTrainStep(b *testing.B) {
	for _, arch := range []string{"resmlp", "mlp"} {
		b.Run(arch+"/float32", func(b *testing.B) { benchStep[float32](b, arch) })
		b.Run(arch+"/float64", func(b *testing.B) { benchStep[float64](b, arch) })
	}
}

func benchStep[T nn.Float](b *testing.B, arch string) {
	cfg := model.DefaultConfig(784, 10)
	cfg.Arch = arch
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := model.New[T](cfg, rng)
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
