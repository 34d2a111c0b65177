package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/faudit/faudit/nn"
)

// smallViTConfig: 2×4×6 inputs, 2×2 patches (6 patches, 7 tokens), d = 8,
// 2 heads, MLP hidden 12, 2 blocks, 3 classes.
func smallViTConfig(terminalLN bool, act nn.Activation) Config {
	return Config{Arch: "vit", In: 2 * 4 * 6, Shape: [3]int{2, 4, 6}, Classes: 3, Act: act,
		D: 8, Blocks: 2, Heads: 2, MLPHidden: 12, Patch: 2, TerminalLN: terminalLN, Residual: true}
}

func newSmallViT(t *testing.T, cfg Config, seed uint64) *ViT[float64] {
	t.Helper()
	net, err := New[float64](cfg, rand.New(rand.NewPCG(seed, seed)))
	if err != nil {
		t.Fatal(err)
	}
	return net.(*ViT[float64])
}

// roughen redraws every parameter around its init so that no check is
// helped by the init's structure (LN weight 1, small branch outputs, zero
// biases): LN weights 1 + N(0, 0.2²), everything else N(0, 0.4²).
func roughen(m *ViT[float64], rng *rand.Rand) {
	for _, p := range m.Params() {
		for i := range p.W {
			if strings.Contains(p.Name, "ln") && strings.HasSuffix(p.Name, ".weight") {
				p.W[i] = 1 + 0.2*rng.NormFloat64()
			} else {
				p.W[i] = 0.4 * rng.NormFloat64()
			}
		}
	}
}

// checkViT is checkModel for the ViT, except for the key biases: a key bias
// shifts every score of a query row by the same amount, which the softmax
// ignores, so their gradient is exactly zero and is checked against the
// scale of the value bias's gradient instead of relatively.
func checkViT(t *testing.T, name string, m *ViT[float64], x []float64, y []int32, B int) {
	t.Helper()
	loss := func() float64 { m.Forward(x, B); return m.Loss(y) }
	loss()
	m.Backward(y, 1)
	worst := 0.0
	grads := map[string][]float64{}
	for _, p := range m.Params() {
		grads[p.Name] = append([]float64(nil), p.G...)
	}
	for _, p := range m.Params() {
		ana := grads[p.Name]
		num := centralDiff(p.W, loss)
		if strings.HasSuffix(p.Name, "attn.k.bias") {
			vb := grads[strings.Replace(p.Name, "attn.k.", "attn.v.", 1)]
			ref := math.Sqrt(dotf(vb, vb))
			if n, a := math.Sqrt(dotf(num, num)), math.Sqrt(dotf(ana, ana)); n > 1e-6*ref || a > 1e-12*ref {
				t.Errorf("%s %s: ‖numeric‖ %.3g, ‖analytic‖ %.3g; want ≈ 0 against ‖dbv‖ %.3g", name, p.Name, n, a, ref)
			}
			continue
		}
		e := relErr(num, ana)
		worst = math.Max(worst, e)
		if !(e <= 1e-6) {
			t.Errorf("%s %s: relative error %.3g", name, p.Name, e)
		}
	}
	worst = math.Max(worst, checkPositions(t, name, m, x, y, B))
	t.Logf("%s: worst relative error over %d tensors and %d positions: %.2g", name, len(m.Params()), len(m.Positions()), worst)
}

func dotf(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestViTGradient(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ln    bool
		act   nn.Activation
		rough bool
	}{
		{"ln/gelu/init", true, nn.GELU, false},
		{"ln/gelu", true, nn.GELU, true},
		{"ln/relu", true, nn.ReLU, true},
		{"noLN/gelu/init", false, nn.GELU, false},
		{"noLN/gelu", false, nn.GELU, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, 21))
			cfg := smallViTConfig(tc.ln, tc.act)
			m := newSmallViT(t, cfg, 21)
			if tc.rough {
				roughen(m, rng)
			}
			x, y := smallBatch(rng, 3, cfg.In, cfg.Classes)
			checkViT(t, tc.name, m, x, y, 3)
		})
	}
}

// The head reads only the CLS token: the gradient at h_L vanishes on every
// other token.
func TestViTLastPositionGradientIsCLSOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 22))
	cfg := smallViTConfig(true, nn.GELU)
	m := newSmallViT(t, cfg, 22)
	x, y := smallBatch(rng, 4, cfg.In, cfg.Classes)
	m.Forward(x, 4)
	m.Loss(y)
	m.Backward(y, 1)
	g, D := m.DH[cfg.Blocks], cfg.D
	for s := 0; s < 4; s++ {
		row := g[s*m.Tokens*D : (s+1)*m.Tokens*D]
		if dotf(row[:D], row[:D]) == 0 {
			t.Errorf("sample %d: zero gradient on the CLS token of h_L", s)
		}
		for i, v := range row[D:] {
			if v != 0 {
				t.Fatalf("sample %d: gradient %v at h_L entry %d outside the CLS token", s, v, D+i)
			}
		}
	}
}

