package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests run faudit as a real process: the test binary re-executes itself
// with FAUDIT_TEST_MAIN=1 and behaves as the faudit command. With
// FAUDIT_TEST_KILL=E:S it SIGKILLs itself after step S of epoch E — a real
// kill -9 in the middle of an epoch.
func TestMain(m *testing.M) {
	if os.Getenv("FAUDIT_TEST_MAIN") == "1" {
		if k := os.Getenv("FAUDIT_TEST_KILL"); k != "" {
			e, s, _ := strings.Cut(k, ":")
			ke, _ := strconv.Atoi(e)
			ks, _ := strconv.Atoi(s)
			afterStep = func(epoch, step int) {
				if epoch == ke && step == ks {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
			}
		}
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

type outcome struct {
	code           int
	stdout, stderr string
}

func runFaudit(t *testing.T, env []string, args ...string) outcome {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "FAUDIT_TEST_MAIN=1"), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return outcome{code, so.String(), se.String()}
}

var small = []string{"--data", "synthetic:16", "--train-n", "800", "--test-n", "200", "--d", "32", "--blocks", "2", "--batch", "50", "--seed", "5"}

func TestHelpListsEveryFlagWithDefault(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"train", "--help"}} {
		o := runFaudit(t, nil, args...)
		if o.code != 0 {
			t.Fatalf("%v: exit %d", args, o.code)
		}
		for _, want := range []string{"--arch", "(default resmlp)", "--precision", "(default float64)", "--batch", "(default 128)", "--resume", "--terminal-ln", "(default true)"} {
			if !strings.Contains(o.stdout, want) {
				t.Errorf("%v does not mention %q", args, want)
			}
		}
	}
}

func writeGz(t *testing.T, path string, b []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBadInputIsOneLineAndExit2(t *testing.T) {
	dir := t.TempDir()
	// an idx set whose training labels file is truncated
	idx := filepath.Join(dir, "idx")
	os.Mkdir(idx, 0o755)
	img := append([]byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2}, make([]byte, 8)...)
	writeGz(t, filepath.Join(idx, "train-images-idx3-ubyte.gz"), img)
	writeGz(t, filepath.Join(idx, "t10k-images-idx3-ubyte.gz"), img)
	writeGz(t, filepath.Join(idx, "train-labels-idx1-ubyte.gz"), []byte{0, 0, 8, 1, 0, 0, 0, 2, 1})
	writeGz(t, filepath.Join(idx, "t10k-labels-idx1-ubyte.gz"), []byte{0, 0, 8, 1, 0, 0, 0, 2, 1, 2})
	// a corrupt checkpoint to resume from
	bad := filepath.Join(dir, "badrun")
	os.Mkdir(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "config.json"), []byte("{not json"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--rule", "magic"}, `unknown rule`},
		{[]string{"train", "--arch", "transformer"}, `--arch "transformer"`},
		{[]string{"train", "--data", "nope"}, `unknown dataset`},
		{[]string{"train", "--data", "idx:" + filepath.Join(dir, "missing")}, `directory not found`},
		{[]string{"train", "--data", "idx:" + idx, "--out", filepath.Join(dir, "o1")}, `truncated`},
		{[]string{"train", "--data", "cifar10:" + dir}, `cifar`},
		{[]string{"train", "--epochs", "zero"}, `invalid value "zero"`},
		{[]string{"train", "--precision", "float16"}, `--precision "float16"`},
		{[]string{"train", "--hidden-layers", "256,x", "--arch", "mlp"}, `--hidden-layers`},
		{[]string{"train", "--resume", filepath.Join(dir, "nowhere")}, `no run there`},
		{[]string{"train", "--resume", bad}, `corrupt config`},
		{[]string{"train", "--resume", bad, "--epochs", "3"}, `drop --epochs`},
		{[]string{"frobnicate"}, `unknown command`},
	} {
		o := runFaudit(t, nil, tc.args...)
		msg := strings.TrimRight(o.stderr, "\n")
		if o.code != 2 || !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.want)) || strings.Contains(msg, "\n") ||
			strings.Contains(msg, "goroutine") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", tc.args, o.code, o.stderr, tc.want)
		}
	}
}

func TestDivergenceExits1(t *testing.T) {
	args := append([]string{"train", "--out", filepath.Join(t.TempDir(), "r"), "--optimizer", "sgd", "--lr", "1e12", "--schedule", "constant"}, small...)
	o := runFaudit(t, nil, args...)
	if o.code != 1 || !strings.Contains(o.stderr, "diverged") || strings.Count(o.stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want exit 1 and one line about divergence", o.code, o.stderr)
	}
}

// A run killed with SIGKILL mid-epoch and resumed ends byte-identical (timing
// fields aside) to one never killed.
func TestKill9MidEpochThenResume(t *testing.T) {
	dir := t.TempDir()
	ref, killed := filepath.Join(dir, "ref"), filepath.Join(dir, "killed")
	args := func(out string) []string { return append([]string{"train", "--epochs", "3", "--out", out}, small...) }
	if o := runFaudit(t, nil, args(ref)...); o.code != 0 {
		t.Fatalf("reference run: exit %d: %s", o.code, o.stderr)
	}
	o := runFaudit(t, []string{"FAUDIT_TEST_KILL=2:7"}, args(killed)...)
	if o.code != -1 { // killed by a signal
		t.Fatalf("the run was not killed: exit %d", o.code)
	}
	if _, err := os.Stat(filepath.Join(killed, "result.json")); err == nil {
		t.Fatal("killed run has a result.json")
	}
	start := time.Now()
	if o := runFaudit(t, nil, "train", "--resume", killed); o.code != 0 || !strings.Contains(o.stdout, "resuming") {
		t.Fatalf("resume: exit %d, stdout %q, stderr %q", o.code, o.stdout, o.stderr)
	}
	t.Logf("resumed in %v", time.Since(start))
	for _, name := range []string{"checkpoint.safetensors", "result.json", "metrics.jsonl", "config.json"} {
		a, _ := os.ReadFile(filepath.Join(ref, name))
		b, _ := os.ReadFile(filepath.Join(killed, name))
		if name == "result.json" || name == "metrics.jsonl" {
			a, b = stripTiming(t, a), stripTiming(t, b)
		}
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the killed-and-resumed run and the reference", name)
		}
	}
	// A finished run resumes to a no-op.
	if o := runFaudit(t, nil, "train", "--resume", killed); o.code != 0 || !strings.Contains(o.stdout, "already complete") {
		t.Errorf("resuming a finished run: exit %d, %q", o.code, o.stdout)
	}
}

func stripTiming(t *testing.T, b []byte) []byte {
	var out []byte
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		delete(m, "seconds")
		delete(m, "samples_per_s")
		j, _ := json.Marshal(m)
		out = append(append(out, j...), '\n')
	}
	return out
}
