//go:build cgo && !purego

package blas

/*
#cgo CFLAGS: -O2
#cgo LDFLAGS: -lm
#pragma GCC optimize("fp-contract=off")
#include <stddef.h>
#include <math.h>

// AdamW element loop (see AdamW in adamw.go). No fused multiply-add anywhere
// (fp-contract=off, separate mul/add intrinsics, and no FMA target), so the
// AVX and the scalar paths round exactly like the Go loop.

#if defined(__x86_64__)
#include <immintrin.h>

static int have_avx(void) {
	static int v = -1;
	if (v < 0) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("avx");
	}
	return v;
}

__attribute__((target("avx")))
static size_t adamw_f32_avx(float *w, const float *g, float *m, float *v, size_t n, const float *c) {
	const __m256 decay = _mm256_set1_ps(c[0]), step = _mm256_set1_ps(c[1]), isb = _mm256_set1_ps(c[2]),
		b1 = _mm256_set1_ps(c[3]), c1 = _mm256_set1_ps(c[4]), b2 = _mm256_set1_ps(c[5]), c2 = _mm256_set1_ps(c[6]),
		eps = _mm256_set1_ps(c[7]);
	size_t j = 0;
	for (; j + 8 <= n; j += 8) {
		__m256 gj = _mm256_loadu_ps(g + j);
		__m256 mj = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + j)), _mm256_mul_ps(c1, gj));
		__m256 vj = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + j)), _mm256_mul_ps(_mm256_mul_ps(c2, gj), gj));
		_mm256_storeu_ps(m + j, mj);
		_mm256_storeu_ps(v + j, vj);
		__m256 den = _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(vj), isb), eps);
		__m256 wj = _mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(w + j), decay), _mm256_div_ps(_mm256_mul_ps(step, mj), den));
		_mm256_storeu_ps(w + j, wj);
	}
	return j;
}

__attribute__((target("avx")))
static size_t adamw_f64_avx(double *w, const double *g, double *m, double *v, size_t n, const double *c) {
	const __m256d decay = _mm256_set1_pd(c[0]), step = _mm256_set1_pd(c[1]), isb = _mm256_set1_pd(c[2]),
		b1 = _mm256_set1_pd(c[3]), c1 = _mm256_set1_pd(c[4]), b2 = _mm256_set1_pd(c[5]), c2 = _mm256_set1_pd(c[6]),
		eps = _mm256_set1_pd(c[7]);
	size_t j = 0;
	for (; j + 4 <= n; j += 4) {
		__m256d gj = _mm256_loadu_pd(g + j);
		__m256d mj = _mm256_add_pd(_mm256_mul_pd(b1, _mm256_loadu_pd(m + j)), _mm256_mul_pd(c1, gj));
		__m256d vj = _mm256_add_pd(_mm256_mul_pd(b2, _mm256_loadu_pd(v + j)), _mm256_mul_pd(_mm256_mul_pd(c2, gj), gj));
		_mm256_storeu_pd(m + j, mj);
		_mm256_storeu_pd(v + j, vj);
		__m256d den = _mm256_add_pd(_mm256_mul_pd(_mm256_sqrt_pd(vj), isb), eps);
		__m256d wj = _mm256_sub_pd(_mm256_mul_pd(_mm256_loadu_pd(w + j), decay), _mm256_div_pd(_mm256_mul_pd(step, mj), den));
		_mm256_storeu_pd(w + j, wj);
	}
	return j;
}

#else
static int have_avx(void) { return 0; }
static size_t adamw_f32_avx(float *w, const float *g, float *m, float *v, size_t n, const float *c) { return 0; }
static size_t adamw_f64_avx(double *w, const double *g, double *m, double *v, size_t n, const double *c) { return 0; }
#endif

static void adamw_f32(float *w, const float *g, float *m, float *v, size_t n, const float *c) {
	size_t j = have_avx() ? adamw_f32_avx(w, g, m, v, n, c) : 0;
	for (; j < n; j++) {
		float mj = c[3] * m[j] + c[4] * g[j];
		float vj = c[5] * v[j] + (c[6] * g[j]) * g[j];
		m[j] = mj;
		v[j] = vj;
		w[j] = w[j] * c[0] - (c[1] * mj) / (sqrtf(vj) * c[2] + c[7]);
	}
}

static void adamw_f64(double *w, const double *g, double *m, double *v, size_t n, const double *c) {
	size_t j = have_avx() ? adamw_f64_avx(w, g, m, v, n, c) : 0;
	for (; j < n; j++) {
		double mj = c[3] * m[j] + c[4] * g[j];
		double vj = c[5] * v[j] + (c[6] * g[j]) * g[j];
		m[j] = mj;
		v[j] = vj;
		w[j] = w[j] * c[0] - (c[1] * mj) / (sqrt(vj) * c[2] + c[7]);
	}
}
*/
import "C"

import "unsafe"

// minKernel is the length below which AdamW stays in Go (a cgo call costs
// about as much as 64 scalar updates).
const minKernel = 64

func adamwKernel[T Float](w, g, m, v []T, c *AdamWCoef[T]) {
	n := C.size_t(len(w))
	switch ww := any(w).(type) {
	case []float32:
		g, m, v, c := any(g).([]float32), any(m).([]float32), any(v).([]float32), any(c).(*AdamWCoef[float32])
		C.adamw_f32((*C.float)(unsafe.Pointer(&ww[0])), (*C.float)(unsafe.Pointer(&g[0])), (*C.float)(unsafe.Pointer(&m[0])),
			(*C.float)(unsafe.Pointer(&v[0])), n, (*C.float)(unsafe.Pointer(c)))
	case []float64:
		g, m, v, c := any(g).([]float64), any(m).([]float64), any(v).([]float64), any(c).(*AdamWCoef[float64])
		C.adamw_f64((*C.double)(unsafe.Pointer(&ww[0])), (*C.double)(unsafe.Pointer(&g[0])), (*C.double)(unsafe.Pointer(&m[0])),
			(*C.double)(unsafe.Pointer(&v[0])), n, (*C.double)(unsafe.Pointer(c)))
	default:
		adamwGo(w, g, m, v, c)
	}
}
