package protocol

import (
	"math"
	"math/rand/v2"

	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/rule"
)

// Options control the measurements.
type Options struct {
	EvalN      int     // evaluation samples: the first EvalN of the test split (default 1024)
	Chunk      int     // rows per forward pass, a multiple of 128 (default 256)
	Directions int     // perturbation directions per sample for ρ (default 32)
	Epsilon    float64 // perturbation size relative to ‖h_p‖ (default 1e-3)
	Eta        float64 // nudge size relative to ‖h_p‖ (default 0.01)
	TokenView  string  // transformers: "cls" (default) or "mean"
	Seed       uint64  // draws the perturbation directions
	Cheap      bool    // skip ρ, nudging and stability (the in-training audits)
}

func (o *Options) defaults() {
	if o.EvalN == 0 {
		o.EvalN = 1024
	}
	if o.Chunk == 0 {
		o.Chunk = 256
	}
	if o.Directions == 0 {
		o.Directions = 32
	}
	if o.Epsilon == 0 {
		o.Epsilon = 1e-3
	}
	if o.Eta == 0 {
		o.Eta = 0.01
	}
	if o.TokenView == "" {
		o.TokenView = "cls"
	}
}

// PaperBatch is the batch size behind the paper's mean-reduced gradient
// norms: g_norm_paper = g_norm / PaperBatch.
const PaperBatch = 128

// Layer holds the measurements at one position.
type Layer struct {
	Position   int     `json:"position"`
	HNorm      Summary `json:"h_norm"`       // ‖h_p‖ per sample
	GNorm      Summary `json:"g_norm"`       // ‖∂ℓ_i/∂h_p‖ per sample (summed loss)
	GNormPaper float64 `json:"g_norm_paper"` // median ‖g_p‖ in the paper's convention (mean-reduced CE over batches of 128)
	CNorm      Summary `json:"c_norm"`       // ‖c_p‖, the rule's credit, per sample
	CosMean    float64 `json:"cos_mean"`     // Γ_p: mean over samples of cos(c_p, g_p)
	CosStd     float64 `json:"cos_std"`      // sample std (ddof = 1) of the per-sample cosines
	CosN       int     `json:"cos_n"`        // samples with a defined cosine
	CosUndef   int     `json:"cos_undefined"`
	Rho        float64 `json:"rho"`         // perturbation correlation (NaN when not measured)
	Nudge      float64 `json:"nudge"`       // mean loss change after a step of η‖h‖ against the credit
	NudgeBP    float64 `json:"nudge_bp"`    // the same step against the true gradient (the best first-order step)
	G32Cos     float64 `json:"g32_cos"`     // median cos(g_p in float32, g_p in float64)
	G32RelErr  float64 `json:"g32_rel_err"` // median ‖g32 − g64‖/‖g64‖
}

// Aggregate is Γ collapsed to one number under the usual conventions.
type Aggregate struct {
	MeanAll   float64 `json:"mean_all"`  // mean over all positions of Γ_p (the field's usual headline)
	MeanDeep  float64 `json:"mean_deep"` // mean over positions p ≥ 1
	Median    float64 `json:"median"`    // median over positions of Γ_p
	Flattened float64 `json:"flattened"` // one cosine between all samples' and positions' credits and references, flattened
}

// Angle is a W–B angle in degrees (layer-wise rules).
type Angle struct {
	Name    string  `json:"name"`
	Degrees float64 `json:"degrees"`
}

// Measurements is everything Measure finds.
type Measurements struct {
	EvalN             int       `json:"eval_n"`
	TokenView         string    `json:"token_view,omitempty"`
	Layers            []Layer   `json:"layers"`
	Aggregate         Aggregate `json:"aggregate"`
	Stability         float64   `json:"stability"` // cross-batch direction stability of g at StabilityPosition (§5.6)
	StabilityPosition int       `json:"stability_position"`
	WBAngles          []Angle   `json:"wb_angles,omitempty"`
}

// Subject is a trained network in float64 with its rule, plus a float32
// copy of the same weights for the reference-precision check.
type Subject struct {
	Net   model.Credited[float64]
	Rule  rule.Rule[float64]
	Net32 model.Credited[float32]
	Step  int64 // the optimiser step (brsf's magnitudes)
}

