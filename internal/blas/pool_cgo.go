//go:build cgo && !purego

package blas

/*
#cgo CFLAGS: -O2
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define TGT __attribute__((target("avx2")))

// PyTorch's rule (pool.go, argmaxNaN): a later entry wins if it is larger or
// NaN, and the current one is not NaN.
#define ARGMAX_NAN(T)                                                                                  \
static int32_t argmax_nan_##T(const T *x, int32_t i0, int32_t w) {                                     \
	int32_t c[4] = {i0, i0 + 1, i0 + w, i0 + w + 1}, k = i0;                                           \
	for (int q = 1; q < 4; q++) {                                                                      \
		const T v = x[c[q]];                                                                           \
		if (x[k] == x[k] && (v > x[k] || v != v)) k = c[q];                                            \
	}                                                                                                  \
	return k;                                                                                          \
}
ARGMAX_NAN(float)
ARGMAX_NAN(double)

static const int32_t ones32[16] = {-1, -1, -1, -1, -1, -1, -1, -1};
static const int64_t ones64[8] = {-1, -1, -1, -1};

// The windows of a row pair, 8 (float) or 4 (double) at a time: the even
// and odd columns of the two rows (a b / c e) are separated by shuffles, and
// the tournament of poolPlane32/64 is run on the floats (a strict > on
// floats orders non-NaN values as the keys do, −0 and +0 alike). A tail of
// fewer windows uses masked loads. Windows holding a NaN are
// redone by argmax_nan.
TGT static void maxpool_f32(float *o, int32_t *id, const float *src, size_t planes, size_t H, size_t W) {
	const size_t OH = H / 2, OW = W / 2;
	const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14), one = _mm256_set1_epi32(1);
	for (size_t pl = 0; pl < planes; pl++) {
		const float *s = src + pl * H * W;
		for (size_t oh = 0; oh < OH; oh++, o += OW, id += OW) {
			const int32_t i0 = (int32_t)(2 * oh * W);
			const float *r0 = s + i0, *r1 = r0 + W;
			for (size_t ow = 0; ow < OW; ow += 8) {
				const size_t n = OW - ow < 8 ? OW - ow : 8, n2 = 2 * n;
				const __m256i mlo = _mm256_loadu_si256((const __m256i *)(ones32 + 8 - (n2 < 8 ? n2 : 8)));
				const __m256i mhi = _mm256_loadu_si256((const __m256i *)(ones32 + 8 - (n2 - (n2 < 8 ? n2 : 8))));
				const float *p0 = r0 + 2 * ow, *p1 = r1 + 2 * ow;
				__m256 l0 = _mm256_maskload_ps(p0, mlo), h0 = _mm256_maskload_ps(p0 + 8, mhi);
				__m256 l1 = _mm256_maskload_ps(p1, mlo), h1 = _mm256_maskload_ps(p1 + 8, mhi);
				__m256 a = _mm256_shuffle_ps(l0, h0, 0x88), b = _mm256_shuffle_ps(l0, h0, 0xdd);
				__m256 c = _mm256_shuffle_ps(l1, h1, 0x88), e = _mm256_shuffle_ps(l1, h1, 0xdd);
				a = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(a), 0xd8));
				b = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(b), 0xd8));
				c = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(c), 0xd8));
				e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xd8));
				const __m256i ia = _mm256_add_epi32(_mm256_set1_epi32(i0 + (int32_t)(2 * ow)), lane2);
				const __m256i ic = _mm256_add_epi32(ia, _mm256_set1_epi32((int32_t)W));
				const __m256 gab = _mm256_cmp_ps(b, a, _CMP_GT_OQ), gce = _mm256_cmp_ps(e, c, _CMP_GT_OQ);
				const __m256 ab = _mm256_blendv_ps(a, b, gab), ce = _mm256_blendv_ps(c, e, gce);
				const __m256i iab = _mm256_add_epi32(ia, _mm256_and_si256(_mm256_castps_si256(gab), one));
				const __m256i ice = _mm256_add_epi32(ic, _mm256_and_si256(_mm256_castps_si256(gce), one));
				const __m256 g = _mm256_cmp_ps(ce, ab, _CMP_GT_OQ);
				const __m256 m = _mm256_blendv_ps(ab, ce, g);
				const __m256i im = _mm256_castps_si256(_mm256_blendv_ps(
					_mm256_castsi256_ps(iab), _mm256_castsi256_ps(ice), g));
				if (n == 8) {
					_mm256_storeu_ps(o + ow, m);
					_mm256_storeu_si256((__m256i *)(id + ow), im);
				} else { // a masked store is slow on some CPUs
					float mt[8];
					int32_t it[8];
					_mm256_storeu_ps(mt, m);
					_mm256_storeu_si256((__m256i *)it, im);
					for (size_t q = 0; q < n; q++) o[ow + q] = mt[q], id[ow + q] = it[q];
				}
				const __m256 nan = _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_UNORD_Q), _mm256_cmp_ps(c, e, _CMP_UNORD_Q));
				unsigned bits = (unsigned)_mm256_movemask_ps(nan) & ((1u << n) - 1);
				for (; bits; bits &= bits - 1) {
					const size_t q = ow + (size_t)__builtin_ctz(bits);
					const int32_t k = argmax_nan_float(s, i0 + (int32_t)(2 * q), (int32_t)W);
					o[q] = s[k], id[q] = k;
				}
			}
		}
	}
}

TGT static void maxpool_f64(double *o, int32_t *id, const double *src, size_t planes, size_t H, size_t W) {
	const size_t OH = H / 2, OW = W / 2;
	const __m256i lane2 = _mm256_setr_epi64x(0, 2, 4, 6), one = _mm256_set1_epi64x(1);
	const __m256i low = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
	for (size_t pl = 0; pl < planes; pl++) {
		const double *s = src + pl * H * W;
		for (size_t oh = 0; oh < OH; oh++, o += OW, id += OW) {
			const int64_t i0 = (int64_t)(2 * oh * W);
			const double *r0 = s + i0, *r1 = r0 + W;
			for (size_t ow = 0; ow < OW; ow += 4) {
				const size_t n = OW - ow < 4 ? OW - ow : 4, n2 = 2 * n;
				const __m256i mlo = _mm256_loadu_si256((const __m256i *)(ones64 + 4 - (n2 < 4 ? n2 : 4)));
				const __m256i mhi = _mm256_loadu_si256((const __m256i *)(ones64 + 4 - (n2 - (n2 < 4 ? n2 : 4))));
				const double *p0 = r0 + 2 * ow, *p1 = r1 + 2 * ow;
				__m256d l0 = _mm256_maskload_pd(p0, mlo), h0 = _mm256_maskload_pd(p0 + 4, mhi);
				__m256d l1 = _mm256_maskload_pd(p1, mlo), h1 = _mm256_maskload_pd(p1 + 4, mhi);
				const __m256d a = _mm256_permute4x64_pd(_mm256_unpacklo_pd(l0, h0), 0xd8);
				const __m256d b = _mm256_permute4x64_pd(_mm256_unpackhi_pd(l0, h0), 0xd8);
				const __m256d c = _mm256_permute4x64_pd(_mm256_unpacklo_pd(l1, h1), 0xd8);
				const __m256d e = _mm256_permute4x64_pd(_mm256_unpackhi_pd(l1, h1), 0xd8);
				const __m256i ia = _mm256_add_epi64(_mm256_set1_epi64x(i0 + (int64_t)(2 * ow)), lane2);
				const __m256i ic = _mm256_add_epi64(ia, _mm256_set1_epi64x((int64_t)W));
				const __m256d gab = _mm256_cmp_pd(b, a, _CMP_GT_OQ), gce = _mm256_cmp_pd(e, c, _CMP_GT_OQ);
				const __m256d ab = _mm256_blendv_pd(a, b, gab), ce = _mm256_blendv_pd(c, e, gce);
				const __m256i iab = _mm256_add_epi64(ia, _mm256_and_si256(_mm256_castpd_si256(gab), one));
				const __m256i ice = _mm256_add_epi64(ic, _mm256_and_si256(_mm256_castpd_si256(gce), one));
				const __m256d g = _mm256_cmp_pd(ce, ab, _CMP_GT_OQ);
				const __m256d m = _mm256_blendv_pd(ab, ce, g);
				const __m128i im = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(
					_mm256_blendv_pd(_mm256_castsi256_pd(iab), _mm256_castsi256_pd(ice), g)), low));
				if (n == 4) {
					_mm256_storeu_pd(o + ow, m);
					_mm_storeu_si128((__m128i *)(id + ow), im);
				} else { // a masked store is slow on some CPUs
					double mt[4];
					int32_t it[4];
					_mm256_storeu_pd(mt, m);
					_mm_storeu_si128((__m128i *)it, im);
					for (size_t q = 0; q < n; q++) o[ow + q] = mt[q], id[ow + q] = it[q];
				}
				const __m256d nan = _mm256_or_pd(_mm256_cmp_pd(a, b, _CMP_UNORD_Q), _mm256_cmp_pd(c, e, _CMP_UNORD_Q));
				unsigned bits = (unsigned)_mm256_movemask_pd(nan) & ((1u << n) - 1);
				for (; bits; bits &= bits - 1) {
					const size_t q = ow + (size_t)__builtin_ctz(bits);
					const int32_t k = argmax_nan_double(s, (int32_t)i0 + (int32_t)(2 * q), (int32_t)W);
					o[q] = s[k], id[q] = k;
				}
			}
		}
	}
}

void vmaxpool_f32(float *o, int32_t *id, const float *src, size_t planes, size_t H, size_t W) {
	maxpool_f32(o, id, src, planes, H, W);
}
void vmaxpool_f64(double *o, int32_t *id, const double *src, size_t planes, size_t H, size_t W) {
	maxpool_f64(o, id, src, planes, H, W);
}
#else // not x86-64: haveVec is false and the Go loop runs
void vmaxpool_f32(float *o, int32_t *id, const float *src, size_t planes, size_t H, size_t W) {}
void vmaxpool_f64(double *o, int32_t *id, const double *src, size_t planes, size_t H, size_t W) {}
#endif
*/
import "C"

import "unsafe"

func vecMaxPool2x2[T Float](o []T, id []int32, src []T, planes, H, W int) bool {
	if !haveVec || len(id) == 0 {
		return false
	}
	i, p, h, w := (*C.int32_t)(unsafe.Pointer(&id[0])), C.size_t(planes), C.size_t(H), C.size_t(W)
	switch {
	case is32[T]():
		C.vmaxpool_f32(f32(o), i, f32(src), p, h, w)
	case is64[T]():
		C.vmaxpool_f64(f64(o), i, f64(src), p, h, w)
	default:
		return false
	}
	return true
}
