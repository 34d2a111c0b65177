package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/faudit/faudit/protocol"
)

// auditSettings are the values the audit flags write into.
type auditSettings struct {
	m          protocol.Options
	th         protocol.Thresholds
	baseline   string
	noBaseline bool
	asJSON     bool
	freshB     int
}

var auditDest *auditSettings

// measureFlags adds the measurement and threshold flags shared by audit,
// demo and train --audit-every.
func measureFlags(fs *flag.FlagSet, m *protocol.Options, th *protocol.Thresholds) {
	d := protocol.DefaultThresholds()
	fs.IntVar(&m.EvalN, "eval-n", 1024, "evaluation samples: the first N of the test split")
	fs.IntVar(&m.Directions, "directions", 32, "random directions per sample for the perturbation correlation ρ")
	fs.Float64Var(&m.Epsilon, "epsilon", 1e-3, "perturbation size for ρ, relative to ‖h_p‖")
	fs.Float64Var(&m.Eta, "eta", 0.01, "nudge size, relative to ‖h_p‖")
	fs.StringVar(&m.TokenView, "token-view", "cls", "vit: measure the CLS token (cls) or the mean over tokens (mean)")
	fs.Float64Var(&th.D1Growth, "d1", d.D1Growth, "D1: largest tolerated per-block growth of the median ‖h‖")
	fs.Float64Var(&th.D2PaperFloor, "d2-floor", d.D2PaperFloor, "D2 (paper criterion): floor of the median ‖g_L‖ in the paper's convention")
	fs.Float64Var(&th.D2MaxRelErr, "d2-max-rel-err", d.D2MaxRelErr, "D2 (precision criterion): largest tolerated relative error of g_L in the training precision")
	fs.StringVar(&th.D2Criterion, "d2-criterion", d.D2Criterion, "D2 decides by: both (either criterion fails it), paper or precision")
	fs.Float64Var(&th.D3MarginPP, "d3-pp", d.D3MarginPP, "D3: required lead over the frozen-blocks baseline in percentage points")
	fs.Float64Var(&th.M2Ratio, "m2-ratio", d.M2Ratio, "M2: flag aggregation collapse when the rest of the network has at most this fraction of an end's mean Γ")
	fs.Float64Var(&th.M2MinGamma, "m2-min-gamma", d.M2MinGamma, "M2: an end counts only when its mean |Γ| is at least this")
}

func checkMeasureFlags(m protocol.Options, th protocol.Thresholds) error {
	switch {
	case m.EvalN < 1:
		return fmt.Errorf("--eval-n %d: expected ≥ 1", m.EvalN)
	case m.Directions < 1:
		return fmt.Errorf("--directions %d: expected ≥ 1", m.Directions)
	case !(m.Epsilon > 0) || !(m.Eta > 0):
		return fmt.Errorf("--epsilon %v / --eta %v: expected > 0", m.Epsilon, m.Eta)
	case m.TokenView != "cls" && m.TokenView != "mean":
		return fmt.Errorf("--token-view %q: expected cls or mean", m.TokenView)
	case th.D2Criterion != "both" && th.D2Criterion != "paper" && th.D2Criterion != "precision":
		return fmt.Errorf("--d2-criterion %q: expected both, paper or precision", th.D2Criterion)
	case !(th.D1Growth > 0) || !(th.D2PaperFloor > 0) || !(th.D2MaxRelErr > 0):
		return fmt.Errorf("--d1, --d2-floor and --d2-max-rel-err must be > 0")
	}
	return nil
}

func auditFlags() *flag.FlagSet {
	s := &auditSettings{}
	auditDest = s
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	measureFlags(fs, &s.m, &s.th)
	fs.StringVar(&s.baseline, "baseline", "", "frozen-blocks baseline run for D3 (default: train or reuse one with the identical recipe in <parent>/baselines/)")
	fs.BoolVar(&s.noBaseline, "no-baseline", false, "skip D3 (no baseline training)")
	fs.BoolVar(&s.asJSON, "json", false, "print audit.json instead of the summary")
	fs.IntVar(&s.freshB, "fresh-b", 0, "also compute the fresh-B null: Γ with this many freshly drawn feedback sets (0: no)")
	return fs
}

func runAudit(ctx context.Context, fs *flag.FlagSet) error {
	s := auditDest
	if fs.NArg() != 1 {
		return badInput(fmt.Errorf("expected one run directory: faudit audit [flags] DIR"))
	}
	if err := checkMeasureFlags(s.m, s.th); err != nil {
		return badInput(err)
	}
	if s.freshB < 0 {
		return badInput(fmt.Errorf("--fresh-b %d: expected ≥ 0", s.freshB))
	}
	opt := protocol.AuditOptions{Measure: s.m, Thresholds: s.th, Baseline: s.baseline, NoBaseline: s.noBaseline, FreshB: s.freshB,
		Log: os.Stderr, Progress: progress()}
	rep, err := protocol.Audit(ctx, fs.Arg(0), opt)
	if err != nil {
		return err
	}
	if s.asJSON {
		b, _ := os.ReadFile(fs.Arg(0) + "/" + protocol.AuditJSON)
		os.Stdout.Write(b)
		return nil
	}
	rep.Text(os.Stdout)
	fmt.Printf("wrote %s/%s and %s\n", fs.Arg(0), protocol.AuditJSON, protocol.AuditMD)
	return nil
}
