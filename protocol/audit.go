package protocol

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/faudit/faudit"
	"github.com/faudit/faudit/data"
	"github.com/faudit/faudit/internal/atomicfile"
	"github.com/faudit/faudit/internal/nanjson"
	"github.com/faudit/faudit/train"
)

// File names an audit writes into the run directory.
const (
	AuditJSON = "audit.json"
	AuditMD   = "audit.md"
)

// AuditOptions configure Audit.
type AuditOptions struct {
	Measure    Options
	Thresholds Thresholds
	// Baseline is the frozen-blocks baseline run to compare with; "" trains
	// (or reuses) one with the identical recipe under
	// <parent of the run>/baselines/frozen-<recipe hash>. NoBaseline skips D3.
	Baseline   string
	NoBaseline bool
	// FreshB > 0 adds the fresh-B null with that many draws.
	FreshB   int
	Log      io.Writer // progress lines (baseline training), or nil
	Progress io.Writer // progress bars, or nil
}

// StandardPair is what FA papers usually report.
type StandardPair struct {
	Accuracy   float64 `json:"accuracy"`
	Gamma      float64 `json:"gamma"`
	Convention string  `json:"convention"`
}

// Report is audit.json.
type Report struct {
	Version      string           `json:"faudit_version"`
	Dir          string           `json:"dir"`
	Arch         string           `json:"arch"`
	Rule         string           `json:"rule"`
	LocalNorm    string           `json:"local_norm,omitempty"`
	Penalty      float64          `json:"penalty,omitempty"`
	TrainBlocks  int              `json:"train_blocks"`
	Data         string           `json:"data"`
	Seed         uint64           `json:"seed"`
	Precision    string           `json:"precision"`
	TerminalLN   bool             `json:"terminal_ln"`
	Epochs       int              `json:"epochs"`
	Verdict      string           `json:"verdict"`
	Accuracy     float64          `json:"accuracy"`
	FrozenAcc    *float64         `json:"frozen_acc"`
	FrozenDir    string           `json:"frozen_dir,omitempty"`
	StandardPair StandardPair     `json:"standard_pair"`
	Checks       map[string]Check `json:"checks"`
	Thresholds   Thresholds       `json:"thresholds"`
	Measurements
	FreshB      *FreshB           `json:"fresh_b,omitempty"`
	Conventions map[string]string `json:"conventions"`
}

// Conventions states how every number was computed.
var Conventions = map[string]string{
	"precision":      "every diagnostic in float64, from float64-upcast weights; g32_* compare a float32 recomputation from the same weights",
	"norms":          "per-sample L2 norm of the position's view (vector; ViT: CLS token or token mean; CNN: global average pool), summarised by median (mean, max also given)",
	"reference":      "g_p = ∂ℓ/∂h_p of the summed cross-entropy (each sample's own loss); g_norm_paper = median/128, the paper's mean-reduced CE over batches of 128",
	"cosine":         "per-sample cos(c_p, g_p) on the view, no clamp; samples with an exactly zero vector are counted in cos_undefined and left out; cos_mean ± cos_std (ddof=1) over samples",
	"aggregate":      "mean_all: mean of Γ_p over positions (the usual headline); mean_deep: positions ≥ 1; median over positions; flattened: one cosine over all samples and positions",
	"rho":            "Pearson r between ⟨c_p, δ⟩ and ℓ(h_p+δ) − ℓ(h_p) over samples × directions, δ = 1e-3·‖h_p‖·v, v uniform on the unit sphere of the whole state",
	"nudge":          "mean over samples of ℓ(h_p − 0.01·‖h_p‖·c_p/‖c_p‖) − ℓ(h_p) on the evaluation set; nudge_bp uses g_p instead of c_p",
	"stability":      "mean pairwise cosine between the normalised mean g of disjoint 128-sample batches at position stability_position (§5.6)",
	"wb_angles":      "angle between the flattened weight and the matrix the rule used in its place, layer-wise rules only",
	"evaluation_set": "the first eval_n samples of the test split",
	"loss_reduction": "gradient norms are per sample (summed loss) unless named *_paper",
}

// Audit measures the run in dir, runs the checks and writes audit.json and
// audit.md beside it.
func Audit(ctx context.Context, dir string, opt AuditOptions) (*Report, error) {
	run, err := LoadRun(dir)
	if err != nil {
		return nil, train.BadInput(err)
	}
	if run.Result == nil {
		return nil, train.BadInput(fmt.Errorf("%s: the run is unfinished (epoch %d of %d); finish it with faudit train --resume %s", dir, run.Epoch, run.Config.Epochs, dir))
	}
	rep, err := Assess(run, opt)
	if err != nil {
		return nil, train.BadInput(err)
	}
	if !opt.NoBaseline {
		frozen, fdir, err := baseline(ctx, run, opt)
		if err != nil {
			return nil, fmt.Errorf("frozen-blocks baseline: %w", err)
		}
		rep.FrozenAcc, rep.FrozenDir = &frozen, fdir
		rep.Checks["D3"] = D3(rep.Accuracy, rep.FrozenAcc, opt.Thresholds)
		rep.Verdict = Verdict(rep.Checks)
	}
	return rep, rep.write(dir)
}

