package data

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"math/big"
	"math/bits"
	"path/filepath"
	"strings"
	"sync"
)

const (
	idxImageMagic = 0x00000803
	idxLabelMagic = 0x00000801
	idxClasses    = 10

	idxTrainImages = "train-images-idx3-ubyte"
	idxTrainLabels = "train-labels-idx1-ubyte"
	idxTestImages  = "t10k-images-idx3-ubyte"
	idxTestLabels  = "t10k-labels-idx1-ubyte"
)

// parseIDXImages parses an (uncompressed) idx3 unsigned-byte image file. pix
// aliases b and holds n*rows*cols bytes, image after image, row-major. The
// header must describe the byte length exactly.
func parseIDXImages(b []byte) (n, rows, cols int, pix []byte, err error) {
	if len(b) >= 4 {
		if m := binary.BigEndian.Uint32(b); m != idxImageMagic {
			hint := ""
			if m == idxLabelMagic {
				hint = "; 0x00000801 is an idx1 label file"
			}
			return 0, 0, 0, nil, parseErr("wrong magic number 0x%08x (expected 0x%08x for idx3 images%s)", m, idxImageMagic, hint)
		}
	}
	if len(b) < 16 {
		return 0, 0, 0, nil, parseErr("truncated: file has %d bytes, shorter than the 16-byte idx3 image header", len(b))
	}
	un := binary.BigEndian.Uint32(b[4:])
	ur := binary.BigEndian.Uint32(b[8:])
	uc := binary.BigEndian.Uint32(b[12:])
	if ur == 0 || uc == 0 {
		return 0, 0, 0, nil, parseErr("header says images of %d×%d (expected both sizes at least 1)", ur, uc)
	}
	have := uint64(len(b) - 16)
	hi, lo := bits.Mul64(uint64(un), uint64(ur)*uint64(uc))
	if hi != 0 || lo != have {
		need := new(big.Int).SetUint64(uint64(un))
		need.Mul(need, new(big.Int).SetUint64(uint64(ur)*uint64(uc)))
		need.Add(need, big.NewInt(16))
		what := "truncated"
		if hi == 0 && lo < have {
			what = "too long"
		}
		return 0, 0, 0, nil, parseErr("%s: header says %d images of %d×%d (%s bytes) but file has %d bytes",
			what, un, ur, uc, need, len(b))
	}
	return int(un), int(ur), int(uc), b[16:], nil
}

// parseIDXLabels parses an (uncompressed) idx1 unsigned-byte label file and
// checks every label is in 0..classes-1.
func parseIDXLabels(b []byte, classes int) ([]int32, error) {
	if len(b) >= 4 {
		if m := binary.BigEndian.Uint32(b); m != idxLabelMagic {
			hint := ""
			if m == idxImageMagic {
				hint = "; 0x00000803 is an idx3 image file"
			}
			return nil, parseErr("wrong magic number 0x%08x (expected 0x%08x for idx1 labels%s)", m, idxLabelMagic, hint)
		}
	}
	if len(b) < 8 {
		return nil, parseErr("truncated: file has %d bytes, shorter than the 8-byte idx1 label header", len(b))
	}
	n := binary.BigEndian.Uint32(b[4:])
	have := uint64(len(b) - 8)
	if uint64(n) != have {
		what := "truncated"
		if uint64(n) < have {
			what = "too long"
		}
		return nil, parseErr("%s: header says %d labels (%d bytes) but file has %d bytes", what, n, uint64(n)+8, len(b))
	}
	body := b[8:]
	y := make([]int32, len(body))
	for i, v := range body {
		if int(v) >= classes {
			return nil, parseErr("label %d at index %d is out of range (expected 0..%d)", v, i, classes-1)
		}
		y[i] = int32(v)
	}
	return y, nil
}

// findIDX returns DIR/base.gz if it exists, else DIR/base.
func findIDX(dir, base string) (string, error) {
	gz := filepath.Join(dir, base+".gz")
	raw := filepath.Join(dir, base)
	switch {
	case exists(gz):
		return gz, nil
	case exists(raw):
		return raw, nil
	}
	return "", newErr(fs.ErrNotExist, gz, "file not found (nor %s)", raw)
}

// idxSplit is one parsed image+label file pair.
type idxSplit struct {
	imgPath, labPath string
	n, rows, cols    int
	pix              []byte
	y                []int32
}

