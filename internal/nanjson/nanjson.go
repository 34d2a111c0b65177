package nanjson

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
)

// Marshal is json.Marshal with NaN and ±Inf written as null.
func Marshal(v any) ([]byte, error) {
	return json.Marshal(safe(reflect.ValueOf(v)))
}

// MarshalIndent is json.MarshalIndent with NaN and ±Inf written as null.
func MarshalIndent(v any, prefix, indent string) ([]byte, error) {
	return json.MarshalIndent(safe(reflect.ValueOf(v)), prefix, indent)
}

// Unmarshal is json.Unmarshal into dst (a pointer) that also sets every
// float whose JSON value is null to NaN.
func Unmarshal(b []byte, dst any) error {
	if err := json.Unmarshal(b, dst); err != nil {
		return err
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return err
	}
	nullsToNaN(reflect.ValueOf(dst), tree)
	return nil
}

var rawMessage = reflect.TypeOf(json.RawMessage(nil))

// safe converts v into maps, slices and scalars that encoding/json can
// marshal, with NaN and ±Inf turned into nil.
func safe(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Invalid:
		return nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return safe(v.Elem())
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
		return nil
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		if v.Type() == rawMessage {
			return json.RawMessage(v.Bytes())
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = safe(v.Index(i))
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[k.String()] = safe(v.MapIndex(k))
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		fields(v, func(name, opts string, fv reflect.Value) {
			if strings.Contains(opts, "omitempty") && fv.IsZero() {
				return
			}
			out[name] = safe(fv)
		})
		return out
	}
	return v.Interface()
}

// nullsToNaN walks v alongside its generic JSON tree and sets the floats
// that were null to NaN.
func nullsToNaN(v reflect.Value, tree any) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			nullsToNaN(v.Elem(), tree)
		}
	case reflect.Float32, reflect.Float64:
		if tree == nil && v.CanSet() {
			v.SetFloat(math.NaN())
		}
	case reflect.Slice, reflect.Array:
		items, _ := tree.([]any)
		for i := 0; i < v.Len() && i < len(items); i++ {
			nullsToNaN(v.Index(i), items[i])
		}
	case reflect.Map:
		obj, _ := tree.(map[string]any)
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			sub, ok := obj[k.String()]
			if !ok {
				continue
			}
			// Map elements are not addressable: fix a copy and put it back.
			elem := reflect.New(v.Type().Elem()).Elem()
			elem.Set(v.MapIndex(k))
			nullsToNaN(elem, sub)
			v.SetMapIndex(k, elem)
		}
	case reflect.Struct:
		obj, ok := tree.(map[string]any)
		if !ok {
			return
		}
		fields(v, func(name, _ string, fv reflect.Value) {
			if sub, ok := obj[name]; ok {
				nullsToNaN(fv, sub)
			}
		})
	}
}

// fields calls f with the JSON name, the tag options and the value of every
// exported field of the struct v that is not tagged "-"; the fields of an
// untagged embedded struct come as the parent's own.
func fields(v reflect.Value, f func(name, opts string, fv reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if !sf.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if sf.Anonymous && name == "" && fv.Kind() == reflect.Struct {
			fields(fv, f)
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f(name, opts, fv)
	}
}
