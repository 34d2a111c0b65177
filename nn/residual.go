package nn

// ResidualForward: out[N] = a[N] + f[N] (the skip connection h + f(h)).
func ResidualForward[T Float](out, a, f []T) {
	for i := range out {
		out[i] = a[i] + f[i]
	}
}

// ResidualBackward: the gradient reaching a residual sum flows unchanged to
// both summands, so da[N] = dskip[N] + dbranch[N], where dbranch is what the
// branch f sent back to its input and dskip = dout.
func ResidualBackward[T Float](da, dskip, dbranch []T) {
	for i := range da {
		da[i] = dskip[i] + dbranch[i]
	}
}
