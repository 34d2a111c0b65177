package train

import (
	"fmt"
	"math"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/rule"
)

// Config is every setting of a run; it is saved as config.json.
type Config struct {
	Version string       `json:"faudit_version"`
	Model   model.Config `json:"model"`
	Rule    string       `json:"rule"`
	// Feedback matrices: seed (the run seed unless --feedback-seed) and the
	// multiplier of their documented standard deviation.
	FeedbackSeed  uint64  `json:"feedback_seed"`
	FeedbackScale float64 `json:"feedback_scale"`
	// TrainBlocks: only the last k blocks learn (−1: all; 0: the
	// frozen-blocks baseline, trained with BP whatever the rule).
	TrainBlocks int `json:"train_blocks"`
	// LocalNorm: "" or "rms" (local rules; see rule.Options).
	LocalNorm string `json:"local_norm,omitempty"`
	// Penalty is λ of the per-block scale penalty λ·‖f_l(h_l)‖² (see
	// rule.Options.Penalty for the reduction); 0: none.
	Penalty   float64 `json:"penalty,omitempty"`
	Data      string  `json:"data"`
	TrainN    int     `json:"train_n"`
	TestN     int     `json:"test_n"`
	Epochs    int     `json:"epochs"`
	Batch     int     `json:"batch"`
	Optimizer string  `json:"optimizer"`
	LR        float64 `json:"lr"`
	WD        float64 `json:"weight_decay"`
	Momentum  float64 `json:"momentum"`
	Schedule  string  `json:"schedule"`
	Seed      uint64  `json:"seed"`
	Precision string  `json:"precision"`
	// In-training audits: every AuditEvery epochs the cheap checks run on
	// AuditN test samples and land in metrics.jsonl; StopOnFail ends the run
	// at the first failure.
	AuditEvery int  `json:"audit_every,omitempty"`
	AuditN     int  `json:"audit_n,omitempty"`
	StopOnFail bool `json:"stop_on_fail,omitempty"`
	// Machine facts that bit-identity depends on, recorded for the reader.
	Backend    string `json:"gemm_backend"`
	GoMaxProcs int    `json:"gomaxprocs"`
}

// Validate reports the first bad setting, naming its flag.
func (c *Config) Validate() error {
	m := c.Model // the data set fills In and Classes later
	m.In, m.Classes = max(m.In, 1), max(m.Classes, 2)
	if err := m.Validate(); err != nil {
		return err
	}
	if _, ok := rule.Descriptions[c.Rule]; !ok {
		return fmt.Errorf("--rule %q: unknown rule; expected one of %v", c.Rule, rule.Names())
	}
	switch {
	case !(c.FeedbackScale > 0) || math.IsInf(c.FeedbackScale, 0):
		return fmt.Errorf("--feedback-scale %v: expected a finite value > 0", c.FeedbackScale)
	case c.TrainBlocks < -1:
		return fmt.Errorf("--train-blocks %d: expected −1 (all) or a count ≥ 0", c.TrainBlocks)
	case !(c.Penalty >= 0) || math.IsInf(c.Penalty, 0):
		return fmt.Errorf("--penalty %v: expected a finite λ ≥ 0", c.Penalty)
	case c.Penalty > 0 && c.Model.Arch != "resmlp" && c.Model.Arch != "mlp":
		return fmt.Errorf("--penalty %v: the per-block scale penalty is defined for --arch resmlp and mlp, not %s", c.Penalty, c.Model.Arch)
	case c.Epochs < 1:
		return fmt.Errorf("--epochs %d: expected at least 1", c.Epochs)
	case c.Batch < 1:
		return fmt.Errorf("--batch %d: expected at least 1", c.Batch)
	case c.Optimizer != "adamw" && c.Optimizer != "sgd":
		return fmt.Errorf("--optimizer %q: expected adamw or sgd", c.Optimizer)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("--lr %v: expected a finite value > 0", c.LR)
	case !(c.WD >= 0) || math.IsInf(c.WD, 0):
		return fmt.Errorf("--wd %v: expected a finite value ≥ 0", c.WD)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("--momentum %v: expected a value in [0, 1)", c.Momentum)
	case c.Schedule != "cosine" && c.Schedule != "cosine-step" && c.Schedule != "constant":
		return fmt.Errorf("--schedule %q: expected cosine, cosine-step or constant", c.Schedule)
	case c.Precision != "float64" && c.Precision != "float32":
		return fmt.Errorf("--precision %q: expected float64 or float32", c.Precision)
	case c.AuditEvery < 0 || c.AuditN < 0:
		return fmt.Errorf("--audit-every %d / --audit-n %d: expected ≥ 0", c.AuditEvery, c.AuditN)
	case c.StopOnFail && c.AuditEvery == 0:
		return fmt.Errorf("--stop-on-fail needs --audit-every N (the checks it stops on)")
	case c.TrainN < 0 || c.TestN < 0:
		return fmt.Errorf("--train-n %d / --test-n %d: expected ≥ 0 (0 = all)", c.TrainN, c.TestN)
	}
	return nil
}

// LRAt is the learning rate of optimiser step t (0-based, of total) in
// epoch e (1-based):
//   - cosine: PyTorch's CosineAnnealingLR(T_max = epochs, eta_min = 0)
//     stepped once per epoch, the usual research recipe (and the paper's):
//     epoch e runs at lr·½(1 + cos(π(e−1)/epochs)), so a 1-epoch run is at
//     the base rate throughout;
//   - cosine-step: the same curve stepped every batch, reaching 0 at the end;
//   - constant: the base rate.
func (c *Config) LRAt(e, t, total int) float64 {
	switch c.Schedule {
	case "constant":
		return c.LR
	case "cosine-step":
		return c.LR * 0.5 * (1 + math.Cos(math.Pi*float64(t)/float64(total)))
	}
	return c.LR * 0.5 * (1 + math.Cos(math.Pi*float64(e-1)/float64(c.Epochs)))
}

// StepsPerEpoch is the number of optimiser steps in an epoch of n samples
// (the last batch may be partial).
func (c *Config) StepsPerEpoch(n int) int { return (n + c.Batch - 1) / c.Batch }
