package sweep

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faudit/faudit/protocol"
	"github.com/faudit/faudit/train"
)

func bigGrid() Grid {
	return Grid{
		Archs: []string{"resmlp", "mlp"}, Rules: []string{"fa-block", "dfa", "bp"}, Seeds: []uint64{3, 1},
		Penalties: []float64{1e-2, 0, 1e-5}, TrainBlocks: []int{2, -1},
		Args: []string{"--epochs", "3"}, AuditArgs: []string{"--eval-n", "256"},
	}
}

func TestCellsCountOrderAndArgs(t *testing.T) {
	g := bigGrid()
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	cells := g.Cells("out")
	if len(cells) != 2*3*2*3*2 || len(cells) != g.Size() {
		t.Fatalf("%d cells, want %d", len(cells), 2*3*2*3*2)
	}
	for i, c := range cells {
		if c.Index != i {
			t.Fatalf("cell %d has index %d", i, c.Index)
		}
		if i > 0 {
			p := cells[i-1]
			less := p.Arch < c.Arch || p.Arch == c.Arch && (p.Rule < c.Rule || p.Rule == c.Rule && (p.Seed < c.Seed ||
				p.Seed == c.Seed && (p.Penalty < c.Penalty || p.Penalty == c.Penalty && p.TrainBlocks < c.TrainBlocks)))
			if !less {
				t.Fatalf("cells %d and %d out of order: %s, %s", i-1, i, p.Name, c.Name)
			}
		}
	}
	if c := cells[0]; c.Name != "mlp-bp-s1-pen0-k-1" || c.Dir != filepath.Join("out", c.Name) {
		t.Errorf("first cell %q in %q", c.Name, c.Dir)
	}
	last := cells[len(cells)-1]
	if last.Name != "resmlp-fa-block-s3-pen0.01-k2" {
		t.Errorf("last cell %q", last.Name)
	}
	want := []string{"train", "--epochs", "3", "--arch", "resmlp", "--rule", "fa-block", "--seed", "3", "--penalty", "0.01", "--train-blocks", "2", "--out", last.Dir}
	if got := last.TrainArgv(); !slices.Equal(got, want) {
		t.Errorf("train argv %q, want %q", got, want)
	}
	if got := last.AuditArgv("b"); !slices.Equal(got, []string{"audit", "--eval-n", "256", "--baseline", "b", last.Dir}) {
		t.Errorf("audit argv %q", got)
	}
	// The order does not depend on how the axis values were listed.
	r := g
	r.Archs, r.Rules, r.Seeds, r.Penalties, r.TrainBlocks = rev(g.Archs), rev(g.Rules), rev(g.Seeds), rev(g.Penalties), rev(g.TrainBlocks)
	if !reflect.DeepEqual(r.Cells("out"), cells) {
		t.Error("reordering the axis values changed the cells")
	}
}

func rev[T any](s []T) []T { s = slices.Clone(s); slices.Reverse(s); return s }

