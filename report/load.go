package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/faudit/faudit/internal/nanjson"
	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/train"
)

// Run is one run directory found under the root.
type Run struct {
	Dir     string // relative to the root, slash-separated ("." for the root itself)
	Path    string // as found on disk
	Config  train.Config
	Result  train.Result
	Metrics []train.EpochMetrics
	// Audit is audit.json, or nil when the run is not audited (AuditNote
	// says why: missing or corrupt).
	Audit     *protocol.Report
	AuditNote string
	// Baseline: a frozen-blocks baseline (train_blocks 0, or under a
	// baselines/ directory).
	Baseline bool
}

// Collection is everything Load found.
type Collection struct {
	Root  string
	Runs  []*Run
	Notes []string // runs skipped or partly read, one line each
}

// Load walks root recursively for run directories (config.json and
// result.json) and reads them. skip, if not "", is a directory not to
// descend into (the report's own output). A corrupt config.json,
// result.json or metrics.jsonl is an error naming the file; a missing or
// corrupt audit.json only marks the run as not audited.
func Load(root, skip string) (*Collection, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("%s: no such directory (expected a directory of faudit runs)", root)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s: not a directory (expected a directory of faudit runs)", root)
	}
	c := &Collection{Root: root}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: cannot read (%v)", path, errors.Unwrap(err))
		}
		if !d.IsDir() {
			return nil
		}
		if skip != "" && sameDir(path, skip) {
			return filepath.SkipDir
		}
		return c.visit(path)
	})
	if err != nil {
		return nil, err
	}
	if len(c.Runs) == 0 {
		return nil, fmt.Errorf("%s: no runs found (expected directories holding config.json and result.json, as faudit train writes)", root)
	}
	sort.Slice(c.Runs, func(i, j int) bool { return c.Runs[i].Dir < c.Runs[j].Dir })
	return c, nil
}

func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// visit reads path if it is a run directory.
func (c *Collection) visit(path string) error {
	hasConfig := exists(filepath.Join(path, train.ConfigFile))
	hasResult := exists(filepath.Join(path, train.ResultFile))
	rel, _ := filepath.Rel(c.Root, path)
	rel = filepath.ToSlash(rel)
	switch {
	case hasConfig && !hasResult:
		c.Notes = append(c.Notes, fmt.Sprintf("%s: skipped, unfinished (no %s yet)", rel, train.ResultFile))
		return nil
	case !hasConfig:
		return nil
	}
	r, err := readRun(path)
	if err != nil {
		return err
	}
	r.Dir = rel
	r.Baseline = r.Config.TrainBlocks == 0 || underBaselines(rel)
	if r.Audit == nil && !r.Baseline { // baselines are comparators, rarely audited
		c.Notes = append(c.Notes, fmt.Sprintf("%s: not audited (%s)", rel, r.AuditNote))
	}
	c.Runs = append(c.Runs, r)
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readRun reads one run directory.
func readRun(path string) (*Run, error) {
	r := &Run{Path: path}
	if err := readJSONFile(filepath.Join(path, train.ConfigFile), &r.Config, "a faudit run config"); err != nil {
		return nil, err
	}
	if err := readJSONFile(filepath.Join(path, train.ResultFile), &r.Result, "a faudit run result"); err != nil {
		return nil, err
	}
	metrics, err := readMetrics(filepath.Join(path, train.MetricsFile))
	if err != nil {
		return nil, err
	}
	r.Metrics = metrics
	r.Audit, r.AuditNote = readAudit(filepath.Join(path, protocol.AuditJSON))
	return r, nil
}

// underBaselines says whether the slash-separated relative path rel passes
// through a baselines/ directory.
func underBaselines(rel string) bool {
	for _, part := range strings.Split(rel, "/") {
		if part == "baselines" {
			return true
		}
	}
	return false
}

// readJSONFile decodes one JSON object; what names the expected content for
// the error message.
func readJSONFile(path string, dst any, what string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: cannot read (%v)", path, errors.Unwrap(err))
	}
	if err := nanjson.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("%s: corrupt JSON (%v); expected %s", path, err, what)
	}
	return nil
}

// readMetrics reads metrics.jsonl (absent: no epochs).
func readMetrics(path string) ([]train.EpochMetrics, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read (%v)", path, errors.Unwrap(err))
	}
	var out []train.EpochMetrics
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var m train.EpochMetrics
		if err := nanjson.Unmarshal(text, &m); err != nil {
			return nil, fmt.Errorf("%s:%d: corrupt line (%v); expected one JSON object per epoch", path, line, err)
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// readAudit reads audit.json; a missing or unreadable one gives nil and the
// reason.
func readAudit(path string) (*protocol.Report, string) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "no " + protocol.AuditJSON
	}
	if err != nil {
		return nil, fmt.Sprintf("cannot read %s: %v", protocol.AuditJSON, errors.Unwrap(err))
	}
	rep := new(protocol.Report)
	if err := nanjson.Unmarshal(b, rep); err != nil {
		return nil, fmt.Sprintf("corrupt %s: %v", protocol.AuditJSON, err)
	}
	if len(rep.Layers) == 0 || rep.Verdict == "" {
		return nil, fmt.Sprintf("%s has no layers or verdict", protocol.AuditJSON)
	}
	return rep, ""
}

// epochAudit decodes the in-training audit record of an epoch (nil if the
// epoch has none or it is unreadable).
func epochAudit(m train.EpochMetrics) *protocol.EpochAudit {
	if len(m.Audit) == 0 || string(m.Audit) == "null" {
		return nil
	}
	a := new(protocol.EpochAudit)
	if nanjson.Unmarshal(m.Audit, a) != nil {
		return nil
	}
	return a
}
