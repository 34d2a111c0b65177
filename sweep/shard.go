package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/train"
)

// Shard is slice I of N of a grid: the cells whose index mod N is I.
type Shard struct{ I, N int }

// All is the whole grid as one shard.
var All = Shard{0, 1}

// ParseShard parses "i/n" with 0 ≤ i < n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("--shard %q: expected i/n, e.g. 0/4 (the first of four shards)", s)
	}
	if n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard %q: expected 0 ≤ i < n", s)
	}
	return Shard{i, n}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// Select returns the cells of the shard, in order.
func (s Shard) Select(cells []Cell) []Cell {
	var out []Cell
	for _, c := range cells {
		if c.Index%s.N == s.I {
			out = append(out, c)
		}
	}
	return out
}

// Status is how far a cell's run directory has got.
type Status int

// The states of a cell, in order.
const (
	New     Status = iota // nothing there yet: train afresh
	Partial               // config.json but no result.json: resume training
	Trained               // result.json but no audit.json: audit
	Done                  // audit.json: skip
)

func (s Status) String() string {
	return [...]string{"new", "partial", "trained", "done"}[s]
}

// StatusOf reads a cell's state from its run directory.
func StatusOf(dir string) Status {
	switch {
	case exists(filepath.Join(dir, protocol.AuditJSON)):
		return Done
	case exists(filepath.Join(dir, train.ResultFile)):
		return Trained
	case exists(filepath.Join(dir, train.ConfigFile)):
		return Partial
	}
	return New
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
