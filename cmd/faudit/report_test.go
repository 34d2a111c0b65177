package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tiny study end to end: train, audit, report.
func TestReportEndToEnd(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--data", "synthetic:16", "--train-n", "400", "--test-n", "100", "--d", "16", "--blocks", "2", "--batch", "50", "--epochs", "2", "--audit-every", "1"}
	for _, run := range [][]string{{"--rule", "bp", "--seed", "1"}, {"--rule", "bp", "--seed", "2"}, {"--rule", "dfa", "--seed", "1"}} {
		out := filepath.Join(dir, run[1]+"-s"+run[3])
		if o := runFaudit(t, nil, append(append([]string{"train", "--out", out}, base...), run...)...); o.code != 0 {
			t.Fatalf("train %v: exit %d: %s", run, o.code, o.stderr)
		}
		if o := runFaudit(t, nil, "audit", "--eval-n", "100", "--directions", "2", out); o.code != 0 {
			t.Fatalf("audit %s: exit %d: %s", out, o.code, o.stderr)
		}
	}
	o := runFaudit(t, nil, "report", dir)
	if o.code != 0 {
		t.Fatalf("report: exit %d: %s", o.code, o.stderr)
	}
	html := filepath.Join(dir, "report", "report.html")
	if !strings.Contains(o.stdout, "report: "+html) {
		t.Errorf("stdout does not give the path of report.html:\n%s", o.stdout)
	}
	var bpLine string
	for _, l := range strings.Split(o.stdout, "\n") {
		if strings.HasPrefix(l, "bp · resmlp d16 L2 ") {
			bpLine = l
		}
	}
	if f := strings.Fields(bpLine); len(f) < 7 || f[5] != "2" || !strings.Contains(bpLine, "±") {
		t.Errorf("the bp group should have 2 seeds with accuracy mean ± std: %q\n%s", bpLine, o.stdout)
	}
	var rep struct {
		NRuns    int `json:"n_runs"`
		NAudited int `json:"n_audited"`
		Plots    []struct{ Name string }
	}
	b, err := os.ReadFile(filepath.Join(dir, "report", "report.json"))
	if err != nil || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("report.json: %v", err)
	}
	if rep.NRuns != 5 || rep.NAudited != 3 { // three runs and the baselines the audits trained (one per seed)
		t.Errorf("report.json: %d runs, %d audited; want 5 and 3", rep.NRuns, rep.NAudited)
	}
	names := map[string]bool{}
	for _, p := range rep.Plots {
		names[p.Name] = true
		for _, ext := range []string{".svg", ".png"} {
			if _, err := os.Stat(filepath.Join(dir, "report", p.Name+ext)); err != nil {
				t.Errorf("plot file: %v", err)
			}
		}
	}
	if !names["d1-epochs"] || !names["gamma-resmlp-d16-l2"] || !names["cosine-vs-function"] {
		t.Errorf("plots %v; want the epoch, Γ and slope plots among them", names)
	}
	for _, f := range []string{"report.md", "report.csv", "runs.csv"} {
		if _, err := os.Stat(filepath.Join(dir, "report", f)); err != nil {
			t.Error(err)
		}
	}
	// --out elsewhere; a second report over the same tree reads the same runs.
	other := filepath.Join(t.TempDir(), "r")
	if o := runFaudit(t, nil, "report", "--out", other, dir); o.code != 0 || !strings.Contains(o.stdout, filepath.Join(other, "report.html")) {
		t.Errorf("report --out: exit %d, %s %s", o.code, o.stdout, o.stderr)
	}
}

func TestReportBadInputIsOneLineAndExit2(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	corrupt := filepath.Join(dir, "corrupt")
	os.MkdirAll(filepath.Join(corrupt, "run"), 0o755)
	os.WriteFile(filepath.Join(corrupt, "run", "config.json"), []byte(`{"rule": "bp",`), 0o644)
	os.WriteFile(filepath.Join(corrupt, "run", "result.json"), []byte(`{}`), 0o644)
	badResult := filepath.Join(dir, "badresult")
	os.MkdirAll(filepath.Join(badResult, "run"), 0o755)
	os.WriteFile(filepath.Join(badResult, "run", "config.json"), []byte(`{"rule": "bp"}`), 0o644)
	os.WriteFile(filepath.Join(badResult, "run", "result.json"), []byte(`[1, 2`), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report"}, "expected one directory of runs"},
		{[]string{"report", filepath.Join(dir, "nowhere")}, filepath.Join(dir, "nowhere") + ": no such directory"},
		{[]string{"report", empty}, "no runs found"},
		{[]string{"report", corrupt}, filepath.Join(corrupt, "run", "config.json") + ": corrupt JSON"},
		{[]string{"report", badResult}, filepath.Join(badResult, "run", "result.json") + ": corrupt JSON"},
	} {
		o := runFaudit(t, nil, tc.args...)
		msg := strings.TrimRight(o.stderr, "\n")
		if o.code != 2 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", tc.args, o.code, o.stderr, tc.want)
		}
	}
}
