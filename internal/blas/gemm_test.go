package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naive is the float64 reference: C = alpha·op(A)·op(B) + beta·C.
func naive(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				var av, bv float64
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

type gemmCase struct {
	tA, tB  bool
	m, n, k int
	pad     int // extra leading-dimension padding
	alpha   float64
	beta    float64
}

func cases() []gemmCase {
	var cs []gemmCase
	shapes := [][3]int{{1, 1, 1}, {7, 33, 5}, {13, 10, 300}, {130, 257, 103}, {64, 1, 17}, {5, 5, 0}, {200, 31, 64}}
	for _, s := range shapes {
		for _, t := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, ab := range [][2]float64{{1, 0}, {0.5, 1}, {-2, 0.25}} {
				cs = append(cs, gemmCase{t[0], t[1], s[0], s[1], s[2], s[2] % 3, ab[0], ab[1]})
			}
		}
	}
	return cs
}

func operands(c gemmCase, rng *rand.Rand) (a []float64, lda int, b []float64, ldb int, cm []float64, ldc int) {
	ar, ac := c.m, c.k
	if c.tA {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.tB {
		br, bc = c.n, c.k
	}
	lda, ldb, ldc = max(ac+c.pad, 1), max(bc+c.pad, 1), max(c.n+c.pad, 1)
	fill := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		return x
	}
	return fill(max(ar*lda, 1)), lda, fill(max(br*ldb, 1)), ldb, fill(max(c.m*ldc, 1)), ldc
}

func convert[T Float](x []float64) []T {
	y := make([]T, len(x))
	for i, v := range x {
		y[i] = T(v)
	}
	return y
}

// maxRelErr is max|got-want| / max(1, max|want|) over the m×n block.
func maxRelErr[T Float](got []T, want []float64, m, n, ld int) float64 {
	scale, e := 1.0, 0.0
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			scale = math.Max(scale, math.Abs(want[i*ld+j]))
		}
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			e = math.Max(e, math.Abs(float64(got[i*ld+j])-want[i*ld+j]))
		}
	}
	return e / scale
}

type gemmFunc[T Float] func(tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

func checkImpl[T Float](t *testing.T, name string, f gemmFunc[T], tol func(k int) float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases() {
		a, lda, b, ldb, cm, ldc := operands(c, rng)
		want := append([]float64(nil), cm...)
		naive(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, want, ldc)
		got := convert[T](cm)
		if c.beta == 0 { // beta == 0 must overwrite C, NaNs included
			for i := range got {
				got[i] = T(math.NaN())
			}
		}
		f(c.tA, c.tB, c.m, c.n, c.k, T(c.alpha), convert[T](a), lda, convert[T](b), ldb, T(c.beta), got, ldc)
		if e := maxRelErr(got, want, c.m, c.n, ldc); !(e <= tol(c.k)) {
			t.Errorf("%s %+v: max rel error %.3g > %.3g", name, c, e, tol(c.k))
		}
	}
}

func tol64(k int) float64 { return 1e-13 * math.Sqrt(float64(k)+1) }
func tol32(k int) float64 { return 2e-6 * math.Sqrt(float64(k)+1) }

// TestGemmAgainstReference checks the compiled backend (through the Go row
// split), the raw backend and gonum against a float64 triple loop, on odd
// shapes, padded leading dimensions and all four transpose cases.
func TestGemmAgainstReference(t *testing.T) {
	checkImpl[float64](t, "Gemm/"+Backend, Gemm[float64], tol64)
	checkImpl[float32](t, "Gemm/"+Backend, Gemm[float32], tol32)
	checkImpl[float64](t, "backend/"+Backend, backendGemm[float64], tol64)
	checkImpl[float32](t, "backend/"+Backend, backendGemm[float32], tol32)
	checkImpl[float64](t, "gonum", gonumGemm[float64], tol64)
	checkImpl[float32](t, "gonum", gonumGemm[float32], tol32)
}

// TestBackendsAgree cross-checks the compiled backend against gonum directly.
func TestBackendsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range cases() {
		a, lda, b, ldb, cm, ldc := operands(c, rng)
		x, y := append([]float64(nil), cm...), append([]float64(nil), cm...)
		Gemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, x, ldc)
		gonumGemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, y, ldc)
		if e := maxRelErr(x, y, c.m, c.n, ldc); e > tol64(c.k) {
			t.Errorf("%s vs gonum %+v: rel diff %.3g", Backend, c, e)
		}
	}
}

