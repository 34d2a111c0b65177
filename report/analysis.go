package report

import (
	"fmt"
	"math"

	"github.com/faudit/faudit/protocol"
)

// pairMarginPP is how far above chance the standard pair wants accuracy.
const pairMarginPP = 10

// StandardPairRule is how the report reads the standard pair.
var StandardPairRule = fmt.Sprintf("the standard pair accepts a run when its test accuracy is at least chance + %d pp "+
	"(chance = 1/classes) and its aggregate Γ (mean over positions, the usual headline) is > 0; a group is read from its "+
	"means over seeds", pairMarginPP)

// standardPair is what the standard pair says of an accuracy and an
// aggregate Γ: "accept", "reject (accuracy)" or "reject (Γ ≤ 0)".
func standardPair(acc, gamma float64, classes int) string {
	if math.IsNaN(acc) || math.IsNaN(gamma) {
		return "—"
	}
	if acc < chance(classes)+pairMarginPP/100.0 {
		return "reject (accuracy)"
	}
	if !(gamma > 0) {
		return "reject (Γ ≤ 0)"
	}
	return "accept"
}

func chance(classes int) float64 {
	if classes < 2 {
		return 0
	}
	return 1 / float64(classes)
}

// Decision is one row of the decision table: the standard pair beside the
// protocol.
type Decision struct {
	Group       string  `json:"group"`
	Accuracy    float64 `json:"accuracy"`
	Gamma       float64 `json:"gamma_mean_all"`
	Chance      float64 `json:"chance"`
	Pair        string  `json:"standard_pair"`
	PairAccepts int     `json:"pair_accepts"` // audited runs the pair accepts
	Audited     int     `json:"n_audited"`
	Verdict     string  `json:"verdict"`
	Fired       string  `json:"checks_fired"`
	Reading     string  `json:"reading"`
}

// decisions compares the standard pair with the protocol for every audited
// group that is not a baseline.
func decisions(groups []*Group) []Decision {
	var out []Decision
	for _, g := range groups {
		if g.Baseline || g.Audited == 0 {
			continue
		}
		d := Decision{Group: g.Label, Accuracy: g.Accuracy.Mean, Gamma: g.GammaAll.Mean, Chance: chance(g.Config.Model.Classes),
			Audited: g.Audited, Verdict: g.Verdict, Fired: g.FiredSummary()}
		d.Pair = standardPair(d.Accuracy, d.Gamma, g.Config.Model.Classes)
		for _, r := range g.rows {
			if r.StandardPair == "accept" {
				d.PairAccepts++
			}
		}
		d.Reading = reading(d.Pair == "accept", len(g.Fired) > 0)
		out = append(out, d)
	}
	return out
}

func reading(pairAccepts, protocolFlags bool) string {
	switch {
	case pairAccepts && protocolFlags:
		return "the protocol flags what the standard pair accepts"
	case pairAccepts:
		return "both trust it"
	case protocolFlags:
		return "both reject it"
	}
	return "the pair rejects it; the protocol passes it (it checks the measurement, not the accuracy)"
}

// Calibration is one check's margins across all audited runs (paper
// §5.11): the passing run closest to failing, the failing run closest to
// passing, their gap, and every threshold that would give each run the
// verdict it has.
type Calibration struct {
	Check          string  `json:"check"`
	Quantity       string  `json:"quantity"`
	PassWhen       string  `json:"pass_when"` // e.g. "value ≤ t"
	Threshold      float64 `json:"threshold"` // the audits' t
	Healthy        int     `json:"n_healthy"`
	Failing        int     `json:"n_failing"`
	HealthyExtreme float64 `json:"healthy_extreme"`
	HealthyRun     string  `json:"healthy_run"`
	FailingExtreme float64 `json:"failing_extreme"`
	FailingRun     string  `json:"failing_run"`
	Gap            float64 `json:"gap"`
	GapUnit        string  `json:"gap_unit"` // "×" (ratio) or the quantity's unit (difference)
	RangeLo        float64 `json:"range_lo"`
	RangeHi        float64 `json:"range_hi"`
	LoOpen         bool    `json:"range_lo_open"`
	HiOpen         bool    `json:"range_hi_open"`
	Consistent     bool    `json:"consistent"` // some threshold reproduces every verdict
	Note           string  `json:"note,omitempty"`
}

// calibrationSpec says how one check decides.
type calibrationSpec struct {
	check, quantity string
	upper           bool   // passes at or below the threshold (else at or above)
	strict          bool   // passing needs the strict inequality
	gapUnit         string // "×" for a ratio, else the unit of a difference
	threshold       func(protocol.Thresholds) float64
	sample          func(*protocol.Report) (value float64, pass, ok bool)
}

func checkSample(name string) func(*protocol.Report) (float64, bool, bool) {
	return func(a *protocol.Report) (float64, bool, bool) {
		c, ok := a.Checks[name]
		return c.Value, c.Pass, ok && c.Ran && !math.IsNaN(c.Value)
	}
}

