package data

import (
	"encoding/binary"
	"strings"
	"testing"
)

func checkParseErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && (err.Error() == "" || strings.ContainsAny(err.Error(), "\n\r")) {
		t.Fatalf("bad error message %q", err)
	}
}

func FuzzParseIDXImages(f *testing.F) {
	f.Add(idxImagesBytes(tTrainN, tRows, tCols, tPix(tTrainN, 0)))
	f.Add(idxImagesBytes(1, 28, 28, make([]byte, 784)))
	f.Add(idxImagesBytes(0, 1, 1, nil))
	f.Add(idxImagesBytes(0xffffffff, 0xffffffff, 0xffffffff, []byte{1, 2, 3}))
	f.Add(idxLabelsBytes([]byte{1, 2}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, rows, cols, pix, err := parseIDXImages(b)
		checkParseErr(t, err)
		if err != nil {
			return
		}
		if n < 0 || rows < 1 || cols < 1 || len(pix) != n*rows*cols || len(b) != 16+len(pix) {
			t.Fatalf("n=%d rows=%d cols=%d len(pix)=%d len(b)=%d", n, rows, cols, len(pix), len(b))
		}
		if binary.BigEndian.Uint32(b) != idxImageMagic || int(binary.BigEndian.Uint32(b[4:])) != n {
			t.Fatalf("accepted a header it should not: % x", b[:16])
		}
		_ = convertGray(pix, 0.5, 0.25)
	})
}

func FuzzParseIDXLabels(f *testing.F) {
	f.Add(idxLabelsBytes(tTrainLabels), uint8(10))
	f.Add(idxLabelsBytes([]byte{0, 12, 255}), uint8(0))
	f.Add(idxLabelsBytes(nil), uint8(255))
	f.Add([]byte{0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff}, uint8(10))
	f.Add(idxImagesBytes(1, 1, 1, []byte{3}), uint8(10))
	f.Fuzz(func(t *testing.T, b []byte, classes uint8) {
		y, err := parseIDXLabels(b, int(classes))
		checkParseErr(t, err)
		if err != nil {
			return
		}
		if len(b) != 8+len(y) || int(binary.BigEndian.Uint32(b[4:])) != len(y) {
			t.Fatalf("len(b)=%d, %d labels", len(b), len(y))
		}
		for i, v := range y {
			if v < 0 || int(v) >= int(classes) || int32(b[8+i]) != v {
				t.Fatalf("label %d at %d accepted with %d classes", v, i, classes)
			}
		}
	})
}

func FuzzParseCIFAR(f *testing.F) {
	f.Add(cifarRecord([]byte{3}, 0), false)
	f.Add(append(cifarRecord([]byte{9}, 1), cifarRecord([]byte{0}, 2)...), false)
	f.Add(cifarRecord([]byte{19, 99}, 3), true)
	f.Add(cifarRecord([]byte{0, 100}, 3), true)
	f.Add(cifarRecord([]byte{1}, 0)[:100], false)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, b []byte, hundred bool) {
		fm := &cifar10
		if hundred {
			fm = &cifar100
		}
		n, y, err := parseCIFARRecords(b, fm.labelBytes, fm.labelIndex, fm.classes)
		checkParseErr(t, err)
		if err != nil {
			return
		}
		rec := fm.labelBytes + cifarPixels
		if n < 1 || len(y) != n || len(b) != n*rec {
			t.Fatalf("n=%d len(y)=%d len(b)=%d", n, len(y), len(b))
		}
		for i, v := range y {
			if v < 0 || int(v) >= fm.classes || int32(b[i*rec+fm.labelIndex]) != v {
				t.Fatalf("label %d of record %d", v, i)
			}
		}
		s := convertCIFAR([]*cifarFile{{b: b, n: n, labels: y}}, n, fm)
		if len(s.X) != n*cifarPixels || s.N != n {
			t.Fatalf("converted %d values for %d records", len(s.X), n)
		}
	})
}

func FuzzGunzip(f *testing.F) {
	f.Add(gzipBytes(f, idxLabelsBytes(tTrainLabels)))
	f.Add(gzipBytes(f, nil))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte("not gzip"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := gunzip(b)
		checkParseErr(t, err)
		if err == nil && len(out) > maxDecompressed {
			t.Fatalf("decompressed %d bytes", len(out))
		}
	})
}
