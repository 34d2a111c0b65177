//go:build cgo && !purego

package blas

/*
#cgo CFLAGS: -O2
#cgo LDFLAGS: -lm
#pragma GCC optimize("fp-contract=off")
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

// vdotdev returns its two sums by value (a pointer argument would make the
// Go variables escape to the heap).
typedef struct { double a, b; } sums2;

// AVX2 versions of the kernels in vec.go, same operations in the same order
// (no fused multiply-add: fp-contract=off, no FMA target, separate mul/add
// intrinsics), so they give the Go loops' results bit for bit. vec_ok says
// whether this CPU runs them; if not, the Go loops run instead.

#if defined(__x86_64__)
#include <immintrin.h>
#define TGT __attribute__((target("avx2")))

static int vec_ok(void) {
	static int v = -1;
	if (v < 0) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("avx2");
	}
	return v;
}

// Element-wise loops, generic over float (8 lanes) and double (4 lanes). In
// relu, max(0, NaN) is NaN and −0 + 0 = +0, as Go's max(x, 0). lnout and
// lngradout are LayerNorm's output and input-gradient loops over one row,
// given the row's statistics.
#define ELEMENTWISE(S, T, V, W, LD, ST, ADD, SUB, MUL, MAX, SET1, ZERO)                               \
TGT static void relu_##S(T *out, const T *x, size_t n) {                                              \
	const V z = ZERO();                                                                               \
	size_t i = 0;                                                                                     \
	for (; i + W <= n; i += W) ST(out + i, ADD(MAX(z, LD(x + i)), z)); \
	for (; i < n; i++) { T r = ((T)0 > x[i]) ? (T)0 : x[i]; out[i] = r + (T)0; }                        \
}                                                                                                     \
TGT static void add_##S(T *out, const T *a, const T *b, size_t n) {                                   \
	size_t i = 0;                                                                                     \
	for (; i + W <= n; i += W) ST(out + i, ADD(LD(a + i), LD(b + i)));                                \
	for (; i < n; i++) out[i] = a[i] + b[i];                                                          \
}                                                                                                     \
TGT static void colsum_##S(T *out, const T *x, size_t rows, size_t ld, size_t n) {                    \
	size_t j = 0;                                                                                     \
	for (; j + W <= n; j += W) {                                                                      \
		V s = ZERO();                                                                                 \
		size_t r = 0;                                                                                 \
		for (; r + 4 <= rows; r += 4) {                                                               \
			const T *p = x + r * ld + j;                                                              \
			s = ADD(ADD(ADD(ADD(s, LD(p)), LD(p + ld)), LD(p + 2 * ld)), LD(p + 3 * ld));             \
		}                                                                                             \
		for (; r < rows; r++) s = ADD(s, LD(x + r * ld + j));                                         \
		ST(out + j, s);                                                                               \
	}                                                                                                 \
	for (; j < n; j++) {                                                                              \
		T s = 0;                                                                                      \
		size_t r = 0;                                                                                 \
		for (; r + 4 <= rows; r += 4) {                                                               \
			const T *p = x + r * ld + j;                                                              \
			s = s + p[0] + p[ld] + p[2 * ld] + p[3 * ld];                                             \
		}                                                                                             \
		for (; r < rows; r++) s += x[r * ld + j];                                                     \
		out[j] = s;                                                                                   \
	}                                                                                                 \
}                                                                                                     \
TGT static void lndg_##S(T *dg, const T *dout, const T *x, const T *mean, const T *rstd,              \
		size_t rows, size_t ld, size_t n) {                                                           \
	size_t j = 0;                                                                                     \
	for (; j + W <= n; j += W) {                                                                      \
		V s = ZERO();                                                                                 \
		size_t r = 0;                                                                                 \
		for (; r + 4 <= rows; r += 4) {                                                               \
			V t[4];                                                                                   \
			for (int q = 0; q < 4; q++) {                                                             \
				const size_t o = (r + q) * ld + j;                                                    \
				t[q] = MUL(MUL(LD(dout + o), SUB(LD(x + o), SET1(mean[r + q]))), SET1(rstd[r + q]));  \
			}                                                                                         \
			s = ADD(ADD(ADD(ADD(s, t[0]), t[1]), t[2]), t[3]);                                        \
		}                                                                                             \
		for (; r < rows; r++) {                                                                       \
			const size_t o = r * ld + j;                                                              \
			s = ADD(s, MUL(MUL(LD(dout + o), SUB(LD(x + o), SET1(mean[r]))), SET1(rstd[r])));         \
		}                                                                                             \
		ST(dg + j, s);                                                                                \
	}                                                                                                 \
	for (; j < n; j++) {                                                                              \
		T s = 0;                                                                                      \
		size_t r = 0;                                                                                 \
		for (; r + 4 <= rows; r += 4) {                                                               \
			T t[4];                                                                                   \
			for (int q = 0; q < 4; q++) {                                                             \
				const size_t o = (r + q) * ld + j;                                                    \
				t[q] = (dout[o] * (x[o] - mean[r + q])) * rstd[r + q];                                \
			}                                                                                         \
			s = s + t[0] + t[1] + t[2] + t[3];                                                        \
		}                                                                                             \
		for (; r < rows; r++) {                                                                       \
			const size_t o = r * ld + j;                                                              \
			s += (dout[o] * (x[o] - mean[r])) * rstd[r];                                              \
		}                                                                                             \
		dg[j] = s;                                                                                    \
	}                                                                                                 \
}                                                                                                     \
TGT static void lnout_##S(T *out, const T *x, const T *g, const T *b, T m, T rs, size_t D) {          \
	const V mv = SET1(m), rv = SET1(rs);                                                              \
	size_t j = 0;                                                                                     \
	for (; j + W <= D; j += W)                                                                        \
		ST(out + j, ADD(MUL(MUL(SUB(LD(x + j), mv), rv), LD(g + j)), LD(b + j)));                     \
	for (; j < D; j++) out[j] = ((x[j] - m) * rs) * g[j] + b[j];                                      \
}                                                                                                     \
TGT static void lngradout_##S(T *dx, const T *dout, const T *x, const T *g, T m, T rs, T m1, T m2,   \
		size_t D) {                                                                                   \
	const V mv = SET1(m), rv = SET1(rs), m1v = SET1(m1), m2v = SET1(m2);                              \
	size_t j = 0;                                                                                     \
	for (; j + W <= D; j += W) {                                                                      \
		V xh = MUL(SUB(LD(x + j), mv), rv);                                                           \
		ST(dx + j, MUL(rv, SUB(SUB(MUL(LD(dout + j), LD(g + j)), m1v), MUL(xh, m2v))));              \
	}                                                                                                 \
	for (; j < D; j++) {                                                                              \
		T xh = (x[j] - m) * rs;                                                                       \
		dx[j] = rs * ((dout[j] * g[j] - m1) - xh * m2);                                               \
	}                                                                                                 \
}

ELEMENTWISE(f32, float, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_add_ps, _mm256_sub_ps,
	_mm256_mul_ps, _mm256_max_ps, _mm256_set1_ps, _mm256_setzero_ps)
ELEMENTWISE(f64, double, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_add_pd, _mm256_sub_pd,
	_mm256_mul_pd, _mm256_max_pd, _mm256_set1_pd, _mm256_setzero_pd)

TGT static void relugrad_f32(float *dx, const float *dout, const float *x, size_t n) {
	const __m256i z = _mm256_setzero_si256();
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256i m = _mm256_cmpgt_epi32(_mm256_castps_si256(_mm256_loadu_ps(x + i)), z);
		_mm256_storeu_ps(dx + i, _mm256_and_ps(_mm256_loadu_ps(dout + i), _mm256_castsi256_ps(m)));
	}
	for (; i < n; i++) {
		int32_t s; uint32_t d;
		memcpy(&s, x + i, 4); memcpy(&d, dout + i, 4);
		d = s > 0 ? d : 0;
		memcpy(dx + i, &d, 4);
	}
}

TGT static void relugrad_f64(double *dx, const double *dout, const double *x, size_t n) {
	const __m256i z = _mm256_setzero_si256();
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		__m256i m = _mm256_cmpgt_epi64(_mm256_castpd_si256(_mm256_loadu_pd(x + i)), z);
		_mm256_storeu_pd(dx + i, _mm256_and_pd(_mm256_loadu_pd(dout + i), _mm256_castsi256_pd(m)));
	}
	for (; i < n; i++) {
		int64_t s; uint64_t d;
		memcpy(&s, x + i, 8); memcpy(&d, dout + i, 8);
		d = s > 0 ? d : 0;
		memcpy(dx + i, &d, 8);
	}
}

// The float64 row reductions: eight partial sums s[j mod 8] in two 4-lane
// registers, combined as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)) (vec.go, sum8).
static double combine8(const double *s) {
	return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

// lo and hi are elements 0-3 and 4-7 of 8 consecutive float or double values, as doubles.
#define LOAD8_f32(p, lo, hi) do { __m256 v_ = _mm256_loadu_ps(p);                    \
	lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v_)); hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v_, 1)); } while (0)
#define LOAD8_f64(p, lo, hi) do { lo = _mm256_loadu_pd(p); hi = _mm256_loadu_pd((p) + 4); } while (0)

#define ROWS(S, T)                                                                                    \
TGT static double sum8_##S(const T *x, size_t n) {                                                    \
	__m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), lo, hi;                               \
	size_t j = 0;                                                                                     \
	for (; j + 8 <= n; j += 8) { LOAD8_##S(x + j, lo, hi); a0 = _mm256_add_pd(a0, lo); a1 = _mm256_add_pd(a1, hi); } \
	double s[8];                                                                                      \
	_mm256_storeu_pd(s, a0); _mm256_storeu_pd(s + 4, a1);                                             \
	for (size_t l = 0; j < n; j++, l++) s[l] += (double)x[j];                                         \
	return combine8(s);                                                                               \
}                                                                                                     \
TGT static double sumsq8_##S(const T *x, size_t n, double m) {                                        \
	const __m256d mv = _mm256_set1_pd(m);                                                             \
	__m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), lo, hi;                               \
	size_t j = 0;                                                                                     \
	for (; j + 8 <= n; j += 8) {                                                                      \
		LOAD8_##S(x + j, lo, hi);                                                                     \
		lo = _mm256_sub_pd(lo, mv); hi = _mm256_sub_pd(hi, mv);                                       \
		a0 = _mm256_add_pd(a0, _mm256_mul_pd(lo, lo)); a1 = _mm256_add_pd(a1, _mm256_mul_pd(hi, hi)); \
	}                                                                                                 \
	double s[8];                                                                                      \
	_mm256_storeu_pd(s, a0); _mm256_storeu_pd(s + 4, a1);                                             \
	for (size_t l = 0; j < n; j++, l++) { double d = (double)x[j] - m; s[l] += d * d; }               \
	return combine8(s);                                                                               \
}                                                                                                     \
void lnrows_##S(T *out, T *mean, T *rstd, const T *x, const T *g, const T *b, size_t rows, size_t D, \
		double eps) {                                                                                 \
	for (size_t r = 0; r < rows; r++) {                                                               \
		const T *xr = x + r * D;                                                                      \
		double m = sum8_##S(xr, D) / (double)D;                                                       \
		double rs = 1 / sqrt(sumsq8_##S(xr, D, m) / (double)D + eps);                                 \
		mean[r] = (T)m; rstd[r] = (T)rs;                                                              \
		lnout_##S(out + r * D, xr, g, b, (T)m, (T)rs, D);                                             \
	}                                                                                                 \
}

ROWS(f32, float)
ROWS(f64, double)

// Σ dx̂ and Σ dx̂·x̂ (vec.go, dotStats8): dx̂ = dout·g and x̂ = (x − m)·rs in T.
TGT static void dotstats8_f32(const float *x, const float *dout, const float *g, float m, float rs, size_t n,
		double *sa, double *sb) {
	const __m256 mv = _mm256_set1_ps(m), rv = _mm256_set1_ps(rs);
	__m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), b0 = _mm256_setzero_pd(), b1 = _mm256_setzero_pd();
	size_t j = 0;
	for (; j + 8 <= n; j += 8) {
		__m256 h = _mm256_mul_ps(_mm256_loadu_ps(dout + j), _mm256_loadu_ps(g + j));
		__m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), mv), rv);
		__m256d hlo = _mm256_cvtps_pd(_mm256_castps256_ps128(h)), hhi = _mm256_cvtps_pd(_mm256_extractf128_ps(h, 1));
		__m256d xlo = _mm256_cvtps_pd(_mm256_castps256_ps128(xh)), xhi = _mm256_cvtps_pd(_mm256_extractf128_ps(xh, 1));
		a0 = _mm256_add_pd(a0, hlo); a1 = _mm256_add_pd(a1, hhi);
		b0 = _mm256_add_pd(b0, _mm256_mul_pd(hlo, xlo)); b1 = _mm256_add_pd(b1, _mm256_mul_pd(hhi, xhi));
	}
	double a[8], b[8];
	_mm256_storeu_pd(a, a0); _mm256_storeu_pd(a + 4, a1); _mm256_storeu_pd(b, b0); _mm256_storeu_pd(b + 4, b1);
	for (size_t l = 0; j < n; j++, l++) {
		double h = (double)(dout[j] * g[j]);
		a[l] += h;
		b[l] += h * (double)((x[j] - m) * rs);
	}
	*sa = combine8(a); *sb = combine8(b);
}

TGT static void dotstats8_f64(const double *x, const double *dout, const double *g, double m, double rs, size_t n,
		double *sa, double *sb) {
	const __m256d mv = _mm256_set1_pd(m), rv = _mm256_set1_pd(rs);
	__m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), b0 = _mm256_setzero_pd(), b1 = _mm256_setzero_pd();
	size_t j = 0;
	for (; j + 8 <= n; j += 8) {
		__m256d h0 = _mm256_mul_pd(_mm256_loadu_pd(dout + j), _mm256_loadu_pd(g + j));
		__m256d h1 = _mm256_mul_pd(_mm256_loadu_pd(dout + j + 4), _mm256_loadu_pd(g + j + 4));
		__m256d x0 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(x + j), mv), rv);
		__m256d x1 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(x + j + 4), mv), rv);
		a0 = _mm256_add_pd(a0, h0); a1 = _mm256_add_pd(a1, h1);
		b0 = _mm256_add_pd(b0, _mm256_mul_pd(h0, x0)); b1 = _mm256_add_pd(b1, _mm256_mul_pd(h1, x1));
	}
	double a[8], b[8];
	_mm256_storeu_pd(a, a0); _mm256_storeu_pd(a + 4, a1); _mm256_storeu_pd(b, b0); _mm256_storeu_pd(b + 4, b1);
	for (size_t l = 0; j < n; j++, l++) {
		double h = dout[j] * g[j];
		a[l] += h;
		b[l] += h * ((x[j] - m) * rs);
	}
	*sa = combine8(a); *sb = combine8(b);
}

#define GRADROWS(S, T)                                                                                \
void lngradrows_##S(T *dx, const T *dout, const T *x, const T *mean, const T *rstd, const T *g,       \
		size_t rows, size_t D) {                                                                      \
	for (size_t r = 0; r < rows; r++) {                                                               \
		const size_t o = r * D;                                                                       \
		double s1, s2;                                                                                \
		dotstats8_##S(x + o, dout + o, g, mean[r], rstd[r], D, &s1, &s2);                             \
		lngradout_##S(dx + o, dout + o, x + o, g, mean[r], rstd[r], (T)(s1 / (double)D), (T)(s2 / (double)D), D); \
	}                                                                                                 \
}
GRADROWS(f32, float)
GRADROWS(f64, double)

// BatchNorm runs (bnorm.go).
#define BNORM(S, T, V, W, LD, ST, ADD, SUB, MUL, SET1)                                               \
double vsum_##S(const T *x, size_t n) { return sum8_##S(x, n); }                                      \
double vsumsq_##S(const T *x, size_t n, double m) { return sumsq8_##S(x, n, m); }                     \
TGT sums2 vdotdev_##S(const T *d, const T *x, size_t n, double m) {            \
	const __m256d mv = _mm256_set1_pd(m);                                                             \
	__m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), b0 = a0, b1 = a0, dlo, dhi, xlo, xhi;   \
	size_t j = 0;                                                                                     \
	for (; j + 8 <= n; j += 8) {                                                                      \
		LOAD8_##S(d + j, dlo, dhi); LOAD8_##S(x + j, xlo, xhi);                                       \
		a0 = _mm256_add_pd(a0, dlo); a1 = _mm256_add_pd(a1, dhi);                                     \
		b0 = _mm256_add_pd(b0, _mm256_mul_pd(dlo, _mm256_sub_pd(xlo, mv)));                           \
		b1 = _mm256_add_pd(b1, _mm256_mul_pd(dhi, _mm256_sub_pd(xhi, mv)));                           \
	}                                                                                                 \
	double a[8], b[8];                                                                                \
	_mm256_storeu_pd(a, a0); _mm256_storeu_pd(a + 4, a1); _mm256_storeu_pd(b, b0); _mm256_storeu_pd(b + 4, b1); \
	for (size_t l = 0; j < n; j++, l++) { double v = (double)d[j]; a[l] += v; b[l] += v * ((double)x[j] - m); } \
	sums2 r = {combine8(a), combine8(b)};                                                             \
	return r;                                                                                         \
}                                                                                                     \
TGT void vaffine_##S(T *out, const T *x, size_t n, T m, T k, T b) {                                   \
	const V mv = SET1(m), kv = SET1(k), bv = SET1(b);                                                 \
	size_t j = 0;                                                                                     \
	for (; j + W <= n; j += W) ST(out + j, ADD(MUL(SUB(LD(x + j), mv), kv), bv));                     \
	for (; j < n; j++) out[j] = (x[j] - m) * k + b;                                                   \
}                                                                                                     \
TGT void vbngrad_##S(T *dx, const T *d, const T *x, size_t n, T k, T m1, T m, T rs, T m2) {           \
	const V kv = SET1(k), m1v = SET1(m1), mv = SET1(m), rv = SET1(rs), m2v = SET1(m2);                \
	size_t j = 0;                                                                                     \
	for (; j + W <= n; j += W)                                                                        \
		ST(dx + j, MUL(kv, SUB(SUB(LD(d + j), m1v), MUL(MUL(SUB(LD(x + j), mv), rv), m2v))));         \
	for (; j < n; j++) dx[j] = k * ((d[j] - m1) - ((x[j] - m) * rs) * m2);                            \
}
BNORM(f32, float, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_set1_ps)
BNORM(f64, double, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_add_pd, _mm256_sub_pd, _mm256_mul_pd, _mm256_set1_pd)

// GELU (gelu.go): gelu_pd is GELU1 (grad = 0) or geluGrad1 (grad = 1) on
// four lanes, the same operations in the same order. Beyond the clamp t is
// computed at ±c and dt is 0; a NaN stays NaN (max_pd and min_pd return
// their second operand when one is NaN).
#define G_SQRT2PI 0.7978845608028654
#define G_CUBIC 0.044715
#define G_CUBIC3 0.134145
#define G_CLAMP 7.90531110763549805
#define MULD _mm256_mul_pd
#define ADDD _mm256_add_pd
#define K(v) _mm256_set1_pd(v)
TGT static inline __m256d gelu_pd(__m256d x, int grad) {
	const __m256d c = K(G_CLAMP), nc = K(-G_CLAMP);
	__m256d u = MULD(K(G_SQRT2PI), ADDD(x, MULD(MULD(MULD(K(G_CUBIC), x), x), x)));
	__m256d clamped = _mm256_or_pd(_mm256_cmp_pd(u, c, _CMP_GT_OQ), _mm256_cmp_pd(u, nc, _CMP_LT_OQ));
	u = _mm256_min_pd(c, _mm256_max_pd(nc, u));
	__m256d s = MULD(u, u);
	__m256d p = ADDD(K(4.89352455891786e-03), MULD(s, ADDD(K(6.37261928875436e-04), MULD(s, ADDD(K(1.48572235717979e-05),
		MULD(s, ADDD(K(5.12229709037114e-08), MULD(s, ADDD(K(-8.60467152213735e-11), MULD(s, ADDD(K(2.00018790482477e-13),
		MULD(s, K(-2.76076847742355e-16)))))))))))));
	__m256d q = ADDD(K(4.89352518554385e-03), MULD(s, ADDD(K(2.26843463243900e-03), MULD(s, ADDD(K(1.18534705686654e-04),
		MULD(s, K(1.19825839466702e-06)))))));
	__m256d t = _mm256_div_pd(MULD(u, p), q);
	if (!grad) return MULD(MULD(K(0.5), x), ADDD(K(1), t));
	__m256d dp = ADDD(K(6.37261928875436e-04), MULD(s, ADDD(K(2.97144471435958e-05), MULD(s, ADDD(K(1.536689127111342e-07),
		MULD(s, ADDD(K(-3.44186860885494e-10), MULD(s, ADDD(K(1.000093952412385e-12), MULD(s, K(-1.65646108645413e-15)))))))))));
	__m256d dq = ADDD(K(2.26843463243900e-03), MULD(s, ADDD(K(2.37069411373308e-04), MULD(s, K(3.59477518400106e-06)))));
	__m256d s2 = ADDD(s, s);
	__m256d num = _mm256_sub_pd(MULD(ADDD(p, MULD(s2, dp)), q), MULD(MULD(s2, p), dq));
	__m256d dt = _mm256_andnot_pd(clamped, _mm256_div_pd(num, MULD(q, q)));
	__m256d du = MULD(K(G_SQRT2PI), ADDD(K(1), MULD(MULD(K(G_CUBIC3), x), x)));
	return ADDD(MULD(K(0.5), ADDD(K(1), t)), MULD(MULD(MULD(K(0.5), x), dt), du));
}

// gelu8_f32 and gelu4_f64 do one vector: out = gelu(x), or with dout
// non-NULL out = dout·gelu'(x) (the product in T).
TGT static inline void gelu8_f32(float *out, const float *dout, const float *x) {
	__m256 v = _mm256_loadu_ps(x);
	int grad = dout != NULL;
	__m256d lo = gelu_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), grad);
	__m256d hi = gelu_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), grad);
	__m256 r = _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
	if (grad) r = _mm256_mul_ps(_mm256_loadu_ps(dout), r);
	_mm256_storeu_ps(out, r);
}
TGT static inline void gelu4_f64(double *out, const double *dout, const double *x) {
	__m256d r = gelu_pd(_mm256_loadu_pd(x), dout != NULL);
	if (dout != NULL) r = MULD(_mm256_loadu_pd(dout), r);
	_mm256_storeu_pd(out, r);
}

// The tail (fewer than W elements) goes through the same vector code on a
// zero-padded copy.
#define GELU(S, T, W)                                                                                 \
void vgelu_##S(T *out, const T *dout, const T *x, size_t n) {                                         \
	size_t i = 0;                                                                                     \
	for (; i + W <= n; i += W) gelu##W##_##S(out + i, dout ? dout + i : NULL, x + i);                 \
	if (i < n) {                                                                                      \
		T xb[W] = {0}, db[W] = {0}, ob[W];                                                            \
		memcpy(xb, x + i, (n - i) * sizeof(T));                                                       \
		if (dout) memcpy(db, dout + i, (n - i) * sizeof(T));                                          \
		gelu##W##_##S(ob, dout ? db : NULL, xb);                                                      \
		memcpy(out + i, ob, (n - i) * sizeof(T));                                                     \
	}                                                                                                 \
}
GELU(f32, float, 8)
GELU(f64, double, 4)

// Softmax rows (softmax.go): exp_pd is Exp on four lanes, the same
// operations in the same order.
#define EXP_MIN (-707.0)
TGT static inline __m256d exp_pd(__m256d x) {
	__m256d xc = _mm256_max_pd(K(EXP_MIN), x); // a NaN x stays NaN
	__m256d k = _mm256_round_pd(MULD(xc, K(1.44269504088896338700e+00)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m256d r = _mm256_sub_pd(_mm256_sub_pd(xc, MULD(k, K(6.93147180369123816490e-01))), MULD(k, K(1.90821492927058770002e-10)));
	__m256d p = K(1.0 / 479001600);
	p = ADDD(K(1.0 / 39916800), MULD(p, r));
	p = ADDD(K(1.0 / 3628800), MULD(p, r));
	p = ADDD(K(1.0 / 362880), MULD(p, r));
	p = ADDD(K(1.0 / 40320), MULD(p, r));
	p = ADDD(K(1.0 / 5040), MULD(p, r));
	p = ADDD(K(1.0 / 720), MULD(p, r));
	p = ADDD(K(1.0 / 120), MULD(p, r));
	p = ADDD(K(1.0 / 24), MULD(p, r));
	p = ADDD(K(1.0 / 6), MULD(p, r));
	p = ADDD(K(1.0 / 2), MULD(p, r));
	p = ADDD(K(1), MULD(p, r));
	p = ADDD(K(1), MULD(p, r));
	__m256i e = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(k)), _mm256_set1_epi64x(1023));
	__m256d y = MULD(p, _mm256_castsi256_pd(_mm256_slli_epi64(e, 52)));
	return _mm256_andnot_pd(_mm256_cmp_pd(x, K(EXP_MIN), _CMP_LT_OQ), y);
}

#define SOFTMAX(S, T)                                                                                 \
TGT void vsoftmax_##S(T *s, size_t rows, size_t n, double *buf) {                                     \
	for (size_t r = 0; r < rows; r++) {                                                               \
		T *row = s + r * n;                                                                           \
		for (size_t j = 0; j < n; j++) buf[j] = (double)row[j];                                       \
		double mx = buf[0];                                                                           \
		for (size_t j = 0; j < n; j++) if (buf[j] > mx) mx = buf[j];                                  \
		const __m256d mv = K(mx);                                                                     \
		__m256d zv = _mm256_setzero_pd();                                                             \
		size_t j = 0;                                                                                 \
		for (; j + 4 <= n; j += 4) {                                                                  \
			__m256d e = exp_pd(_mm256_sub_pd(_mm256_loadu_pd(buf + j), mv));                          \
			_mm256_storeu_pd(buf + j, e);                                                             \
			zv = ADDD(zv, e);                                                                         \
		}                                                                                             \
		double z[4], t[4] = {0, 0, 0, 0};                                                             \
		_mm256_storeu_pd(z, zv);                                                                      \
		if (j < n) {                                                                                  \
			memcpy(t, buf + j, (n - j) * sizeof(double));                                             \
			_mm256_storeu_pd(t, exp_pd(_mm256_sub_pd(_mm256_loadu_pd(t), mv)));                       \
			for (size_t l = 0; j + l < n; l++) { buf[j + l] = t[l]; z[l] += t[l]; }                   \
		}                                                                                             \
		const double inv = 1 / ((z[0] + z[1]) + (z[2] + z[3]));                                       \
		for (j = 0; j < n; j++) row[j] = (T)(buf[j] * inv);                                           \
	}                                                                                                 \
}
SOFTMAX(f32, float)
SOFTMAX(f64, double)

#define EXPORT(S, T)                                                                                   \
void vrelu_##S(T *out, const T *x, size_t n) { relu_##S(out, x, n); }                                 \
void vrelugrad_##S(T *dx, const T *dout, const T *x, size_t n) { relugrad_##S(dx, dout, x, n); }      \
void vadd_##S(T *out, const T *a, const T *b, size_t n) { add_##S(out, a, b, n); }                    \
void vcolsum_##S(T *out, const T *x, size_t rows, size_t ld, size_t n) { colsum_##S(out, x, rows, ld, n); } \
void vlndg_##S(T *dg, const T *dout, const T *x, const T *mean, const T *rstd, size_t rows, size_t ld, size_t n) { \
	lndg_##S(dg, dout, x, mean, rstd, rows, ld, n); }
EXPORT(f32, float)
EXPORT(f64, double)

#else // not x86-64: the Go loops run
static int vec_ok(void) { return 0; }
#define STUBS(S, T)                                                                                    \
void vrelu_##S(T *out, const T *x, size_t n) {}                                                       \
void vrelugrad_##S(T *dx, const T *dout, const T *x, size_t n) {}                                     \
void vadd_##S(T *out, const T *a, const T *b, size_t n) {}                                            \
void vcolsum_##S(T *out, const T *x, size_t rows, size_t ld, size_t n) {}                             \
void vlndg_##S(T *dg, const T *dout, const T *x, const T *mean, const T *rstd, size_t rows, size_t ld, size_t n) {} \
void lnrows_##S(T *out, T *mean, T *rstd, const T *x, const T *g, const T *b, size_t rows, size_t D, double eps) {} \
void lngradrows_##S(T *dx, const T *dout, const T *x, const T *mean, const T *rstd, const T *g, size_t rows, size_t D) {} \
void vgelu_##S(T *out, const T *dout, const T *x, size_t n) {} \
void vsoftmax_##S(T *s, size_t rows, size_t n, double *buf) {} \
double vsum_##S(const T *x, size_t n) { return 0; } \
double vsumsq_##S(const T *x, size_t n, double m) { return 0; } \
sums2 vdotdev_##S(const T *d, const T *x, size_t n, double m) { sums2 r = {0, 0}; return r; } \
void vaffine_##S(T *out, const T *x, size_t n, T m, T k, T b) {} \
void vbngrad_##S(T *dx, const T *d, const T *x, size_t n, T k, T m1, T m, T rs, T m2) {}
STUBS(f32, float)
STUBS(f64, double)
#endif

static int vec_available(void) { return vec_ok(); }
*/
import "C"

