package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCIFARRecords(t *testing.T) {
	rec10 := cifarRecord([]byte{7}, 1)
	rec100 := cifarRecord([]byte{3, 77}, 2)
	cases := []struct {
		name                     string
		in                       []byte
		labelBytes, index, class int
		wantN                    int
		wantY                    []int32
		wantErr                  string
	}{
		{"cifar10 two", append(append([]byte(nil), rec10...), cifarRecord([]byte{0}, 2)...), 1, 0, 10, 2, []int32{7, 0}, ""},
		{"cifar100 fine", rec100, 2, 1, 100, 1, []int32{77}, ""},
		{"cifar100 coarse", rec100, 2, 0, 20, 1, []int32{3}, ""},
		{"empty", nil, 1, 0, 10, 0, nil, "file is empty (expected records of 3073 bytes)"},
		{"partial record", rec10[:3000], 1, 0, 10, 0, nil, "truncated: file has 3000 bytes, not a multiple of the 3073-byte record (0 whole records and 3000 bytes left over)"},
		{"extra bytes", append(append([]byte(nil), rec100...), 1, 2), 2, 1, 100, 0, nil, "not a multiple of the 3074-byte record (1 whole records and 2 bytes left over)"},
		{"label out of range", append(append([]byte(nil), rec10...), cifarRecord([]byte{10}, 3)...), 1, 0, 10, 0, nil, "label 10 of record 1 is out of range (expected 0..9)"},
		{"fine out of range", cifarRecord([]byte{0, 100}, 0), 2, 1, 100, 0, nil, "label 100 of record 0 is out of range (expected 0..99)"},
		{"bad format", rec10, 1, 1, 10, 0, nil, "bad record format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, y, err := parseCIFARRecords(c.in, c.labelBytes, c.index, c.class)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != c.wantN || len(y) != len(c.wantY) {
				t.Fatalf("n=%d y=%v, want %d %v", n, y, c.wantN, c.wantY)
			}
			for i := range y {
				if y[i] != c.wantY[i] {
					t.Fatalf("y=%v, want %v", y, c.wantY)
				}
			}
		})
	}
}

// writeCIFAR10 writes batches 1..5 with per[i] records each (record seed
// = global index, label = global index % 10) and a test batch of 2.
func writeCIFAR10(t *testing.T, dir string, per []int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	k := 0
	for i, name := range cifar10.train {
		var b []byte
		for range per[i] {
			b = append(b, cifarRecord([]byte{byte(k % 10)}, k)...)
			k++
		}
		writeFile(t, filepath.Join(dir, name), b)
	}
	test := append(cifarRecord([]byte{4}, 100), cifarRecord([]byte{5}, 101)...)
	writeFile(t, filepath.Join(dir, "test_batch.bin"), test)
}

// wantCIFAR returns the normalised value of pixel (c, y, x) of record seed.
func wantCIFAR(f *cifarFormat, seed, c, y, x int) float32 {
	return float32((float64(pixVal(seed, c, y, x))/255 - f.mean[c]) / f.std[c])
}

func TestLoadCIFAR10(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "cifar-10-batches-bin")
	writeCIFAR10(t, dir, []int{2, 1, 3, 1, 2})
	for _, spec := range []string{"cifar10:" + dir, "cifar10:" + parent, "CIFAR10:" + parent} {
		t.Run(spec, func(t *testing.T) {
			d, err := Load(spec, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Name != spec || d.Shape != [3]int{3, 32, 32} || d.Dim() != 3072 || d.Classes != 10 || d.Train.N != 9 || d.Test.N != 2 ||
				len(d.Train.X) != 9*3072 || len(d.Test.X) != 2*3072 {
				t.Fatalf("got Name %q Shape %v Classes %d N %d/%d", d.Name, d.Shape, d.Classes, d.Train.N, d.Test.N)
			}
			if d.Mean[0] != 0.4914 || d.Mean[2] != 0.4465 || d.Std[1] != 0.2435 || len(d.Mean) != 3 || len(d.Std) != 3 {
				t.Errorf("Mean %v Std %v", d.Mean, d.Std)
			}
			// Training records come in batch order: record k has label k%10.
			for k := range 9 {
				if d.Train.Y[k] != int32(k%10) {
					t.Fatalf("train Y %v", d.Train.Y)
				}
			}
			// C,H,W placement and per-channel normalisation.
			for _, p := range []struct{ k, c, y, x int }{{0, 0, 0, 0}, {5, 1, 7, 30}, {8, 2, 31, 31}, {3, 2, 0, 1}} {
				got := d.Train.X[p.k*3072+p.c*1024+p.y*32+p.x]
				if want := wantCIFAR(&cifar10, p.k, p.c, p.y, p.x); got != want {
					t.Errorf("train record %d pixel c%d y%d x%d = %v, want %v", p.k, p.c, p.y, p.x, got, want)
				}
			}
			if got, want := d.Test.X[1*3072+2*1024+3*32+4], wantCIFAR(&cifar10, 101, 2, 3, 4); got != want || d.Test.Y[1] != 5 {
				t.Errorf("test record 1: pixel %v want %v, label %d want 5", got, want, d.Test.Y[1])
			}
		})
	}
	// Subset across batch boundaries.
	d, err := Load("cifar10:"+dir, Options{TrainN: 4, TestN: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.N != 4 || len(d.Train.X) != 4*3072 || d.Test.N != 1 || d.Train.Y[3] != 3 ||
		d.Train.X[3*3072+5] != wantCIFAR(&cifar10, 3, 0, 0, 5) {
		t.Errorf("subset: N %d/%d Y %v", d.Train.N, d.Test.N, d.Train.Y)
	}
	_, err = Load("cifar10:"+dir, Options{TrainN: 10})
	checkErr(t, err, "TrainN 10 is more than the 9 samples in "+filepath.Join(dir, "data_batch_1.bin"))
}

func TestLoadCIFAR100(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "cifar-100-binary")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var train []byte
	for k := range 3 {
		train = append(train, cifarRecord([]byte{byte(19 - k), byte(97 + k)}, k)...) // coarse, fine
	}
	writeFile(t, filepath.Join(dir, "train.bin"), train)
	writeFile(t, filepath.Join(dir, "test.bin"), cifarRecord([]byte{0, 42}, 50))
	for _, spec := range []string{"cifar100:" + dir, "cifar100:" + parent} {
		d, err := Load(spec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Classes != 100 || d.Train.N != 3 || d.Test.N != 1 || d.Shape != [3]int{3, 32, 32} {
			t.Fatalf("got Classes %d N %d/%d Shape %v", d.Classes, d.Train.N, d.Test.N, d.Shape)
		}
		if d.Train.Y[0] != 97 || d.Train.Y[2] != 99 || d.Test.Y[0] != 42 {
			t.Errorf("fine labels: train %v test %v, want [97 98 99] [42]", d.Train.Y, d.Test.Y)
		}
		if d.Mean[1] != 0.4865 || d.Std[2] != 0.2762 {
			t.Errorf("Mean %v Std %v", d.Mean, d.Std)
		}
		if got, want := d.Train.X[2*3072+1*1024+31*32], wantCIFAR(&cifar100, 2, 1, 31, 0); got != want {
			t.Errorf("pixel %v, want %v", got, want)
		}
		if got, want := d.Test.X[2*1024+10*32+20], wantCIFAR(&cifar100, 50, 2, 10, 20); got != want {
			t.Errorf("test pixel %v, want %v", got, want)
		}
	}
}
