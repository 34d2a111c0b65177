package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxImagesBytes builds an idx3 image file.
func idxImagesBytes(n, rows, cols int, pix []byte) []byte {
	b := make([]byte, 16, 16+len(pix))
	binary.BigEndian.PutUint32(b[0:], idxImageMagic)
	binary.BigEndian.PutUint32(b[4:], uint32(n))
	binary.BigEndian.PutUint32(b[8:], uint32(rows))
	binary.BigEndian.PutUint32(b[12:], uint32(cols))
	return append(b, pix...)
}

// idxLabelsBytes builds an idx1 label file.
func idxLabelsBytes(labels []byte) []byte {
	b := make([]byte, 8, 8+len(labels))
	binary.BigEndian.PutUint32(b[0:], idxLabelMagic)
	binary.BigEndian.PutUint32(b[4:], uint32(len(labels)))
	return append(b, labels...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Small generated idx set: 4 train and 2 test images of 3 rows × 2 cols
// (non-square to catch transpositions).
const (
	tRows, tCols   = 3, 2
	tTrainN, tTest = 4, 2
)

var (
	tTrainLabels = []byte{0, 1, 2, 9}
	tTestLabels  = []byte{3, 4}
)

// tPix returns n images of pixel value (k*37+11)%256 for flat index k,
// offset by off so train and test differ.
func tPix(n, off int) []byte {
	p := make([]byte, n*tRows*tCols)
	for k := range p {
		p[k] = byte((k*37 + 11 + off) % 256)
	}
	return p
}

// idxFiles returns the four files (uncompressed) of the small set.
func idxFiles() map[string][]byte {
	return map[string][]byte{
		idxTrainImages: idxImagesBytes(tTrainN, tRows, tCols, tPix(tTrainN, 0)),
		idxTrainLabels: idxLabelsBytes(tTrainLabels),
		idxTestImages:  idxImagesBytes(tTest, tRows, tCols, tPix(tTest, 100)),
		idxTestLabels:  idxLabelsBytes(tTestLabels),
	}
}

// writeIDXDir writes files into dir, gzipped with a .gz suffix when gz.
func writeIDXDir(t testing.TB, dir string, gz bool, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		if gz {
			writeFile(t, filepath.Join(dir, name+".gz"), gzipBytes(t, b))
		} else {
			writeFile(t, filepath.Join(dir, name), b)
		}
	}
}

// cifarRecord builds one record: label bytes then R, G, B planes where
// pixel (y, x) of channel c is pixVal(seed, c, y, x).
func cifarRecord(labels []byte, seed int) []byte {
	b := append([]byte(nil), labels...)
	for c := range 3 {
		for y := range cifarSide {
			for x := range cifarSide {
				b = append(b, pixVal(seed, c, y, x))
			}
		}
	}
	return b
}

func pixVal(seed, c, y, x int) byte { return byte(seed*31 + c*67 + y*5 + x*3) }

// checkErr asserts err is a one-line package error containing every want.
func checkErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error has a line break: %q", msg)
	}
	if !strings.HasPrefix(msg, "data: ") {
		t.Errorf("error %q does not start with %q", msg, "data: ")
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}

func meanStd(x []float32) (float64, float64) {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	m := s / float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - m
		ss += d * d
	}
	return m, math.Sqrt(ss / float64(len(x)))
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
