package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/faudit/faudit"
	"github.com/faudit/faudit/internal/atomicfile"
	"github.com/faudit/faudit/internal/blas"
	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/train"
)

// LogFile is the file in each run directory (and baseline directory) that
// collects the output of the cell's child processes.
const LogFile = "sweep.log"

// Options configure Run.
type Options struct {
	// Exe is the faudit binary the children run (default: os.Executable()).
	Exe string
	// Env is the children's environment (default: os.Environ()); Run sets
	// GOMAXPROCS in it per child.
	Env []string
	// Jobs is the number of concurrent children (0: min(CPUs, pending cells)).
	Jobs int
	// CPUs is the number of CPUs to fill (0: runtime.GOMAXPROCS(0), which
	// follows the CPU affinity mask and, from Go 1.25 on, a cgroup CPU limit).
	CPUs int
	// NoBaseline: the audits skip D3 (the cells' audit flags must then
	// include --no-baseline) and no baseline is trained but those that k = 0
	// cells are.
	NoBaseline bool
	// Log gets one line per event (nil: discard).
	Log io.Writer
}

// Failure is a cell that did not finish.
type Failure struct {
	Cell  Cell
	Stage string // train, baseline or audit
	Err   string // what went wrong: usually the last line of the child's stderr
}

// Summary is what Run did.
type Summary struct {
	Cells      int // cells given
	Skipped    int // already audited before Run
	Finished   int // audited by this Run
	Failed     []Failure
	Jobs       int // concurrent children
	GoMaxProcs int // GOMAXPROCS of each child
}

// Run brings every given cell to the audited state, running the pending
// jobs with a pool of child processes (see the package doc). It returns an
// error wrapping train.ErrInterrupted when ctx is cancelled, and an error
// listing the failed cells when some failed; the others are finished
// either way.
func Run(ctx context.Context, cells []Cell, opt Options) (*Summary, error) {
	if opt.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("cannot find the faudit binary to run the cells: %v", err)
		}
		opt.Exe = exe
	}
	if opt.Env == nil {
		opt.Env = os.Environ()
	}
	if opt.CPUs <= 0 {
		opt.CPUs = runtime.GOMAXPROCS(0)
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	r := &runner{opt: opt, bases: map[string]*baseRun{}, t0: time.Now(), total: len(cells)}
	r.cond = sync.NewCond(&r.mu)
	runs := make([]*cellRun, len(cells))
	pending := 0
	for i, c := range cells {
		if c.TrainBlocks == 0 && c.Frozen == nil {
			return nil, fmt.Errorf("cell %s: a k = 0 cell is the frozen-blocks baseline of its recipe; name it with ResolveFrozen first", c.Name)
		}
		runs[i] = &cellRun{Cell: c, status: StatusOf(c.Dir)}
		if runs[i].status != Done {
			pending++
		}
	}
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = max(1, min(opt.CPUs, pending))
	}
	r.gmp = max(1, opt.CPUs/jobs)
	r.sum = Summary{Cells: len(cells), Jobs: jobs, GoMaxProcs: r.gmp}
	fmt.Fprintf(opt.Log, "sweep: %d cells, %d to do; %d job(s) at a time, GOMAXPROCS=%d each\n", len(cells), pending, jobs, r.gmp)
	frozen := map[string]*cellRun{} // baseline directory → the frozen cell that brings it to Done
	for _, c := range runs {
		switch {
		case c.status == Done:
			r.sum.Skipped++
			r.done++
			r.logf("skipped  %s (already audited)", c.Label())
		case c.Frozen != nil:
			// A k = 0 cell is its recipe's frozen-blocks baseline, trained
			// by the baseline job; cells with the same recipe (other
			// rules, other λ) share the directory and follow the first.
			if p := frozen[c.Dir]; p != nil {
				p.twins = append(p.twins, c)
				continue
			}
			frozen[c.Dir] = c
			r.awaitBaseline(c, c.Dir, *c.Frozen) // audits it at once if trained
		case c.status == Trained:
			r.afterTrain(c)
		default:
			r.push(job{kind: trainJob, cell: c})
		}
	}
	stop := context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.stopped = true
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer stop()
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			for {
				j, ok := r.next()
				if !ok {
					return
				}
				r.run(ctx, j)
			}
		})
	}
	wg.Wait()
	sum := &r.sum
	if ctx.Err() != nil {
		return sum, fmt.Errorf("%w: %d of %d cells done; rerun the same command to continue (finished cells are skipped, interrupted ones resume)",
			train.ErrInterrupted, sum.Skipped+sum.Finished, sum.Cells)
	}
	fmt.Fprintf(opt.Log, "sweep: %d cells: %d finished now, %d already done, %d failed, in %s\n",
		sum.Cells, sum.Finished, sum.Skipped, len(sum.Failed), r.elapsed())
	if len(sum.Failed) > 0 {
		names := make([]string, len(sum.Failed))
		for i, f := range sum.Failed {
			names[i] = f.Cell.Name
			fmt.Fprintf(opt.Log, "failed: %s (%s): %s\n", f.Cell.Name, f.Stage, f.Err)
		}
		return sum, fmt.Errorf("%d of %d cells failed: %s (rerun the same command to retry them)", len(sum.Failed), sum.Cells, strings.Join(names, ", "))
	}
	return sum, nil
}

