package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/faudit/faudit"
	"github.com/faudit/faudit/data"
	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/rule"
	"github.com/faudit/faudit/train"
)

// trainSettings are the values the train flags write into.
type trainSettings struct {
	cfg          train.Config
	act          string
	hiddenLayers string
	out, resume  string
	channels     string
	localNorm    string
	feedbackSeed int64
}

var trainDest *trainSettings

// afterStep is passed to every run (nil outside tests).
var afterStep func(epoch, step int)

func trainFlags() *flag.FlagSet {
	s := &trainSettings{}
	trainDest = s
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	c := &s.cfg
	def := model.DefaultConfig(0, 0)
	fs.StringVar(&c.Model.Arch, "arch", "resmlp", "architecture: resmlp (pre-LN residual MLP), mlp, vit (ViT-Mini) or cnn (BatchNorm CNN)")
	fs.StringVar(&c.Rule, "rule", "bp", "credit-assignment rule: "+strings.Join(rule.Names(), ", ")+" (see README)")
	fs.Int64Var(&s.feedbackSeed, "feedback-seed", -1, "seed of the feedback matrices (−1: the run seed; another value re-draws them, e.g. for a fresh-B null)")
	fs.Float64Var(&c.FeedbackScale, "feedback-scale", 1, "multiplies the standard deviation of every feedback matrix")
	fs.StringVar(&s.localNorm, "local-norm", "none", "local rules (fa-block, dfa): none, or rms to divide each sample's credit by its RMS before the block update")
	fs.Float64Var(&c.Penalty, "penalty", 0, "per-block scale penalty λ: adds λ·mean_b ‖f_l(h_l)‖² to every block's local objective (bp: to the loss); resmlp and mlp")
	fs.IntVar(&c.TrainBlocks, "train-blocks", -1, "only the last k blocks (mlp: hidden layers) learn; −1 all; 0 the frozen-blocks baseline (trained with bp)")
	fs.StringVar(&c.Data, "data", "mnist", "data set: "+data.SpecHelp)
	fs.IntVar(&c.TrainN, "train-n", 0, "use the first N training samples (0 = all)")
	fs.IntVar(&c.TestN, "test-n", 0, "use the first N test samples (0 = all)")
	fs.IntVar(&c.Model.D, "d", 0, "resmlp, vit: residual-stream width d (0: 256 for resmlp, 128 for vit)")
	fs.IntVar(&c.Model.Blocks, "blocks", def.Blocks, "resmlp, vit: number of residual blocks L")
	fs.IntVar(&c.Model.Hidden, "hidden", 0, "resmlp: block hidden width (0 = d)")
	fs.BoolVar(&c.Model.TerminalLN, "terminal-ln", true, "resmlp, vit: LayerNorm before the head")
	fs.BoolVar(&c.Model.Residual, "residual", true, "resmlp: skip connections (false: h_{l+1} = f_l(h_l)); cnn: identity/projection skips per stage")
	fs.IntVar(&c.Model.Patch, "patch", 0, "vit: patch size (0: 7 on 28×28 inputs, 4 on 32×32)")
	fs.IntVar(&c.Model.Heads, "heads", 4, "vit: attention heads")
	fs.IntVar(&c.Model.MLPHidden, "mlp-hidden", 0, "vit: hidden width of each block's MLP (0: 2d)")
	fs.StringVar(&s.channels, "channels", "32,64,128", "cnn: channels of the three conv stages")
	fs.Float64Var(&c.Model.W2Std, "w2-std", def.W2Std, "resmlp: std of each block's second weight at init")
	fs.StringVar(&s.hiddenLayers, "hidden-layers", "256,256", "mlp: comma-separated hidden widths")
	fs.StringVar(&s.act, "act", "", "activation: relu or gelu (default: gelu for vit, relu otherwise)")
	fs.IntVar(&c.Epochs, "epochs", 5, "training epochs")
	fs.IntVar(&c.Batch, "batch", 128, "batch size")
	fs.StringVar(&c.Optimizer, "optimizer", "adamw", "adamw or sgd (with momentum)")
	fs.Float64Var(&c.LR, "lr", 1e-3, "base learning rate")
	fs.Float64Var(&c.WD, "wd", 0.01, "weight decay (decoupled for adamw, L2 for sgd)")
	fs.Float64Var(&c.Momentum, "momentum", 0.9, "sgd momentum")
	fs.StringVar(&c.Schedule, "schedule", "cosine", "learning-rate schedule: cosine (per epoch, PyTorch CosineAnnealingLR), cosine-step (per batch, to 0) or constant")
	fs.Uint64Var(&c.Seed, "seed", 42, "random seed (weights, shuffling, synthetic data)")
	fs.StringVar(&c.Precision, "precision", "float64", "float64 or float32 (diagnostics always use float64)")
	fs.IntVar(&c.AuditEvery, "audit-every", 0, "every N epochs, record the cheap protocol checks (D1, D2, M2, per-position Γ) in metrics.jsonl (0: never)")
	fs.IntVar(&c.AuditN, "audit-n", 512, "test samples the in-training audits use")
	fs.BoolVar(&c.StopOnFail, "stop-on-fail", false, "stop at the first failing in-training audit (needs --audit-every)")
	fs.StringVar(&s.out, "out", "", "run directory (default: a new runs/<arch>-<rule>-s<seed>[-N])")
	fs.StringVar(&s.resume, "resume", "", "continue the interrupted run in this directory (its config.json is used)")
	return fs
}