func criterionSample(name string) func(*protocol.Report) (float64, bool, bool) {
	return func(a *protocol.Report) (float64, bool, bool) {
		c, ok := a.Checks["D2"].Criteria[name]
		return c.Value, !c.Fired, ok && !math.IsNaN(c.Value)
	}
}

var calibrationSpecs = []calibrationSpec{
	{"D1", "max per-block growth of the median ‖h‖", true, false, "×",
		func(t protocol.Thresholds) float64 { return t.D1Growth }, checkSample("D1")},
	{"D2 paper", "median ‖g_L‖, paper convention", false, false, "×",
		func(t protocol.Thresholds) float64 { return t.D2PaperFloor }, criterionSample("paper")},
	{"D2 precision", "relative error κ of g_L in the training precision", true, false, "×",
		func(t protocol.Thresholds) float64 { return t.D2MaxRelErr }, criterionSample("precision")},
	{"D3", "accuracy lead over the frozen baseline (pp)", false, false, "pp",
		func(t protocol.Thresholds) float64 { return t.D3MarginPP }, checkSample("D3")},
	{"M2", "share of an end's mean Γ held by the rest", false, true, "",
		func(t protocol.Thresholds) float64 { return t.M2Ratio }, checkSample("M2")},
}

func (s calibrationSpec) passWhen() string {
	op := map[[2]bool]string{{true, false}: "≤", {true, true}: "<", {false, false}: "≥", {false, true}: ">"}[[2]bool{s.upper, s.strict}]
	return "value " + op + " t"
}

// calibrate computes one check's margins over the audited runs.
func calibrate(s calibrationSpec, runs []*Run, th protocol.Thresholds) Calibration {
	c := Calibration{Check: s.check, Quantity: s.quantity, PassWhen: s.passWhen(), Threshold: s.threshold(th), GapUnit: s.gapUnit,
		HealthyExtreme: nan, FailingExtreme: nan, Gap: nan}
	// better(a, b): a is further on the passing side than b.
	better := func(a, b float64) bool { return (a < b) == s.upper }
	for _, r := range runs {
		if r.Audit == nil {
			continue
		}
		v, pass, ok := s.sample(r.Audit)
		if !ok {
			continue
		}
		if pass {
			c.Healthy++
			if c.Healthy == 1 || better(c.HealthyExtreme, v) { // keep the least healthy
				c.HealthyExtreme, c.HealthyRun = v, r.Dir
			}
		} else {
			c.Failing++
			if c.Failing == 1 || better(v, c.FailingExtreme) { // keep the least failing
				c.FailingExtreme, c.FailingRun = v, r.Dir
			}
		}
	}
	if c.Healthy+c.Failing == 0 {
		c.Note = "no audited run has this check"
		c.RangeLo, c.RangeHi = nan, nan
		return c
	}
	c.setRange(s)
	return c
}

// setRange finds the thresholds t that reproduce every verdict.
func (c *Calibration) setRange(s calibrationSpec) {
	h, f := c.HealthyExtreme, c.FailingExtreme
	if c.Healthy == 0 {
		h = math.Inf(map[bool]int{true: -1, false: 1}[s.upper])
	}
	if c.Failing == 0 {
		f = math.Inf(map[bool]int{true: 1, false: -1}[s.upper])
	}
	// upper, non-strict (pass iff v ≤ t): t ∈ [h, f); strict: (h, f].
	// lower, non-strict (pass iff v ≥ t): t ∈ (f, h]; strict: [f, h).
	if s.upper {
		c.RangeLo, c.RangeHi, c.LoOpen, c.HiOpen = h, f, s.strict, !s.strict
	} else {
		c.RangeLo, c.RangeHi, c.LoOpen, c.HiOpen = f, h, !s.strict, s.strict
	}
	c.LoOpen = c.LoOpen || math.IsInf(c.RangeLo, 0)
	c.HiOpen = c.HiOpen || math.IsInf(c.RangeHi, 0)
	c.Consistent = c.RangeLo < c.RangeHi || (c.RangeLo == c.RangeHi && !c.LoOpen && !c.HiOpen)
	if c.Healthy > 0 && c.Failing > 0 { // the upper side's extreme over (or minus) the lower side's
		above, below := f, h
		if !s.upper {
			above, below = h, f
		}
		if s.gapUnit == "×" {
			c.Gap = above / below
		} else {
			c.Gap = above - below
		}
	}
	switch {
	case !c.Consistent:
		c.Note = "the sides overlap: no single threshold reproduces these verdicts (were the audits run with different thresholds?)"
	case c.Failing == 0:
		c.Note = "no run fails it: any threshold on the passing side of the healthy extreme keeps every verdict"
	case c.Healthy == 0:
		c.Note = "no run passes it"
	}
}

// calibrations computes every check's margins.
func calibrations(runs []*Run, th protocol.Thresholds) []Calibration {
	out := make([]Calibration, len(calibrationSpecs))
	for i, s := range calibrationSpecs {
		out[i] = calibrate(s, runs, th)
	}
	return out
}