type jobKind int

// Job kinds in order of priority: finishing cells first.
const (
	auditJob jobKind = iota
	baselineJob
	trainJob
)

type job struct {
	kind jobKind
	cell *cellRun // audit, train
	base *baseRun // baseline
}

func (j job) order() int {
	if j.cell != nil {
		return j.cell.Index
	}
	return j.base.first
}

type cellRun struct {
	Cell
	status   Status
	baseline string     // the frozen-blocks baseline the audit compares with ("": none, or the cell is one)
	twins    []*cellRun // frozen cells of the same baseline directory, finished (or failed) with this one
}

// baseRun is one frozen-blocks baseline and the cells waiting for it.
type baseRun struct {
	dir     string
	recipe  train.Config
	first   int    // index of the first cell that needs it (for ordering)
	cell    string // the frozen cell that is this baseline, if one asked for it first
	done    bool
	failed  string
	waiting []*cellRun
}

type runner struct {
	opt     Options
	gmp     int
	t0      time.Time
	mu      sync.Mutex
	cond    *sync.Cond
	ready   []job
	running int
	stopped bool
	bases   map[string]*baseRun
	sum     Summary
	done    int // cells accounted for: skipped, finished or failed
	total   int
	logMu   sync.Mutex
}

func (r *runner) elapsed() string { return time.Since(r.t0).Truncate(100 * time.Millisecond).String() }

// logf writes one progress line; r.mu must be held (done is read).
func (r *runner) logf(format string, args ...any) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	fmt.Fprintf(r.opt.Log, "[%d/%d %s] %s\n", r.done, r.total, r.elapsed(), fmt.Sprintf(format, args...))
}

// push queues a job (r.mu held, or before the workers start).
func (r *runner) push(j job) {
	i, _ := slices.BinarySearchFunc(r.ready, j, func(a, b job) int {
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		return a.order() - b.order()
	})
	r.ready = slices.Insert(r.ready, i, j)
	r.cond.Broadcast()
}

// next blocks until a job is ready; false when there is none left to run
// or the context was cancelled.
func (r *runner) next() (job, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.ready) == 0 && r.running > 0 && !r.stopped {
		r.cond.Wait()
	}
	if r.stopped || len(r.ready) == 0 {
		return job{}, false
	}
	j := r.ready[0]
	r.ready = r.ready[1:]
	r.running++
	return j, true
}

