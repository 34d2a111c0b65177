package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/faudit/faudit/internal/atomicfile"
	"github.com/faudit/faudit/sweep"
	"github.com/faudit/faudit/train"
)

// sweepSettings are the values the sweep and ladder flags write into. The
// train and audit flags are the very flags of `faudit train` and `faudit
// audit`: whichever the user sets are passed to every cell's child process.
type sweepSettings struct {
	ladder                                      bool
	fs                                          *flag.FlagSet
	trainNames, auditNames                      map[string]bool
	archs, rules, seeds, penalties, trainBlocks string
	grid                                        string
	jobs                                        int
	shard                                       string
	list                                        bool
	emit                                        string
	shards, cpus, parallelism, retries          int
	jobName, time, image, pvc, mount, bin       string
}

var sweepDest *sweepSettings

func sweepFlags() *flag.FlagSet  { return gridFlags(false) }
func ladderFlags() *flag.FlagSet { return gridFlags(true) }

// The train flags that are grid axes (or the sweep's own directory), never
// passed to the cells as fixed settings.
var axisFlags = map[string]string{"arch": "archs", "rule": "rules", "seed": "seeds", "penalty": "penalties", "train-blocks": "train-blocks-list", "out": ""}

// emitFlags apply only with --emit.
var emitFlags = []string{"shards", "job-name", "cpus-per-task", "time", "image", "pvc", "mount", "parallelism", "retries", "bin"}

func gridFlags(ladder bool) *flag.FlagSet {
	s := &sweepSettings{ladder: ladder, trainNames: map[string]bool{}, auditNames: map[string]bool{}}
	sweepDest = s
	name := "sweep"
	if ladder {
		name = "ladder"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	s.fs = fs
	trainFlags().VisitAll(func(f *flag.Flag) {
		usage := f.Usage
		switch f.Name {
		case "resume":
			return // a sweep resumes by itself
		case "out":
			usage = "directory of the " + name + ": one run directory per cell, sweep.json and baselines/; rerun the same command to continue"
			if ladder {
				usage += " (\"\": runs/ladder-<arch>-<rule>)"
			} else {
				f.Value.Set(filepath.Join("runs", "sweep"))
			}
		case "train-blocks":
			if ladder {
				return // the ladder's axis: k = 0 … L
			}
			usage += " (one value; --train-blocks-list for several)"
		case "audit-every":
			f.Value.Set("1") // D1/D2 against epoch, for the report
			usage = strings.Replace(usage, "(0: never)", "(0: never; a sweep records every epoch unless told otherwise)", 1)
		case "arch", "rule", "seed", "penalty":
			usage += fmt.Sprintf(" (one value; --%s for several)", axisFlags[f.Name])
		}
		fs.Var(f.Value, f.Name, usage)
		s.trainNames[f.Name] = true
	})
	auditFlags().VisitAll(func(f *flag.Flag) {
		if f.Name == "baseline" || f.Name == "json" {
			return
		}
		fs.Var(f.Value, f.Name, "audit: "+f.Usage)
		s.auditNames[f.Name] = true
	})
	fs.StringVar(&s.archs, "archs", "", "grid: comma-separated architectures (default: --arch)")
	fs.StringVar(&s.rules, "rules", "", "grid: comma-separated rules (default: --rule)")
	fs.StringVar(&s.seeds, "seeds", "", "grid: comma-separated seeds (default: --seed)")
	fs.StringVar(&s.penalties, "penalties", "", "grid: comma-separated scale penalties λ (default: --penalty)")
	if !ladder {
		fs.StringVar(&s.trainBlocks, "train-blocks-list", "", "grid: comma-separated train-blocks values k (default: --train-blocks)")
	}
	fs.StringVar(&s.grid, "grid", "", `grid file (JSON): {"archs":[…],"rules":[…],"seeds":[…],"penalties":[…],"train_blocks":[…],"args":["--epochs","3",…]}; the axes it sets must not be given as flags too`)
	fs.IntVar(&s.jobs, "jobs", 0, "cells run at a time (0: min(CPUs, pending cells)); each child gets GOMAXPROCS = CPUs/jobs")
	fs.StringVar(&s.shard, "shard", "", "run only slice i/n of the grid: the cells whose index mod n is i (0 ≤ i < n)")
	fs.BoolVar(&s.list, "list", false, "print the cells (index, state, directory, train command) and exit")
	fs.StringVar(&s.emit, "emit", "", "write a cluster job that runs the shards instead of running: slurm (<out>/sweep.slurm) or k8s (<out>/sweep-k8s.yaml)")
	fs.IntVar(&s.shards, "shards", 0, "--emit: number of shards (0: one per cell)")
	fs.StringVar(&s.jobName, "job-name", "faudit-"+name, "--emit: job name")
	fs.IntVar(&s.cpus, "cpus-per-task", 2, "--emit: CPUs per shard (Slurm --cpus-per-task, Kubernetes cpu request and limit)")
	fs.StringVar(&s.time, "time", "", "--emit slurm: time limit per shard, e.g. 04:00:00 (default: the partition's)")
	fs.StringVar(&s.image, "image", "faudit:latest", "--emit k8s: container image with faudit on its PATH")
	fs.StringVar(&s.pvc, "pvc", "", "--emit k8s: PersistentVolumeClaim all shards write to (required)")
	fs.StringVar(&s.mount, "mount", "/results", "--emit k8s: where the claim is mounted and the working directory; a relative --out lands under it")
	fs.IntVar(&s.parallelism, "parallelism", 0, "--emit k8s: pods at a time (0: all shards)")
	fs.IntVar(&s.retries, "retries", 1, "--emit k8s: retries of a failed shard (backoffLimitPerIndex)")
	fs.StringVar(&s.bin, "bin", "faudit", "--emit: the faudit command on the cluster")
	return fs
}

func runSweep(ctx context.Context, _ *flag.FlagSet) error  { return runGrid(ctx, sweepDest) }
func runLadder(ctx context.Context, _ *flag.FlagSet) error { return runGrid(ctx, sweepDest) }

// plan is a resolved sweep: the grid and where it goes.
type plan struct {
	command    string // sweep or ladder
	grid       sweep.Grid
	out        string
	noBaseline bool
	blocks     map[string]int // L of each arch
	// cells are the grid's cells, the k = 0 ones resolved to the frozen-blocks
	// baseline they are (sweep.ResolveFrozen); frozenErr says why some are not
	// (the data could not be read here).
	cells     []sweep.Cell
	frozenErr error
}

// args is the faudit argument list that runs the whole plan with its
// results in out.
func (p *plan) args(out string) []string {
	g := p.grid
	a := []string{p.command, "--archs", strings.Join(g.Archs, ","), "--rules", strings.Join(g.Rules, ",")}
	a = append(a, "--seeds", joinFunc(g.Seeds, func(v uint64) string { return strconv.FormatUint(v, 10) }))
	a = append(a, "--penalties", joinFunc(g.Penalties, func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }))
	if p.command == "sweep" {
		a = append(a, "--train-blocks-list", joinFunc(g.TrainBlocks, strconv.Itoa))
	}
	a = append(append(a, g.Args...), g.AuditArgs...)
	return append(a, "--out", out)
}

