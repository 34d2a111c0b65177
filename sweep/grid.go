package sweep

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/faudit/faudit/rule"
	"github.com/faudit/faudit/train"
)

// Grid is a sweep: the axes, and the fixed `faudit train` and `faudit
// audit` flags every cell shares.
type Grid struct {
	Archs       []string  `json:"archs"`
	Rules       []string  `json:"rules"`
	Seeds       []uint64  `json:"seeds"`
	Penalties   []float64 `json:"penalties"`
	TrainBlocks []int     `json:"train_blocks"`
	// Args are the fixed `faudit train` flags (e.g. --epochs 3), in order.
	Args []string `json:"args"`
	// AuditArgs are the fixed `faudit audit` flags (e.g. --eval-n 512).
	AuditArgs []string `json:"audit_args"`
}

// Cell is one grid point: one run directory (for a k = 0 cell, the
// frozen-blocks baseline directory it is; see ResolveFrozen).
type Cell struct {
	Index       int     `json:"index"` // position in the sorted grid
	Name        string  `json:"name"`  // directory name under the sweep's --out
	Dir         string  `json:"dir"`
	Arch        string  `json:"arch"`
	Rule        string  `json:"rule"`
	Seed        uint64  `json:"seed"`
	Penalty     float64 `json:"penalty"`
	TrainBlocks int     `json:"train_blocks"`
	// Train is the cell's `faudit train` argument list (without the command
	// name and without --out).
	Train []string `json:"train_args"`
	// Audit is the cell's `faudit audit` flags (without the directory and
	// without --baseline).
	Audit []string `json:"audit_args"`
	// Frozen is set on a k = 0 cell by ResolveFrozen: the cell is then the
	// frozen-blocks baseline of its recipe, this config (without version,
	// backend and GOMAXPROCS, which the training fills in), and Dir is that
	// baseline's directory, protocol.BaselineDir, which the D3 of the
	// cell's k ≠ 0 siblings uses too. Until then (and on every other cell)
	// it is nil and Dir is <out>/<Name>.
	Frozen *train.Config `json:"frozen_recipe,omitempty"`
}

// TrainArgv is the full argument list of the child `faudit train` process.
func (c Cell) TrainArgv() []string {
	return append(append([]string{"train"}, c.Train...), "--out", c.Dir)
}

// AuditArgv is the full argument list of the child `faudit audit` process;
// baseline, if not empty, is the frozen-blocks baseline to compare with. A
// frozen-blocks baseline cell (Frozen set) is audited with --no-baseline:
// it is not compared with itself.
func (c Cell) AuditArgv(baseline string) []string {
	a := append([]string{"audit"}, c.Audit...)
	switch {
	case c.Frozen != nil:
		a = append(a, "--no-baseline")
	case baseline != "":
		a = append(a, "--baseline", baseline)
	}
	return append(a, c.Dir)
}

// Validate reports the first bad axis: empty, a repeated value, or a value
// out of range. It does not check the fixed flags (faudit train does).
func (g Grid) Validate() error {
	switch {
	case len(g.Archs) == 0:
		return fmt.Errorf("archs: expected at least one architecture")
	case len(g.Rules) == 0:
		return fmt.Errorf("rules: expected at least one rule")
	case len(g.Seeds) == 0:
		return fmt.Errorf("seeds: expected at least one seed")
	case len(g.Penalties) == 0:
		return fmt.Errorf("penalties: expected at least one λ")
	case len(g.TrainBlocks) == 0:
		return fmt.Errorf("train blocks: expected at least one k")
	}
	for _, a := range g.Archs {
		if a == "" || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return fmt.Errorf("arch %q: expected a name of lower-case letters and digits (resmlp, mlp, vit, cnn)", a)
		}
	}
	for _, r := range g.Rules {
		if _, ok := rule.Descriptions[r]; !ok {
			return fmt.Errorf("rule %q: unknown rule; expected one of %s", r, strings.Join(rule.Names(), ", "))
		}
	}
	for _, p := range g.Penalties {
		if !(p >= 0) || math.IsInf(p, 0) {
			return fmt.Errorf("penalty %v: expected a finite λ ≥ 0", p)
		}
	}
	for _, k := range g.TrainBlocks {
		if k < -1 {
			return fmt.Errorf("train blocks %d: expected −1 (all) or a count ≥ 0", k)
		}
	}
	if err := distinct("archs", g.Archs, func(s string) string { return s }); err != nil {
		return err
	}
	if err := distinct("rules", g.Rules, func(s string) string { return s }); err != nil {
		return err
	}
	if err := distinct("seeds", g.Seeds, func(s uint64) string { return strconv.FormatUint(s, 10) }); err != nil {
		return err
	}
	if err := distinct("penalties", g.Penalties, formatFloat); err != nil {
		return err
	}
	return distinct("train blocks", g.TrainBlocks, strconv.Itoa)
}

