/* Vector operations of the depthwise phase-plane driver (dwconv/qb_dwconv_plane.h)
 * for SSE4.1, shared by both depthwise families' sse41 files (static inline,
 * compiled under their flags). */
#ifndef QB_DWCONV_SSE41_H
#define QB_DWCONV_SSE41_H
#include <smmintrin.h>

#include "dwconv/qb_dwconv_x86.h"

#define DW_LANES 8
typedef struct {
  __m128i lo, hi;
} dw_acc;
typedef __m128i dw_wpair;
typedef struct {
  __m128i bias, zp;
  __m128 scale, lo, hi;
} dw_rq;

static inline dw_wpair dw_wpair_set(int16_t wa, int16_t wb) {
  return _mm_set1_epi32((int32_t)(((uint32_t)(uint16_t)wb << 16) | (uint16_t)wa));
}
static inline dw_acc dw_acc_zero(void) { return (dw_acc){_mm_setzero_si128(), _mm_setzero_si128()}; }
static inline dw_acc dw_acc_madd(dw_acc acc, const int16_t* a, const int16_t* b, dw_wpair w) {
  const __m128i va = _mm_loadu_si128((const __m128i*)(const void*)a);
  const __m128i vb = _mm_loadu_si128((const __m128i*)(const void*)b);
  acc.lo = _mm_add_epi32(acc.lo, _mm_madd_epi16(_mm_unpacklo_epi16(va, vb), w));
  acc.hi = _mm_add_epi32(acc.hi, _mm_madd_epi16(_mm_unpackhi_epi16(va, vb), w));
  return acc;
}
static inline dw_rq dw_rq_set(int32_t bias, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  return (dw_rq){_mm_set1_epi32(bias), _mm_set1_epi32(zp), _mm_set1_ps(scale),
                 _mm_set1_ps((float)(qmin - zp)), _mm_set1_ps((float)(qmax - zp))};
}
/* Reference rule per lane (see the AVX2 file): clamp in float, CVTPS2DQ rounds half
 * to even, then + zp. */
static inline __m128i dw_requantize(__m128i acc, const dw_rq* r) {
  __m128 f = _mm_mul_ps(_mm_cvtepi32_ps(_mm_add_epi32(acc, r->bias)), r->scale);
  f = _mm_min_ps(_mm_max_ps(f, r->lo), r->hi);
  return _mm_add_epi32(_mm_cvtps_epi32(f), r->zp);
}
static inline void dw_store_u8(uint8_t* y, dw_acc acc, const dw_rq* r) {
  const __m128i v = _mm_packs_epi32(dw_requantize(acc.lo, r), dw_requantize(acc.hi, r));
  _mm_storel_epi64((__m128i*)(void*)y, _mm_packus_epi16(v, v));
}
static inline void dw_store_s32(int32_t* y, dw_acc acc) {
  _mm_storeu_si128((__m128i*)(void*)y, acc.lo);
  _mm_storeu_si128((__m128i*)(void*)(y + 4), acc.hi);
}

#endif /* QB_DWCONV_SSE41_H */
