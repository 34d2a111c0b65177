package train

import (
	"math/rand/v2"
	"testing"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
)

// BenchmarkTrainStepCNN times one BP training step (forward, loss, backward,
// AdamW) of the BatchNorm CNN on 1×28×28 inputs (channels 32, 64, 128, ReLU,
// training-mode BN) at batch 128, with the CLI default (projection skips)
// and without skips. Reports samples/s; compare ratios within one run.
//
// The steps cycle through 16 random batches, as training would (repeating
// one batch, the network memorises it within tens of steps).
func BenchmarkTrainStepCNN(b *testing.B) {
	for _, arch := range []string{"cnn", "cnn-noskip"} {
		b.Run(arch+"/float32", func(b *testing.B) { benchStepCNN[float32](b, arch == "cnn") })
		b.Run(arch+"/float64", func(b *testing.B) { benchStepCNN[float64](b, arch == "cnn") })
	}
}

func benchStepCNN[T nn.Float](b *testing.B, residual bool) {
	cfg := model.Config{Arch: "cnn", In: 784, Shape: [3]int{1, 28, 28}, Classes: 10, Act: nn.ReLU,
		Channels: []int{32, 64, 128}, Residual: residual}
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := model.New[T](cfg, rng)
	if err != nil {
		b.Fatal(err)
	}
	opt := NewAdamW(net.Params(), 0.01)
	const B, batches = 128, 16
	x, y := make([]T, batches*B*784), make([]int32, batches*B)
	for i := range x {
		x[i] = T(rng.NormFloat64())
	}
	for i := range y {
		y[i] = int32(rng.IntN(10))
	}
	i := 0
	step := func() {
		i = (i + 1) % batches
		xb, yb := x[i*B*784:(i+1)*B*784], y[i*B:(i+1)*B]
		net.Forward(xb, B)
		net.Loss(yb)
		net.Backward(yb, 1.0/B)
		opt.Step(1e-3)
	}
	step()
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(B*b.N)/b.Elapsed().Seconds(), "samples/s")
}