func runTrain(ctx context.Context, fs *flag.FlagSet) error {
	s := trainDest
	opt := train.Options{Log: os.Stdout, AfterStep: afterStep, Audit: trainingAudit(), Progress: progress()}
	if s.resume != "" {
		var others []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "resume" {
				others = append(others, "--"+f.Name)
			}
		})
		if len(others) > 0 {
			return badInput(fmt.Errorf("--resume takes every setting from %s; drop %s", filepath.Join(s.resume, train.ConfigFile), strings.Join(others, " ")))
		}
		res, err := train.Resume(ctx, s.resume, opt)
		return report(res, s.resume, err)
	}
	c, err := trainConfig(s)
	if err != nil {
		return badInput(err)
	}
	opt.Out = s.out
	if opt.Out == "" {
		opt.Out = freshDir(filepath.Join("runs", fmt.Sprintf("%s-%s-s%d", c.Model.Arch, c.Rule, c.Seed)))
	}
	res, err := train.Start(ctx, c, opt)
	return report(res, opt.Out, err)
}

// trainingAudit is the in-training audit of every run faudit trains (it
// does something only with --audit-every): the default measurement and
// thresholds.
func trainingAudit() func(train.Snapshot) (json.RawMessage, []string, error) {
	return protocol.TrainingAudit(protocol.Options{}, protocol.DefaultThresholds())
}

// progress is where progress bars go: stderr if it is a terminal, else
// nowhere (nil).
func progress() io.Writer {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return os.Stderr
	}
	return nil
}

// trainConfig turns the parsed train flags into a run's Config: the
// arch-dependent defaults settled, the settings that do not apply cleared,
// the machine facts recorded. Validation of the rest is train.Start's.
func trainConfig(s *trainSettings) (train.Config, error) {
	c := s.cfg
	c.Version, c.Backend, c.GoMaxProcs = faudit.Version, blas.Backend, runtime.GOMAXPROCS(0)
	act := s.act
	if act == "" {
		act = "relu"
		if c.Model.Arch == "vit" {
			act = "gelu"
		}
	}
	c.Model.Act = nn.Activation(act)
	c.FeedbackSeed = c.Seed
	if s.feedbackSeed >= 0 {
		c.FeedbackSeed = uint64(s.feedbackSeed)
	} else if s.feedbackSeed != -1 {
		return c, fmt.Errorf("--feedback-seed %d: expected −1 (the run seed) or a seed ≥ 0", s.feedbackSeed)
	}
	if c.AuditEvery == 0 {
		c.AuditN = 0
	}
	if s.localNorm != "none" {
		c.LocalNorm = s.localNorm
	}
	return c, settleArch(&c.Model, s)
}

func report(res *train.Result, dir string, err error) error {
	if err != nil {
		return err
	}
	how := res.Rule
	if res.TrainBlocks == 0 {
		how = "frozen-blocks baseline, bp"
	}
	fmt.Printf("done: test_acc %.4f  train_loss %.4f  (%s, %s, %d epochs, %.0f samples/s) → %s\n",
		res.TestAcc, res.TrainLoss, res.Arch, how, res.Epochs, res.SamplesPerS, dir)
	if res.Stopped != "" {
		fmt.Printf("stopped early: %s\n", res.Stopped)
	}
	return nil
}

// freshDir is base, or base-2, base-3, … : the first that does not exist, so
// repeating a command without --out never collides with an earlier run.
func freshDir(base string) string {
	dir := base
	for i := 2; ; i++ {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			return dir
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}

// settleArch resolves the arch-dependent defaults and clears the settings
// that do not apply, so config.json records only what shaped the model.
func settleArch(m *model.Config, s *trainSettings) error {
	a := m.Arch
	if m.D == 0 {
		m.D = 256
		if a == "vit" {
			m.D = 128
		}
	}
	if m.Hidden == 0 {
		m.Hidden = m.D
	}
	if m.MLPHidden == 0 {
		m.MLPHidden = 2 * m.D
	}
	if a != "mlp" {
		m.HiddenLayers = nil
	}
	if a != "resmlp" {
		m.Hidden, m.W2Std = 0, 0
	}
	if a != "vit" {
		m.Patch, m.Heads, m.MLPHidden = 0, 0, 0
	}
	if a != "resmlp" && a != "vit" {
		m.D, m.Blocks, m.TerminalLN = 0, 0, false
	}
	switch a {
	case "mlp":
		widths, err := parseWidths("--hidden-layers", s.hiddenLayers)
		if err != nil {
			return err
		}
		m.HiddenLayers, m.Residual = widths, false
	case "cnn":
		ch, err := parseWidths("--channels", s.channels)
		if err != nil {
			return err
		}
		m.Channels = ch
	case "vit":
		m.Residual = true
	}
	return nil
}

func parseWidths(flag, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s %q: expected comma-separated positive widths, e.g. 256,256", flag, s)
		}
		out = append(out, n)
	}
	return out, nil
}

type inputErr struct{ error }

func (e inputErr) Unwrap() []error { return []error{e.error, train.ErrBadInput} }

func badInput(err error) error { return inputErr{err} }
