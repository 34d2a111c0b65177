package protocol

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/faudit/faudit/internal/nanjson"
	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
	"github.com/faudit/faudit/rule"
)

// subject builds a small ResMLP in float64 and float32 from one seed, with
// the named rule, after edit has changed both copies' weights.
func subject(t *testing.T, terminalLN bool, ruleName string, edit func(p *nn.Param[float64])) (*Subject, []float64, []int32) {
	t.Helper()
	cfg := model.Config{Arch: "resmlp", In: 12, Classes: 4, Act: nn.ReLU, D: 16, Hidden: 16, Blocks: 3,
		TerminalLN: terminalLN, Residual: true, W2Std: 0.01}
	net, _ := model.New[float64](cfg, rand.New(rand.NewPCG(1, 2)))
	for _, p := range net.Params() {
		edit(p)
	}
	net32, _ := model.New[float32](cfg, rand.New(rand.NewPCG(1, 2)))
	for i, p := range net32.Params() {
		for j, v := range net.Params()[i].W {
			p.W[j] = float32(v)
		}
	}
	r, err := rule.New(ruleName, model.Network[float64](net), rule.Options{FeedbackSeed: 3, FeedbackScale: 1, TrainBlocks: -1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	const N = 256
	x, y := make([]float64, N*cfg.In), make([]int32, N)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	for i := range y {
		y[i] = int32(rng.IntN(cfg.Classes))
	}
	return &Subject{Net: net, Rule: r, Net32: net32}, x, y
}

func noEdit(*nn.Param[float64]) {}

func scaleBlock1(p *nn.Param[float64]) {
	if p.Name == "blocks.1.w2.weight" || p.Name == "blocks.1.w2.bias" {
		for i := range p.W {
			p.W[i] = 1e8 * (p.W[i] + 0.01) // block 1's branch grows the stream by more than 1e6
		}
	}
}

var quick = Options{Directions: 4}

func TestD1AndD2FireOnAScaledStream(t *testing.T) {
	th := DefaultThresholds()
	for _, tc := range []struct {
		name        string
		terminalLN  bool
		edit        func(*nn.Param[float64])
		wantD1Pass  bool
		wantD2Paper bool // paper criterion fires
	}{
		{"untouched, terminal LN", true, noEdit, true, false},
		{"untouched, no terminal LN", false, noEdit, true, false},
		{"block 1 ×1e6, terminal LN", true, scaleBlock1, false, true},
		{"block 1 ×1e6, no terminal LN", false, scaleBlock1, false, false},
	} {
		s, x, y := subject(t, tc.terminalLN, "bp", tc.edit)
		m := Measure(s, x, y, quick)
		d1, d2 := D1(m, th), D2(m, "float64", th)
		t.Logf("%s: D1 %.3g (%s); D2 paper %.3g, precision %.3g", tc.name, d1.Value, d1.Detail, d2.Criteria["paper"].Value, d2.Criteria["precision"].Value)
		if d1.Pass != tc.wantD1Pass {
			t.Errorf("%s: D1 pass = %v (value %.3g), want %v", tc.name, d1.Pass, d1.Value, tc.wantD1Pass)
		}
		if !tc.wantD1Pass && (d1.Value < 1e6 || !strings.Contains(d1.Detail, "block 1")) {
			t.Errorf("%s: D1 blames %q, want block 1", tc.name, d1.Detail)
		}
		if got := d2.Criteria["paper"].Fired; got != tc.wantD2Paper {
			t.Errorf("%s: D2 paper criterion fired = %v (‖g_L‖ paper %.3g), want %v", tc.name, got, d2.Criteria["paper"].Value, tc.wantD2Paper)
		}
		if d2.Pass == tc.wantD2Paper {
			t.Errorf("%s: D2 pass = %v, want %v", tc.name, d2.Pass, !tc.wantD2Paper)
		}
		if tc.wantD1Pass && tc.terminalLN && Verdict(map[string]Check{"D1": d1, "D2": d2}) != "PASS" {
			t.Errorf("%s: untouched model does not pass", tc.name)
		}
	}
}

// With ‖g‖ ≈ 1e-12 a clamped cosine (PyTorch's eps = 1e-8) would shrink Γ
// by orders of magnitude; faudit's equals the direct float64 computation.
func TestCosineAtTinyGradientIsExact(t *testing.T) {
	s, x, y := subject(t, true, "fa", func(p *nn.Param[float64]) {
		if strings.HasPrefix(p.Name, "out_head") {
			for i := range p.W {
				p.W[i] *= 1e-11
			}
		}
	})
	m := Measure(s, x, y, Options{Cheap: true})
	// Recompute Γ at every position directly from the network and the rule.
	s.Net.Forward(x, len(y))
	s.Net.Loss(y)
	s.Net.Backward(y, 1)
	g := copyRows(s.Net.PositionGrads())
	s.Rule.Backward(y, 1, 0)
	c := s.Rule.Credit()
	for p, l := range m.Layers {
		w := len(g[p]) / len(y)
		direct, clamped, gn := 0.0, 0.0, 0.0
		for i := range y {
			a, b := c[p][i*w:(i+1)*w], g[p][i*w:(i+1)*w]
			d, na, nb := 0.0, 0.0, 0.0
			for j := range a {
				d += a[j] * b[j]
				na += a[j] * a[j]
				nb += b[j] * b[j]
			}
			direct += d / (math.Sqrt(na) * math.Sqrt(nb))
			clamped += d / math.Max(math.Sqrt(na)*math.Sqrt(nb), 1e-8)
			gn += math.Sqrt(nb)
		}
		direct /= float64(len(y))
		clamped /= float64(len(y))
		gn /= float64(len(y))
		if gn > 1e-11 {
			t.Fatalf("position %d: ‖g‖ %.3g is not tiny; the test would not probe the clamp", p, gn)
		}
		if math.Abs(l.CosMean-direct) > 1e-12 {
			t.Errorf("position %d: Γ %.15f, direct float64 %.15f", p, l.CosMean, direct)
		}
		if math.Abs(clamped) > 0.01*math.Abs(direct) {
			t.Errorf("position %d: a clamped cosine (%.3g) is not far below the exact one (%.3g); the regime is wrong", p, clamped, direct)
		}
	}
}

func TestZeroVectorsHaveNoCosine(t *testing.T) {
	if _, ok := cosine([]float64{0, 0}, []float64{1, 2}); ok {
		t.Error("cosine with a zero vector reported as defined")
	}
	if c, ok := cosine([]float64{1e-300, 0}, []float64{2e-300, 0}); !ok || c != 1 {
		t.Errorf("cosine of parallel 1e-300 vectors = %v, %v; want 1, true", c, ok)
	}
}

// The aggregation conventions on a constructed DFA-like profile: credit only
// at the input end.
func TestAggregationConventions(t *testing.T) {
	var layers []Layer
	for p, c := range []float64{0.40, 0.006, -0.015, -0.004, -0.004} {
		layers = append(layers, Layer{Position: p, CosMean: c})
	}
	a := aggregate(layers, 3, 4, 9) // flattened: 3/(√4·√9) = 0.5
	want := Aggregate{MeanAll: 0.383 / 5, MeanDeep: -0.017 / 4, Median: -0.004, Flattened: 0.5}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"mean_all", a.MeanAll, want.MeanAll}, {"mean_deep", a.MeanDeep, want.MeanDeep}, {"median", a.Median, want.Median}, {"flattened", a.Flattened, want.Flattened}} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	m := &Measurements{Layers: layers, Aggregate: a}
	m2 := M2(m, DefaultThresholds())
	// best: input end, k = 1: |mean(0.006, −0.015, −0.004, −0.004)| / 0.40
	if m2.Pass || math.Abs(m2.Value-0.017/4/0.40) > 1e-12 || !strings.Contains(m2.Detail, "input end") {
		t.Errorf("M2 on a DFA-like profile: pass %v, ratio %v, %q; want a failure at the input end with ratio 0.0106", m2.Pass, m2.Value, m2.Detail)
	}
	// The paper's FA profile: the output end carries it.
	m.Layers = nil
	for p, c := range []float64{0.016, 0.072, -0.085, 0.997} {
		m.Layers = append(m.Layers, Layer{Position: p, CosMean: c})
	}
	m.Aggregate = aggregate(m.Layers, 0, 0, 0)
	if m2 := M2(m, DefaultThresholds()); m2.Pass || !strings.Contains(m2.Detail, "output end") {
		t.Errorf("M2 on the paper's FA profile: %v %q; want a failure at the output end", m2.Pass, m2.Detail)
	}
	// BP: equal Γ everywhere, share 1/5.
	m.Layers = nil
	for p := range 5 {
		m.Layers = append(m.Layers, Layer{Position: p, CosMean: 1})
	}
	m.Aggregate = aggregate(m.Layers, 1, 1, 1)
	if m2 := M2(m, DefaultThresholds()); !m2.Pass || m2.Value != 1 {
		t.Errorf("M2 on BP: pass %v ratio %v; want pass with ratio 1", m2.Pass, m2.Value)
	}
	// Credit at the first two positions (faudit's DFA on MNIST): k = 2.
	m.Layers = nil
	for p, c := range []float64{0.323, 0.478, 0.128, 0.023, 0.049} {
		m.Layers = append(m.Layers, Layer{Position: p, CosMean: c})
	}
	m.Aggregate = aggregate(m.Layers, 0, 0, 0)
	if m2 := M2(m, DefaultThresholds()); m2.Pass || !strings.Contains(m2.Detail, "positions 0–1") {
		t.Errorf("M2 with credit at positions 0–1: %v %q; want a failure naming positions 0–1", m2.Pass, m2.Detail)
	}
}

