package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadErrors checks that every bad input gives a one-line error naming
// the file or spec and saying what was expected.
func TestLoadErrors(t *testing.T) {
	// Each setup writes into dir and returns the spec; {dir} in want is
	// replaced by dir.
	idxWith := func(gz bool, edit func(f map[string][]byte)) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			f := idxFiles()
			if edit != nil {
				edit(f)
			}
			writeIDXDir(t, dir, gz, f)
			return "idx:" + dir
		}
	}
	spec := func(s string) func(*testing.T, string) string { return func(*testing.T, string) string { return s } }
	cifar10With := func(edit func(t *testing.T, dir string)) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			writeCIFAR10(t, dir, []int{1, 1, 1, 1, 1})
			edit(t, dir)
			return "cifar10:" + dir
		}
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) string
		opt   Options
		want  []string
	}{
		{"unknown spec", spec("foo"), Options{}, []string{`data: spec "foo": unknown dataset (expected mnist, idx:DIR, cifar10:DIR, cifar100:DIR, synthetic or synthetic:D)`}},
		{"empty spec", spec(""), Options{}, []string{`data: spec "": empty spec (expected mnist`}},
		{"mnist with argument", spec("mnist:/x"), Options{}, []string{`data: spec "mnist:/x": mnist takes no argument`}},
		{"idx empty dir", spec("idx:"), Options{}, []string{`data: spec "idx:": empty directory (expected idx:DIR)`}},
		{"cifar10 empty dir", spec("cifar10:"), Options{}, []string{`data: spec "cifar10:": empty directory (expected cifar10:DIR)`}},
		{"idx missing dir", func(t *testing.T, dir string) string { return "idx:" + dir + "/nope" }, Options{},
			[]string{"data: {dir}/nope: directory not found (spec \"idx:{dir}/nope\")"}},
		{"idx dir is a file", func(t *testing.T, dir string) string {
			writeFile(t, dir+"/f", []byte("x"))
			return "idx:" + dir + "/f"
		}, Options{}, []string{"data: {dir}/f: is a file, not a directory"}},
		{"negative TrainN", idxWith(false, nil), Options{TrainN: -1}, []string{`data: spec "idx:{dir}": TrainN -1 is negative (expected 0 for all, or a positive count)`}},
		{"negative TestN", spec("synthetic"), Options{TestN: -5}, []string{`data: spec "synthetic": TestN -5 is negative`}},
		{"TrainN too large", idxWith(true, nil), Options{TrainN: 5}, []string{`data: spec "idx:{dir}": TrainN 5 is more than the 4 samples in {dir}/train-images-idx3-ubyte.gz`}},
		{"TestN too large", idxWith(false, nil), Options{TestN: 3}, []string{`TestN 3 is more than the 2 samples in {dir}/t10k-images-idx3-ubyte`}},
		{"missing label file", idxWith(true, func(f map[string][]byte) { delete(f, idxTrainLabels) }), Options{},
			[]string{"data: {dir}/train-labels-idx1-ubyte.gz: file not found (nor {dir}/train-labels-idx1-ubyte)"}},
		{"missing test images", idxWith(false, func(f map[string][]byte) { delete(f, idxTestImages) }), Options{},
			[]string{"data: {dir}/t10k-images-idx3-ubyte.gz: file not found"}},
		{"image magic", idxWith(false, func(f map[string][]byte) { f[idxTrainImages] = idxLabelsBytes([]byte{1, 2}) }), Options{},
			[]string{"data: {dir}/train-images-idx3-ubyte: wrong magic number 0x00000801 (expected 0x00000803"}},
		{"label magic", idxWith(true, func(f map[string][]byte) { f[idxTestLabels] = idxImagesBytes(1, 1, 1, []byte{0}) }), Options{},
			[]string{"data: {dir}/t10k-labels-idx1-ubyte.gz: wrong magic number 0x00000803 (expected 0x00000801"}},
		{"count mismatch", idxWith(false, func(f map[string][]byte) { f[idxTrainLabels] = idxLabelsBytes([]byte{1, 2, 3}) }), Options{},
			[]string{"data: {dir}/train-labels-idx1-ubyte: has 3 labels but {dir}/train-images-idx3-ubyte has 4 images (expected equal counts)"}},
		{"truncated images", idxWith(false, func(f map[string][]byte) { f[idxTrainImages] = f[idxTrainImages][:30] }), Options{},
			[]string{"data: {dir}/train-images-idx3-ubyte: truncated: header says 4 images of 3×2 (40 bytes) but file has 30 bytes"}},
		{"truncated images gz", idxWith(true, func(f map[string][]byte) { f[idxTrainImages] = f[idxTrainImages][:30] }), Options{},
			[]string{"data: {dir}/train-images-idx3-ubyte.gz: truncated: header says 4 images of 3×2 (40 bytes) but file has 30 bytes (after gunzip)"}},
		{"images too long", idxWith(false, func(f map[string][]byte) { f[idxTestImages] = append(f[idxTestImages], 0) }), Options{},
			[]string{"data: {dir}/t10k-images-idx3-ubyte: too long: header says 2 images of 3×2 (28 bytes) but file has 29 bytes"}},
		{"truncated labels", idxWith(false, func(f map[string][]byte) { f[idxTestLabels] = f[idxTestLabels][:9] }), Options{},
			[]string{"data: {dir}/t10k-labels-idx1-ubyte: truncated: header says 2 labels (10 bytes) but file has 9 bytes"}},
		{"absurd header", idxWith(false, func(f map[string][]byte) {
			f[idxTrainImages] = idxImagesBytes(0xffffffff, 0xffffffff, 0xffffffff, make([]byte, 8))
		}), Options{}, []string{"{dir}/train-images-idx3-ubyte: truncated: header says 4294967295 images of 4294967295×4294967295", "but file has 24 bytes"}},
		{"label out of range", idxWith(true, func(f map[string][]byte) { f[idxTrainLabels] = idxLabelsBytes([]byte{0, 12, 2, 3}) }), Options{},
			[]string{"data: {dir}/train-labels-idx1-ubyte.gz: label 12 at index 1 is out of range (expected 0..9)"}},
		{"test size differs", idxWith(false, func(f map[string][]byte) { f[idxTestImages] = idxImagesBytes(2, 2, 3, make([]byte, 12)) }), Options{},
			[]string{"data: {dir}/t10k-images-idx3-ubyte: images are 2×3 but the training images in {dir}/train-images-idx3-ubyte are 3×2 (expected the same size)"}},
		{"no images", idxWith(false, func(f map[string][]byte) {
			f[idxTrainImages] = idxImagesBytes(0, 3, 2, nil)
			f[idxTrainLabels] = idxLabelsBytes(nil)
		}), Options{}, []string{"data: {dir}/train-images-idx3-ubyte: holds 0 images (expected at least 1)"}},
		{"bad gzip", func(t *testing.T, dir string) string {
			writeIDXDir(t, dir, true, idxFiles())
			writeFile(t, dir+"/train-images-idx3-ubyte.gz", []byte("this is not gzip data at all"))
			return "idx:" + dir
		}, Options{}, []string{"data: {dir}/train-images-idx3-ubyte.gz: bad gzip data (gzip: invalid header)"}},
		{"truncated gzip", func(t *testing.T, dir string) string {
			writeIDXDir(t, dir, true, idxFiles())
			gz := gzipBytes(t, idxFiles()[idxTestLabels])
			writeFile(t, dir+"/t10k-labels-idx1-ubyte.gz", gz[:len(gz)-6])
			return "idx:" + dir
		}, Options{}, []string{"data: {dir}/t10k-labels-idx1-ubyte.gz: bad gzip data (truncated: unexpected end of data)"}},
		{"gzip checksum", func(t *testing.T, dir string) string {
			writeIDXDir(t, dir, true, idxFiles())
			gz := gzipBytes(t, idxFiles()[idxTestLabels])
			gz[len(gz)-8] ^= 0xff // CRC
			writeFile(t, dir+"/t10k-labels-idx1-ubyte.gz", gz)
			return "idx:" + dir
		}, Options{}, []string{"data: {dir}/t10k-labels-idx1-ubyte.gz: bad gzip data (gzip: invalid checksum)"}},
		{"newline in path", func(t *testing.T, dir string) string {
			d := filepath.Join(dir, "a\nb")
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			return "idx:" + d
		}, Options{}, []string{`data: {dir}/a\nb/train-images-idx3-ubyte.gz: file not found`}},
		{"cifar10 missing", func(t *testing.T, dir string) string { return "cifar10:" + dir }, Options{},
			[]string{"data: {dir}/data_batch_1.bin: file not found (expected the CIFAR-10 binary files in {dir} or {dir}/cifar-10-batches-bin)"}},
		{"cifar100 missing", func(t *testing.T, dir string) string { return "cifar100:" + dir }, Options{},
			[]string{"data: {dir}/train.bin: file not found (expected the CIFAR-100 binary files in {dir} or {dir}/cifar-100-binary)"}},
		{"cifar10 missing batch 3", cifar10With(func(t *testing.T, dir string) { os.Remove(dir + "/data_batch_3.bin") }), Options{},
			[]string{"data: {dir}/data_batch_3.bin: file not found"}},
		{"cifar10 missing test", cifar10With(func(t *testing.T, dir string) { os.Remove(dir + "/test_batch.bin") }), Options{},
			[]string{"data: {dir}/test_batch.bin: file not found"}},
		{"cifar10 partial record", cifar10With(func(t *testing.T, dir string) {
			writeFile(t, dir+"/data_batch_2.bin", cifarRecord([]byte{1}, 0)[:3072])
		}), Options{}, []string{"data: {dir}/data_batch_2.bin: truncated: file has 3072 bytes, not a multiple of the 3073-byte record"}},
		{"cifar10 empty batch", cifar10With(func(t *testing.T, dir string) { writeFile(t, dir+"/data_batch_5.bin", nil) }), Options{},
			[]string{"data: {dir}/data_batch_5.bin: file is empty (expected records of 3073 bytes)"}},
		{"cifar10 label out of range", cifar10With(func(t *testing.T, dir string) {
			writeFile(t, dir+"/test_batch.bin", append(cifarRecord([]byte{1}, 0), cifarRecord([]byte{10}, 0)...))
		}), Options{}, []string{"data: {dir}/test_batch.bin: label 10 of record 1 is out of range (expected 0..9)"}},
		{"cifar10 TestN too large", cifar10With(func(*testing.T, string) {}), Options{TestN: 3},
			[]string{`data: spec "cifar10:{dir}": TestN 3 is more than the 2 samples in {dir}/test_batch.bin`}},
		{"cifar100 fine label out of range", func(t *testing.T, dir string) string {
			writeFile(t, dir+"/train.bin", cifarRecord([]byte{5, 100}, 0))
			writeFile(t, dir+"/test.bin", cifarRecord([]byte{5, 1}, 0))
			return "cifar100:" + dir
		}, Options{}, []string{"data: {dir}/train.bin: label 100 of record 0 is out of range (expected 0..99)"}},
		{"synthetic zero dim", spec("synthetic:0"), Options{}, []string{`data: spec "synthetic:0": dimension "0" is not valid (expected an integer 1..1048576)`}},
		{"synthetic bad dim", spec("synthetic:abc"), Options{}, []string{`data: spec "synthetic:abc": dimension "abc" is not valid`}},
		{"synthetic huge", spec("synthetic:1024"), Options{TrainN: 1 << 21}, []string{`data: spec "synthetic:1024": TrainN 2097152 × D 1024 is too large`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := c.setup(t, dir)
			d, err := Load(s, c.opt)
			if d != nil {
				t.Errorf("got a dataset with the error")
			}
			want := make([]string, len(c.want))
			for i, w := range c.want {
				want[i] = strings.ReplaceAll(w, "{dir}", dir)
			}
			checkErr(t, err, want...)
		})
	}
}
