package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/faudit/faudit/data"
	"github.com/faudit/faudit/internal/atomicfile"
	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
	"github.com/faudit/faudit/rule"
)

// File names inside a run directory.
const (
	ConfigFile     = "config.json"
	CheckpointFile = "checkpoint.safetensors"
	MetricsFile    = "metrics.jsonl"
	ResultFile     = "result.json"
)

// EpochMetrics is one line of metrics.jsonl.
type EpochMetrics struct {
	Epoch       int     `json:"epoch"`
	LR          float64 `json:"lr"` // learning rate of the epoch's last step
	TrainLoss   float64 `json:"train_loss"`
	TestLoss    float64 `json:"test_loss"`
	TestAcc     float64 `json:"test_acc"`
	Seconds     float64 `json:"seconds"`       // training time of this epoch (evaluation excluded)
	SamplesPerS float64 `json:"samples_per_s"` // training samples per second
	// Audit is the in-training audit of this epoch (--audit-every), if any.
	Audit json.RawMessage `json:"audit,omitempty"`
}

// Result is result.json.
type Result struct {
	Version     string  `json:"faudit_version"`
	Arch        string  `json:"arch"`
	Rule        string  `json:"rule"`
	TrainBlocks int     `json:"train_blocks"` // −1: all blocks learn; 0: the frozen-blocks baseline (trained with bp)
	Data        string  `json:"data"`
	Seed        uint64  `json:"seed"`
	Precision   string  `json:"precision"`
	Epochs      int     `json:"epochs"`
	Params      int     `json:"params"`
	TrainN      int     `json:"train_samples"`
	TestN       int     `json:"test_samples"`
	TestAcc     float64 `json:"test_acc"`
	TestLoss    float64 `json:"test_loss"`
	TrainLoss   float64 `json:"train_loss"` // mean over the last epoch's batches' samples
	LossReduce  string  `json:"loss_reduction"`
	Seconds     float64 `json:"seconds"`       // training time over all epochs, this process and earlier ones
	SamplesPerS float64 `json:"samples_per_s"` // training throughput
	// Stopped says why a --stop-on-fail run ended early ("" if it did not).
	Stopped string `json:"stopped,omitempty"`
}

// Options are the non-recorded knobs of a run.
type Options struct {
	Out      string    // run directory
	Log      io.Writer // one line per epoch (nil: discard)
	Progress io.Writer // progress bar within epochs, or nil
	// AfterStep, if set, is called after every optimiser step (tests use it
	// to kill the process mid-epoch).
	AfterStep func(epoch, step int)
	// Audit, if set, runs after every AuditEvery-th epoch on a snapshot of
	// the run; its record goes into that epoch's metrics line, and a
	// non-empty list of failed checks stops a StopOnFail run.
	Audit func(snap Snapshot) (record json.RawMessage, failed []string, err error)
}

// Snapshot is a run's state after an epoch, upcast to float64.
type Snapshot struct {
	Config  Config
	Epoch   int
	Step    int64
	Tensors map[string][]float64 // parameters, buffers and feedback by name
}

// ErrBadInput marks errors caused by the user's input (flags, data files, a
// run directory): the command exits with status 2 for them.
var ErrBadInput = errors.New("bad input")

// ErrDiverged is returned when the training loss becomes NaN or ±Inf.
var ErrDiverged = errors.New("training diverged")

// ErrInterrupted is returned when the context is cancelled mid-run.
var ErrInterrupted = errors.New("interrupted")

type badInput struct{ error }

func (e badInput) Unwrap() []error { return []error{e.error, ErrBadInput} }

func bad(err error) error { return badInput{err} }

// BadInput marks err as caused by the user's input (errors.Is(err,
// ErrBadInput) then holds).
func BadInput(err error) error { return bad(err) }

// Start begins a new run in opt.Out, which must not already hold one.
func Start(ctx context.Context, cfg Config, opt Options) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, bad(err)
	}
	if _, err := os.Stat(filepath.Join(opt.Out, ConfigFile)); err == nil {
		return nil, bad(fmt.Errorf("%s already holds a run; continue it with --resume %s, or choose another --out", opt.Out, opt.Out))
	}
	return run(ctx, cfg, opt, false)
}