import "unsafe"

// minVec is the length below which the Go loops run (a cgo call costs about
// as much as a hundred element operations).
const minVec = 64

var haveVec = C.vec_available() != 0

// f32 and f64 return x's element pointer when T is exactly float32 or float64.
func f32[T Float](x []T) *C.float {
	if _, ok := any(x).([]float32); !ok || len(x) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&x[0]))
}

func f64[T Float](x []T) *C.double {
	if _, ok := any(x).([]float64); !ok || len(x) == 0 {
		return nil
	}
	return (*C.double)(unsafe.Pointer(&x[0]))
}

func is32[T Float]() bool { _, ok := any(*new(T)).(float32); return ok }
func is64[T Float]() bool { _, ok := any(*new(T)).(float64); return ok }

func vecReLU[T Float](out, x []T) bool {
	switch n := C.size_t(len(x)); {
	case !haveVec:
		return false
	case is32[T]():
		C.vrelu_f32(f32(out), f32(x), n)
	case is64[T]():
		C.vrelu_f64(f64(out), f64(x), n)
	default:
		return false
	}
	return true
}

func vecReLUGrad[T Float](dx, dout, x []T) bool {
	switch n := C.size_t(len(x)); {
	case !haveVec:
		return false
	case is32[T]():
		C.vrelugrad_f32(f32(dx), f32(dout), f32(x), n)
	case is64[T]():
		C.vrelugrad_f64(f64(dx), f64(dout), f64(x), n)
	default:
		return false
	}
	return true
}