func TestNamesUniqueAndMinimal(t *testing.T) {
	cells := bigGrid().Cells("o")
	seen := map[string]bool{}
	for _, c := range cells {
		if seen[c.Name] {
			t.Fatalf("name %q twice", c.Name)
		}
		seen[c.Name] = true
	}
	for _, tc := range []struct {
		pens []float64
		ks   []int
		want []string
	}{
		{[]float64{0}, []int{-1}, []string{"resmlp-dfa-s7"}},
		{[]float64{1e-4}, []int{-1}, []string{"resmlp-dfa-s7-pen0.0001"}},
		{[]float64{0, 1e-5}, []int{0}, []string{"resmlp-dfa-s7-pen0-k0", "resmlp-dfa-s7-pen1e-05-k0"}},
		{[]float64{0}, []int{-1, 0, 1}, []string{"resmlp-dfa-s7-k-1", "resmlp-dfa-s7-k0", "resmlp-dfa-s7-k1"}},
	} {
		g := Grid{Archs: []string{"resmlp"}, Rules: []string{"dfa"}, Seeds: []uint64{7}, Penalties: tc.pens, TrainBlocks: tc.ks}
		var got []string
		for _, c := range g.Cells("o") {
			got = append(got, c.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("penalties %v, k %v: names %q, want %q", tc.pens, tc.ks, got, tc.want)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Grid)
		want string
	}{
		{func(g *Grid) { g.Rules = []string{"bp", "magic"} }, `rule "magic"`},
		{func(g *Grid) { g.Seeds = []uint64{1, 2, 1} }, "seeds: 1 appears twice"},
		{func(g *Grid) { g.Penalties = []float64{0, -1} }, "penalty -1"},
		{func(g *Grid) { g.Penalties = []float64{math.Inf(1)} }, "penalty +Inf"},
		{func(g *Grid) { g.TrainBlocks = []int{-2} }, "train blocks -2"},
		{func(g *Grid) { g.Archs = []string{"res-mlp"} }, `arch "res-mlp"`},
		{func(g *Grid) { g.Archs = nil }, "archs"},
	} {
		g := bigGrid()
		tc.edit(&g)
		if err := g.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an error containing %q", err, tc.want)
		}
	}
	if _, err := ParseSeeds("--seeds", "1,x"); err == nil || !strings.Contains(err.Error(), `"x" is not valid`) {
		t.Errorf("ParseSeeds: %v", err)
	}
	if _, err := ParsePenalties("--penalties", "0,-1e-3"); err == nil {
		t.Error("ParsePenalties accepted a negative λ")
	}
	if _, err := ParseTrainBlocks("--train-blocks-list", "-1,,2"); err == nil {
		t.Error("ParseTrainBlocks accepted an empty item")
	}
	if v, err := ParsePenalties("--penalties", " 0, 1e-4 ,0.01"); err != nil || !slices.Equal(v, []float64{0, 1e-4, 0.01}) {
		t.Errorf("ParsePenalties: %v %v", v, err)
	}
}

