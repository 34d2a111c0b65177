// Package safetensors reads and writes the safetensors format
// (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
// length N, N bytes of JSON mapping each tensor name to its dtype, shape and
// byte range, an optional "__metadata__" map of strings, then the raw
// little-endian tensor bytes. A PyTorch user opens faudit's checkpoints with
// safetensors.torch.load_file(path), or with 20 lines of numpy.
//
// Writing is deterministic: tensors are laid out in the order given, and the
// JSON header is marshalled with sorted keys.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/faudit/faudit/internal/atomicfile"
)

// Tensor is one named array of raw little-endian bytes.
type Tensor struct {
	Name  string
	DType string // "F32", "F64", "I64", "U64"
	Shape []int
	Data  []byte
}

type entry struct {
	DType       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets [2]int `json:"data_offsets"`
}

var dtypeSize = map[string]int{"F32": 4, "F64": 8, "I64": 8, "U64": 8}

// Encode serialises tensors and metadata.
func Encode(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	off := 0
	for _, t := range tensors {
		if _, dup := header[t.Name]; dup || t.Name == "" {
			return nil, fmt.Errorf("safetensors: duplicate or empty tensor name %q", t.Name)
		}
		if err := checkSize(t); err != nil {
			return nil, err
		}
		header[t.Name] = entry{t.DType, t.Shape, [2]int{off, off + len(t.Data)}}
		off += len(t.Data)
	}
	h, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	for len(h)%8 != 0 { // align the data; the spec allows trailing spaces
		h = append(h, ' ')
	}
	out := make([]byte, 8, 8+len(h)+off)
	binary.LittleEndian.PutUint64(out, uint64(len(h)))
	out = append(out, h...)
	for _, t := range tensors {
		out = append(out, t.Data...)
	}
	return out, nil
}

func checkSize(t Tensor) error {
	sz, ok := dtypeSize[t.DType]
	if !ok {
		return fmt.Errorf("safetensors: tensor %q: unsupported dtype %q", t.Name, t.DType)
	}
	n := 1
	for _, s := range t.Shape {
		if s < 0 || (s > 0 && n > math.MaxInt32/s) {
			return fmt.Errorf("safetensors: tensor %q: impossible shape %v", t.Name, t.Shape)
		}
		n *= s
	}
	if n*sz != len(t.Data) {
		return fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, has %d", t.Name, t.Shape, t.DType, n*sz, len(t.Data))
	}
	return nil
}

// WriteFile encodes and writes atomically.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	b, err := Encode(tensors, metadata)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b)
}

// Decode parses a safetensors file's bytes; tensors come back sorted by
// their byte offset (the order they were written).
func Decode(b []byte) ([]Tensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("truncated: %d bytes, expected at least an 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("truncated: header length %d exceeds the %d bytes that follow", n, len(b)-8)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, nil, fmt.Errorf("corrupt header: %v", err)
	}
	data := b[8+n:]
	var meta map[string]string
	var ts []Tensor
	var offs []int
	for name, r := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(r, &meta); err != nil {
				return nil, nil, fmt.Errorf("corrupt __metadata__: %v", err)
			}
			continue
		}
		var e entry
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: corrupt entry: %v", name, err)
		}
		s, end := e.DataOffsets[0], e.DataOffsets[1]
		if s < 0 || end < s || end > len(data) {
			return nil, nil, fmt.Errorf("tensor %q: byte range [%d,%d) outside the %d data bytes", name, s, end, len(data))
		}
		t := Tensor{Name: name, DType: e.DType, Shape: e.Shape, Data: data[s:end]}
		if err := checkSize(t); err != nil {
			return nil, nil, err
		}
		ts = append(ts, t)
		offs = append(offs, s)
	}
	idx := make([]int, len(ts))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return offs[idx[a]] < offs[idx[b]] })
	sorted := make([]Tensor, len(ts))
	for i, j := range idx {
		sorted[i] = ts[j]
	}
	return sorted, meta, nil
}

// ReadFile reads and decodes path; errors name the file.
func ReadFile(path string) ([]Tensor, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	ts, meta, err := Decode(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	return ts, meta, nil
}

// Float64s and Float32s convert between float slices and raw bytes.
func Float64s(b []byte) []float64 {
	out := make([]float64, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out
}

func Float32s(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// FromFloats encodes a float32 or float64 slice as a tensor.
func FromFloats[T ~float32 | ~float64](name string, shape []int, x []T) Tensor {
	var zero T
	if _, is32 := any(zero).(float32); is32 {
		b := make([]byte, 4*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(v)))
		}
		return Tensor{name, "F32", shape, b}
	}
	b := make([]byte, 8*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(float64(v)))
	}
	return Tensor{name, "F64", shape, b}
}

// ToFloats decodes an F32 or F64 tensor into T, converting if needed.
func ToFloats[T ~float32 | ~float64](t Tensor) ([]T, error) {
	var out []T
	switch t.DType {
	case "F64":
		for _, v := range Float64s(t.Data) {
			out = append(out, T(v))
		}
	case "F32":
		for _, v := range Float32s(t.Data) {
			out = append(out, T(v))
		}
	default:
		return nil, fmt.Errorf("tensor %q: dtype %s is not a float", t.Name, t.DType)
	}
	return out, nil
}
