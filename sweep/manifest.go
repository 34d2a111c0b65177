package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/faudit/faudit"
	"github.com/faudit/faudit/internal/atomicfile"
)

// ManifestFile is the file describing a sweep in its --out directory.
const ManifestFile = "sweep.json"

// Manifest is sweep.json: the grid, the command that runs all of it, and
// every cell with its arguments.
type Manifest struct {
	Version string `json:"faudit_version"`
	// Command is the faudit argument list that runs the whole grid (add
	// --shard i/n to run one slice).
	Command []string `json:"command"`
	Grid    Grid     `json:"grid"`
	Cells   []Cell   `json:"cells"`
}

// WriteManifest writes <out>/sweep.json atomically.
func WriteManifest(out string, command []string, g Grid, cells []Cell) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("--out %s: %v", out, err)
	}
	b, _ := json.MarshalIndent(Manifest{faudit.Version, command, g, cells}, "", "  ")
	return atomicfile.WriteFile(filepath.Join(out, ManifestFile), append(b, '\n'))
}

// CheckExisting refuses to continue a tree that holds other work under the
// same cell names: a cell that an earlier sweep.json lists with other
// train or audit arguments, or a run directory whose config.json names
// another arch, rule, seed, λ or k. Without this check a rerun with, say,
// another --epochs would skip cells trained with the old value.
func CheckExisting(out string, cells []Cell) error {
	byName := map[string]Cell{}
	for _, c := range cells {
		byName[c.Name] = c
	}
	mpath := filepath.Join(out, ManifestFile)
	if b, err := os.ReadFile(mpath); err == nil {
		var m Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: corrupt (%v); remove it, or choose another --out", mpath, err)
		}
		for _, old := range m.Cells {
			c, ok := byName[old.Name]
			if !ok {
				continue
			}
			if !slices.Equal(old.Train, c.Train) {
				return fmt.Errorf("%s: cell %s was trained with `%s`, this sweep asks for `%s`; choose another --out (or remove %s)",
					mpath, c.Name, strings.Join(old.Train, " "), strings.Join(c.Train, " "), c.Dir)
			}
			if !slices.Equal(old.Audit, c.Audit) {
				return fmt.Errorf("%s: cell %s was audited with flags `%s`, this sweep asks for `%s`; choose another --out (or audit the runs again with faudit audit)",
					mpath, c.Name, strings.Join(old.Audit, " "), strings.Join(c.Audit, " "))
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %v", mpath, err)
	}
	for _, c := range cells {
		cfg, err := readConfig(c.Dir)
		if err != nil {
			continue // none yet; a corrupt one is the cell's failure, reported by faudit train --resume
		}
		rule, penalty, what := c.Rule, c.Penalty, "this sweep's cell"
		if c.Frozen != nil { // the frozen-blocks baseline the k = 0 cell is
			rule, penalty, what = c.Frozen.Rule, c.Frozen.Penalty, "the frozen-blocks baseline of cell "+c.Name
		}
		if cfg.Model.Arch != c.Arch || cfg.Rule != rule || cfg.Seed != c.Seed || cfg.Penalty != penalty || cfg.TrainBlocks != c.TrainBlocks {
			return fmt.Errorf("%s holds a run of arch %s, rule %s, seed %d, penalty %g, train-blocks %d, not %s; choose another --out (or remove it)",
				c.Dir, cfg.Model.Arch, cfg.Rule, cfg.Seed, cfg.Penalty, cfg.TrainBlocks, what)
		}
	}
	return nil
}