func vecAdd[T Float](out, a, b []T) bool {
	switch n := C.size_t(len(out)); {
	case !haveVec:
		return false
	case is32[T]():
		C.vadd_f32(f32(out), f32(a), f32(b), n)
	case is64[T]():
		C.vadd_f64(f64(out), f64(a), f64(b), n)
	default:
		return false
	}
	return true
}

func vecColumnSum[T Float](out, x []T, rows, ld int) bool {
	r, l, n := C.size_t(rows), C.size_t(ld), C.size_t(len(out))
	switch {
	case !haveVec || rows == 0:
		return false
	case is32[T]():
		C.vcolsum_f32(f32(out), f32(x), r, l, n)
	case is64[T]():
		C.vcolsum_f64(f64(out), f64(x), r, l, n)
	default:
		return false
	}
	return true
}

func vecLayerNormParamGrads[T Float](dg, dout, x, mean, rstd []T, rows, ld int) bool {
	r, l, n := C.size_t(rows), C.size_t(ld), C.size_t(len(dg))
	switch {
	case !haveVec || rows == 0:
		return false
	case is32[T]():
		C.vlndg_f32(f32(dg), f32(dout), f32(x), f32(mean), f32(rstd), r, l, n)
	case is64[T]():
		C.vlndg_f64(f64(dg), f64(dout), f64(x), f64(mean), f64(rstd), r, l, n)
	default:
		return false
	}
	return true
}

