package nanjson

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

var (
	nan  = math.NaN()
	inf  = math.Inf(1)
	ninf = math.Inf(-1)
)

type Inner struct {
	Shared float64 `json:"shared"`
}

type Other struct {
	O float64 `json:"o"`
}

type tagged struct {
	Inner                    // untagged embedded: flattened
	Other    `json:"other"`  // tagged embedded: nested, as a named field
	Named    Inner           `json:"named"`
	X        float64         `json:"x"`
	Opt      float64         `json:"opt,omitempty"`
	OptList  []float64       `json:"opt_list,omitempty"`
	Skip     float64         `json:"-"`
	Untagged float64         // the Go name
	hidden   float64         // unexported: never written
	Ptr      *float64        `json:"ptr"`
	F32      float32         `json:"f32"`
	Raw      json.RawMessage `json:"raw"`
}

func TestMarshalWritesNaNAndInfAsNull(t *testing.T) {
	half := 0.5
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"NaN", nan, `null`},
		{"+Inf", inf, `null`},
		{"-Inf", ninf, `null`},
		{"float32 NaN", float32(nan), `null`},
		{"real float", 0.25, `0.25`},
		{"tiny float", 1e-300, `1e-300`},
		{"int and string", []any{3, "a", true}, `[3,"a",true]`},
		{"slice", []float64{1, nan, inf, -2}, `[1,null,null,-2]`},
		{"array", [2]float64{nan, 3}, `[null,3]`},
		{"nil slice", []float64(nil), `null`},
		{"nil pointer", (*float64)(nil), `null`},
		{"pointer to NaN", &nan, `null`},
		{"nested maps and slices", map[string]any{"b": []any{map[string]float64{"y": ninf, "x": 1}}, "a": nan},
			`{"a":null,"b":[{"x":1,"y":null}]}`},
		{"map of structs", map[string]Inner{"k": {Shared: nan}}, `{"k":{"shared":null}}`},
		{"struct: tags, omitempty, embedded", tagged{Inner: Inner{Shared: nan}, Other: Other{nan}, Named: Inner{Shared: 2}, X: inf, Skip: 9,
			Untagged: 4, hidden: 5, Ptr: &half, F32: 1.5, Raw: json.RawMessage(`{"as":"is"}`)},
			`{"Untagged":4,"f32":1.5,"named":{"shared":2},"other":{"o":null},"ptr":0.5,"raw":{"as":"is"},"shared":null,"x":null}`},
		{"omitempty keeps non-zero and NaN", tagged{Opt: nan, OptList: []float64{nan}},
			`{"Untagged":0,"f32":0,"named":{"shared":0},"opt":null,"opt_list":[null],"other":{"o":0},"ptr":null,"raw":null,"shared":0,"x":0}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("Marshal:\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestMarshalIndent(t *testing.T) {
	got, err := MarshalIndent(struct {
		A float64   `json:"a"`
		B []float64 `json:"b"`
	}{nan, []float64{1, inf}}, ">", "  ")
	want := "{\n>  \"a\": null,\n>  \"b\": [\n>    1,\n>    null\n>  ]\n>}"
	if err != nil || string(got) != want {
		t.Errorf("MarshalIndent: %v\n got %q\nwant %q", err, got, want)
	}
}

type record struct {
	Inner
	A     float64            `json:"a"`
	B     []float64          `json:"b"`
	M     map[string]float64 `json:"m"`
	S     map[string]Inner   `json:"s"`
	P     *Inner             `json:"p"`
	Skip  float64            `json:"-"`
	Count int                `json:"count"`
	Name  string             `json:"name"`
}

// same is reflect.DeepEqual with NaN equal to NaN.
func same(a, b any) bool {
	ja, _ := Marshal(a)
	jb, _ := Marshal(b)
	return reflect.DeepEqual(nanPaths(a), nanPaths(b)) && string(ja) == string(jb)
}

// nanPaths lists where a value holds NaN (Marshal alone cannot tell NaN
// from a nil pointer).
func nanPaths(v any) []string {
	var out []string
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(path+"*", v.Elem())
			}
		case reflect.Float64:
			if math.IsNaN(v.Float()) {
				out = append(out, path)
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(path+"[]", v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(path+"."+k.String(), v.MapIndex(k))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		}
	}
	walk("", reflect.ValueOf(v))
	return out
}

func TestUnmarshalReadsNullAsNaN(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want record
	}{
		{"real values survive", `{"a":0.5,"b":[1,2],"m":{"x":3},"count":2,"name":"n","shared":7}`,
			record{Inner: Inner{7}, A: 0.5, B: []float64{1, 2}, M: map[string]float64{"x": 3}, Count: 2, Name: "n"}},
		{"null float field", `{"a":null}`, record{A: nan}},
		{"null in a slice", `{"b":[1,null,3]}`, record{B: []float64{1, nan, 3}}},
		{"null in a map", `{"m":{"x":null,"y":1}}`, record{M: map[string]float64{"x": nan, "y": 1}}},
		{"null in a map of structs", `{"s":{"k":{"shared":null}}}`, record{S: map[string]Inner{"k": {nan}}}},
		{"null in an embedded struct", `{"shared":null}`, record{Inner: Inner{nan}}},
		{"null in a pointed-to struct", `{"p":{"shared":null}}`, record{P: &Inner{nan}}},
		{"null pointer stays nil", `{"p":null}`, record{}},
		{"missing keys stay zero", `{}`, record{}},
		{"a \"-\" field is not read", `{"Skip":null}`, record{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got record
			if err := Unmarshal([]byte(c.in), &got); err != nil {
				t.Fatal(err)
			}
			if !same(got, c.want) {
				t.Errorf("Unmarshal(%s):\n got %+v (NaN at %v)\nwant %+v (NaN at %v)", c.in, got, nanPaths(got), c.want, nanPaths(c.want))
			}
		})
	}
}

func TestUnmarshalTopLevelAndErrors(t *testing.T) {
	var f float64 = 1
	if err := Unmarshal([]byte(`null`), &f); err != nil || !math.IsNaN(f) {
		t.Errorf("top-level null float: %v, %v; want NaN", f, err)
	}
	var s []float64
	if err := Unmarshal([]byte(`[null, 2]`), &s); err != nil || len(s) != 2 || !math.IsNaN(s[0]) || s[1] != 2 {
		t.Errorf("top-level slice: %v, %v", s, err)
	}
	var r record
	if err := Unmarshal([]byte(`{"a":`), &r); err == nil {
		t.Error("truncated JSON: want an error")
	}
	if err := Unmarshal([]byte(`{"a":"x"}`), &r); err == nil || !strings.Contains(err.Error(), "string") {
		t.Errorf("wrong type: %v; want encoding/json's error", err)
	}
}

func TestRoundTrip(t *testing.T) {
	in := record{Inner: Inner{inf}, A: nan, B: []float64{ninf, 1}, M: map[string]float64{"x": nan}, P: &Inner{2}, Count: 3}
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out record
	if err := Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	// ±Inf are written as null too, so they come back as NaN.
	want := record{Inner: Inner{nan}, A: nan, B: []float64{nan, 1}, M: map[string]float64{"x": nan}, P: &Inner{2}, Count: 3}
	if !same(out, want) {
		t.Errorf("round trip of %s: %+v; want %+v", b, out, want)
	}
}
