package data

import (
	"fmt"
	"io/fs"
	"path/filepath"
)

const (
	cifarSide   = 32
	cifarPlane  = cifarSide * cifarSide
	cifarPixels = 3 * cifarPlane
)

// cifarFormat describes one of the CIFAR binary versions.
type cifarFormat struct {
	name       string   // for messages
	subdir     string   // folder name inside the distribution's parent
	train      []string // training files, in order
	test       string
	labelBytes int // label bytes before the pixels of a record
	labelIndex int // which of them is used
	classes    int
	mean, std  [3]float64
}

var cifar10 = cifarFormat{
	name:       "CIFAR-10",
	subdir:     "cifar-10-batches-bin",
	train:      []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
	test:       "test_batch.bin",
	labelBytes: 1,
	labelIndex: 0,
	classes:    10,
	mean:       [3]float64{0.4914, 0.4822, 0.4465},
	std:        [3]float64{0.2470, 0.2435, 0.2616},
}

var cifar100 = cifarFormat{
	name:       "CIFAR-100",
	subdir:     "cifar-100-binary",
	train:      []string{"train.bin"},
	test:       "test.bin",
	labelBytes: 2,
	labelIndex: 1, // fine label
	classes:    100,
	mean:       [3]float64{0.5071, 0.4865, 0.4409},
	std:        [3]float64{0.2673, 0.2564, 0.2762},
}

// parseCIFARRecords checks b as a whole number of CIFAR records of
// labelBytes label bytes followed by 3072 pixel bytes, and returns the
// number of records and label labelIndex of each, which must be below
// classes. The pixels of record i are b[i*rec+labelBytes : (i+1)*rec] with
// rec = labelBytes+3072.
func parseCIFARRecords(b []byte, labelBytes, labelIndex, classes int) (n int, labels []int32, err error) {
	if labelBytes < 1 || labelIndex < 0 || labelIndex >= labelBytes || classes < 1 || classes > 256 {
		return 0, nil, parseErr("bad record format: %d label bytes, label index %d, %d classes (expected labelBytes ≥ 1, 0 ≤ index < labelBytes, 1..256 classes)",
			labelBytes, labelIndex, classes)
	}
	rec := labelBytes + cifarPixels
	if len(b) == 0 {
		return 0, nil, parseErr("file is empty (expected records of %d bytes)", rec)
	}
	if len(b)%rec != 0 {
		return 0, nil, parseErr("truncated: file has %d bytes, not a multiple of the %d-byte record (%d whole records and %d bytes left over)",
			len(b), rec, len(b)/rec, len(b)%rec)
	}
	n = len(b) / rec
	labels = make([]int32, n)
	for i := range n {
		v := b[i*rec+labelIndex]
		if int(v) >= classes {
			return 0, nil, parseErr("label %d of record %d is out of range (expected 0..%d)", v, i, classes-1)
		}
		labels[i] = int32(v)
	}
	return n, labels, nil
}

// cifarFile is one parsed batch file.
type cifarFile struct {
	path   string
	b      []byte
	n      int
	labels []int32
}

func readCIFARFile(path string, f *cifarFormat) (*cifarFile, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	n, labels, err := parseCIFARRecords(b, f.labelBytes, f.labelIndex, f.classes)
	if err != nil {
		return nil, wrapParse(path, err)
	}
	return &cifarFile{path: path, b: b, n: n, labels: labels}, nil
}

// cifarDir resolves DIR or DIR/<subdir> to the folder holding the files.
func cifarDir(dir string, f *cifarFormat) (string, error) {
	first := f.train[0]
	if exists(filepath.Join(dir, first)) {
		return dir, nil
	}
	sub := filepath.Join(dir, f.subdir)
	if exists(filepath.Join(sub, first)) {
		return sub, nil
	}
	return "", newErr(fs.ErrNotExist, filepath.Join(dir, first), "file not found (expected the %s binary files in %s or %s)", f.name, dir, sub)
}

func loadCIFAR(spec, dir string, f *cifarFormat, opt Options) (*Dataset, error) {
	dir, err := cifarDir(dir, f)
	if err != nil {
		return nil, err
	}
	var train []*cifarFile
	total := 0
	for _, name := range f.train {
		cf, err := readCIFARFile(filepath.Join(dir, name), f)
		if err != nil {
			return nil, err
		}
		train = append(train, cf)
		total += cf.n
	}
	test, err := readCIFARFile(filepath.Join(dir, f.test), f)
	if err != nil {
		return nil, err
	}
	trainWhere := train[0].path
	if len(train) > 1 {
		trainWhere = fmt.Sprintf("%s … %s", train[0].path, train[len(train)-1].path)
	}
	trainN, err := takeN(spec, "TrainN", trainWhere, opt.TrainN, total)
	if err != nil {
		return nil, err
	}
	testN, err := takeN(spec, "TestN", test.path, opt.TestN, test.n)
	if err != nil {
		return nil, err
	}
	d := &Dataset{
		Name:    spec,
		Shape:   [3]int{3, cifarSide, cifarSide},
		Classes: f.classes,
		Mean:    f.mean[:],
		Std:     f.std[:],
	}
	d.Train = convertCIFAR(train, trainN, f)
	d.Test = convertCIFAR([]*cifarFile{test}, testN, f)
	return d, nil
}

// convertCIFAR normalises the first n records of files, in order.
func convertCIFAR(files []*cifarFile, n int, f *cifarFormat) Split {
	var luts [3]*[256]float32
	for c := range luts {
		luts[c] = makeLUT(f.mean[c], f.std[c])
	}
	s := Split{X: make([]float32, n*cifarPixels), Y: make([]int32, n), N: n}
	rec := f.labelBytes + cifarPixels
	k := 0
	for _, cf := range files {
		for i := 0; i < cf.n && k < n; i++ {
			s.Y[k] = cf.labels[i]
			px := cf.b[i*rec+f.labelBytes : (i+1)*rec]
			out := s.X[k*cifarPixels : (k+1)*cifarPixels]
			for c := range 3 {
				lut := luts[c]
				o := out[c*cifarPlane : (c+1)*cifarPlane]
				for j, v := range px[c*cifarPlane : (c+1)*cifarPlane] {
					o[j] = lut[v]
				}
			}
			k++
		}
	}
	return s
}
