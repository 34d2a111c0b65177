package data

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseIDXImages(t *testing.T) {
	valid := idxImagesBytes(2, 3, 2, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	header := func(magic, n, r, c uint32, body int) []byte {
		b := make([]byte, 16+body)
		binary.BigEndian.PutUint32(b[0:], magic)
		binary.BigEndian.PutUint32(b[4:], n)
		binary.BigEndian.PutUint32(b[8:], r)
		binary.BigEndian.PutUint32(b[12:], c)
		return b
	}
	cases := []struct {
		name    string
		in      []byte
		wantErr string // "" = valid
		n, r, c int
	}{
		{"valid", valid, "", 2, 3, 2},
		{"zero images", idxImagesBytes(0, 28, 28, nil), "", 0, 28, 28},
		{"empty", nil, "truncated: file has 0 bytes, shorter than the 16-byte idx3 image header", 0, 0, 0},
		{"short header", valid[:10], "truncated: file has 10 bytes, shorter than the 16-byte idx3 image header", 0, 0, 0},
		{"label magic", idxLabelsBytes([]byte{1}), "wrong magic number 0x00000801 (expected 0x00000803 for idx3 images; 0x00000801 is an idx1 label file)", 0, 0, 0},
		{"gzip magic", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "wrong magic number 0x1f8b0800 (expected 0x00000803", 0, 0, 0},
		{"truncated body", valid[:20], "truncated: header says 2 images of 3×2 (28 bytes) but file has 20 bytes", 0, 0, 0},
		{"too long", append(append([]byte(nil), valid...), 0), "too long: header says 2 images of 3×2 (28 bytes) but file has 29 bytes", 0, 0, 0},
		{"zero rows", header(idxImageMagic, 1, 0, 5, 0), "header says images of 0×5 (expected both sizes at least 1)", 0, 0, 0},
		{"absurd counts", header(idxImageMagic, 0xffffffff, 0xffffffff, 0xffffffff, 4),
			"truncated: header says 4294967295 images of 4294967295×4294967295 (79228162458924105385300197391 bytes) but file has 20 bytes", 0, 0, 0},
		{"mnist-sized header, small file", header(idxImageMagic, 60000, 28, 28, 984),
			"truncated: header says 60000 images of 28×28 (47040016 bytes) but file has 1000 bytes", 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, r, cols, pix, err := parseIDXImages(c.in)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != c.n || r != c.r || cols != c.c || len(pix) != n*r*cols {
				t.Fatalf("got n=%d %d×%d len(pix)=%d, want %d %d×%d", n, r, cols, len(pix), c.n, c.r, c.c)
			}
			if n > 0 && (pix[0] != 1 || pix[len(pix)-1] != 12) {
				t.Errorf("pix = %v", pix)
			}
		})
	}
}

