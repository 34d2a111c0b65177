package protocol

import (
	"encoding/json"

	"github.com/faudit/faudit/internal/nanjson"
	"github.com/faudit/faudit/train"
)

// EpochAudit is the cheap audit recorded in metrics.jsonl by
// faudit train --audit-every N: D1, D2 and M2 with the per-position Γ.
type EpochAudit struct {
	D1        float64   `json:"d1"`
	D1Pass    bool      `json:"d1_pass"`
	D2        float64   `json:"d2_g_norm_paper"`
	D2RelErr  float64   `json:"d2_rel_err"`
	D2Pass    bool      `json:"d2_pass"`
	M2        float64   `json:"m2_ratio"`
	M2Pass    bool      `json:"m2_pass"`
	HNorm     []float64 `json:"h_norm"` // median per position
	GNorm     []float64 `json:"g_norm"` // median per position, summed loss
	Gamma     []float64 `json:"gamma"`  // Γ_p per position
	Aggregate float64   `json:"gamma_mean_all"`
}

// CheapAudit measures a training snapshot (D1, D2, M2 and Γ per position,
// without ρ, nudging and stability) and says which checks fail.
func CheapAudit(s *Subject, x []float64, y []int32, precision string, opt Options, th Thresholds) (EpochAudit, []string) {
	opt.Cheap = true
	m := Measure(s, x, y, opt)
	checks := map[string]Check{"D1": D1(m, th), "D2": D2(m, precision, th), "M2": M2(m, th)}
	a := EpochAudit{D1: checks["D1"].Value, D1Pass: checks["D1"].Pass, D2: checks["D2"].Criteria["paper"].Value,
		D2RelErr: checks["D2"].Criteria["precision"].Value, D2Pass: checks["D2"].Pass, M2: checks["M2"].Value,
		M2Pass: checks["M2"].Pass, Aggregate: m.Aggregate.MeanAll}
	for _, l := range m.Layers {
		a.HNorm = append(a.HNorm, l.HNorm.Median)
		a.GNorm = append(a.GNorm, l.GNorm.Median)
		a.Gamma = append(a.Gamma, l.CosMean)
	}
	var failed []string
	for _, k := range CheckNames {
		if c, ok := checks[k]; ok && c.Ran && !c.Pass {
			failed = append(failed, k)
		}
	}
	return a, failed
}

// JSON encodes the record for metrics.jsonl (NaN as null).
func (a EpochAudit) JSON() json.RawMessage {
	b, _ := nanjson.Marshal(a)
	return b
}

// TrainingAudit is the hook faudit train --audit-every installs: it
// rebuilds each snapshot in float64 and runs CheapAudit on the first
// cfg.AuditN test samples (default 512).
func TrainingAudit(opt Options, th Thresholds) func(train.Snapshot) (json.RawMessage, []string, error) {
	var x []float64
	var y []int32
	return func(s train.Snapshot) (json.RawMessage, []string, error) {
		if x == nil {
			n := s.Config.AuditN
			if n == 0 {
				n = 512
			}
			var err error
			if x, y, err = evalSet(s.Config, n); err != nil {
				return nil, nil, err
			}
			opt.EvalN = n
		}
		sub, err := NewSubject(s.Config, s.Tensors, s.Step)
		if err != nil {
			return nil, nil, err
		}
		a, failed := CheapAudit(sub, x, y, s.Config.Precision, opt, th)
		return a.JSON(), failed, nil
	}
}