// Resume continues the run in dir from its last checkpoint, with the settings
// in its config.json. A finished run returns its result unchanged.
func Resume(ctx context.Context, dir string, opt Options) (*Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, bad(fmt.Errorf("--resume %s: no run there (%v)", dir, errors.Unwrap(err)))
	}
	var cfg Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, bad(fmt.Errorf("%s: corrupt config (%v)", filepath.Join(dir, ConfigFile), err))
	}
	if err := cfg.Validate(); err != nil {
		return nil, bad(fmt.Errorf("%s: %v", filepath.Join(dir, ConfigFile), err))
	}
	opt.Out = dir
	return run(ctx, cfg, opt, true)
}

func run(ctx context.Context, cfg Config, opt Options, resume bool) (*Result, error) {
	if cfg.Precision == "float32" {
		return (&runner[float32]{cfg: cfg, opt: opt}).run(ctx, resume)
	}
	return (&runner[float64]{cfg: cfg, opt: opt}).run(ctx, resume)
}

type runner[T nn.Float] struct {
	cfg     Config
	opt     Options
	ds      *data.Dataset
	net     model.Network[T]
	rule    rule.Rule[T]
	optim   Optimizer[T]
	history []EpochMetrics
}

func (r *runner[T]) path(name string) string { return filepath.Join(r.opt.Out, name) }

func (r *runner[T]) logf(format string, args ...any) {
	if r.opt.Log != nil {
		fmt.Fprintf(r.opt.Log, format, args...)
	}
}

func (r *runner[T]) run(ctx context.Context, resume bool) (*Result, error) {
	cfg := &r.cfg
	if resume {
		if b, err := os.ReadFile(r.path(ResultFile)); err == nil {
			var res Result
			if json.Unmarshal(b, &res) == nil {
				r.logf("%s is already complete (test_acc %.4f)\n", r.opt.Out, res.TestAcc)
				return &res, nil
			}
		}
	}
	ds, err := data.Load(cfg.Data, data.Options{TrainN: cfg.TrainN, TestN: cfg.TestN, Seed: cfg.Seed})
	if err != nil {
		return nil, bad(err)
	}
	r.ds = ds
	cfg.Model.In, cfg.Model.Shape, cfg.Model.Classes = ds.Dim(), ds.Shape, ds.Classes
	if err := cfg.Model.Validate(); err != nil {
		return nil, bad(err)
	}
	// Model weights come from stream 1 of the seed; epoch e's shuffle from
	// stream 1000+e (see package doc).
	net, err := model.New[T](cfg.Model, rand.New(rand.NewPCG(cfg.Seed, 1)))
	if err != nil {
		return nil, bad(err)
	}
	r.net = net
	r.rule, err = rule.New(cfg.Rule, net, rule.Options{FeedbackSeed: cfg.FeedbackSeed, FeedbackScale: cfg.FeedbackScale, TrainBlocks: cfg.TrainBlocks, LocalNorm: cfg.LocalNorm, Penalty: cfg.Penalty})
	if err != nil {
		return nil, bad(err)
	}
	if cfg.Optimizer == "sgd" {
		r.optim = NewSGD(r.rule.Params(), cfg.Momentum, cfg.WD)
	} else {
		r.optim = NewAdamW(r.rule.Params(), cfg.WD)
	}
	start := 0
	if resume {
		if start, err = r.loadCheckpoint(); err != nil {
			return nil, err
		}
		if err := r.truncateMetrics(start); err != nil {
			return nil, err
		}
		r.logf("resuming %s after epoch %d of %d\n", r.opt.Out, start, cfg.Epochs)
	} else {
		if err := os.MkdirAll(r.opt.Out, 0o755); err != nil {
			return nil, bad(fmt.Errorf("--out %s: %v", r.opt.Out, err))
		}
		b, _ := json.MarshalIndent(cfg, "", "  ")
		if err := atomicfile.WriteFile(r.path(ConfigFile), append(b, '\n')); err != nil {
			return nil, err
		}
	}
	for e := start + 1; e <= cfg.Epochs; e++ {
		m, err := r.epoch(ctx, e)
		if err != nil {
			return nil, err
		}
		var failed []string
		if r.opt.Audit != nil && cfg.AuditEvery > 0 && e%cfg.AuditEvery == 0 {
			if m.Audit, failed, err = r.opt.Audit(r.snapshot(e)); err != nil {
				return nil, fmt.Errorf("audit after epoch %d: %w", e, err)
			}
		}
		r.history = append(r.history, m)
		if err := r.writeMetrics(); err != nil {
			return nil, err
		}
		if err := r.saveCheckpoint(e); err != nil {
			return nil, err
		}
		r.logf("epoch %d/%d  train_loss %.4f  test_acc %.4f  test_loss %.4f  %.1fs  %.0f samples/s\n",
			e, cfg.Epochs, m.TrainLoss, m.TestAcc, m.TestLoss, m.Seconds, m.SamplesPerS)
		if len(failed) > 0 {
			r.logf("epoch %d: in-training audit failed %v\n", e, failed)
			if cfg.StopOnFail {
				return r.writeResult(fmt.Sprintf("FAIL(%s) at epoch %d (--stop-on-fail)", strings.Join(failed, "+"), e))
			}
		}
	}
	return r.writeResult("")
}

