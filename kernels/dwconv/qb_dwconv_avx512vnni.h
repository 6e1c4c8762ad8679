/* Vector operations of the depthwise phase-plane driver (dwconv/qb_dwconv_plane.h)
 * for AVX-512, shared by both depthwise families' avx512vnni files (static inline,
 * compiled under their flags). */
#ifndef QB_DWCONV_AVX512VNNI_H
#define QB_DWCONV_AVX512VNNI_H
#include <immintrin.h>

#include "dwconv/qb_dwconv_x86.h"

#define DW_LANES 32
typedef struct {
  __m512i lo, hi;
} dw_acc;
typedef __m512i dw_wpair;
typedef struct {
  __m512i bias, zp;
  __m512 scale, lo, hi;
} dw_rq;

static inline dw_wpair dw_wpair_set(int16_t wa, int16_t wb) {
  return _mm512_set1_epi32((int32_t)(((uint32_t)(uint16_t)wb << 16) | (uint16_t)wa));
}
static inline dw_acc dw_acc_zero(void) {
  return (dw_acc){_mm512_setzero_si512(), _mm512_setzero_si512()};
}
static inline dw_acc dw_acc_madd(dw_acc acc, const int16_t* a, const int16_t* b, dw_wpair w) {
  const __m512i va = _mm512_loadu_si512((const void*)a);
  const __m512i vb = _mm512_loadu_si512((const void*)b);
  acc.lo = _mm512_add_epi32(acc.lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(va, vb), w));
  acc.hi = _mm512_add_epi32(acc.hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(va, vb), w));
  return acc;
}
static inline dw_rq dw_rq_set(int32_t bias, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  return (dw_rq){_mm512_set1_epi32(bias), _mm512_set1_epi32(zp), _mm512_set1_ps(scale),
                 _mm512_set1_ps((float)(qmin - zp)), _mm512_set1_ps((float)(qmax - zp))};
}
/* Reference rule per lane (see the AVX2 file): clamp in float, VCVTPS2DQ rounds half
 * to even (default MXCSR), then + zp. */
static inline __m512i dw_requantize(__m512i acc, const dw_rq* r) {
  __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc, r->bias)), r->scale);
  f = _mm512_min_ps(_mm512_max_ps(f, r->lo), r->hi);
  return _mm512_add_epi32(_mm512_cvtps_epi32(f), r->zp);
}
static inline void dw_store_u8(uint8_t* y, dw_acc acc, const dw_rq* r) {
  /* int16 lanes in output order, each in qmin..qmax (0..255): VPMOVWB keeps the byte. */
  const __m512i v = _mm512_packs_epi32(dw_requantize(acc.lo, r), dw_requantize(acc.hi, r));
  _mm256_storeu_si256((__m256i*)(void*)y, _mm512_cvtepi16_epi8(v));
}
static inline void dw_store_s32(int32_t* y, dw_acc acc) {
  /* qwords 0-1 of lo, 0-1 of hi, 2-3 of lo, 2-3 of hi ... = outputs 0-15, then 16-31. */
  const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  const __m512i second = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  _mm512_storeu_si512((void*)y, _mm512_permutex2var_epi64(acc.lo, first, acc.hi));
  _mm512_storeu_si512((void*)(y + 16), _mm512_permutex2var_epi64(acc.lo, second, acc.hi));
}

#endif /* QB_DWCONV_AVX512VNNI_H */
