package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// faudit audit on a finished run: the summary, audit.json with the
// documented fields, audit.md, and a frozen-blocks baseline trained once and
// then reused.
func TestAuditWritesReportAndReusesBaseline(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "r")
	args := append([]string{"train", "--epochs", "1", "--rule", "dfa", "--out", run}, small...)
	if o := runFaudit(t, nil, args...); o.code != 0 {
		t.Fatalf("train: %d %s", o.code, o.stderr)
	}
	o := runFaudit(t, nil, "audit", run, "--eval-n", "256", "--directions", "4")
	if o.code != 0 {
		t.Fatalf("audit: exit %d: %s", o.code, o.stderr)
	}
	for _, want := range []string{"standard pair", "D1 scale stability", "D2 reference validity", "D3 depth utility", "verdict:", "h0", "aggregate Γ"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("audit summary lacks %q:\n%s", want, o.stdout)
		}
	}
	if !strings.Contains(o.stderr, "training the frozen-blocks baseline") {
		t.Errorf("first audit did not train a baseline: %s", o.stderr)
	}
	b, err := os.ReadFile(filepath.Join(run, "audit.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"verdict", "checks", "layers", "aggregate", "accuracy", "frozen_acc"} {
		if rep[k] == nil {
			t.Errorf("audit.json: %q missing or null", k)
		}
	}
	for _, c := range []string{"D1", "D2", "D3"} {
		chk := rep["checks"].(map[string]any)[c].(map[string]any)
		for _, f := range []string{"value", "threshold", "pass", "margin"} {
			if _, ok := chk[f]; !ok {
				t.Errorf("audit.json checks.%s lacks %q", c, f)
			}
		}
	}
	layer := rep["layers"].([]any)[0].(map[string]any)
	for _, f := range []string{"h_norm", "g_norm", "g_norm_paper", "cos_mean", "cos_std", "rho", "nudge"} {
		if _, ok := layer[f]; !ok {
			t.Errorf("audit.json layers[0] lacks %q", f)
		}
	}
	if md, err := os.ReadFile(filepath.Join(run, "audit.md")); err != nil || !strings.Contains(string(md), "Pitfalls checklist") {
		t.Errorf("audit.md missing or incomplete: %v", err)
	}
	// The second audit reuses the cached baseline.
	o = runFaudit(t, nil, "audit", run, "--eval-n", "256", "--directions", "4")
	if o.code != 0 || strings.Contains(o.stderr, "training the frozen-blocks baseline") {
		t.Errorf("second audit: exit %d, retrained the baseline: %s", o.code, o.stderr)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "baselines"))
	if len(ents) != 1 {
		t.Errorf("%d baselines cached, want 1", len(ents))
	}
	if o := runFaudit(t, nil, "audit", filepath.Join(dir, "nowhere")); o.code != 2 || strings.Count(o.stderr, "\n") != 1 {
		t.Errorf("audit of a missing run: exit %d %q, want exit 2 and one line", o.code, o.stderr)
	}
}

// --audit-every records the cheap checks per epoch; --stop-on-fail stops at
// the first failure and says so.
func TestAuditEveryAndStopOnFail(t *testing.T) {
	run := filepath.Join(t.TempDir(), "r")
	args := append([]string{"train", "--epochs", "3", "--audit-every", "1", "--audit-n", "256", "--stop-on-fail", "--d1", "1.0001", "--out", run}, small...)
	o := runFaudit(t, nil, args...)
	if o.code == 0 {
		// --d1 is an audit flag, not a train flag: expect a clean usage error.
		t.Fatalf("train accepted --d1")
	}
	args = append([]string{"train", "--epochs", "3", "--audit-every", "1", "--audit-n", "200", "--stop-on-fail", "--rule", "dfa", "--local-norm", "rms", "--out", run}, small...)
	o = runFaudit(t, nil, args...)
	if o.code != 0 || !strings.Contains(o.stdout, "stopped") {
		t.Fatalf("train: exit %d, stdout %q, stderr %q; want a stop", o.code, o.stdout, o.stderr)
	}
	b, _ := os.ReadFile(filepath.Join(run, "metrics.jsonl"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var first map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	audit, ok := first["audit"].(map[string]any)
	if !ok || audit["gamma"] == nil || audit["d1"] == nil || audit["m2_pass"] != false {
		t.Fatalf("metrics line lacks the failing audit record: %s", lines[0])
	}
	res, _ := os.ReadFile(filepath.Join(run, "result.json"))
	if len(lines) != 1 || !strings.Contains(string(res), `"stopped": "FAIL(M2) at epoch 1`) {
		t.Errorf("%d epochs recorded, result %s; want a stop after epoch 1", len(lines), res)
	}
	// The audit of the stopped run reports the epoch M2 first fired.
	o = runFaudit(t, nil, "audit", run, "--no-baseline", "--eval-n", "200", "--directions", "2")
	if o.code != 0 || !strings.Contains(o.stdout, "first fired at epoch 1") {
		t.Errorf("audit: exit %d, %s", o.code, o.stdout)
	}
}