// epoch trains one epoch and evaluates on the test split.
func (r *runner[T]) epoch(ctx context.Context, e int) (EpochMetrics, error) {
	cfg, ds := &r.cfg, r.ds
	N, dim, B := ds.Train.N, ds.Dim(), cfg.Batch
	perm := rand.New(rand.NewPCG(cfg.Seed, 1000+uint64(e))).Perm(N)
	x, y := make([]T, B*dim), make([]int32, B)
	steps := cfg.StepsPerEpoch(N)
	total, t := steps*cfg.Epochs, steps*(e-1)
	setTraining(r.net, true)
	bar := newProgress(r.opt.Progress, (N+B-1)/B, fmt.Sprintf("epoch %d/%d", e, cfg.Epochs))
	t0 := time.Now()
	sum := 0.0
	lr := 0.0
	for s, i0 := 0, 0; i0 < N; s, i0 = s+1, i0+B {
		if err := ctx.Err(); err != nil {
			bar.finish()
			done := e - 1
			return EpochMetrics{}, fmt.Errorf("%w at epoch %d step %d; epochs 1–%d are saved in %s; continue with: faudit train --resume %s",
				ErrInterrupted, e, s, done, r.opt.Out, r.opt.Out)
		}
		n := min(B, N-i0)
		gather(x, y, &ds.Train, perm[i0:i0+n], dim)
		r.net.Forward(x, n)
		loss := r.net.Loss(y[:n])
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			bar.finish()
			saved := fmt.Sprintf("the last good checkpoint (epoch %d) is in %s", e-1, r.opt.Out)
			if e == 1 {
				saved = "no epoch finished"
			}
			return EpochMetrics{}, fmt.Errorf("%w: the loss became %v at epoch %d step %d (lr %.3g); %s; try a smaller --lr",
				ErrDiverged, loss, e, s, cfg.LRAt(e, t+s, total), saved)
		}
		sum += loss
		r.rule.Backward(y[:n], T(1/float64(n)), int64(t+s))
		lr = cfg.LRAt(e, t+s, total)
		r.optim.Step(lr)
		bar.add()
		if r.opt.AfterStep != nil {
			r.opt.AfterStep(e, s)
		}
	}
	bar.finish()
	secs := time.Since(t0).Seconds()
	acc, tl := Evaluate(r.net, &ds.Test, dim)
	return EpochMetrics{Epoch: e, LR: lr, TrainLoss: sum / float64(N), TestLoss: tl, TestAcc: acc,
		Seconds: secs, SamplesPerS: float64(N) / secs}, nil
}

// gather converts the rows idx of split s into x and their labels into y.
func gather[T nn.Float](x []T, y []int32, s *data.Split, idx []int, dim int) {
	for r, i := range idx {
		src, dst := s.X[i*dim:(i+1)*dim], x[r*dim:(r+1)*dim]
		for j, v := range src {
			dst[j] = T(v)
		}
		y[r] = s.Y[i]
	}
}