func readIDXSplit(dir, imgBase, labBase string) (*idxSplit, error) {
	s := &idxSplit{}
	var err error
	if s.imgPath, err = findIDX(dir, imgBase); err != nil {
		return nil, err
	}
	if s.labPath, err = findIDX(dir, labBase); err != nil {
		return nil, err
	}
	b, err := readFile(s.imgPath)
	if err != nil {
		return nil, err
	}
	if s.n, s.rows, s.cols, s.pix, err = parseIDXImages(b); err != nil {
		return nil, wrapDecoded(s.imgPath, err)
	}
	lb, err := readFile(s.labPath)
	if err != nil {
		return nil, err
	}
	if s.y, err = parseIDXLabels(lb, idxClasses); err != nil {
		return nil, wrapDecoded(s.labPath, err)
	}
	if len(s.y) != s.n {
		return nil, fileErr(s.labPath, "has %d labels but %s has %d images (expected equal counts)", len(s.y), s.imgPath, s.n)
	}
	if s.n == 0 {
		return nil, fileErr(s.imgPath, "holds 0 images (expected at least 1)")
	}
	return s, nil
}

// wrapDecoded is wrapParse, noting when the byte counts are of gunzipped
// data.
func wrapDecoded(path string, err error) error {
	var pe *parseError
	if strings.HasSuffix(path, ".gz") && errors.As(err, &pe) && strings.Contains(pe.msg, "file has") {
		return fileErr(path, "%s (after gunzip)", pe.msg)
	}
	return wrapParse(path, err)
}

// loadIDXDir loads the four idx files of dir. mean/std nil means: compute
// them from the whole training file.
func loadIDXDir(spec, dir string, opt Options, mean, std []float64) (*Dataset, error) {
	var train, test *idxSplit
	var trainErr, testErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		test, testErr = readIDXSplit(dir, idxTestImages, idxTestLabels)
	}()
	train, trainErr = readIDXSplit(dir, idxTrainImages, idxTrainLabels)
	wg.Wait()
	if trainErr != nil {
		return nil, trainErr
	}
	if testErr != nil {
		return nil, testErr
	}
	if test.rows != train.rows || test.cols != train.cols {
		return nil, fileErr(test.imgPath, "images are %d×%d but the training images in %s are %d×%d (expected the same size)",
			test.rows, test.cols, train.imgPath, train.rows, train.cols)
	}
	trainN, err := takeN(spec, "TrainN", train.imgPath, opt.TrainN, train.n)
	if err != nil {
		return nil, err
	}
	testN, err := takeN(spec, "TestN", test.imgPath, opt.TestN, test.n)
	if err != nil {
		return nil, err
	}
	if mean == nil {
		m, s := byteStats(train.pix)
		mean, std = []float64{m}, []float64{s}
	}
	d := &Dataset{
		Name:    spec,
		Shape:   [3]int{1, train.rows, train.cols},
		Classes: idxClasses,
		Mean:    mean,
		Std:     std,
	}
	dim := d.Dim()
	d.Train = Split{X: convertGray(train.pix[:trainN*dim], mean[0], std[0]), Y: train.y[:trainN:trainN], N: trainN}
	d.Test = Split{X: convertGray(test.pix[:testN*dim], mean[0], std[0]), Y: test.y[:testN:testN], N: testN}
	return d, nil
}

// byteStats returns mean and population standard deviation of pix/255. A
// zero deviation (or an empty input) gives std 1 so that it can divide.
func byteStats(pix []byte) (mean, std float64) {
	var hist [256]int
	for _, v := range pix {
		hist[v]++
	}
	if len(pix) == 0 {
		return 0, 1
	}
	n := float64(len(pix))
	for v, c := range hist {
		mean += float64(v) / 255 * float64(c)
	}
	mean /= n
	var ss float64
	for v, c := range hist {
		dv := float64(v)/255 - mean
		ss += dv * dv * float64(c)
	}
	std = math.Sqrt(ss / n)
	if std == 0 {
		std = 1
	}
	return mean, std
}

// convertGray maps bytes to (b/255 - mean) / std.
func convertGray(pix []byte, mean, std float64) []float32 {
	out := make([]float32, len(pix))
	lut := makeLUT(mean, std)
	for i, v := range pix {
		out[i] = lut[v]
	}
	return out
}

// makeLUT returns the normalised value of each byte.
func makeLUT(mean, std float64) *[256]float32 {
	var lut [256]float32
	for v := range lut {
		lut[v] = float32((float64(v)/255 - mean) / std)
	}
	return &lut
}