// Measure runs the protocol's measurements on the first opt.EvalN rows of
// (x, y) (x is [N, In]).
func Measure(s *Subject, x []float64, y []int32, opt Options) *Measurements {
	opt.defaults()
	in := len(x) / len(y)
	N := min(opt.EvalN, len(y))
	setEval(s)
	widths := s.Net.PositionWidths()
	P := len(widths)
	acc := make([]accum, P)
	rng := rand.New(rand.NewPCG(opt.Seed, 7))
	stabPos := (P - 1) / 2
	var batchDirs [][]float64 // mean g per 128-sample batch at stabPos (view)
	flat := struct{ dot, nc, ng float64 }{}
	x32 := make([]float32, opt.Chunk*in)
	for c0 := 0; c0 < N; c0 += opt.Chunk {
		n := min(opt.Chunk, N-c0)
		xc, yc := x[c0*in:(c0+n)*in], y[c0:c0+n]
		net := s.Net
		base := sampleLosses(net.Forward(xc, n), yc)
		net.Loss(yc)
		net.Backward(yc, 1)
		g := copyRows(net.PositionGrads())
		s.Rule.Backward(yc, 1, s.Step)
		cr := copyRows(s.Rule.Credit())
		h := net.Positions()
		// the float32 reference from the same weights
		for i, v := range xc {
			x32[i] = float32(v)
		}
		s.Net32.Forward(x32[:n*in], n)
		s.Net32.Loss(yc)
		s.Net32.Backward(yc, 1)
		g32 := s.Net32.PositionGrads()
		for p := 0; p < P; p++ {
			w := widths[p]
			lay := net.PositionLayout(p)
			a := &acc[p]
			var bsum []float64
			for i := 0; i < n; i++ {
				row := func(v []float64) []float64 { return v[i*w : (i+1)*w] }
				hv, gv, cv := view(row(h[p]), lay, opt.TokenView), view(row(g[p]), lay, opt.TokenView), view(row(cr[p]), lay, opt.TokenView)
				a.h = append(a.h, norm(hv))
				a.g = append(a.g, norm(gv))
				a.c = append(a.c, norm(cv))
				if cos, ok := cosine(cv, gv); ok {
					a.cos = append(a.cos, cos)
				} else {
					a.undef++
				}
				flat.dot += dot(cv, gv)
				flat.nc += dot(cv, cv)
				flat.ng += dot(gv, gv)
				g32v := make([]float64, w)
				for j, v := range g32[p][i*w : (i+1)*w] {
					g32v[j] = float64(v)
				}
				g32view := view(g32v, lay, opt.TokenView)
				if cos, ok := cosine(g32view, gv); ok {
					a.g32cos = append(a.g32cos, cos)
				}
				if ng := norm(gv); ng > 0 {
					d := 0.0
					for j := range gv {
						d += (g32view[j] - gv[j]) * (g32view[j] - gv[j])
					}
					a.g32err = append(a.g32err, math.Sqrt(d)/ng)
				}
				if p == stabPos && !opt.Cheap {
					if bsum == nil || (c0+i)%PaperBatch == 0 {
						bsum = make([]float64, len(gv))
						batchDirs = append(batchDirs, bsum)
					}
					for j, v := range gv {
						bsum[j] += v
					}
				}
			}
		}
		if !opt.Cheap {
			perturb(net, yc, base, h, cr, g, widths, acc, opt, rng)
		}
	}
	m := &Measurements{EvalN: N, Stability: math.NaN(), StabilityPosition: stabPos}
	if net := s.Net; hasTokens(net) {
		m.TokenView = opt.TokenView
	}
	for p := range acc {
		m.Layers = append(m.Layers, acc[p].layer(p))
	}
	m.Aggregate = aggregate(m.Layers, flat.dot, flat.nc, flat.ng)
	if len(batchDirs) >= 2 && N%PaperBatch == 0 {
		m.Stability = stability(batchDirs)
	}
	if al, ok := s.Rule.(rule.Aligned[float64]); ok {
		for _, pr := range al.Pairs() {
			cos, _ := cosine(pr.W, pr.B)
			m.WBAngles = append(m.WBAngles, Angle{pr.Name, math.Acos(math.Max(-1, math.Min(1, cos))) * 180 / math.Pi})
		}
	}
	return m
}

// accum gathers one position's per-sample values across chunks.
type accum struct {
	h, g, c, cos, g32cos, g32err []float64
	undef                        int
	predicted, actual            []float64 // perturbation pairs
	nudge, nudgeBP               []float64
}

func (a *accum) layer(p int) Layer {
	l := Layer{Position: p, HNorm: summarize(a.h), GNorm: summarize(a.g), CNorm: summarize(a.c),
		CosN: len(a.cos), CosUndef: a.undef, Rho: math.NaN(), Nudge: math.NaN(), NudgeBP: math.NaN(),
		G32Cos: median(a.g32cos), G32RelErr: median(a.g32err)}
	l.GNormPaper = l.GNorm.Median / PaperBatch
	l.CosMean, l.CosStd = meanStd(a.cos)
	if len(a.predicted) > 0 {
		l.Rho = pearsonR(a.predicted, a.actual)
	}
	if len(a.nudge) > 0 {
		l.Nudge, _ = meanStd(a.nudge)
		l.NudgeBP, _ = meanStd(a.nudgeBP)
	}
	return l
}