func vecLayerNormRows[T Float](out, mean, rstd, x, g, b []T, D int, eps float64) bool {
	rows := C.size_t(len(x) / D)
	switch {
	case !haveVec || rows == 0:
		return false
	case is32[T]():
		C.lnrows_f32(f32(out), f32(mean), f32(rstd), f32(x), f32(g), f32(b), rows, C.size_t(D), C.double(eps))
	case is64[T]():
		C.lnrows_f64(f64(out), f64(mean), f64(rstd), f64(x), f64(g), f64(b), rows, C.size_t(D), C.double(eps))
	default:
		return false
	}
	return true
}

func vecLayerNormGradRows[T Float](dx, dout, x, mean, rstd, g []T, D int) bool {
	rows := C.size_t(len(x) / D)
	switch {
	case !haveVec || rows == 0:
		return false
	case is32[T]():
		C.lngradrows_f32(f32(dx), f32(dout), f32(x), f32(mean), f32(rstd), f32(g), rows, C.size_t(D))
	case is64[T]():
		C.lngradrows_f64(f64(dx), f64(dout), f64(x), f64(mean), f64(rstd), f64(g), rows, C.size_t(D))
	default:
		return false
	}
	return true
}

// vecGELU and vecGELUGrad run vgelu (dout nil for the forward).
func vecGELU[T Float](out, x []T) bool { return vecGELUKernel(out, nil, x) }

