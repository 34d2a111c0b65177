package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
)

// maxDecompressed bounds what one gzipped file may expand to (the largest
// real file, MNIST train images, is 47 MB).
const maxDecompressed = 2 << 30

// checkDir verifies that dir exists and is a directory.
func checkDir(spec, dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return newErr(err, dir, "directory not found (spec %q)", spec)
	case err != nil:
		return newErr(err, dir, "cannot read directory (%v)", unwrapPath(err))
	case !st.IsDir():
		return fileErr(dir, "is a file, not a directory (spec %q expects a directory)", spec)
	}
	return nil
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readFile reads path whole; a name ending in .gz must be gzip data and is
// decompressed, and a raw name that nevertheless starts with the gzip magic
// is decompressed too.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, newErr(err, path, "file not found")
	}
	if err != nil {
		return nil, newErr(err, path, "cannot read (%v)", unwrapPath(err))
	}
	isGz := len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b
	if strings.HasSuffix(path, ".gz") || isGz {
		out, err := gunzip(b)
		if err != nil {
			return nil, wrapParse(path, err)
		}
		return out, nil
	}
	return b, nil
}

// gunzip decompresses gzip data (all members), refusing output larger than
// maxDecompressed.
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, parseErr("bad gzip data (%v)", gzipReason(err))
	}
	defer zr.Close()
	// The gzip trailer holds the size mod 2^32 of the last member; use it
	// as a capacity hint, bounded by the maximal deflate ratio.
	hint := 0
	if len(b) >= 18 {
		hint = int(binary.LittleEndian.Uint32(b[len(b)-4:]))
		if limit := len(b) * 1100; hint > limit {
			hint = limit
		}
		if hint > maxDecompressed {
			hint = maxDecompressed
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, hint+bytes.MinRead))
	n, err := buf.ReadFrom(io.LimitReader(zr, maxDecompressed+1))
	if err != nil {
		return nil, parseErr("bad gzip data (%v)", gzipReason(err))
	}
	if n > maxDecompressed {
		return nil, parseErr("gzip data decompresses to more than %d bytes (expected at most that)", maxDecompressed)
	}
	return buf.Bytes(), nil
}

func gzipReason(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "truncated: unexpected end of data"
	}
	return err.Error()
}

// unwrapPath drops the path from an *fs.PathError, which the caller already
// names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