func joinFunc[T any](vs []T, f func(T) string) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = f(v)
	}
	return strings.Join(s, ",")
}

func runGrid(ctx context.Context, s *sweepSettings) error {
	p, err := resolve(s)
	if err != nil {
		return badInput(err)
	}
	cells := p.cells
	shard := sweep.All
	if s.shard != "" {
		if shard, err = sweep.ParseShard(s.shard); err != nil {
			return badInput(err)
		}
	}
	mine := shard.Select(cells)
	switch {
	case s.list:
		fmt.Printf("%s: %d cells under %s", p.command, len(cells), p.out)
		if s.shard != "" {
			fmt.Printf(", shard %s: %d of them", shard, len(mine))
		}
		fmt.Println()
		if p.frozenErr != nil {
			fmt.Printf("note: %v\n", p.frozenErr)
		}
		for _, c := range mine {
			switch {
			case c.Frozen != nil:
				fmt.Printf("%4d  %-7s  %s  the frozen-blocks baseline of the recipe (bp, k = 0), trained once; audited without D3\n",
					c.Index, sweep.StatusOf(c.Dir), filepath.Join(p.out, c.Label()))
			case c.TrainBlocks == 0:
				fmt.Printf("%4d  %-7s  %s → baselines/frozen-?  the frozen-blocks baseline of the recipe, not named here (see the note)\n",
					c.Index, "?", c.Dir)
			default:
				fmt.Printf("%4d  %-7s  %s  faudit %s\n", c.Index, sweep.StatusOf(c.Dir), c.Dir, sweep.ShellJoin(c.TrainArgv()))
			}
		}
		return nil
	case s.emit != "":
		// Unresolved k = 0 cells are fine here: each shard names them
		// where the data is.
		if err := sweep.CheckExisting(p.out, cells); err != nil {
			return badInput(err)
		}
		return emit(s, p, cells)
	}
	if p.frozenErr != nil {
		return badInput(p.frozenErr)
	}
	if err := sweep.CheckExisting(p.out, cells); err != nil {
		return badInput(err)
	}
	if err := sweep.WriteManifest(p.out, p.args(p.out), p.grid, cells); err != nil {
		return err
	}
	if s.shard != "" {
		fmt.Printf("%s shard %s: %d of %d cells\n", p.command, shard, len(mine), len(cells))
	}
	_, err = sweep.Run(ctx, mine, sweep.Options{Jobs: s.jobs, NoBaseline: p.noBaseline, Log: os.Stdout})
	if p.command == "ladder" && !errors.Is(err, train.ErrInterrupted) {
		sweep.WriteLadder(os.Stdout, sweep.Ladder(cells), p.blocks[p.grid.Archs[0]])
	}
	return err
}