func (r *runner) run(ctx context.Context, j job) {
	defer func() {
		r.mu.Lock()
		r.running--
		r.cond.Broadcast()
		r.mu.Unlock()
	}()
	switch j.kind {
	case trainJob:
		c := j.cell
		argv, gmp := c.TrainArgv(), r.gmp
		r.mu.Lock()
		if c.status == Partial {
			argv = []string{"train", "--resume", c.Dir}
			gmp, _ = r.resumeProcs(c.Dir) // a bad config.json is train --resume's to report
			r.logf("resume   %s (unfinished: config.json, no result.json)", c.Name)
		} else {
			r.logf("train    %s", c.Name)
		}
		r.mu.Unlock()
		if err := os.MkdirAll(c.Dir, 0o755); err != nil {
			r.failCell(ctx, c, "train", err)
			return
		}
		if err := r.exec(ctx, argv, gmp, filepath.Join(c.Dir, LogFile)); err != nil {
			r.failCell(ctx, c, "train", err)
			return
		}
		r.afterTrain(c)
	case baselineJob:
		b := j.base
		r.mu.Lock()
		if b.cell != "" {
			r.logf("baseline %s (frozen blocks, bp; the k = 0 cell %s)", b.dir, b.cell)
		} else {
			r.logf("baseline %s (frozen blocks, bp)", b.dir)
		}
		r.mu.Unlock()
		err := r.trainBaseline(ctx, b)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			b.failed = "frozen-blocks baseline " + b.dir + ": " + err.Error()
			if ctx.Err() == nil {
				r.logf("FAILED   baseline %s: %v", b.dir, err)
			}
		} else {
			b.done = true
		}
		for _, c := range b.waiting {
			if b.done {
				r.push(job{kind: auditJob, cell: c})
			} else {
				r.fail(ctx, c, "baseline", b.failed)
			}
		}
		b.waiting = nil
	case auditJob:
		c := j.cell
		r.mu.Lock()
		r.logf("audit    %s", c.Label())
		r.mu.Unlock()
		if err := r.exec(ctx, c.AuditArgv(c.baseline), r.gmp, filepath.Join(c.Dir, LogFile)); err != nil {
			r.failCell(ctx, c, "audit", err)
			return
		}
		var a struct {
			Verdict  string  `json:"verdict"`
			Accuracy float64 `json:"accuracy"`
		}
		b, _ := os.ReadFile(filepath.Join(c.Dir, protocol.AuditJSON))
		json.Unmarshal(b, &a)
		r.mu.Lock()
		for _, t := range append([]*cellRun{c}, c.twins...) {
			r.sum.Finished++
			r.done++
			r.logf("finished %s: test_acc %.4f, verdict %s", t.Label(), a.Accuracy, a.Verdict)
		}
		r.mu.Unlock()
	}
}

// afterTrain queues the audit of a trained cell, after its baseline.
func (r *runner) afterTrain(c *cellRun) {
	var dir string
	var recipe train.Config
	cfg, err := readConfig(c.Dir)
	if err == nil && !r.opt.NoBaseline && cfg.TrainBlocks != 0 { // (k = 0 cells are baselines and never trained here)
		dir, recipe = protocol.BaselineDir(c.Dir, cfg), protocol.FrozenRecipe(cfg)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.fail(nil, c, "audit", err.Error())
		return
	}
	c.baseline = dir
	if dir == "" {
		r.push(job{kind: auditJob, cell: c})
		return
	}
	r.awaitBaseline(c, dir, recipe)
}

// awaitBaseline queues the audit of c once the frozen-blocks baseline in
// dir is finished, first queueing the baseline's training unless another
// cell already did (r.mu held, or before the workers start). For a frozen
// cell, dir is its own directory.
func (r *runner) awaitBaseline(c *cellRun, dir string, recipe train.Config) {
	if exists(filepath.Join(dir, train.ResultFile)) {
		r.push(job{kind: auditJob, cell: c})
		return
	}
	b := r.bases[dir]
	if b == nil {
		b = &baseRun{dir: dir, recipe: recipe, first: c.Index}
		r.bases[dir] = b
		r.push(job{kind: baselineJob, base: b})
	}
	if c.Frozen != nil && b.cell == "" {
		b.cell = c.Name
	}
	switch {
	case b.done:
		r.push(job{kind: auditJob, cell: c})
	case b.failed != "":
		r.fail(nil, c, "baseline", b.failed)
	default:
		b.waiting = append(b.waiting, c)
	}
}

func (r *runner) failCell(ctx context.Context, c *cellRun, stage string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail(ctx, c, stage, err.Error())
}

// fail records a failed cell (r.mu held); a child stopped by a cancelled
// context is interrupted, not failed.
func (r *runner) fail(ctx context.Context, c *cellRun, stage, msg string) {
	if ctx != nil && ctx.Err() != nil {
		r.logf("stopped  %s (%s interrupted)", c.Name, stage)
		return
	}
	for _, t := range append([]*cellRun{c}, c.twins...) {
		r.sum.Failed = append(r.sum.Failed, Failure{t.Cell, stage, msg})
		r.done++
		r.logf("FAILED   %s (%s): %s", t.Label(), stage, msg)
	}
}

// resumeProcs is the GOMAXPROCS to resume the run in dir with: the one it
// started with (r.gmp if its config.json does not say, or cannot be read:
// the error), so it ends bit-identical to an uninterrupted run and
// config.json stays true.
func (r *runner) resumeProcs(dir string) (int, error) {
	cfg, err := readConfig(dir)
	if err == nil && cfg.GoMaxProcs > 0 {
		return cfg.GoMaxProcs, nil
	}
	return r.gmp, err
}

func readConfig(dir string) (train.Config, error) {
	var cfg train.Config
	b, err := os.ReadFile(filepath.Join(dir, train.ConfigFile))
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: corrupt config (%v)", filepath.Join(dir, train.ConfigFile), err)
	}
	return cfg, nil
}