func TestD3AndVerdict(t *testing.T) {
	th := DefaultThresholds()
	frozen := 0.349
	for _, tc := range []struct {
		acc  float64
		pass bool
	}{{0.615, true}, {0.306, false}, {0.3685, false}, {0.3695, true}} {
		c := D3(tc.acc, &frozen, th)
		if c.Pass != tc.pass || math.Abs(c.Value-(tc.acc-frozen)*100) > 1e-9 || math.Abs(c.Margin-(c.Value-2)) > 1e-9 {
			t.Errorf("D3 acc %.4f vs 0.349: %+v, want pass %v", tc.acc, c, tc.pass)
		}
	}
	if c := D3(0.5, nil, th); c.Ran {
		t.Error("D3 without a baseline reported as run")
	}
	// A lead of exactly the threshold passes, whatever the float error of
	// the subtraction (0.12 − 0.10 is 1.9999… pp in float64).
	low := 0.10
	if c := D3(0.12, &low, th); !c.Pass || c.Value != 2 {
		t.Errorf("D3 0.12 vs 0.10: value %v pass %v; want exactly +2 pp and a pass", c.Value, c.Pass)
	}
	got := Verdict(map[string]Check{"D1": {Ran: true}, "D2": {Ran: true}, "D3": {Ran: true, Pass: true}, "M2": {Ran: true}})
	if got != "FAIL(D1+D2+M2)" {
		t.Errorf("verdict %q, want FAIL(D1+D2+M2)", got)
	}
	if got := Verdict(map[string]Check{"D1": {Ran: true, Pass: true}, "D3": {Ran: false}}); got != "PASS" {
		t.Errorf("verdict %q, want PASS", got)
	}
}