func snapshotGrads(ps []*nn.Param[float64]) map[string][]float64 {
	g := map[string][]float64{}
	for _, p := range ps {
		g[p.Name] = append([]float64(nil), p.G...)
	}
	return g
}

// BackwardWith with fb = the weights themselves is Backward, bit for bit;
// and the local pieces (TrainHead, TrainBlock on the exact credit,
// TrainInput on the exact c_0) reproduce BP's gradients exactly.
func TestViTBackwardWithWeightsIsBackward(t *testing.T) {
	for _, ln := range []bool{true, false} {
		rng := rand.New(rand.NewPCG(23, 23))
		cfg := smallViTConfig(ln, nn.GELU)
		m := newSmallViT(t, cfg, 23)
		roughen(m, rng)
		x, y := smallBatch(rng, 5, cfg.In, cfg.Classes)
		m.Forward(x, 5)
		m.Loss(y)
		m.Backward(y, 0.2)
		want := snapshotGrads(m.Params())
		var wantPos [][]float64
		for _, g := range m.PositionGrads() {
			wantPos = append(wantPos, append([]float64(nil), g...))
		}

		slots := m.Slots()
		if len(slots) != 1+6*cfg.Blocks {
			t.Fatalf("%d slots, want %d", len(slots), 1+6*cfg.Blocks)
		}
		credit := make([][]float64, len(wantPos))
		for p := range credit {
			credit[p] = make([]float64, len(wantPos[p]))
		}
		for _, p := range m.Params() {
			clear(p.G)
		}
		m.BackwardWith(y, 0.2, func(i int) []float64 { return slots[i].W.W }, credit)
		for p := range credit {
			for i := range credit[p] {
				if credit[p][i] != wantPos[p][i] {
					t.Fatalf("ln=%v: BackwardWith(W) credit at position %d differs from Backward", ln, p)
				}
			}
		}
		same := func(what string) {
			for _, p := range m.Params() {
				for i, v := range p.G {
					if v != want[p.Name][i] {
						t.Fatalf("ln=%v %s: gradient of %s differs from Backward at %d: %v vs %v", ln, what, p.Name, i, v, want[p.Name][i])
					}
				}
			}
		}
		same("BackwardWith(W)")

		// Local pieces on the exact credit.
		for _, p := range m.Params() {
			clear(p.G)
		}
		last := make([]float64, len(wantPos[cfg.Blocks]))
		m.TrainHead(y, 0.2, last)
		for i := range last {
			if last[i] != wantPos[cfg.Blocks][i] {
				t.Fatalf("ln=%v: TrainHead's error at h_L differs from Backward", ln)
			}
		}
		for l := 0; l < cfg.Blocks; l++ {
			m.TrainBlock(l, wantPos[m.BlockOutput(l)])
		}
		m.TrainInput(wantPos[0])
		same("TrainHead+TrainBlock+TrainInput")
	}
}

// Replacing one slot's matrix changes exactly what it should: the credit
// below that Linear, never the gradients of the weights above it.
func TestViTBackwardWithUsesEverySlot(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 24))
	cfg := smallViTConfig(true, nn.GELU)
	m := newSmallViT(t, cfg, 24)
	roughen(m, rng)
	x, y := smallBatch(rng, 3, cfg.In, cfg.Classes)
	m.Forward(x, 3)
	m.Loss(y)
	slots := m.Slots()
	run := func(swap int) [][]float64 {
		credit := make([][]float64, cfg.Blocks+1)
		for p := range credit {
			credit[p] = make([]float64, 3*m.Tokens*cfg.D)
		}
		m.BackwardWith(y, 1, func(i int) []float64 {
			if i == swap {
				b := make([]float64, len(slots[i].W.W))
				for j := range b {
					b[j] = rng.NormFloat64()
				}
				return b
			}
			return slots[i].W.W
		}, credit)
		return credit
	}
	ref := run(-1)
	for i, s := range slots {
		got := run(i)
		// Slot i sits in block s.Block (the head: above position L); its
		// substitute changes the credit at that block's input and below.
		top := cfg.Blocks
		if s.Block >= 0 {
			top = s.Block
		}
		for p := range got {
			changed := relErr(got[p], ref[p]) > 1e-9
			if p <= top && !changed {
				t.Errorf("slot %d (%s): credit at position %d unchanged", i, s.W.Name, p)
			}
			if p > top && changed {
				t.Errorf("slot %d (%s): credit at position %d changed", i, s.W.Name, p)
			}
		}
	}
}

