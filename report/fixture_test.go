package report

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/faudit/faudit/internal/nanjson"
	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/train"
)

// fixture describes one run directory to write: small JSON files as faudit
// train and faudit audit would leave them, without training anything.
type fixture struct {
	dir       string
	cfg       train.Config
	acc       float64
	trainLoss []float64 // per epoch
	// audited runs: per position
	gamma, hNorm, gPaper, nudge []float64
	relErr32                    float64  // float32 relative error of g_L (κ32)
	frozen                      *float64 // D3's baseline accuracy, nil: D3 not run
	epochAudits                 []*protocol.EpochAudit
	freshB                      *protocol.FreshB // audit.json's fresh_b, nil: none
	auditJSON                   string           // raw audit.json to write instead (corrupt files)
}

// baseConfig is a small resmlp (2 blocks: positions h0, h1, h2) on synthetic
// data.
func baseConfig(rule string, seed uint64) train.Config {
	m := model.DefaultConfig(16, 10)
	m.D, m.Hidden, m.Blocks, m.HiddenLayers = 32, 32, 2, nil
	return train.Config{Version: "0.1.0", Model: m, Rule: rule, FeedbackSeed: seed, FeedbackScale: 1, TrainBlocks: -1,
		Data: "synthetic:16", TrainN: 800, TestN: 200, Epochs: 2, Batch: 50, Optimizer: "adamw", LR: 1e-3, WD: 0.01, Momentum: 0.9,
		Schedule: "cosine", Seed: seed, Precision: "float64", Backend: "openblas", GoMaxProcs: 2}
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// audit builds audit.json's report with protocol's own checks.
func (f fixture) audit() *protocol.Report {
	th := protocol.DefaultThresholds()
	m := &protocol.Measurements{EvalN: 200, StabilityPosition: 1, Stability: math.NaN()}
	for p := range f.gamma {
		l := protocol.Layer{Position: p, CosMean: f.gamma[p], CosStd: 0.1, CosN: 200, Rho: math.NaN(),
			HNorm: protocol.Summary{Median: f.hNorm[p], Mean: f.hNorm[p], Max: f.hNorm[p]},
			GNorm: protocol.Summary{Median: f.gPaper[p] * protocol.PaperBatch}, GNormPaper: f.gPaper[p], G32RelErr: f.relErr32, G32Cos: 1}
		if f.nudge != nil {
			l.Nudge = f.nudge[p]
		}
		m.Layers = append(m.Layers, l)
	}
	m.Aggregate = protocol.Aggregate{MeanAll: mean(f.gamma), MeanDeep: mean(f.gamma[1:]), Median: math.NaN(), Flattened: math.NaN()}
	checks := map[string]protocol.Check{"D1": protocol.D1(m, th), "D2": protocol.D2(m, f.cfg.Precision, th),
		"D3": protocol.D3(f.acc, f.frozen, th), "M2": protocol.M2(m, th)}
	return &protocol.Report{Version: "0.1.0", Dir: f.dir, Arch: f.cfg.Model.Arch, Rule: f.cfg.Rule, Data: f.cfg.Data, Seed: f.cfg.Seed,
		Precision: f.cfg.Precision, Epochs: f.cfg.Epochs, Verdict: protocol.Verdict(checks), Accuracy: f.acc, FrozenAcc: f.frozen,
		Checks: checks, Thresholds: th, Measurements: *m, FreshB: f.freshB, Conventions: protocol.Conventions}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := nanjson.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// write lays the fixture out under root.
func (f fixture) write(t *testing.T, root string) {
	t.Helper()
	dir := filepath.Join(root, f.dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if f.trainLoss == nil {
		f.trainLoss = []float64{2.0, 1.5}
	}
	f.cfg.Epochs = len(f.trainLoss)
	writeJSON(t, filepath.Join(dir, train.ConfigFile), f.cfg)
	res := train.Result{Version: "0.1.0", Arch: f.cfg.Model.Arch, Rule: f.cfg.Rule, TrainBlocks: f.cfg.TrainBlocks, Data: f.cfg.Data,
		Seed: f.cfg.Seed, Precision: f.cfg.Precision, Epochs: len(f.trainLoss), TestAcc: f.acc, TestLoss: 1, TrainLoss: f.trainLoss[len(f.trainLoss)-1]}
	writeJSON(t, filepath.Join(dir, train.ResultFile), res)
	var lines []byte
	for e, loss := range f.trainLoss {
		m := train.EpochMetrics{Epoch: e + 1, LR: 1e-3, TrainLoss: loss, TestLoss: 1, TestAcc: f.acc}
		if e < len(f.epochAudits) && f.epochAudits[e] != nil {
			m.Audit = f.epochAudits[e].JSON()
		}
		b, _ := json.Marshal(m)
		lines = append(append(lines, b...), '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, train.MetricsFile), lines, 0o644); err != nil {
		t.Fatal(err)
	}
	switch {
	case f.auditJSON != "":
		os.WriteFile(filepath.Join(dir, protocol.AuditJSON), []byte(f.auditJSON), 0o644)
	case f.gamma != nil:
		writeJSON(t, filepath.Join(dir, protocol.AuditJSON), f.audit())
	}
}

func writeAll(t *testing.T, fs []fixture) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range fs {
		f.write(t, root)
	}
	return root
}

func ptr(x float64) *float64 { return &x }

// Healthy and broken profiles on 3 positions.
var (
	bpGamma  = []float64{0.99, 0.98, 0.97}
	bpH      = []float64{5, 6, 7}          // D1 1.2
	bpG      = []float64{4e-4, 4e-4, 3e-4} // valid reference
	dfaGamma = []float64{0.42, 0.006, -0.015}
	dfaH     = []float64{5, 5000, 4e6}     // D1 1000 (fails)
	dfaG     = []float64{4e-7, 4e-9, 4e-9} // below the floor (fails)
)

// sweepFixtures is a small study: bp × 3 seeds, dfa rms × 2 seeds and
// λ ∈ {1e-4, 1e-2} × 2 seeds, a frozen baseline per seed, a bp depth
// ladder rung, and one run that is not audited.
func sweepFixtures() []fixture {
	var fs []fixture
	for i, seed := range []uint64{1, 2, 3} {
		cfg := baseConfig("bp", seed)
		cfg.Backend, cfg.GoMaxProcs = []string{"openblas", "gonum", "openblas"}[i], i+1 // machine facts do not split a group
		fs = append(fs, fixture{dir: "bp-s" + string('0'+rune(seed)), cfg: cfg, acc: []float64{0.90, 0.92, 0.94}[i],
			trainLoss: []float64{2.0, 1.0}, gamma: bpGamma, hNorm: bpH, gPaper: bpG, nudge: []float64{-1e-3, -1e-3, -1e-3},
			relErr32: 1e-6, frozen: ptr(0.5)})
	}
	for _, lam := range []float64{0, 1e-4, 1e-2} {
		for i, seed := range []uint64{1, 2} {
			cfg := baseConfig("dfa", seed)
			cfg.LocalNorm, cfg.Penalty = "rms", lam
			f := fixture{dir: "dfa-l" + formatLambda(lam) + "-s" + string('0'+rune(seed)), cfg: cfg, acc: []float64{0.3, 0.5}[i],
				trainLoss: []float64{2.0, 1.8}, gamma: dfaGamma, hNorm: dfaH, gPaper: dfaG, nudge: []float64{-1e-4, -1e-5, -1e-5},
				relErr32: 1e-3, frozen: ptr(0.5)}
			if lam > 0 { // the penalty holds the stream down and revives the reference
				f.hNorm = []float64{5, 50 / (lam * 1e3), 60 / (lam * 1e3)}
				f.gPaper = []float64{1e-6, 1e-6 * lam * 1e3, 1e-6 * lam * 1e3}
				f.gamma = []float64{0.3, 0.15, 0.15}
				f.acc += 10 * lam // λ=1e-2: 0.4 and 0.6 against the frozen 0.5: one seed passes D3
			}
			fs = append(fs, f)
		}
	}
	for _, seed := range []uint64{1, 2, 3} {
		cfg := protocol.FrozenRecipe(baseConfig("bp", seed))
		fs = append(fs, fixture{dir: "baselines/frozen-s" + string('0'+rune(seed)), cfg: cfg, acc: 0.5})
	}
	k1 := baseConfig("bp", 1)
	k1.TrainBlocks = 1
	fs = append(fs, fixture{dir: "ladder/bp-k1-s1", cfg: k1, acc: 0.8})
	return fs
}