// trainBaseline makes b.dir a finished frozen-blocks baseline: trained in a
// private temporary directory from protocol.FrozenRecipe's config, then
// renamed into place (see the package doc).
func (r *runner) trainBaseline(ctx context.Context, b *baseRun) error {
	if exists(filepath.Join(b.dir, train.ResultFile)) {
		return nil // another shard finished it meanwhile
	}
	if gmp, err := r.resumeProcs(b.dir); err == nil {
		// Left unfinished by an interrupted stand-alone `faudit audit`,
		// which trains baselines in place: finish it there.
		return r.exec(ctx, []string{"train", "--resume", b.dir}, gmp, filepath.Join(b.dir, LogFile))
	}
	parent, base := filepath.Dir(b.dir), filepath.Base(b.dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	host, _ := os.Hostname()
	prefix := "." + base + ".tmp-" + host + "-"
	removeStaleTemps(parent, prefix)
	tmp, err := os.MkdirTemp(parent, prefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return err
	}
	os.Chmod(tmp, 0o755) // MkdirTemp's 0700 would stay on the renamed directory
	cfg := b.recipe
	cfg.Version, cfg.Backend, cfg.GoMaxProcs = faudit.Version, blas.Backend, r.gmp
	js, _ := json.MarshalIndent(cfg, "", "  ")
	err = atomicfile.WriteFile(filepath.Join(tmp, train.ConfigFile), append(js, '\n'))
	if err == nil {
		// --resume of a directory holding only config.json trains from epoch 1.
		err = r.exec(ctx, []string{"train", "--resume", tmp}, r.gmp, filepath.Join(tmp, LogFile))
	}
	if err == nil && !exists(filepath.Join(tmp, train.ResultFile)) {
		err = errors.New("training ended without result.json")
	}
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, b.dir); err != nil {
		os.RemoveAll(tmp)
		if exists(filepath.Join(b.dir, train.ResultFile)) {
			return nil // another shard's copy won the race
		}
		return err
	}
	return nil
}

// removeStaleTemps deletes the temporary baseline directories that this
// host's processes which no longer run left behind (a kill -9).
func removeStaleTemps(parent, prefix string) {
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
}

// childError is a child process that did not succeed.
type childError struct {
	argv []string
	code int // exit status, −1 when killed by a signal
	last string
}

func (e *childError) Error() string {
	how := fmt.Sprintf("exit %d", e.code)
	if e.code < 0 {
		how = "killed by a signal"
	}
	if e.last == "" {
		return fmt.Sprintf("faudit %s: %s", e.argv[0], how)
	}
	return fmt.Sprintf("%s: %s", how, e.last)
}

// exec runs `faudit argv…` with GOMAXPROCS=gmp, appending its output to
// logPath.
func (r *runner) exec(ctx context.Context, argv []string, gmp int, logPath string) error {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "\n$ GOMAXPROCS=%d faudit %s  # %s\n", gmp, ShellJoin(argv), time.Now().Format(time.RFC3339))
	tail := &lastLine{}
	cmd := exec.CommandContext(ctx, r.opt.Exe, argv...)
	cmd.Env = setEnv(r.opt.Env, "GOMAXPROCS", strconv.Itoa(gmp))
	cmd.Stdout = f
	cmd.Stderr = io.MultiWriter(f, tail)
	// The children stay in the sweep's process group, so a terminal's Ctrl-C
	// or a kill of the group reaches them too; Pdeathsig kills them should
	// the sweep die alone. Pdeathsig follows the thread that forked, hence
	// the locked thread for the child's lifetime.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) } // train checkpoints and exits 130
	cmd.WaitDelay = time.Minute
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return &childError{argv, ee.ExitCode(), tail.String()}
		}
		return err
	}
	return nil
}

// setEnv returns env with key set to value.
func setEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// lastLine keeps the last non-empty line written to it.
type lastLine struct {
	mu   sync.Mutex
	cur  []byte
	last string
}

func (l *lastLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range p {
		if b == '\n' {
			if s := strings.TrimSpace(string(l.cur)); s != "" {
				l.last = s
			}
			l.cur = l.cur[:0]
		} else if len(l.cur) < 4096 {
			l.cur = append(l.cur, b)
		}
	}
	return len(p), nil
}

func (l *lastLine) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := strings.TrimSpace(string(l.cur)); s != "" {
		return s
	}
	return l.last
}
