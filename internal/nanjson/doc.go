// Package nanjson reads and writes JSON whose floats may be NaN or ±Inf,
// which JSON cannot hold. Marshal and MarshalIndent write them as null;
// Unmarshal reads a null float back as NaN (encoding/json would leave 0,
// which reads as a real measurement). ±Inf therefore come back as NaN.
//
// The writers honour json tags as encoding/json does for the files faudit
// writes: names, "-", omitempty, and untagged embedded structs, whose fields
// are flattened into the parent. Unlike encoding/json, object keys come out
// sorted (struct fields included), and MarshalJSON methods of structs,
// slices and maps are not called.
package nanjson
