package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faudit/faudit/protocol"
)

// studyWithRecords is the sweep fixtures with in-training audit records on
// the unpenalised dfa runs and the fresh-B null on the λ = 1e-2 ones, so
// that every kind of plot is drawn.
func studyWithRecords() []fixture {
	fs := sweepFixtures()
	for i := range fs {
		if fs[i].cfg.Rule == "dfa" && fs[i].cfg.Penalty == 0 {
			fs[i].epochAudits = []*protocol.EpochAudit{{D1: 20, D2: 1e-6, D2RelErr: 1e-9, M2: math.NaN()}, {D1: 80, D2: 1e-8, D2RelErr: 1e-7}}
		}
		if fs[i].cfg.Rule == "dfa" && fs[i].cfg.Penalty == 1e-2 {
			fs[i].freshB = freshNull(fs[i].cfg.FeedbackSeed, 20, fs[i].gamma, []float64{0.004, -0.002, 0.001}, []float64{0.02, 0.02, 0.02})
		}
	}
	return fs
}

func writeStudy(t *testing.T) (*Report, string) {
	t.Helper()
	root := writeAll(t, studyWithRecords())
	out := filepath.Join(root, "report")
	c, err := Load(root, out)
	if err != nil {
		t.Fatal(err)
	}
	r := Build(c, root)
	html, err := Write(r, out)
	if err != nil {
		t.Fatal(err)
	}
	if html != filepath.Join(out, HTMLFile) {
		t.Errorf("Write returned %s", html)
	}
	return r, out
}

func TestWriteProducesEveryFile(t *testing.T) {
	r, out := writeStudy(t)
	want := []string{HTMLFile, MarkdownFile, GroupsCSV, RunsCSV, JSONFile}
	for _, p := range r.Plots {
		want = append(want, p.Name+".svg", p.Name+".png")
	}
	for _, name := range want {
		info, err := os.Stat(filepath.Join(out, name))
		if err != nil || info.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	kinds := map[string]bool{}
	for _, p := range r.Plots {
		kinds[p.Section] = true
	}
	for _, s := range []string{SectionGamma, SectionFreshB, SectionNorms, SectionEpochs, SectionPenalty, SectionLadder, SectionFunction} {
		if !kinds[s] {
			t.Errorf("no plot in section %q", s)
		}
	}
	png, _ := os.ReadFile(filepath.Join(out, r.Plots[0].Name+".png"))
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s.png is not a PNG", r.Plots[0].Name)
	}
	var back struct {
		Plots []struct{ Name string } `json:"plots"`
	}
	b, _ := os.ReadFile(filepath.Join(out, JSONFile))
	if err := json.Unmarshal(b, &back); err != nil || len(back.Plots) != len(r.Plots) {
		t.Errorf("report.json plots: %v, %d of %d", err, len(back.Plots), len(r.Plots))
	}
	html, _ := os.ReadFile(filepath.Join(out, HTMLFile))
	for _, bad := range []string{"<script", "http://", "https://", "src=\"/", "src=\"file:"} {
		if bytes.Contains(html, []byte(bad)) {
			t.Errorf("report.html must be self-contained; it contains %q", bad)
		}
	}
	// The report's own output directory is not read as runs.
	c, err := Load(filepath.Dir(out), "")
	if err != nil || len(c.Runs) != r.NRuns {
		t.Errorf("reloading with the report inside: %v, %d runs", err, len(c.Runs))
	}
}

// chromium finds Debian's chromium; the test fails (not skips) without it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Fatal("chromium not found: the HTML report test needs headless Chromium; install it with `apt-get install -y chromium`")
	return ""
}

// plotCheck runs in the page after load: it counts the report's plots, and
// how many rendered with a non-zero size, and writes the result into a
// node the dumped DOM carries. A deliberately broken image checks the
// checker.
const plotCheck = `<img class="control" alt="control" src="data:image/svg+xml;base64,bm90IGFuIHN2Zw==">
<script>
window.addEventListener('load', function () {
  function ok(img) {
    var r = img.getBoundingClientRect();
    return img.complete && img.naturalWidth > 0 && img.naturalHeight > 0 && r.width > 0 && r.height > 0;
  }
  var plots = document.querySelectorAll('img.plot'), rendered = 0, failed = [];
  plots.forEach(function (img) { if (ok(img)) { rendered++; } else { failed.push(img.dataset.plot); } });
  var control = ok(document.querySelector('img.control'));
  var out = document.createElement('pre');
  out.id = 'plot-check';
  out.textContent = 'total=' + plots.length + ' rendered=' + rendered + ' control=' + control + ' failed=' + failed.join(',');
  document.body.appendChild(out);
});
</script>
</body>`

// runChromium loads page headless and returns the DOM after load, killing
// Chromium's whole process group on timeout.
func runChromium(t *testing.T, bin, page string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom", "file://"+page)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("chromium did not finish within 90 s (killed); stderr:\n%s", tail(stderr.String()))
	}
	if err != nil {
		t.Fatalf("chromium: %v; stderr:\n%s", err, tail(stderr.String()))
	}
	return stdout.String()
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

var checkLine = regexp.MustCompile(`id="plot-check">total=(\d+) rendered=(\d+) control=(\w+) failed=([^<]*)<`)

func TestHTMLRendersEveryPlotInHeadlessChromium(t *testing.T) {
	bin := chromium(t)
	r, out := writeStudy(t)
	html, err := os.ReadFile(filepath.Join(out, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(html), "</body>"); n != 1 {
		t.Fatalf("report.html has %d </body>", n)
	}
	page := filepath.Join(t.TempDir(), "checked.html")
	if err := os.WriteFile(page, []byte(strings.Replace(string(html), "</body>", plotCheck, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := runChromium(t, bin, page)
	m := checkLine.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the check script left no result in the DOM (%d bytes dumped)", len(dom))
	}
	total, _ := strconv.Atoi(m[1])
	rendered, _ := strconv.Atoi(m[2])
	if total != len(r.Plots) || rendered != total || m[4] != "" {
		t.Errorf("Chromium: %d plots in the page, %d rendered, failed [%s]; the report made %d", total, rendered, m[4], len(r.Plots))
	}
	if m[3] != "false" {
		t.Errorf("the broken control image counted as rendered: the check cannot detect a failed plot")
	}
	if len(r.Plots) < 10 {
		t.Errorf("only %d plots; the study should give every kind", len(r.Plots))
	}
	for _, want := range []string{"Audit table", "Calibration margins", "Cosine vs function", "dfa rms · resmlp d32 L2", "Fresh-B null — dfa rms λ=1e-2 · resmlp d32 L2"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
}