func vecGELUGrad[T Float](dx, dout, x []T) bool { return vecGELUKernel(dx, dout, x) }

func vecGELUKernel[T Float](out, dout, x []T) bool {
	switch n := C.size_t(len(x)); {
	case !haveVec:
		return false
	case is32[T]():
		C.vgelu_f32(f32(out), f32(dout), f32(x), n)
	case is64[T]():
		C.vgelu_f64(f64(out), f64(dout), f64(x), n)
	default:
		return false
	}
	return true
}

func vecSoftmaxRows[T Float](s []T, n int, buf []float64) bool {
	rows, nn, b := C.size_t(len(s)/n), C.size_t(n), (*C.double)(unsafe.Pointer(&buf[0]))
	switch {
	case !haveVec:
		return false
	case is32[T]():
		C.vsoftmax_f32(f32(s), rows, nn, b)
	case is64[T]():
		C.vsoftmax_f64(f64(s), rows, nn, b)
	default:
		return false
	}
	return true
}

func vecSum64[T Float](x []T) (float64, bool) {
	n := C.size_t(len(x))
	switch {
	case !haveVec:
	case is32[T]():
		return float64(C.vsum_f32(f32(x), n)), true
	case is64[T]():
		return float64(C.vsum_f64(f64(x), n)), true
	}
	return 0, false
}