func TestReportJSONHasNoNaN(t *testing.T) {
	r := &Report{Measurements: Measurements{Stability: math.NaN(), Layers: []Layer{{Rho: math.NaN(), CosMean: 0.5}}},
		Checks: map[string]Check{"D3": D3(0.5, nil, DefaultThresholds())}}
	b, err := nanjson.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["stability"] != nil || back["layers"].([]any)[0].(map[string]any)["cos_mean"] != 0.5 {
		t.Errorf("sanitised JSON: %s", b)
	}
	for _, k := range []string{"verdict", "checks", "layers", "aggregate", "accuracy", "frozen_acc"} {
		if _, ok := back[k]; !ok {
			t.Errorf("audit.json lacks %q", k)
		}
	}
}

func TestMeanStdAndFormats(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		v               []float64
		mean, std, std0 float64 // std0: what audit.json records (meanStd)
	}{
		{nil, nan, nan, nan},
		{[]float64{0.5}, 0.5, nan, 0},
		{[]float64{0.5, 0.7}, 0.6, math.Sqrt(0.02), math.Sqrt(0.02)},
		{[]float64{1, 2, 3, 4}, 2.5, math.Sqrt(5.0 / 3), math.Sqrt(5.0 / 3)},
	} {
		same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) < 1e-15 }
		m, s := MeanStd(tc.v)
		m0, s0 := meanStd(tc.v)
		if !same(m, tc.mean) || !same(s, tc.std) || !same(m0, tc.mean) || !same(s0, tc.std0) {
			t.Errorf("%v: MeanStd %v ± %v, meanStd %v ± %v; want %v ± %v (%v)", tc.v, m, s, m0, s0, tc.mean, tc.std, tc.std0)
		}
	}
	for x, want := range map[float64]string{math.NaN(): "—", math.Inf(1): "+Inf", math.Inf(-1): "-Inf", 0: "0",
		1.009: "1.009", 12345: "1.23e+04", 0.00068: "6.80e-04", -0.02866: "-0.02866"} {
		if got := FormatNum(x); got != want {
			t.Errorf("FormatNum(%v) = %q; want %q", x, got, want)
		}
	}
	for x, want := range map[float64]string{math.NaN(): "—", 1: "+1.000", -0.0504: "-0.050"} {
		if got := FormatSigned(x); got != want {
			t.Errorf("FormatSigned(%v) = %q; want %q", x, got, want)
		}
	}
}