func TestShardsPartitionTheGrid(t *testing.T) {
	cells := bigGrid().Cells("o")
	for n := 1; n <= 9; n++ {
		owner := map[int]int{}
		for i := range n {
			s, err := ParseShard(strings.Repeat(" ", i%2) + Shard{i, n}.String())
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range s.Select(cells) {
				if prev, ok := owner[c.Index]; ok {
					t.Fatalf("n=%d: cell %d in shards %d and %d", n, c.Index, prev, i)
				}
				owner[c.Index] = i
			}
		}
		if len(owner) != len(cells) {
			t.Fatalf("n=%d: shards cover %d of %d cells", n, len(owner), len(cells))
		}
	}
	if got := len((Shard{1, 4}).Select(cells)); got != len(cells)/4 {
		t.Errorf("shard 1/4 has %d cells, want %d", got, len(cells)/4)
	}
	for _, bad := range []string{"", "1", "2/2", "3/2", "-1/3", "0/0", "a/b", "1/-2", "1/2/3"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
}

// Quoted words read back unchanged by a real shell.
func TestShellQuoteRoundTrip(t *testing.T) {
	words := []string{"plain", "with space", "it's", `"dq"`, "$HOME", "$(echo no)", "a\\b", "", "tab\there", "--x=y", "*", "new\nline"}
	out, err := exec.Command("sh", "-c", "printf '%s\\0' "+ShellJoin(words)).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Equal(got, words) {
		t.Errorf("round trip %q, want %q", got, words)
	}
}

func TestK8sEscape(t *testing.T) {
	// Kubernetes reduces $$ to $ and expands $(VAR); everything else stays.
	unescape := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '$' && i+1 < len(s) && s[i+1] == '$' {
				i++
			} else if s[i] == '$' && i+1 < len(s) && s[i+1] == '(' {
				b.WriteString("<EXPANDED>")
				continue
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	for _, s := range []string{"a $(x) b", "$$", "$$$(", "${JOB_COMPLETION_INDEX}", "$", "cost $5"} {
		if got := unescape(k8sEscape(s)); got != s {
			t.Errorf("k8sEscape(%q) reads back as %q", s, got)
		}
	}
	if k8sEscape("--shard ${JOB_COMPLETION_INDEX}/4") != "--shard ${JOB_COMPLETION_INDEX}/4" {
		t.Error("k8sEscape changed the shard expression")
	}
}

func TestStatus(t *testing.T) {
	d := t.TempDir()
	steps := []struct {
		file string
		want Status
	}{{"", New}, {train.ConfigFile, Partial}, {train.ResultFile, Trained}, {protocol.AuditJSON, Done}}
	for _, s := range steps {
		if s.file != "" {
			os.WriteFile(filepath.Join(d, s.file), []byte("{}"), 0o644)
		}
		if got := StatusOf(d); got != s.want {
			t.Errorf("after %q: status %v, want %v", s.file, got, s.want)
		}
	}
}

// fakeFaudit stands in for the faudit binary: it records its arguments,
// writes the files a real train/audit would (config.json as for data
// synthetic:4), and fails `train --rule fa`.
const fakeFaudit = `#!/bin/sh
echo "$*" >> "$CALLS"
cmd=$1; shift
case $cmd in
train)
  if [ "$1" = --resume ]; then
    echo '{"test_acc": 0.25}' > "$2/result.json"; exit 0
  fi
  k=-1
  while [ $# -gt 0 ]; do
    case $1 in --out) d=$2; shift;; --rule) r=$2; shift;; --seed) s=$2; shift;; --train-blocks) k=$2; shift;; esac; shift
  done
  mkdir -p "$d"
  echo "{\"model\":{\"arch\":\"resmlp\",\"in\":4,\"shape\":[1,1,4],\"classes\":10},\"rule\":\"$r\",\"seed\":$s,\"train_blocks\":$k,\"data\":\"synthetic:4\",\"epochs\":1}" > "$d/config.json"
  if [ "$r" = fa ]; then echo "training went wrong" >&2; echo "faudit train: boom at epoch 1" >&2; exit 1; fi
  echo '{"test_acc": 0.5}' > "$d/result.json";;
audit)
  for d; do :; done
  echo '{"verdict": "PASS", "accuracy": 0.5}' > "$d/audit.json";;
esac
`

// The pool on a fake faudit: every cell is trained once and audited once,
// each distinct baseline is trained once, a failing cell is reported with
// its last stderr line while the others finish, and a rerun skips them.
func TestRunPoolWithFakeFaudit(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "faudit")
	os.WriteFile(exe, []byte(fakeFaudit), 0o755)
	calls := filepath.Join(dir, "calls")
	g := Grid{Archs: []string{"resmlp"}, Rules: []string{"bp", "dfa", "fa"}, Seeds: []uint64{1, 2}, Penalties: []float64{0}, TrainBlocks: []int{-1}}
	cells := g.Cells(filepath.Join(dir, "out"))
	var log strings.Builder
	opt := Options{Exe: exe, Env: append(os.Environ(), "CALLS="+calls), Jobs: 3, Log: &log}
	sum, err := Run(context.Background(), cells, opt)
	if err == nil || !strings.Contains(err.Error(), "2 of 6 cells failed: resmlp-fa-s1, resmlp-fa-s2") {
		t.Fatalf("err = %v", err)
	}
	if sum.Finished != 4 || len(sum.Failed) != 2 || sum.Failed[0].Err != "exit 1: faudit train: boom at epoch 1" {
		t.Errorf("summary %+v", sum)
	}
	b, _ := os.ReadFile(calls)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	count := func(prefix string) int {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				n++
			}
		}
		return n
	}
	if count("train --arch") != 6 || count("audit") != 4 || count("train --resume") != 2 {
		t.Errorf("calls: %d trains, %d audits, %d baselines; want 6, 4, 2 (one baseline per seed):\n%s",
			count("train --arch"), count("audit"), count("train --resume"), b)
	}
	for _, c := range cells {
		cfg, _ := readConfig(c.Dir)
		bdir := protocol.BaselineDir(c.Dir, cfg)
		if c.Rule != "fa" && !strings.Contains(string(b), "--baseline "+bdir+" "+c.Dir) {
			t.Errorf("%s not audited against %s", c.Name, bdir)
		}
		if !exists(filepath.Join(bdir, train.ResultFile)) {
			t.Errorf("baseline %s missing", bdir)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "out", "baselines"))
	if len(ents) != 2 {
		t.Errorf("baselines/ holds %d entries, want 2 (no temporary left)", len(ents))
	}
	if !strings.Contains(log.String(), "FAILED   resmlp-fa-s1 (train): exit 1: faudit train: boom") {
		t.Errorf("log lacks the failure line:\n%s", log.String())
	}
	// Rerun: the 4 done cells are skipped, the failed ones (config.json, no
	// result) are resumed and audited against the existing baselines.
	os.Remove(calls)
	log.Reset()
	sum, err = Run(context.Background(), cells, opt)
	b, _ = os.ReadFile(calls)
	if sum.Skipped != 4 || sum.Finished != 2 || err != nil || strings.Count(string(b), "train --resume "+filepath.Join(dir, "out", "resmlp-fa-s")) != 2 ||
		strings.Count(string(b), "\n") != 4 || strings.Count(log.String(), "resume   resmlp-fa-s") != 2 {
		t.Errorf("rerun: %+v %v; calls:\n%s\nlog:\n%s", sum, err, b, log.String())
	}
}