func vecSumSqDev64[T Float](x []T, m float64) (float64, bool) {
	n := C.size_t(len(x))
	switch {
	case !haveVec:
	case is32[T]():
		return float64(C.vsumsq_f32(f32(x), n, C.double(m))), true
	case is64[T]():
		return float64(C.vsumsq_f64(f64(x), n, C.double(m))), true
	}
	return 0, false
}

func vecDotDev64[T Float](d, x []T, m float64) (float64, float64, bool) {
	var r C.sums2
	n := C.size_t(len(d))
	switch {
	case !haveVec:
		return 0, 0, false
	case is32[T]():
		r = C.vdotdev_f32(f32(d), f32(x), n, C.double(m))
	case is64[T]():
		r = C.vdotdev_f64(f64(d), f64(x), n, C.double(m))
	default:
		return 0, 0, false
	}
	return float64(r.a), float64(r.b), true
}

func vecAffine[T Float](out, x []T, m, k, b T) bool {
	n := C.size_t(len(x))
	switch {
	case !haveVec:
		return false
	case is32[T]():
		C.vaffine_f32(f32(out), f32(x), n, C.float(m), C.float(k), C.float(b))
	case is64[T]():
		C.vaffine_f64(f64(out), f64(x), n, C.double(m), C.double(k), C.double(b))
	default:
		return false
	}
	return true
}

func vecBNGrad[T Float](dx, d, x []T, k, m1, m, rs, m2 T) bool {
	n := C.size_t(len(d))
	switch {
	case !haveVec:
		return false
	case is32[T]():
		C.vbngrad_f32(f32(dx), f32(d), f32(x), n, C.float(k), C.float(m1), C.float(m), C.float(rs), C.float(m2))
	case is64[T]():
		C.vbngrad_f64(f64(dx), f64(d), f64(x), n, C.double(k), C.double(m1), C.double(m), C.double(rs), C.double(m2))
	default:
		return false
	}
	return true
}