// perturb measures ρ_p and the nudges at every position for one chunk. It
// edits h_p in place and restores it; downstream states are left stale.
func perturb(net model.Credited[float64], y []int32, base []float64, h, credit, g [][]float64, widths []int, acc []accum, opt Options, rng *rand.Rand) {
	n := len(y)
	for p, w := range widths {
		hp := h[p]
		saved := append([]float64(nil), hp...)
		a := &acc[p]
		v := make([]float64, n*w)
		pred := make([]float64, n)
		for range opt.Directions {
			for i := 0; i < n; i++ {
				vi := v[i*w : (i+1)*w]
				for j := range vi {
					vi[j] = rng.NormFloat64()
				}
				vn := norm(vi)
				eps := opt.Epsilon * norm(saved[i*w:(i+1)*w])
				pred[i] = 0
				for j := range vi {
					d := eps * vi[j] / vn
					hp[i*w+j] = saved[i*w+j] + d
					pred[i] += credit[p][i*w+j] * d
				}
			}
			after := sampleLosses(net.ForwardFrom(p), y)
			for i := 0; i < n; i++ {
				a.predicted = append(a.predicted, pred[i])
				a.actual = append(a.actual, after[i]-base[i])
			}
		}
		for k, dir := range [][][]float64{credit, g} {
			counted := make([]bool, n)
			for i := 0; i < n; i++ {
				d := dir[p][i*w : (i+1)*w]
				dn := norm(d)
				step := opt.Eta * norm(saved[i*w:(i+1)*w])
				for j := range d {
					hp[i*w+j] = saved[i*w+j]
					if dn > 0 {
						hp[i*w+j] -= step * d[j] / dn
					}
				}
				counted[i] = dn > 0
			}
			after := sampleLosses(net.ForwardFrom(p), y)
			for i := 0; i < n; i++ {
				if !counted[i] {
					continue
				}
				if k == 0 {
					a.nudge = append(a.nudge, after[i]-base[i])
				} else {
					a.nudgeBP = append(a.nudgeBP, after[i]-base[i])
				}
			}
		}
		copy(hp, saved)
		net.ForwardFrom(p) // restore the downstream states for the next position
	}
}

// sampleLosses is the cross-entropy of each row of logits [len(y), C].
func sampleLosses(logits []float64, y []int32) []float64 {
	C := len(logits) / len(y)
	out := make([]float64, len(y))
	for i := range y {
		r := logits[i*C : (i+1)*C]
		mx := r[0]
		for _, v := range r {
			mx = math.Max(mx, v)
		}
		s := 0.0
		for _, v := range r {
			s += math.Exp(v - mx)
		}
		out[i] = mx + math.Log(s) - r[y[i]]
	}
	return out
}

func copyRows(rows [][]float64) [][]float64 {
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = append([]float64(nil), r...)
	}
	return out
}

func hasTokens(net model.Credited[float64]) bool {
	for p := range net.PositionWidths() {
		if net.PositionLayout(p).Tokens > 0 {
			return true
		}
	}
	return false
}

// view is the per-sample vector a position's norms and cosines use.
func view(row []float64, lay model.Layout, tokenView string) []float64 {
	switch {
	case lay.Tokens > 0:
		D := len(row) / lay.Tokens
		if tokenView != "mean" {
			return row[:D]
		}
		out := make([]float64, D)
		for t := 0; t < lay.Tokens; t++ {
			for j := range out {
				out[j] += row[t*D+j]
			}
		}
		for j := range out {
			out[j] /= float64(lay.Tokens)
		}
		return out
	case lay.Channels > 0:
		hw := lay.Height * lay.Width
		out := make([]float64, lay.Channels)
		for ch := range out {
			s := 0.0
			for _, v := range row[ch*hw : (ch+1)*hw] {
				s += v
			}
			out[ch] = s / float64(hw)
		}
		return out
	}
	return row
}

func aggregate(layers []Layer, fdot, fnc, fng float64) Aggregate {
	var all, deep []float64
	for _, l := range layers {
		if math.IsNaN(l.CosMean) {
			continue
		}
		all = append(all, l.CosMean)
		if l.Position >= 1 {
			deep = append(deep, l.CosMean)
		}
	}
	a := Aggregate{Median: median(all), Flattened: math.NaN()}
	a.MeanAll, _ = meanStd(all)
	a.MeanDeep, _ = meanStd(deep)
	if fnc > 0 && fng > 0 {
		a.Flattened = fdot / math.Sqrt(fnc) / math.Sqrt(fng)
	}
	return a
}

// stability is the mean pairwise cosine between the normalised mean
// reference directions of disjoint batches (§5.6).
func stability(dirs [][]float64) float64 {
	s, n := 0.0, 0
	for i := range dirs {
		for j := i + 1; j < len(dirs); j++ {
			if c, ok := cosine(dirs[i], dirs[j]); ok {
				s += c
				n++
			}
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// setEval puts models with BatchNorm into evaluation mode.
func setEval(s *Subject) {
	if m, ok := s.Net.(model.Stateful[float64]); ok {
		m.SetTraining(false)
	}
	if m, ok := s.Net32.(model.Stateful[float32]); ok {
		m.SetTraining(false)
	}
}
