package safetensors

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTripAndDeterminism(t *testing.T) {
	w := []float64{1.5, -2, 3.25e-300, 7}
	ts := []Tensor{FromFloats("b.weight", []int{2, 2}, w), FromFloats("a.bias", []int{3}, []float32{1, 2, 3})}
	meta := map[string]string{"epoch": "3", "config": `{"x":1}`}
	b1, err := Encode(ts, meta)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := Encode(ts, meta)
	if !bytes.Equal(b1, b2) {
		t.Fatal("two encodings of the same tensors differ")
	}
	if hl := binary.LittleEndian.Uint64(b1); (8+hl)%8 != 0 {
		t.Errorf("data does not start 8-byte aligned (header %d bytes)", hl)
	}
	p := filepath.Join(t.TempDir(), "c.safetensors")
	if err := WriteFile(p, ts, meta); err != nil {
		t.Fatal(err)
	}
	got, gm, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "b.weight" || got[1].Name != "a.bias" {
		t.Fatalf("tensors came back as %v", got)
	}
	back, _ := ToFloats[float64](got[0])
	for i := range w {
		if back[i] != w[i] {
			t.Errorf("value %d: %v, want %v", i, back[i], w[i])
		}
	}
	if gm["epoch"] != "3" || gm["config"] != `{"x":1}` {
		t.Errorf("metadata came back as %v", gm)
	}
}

func TestDecodeRejectsCorruptFiles(t *testing.T) {
	good, _ := Encode([]Tensor{FromFloats("w", []int{2}, []float64{1, 2})}, nil)
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"header past end", good[:20], "truncated"},
		{"data cut", good[:len(good)-3], "outside"},
		{"not json", append([]byte{4, 0, 0, 0, 0, 0, 0, 0}, "{{{{"...), "corrupt header"},
	} {
		if _, _, err := Decode(tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Encode([]Tensor{{Name: "w", DType: "F64", Shape: []int{3}, Data: make([]byte, 8)}}, nil); err == nil {
		t.Error("Encode accepted a tensor whose shape disagrees with its bytes")
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode([]Tensor{FromFloats("w", []int{2}, []float64{1, 2})}, map[string]string{"k": "v"})
	f.Add(good)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, _, err := Decode(b)
		if err == nil {
			for _, x := range ts {
				if checkSize(x) != nil {
					t.Fatalf("decoded tensor %q has inconsistent size", x.Name)
				}
			}
		}
	})
}