func distinct[T any](axis string, vs []T, key func(T) string) error {
	seen := map[string]bool{}
	for _, v := range vs {
		k := key(v)
		if seen[k] {
			return fmt.Errorf("%s: %s appears twice", axis, k)
		}
		seen[k] = true
	}
	return nil
}

// formatFloat is the shortest decimal form that reads back as v (%g style).
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Size is the number of cells.
func (g Grid) Size() int {
	return len(g.Archs) * len(g.Rules) * len(g.Seeds) * len(g.Penalties) * len(g.TrainBlocks)
}

// Cells expands the grid into its cells under out, sorted by (arch, rule,
// seed, λ, k), with Index their position. Call Validate first.
func (g Grid) Cells(out string) []Cell {
	var cells []Cell
	for _, a := range g.Archs {
		for _, r := range g.Rules {
			for _, s := range g.Seeds {
				for _, p := range g.Penalties {
					for _, k := range g.TrainBlocks {
						cells = append(cells, Cell{Arch: a, Rule: r, Seed: s, Penalty: p + 0, TrainBlocks: k})
					}
				}
			}
		}
	}
	slices.SortFunc(cells, func(x, y Cell) int {
		return cmp.Or(cmp.Compare(x.Arch, y.Arch), cmp.Compare(x.Rule, y.Rule), cmp.Compare(x.Seed, y.Seed),
			cmp.Compare(x.Penalty, y.Penalty), cmp.Compare(x.TrainBlocks, y.TrainBlocks))
	})
	for i := range cells {
		c := &cells[i]
		c.Index = i
		c.Name = fmt.Sprintf("%s-%s-s%d", c.Arch, c.Rule, c.Seed)
		if len(g.Penalties) > 1 || c.Penalty != 0 {
			c.Name += "-pen" + formatFloat(c.Penalty)
		}
		if len(g.TrainBlocks) > 1 || c.TrainBlocks != -1 {
			c.Name += "-k" + strconv.Itoa(c.TrainBlocks)
		}
		c.Dir = filepath.Join(out, c.Name)
		c.Train = append(slices.Clone(g.Args), "--arch", c.Arch, "--rule", c.Rule, "--seed", strconv.FormatUint(c.Seed, 10))
		if c.Penalty != 0 {
			c.Train = append(c.Train, "--penalty", formatFloat(c.Penalty))
		}
		if c.TrainBlocks != -1 {
			c.Train = append(c.Train, "--train-blocks", strconv.Itoa(c.TrainBlocks))
		}
		c.Audit = slices.Clone(g.AuditArgs)
	}
	return cells
}

// ParseStrings splits a comma-separated list (spaces around items ignored).
func ParseStrings(flag, s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, fmt.Errorf("%s %q: expected a comma-separated list without empty items", flag, s)
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseSeeds parses a comma-separated list of seeds (integers ≥ 0).
func ParseSeeds(flag, s string) ([]uint64, error) {
	return parseList(flag, s, "seeds (integers ≥ 0), e.g. 1,2,3", func(f string) (uint64, error) { return strconv.ParseUint(f, 10, 64) })
}

// ParsePenalties parses a comma-separated list of λ values (finite, ≥ 0).
func ParsePenalties(flag, s string) ([]float64, error) {
	return parseList(flag, s, "finite λ values ≥ 0, e.g. 0,1e-4,1e-2", func(f string) (float64, error) {
		v, err := strconv.ParseFloat(f, 64)
		if err == nil && (!(v >= 0) || math.IsInf(v, 0)) {
			err = fmt.Errorf("out of range")
		}
		return v + 0, err
	})
}

// ParseTrainBlocks parses a comma-separated list of k values (−1 or ≥ 0).
func ParseTrainBlocks(flag, s string) ([]int, error) {
	return parseList(flag, s, "block counts (−1 = all, or ≥ 0), e.g. -1,0,2", func(f string) (int, error) {
		v, err := strconv.Atoi(f)
		if err == nil && v < -1 {
			err = fmt.Errorf("out of range")
		}
		return v, err
	})
}

func parseList[T any](flag, s, want string, parse func(string) (T, error)) ([]T, error) {
	items, err := ParseStrings(flag, s)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(items))
	for i, f := range items {
		if out[i], err = parse(f); err != nil {
			return nil, fmt.Errorf("%s %q: %q is not valid; expected comma-separated %s", flag, s, f, want)
		}
	}
	return out, nil
}
