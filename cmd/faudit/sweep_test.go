package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/sweep"
	"github.com/faudit/faudit/train"
)

// tiny is one cheap run and a cheap audit; the grid axes come on top.
var tiny = []string{"--data", "synthetic:16", "--train-n", "800", "--test-n", "200", "--d", "32", "--blocks", "2", "--batch", "50",
	"--epochs", "1", "--audit-n", "200", "--eval-n", "200", "--directions", "2"}

// sweepEnv fixes the machine size the sweep sees: 2 CPUs.
var sweepEnv = []string{"GOMAXPROCS=2"}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// A 2 rules × 2 seeds sweep through the real binary: every cell trained
// (with per-epoch audits) and audited, one baseline per recipe, bit-identical
// to the one `faudit audit` trains itself; a rerun skips everything, and a
// rerun with other settings is refused.
func TestSweepEndToEnd(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sw")
	args := append([]string{"sweep", "--rules", "dfa,bp", "--seeds", "2,1", "--out", out}, tiny...)
	start := time.Now()
	o := runFaudit(t, sweepEnv, args...)
	if o.code != 0 {
		t.Fatalf("sweep: exit %d\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	t.Logf("4-cell sweep in %v", time.Since(start))
	if !strings.Contains(o.stdout, "2 job(s) at a time, GOMAXPROCS=1 each") || strings.Count(o.stdout, "finished resmlp-") != 4 {
		t.Errorf("sweep log:\n%s", o.stdout)
	}
	var m sweep.Manifest
	readJSON(t, filepath.Join(out, sweep.ManifestFile), &m)
	if len(m.Cells) != 4 || m.Command[0] != "sweep" {
		t.Fatalf("sweep.json: %d cells, command %q", len(m.Cells), m.Command)
	}
	names := []string{"resmlp-bp-s1", "resmlp-bp-s2", "resmlp-dfa-s1", "resmlp-dfa-s2"}
	for i, name := range names {
		dir := filepath.Join(out, name)
		if m.Cells[i].Name != name {
			t.Errorf("cell %d is %q, want %q", i, m.Cells[i].Name, name)
		}
		var cfg train.Config
		readJSON(t, filepath.Join(dir, train.ConfigFile), &cfg)
		if cfg.Rule != strings.Split(name, "-")[1] || cfg.Seed != uint64(name[len(name)-1]-'0') || cfg.GoMaxProcs != 1 || cfg.AuditEvery != 1 || cfg.Epochs != 1 {
			t.Errorf("%s: config rule %s seed %d gomaxprocs %d audit_every %d epochs %d", name, cfg.Rule, cfg.Seed, cfg.GoMaxProcs, cfg.AuditEvery, cfg.Epochs)
		}
		var rep struct {
			Verdict   string   `json:"verdict"`
			FrozenAcc *float64 `json:"frozen_acc"`
			FrozenDir string   `json:"frozen_dir"`
		}
		readJSON(t, filepath.Join(dir, "audit.json"), &rep)
		wantBase := filepath.Join(out, "baselines", filepath.Base(rep.FrozenDir))
		if rep.Verdict == "" || rep.FrozenAcc == nil || rep.FrozenDir != wantBase {
			t.Errorf("%s: audit verdict %q, frozen_acc %v, frozen_dir %q", name, rep.Verdict, rep.FrozenAcc, rep.FrozenDir)
		}
		if metrics, _ := os.ReadFile(filepath.Join(dir, train.MetricsFile)); !bytes.Contains(metrics, []byte(`"audit":`)) {
			t.Errorf("%s: metrics.jsonl has no per-epoch audit record", name)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(out, "baselines"))
	if len(ents) != 2 || !strings.HasPrefix(ents[0].Name(), "frozen-") || !strings.HasPrefix(ents[1].Name(), "frozen-") {
		t.Errorf("baselines/: %v; want two frozen-* (one per seed, shared by the rules)", ents)
	}
	// `faudit audit` on a copy of a cell trains its own baseline, in
	// process, under the same name: the same weights bit for bit.
	other := filepath.Join(t.TempDir(), "r")
	os.MkdirAll(other, 0o755)
	for _, f := range []string{train.ConfigFile, train.CheckpointFile, train.MetricsFile, train.ResultFile} {
		b, _ := os.ReadFile(filepath.Join(out, "resmlp-dfa-s1", f))
		os.WriteFile(filepath.Join(other, f), b, 0o644)
	}
	if o := runFaudit(t, []string{"GOMAXPROCS=1"}, "audit", other, "--eval-n", "200", "--directions", "2"); o.code != 0 {
		t.Fatalf("audit of the copy: %d %s", o.code, o.stderr)
	}
	var rep struct {
		FrozenDir string `json:"frozen_dir"`
	}
	readJSON(t, filepath.Join(other, "audit.json"), &rep)
	a, _ := os.ReadFile(filepath.Join(rep.FrozenDir, train.CheckpointFile))
	b, _ := os.ReadFile(filepath.Join(out, "baselines", filepath.Base(rep.FrozenDir), train.CheckpointFile))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the sweep's baseline %s differs from the one faudit audit trains", filepath.Base(rep.FrozenDir))
	}

	o = runFaudit(t, sweepEnv, args...)
	if o.code != 0 || !strings.Contains(o.stdout, "0 finished now, 4 already done, 0 failed") {
		t.Errorf("rerun: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	changed := append(slices.Clone(args), "--lr", "0.01")
	o = runFaudit(t, sweepEnv, changed...)
	if o.code != 2 || !strings.Contains(o.stderr, "choose another --out") || strings.Count(o.stderr, "\n") != 1 {
		t.Errorf("rerun with another --lr: exit %d, %q; want exit 2 and one line", o.code, o.stderr)
	}
}

// Killing a sweep (kill -9 of its process group) and running it again
// finishes only what is missing: the finished cell is skipped, untouched.
func TestSweepKillAndRerun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sw")
	args := []string{"sweep", "--rules", "bp,dfa", "--seeds", "1,2", "--jobs", "1", "--out", out,
		"--data", "synthetic:16", "--train-n", "4000", "--test-n", "200", "--d", "64", "--blocks", "2", "--batch", "50",
		"--epochs", "4", "--audit-n", "200", "--eval-n", "200", "--directions", "2"}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "FAUDIT_TEST_MAIN=1"), sweepEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var so bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &so
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first, second := filepath.Join(out, "resmlp-bp-s1"), filepath.Join(out, "resmlp-bp-s2")
	// Kill once the first cell is audited and the second is mid-training
	// (an epoch checkpointed, no result yet), so the rerun must resume it.
	deadline := time.Now().Add(60 * time.Second)
	for !fileExists(filepath.Join(first, "audit.json")) || !fileExists(filepath.Join(second, train.CheckpointFile)) {
		if time.Now().After(deadline) || fileExists(filepath.Join(second, train.ResultFile)) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	if !fileExists(filepath.Join(first, "audit.json")) {
		t.Fatalf("no audit.json for the first cell:\n%s", so.String())
	}
	cells := []string{"resmlp-bp-s1", "resmlp-bp-s2", "resmlp-dfa-s1", "resmlp-dfa-s2"}
	status := map[string]sweep.Status{}
	for _, c := range cells {
		status[c] = sweep.StatusOf(filepath.Join(out, c))
	}
	if status["resmlp-dfa-s2"] == sweep.Done {
		t.Fatalf("the sweep finished before it was killed; the test needs bigger runs:\n%s", so.String())
	}
	files := []string{train.ConfigFile, train.CheckpointFile, train.MetricsFile, train.ResultFile, "audit.json", "audit.md"}
	before := map[string][]byte{}
	mtime := map[string]time.Time{}
	for _, f := range files {
		before[f], _ = os.ReadFile(filepath.Join(first, f))
		st, _ := os.Stat(filepath.Join(first, f))
		mtime[f] = st.ModTime()
	}
	o := runFaudit(t, sweepEnv, args...)
	if o.code != 0 {
		t.Fatalf("rerun: exit %d\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	if !strings.Contains(o.stdout, "skipped  resmlp-bp-s1 (already audited)") || strings.Contains(o.stdout, "train    resmlp-bp-s1") {
		t.Errorf("the rerun did not skip the finished cell:\n%s", o.stdout)
	}
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(first, f))
		st, _ := os.Stat(filepath.Join(first, f))
		if len(b) == 0 || !bytes.Equal(b, before[f]) || !st.ModTime().Equal(mtime[f]) {
			t.Errorf("the finished cell's %s was rewritten", f)
		}
	}
	for _, c := range cells {
		if !fileExists(filepath.Join(out, c, "audit.json")) {
			t.Errorf("%s has no audit.json after the rerun", c)
		}
		if status[c] == sweep.Partial && !strings.Contains(o.stdout, "resume   "+c) {
			t.Errorf("%s was killed mid-training but the rerun did not resume it:\n%s", c, o.stdout)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(out, "baselines"))
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "frozen-") {
			t.Errorf("baselines/ still holds %s", e.Name())
		}
	}
	t.Logf("killed with states %v", status)
	if status["resmlp-bp-s2"] != sweep.Partial {
		t.Logf("note: the kill missed the second cell's training; the resume path went untested this time")
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// A cell that fails is reported with its error, the others finish, and the
// sweep exits 1 naming it.
func TestSweepFailedCellContinues(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sw")
	bad := filepath.Join(out, "resmlp-bp-s1")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, train.ConfigFile), []byte("{not json"), 0o644)
	o := runFaudit(t, sweepEnv, append([]string{"sweep", "--seeds", "1,2", "--out", out, "--no-baseline"}, tiny...)...)
	if o.code != 1 || strings.TrimSpace(o.stderr) != "faudit sweep: 1 of 2 cells failed: resmlp-bp-s1 (rerun the same command to retry them)" {
		t.Errorf("exit %d, stderr %q", o.code, o.stderr)
	}
	if !strings.Contains(o.stdout, "FAILED   resmlp-bp-s1 (train): exit 2: faudit train: "+filepath.Join(bad, train.ConfigFile)+": corrupt config") {
		t.Errorf("stdout lacks the failure with its reason:\n%s", o.stdout)
	}
	if !fileExists(filepath.Join(out, "resmlp-bp-s2", "audit.json")) {
		t.Error("the other cell did not finish")
	}
}

// The depth ladder: k = 0 … L with L = --blocks, accuracy mean ± std over
// seeds and the gain over k = 0. The k = 0 cell is the frozen-blocks
// baseline of its recipe: no run directory of its own, one frozen directory
// per seed, the one the k ≥ 1 cells' D3 compares with, audited without D3;
// the report shows one frozen group.
func TestLadder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ld")
	args := append([]string{"ladder", "--rule", "dfa", "--seeds", "1,2", "--out", out}, tiny...)
	o := runFaudit(t, sweepEnv, append(args, "--list")...)
	if o.code != 0 || strings.Count(o.stdout, "new      "+filepath.Join(out, "resmlp-dfa-s")) != 6 ||
		strings.Count(o.stdout, "-k0 → "+filepath.Join("baselines", "frozen-")) != 2 {
		t.Fatalf("ladder --list: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	o = runFaudit(t, sweepEnv, args...)
	if o.code != 0 {
		t.Fatalf("ladder: exit %d\n%s\n%s", o.code, o.stdout, o.stderr)
	}
	var man sweep.Manifest
	readJSON(t, filepath.Join(out, sweep.ManifestFile), &man)
	frozen := map[uint64]string{} // seed → the k = 0 cell's directory
	for _, c := range man.Cells {
		if c.TrainBlocks == 0 {
			frozen[c.Seed] = c.Dir
			if filepath.Dir(c.Dir) != filepath.Join(out, "baselines") || c.Frozen == nil || c.Frozen.Rule != "bp" {
				t.Errorf("k = 0 cell %s: dir %s, frozen recipe %v", c.Name, c.Dir, c.Frozen)
			}
		}
	}
	means := map[int]float64{}
	for k := range 3 {
		var accs []float64
		for _, s := range []uint64{1, 2} {
			dir := filepath.Join(out, fmt.Sprintf("resmlp-dfa-s%d-k%d", s, k))
			if k == 0 {
				if fileExists(dir) {
					t.Errorf("%s exists: the k = 0 cell was trained as a run of its own", dir)
				}
				dir = frozen[s]
			}
			var res train.Result
			readJSON(t, filepath.Join(dir, train.ResultFile), &res)
			var rep struct {
				Verdict   string   `json:"verdict"`
				FrozenAcc *float64 `json:"frozen_acc"`
				FrozenDir string   `json:"frozen_dir"`
			}
			readJSON(t, filepath.Join(dir, "audit.json"), &rep)
			switch {
			case res.TrainBlocks != k:
				t.Errorf("k=%d seed %d: result train_blocks %d", k, s, res.TrainBlocks)
			case k == 0 && (res.Rule != "bp" || rep.FrozenAcc != nil || rep.FrozenDir != "" || strings.Contains(rep.Verdict, "D3")):
				t.Errorf("seed %d: the baseline is %s, audited with verdict %s against %q", s, res.Rule, rep.Verdict, rep.FrozenDir)
			case k > 0 && rep.FrozenDir != frozen[s]:
				t.Errorf("k=%d seed %d: D3 against %q, not the k = 0 cell %s", k, s, rep.FrozenDir, frozen[s])
			}
			accs = append(accs, res.TestAcc)
		}
		m, sd := protocol.MeanStd(accs)
		means[k] = m
		gain := "(baseline)"
		if k > 0 {
			gain = fmt.Sprintf("%+.2f pp", 100*(m-means[0]))
		}
		row := fmt.Sprintf("  %3d  %-14s  %-17s  %s\n", k, fmt.Sprintf("%d of 2", k), fmt.Sprintf("%.4f ± %.4f", m, sd), gain)
		if !strings.Contains(o.stdout, row) {
			t.Errorf("ladder table lacks the row %q:\n%s", row, o.stdout)
		}
	}
	if !strings.Contains(o.stdout, "depth ladder: resmlp, rule dfa, 2 seed(s)") || fileExists(filepath.Join(out, "resmlp-dfa-s1-k3")) {
		t.Errorf("ladder output:\n%s", o.stdout)
	}
	// One frozen directory per seed, each trained once (by the baseline job).
	if ents, _ := os.ReadDir(filepath.Join(out, "baselines")); len(ents) != 2 || ents[0].Name() == ents[1].Name() {
		t.Errorf("%d baselines, want 2", len(ents))
	}
	if n := strings.Count(o.stdout, "] baseline "); n != 2 || strings.Count(o.stdout, "] train    ") != 4 {
		t.Errorf("%d baseline trainings, want 2, and 4 cell trainings:\n%s", n, o.stdout)
	}
	o = runFaudit(t, sweepEnv, append(args, "--list")...)
	if strings.Count(o.stdout, "done     ") != 6 || !strings.Contains(o.stdout, "   0  done     "+filepath.Join(out, "resmlp-dfa-s1-k0")+" → baselines/"+filepath.Base(frozen[1])) {
		t.Errorf("ladder --list after the run:\n%s", o.stdout)
	}

	o = runFaudit(t, nil, "report", out)
	if o.code != 0 {
		t.Fatalf("report: exit %d: %s", o.code, o.stderr)
	}
	var rep struct {
		NBaselines int `json:"n_baselines"`
		Groups     []struct {
			Label    string   `json:"label"`
			Baseline bool     `json:"baseline"`
			Runs     []string `json:"runs"`
			Audited  int      `json:"n_audited"`
		} `json:"groups"`
	}
	readJSON(t, filepath.Join(out, "report", "report.json"), &rep)
	var groups []string
	nFrozen := 0
	for _, g := range rep.Groups {
		groups = append(groups, g.Label)
		if g.Baseline {
			nFrozen++
			if len(g.Runs) != 2 || g.Audited != 2 {
				t.Errorf("frozen group %q: runs %q, %d audited; want the 2 baselines, audited", g.Label, g.Runs, g.Audited)
			}
		}
	}
	if nFrozen != 1 || len(rep.Groups) != 3 || rep.NBaselines != 2 {
		t.Errorf("report: %d baselines, groups %q; want 2 baselines in one frozen group beside k=1 and k=2", rep.NBaselines, groups)
	}
}

// fakeBin puts a `faudit` on PATH that writes its arguments, one per line,
// to $ARGS_FILE.
func fakeBin(t *testing.T) (dir, argsFile string) {
	dir = t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := "#!/bin/sh\nfor a; do printf '%s\\n' \"$a\"; done > \"$ARGS_FILE\"\n"
	if err := os.WriteFile(filepath.Join(dir, "faudit"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, argsFile
}

func recordedArgs(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the fake faudit was not run: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// hasSeq reports whether want occurs in args as consecutive words.
func hasSeq(args []string, want ...string) bool {
	for i := range args {
		if len(args)-i >= len(want) && slices.Equal(args[i:i+len(want)], want) {
			return true
		}
	}
	return false
}

// --emit slurm writes an array script that bash accepts, whose #SBATCH lines
// match the shards, and whose task i runs `faudit sweep … --shard i/n`, a
// command faudit itself accepts and maps to the right cells.
func TestSweepEmitSlurm(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sw")
	data := "idx:/data/it's mine" // a quote and a blank to survive the shell
	args := []string{"sweep", "--rules", "bp,dfa", "--seeds", "1,2", "--epochs", "2", "--data", data, "--out", out,
		"--emit", "slurm", "--shards", "3", "--time", "01:30:00", "--cpus-per-task", "4"}
	o := runFaudit(t, nil, args...)
	script := filepath.Join(out, "sweep.slurm")
	if o.code != 0 || !strings.Contains(o.stdout, "sbatch "+script) {
		t.Fatalf("emit: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	b, _ := os.ReadFile(script)
	sbatch := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if opt, ok := strings.CutPrefix(l, "#SBATCH "); ok {
			k, v, _ := strings.Cut(opt, "=")
			sbatch[k] = v
		}
	}
	if sbatch["--array"] != "0-2" || sbatch["--cpus-per-task"] != "4" || sbatch["--time"] != "01:30:00" ||
		sbatch["--output"] != filepath.Join(out, "logs", "%A_%a.out") || sbatch["--job-name"] != "faudit-sweep" {
		t.Errorf("#SBATCH lines: %v", sbatch)
	}
	if !fileExists(filepath.Join(out, "logs")) || !fileExists(filepath.Join(out, sweep.ManifestFile)) {
		t.Error("logs/ or sweep.json missing")
	}
	if msg, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v %s", err, msg)
	}
	bin, argsFile := fakeBin(t)
	run := exec.Command("bash", script)
	run.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "SLURM_ARRAY_TASK_ID=1", "ARGS_FILE="+argsFile)
	if msg, err := run.CombinedOutput(); err != nil {
		t.Fatalf("running the script: %v %s", err, msg)
	}
	got := recordedArgs(t, argsFile)
	if got[0] != "sweep" || !hasSeq(got, "--shard", "1/3") || !hasSeq(got, "--jobs", "1") || !hasSeq(got, "--data", data) ||
		!hasSeq(got, "--rules", "bp,dfa") || !hasSeq(got, "--epochs", "2") || !hasSeq(got, "--out", out) {
		t.Errorf("task 1 ran faudit %q", got)
	}
	// The task's command is one faudit accepts; shard 1/3 of 4 cells is cell 1.
	o = runFaudit(t, nil, append(got, "--list")...)
	if o.code != 0 || !strings.Contains(o.stdout, "shard 1/3: 1 of them") || !strings.Contains(o.stdout, "   1  new      "+filepath.Join(out, "resmlp-bp-s2")) {
		t.Errorf("faudit %q --list: exit %d\n%s%s", got, o.code, o.stdout, o.stderr)
	}
}

// --emit k8s writes an Indexed Job that parses as YAML, with one completion
// per shard, the shard expression and the grid in the container's command,
// and the claim mounted where --out points.
func TestSweepEmitK8s(t *testing.T) {
	mount := t.TempDir()
	out := filepath.Join(mount, "runs", "sw")
	o := runFaudit(t, nil, "sweep", "--rules", "bp,dfa", "--seeds", "1,2", "--penalties", "0,1e-4", "--epochs", "2", "--out", out,
		"--emit", "k8s", "--pvc", "faudit-results", "--mount", mount, "--image", "registry.example/faudit:0.1", "--parallelism", "3")
	path := filepath.Join(out, "sweep-k8s.yaml")
	if o.code != 0 || !strings.Contains(o.stdout, "kubectl apply -f "+path) {
		t.Fatalf("emit: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	b, _ := os.ReadFile(path)
	var job struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct{ Name string }
		Spec       struct {
			CompletionMode       string `yaml:"completionMode"`
			Completions          int    `yaml:"completions"`
			Parallelism          int    `yaml:"parallelism"`
			BackoffLimitPerIndex *int   `yaml:"backoffLimitPerIndex"`
			Template             struct {
				Spec struct {
					RestartPolicy string `yaml:"restartPolicy"`
					Containers    []struct {
						Name, Image  string
						WorkingDir   string   `yaml:"workingDir"`
						Command      []string `yaml:"command"`
						VolumeMounts []struct {
							Name      string
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					}
					Volumes []struct {
						Name                  string
						PersistentVolumeClaim struct {
							ClaimName string `yaml:"claimName"`
						} `yaml:"persistentVolumeClaim"`
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &job); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	s := job.Spec
	if job.APIVersion != "batch/v1" || job.Kind != "Job" || job.Metadata.Name != "faudit-sweep" || s.CompletionMode != "Indexed" ||
		s.Completions != 8 || s.Parallelism != 3 || s.BackoffLimitPerIndex == nil || s.Template.Spec.RestartPolicy != "Never" {
		t.Fatalf("job: %+v", job)
	}
	c := s.Template.Spec.Containers
	v := s.Template.Spec.Volumes
	if len(c) != 1 || c[0].Image != "registry.example/faudit:0.1" || len(c[0].VolumeMounts) != 1 || c[0].VolumeMounts[0].MountPath != mount ||
		len(v) != 1 || v[0].Name != c[0].VolumeMounts[0].Name || v[0].PersistentVolumeClaim.ClaimName != "faudit-results" {
		t.Fatalf("container/volumes: %+v %+v", c, v)
	}
	cmd := c[0].Command
	if len(cmd) != 3 || cmd[0] != "sh" || cmd[1] != "-c" || !strings.Contains(cmd[2], `--shard "${JOB_COMPLETION_INDEX}/8"`) ||
		!strings.Contains(cmd[2], "--rules bp,dfa") || !strings.Contains(cmd[2], "--penalties 0,0.0001") || !strings.Contains(cmd[2], "--out "+out) {
		t.Fatalf("command: %q", cmd)
	}
	// Pod 5 runs shard 5/8.
	bin, argsFile := fakeBin(t)
	run := exec.Command(cmd[0], cmd[1], cmd[2])
	run.Dir = c[0].WorkingDir
	run.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "JOB_COMPLETION_INDEX=5", "ARGS_FILE="+argsFile)
	if msg, err := run.CombinedOutput(); err != nil {
		t.Fatalf("running the command: %v %s", err, msg)
	}
	if got := recordedArgs(t, argsFile); got[0] != "sweep" || !hasSeq(got, "--shard", "5/8") || !hasSeq(got, "--epochs", "2") {
		t.Errorf("pod 5 ran faudit %q", got)
	}
	// An --out outside the claim would lose the results.
	o = runFaudit(t, nil, "sweep", "--out", t.TempDir(), "--emit", "k8s", "--pvc", "x", "--mount", mount)
	if o.code != 2 || !strings.Contains(o.stderr, "is not under --mount") {
		t.Errorf("--out outside the mount: exit %d %q", o.code, o.stderr)
	}
}

// --grid FILE gives the same cells as the flags.
func TestSweepGridFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sw")
	grid := filepath.Join(dir, "grid.json")
	os.WriteFile(grid, []byte(`{"rules": ["dfa", "bp"], "seeds": [2, 1], "penalties": [0, 0.01], "args": ["--epochs", "2", "--eval-n", "128", "--terminal-ln=false"]}`), 0o644)
	a := runFaudit(t, nil, "sweep", "--grid", grid, "--out", out, "--list")
	b := runFaudit(t, nil, "sweep", "--rules", "bp,dfa", "--seeds", "1,2", "--penalties", "0.01,0", "--terminal-ln=false", "--eval-n", "128", "--epochs", "2", "--out", out, "--list")
	if a.code != 0 || a.stdout != b.stdout || strings.Count(a.stdout, "\n") != 9 || !strings.Contains(a.stdout, "--terminal-ln=false") {
		t.Errorf("--grid: exit %d\n%s\nflags: exit %d\n%s%s", a.code, a.stdout, b.code, b.stdout, b.stderr)
	}
}

func TestSweepBadInputIsOneLineAndExit2(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	out := filepath.Join(dir, "o")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "--shard", "2/2"}, "0 ≤ i < n"},
		{[]string{"sweep", "--shard", "x"}, "expected i/n"},
		{[]string{"sweep", "--seeds", "1,x"}, `"x" is not valid`},
		{[]string{"sweep", "--seeds", "1,1"}, "1 appears twice"},
		{[]string{"sweep", "--rules", "bp,magic"}, `unknown rule`},
		{[]string{"sweep", "--rules", "bp", "--rule", "dfa"}, "given twice"},
		{[]string{"sweep", "--penalties", "0,-1"}, "--penalties"},
		{[]string{"sweep", "--train-blocks-list", "-1,3", "--blocks", "2"}, "resmlp has 2 blocks"},
		{[]string{"sweep", "--epochs", "0"}, "--epochs 0"},
		{[]string{"sweep", "--resume", out}, "not defined: -resume"},
		{[]string{"sweep", "--jobs", "-1"}, "--jobs -1"},
		{[]string{"sweep", "--emit", "pbs", "--out", out}, `--emit "pbs"`},
		{[]string{"sweep", "--emit", "k8s", "--out", "rel"}, "--pvc"},
		{[]string{"sweep", "--emit", "slurm", "--shards", "2", "--out", out}, "--shards 2: expected 1 … 1"},
		{[]string{"sweep", "--emit", "slurm", "--shard", "0/2"}, "drop --list, --shard"},
		{[]string{"sweep", "--pvc", "claim"}, "only with --emit"},
		{[]string{"sweep", "--grid", filepath.Join(dir, "missing.json")}, "--grid"},
		{[]string{"sweep", "--grid", write("g1.json", `{"rulez": ["bp"]}`)}, `unknown field "rulez"`},
		{[]string{"sweep", "--grid", write("g2.json", `{"args": ["--jobs", "2"]}`)}, "--jobs is not a fixed train or audit flag"},
		{[]string{"sweep", "--grid", write("g3.json", `{"rules": ["bp"]}`), "--rules", "dfa"}, "given twice"},
		{[]string{"sweep", "--grid", write("g4.json", `{"args": ["--epochs", "2"]}`), "--epochs", "3"}, "set both"},
		{[]string{"ladder", "--archs", "resmlp,mlp"}, "one architecture"},
		{[]string{"ladder", "--train-blocks", "1"}, "not defined: -train-blocks"},
	} {
		o := runFaudit(t, nil, tc.args...)
		msg := strings.TrimRight(o.stderr, "\n")
		if o.code != 2 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", tc.args, o.code, o.stderr, tc.want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 4 { // the four grid files: nothing else written
		t.Errorf("bad input wrote files: %v", ents)
	}
}

func TestSweepHelp(t *testing.T) {
	for _, cmd := range []string{"sweep", "ladder"} {
		o := runFaudit(t, nil, cmd, "--help")
		for _, want := range []string{"--rules", "--seeds", "--epochs", "--local-norm", "--eval-n", "--shard", "--emit", "--jobs"} {
			if o.code != 0 || !strings.Contains(o.stdout, want) {
				t.Errorf("%s --help: exit %d, lacks %q", cmd, o.code, want)
			}
		}
	}
}