// Interrupting the pool stops it with an error wrapping ErrInterrupted.
func TestRunInterrupted(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "faudit")
	os.WriteFile(exe, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755)
	g := Grid{Archs: []string{"resmlp"}, Rules: []string{"bp"}, Seeds: []uint64{1, 2, 3}, Penalties: []float64{0}, TrainBlocks: []int{-1}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := Run(ctx, g.Cells(dir), Options{Exe: exe, Jobs: 2})
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // the first two children are sleeping
	start := time.Now()
	cancel()
	if err := <-done; !errors.Is(err, train.ErrInterrupted) {
		t.Errorf("err = %v, want ErrInterrupted", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the pool took %v to stop; its children did not get SIGTERM", d)
	}
}

// fakeSettled is the settled config of a cell as the fake faudit writes it
// (before training fills in the data's shape).
func fakeSettled(c Cell) (train.Config, error) {
	cfg := train.Config{Rule: c.Rule, Seed: c.Seed, TrainBlocks: c.TrainBlocks, Data: "synthetic:4", Epochs: 1}
	cfg.Model.Arch = c.Arch
	return cfg, nil
}

// A k = 0 cell is the frozen-blocks baseline of its recipe: no run
// directory of its own, trained once as a baseline (k = 0 cells of two
// rules share it, with the k = 1 cells' D3), audited once with
// --no-baseline; two shards racing for it leave one complete directory,
// the ladder's k = 0 row reads it, and a rerun skips everything.
func TestFrozenCellsAreTheBaseline(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "faudit")
	os.WriteFile(exe, []byte(fakeFaudit), 0o755)
	calls := filepath.Join(dir, "calls")
	out := filepath.Join(dir, "out")
	g := Grid{Archs: []string{"resmlp"}, Rules: []string{"bp", "dfa"}, Seeds: []uint64{1}, Penalties: []float64{0}, TrainBlocks: []int{0, 1}}
	cells := g.Cells(out)
	opt := Options{Exe: exe, Env: append(os.Environ(), "CALLS="+calls), Jobs: 2}
	if _, err := Run(context.Background(), cells, opt); err == nil || !strings.Contains(err.Error(), "ResolveFrozen") {
		t.Fatalf("Run of unresolved k = 0 cells: %v", err)
	}

	bad := slices.Clone(cells)
	err := ResolveFrozen(bad, func(c Cell) (train.Config, error) {
		cfg, _ := fakeSettled(c)
		cfg.Data = "nosuch"
		return cfg, nil
	})
	if err == nil || !strings.Contains(err.Error(), "cell resmlp-bp-s1-k0:") || bad[0].Frozen != nil || bad[0].Dir != cells[0].Dir {
		t.Errorf("ResolveFrozen with unreadable data: %v; cell %+v", err, bad[0])
	}

	if err := ResolveFrozen(cells, fakeSettled); err != nil {
		t.Fatal(err)
	}
	k1cfg, _ := fakeSettled(cells[1])
	k1cfg.Model.In, k1cfg.Model.Shape, k1cfg.Model.Classes = 4, [3]int{1, 1, 4}, 10
	bdir := protocol.BaselineDir(cells[1].Dir, k1cfg)
	for i, c := range cells {
		frozen := c.TrainBlocks == 0
		if c.Index != i || (c.Frozen != nil) != frozen || frozen && (c.Dir != bdir || c.Frozen.Rule != "bp" || c.Frozen.LocalNorm != "") ||
			!frozen && c.Dir != filepath.Join(out, c.Name) {
			t.Errorf("cell %d %s: dir %s, frozen %v", i, c.Name, c.Dir, c.Frozen)
		}
	}
	if got := cells[2].Label(); got != "resmlp-dfa-s1-k0 → "+filepath.Join("baselines", filepath.Base(bdir)) {
		t.Errorf("label %q", got)
	}
	if got := cells[0].AuditArgv(""); !slices.Equal(got, []string{"audit", "--no-baseline", bdir}) {
		t.Errorf("audit argv of a frozen cell: %q", got)
	}

	// Shard 0/2 holds both k = 0 cells, shard 1/2 both k = 1 cells; run at
	// once, both may train the baseline.
	sums := make([]*Summary, 2)
	errs := make([]error, 2)
	done := make(chan bool)
	for i := range 2 {
		go func() {
			sums[i], errs[i] = Run(context.Background(), Shard{i, 2}.Select(cells), opt)
			done <- true
		}()
	}
	<-done
	<-done
	if errs[0] != nil || errs[1] != nil || sums[0].Finished != 2 || sums[1].Finished != 2 {
		t.Fatalf("shards: %v %v; %+v %+v", errs[0], errs[1], sums[0], sums[1])
	}
	b, _ := os.ReadFile(calls)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var trains, baselines, frozenAudits int
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "train --arch"):
			trains++
		case strings.HasPrefix(l, "train --resume "+filepath.Join(out, "baselines", ".frozen-")):
			baselines++
		case l == "audit --no-baseline "+bdir:
			frozenAudits++
		}
	}
	if trains != 2 || baselines < 1 || baselines > 2 || frozenAudits != 1 {
		t.Errorf("%d trains, %d baseline trainings, %d audits of the baseline; want 2, 1 or 2, 1:\n%s", trains, baselines, frozenAudits, b)
	}
	for _, c := range []Cell{cells[1], cells[3]} {
		if !strings.Contains(string(b), "--baseline "+bdir+" "+c.Dir) {
			t.Errorf("%s not audited against %s", c.Name, bdir)
		}
	}
	ents, _ := os.ReadDir(out)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"baselines", "resmlp-bp-s1-k1", "resmlp-dfa-s1-k1"}) {
		t.Errorf("%s holds %q; want no k0 run directories", out, names)
	}
	if ents, _ := os.ReadDir(filepath.Join(out, "baselines")); len(ents) != 1 || StatusOf(bdir) != Done {
		t.Errorf("baselines/ holds %d entries, want 1 (no temporary left); baseline %v", len(ents), StatusOf(bdir))
	}
	rungs := Ladder(cells)
	if len(rungs) != 4 || rungs[0].K != 0 || !slices.Equal(rungs[0].Accs, []float64{0.25}) || math.Abs(rungs[1].Gain-25) > 1e-9 {
		t.Errorf("ladder %+v", rungs)
	}
	if err := CheckExisting(out, cells); err != nil {
		t.Errorf("CheckExisting: %v", err)
	}

	os.Remove(calls)
	sum, err := Run(context.Background(), cells, opt)
	if err != nil || sum.Skipped != 4 || exists(calls) {
		t.Errorf("rerun: %+v %v", sum, err)
	}
}
