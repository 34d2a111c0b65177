package report

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
)

// The JSON files faudit writes hold NaN and ±Inf as null. decodeJSON reads
// them back with NaN where a float was null (encoding/json would leave 0,
// which reads as a real measurement); jsonSafe goes the other way for
// report.json.

// decodeJSON unmarshals b into dst (a pointer) and sets every float field
// whose JSON value is null to NaN.
func decodeJSON(b []byte, dst any) error {
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

// nullsToNaN walks v alongside its generic JSON tree and sets floats that
// were null to NaN.
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
		structNullsToNaN(v, obj)
	}
}

func structNullsToNaN(v reflect.Value, obj map[string]any) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, skip := jsonName(f)
		if skip {
			continue
		}
		fv := v.Field(i)
		if f.Anonymous && name == "" && fv.Kind() == reflect.Struct {
			structNullsToNaN(fv, obj)
			continue
		}
		if name == "" {
			name = f.Name
		}
		if sub, ok := obj[name]; ok {
			nullsToNaN(fv, sub)
		}
	}
}

// jsonName is a field's JSON name ("" when untagged), its tag options, and
// whether encoding/json ignores it.
func jsonName(f reflect.StructField) (name, opts string, skip bool) {
	if !f.IsExported() {
		return "", "", true
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", "", true
	}
	name, opts, _ = strings.Cut(tag, ",")
	return name, opts, false
}

// jsonSafe converts v into maps, slices and scalars that encoding/json can
// marshal, honouring json tags (names, omitempty, "-", embedded structs) and
// turning NaN and ±Inf into null.
func jsonSafe(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Invalid:
		return nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return jsonSafe(v.Elem())
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
		return nil
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		if v.Type() == reflect.TypeOf(json.RawMessage(nil)) {
			return json.RawMessage(v.Bytes())
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = jsonSafe(v.Index(i))
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[k.String()] = jsonSafe(v.MapIndex(k))
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		addSafeFields(out, v)
		return out
	}
	return v.Interface()
}

func addSafeFields(out map[string]any, v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, skip := jsonName(f)
		if skip {
			continue
		}
		fv := v.Field(i)
		if f.Anonymous && name == "" && fv.Kind() == reflect.Struct {
			addSafeFields(out, fv)
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(opts, "omitempty") && fv.IsZero() {
			continue
		}
		out[name] = jsonSafe(fv)
	}
}

// marshalSafe is json.MarshalIndent with NaN and ±Inf written as null.
func marshalSafe(v any) ([]byte, error) {
	b, err := json.MarshalIndent(jsonSafe(reflect.ValueOf(v)), "", "  ")
	return append(b, '\n'), err
}
