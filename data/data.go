package data

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Dataset is a labelled train/test pair, inputs normalised and flattened
// row-major (N × Dim()).
type Dataset struct {
	Name        string // the spec it was loaded from, e.g. "mnist", "idx:/usr/share/datasets/fashion-mnist"
	Shape       [3]int // C, H, W of one input (synthetic: 1, 1, D)
	Classes     int
	Train, Test Split
	// Mean and Std hold, per channel, the normalisation actually applied:
	// x' = (pixel/255 - Mean[c]) / Std[c]. See the package doc for where
	// each spec takes them from.
	Mean, Std []float64
}

// Split is one part (train or test) of a Dataset. X has N*Dim values, Y has
// N labels.
type Split struct {
	X []float32
	Y []int32
	N int
}

// Dim returns the number of values of one input, C*H*W.
func (d *Dataset) Dim() int { return d.Shape[0] * d.Shape[1] * d.Shape[2] }

// Histogram returns how many samples of s have each label 0..classes-1.
// Labels outside that range are not counted.
func (s *Split) Histogram(classes int) []int {
	if classes < 0 {
		classes = 0
	}
	h := make([]int, classes)
	for _, y := range s.Y {
		if y >= 0 && int(y) < classes {
			h[y]++
		}
	}
	return h
}

// Options select how much of a dataset to load.
type Options struct {
	// TrainN and TestN are the number of samples to keep of each split;
	// 0 means all (synthetic: 10000 and 2000). Subsets are the FIRST N
	// samples. More than the split holds, or a negative number, is an error.
	TrainN, TestN int
	// Seed drives the synthetic dataset.
	Seed uint64
}

// SpecHelp describes the accepted specs in one line, for usage messages.
const SpecHelp = "mnist, idx:DIR, cifar10:DIR, cifar100:DIR, synthetic or synthetic:D"

// Load loads the dataset named by spec (see the package doc).
func Load(spec string, opt Options) (*Dataset, error) {
	if opt.TrainN < 0 {
		return nil, specErr(spec, "TrainN %d is negative (expected 0 for all, or a positive count)", opt.TrainN)
	}
	if opt.TestN < 0 {
		return nil, specErr(spec, "TestN %d is negative (expected 0 for all, or a positive count)", opt.TestN)
	}
	kind, arg, hasArg := strings.Cut(spec, ":")
	kind = strings.ToLower(strings.TrimSpace(kind))
	switch kind {
	case "mnist":
		if hasArg {
			return nil, specErr(spec, "mnist takes no argument (expected \"mnist\"; use idx:DIR for a directory)")
		}
		return loadMNIST(spec, opt)
	case "idx", "cifar10", "cifar100":
		if arg == "" {
			return nil, specErr(spec, "empty directory (expected %s:DIR)", kind)
		}
		if err := checkDir(spec, arg); err != nil {
			return nil, err
		}
		switch kind {
		case "idx":
			return loadIDXDir(spec, arg, opt, nil, nil)
		case "cifar10":
			return loadCIFAR(spec, arg, &cifar10, opt)
		default:
			return loadCIFAR(spec, arg, &cifar100, opt)
		}
	case "synthetic":
		d := defaultSyntheticDim
		if hasArg {
			v, err := strconv.Atoi(strings.TrimSpace(arg))
			if err != nil || v < 1 || v > maxSyntheticDim {
				return nil, specErr(spec, "dimension %q is not valid (expected an integer 1..%d)", arg, maxSyntheticDim)
			}
			d = v
		}
		return loadSynthetic(spec, d, opt)
	case "":
		if spec == "" {
			return nil, specErr(spec, "empty spec (expected %s)", SpecHelp)
		}
	}
	return nil, specErr(spec, "unknown dataset (expected %s)", SpecHelp)
}

// takeN resolves a requested subset size against the available count.
func takeN(spec, which, path string, want, have int) (int, error) {
	if want == 0 {
		return have, nil
	}
	if want > have {
		return 0, specErr(spec, "%s %d is more than the %d samples in %s", which, want, have, path)
	}
	return want, nil
}

// loadError is the error type of this package: a one-line message that may
// wrap a cause (e.g. fs.ErrNotExist) for errors.Is.
type loadError struct {
	msg   string
	cause error
}

func (e *loadError) Error() string { return e.msg }
func (e *loadError) Unwrap() error { return e.cause }

var oneLine = strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`)

func newErr(cause error, subject, format string, args ...any) error {
	msg := "data: " + subject + ": " + fmt.Sprintf(format, args...)
	return &loadError{msg: oneLine.Replace(msg), cause: cause}
}

// fileErr makes an error about the file at path.
func fileErr(path, format string, args ...any) error { return newErr(nil, path, format, args...) }

// specErr makes an error about a spec.
func specErr(spec, format string, args ...any) error {
	return newErr(nil, "spec "+strconv.Quote(spec), format, args...)
}

// wrapParse prefixes a parser error with the file path.
func wrapParse(path string, err error) error {
	var pe *parseError
	if errors.As(err, &pe) {
		return fileErr(path, "%s", pe.msg)
	}
	return fileErr(path, "%v", err)
}

// parseError is returned by the pure parsers; it carries no path.
type parseError struct{ msg string }

func (e *parseError) Error() string { return e.msg }

func parseErr(format string, args ...any) error {
	return &parseError{msg: oneLine.Replace(fmt.Sprintf(format, args...))}
}