func TestParseIDXLabels(t *testing.T) {
	cases := []struct {
		name    string
		in      []byte
		classes int
		want    []int32
		wantErr string
	}{
		{"valid", idxLabelsBytes([]byte{5, 0, 9}), 10, []int32{5, 0, 9}, ""},
		{"empty set", idxLabelsBytes(nil), 10, []int32{}, ""},
		{"out of range", idxLabelsBytes([]byte{1, 2, 3, 4, 5, 12}), 10, nil, "label 12 at index 5 is out of range (expected 0..9)"},
		{"ten with ten classes", idxLabelsBytes([]byte{10}), 10, nil, "label 10 at index 0 is out of range (expected 0..9)"},
		{"image magic", idxImagesBytes(0, 1, 1, nil), 10, nil, "wrong magic number 0x00000803 (expected 0x00000801 for idx1 labels; 0x00000803 is an idx3 image file)"},
		{"short", []byte{0, 0, 8, 1, 0}, 10, nil, "truncated: file has 5 bytes, shorter than the 8-byte idx1 label header"},
		{"truncated", idxLabelsBytes([]byte{1, 2, 3})[:9], 10, nil, "truncated: header says 3 labels (11 bytes) but file has 9 bytes"},
		{"too long", append(idxLabelsBytes([]byte{1}), 2), 10, nil, "too long: header says 1 labels (9 bytes) but file has 10 bytes"},
		{"absurd count", []byte{0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff}, 10, nil, "truncated: header says 4294967295 labels (4294967303 bytes) but file has 8 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseIDXLabels(c.in, c.classes)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
}

func TestLoadIDXGenerated(t *testing.T) {
	for _, gz := range []bool{false, true} {
		name := map[bool]string{false: "raw", true: "gzip"}[gz]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeIDXDir(t, dir, gz, idxFiles())
			d, err := Load("idx:"+dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Name != "idx:"+dir || d.Shape != [3]int{1, tRows, tCols} || d.Classes != 10 ||
				d.Train.N != tTrainN || d.Test.N != tTest || len(d.Train.X) != tTrainN*tRows*tCols || len(d.Test.X) != tTest*tRows*tCols {
				t.Fatalf("got %+v", d)
			}
			// Mean/std come from the training pixels.
			trainPix := tPix(tTrainN, 0)
			var s, ss float64
			for _, v := range trainPix {
				s += float64(v) / 255
			}
			m := s / float64(len(trainPix))
			for _, v := range trainPix {
				dv := float64(v)/255 - m
				ss += dv * dv
			}
			sd := math.Sqrt(ss / float64(len(trainPix)))
			if !near(d.Mean[0], m, 1e-12) || !near(d.Std[0], sd, 1e-12) || len(d.Mean) != 1 || len(d.Std) != 1 {
				t.Fatalf("Mean %v Std %v, want [%v] [%v]", d.Mean, d.Std, m, sd)
			}
			// Normalised train X has mean 0, std 1.
			if gm, gs := meanStd(d.Train.X); !near(gm, 0, 1e-6) || !near(gs, 1, 1e-6) {
				t.Errorf("train X mean %v std %v, want 0 and 1", gm, gs)
			}
			// Pixel placement in the test split.
			testPix := tPix(tTest, 100)
			k := 1*tRows*tCols + 2*tCols + 1 // image 1, row 2, col 1
			want := float32((float64(testPix[k])/255 - m) / sd)
			if got := d.Test.X[k]; got != want {
				t.Errorf("test X[%d] = %v, want %v (byte %d)", k, got, want, testPix[k])
			}
			if d.Train.Y[3] != 9 || d.Test.Y[1] != 4 {
				t.Errorf("labels train %v test %v", d.Train.Y, d.Test.Y)
			}
			// A subset is a prefix and keeps the full split's statistics.
			sub, err := Load("idx:"+dir, Options{TrainN: 1, TestN: 1})
			if err != nil {
				t.Fatal(err)
			}
			if sub.Train.N != 1 || len(sub.Train.X) != tRows*tCols || sub.Mean[0] != d.Mean[0] || sub.Train.X[5] != d.Train.X[5] || sub.Test.Y[0] != 3 {
				t.Errorf("subset %+v", sub)
			}
		})
	}
}

func TestLoadFashionMNIST(t *testing.T) {
	const dir = "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Fatal("Fashion-MNIST not installed: apt-get install -y dataset-fashion-mnist (.ci/run does)")
	}
	d, err := Load("idx:"+dir, Options{TestN: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.N != 60000 || d.Test.N != 1000 || d.Shape != [3]int{1, 28, 28} {
		t.Fatalf("got %d/%d shape %v", d.Train.N, d.Test.N, d.Shape)
	}
	if d.Train.Y[0] != 9 {
		t.Errorf("first label %d, want 9", d.Train.Y[0])
	}
	for c, n := range d.Train.Histogram(10) {
		if n != 6000 {
			t.Errorf("class %d has %d training samples, want 6000", c, n)
		}
	}
	// Measured: mean 0.286041, std 0.353024.
	if !near(d.Mean[0], 0.2860, 0.0001) || !near(d.Std[0], 0.3530, 0.0001) {
		t.Errorf("Mean %v Std %v, want ≈0.2860 ≈0.3530", d.Mean, d.Std)
	}
}
