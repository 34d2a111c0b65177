package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/faudit/faudit"
	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/model"
)

func smallConfig() Config {
	m := model.DefaultConfig(0, 0)
	m.D, m.Hidden, m.Blocks = 32, 32, 2
	return Config{Version: faudit.Version, Model: m, Rule: "bp", Data: "synthetic:16", TrainN: 600, TestN: 200,
		Epochs: 2, Batch: 64, Optimizer: "adamw", LR: 1e-3, WD: 0.01, Momentum: 0.9, Schedule: "cosine",
		Seed: 3, FeedbackSeed: 3, FeedbackScale: 1, TrainBlocks: -1, Precision: "float64", Backend: blas.Backend, GoMaxProcs: runtime.GOMAXPROCS(0)}
}

// withoutTiming decodes a JSON object (or JSON lines) and drops the timing
// fields, which are the only ones allowed to differ between identical runs.
func withoutTiming(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		delete(m, "seconds")
		delete(m, "samples_per_s")
		out = append(out, m)
	}
	return out
}

func readRun(t *testing.T, dir string) (result, metrics, ckpt []byte) {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return read(ResultFile), read(MetricsFile), read(CheckpointFile)
}

func TestSameSeedIsBitIdentical(t *testing.T) {
	for _, prec := range []string{"float64", "float32"} {
		cfg := smallConfig()
		cfg.Precision = prec
		a, b := t.TempDir(), t.TempDir()
		if _, err := Start(context.Background(), cfg, Options{Out: a}); err != nil {
			t.Fatal(err)
		}
		if _, err := Start(context.Background(), cfg, Options{Out: b}); err != nil {
			t.Fatal(err)
		}
		ra, ma, ca := readRun(t, a)
		rb, mb, cb := readRun(t, b)
		if !bytes.Equal(ca, cb) {
			t.Errorf("%s: checkpoints differ between two runs of one seed", prec)
		}
		ja, _ := json.Marshal(withoutTiming(t, ra))
		jb, _ := json.Marshal(withoutTiming(t, rb))
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: result.json differs beyond timing:\n%s\n%s", prec, ja, jb)
		}
		ja, _ = json.Marshal(withoutTiming(t, ma))
		jb, _ = json.Marshal(withoutTiming(t, mb))
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: metrics.jsonl differs beyond timing", prec)
		}
		// A different seed must give a different model.
		cfg.Seed++
		c := t.TempDir()
		if _, err := Start(context.Background(), cfg, Options{Out: c}); err != nil {
			t.Fatal(err)
		}
		if _, _, cc := readRun(t, c); bytes.Equal(ca, cc) {
			t.Errorf("%s: seeds %d and %d gave identical checkpoints", prec, cfg.Seed-1, cfg.Seed)
		}
	}
}

func TestInterruptedRunResumesToTheSameResult(t *testing.T) {
	cfg := smallConfig()
	cfg.Epochs = 3
	want := t.TempDir()
	if _, err := Start(context.Background(), cfg, Options{Out: want}); err != nil {
		t.Fatal(err)
	}
	got := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Start(ctx, cfg, Options{Out: got, AfterStep: func(e, s int) {
		if e == 2 && s == 4 {
			cancel() // stop in the middle of epoch 2
		}
	}})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted run returned %v, want ErrInterrupted", err)
	}
	if _, err := os.Stat(filepath.Join(got, ResultFile)); err == nil {
		t.Fatal("an interrupted run wrote result.json")
	}
	if _, err := Resume(context.Background(), got, Options{}); err != nil {
		t.Fatal(err)
	}
	rw, mw, cw := readRun(t, want)
	rg, mg, cg := readRun(t, got)
	if !bytes.Equal(cw, cg) {
		t.Error("resumed checkpoint differs from the uninterrupted one")
	}
	for _, pair := range [][2][]byte{{rw, rg}, {mw, mg}} {
		a, _ := json.Marshal(withoutTiming(t, pair[0]))
		b, _ := json.Marshal(withoutTiming(t, pair[1]))
		if !bytes.Equal(a, b) {
			t.Errorf("resumed run differs:\n%s\n%s", a, b)
		}
	}
}