func TestViTLayoutAndInit(t *testing.T) {
	cfg := DefaultConfig(784, 10)
	cfg.Arch, cfg.Shape, cfg.Act = "vit", [3]int{1, 28, 28}, nn.GELU
	cfg.D, cfg.Blocks, cfg.Heads, cfg.MLPHidden, cfg.Patch = 128, 4, 4, 256, 0
	net, err := New[float64](cfg, rand.New(rand.NewPCG(25, 25)))
	if err != nil {
		t.Fatal(err)
	}
	m := net.(*ViT[float64])
	if m.Patch != 7 || m.Tokens != 17 {
		t.Fatalf("28×28 input: patch %d, %d tokens; want 7 and 17", m.Patch, m.Tokens)
	}
	if w := m.PositionWidths(); len(w) != 5 || w[0] != 17*128 || m.PositionLayout(2).Tokens != 17 {
		t.Fatalf("position widths %v, layout %+v", w, m.PositionLayout(2))
	}
	names := []string{}
	n := 0
	for _, p := range m.Params() {
		names = append(names, p.Name)
		n += len(p.W)
	}
	want := []string{"patch_embed.weight", "patch_embed.bias", "cls_token", "pos_embed",
		"blocks.0.ln1.weight", "blocks.0.ln1.bias", "blocks.0.attn.q.weight", "blocks.0.attn.q.bias",
		"blocks.0.attn.k.weight", "blocks.0.attn.k.bias", "blocks.0.attn.v.weight", "blocks.0.attn.v.bias",
		"blocks.0.attn.out.weight", "blocks.0.attn.out.bias", "blocks.0.ln2.weight", "blocks.0.ln2.bias",
		"blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc1.bias", "blocks.0.mlp.fc2.weight", "blocks.0.mlp.fc2.bias"}
	for i, w := range want {
		if names[i] != w {
			t.Fatalf("parameter %d is %q, want %q (all: %v)", i, names[i], w, names)
		}
	}
	if tail := names[len(names)-4:]; strings.Join(tail, " ") != "out_ln.weight out_ln.bias out_head.weight out_head.bias" {
		t.Fatalf("last parameters %v", tail)
	}
	// 49·128+128 + 128 + 17·128 + 4·(2·128 + 4·(128²+128) + 2·128 + 128·256+256 + 256·128+128) + 2·128 + 128·10+10
	if want := 6400 + 128 + 2176 + 4*132480 + 256 + 1290; n != want {
		t.Errorf("%d parameters, want %d", n, want)
	}
	std := func(w []float64) float64 { return math.Sqrt(dotf(w, w) / float64(len(w))) }
	for _, b := range m.Blocks {
		for _, p := range []*nn.Param[float64]{b.Wo, b.W2} {
			if s := std(p.W); math.Abs(s-0.02) > 0.001 {
				t.Errorf("%s: std %.4f, want 0.02", p.Name, s)
			}
		}
		for _, p := range []*nn.Param[float64]{b.Bo, b.B2} {
			if std(p.W) != 0 {
				t.Errorf("%s: not zero at init", p.Name)
			}
		}
		if s, w := std(b.Wq.W), uniformStd(128); math.Abs(s-w) > 0.05*w {
			t.Errorf("%s: std %.4f, want %.4f", b.Wq.Name, s, w)
		}
	}
	if s := std(m.Pos.W); math.Abs(s-0.02) > 0.002 {
		t.Errorf("pos_embed: std %.4f, want 0.02", s)
	}
	ss := m.Slots()
	order := []string{"out_head.weight", "blocks.0.attn.q.weight", "blocks.0.attn.k.weight", "blocks.0.attn.v.weight",
		"blocks.0.attn.out.weight", "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc2.weight", "blocks.1.attn.q.weight"}
	for i, w := range order {
		if ss[i].W.Name != w {
			t.Errorf("slot %d is %s, want %s", i, ss[i].W.Name, w)
		}
	}
	if ss[4].Law != "normal" || ss[4].Std != 0.02 || ss[1].Law != "uniform" || ss[1].Std != uniformStd(128) || ss[0].Block != -1 || ss[7].Block != 1 {
		t.Errorf("slot laws: %+v %+v %+v", ss[0], ss[1], ss[4])
	}

	// CIFAR-shaped inputs default to 4×4 patches.
	cfg.In, cfg.Shape = 3*32*32, [3]int{3, 32, 32}
	net, err = New[float64](cfg, rand.New(rand.NewPCG(25, 25)))
	if err != nil {
		t.Fatal(err)
	}
	if v := net.(*ViT[float64]); v.Patch != 4 || v.Tokens != 65 {
		t.Errorf("32×32 input: patch %d, %d tokens; want 4 and 65", v.Patch, v.Tokens)
	}
}

