/* Vector operations of the depthwise phase-plane driver (dwconv/qb_dwconv_plane.h)
 * for AVX2, shared by both depthwise families' avx2 files (static inline,
 * compiled under their flags). */
#ifndef QB_DWCONV_AVX2_H
#define QB_DWCONV_AVX2_H
#include <immintrin.h>

#include "dwconv/qb_dwconv_x86.h"

#define DW_LANES 16
typedef struct {
  __m256i lo, hi;
} dw_acc;
typedef __m256i dw_wpair;
typedef struct {
  __m256i bias, zp;
  __m256 scale, lo, hi;
} dw_rq;

static inline dw_wpair dw_wpair_set(int16_t wa, int16_t wb) {
  return _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)wb << 16) | (uint16_t)wa));
}
static inline dw_acc dw_acc_zero(void) {
  return (dw_acc){_mm256_setzero_si256(), _mm256_setzero_si256()};
}
static inline dw_acc dw_acc_madd(dw_acc acc, const int16_t* a, const int16_t* b, dw_wpair w) {
  const __m256i va = _mm256_loadu_si256((const __m256i*)(const void*)a);
  const __m256i vb = _mm256_loadu_si256((const __m256i*)(const void*)b);
  acc.lo = _mm256_add_epi32(acc.lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(va, vb), w));
  acc.hi = _mm256_add_epi32(acc.hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(va, vb), w));
  return acc;
}
static inline dw_rq dw_rq_set(int32_t bias, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  return (dw_rq){_mm256_set1_epi32(bias), _mm256_set1_epi32(zp), _mm256_set1_ps(scale),
                 _mm256_set1_ps((float)(qmin - zp)), _mm256_set1_ps((float)(qmax - zp))};
}
/* The reference rule per lane: float(acc + bias) * scale, clamped to the bounds
 * minus zp (integers, so clamping before rounding is the same), rounded half to
 * even (VCVTPS2DQ, default MXCSR), plus zp: a value in qmin..qmax. */
static inline __m256i dw_requantize(__m256i acc, const dw_rq* r) {
  __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc, r->bias)), r->scale);
  f = _mm256_min_ps(_mm256_max_ps(f, r->lo), r->hi);
  return _mm256_add_epi32(_mm256_cvtps_epi32(f), r->zp);
}
static inline void dw_store_u8(uint8_t* y, dw_acc acc, const dw_rq* r) {
  const __m256i v = _mm256_packs_epi32(dw_requantize(acc.lo, r), dw_requantize(acc.hi, r));
  const __m128i b = _mm_packus_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storeu_si128((__m128i*)(void*)y, b);
}
static inline void dw_store_s32(int32_t* y, dw_acc acc) {
  _mm256_storeu_si256((__m256i*)(void*)y, _mm256_permute2x128_si256(acc.lo, acc.hi, 0x20));
  _mm256_storeu_si256((__m256i*)(void*)(y + 8), _mm256_permute2x128_si256(acc.lo, acc.hi, 0x31));
}

#endif /* QB_DWCONV_AVX2_H */