// setTraining switches models with BatchNorm between batch statistics
// (training) and running statistics (evaluation).
func setTraining[T nn.Float](net model.Network[T], training bool) {
	if st, ok := net.(model.Stateful[T]); ok {
		st.SetTraining(training)
	}
}

// EvalBatch is the batch size of evaluation passes.
const EvalBatch = 1000

// Evaluate returns the accuracy and mean cross-entropy of net on s.
func Evaluate[T nn.Float](net model.Network[T], s *data.Split, dim int) (acc, loss float64) {
	setTraining(net, false)
	x, y := make([]T, EvalBatch*dim), make([]int32, EvalBatch)
	idx := make([]int, EvalBatch)
	correct := 0
	for i0 := 0; i0 < s.N; i0 += EvalBatch {
		n := min(EvalBatch, s.N-i0)
		for r := range n {
			idx[r] = i0 + r
		}
		gather(x, y, s, idx[:n], dim)
		logits := net.Forward(x, n)
		loss += net.Loss(y[:n])
		C := len(logits) / n
		for r := range n {
			best := 0
			for j := 1; j < C; j++ {
				if logits[r*C+j] > logits[r*C+best] {
					best = j
				}
			}
			if int32(best) == y[r] {
				correct++
			}
		}
	}
	return float64(correct) / float64(s.N), loss / float64(s.N)
}

// writeMetrics rewrites metrics.jsonl from the history (atomically).
func (r *runner[T]) writeMetrics() error {
	var buf []byte
	for _, h := range r.history {
		b, _ := json.Marshal(h)
		buf = append(append(buf, b...), '\n')
	}
	return atomicfile.WriteFile(r.path(MetricsFile), buf)
}

// truncateMetrics reloads metrics.jsonl keeping epochs ≤ done (a kill between
// writing the metrics and the checkpoint can leave one epoch too many).
func (r *runner[T]) truncateMetrics(done int) error {
	b, err := os.ReadFile(r.path(MetricsFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	r.history = nil
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var m EpochMetrics
		if err := dec.Decode(&m); err != nil {
			return bad(fmt.Errorf("%s: corrupt line (%v)", r.path(MetricsFile), err))
		}
		if m.Epoch <= done {
			r.history = append(r.history, m)
		}
	}
	if len(r.history) != done {
		return bad(fmt.Errorf("%s holds %d epochs but the checkpoint is at epoch %d", r.path(MetricsFile), len(r.history), done))
	}
	return nil
}

// snapshot upcasts the run's saved tensors for an audit.
func (r *runner[T]) snapshot(e int) Snapshot {
	_, step := r.optim.State()
	ts := map[string][]float64{}
	for _, p := range r.tensors() {
		v := make([]float64, len(p.W))
		for i, x := range p.W {
			v[i] = float64(x)
		}
		ts[p.Name] = v
	}
	return Snapshot{Config: r.cfg, Epoch: e, Step: step, Tensors: ts}
}

func (r *runner[T]) writeResult(stopped string) (*Result, error) {
	cfg := &r.cfg
	last := r.history[len(r.history)-1]
	secs, n := 0.0, 0
	for _, h := range r.history {
		secs += h.Seconds
		n += r.ds.Train.N
	}
	params := 0
	for _, p := range r.net.Params() {
		params += len(p.W)
	}
	res := &Result{Version: cfg.Version, Arch: cfg.Model.Arch, Rule: cfg.Rule, TrainBlocks: cfg.TrainBlocks, Data: cfg.Data, Seed: cfg.Seed,
		Precision: cfg.Precision, Epochs: cfg.Epochs, Params: params, TrainN: r.ds.Train.N, TestN: r.ds.Test.N,
		TestAcc: last.TestAcc, TestLoss: last.TestLoss, TrainLoss: last.TrainLoss,
		LossReduce: "mean cross-entropy per sample", Seconds: secs, SamplesPerS: float64(n) / secs, Stopped: stopped}
	res.Epochs = len(r.history)
	b, _ := json.MarshalIndent(res, "", "  ")
	return res, atomicfile.WriteFile(r.path(ResultFile), append(b, '\n'))
}