func TestStartRefusesAnExistingRunAndBadSettings(t *testing.T) {
	cfg := smallConfig()
	cfg.Epochs = 1
	dir := t.TempDir()
	if _, err := Start(context.Background(), cfg, Options{Out: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(context.Background(), cfg, Options{Out: dir}); !errors.Is(err, ErrBadInput) {
		t.Errorf("second Start in one directory: %v, want a bad-input error", err)
	}
	for _, mutate := range []func(*Config){
		func(c *Config) { c.Rule = "magic" },
		func(c *Config) { c.Epochs = 0 },
		func(c *Config) { c.Precision = "float16" },
		func(c *Config) { c.Model.Arch = "transformer" },
		func(c *Config) { c.Data = "nope" },
	} {
		c := smallConfig()
		mutate(&c)
		if _, err := Start(context.Background(), c, Options{Out: t.TempDir()}); !errors.Is(err, ErrBadInput) {
			t.Errorf("config %+v: %v, want a bad-input error", c, err)
		}
	}
}

func TestDivergenceIsReported(t *testing.T) {
	cfg := smallConfig()
	cfg.Optimizer, cfg.LR, cfg.Schedule = "sgd", 1e12, "constant"
	_, err := Start(context.Background(), cfg, Options{Out: t.TempDir()})
	if err == nil || errors.Is(err, ErrBadInput) || !bytes.Contains([]byte(err.Error()), []byte("diverged")) {
		t.Fatalf("lr 1e12: %v, want a divergence error", err)
	}
}

// A short real run: 1 epoch of the plain MLP on 6000 MNIST digits must learn.
func TestMNISTSmokeLearns(t *testing.T) {
	cfg := smallConfig()
	cfg.Data, cfg.TrainN, cfg.TestN, cfg.Epochs, cfg.Batch = "mnist", 6000, 2000, 1, 32
	cfg.Model.Arch, cfg.Model.HiddenLayers = "mlp", []int{128}
	cfg.Precision = "float32"
	res, err := Start(context.Background(), cfg, Options{Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.TestAcc < 0.85 {
		t.Errorf("MLP after one epoch on 6000 digits: test accuracy %.4f, want ≥ 0.85", res.TestAcc)
	}
	t.Logf("test accuracy %.4f", res.TestAcc)
}

func TestCosineSchedule(t *testing.T) {
	c := Config{LR: 1, Epochs: 4, Schedule: "cosine"}
	for e, want := range map[int]float64{1: 1, 2: 0.8535533905932737, 3: 0.5, 4: 0.1464466094067262} {
		if got := c.LRAt(e, 0, 0); abs(got-want) > 1e-15 {
			t.Errorf("cosine epoch %d: %v, want %v", e, got, want)
		}
	}
	c.Schedule = "cosine-step"
	if got := c.LRAt(1, 50, 100); abs(got-0.5) > 1e-15 {
		t.Errorf("cosine-step halfway: %v, want 0.5", got)
	}
}

func abs(x float64) float64 { return max(x, -x) }

// A BatchNorm CNN resumes bit-identically too: its running statistics are in
// the checkpoint, and evaluation uses them (not the test batch's).
func TestCNNResumeKeepsRunningStatistics(t *testing.T) {
	cfg := smallConfig()
	cfg.Data, cfg.TrainN, cfg.TestN, cfg.Epochs, cfg.Batch = "mnist", 600, 200, 2, 100
	cfg.Model.Arch, cfg.Model.Channels, cfg.Model.Residual = "cnn", []int{4, 6, 8}, true
	want := t.TempDir()
	if _, err := Start(context.Background(), cfg, Options{Out: want}); err != nil {
		t.Fatal(err)
	}
	got := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	Start(ctx, cfg, Options{Out: got, AfterStep: func(e, s int) {
		if e == 2 && s == 2 {
			cancel()
		}
	}})
	if _, err := Resume(context.Background(), got, Options{}); err != nil {
		t.Fatal(err)
	}
	_, _, cw := readRun(t, want)
	rg, _, cg := readRun(t, got)
	if !bytes.Equal(cw, cg) {
		t.Error("resumed CNN checkpoint differs from the uninterrupted one")
	}
	if !bytes.Contains(cw, []byte("stages.0.bn.running_mean")) {
		t.Error("the checkpoint lacks the BatchNorm running statistics")
	}
	rw, _, _ := readRun(t, want)
	a, _ := json.Marshal(withoutTiming(t, rw))
	b, _ := json.Marshal(withoutTiming(t, rg))
	if !bytes.Equal(a, b) {
		t.Errorf("resumed CNN result differs:\n%s\n%s", a, b)
	}
}
