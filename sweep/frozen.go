package sweep

import (
	"fmt"
	"path/filepath"

	"github.com/faudit/faudit/data"
	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/train"
)

// ResolveFrozen makes every k = 0 cell the frozen-blocks baseline of its
// recipe: it sets the cell's Frozen to protocol.FrozenRecipe of the cell's
// config and its Dir to protocol.BaselineDir, the directory the D3 of the
// cell's k ≠ 0 siblings compares with. settled returns the config `faudit
// train` would start the cell with (its Train arguments parsed and
// settled). ResolveFrozen completes it as training does before it writes
// config.json, with the input size, shape and class count of the data
// (each data spec read once, two samples of it), so the name agrees with
// the one protocol.BaselineDir gives for a sibling's config.json.
//
// A cell that cannot be resolved keeps Frozen nil and its Dir; the first
// such error is returned, the other cells are resolved regardless. Run
// refuses unresolved k = 0 cells.
func ResolveFrozen(cells []Cell, settled func(Cell) (train.Config, error)) error {
	type shape struct {
		in, classes int
		shape       [3]int
		err         error
	}
	shapes := map[string]shape{}
	var first error
	for i := range cells {
		c := &cells[i]
		if c.TrainBlocks != 0 || c.Frozen != nil {
			continue
		}
		cfg, err := settled(*c)
		if err == nil {
			s, ok := shapes[cfg.Data]
			if !ok {
				ds, err := data.Load(cfg.Data, data.Options{TrainN: 1, TestN: 1, Seed: cfg.Seed})
				if err != nil {
					s.err = err
				} else {
					s = shape{in: ds.Dim(), classes: ds.Classes, shape: ds.Shape}
				}
				shapes[cfg.Data] = s
			}
			err = s.err
			cfg.Model.In, cfg.Model.Shape, cfg.Model.Classes = s.in, s.shape, s.classes
		}
		if err != nil {
			if first == nil {
				first = fmt.Errorf("cell %s: cannot name its frozen-blocks baseline, which takes the input shape from the data: %v", c.Name, err)
			}
			continue
		}
		f := protocol.FrozenRecipe(cfg)
		f.Version, f.Backend, f.GoMaxProcs = "", "", 0
		c.Frozen = &f
		c.Dir = protocol.BaselineDir(c.Dir, cfg)
	}
	return first
}

// frozenName is a frozen cell's directory relative to the sweep's
// directory: baselines/frozen-<hash>.
func frozenName(c Cell) string {
	return filepath.Join(filepath.Base(filepath.Dir(c.Dir)), filepath.Base(c.Dir))
}

// Label is how the log and --list name a cell: its name, and for a
// frozen-blocks baseline cell the baseline directory it is.
func (c Cell) Label() string {
	if c.Frozen != nil {
		return c.Name + " → " + frozenName(c)
	}
	return c.Name
}
