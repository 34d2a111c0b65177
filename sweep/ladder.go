package sweep

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/train"
)

// Rung is one row of the depth ladder: the runs that train only the last K
// blocks, over seeds.
type Rung struct {
	Arch, Rule string
	Penalty    float64
	K          int
	Accs       []float64 // test accuracy of each seed with a result.json
	Seeds      int       // seeds in the grid
	Mean, Std  float64   // over Accs; Std with ddof=1 (NaN for one seed)
	Gain       float64   // Mean − the K = 0 rung's Mean, in percentage points (NaN if either is missing)
}

// Ladder reads the results of the cells and groups them into rungs by
// (arch, rule, λ, k), in that order.
func Ladder(cells []Cell) []Rung {
	type key struct {
		arch, rule string
		pen        float64
		k          int
	}
	byKey := map[key]*Rung{}
	var rungs []*Rung
	for _, c := range cells {
		k := key{c.Arch, c.Rule, c.Penalty, c.TrainBlocks}
		r := byKey[k]
		if r == nil {
			r = &Rung{Arch: c.Arch, Rule: c.Rule, Penalty: c.Penalty, K: c.TrainBlocks}
			byKey[k] = r
			rungs = append(rungs, r)
		}
		r.Seeds++
		var res train.Result
		if b, err := os.ReadFile(filepath.Join(c.Dir, train.ResultFile)); err == nil && json.Unmarshal(b, &res) == nil {
			r.Accs = append(r.Accs, res.TestAcc)
		}
	}
	slices.SortStableFunc(rungs, func(a, b *Rung) int {
		return cmp.Or(cmp.Compare(a.Arch, b.Arch), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Penalty, b.Penalty), cmp.Compare(a.K, b.K))
	})
	for _, r := range rungs {
		r.Mean, r.Std = protocol.MeanStd(r.Accs)
	}
	out := make([]Rung, len(rungs))
	for i, r := range rungs {
		r.Gain = math.NaN()
		if base := byKey[key{r.Arch, r.Rule, r.Penalty, 0}]; base != nil {
			r.Gain = 100 * (r.Mean - base.Mean)
		}
		out[i] = *r
	}
	return out
}

// WriteLadder prints the rungs as a table, one block per (arch, rule, λ);
// blocks is L, the number of blocks of the architecture.
func WriteLadder(w io.Writer, rungs []Rung, blocks int) {
	for i, r := range rungs {
		if i == 0 || r.Arch != rungs[i-1].Arch || r.Rule != rungs[i-1].Rule || r.Penalty != rungs[i-1].Penalty {
			pen := ""
			if r.Penalty != 0 {
				pen = ", penalty " + formatFloat(r.Penalty)
			}
			fmt.Fprintf(w, "\ndepth ladder: %s, rule %s%s, %d seed(s); k = 0 is the frozen-blocks baseline (bp)\n", r.Arch, r.Rule, pen, r.Seeds)
			fmt.Fprintf(w, "  %3s  %-14s  %-17s  %s\n", "k", "trained blocks", "test accuracy", "gain over k=0")
		}
		acc := "—"
		switch {
		case len(r.Accs) == 1:
			acc = fmt.Sprintf("%.4f", r.Mean)
		case len(r.Accs) > 1:
			acc = fmt.Sprintf("%.4f ± %.4f", r.Mean, r.Std)
		}
		if len(r.Accs) > 0 && len(r.Accs) < r.Seeds {
			acc += fmt.Sprintf(" (%d/%d)", len(r.Accs), r.Seeds)
		}
		gain := "—"
		if r.K == 0 {
			gain = "(baseline)"
		} else if !math.IsNaN(r.Gain) {
			gain = fmt.Sprintf("%+.2f pp", r.Gain)
		}
		trained := fmt.Sprintf("%d of %d", r.K, blocks)
		if r.K < 0 {
			trained = "all"
		}
		fmt.Fprintf(w, "  %3d  %-14s  %-17s  %s\n", r.K, trained, acc, gain)
	}
}