// Assess measures a finished run and runs D1, D2 and M2 (D3 needs the
// baseline; see Audit).
func Assess(run *Run, opt AuditOptions) (*Report, error) {
	cfg := run.Config
	s, err := NewSubject(cfg, run.Tensors, run.Step)
	if err != nil {
		return nil, err
	}
	x, y, err := evalSet(cfg, opt.Measure.EvalN)
	if err != nil {
		return nil, err
	}
	m := Measure(s, x, y, opt.Measure)
	var null *FreshB
	if opt.FreshB > 0 {
		if null, err = FreshBNull(s, cfg, x, y, opt.FreshB, opt.Measure, m); err != nil {
			return nil, err
		}
	}
	rep := &Report{Version: faudit.Version, Dir: run.Dir, Arch: cfg.Model.Arch, Rule: cfg.Rule,
		LocalNorm: cfg.LocalNorm, Penalty: cfg.Penalty, TrainBlocks: cfg.TrainBlocks, Data: cfg.Data, Seed: cfg.Seed,
		Precision: cfg.Precision, TerminalLN: cfg.Model.TerminalLN, Epochs: cfg.Epochs, Thresholds: opt.Thresholds,
		Measurements: *m, FreshB: null, Conventions: Conventions}
	if run.Result != nil {
		rep.Accuracy = run.Result.TestAcc
	}
	rep.StandardPair = StandardPair{rep.Accuracy, m.Aggregate.MeanAll, "test accuracy; Γ = mean over positions of the per-sample mean cosine"}
	rep.Checks = map[string]Check{
		"D1": D1(m, opt.Thresholds),
		"D2": D2(m, cfg.Precision, opt.Thresholds),
		"D3": D3(rep.Accuracy, nil, opt.Thresholds),
		"M2": M2(m, opt.Thresholds),
	}
	firstFired(rep.Checks, run.Metrics)
	rep.Verdict = Verdict(rep.Checks)
	return rep, nil
}

// evalSet is the first n test samples of the run's data, in float64.
func evalSet(cfg train.Config, n int) ([]float64, []int32, error) {
	ds, err := data.Load(cfg.Data, data.Options{TrainN: cfg.TrainN, TestN: cfg.TestN, Seed: cfg.Seed})
	if err != nil {
		return nil, nil, err
	}
	if n <= 0 {
		n = 1024
	}
	n = min(n, ds.Test.N)
	dim := ds.Dim()
	x := make([]float64, n*dim)
	for i, v := range ds.Test.X[:n*dim] {
		x[i] = float64(v)
	}
	return x, append([]int32(nil), ds.Test.Y[:n]...), nil
}

// FrozenRecipe is cfg's frozen-blocks baseline: the same recipe with every
// block frozen, trained with BP. It has no scale penalty: the frozen blocks
// have nothing for it to shape, so one baseline serves every λ.
func FrozenRecipe(cfg train.Config) train.Config {
	f := cfg
	f.Rule, f.TrainBlocks, f.FeedbackSeed, f.FeedbackScale, f.LocalNorm, f.Penalty = "bp", 0, cfg.Seed, 1, "", 0
	f.AuditEvery, f.AuditN, f.StopOnFail = 0, 0, false
	return f
}

// BaselineDir is where Audit keeps the baseline of a run in dir.
func BaselineDir(dir string, cfg train.Config) string {
	f := FrozenRecipe(cfg)
	f.Version, f.Backend, f.GoMaxProcs = "", "", 0 // not part of the recipe
	b, _ := json.Marshal(f)
	h := sha256.Sum256(b)
	return filepath.Join(filepath.Dir(filepath.Clean(dir)), "baselines", "frozen-"+hex.EncodeToString(h[:])[:12])
}

func baseline(ctx context.Context, run *Run, opt AuditOptions) (float64, string, error) {
	if run.Config.TrainBlocks == 0 { // the run is a frozen baseline itself
		return run.Result.TestAcc, run.Dir, nil
	}
	dir := opt.Baseline
	if dir == "" {
		dir = BaselineDir(run.Dir, run.Config)
	}
	if b, err := os.ReadFile(filepath.Join(dir, train.ResultFile)); err == nil {
		var r train.Result
		if err := json.Unmarshal(b, &r); err == nil {
			return r.TestAcc, dir, nil
		}
	}
	if opt.Baseline != "" {
		return 0, "", fmt.Errorf("--baseline %s holds no finished run", dir)
	}
	topt := train.Options{Out: dir, Log: opt.Log, Progress: opt.Progress}
	if opt.Log != nil {
		fmt.Fprintf(opt.Log, "training the frozen-blocks baseline (same recipe, blocks frozen, BP) in %s\n", dir)
	}
	var res *train.Result
	var err error
	if _, serr := os.Stat(filepath.Join(dir, train.ConfigFile)); serr == nil {
		res, err = train.Resume(ctx, dir, topt)
	} else {
		cfg := FrozenRecipe(run.Config)
		res, err = train.Start(ctx, cfg, topt)
	}
	if err != nil {
		return 0, "", err
	}
	return res.TestAcc, dir, nil
}

// firstFired fills each check's first failing epoch from the in-training
// audit records in metrics.jsonl.
func firstFired(checks map[string]Check, metrics []train.EpochMetrics) {
	for _, m := range metrics {
		if m.Audit == nil {
			continue
		}
		var a EpochAudit
		if json.Unmarshal(m.Audit, &a) != nil {
			continue
		}
		for name, pass := range map[string]bool{"D1": a.D1Pass, "D2": a.D2Pass, "M2": a.M2Pass} {
			c := checks[name]
			if !pass && c.FirstFired == nil {
				e := m.Epoch
				c.FirstFired = &e
				checks[name] = c
			}
		}
	}
}

func (r *Report) write(dir string) error {
	b, err := nanjson.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, AuditJSON), append(b, '\n')); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, AuditMD), []byte(r.Markdown()))
}