// The patch embedding reads P×P×C patches row-major over the image, each in
// (channel, row, column) order: a one-hot weight row picks one pixel.
func TestViTPatchOrder(t *testing.T) {
	cfg := smallViTConfig(false, nn.GELU) // 2×4×6, patch 2: 2×3 patches
	m := newSmallViT(t, cfg, 26)
	for _, p := range m.Params() {
		clear(p.W)
	}
	// Embedding unit d reads patch entry (c=1, i=1, j=0) = index 1·4+1·2+0 = 6.
	m.PatchW.W[3*8+6] = 1
	x := make([]float64, cfg.In)
	for i := range x {
		x[i] = float64(i)
	}
	m.Forward(x, 1)
	D := cfg.D
	for n := 0; n < 6; n++ {
		py, px := n/3, n%3
		want := float64(1*24 + (py*2+1)*6 + px*2) // x[c=1, row py·2+1, col px·2]
		if got := m.H[0][(1+n)*D+3]; got != want {
			t.Errorf("patch %d: embedding %v, want %v", n, got, want)
		}
	}
}

func TestViTConfigErrors(t *testing.T) {
	base := DefaultConfig(784, 10)
	base.Arch, base.Shape, base.Act = "vit", [3]int{1, 28, 28}, nn.GELU
	base.D, base.Blocks, base.Heads, base.MLPHidden = 128, 4, 4, 256
	for _, tc := range []struct {
		edit func(*Config)
		want string // "" = valid
	}{
		{func(c *Config) {}, ""},
		{func(c *Config) { c.Patch = 5 }, "--patch 5: does not divide the 28×28 input"},
		{func(c *Config) { c.Patch = 14 }, ""},
		{func(c *Config) { c.Heads = 3 }, "--heads 3: does not divide --d 128"},
		{func(c *Config) { c.Heads = 0 }, "--heads 0"},
		{func(c *Config) { c.MLPHidden = 0 }, "--mlp-hidden 0"},
		{func(c *Config) { c.D = 0 }, "--d 0"},
		{func(c *Config) { c.Patch = -1 }, "--patch -1"},
		{func(c *Config) { c.Shape, c.In = [3]int{1, 1, 64}, 64 }, "--patch 0: no default patch size for a 1×64 input"},
		{func(c *Config) { c.Shape, c.In, c.Patch = [3]int{1, 1, 64}, 64, 1 }, ""},
		{func(c *Config) { c.Shape = [3]int{3, 32, 32} }, "does not match the input width 784"},
		// Before the data is loaded the shape is zero: only shape-free checks.
		{func(c *Config) { c.Shape, c.In, c.Patch = [3]int{}, 1, 5 }, ""},
		{func(c *Config) { c.Shape, c.In, c.Heads = [3]int{}, 1, 3 }, "--heads 3: does not divide --d 128"},
	} {
		c := base
		tc.edit(&c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", c, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("patch %d heads %d shape %v: error %v, want one containing %q", c.Patch, c.Heads, c.Shape, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "\n"):
			t.Errorf("multi-line error %q", err)
		}
	}
	c := base
	c.Shape = [3]int{}
	if _, err := New[float64](c, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("NewViT without an input shape: no error")
	}
}

// float32 and float64 ViTs of one seed agree to float32 precision.
func TestViTFloat32(t *testing.T) {
	cfg := smallViTConfig(true, nn.GELU)
	m64 := newSmallViT(t, cfg, 27)
	n32, err := New[float32](cfg, rand.New(rand.NewPCG(27, 27)))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := smallBatch(rand.New(rand.NewPCG(28, 28)), 4, cfg.In, cfg.Classes)
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	l64 := m64.Forward(x, 4)
	l32 := n32.Forward(x32, 4)
	for i := range l64 {
		if math.Abs(float64(l32[i])-l64[i]) > 1e-5*(1+math.Abs(l64[i])) {
			t.Fatalf("logit %d: float32 %v, float64 %v", i, l32[i], l64[i])
		}
	}
}