// resolve turns the flags (and the --grid file) into a plan, and checks
// every cell's train settings as `faudit train` would.
func resolve(s *sweepSettings) (*plan, error) {
	fs := s.fs
	p := &plan{command: fs.Name(), blocks: map[string]int{}}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if s.jobs < 0 {
		return nil, fmt.Errorf("--jobs %d: expected ≥ 0 (0: as many as the CPUs allow)", s.jobs)
	}
	if s.emit == "" {
		for _, name := range emitFlags {
			if set[name] {
				return nil, fmt.Errorf("--%s applies only with --emit slurm|k8s", name)
			}
		}
	} else if s.list || s.shard != "" || set["jobs"] {
		return nil, fmt.Errorf("--emit writes a job that runs every shard; drop --list, --shard and --jobs")
	}

	// The --grid file: axes and fixed flags.
	var file struct {
		Archs       []string  `json:"archs"`
		Rules       []string  `json:"rules"`
		Seeds       []uint64  `json:"seeds"`
		Penalties   []float64 `json:"penalties"`
		TrainBlocks []int     `json:"train_blocks"`
		Args        []string  `json:"args"`
	}
	fixed := map[string]string{} // flag name → value, from the file and the command line
	fileSet := map[string]bool{}
	if s.grid != "" {
		b, err := os.ReadFile(s.grid)
		if err != nil {
			return nil, fmt.Errorf("--grid %s: %v", s.grid, errors.Unwrap(err))
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&file); err != nil {
			return nil, fmt.Errorf("--grid %s: %v (expected {\"archs\":[…],\"rules\":[…],\"seeds\":[…],\"penalties\":[…],\"train_blocks\":[…],\"args\":[…]})", s.grid, err)
		}
		ffs := gridFlags(s.ladder)
		ffs.SetOutput(io.Discard)
		if err := ffs.Parse(file.Args); err != nil {
			return nil, fmt.Errorf("--grid %s: args: %v", s.grid, err)
		}
		if ffs.NArg() > 0 {
			return nil, fmt.Errorf("--grid %s: args: unexpected argument %q", s.grid, ffs.Arg(0))
		}
		var bad string
		ffs.Visit(func(f *flag.Flag) {
			if _, axis := axisFlags[f.Name]; axis || (!s.trainNames[f.Name] && !s.auditNames[f.Name]) {
				bad = f.Name
			}
			fixed[f.Name], fileSet[f.Name] = flagArg(f), true
		})
		if bad != "" {
			return nil, fmt.Errorf("--grid %s: args: --%s is not a fixed train or audit flag (axes go in their own fields, --out on the command line)", s.grid, bad)
		}
	}

	// Axes: the list flag, the one-value train flag, or the file; at most one.
	var err error
	axis := func(plural, singular string, fromFile bool, parse func(string) error) error {
		var from []string
		if set[plural] {
			from = append(from, "--"+plural)
		}
		if set[singular] {
			from = append(from, "--"+singular)
		}
		if fromFile {
			from = append(from, "--grid "+s.grid)
		}
		if len(from) > 1 {
			return fmt.Errorf("%s: the %s axis is given twice; use one", strings.Join(from, " and "), plural)
		}
		switch {
		case set[plural]:
			return parse(fs.Lookup(plural).Value.String())
		case fromFile:
			return nil
		}
		return parse(fs.Lookup(singular).Value.String())
	}
	g := &p.grid
	g.Archs, g.Rules, g.Seeds, g.Penalties, g.TrainBlocks = file.Archs, file.Rules, file.Seeds, file.Penalties, file.TrainBlocks
	if err = axis("archs", "arch", file.Archs != nil, func(v string) (e error) { g.Archs, e = sweep.ParseStrings("--archs", v); return }); err != nil {
		return nil, err
	}
	if err = axis("rules", "rule", file.Rules != nil, func(v string) (e error) { g.Rules, e = sweep.ParseStrings("--rules", v); return }); err != nil {
		return nil, err
	}
	if err = axis("seeds", "seed", file.Seeds != nil, func(v string) (e error) { g.Seeds, e = sweep.ParseSeeds("--seeds", v); return }); err != nil {
		return nil, err
	}
	if err = axis("penalties", "penalty", file.Penalties != nil, func(v string) (e error) { g.Penalties, e = sweep.ParsePenalties("--penalties", v); return }); err != nil {
		return nil, err
	}
	if s.ladder {
		if file.TrainBlocks != nil {
			return nil, fmt.Errorf("--grid %s: the ladder sets train_blocks itself (k = 0 … L); drop it", s.grid)
		}
		if len(g.Archs) != 1 {
			return nil, fmt.Errorf("--archs %s: the ladder takes one architecture", strings.Join(g.Archs, ","))
		}
	} else if err = axis("train-blocks-list", "train-blocks", file.TrainBlocks != nil, func(v string) (e error) {
		g.TrainBlocks, e = sweep.ParseTrainBlocks("--train-blocks-list", v)
		return
	}); err != nil {
		return nil, err
	}

	// Fixed train and audit flags: the file's and the command line's.
	var dup string
	fs.Visit(func(f *flag.Flag) {
		if _, isAxis := axisFlags[f.Name]; isAxis || (!s.trainNames[f.Name] && !s.auditNames[f.Name]) {
			return
		}
		if fileSet[f.Name] {
			dup = f.Name
		}
		fixed[f.Name] = flagArg(f)
	})
	if dup != "" {
		return nil, fmt.Errorf("--%s is set both in --grid %s and on the command line; set it once", dup, s.grid)
	}
	if _, ok := fixed["audit-every"]; !ok {
		fixed["audit-every"] = flagArg(fs.Lookup("audit-every")) // the sweep's default (gridFlags): D1/D2 against epoch for the report
	}
	names := make([]string, 0, len(fixed))
	for n := range fixed {
		names = append(names, n)
	}
	slices.Sort(names)
	g.Args, g.AuditArgs = []string{}, []string{}
	for _, n := range names {
		words := strings.Split(fixed[n], "\x00")
		if s.trainNames[n] {
			g.Args = append(g.Args, words...)
		} else {
			g.AuditArgs = append(g.AuditArgs, words...)
		}
	}
	p.noBaseline = fixed["no-baseline"] == "--no-baseline=true"

	// The train settings of every cell, checked as faudit train checks them.
	for _, a := range g.Archs {
		cfg, err := cellConfig(append(slices.Clone(g.Args), "--arch", a))
		if err != nil {
			return nil, err
		}
		p.blocks[a] = cfg.Model.NumBlocks()
	}
	if s.ladder {
		g.TrainBlocks = nil
		for k := range p.blocks[g.Archs[0]] + 1 {
			g.TrainBlocks = append(g.TrainBlocks, k)
		}
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	p.out = fs.Lookup("out").Value.String()
	if p.out == "" && s.ladder {
		p.out = filepath.Join("runs", fmt.Sprintf("ladder-%s-%s", g.Archs[0], strings.Join(g.Rules, "+")))
	}
	if p.out == "" {
		return nil, fmt.Errorf("--out: expected a directory")
	}
	p.cells = g.Cells(p.out)
	settled := make([]train.Config, len(p.cells))
	for i, c := range p.cells {
		if L := p.blocks[c.Arch]; c.TrainBlocks > L {
			return nil, fmt.Errorf("train blocks %d: %s has %d blocks here", c.TrainBlocks, c.Arch, L)
		}
		if settled[i], err = cellConfig(c.Train); err != nil {
			return nil, fmt.Errorf("cell %s: %v", c.Name, err)
		}
	}
	// A k = 0 cell is the frozen-blocks baseline of its recipe, in the
	// directory protocol.BaselineDir names (see the sweep package doc).
	p.frozenErr = sweep.ResolveFrozen(p.cells, func(c sweep.Cell) (train.Config, error) { return settled[c.Index], nil })
	return p, nil
}

// flagArg is the flag as command-line words joined by NUL: --name=value for
// a boolean flag (its only unambiguous form), --name and value otherwise.
func flagArg(f *flag.Flag) string {
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "--" + f.Name + "=" + f.Value.String()
	}
	return "--" + f.Name + "\x00" + f.Value.String()
}