func TestGemmDeterministicAndAllocFree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	c := gemmCase{false, true, 256, 300, 200, 0, 1, 0}
	a, lda, b, ldb, cm, ldc := operands(c, rng)
	a32, b32 := convert[float32](a), convert[float32](b)
	first := make([]float32, len(cm))
	Gemm(c.tA, c.tB, c.m, c.n, c.k, 1, a32, lda, b32, ldb, 0, first, ldc)
	out := make([]float32, len(cm))
	allocs := testing.AllocsPerRun(20, func() {
		Gemm(c.tA, c.tB, c.m, c.n, c.k, 1, a32, lda, b32, ldb, 0, out, ldc)
		for i := range out {
			if out[i] != first[i] {
				t.Fatalf("element %d differs between identical calls: %v vs %v", i, out[i], first[i])
			}
		}
	})
	// gonum's BLAS spawns its own goroutines; only our split is held to zero.
	if Backend == "openblas" && allocs != 0 {
		t.Errorf("split Gemm allocates %.1f times per call, want 0", allocs)
	}
}

func TestGemmRejectsBadShapes(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Gemm with a too-short C did not panic")
		}
	}()
	Gemm(false, false, 4, 4, 4, 1.0, make([]float64, 16), 4, make([]float64, 16), 4, 0, make([]float64, 15), 4)
}

// BenchmarkGemm covers the ResMLP shapes of stack.md §1: Linear in→out at batch
// B, forward (NT: Y = X·Wᵀ with W out×in), input gradient (NN: dX = dY·W) and
// weight gradient (TN: dW = dYᵀ·X). Reports GFLOP/s.
func BenchmarkGemm(b *testing.B) {
	layers := [][2]int{{784, 256}, {256, 256}, {256, 1024}, {1024, 256}, {256, 10}}
	for _, prec := range []string{"f32", "f64"} {
		for _, l := range layers {
			in, out, B := l[0], l[1], 128
			for _, op := range []struct {
				name    string
				tA, tB  bool
				m, n, k int
			}{{"fwd", false, true, B, out, in}, {"bwdX", false, false, B, in, out}, {"bwdW", true, false, out, in, B}} {
				name := fmt.Sprintf("%s/%dx%d/%s/B%d", prec, in, out, op.name, B)
				b.Run(name, func(b *testing.B) {
					if prec == "f32" {
						benchGemm[float32](b, op.tA, op.tB, op.m, op.n, op.k)
					} else {
						benchGemm[float64](b, op.tA, op.tB, op.m, op.n, op.k)
					}
				})
			}
		}
	}
}

func benchGemm[T Float](b *testing.B, tA, tB bool, m, n, k int) {
	a, bb, c := make([]T, m*k), make([]T, k*n), make([]T, m*n)
	for i := range a {
		a[i] = T(i%7) - 3
	}
	for i := range bb {
		bb[i] = T(i%5) - 2
	}
	lda, ldb := k, n
	if tA {
		lda = m
	}
	if tB {
		ldb = k
	}
	for b.Loop() {
		Gemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestGemmPartsCoverProduct: running every part of a split by rows
// (GemmPart) or by columns (GemmColPart) computes the whole product.
func TestGemmPartsCoverProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range cases() {
		for _, parts := range []int{1, 2, 3} {
			a, lda, b, ldb, cm, ldc := operands(c, rng)
			want := append([]float64(nil), cm...)
			naive(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, want, ldc)
			rows, cols := append([]float64(nil), cm...), append([]float64(nil), cm...)
			for p := 0; p < parts; p++ {
				GemmPart(p, parts, c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, rows, ldc)
				GemmColPart(p, parts, c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, cols, ldc)
			}
			if e := maxRelErr(rows, want, c.m, c.n, ldc); !(e <= tol64(c.k)) {
				t.Errorf("GemmPart ×%d %+v: max rel error %.3g", parts, c, e)
			}
			if e := maxRelErr(cols, want, c.m, c.n, ldc); !(e <= tol64(c.k)) {
				t.Errorf("GemmColPart ×%d %+v: max rel error %.3g", parts, c, e)
			}
		}
	}
}