// cellConfig parses a cell's train arguments with faudit train's own flags
// and settles and validates them as runTrain does, so a bad setting is
// reported once, before any child starts.
func cellConfig(args []string) (train.Config, error) {
	fs := trainFlags()
	s := trainDest
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return train.Config{}, err
	}
	c, err := trainConfig(s)
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

// emit writes the Slurm script or the Kubernetes manifest that runs the
// plan's shards, and sweep.json.
func emit(s *sweepSettings, p *plan, cells []sweep.Cell) error {
	n := s.shards
	if n == 0 {
		n = len(cells)
	}
	switch {
	case n < 1 || n > len(cells):
		return badInput(fmt.Errorf("--shards %d: expected 1 … %d (the number of cells)", n, len(cells)))
	case s.cpus < 1:
		return badInput(fmt.Errorf("--cpus-per-task %d: expected ≥ 1", s.cpus))
	case s.parallelism < 0 || s.retries < 0:
		return badInput(fmt.Errorf("--parallelism %d / --retries %d: expected ≥ 0", s.parallelism, s.retries))
	case s.bin == "" || s.jobName == "":
		return badInput(fmt.Errorf("--bin and --job-name must not be empty"))
	}
	job := sweep.ClusterJob{Bin: s.bin, Shards: n, Cells: len(cells), Name: s.jobName, CPUs: s.cpus}
	var path, text, submit, where string
	switch s.emit {
	case "slurm":
		abs, err := filepath.Abs(p.out)
		if err != nil {
			return err
		}
		cwd, err := os.Getwd()
		if err != nil {
			return err
		}
		job.Args = p.args(abs)
		logs := filepath.Join(abs, "logs")
		if err := os.MkdirAll(logs, 0o755); err != nil { // sbatch needs it to exist
			return badInput(fmt.Errorf("--out %s: %v", p.out, err))
		}
		path, submit, where = filepath.Join(p.out, "sweep.slurm"), "sbatch", abs
		text = sweep.Slurm(job, sweep.SlurmOptions{Time: s.time, Chdir: cwd, LogDir: logs})
	case "k8s":
		out := filepath.Clean(p.out)
		mount := filepath.Clean(s.mount)
		where = filepath.Join(mount, out)
		if filepath.IsAbs(out) {
			if out != mount && !strings.HasPrefix(out, mount+"/") {
				return badInput(fmt.Errorf("--out %s is not under --mount %s: the results would stay in the pods; use a relative --out or one under %s", p.out, s.mount, s.mount))
			}
			where = out
		}
		job.Args = p.args(p.out)
		par := s.parallelism
		if par == 0 {
			par = n
		}
		var err error
		text, err = sweep.K8s(job, sweep.K8sOptions{Image: s.image, PVC: s.pvc, Mount: mount, Parallelism: min(par, n), Retries: s.retries})
		if err != nil {
			return badInput(err)
		}
		path, submit = filepath.Join(p.out, "sweep-k8s.yaml"), "kubectl apply -f"
		where = "the claim " + s.pvc + ", at " + where + " in the pods"
	default:
		return badInput(fmt.Errorf("--emit %q: expected slurm or k8s", s.emit))
	}
	if err := sweep.WriteManifest(p.out, p.args(p.out), p.grid, cells); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, []byte(text)); err != nil {
		return err
	}
	if s.emit == "slurm" {
		os.Chmod(path, 0o755)
	}
	fmt.Printf("wrote %s: %d cells in %d shards; results land in %s\nsubmit with: %s %s\n", path, len(cells), n, where, submit, sweep.ShellQuote(path))
	return nil
}
