/* W4A8 int4-weight GEMM/GEMV, SSE4.1: 4 output channels per block, 16 products per
 * step as PMADDUBSW (u8 nibble x s8 activation pairs, at most 2*15*128: never
 * saturates) then PMADDWD by ones into int32. Method: wgemm/qb_wgemm.h. */
#include <smmintrin.h>

#define QB_W4A8_OWN_GROUP_DOT4
#define QB_W4A8_QUANTIZE qb_f32_qs8_quantize__sse41
#define QB_W4A8_ROWQUANTIZE qb_f32_qs8_rowquantize__sse41
#define QB_W4A8_WGEMM qb_qs8_q4_f32_wgemm_1x4__sse41
#include "wgemm/qb_w4a8_driver_x86.h"

/* 8 packed bytes -> 16 unsigned nibbles in element order. */
static inline __m128i w4a8_unpack16(const uint8_t* bytes, __m128i flip) {
  const __m128i b = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i*)(const void*)bytes));
  const __m128i lo = _mm_and_si128(b, _mm_set1_epi16(0x000F));
  const __m128i hi = _mm_and_si128(_mm_slli_epi16(b, 4), _mm_set1_epi16(0x0F00));
  return _mm_xor_si128(_mm_or_si128(lo, hi), flip);
}

static inline __m128i w4a8_dot16(__m128i acc, __m128i u, __m128i x) {
  return _mm_add_epi32(acc, _mm_madd_epi16(_mm_maddubs_epi16(u, x), _mm_set1_epi16(1)));
}

/* Exact group sums for 4 rows, 16 products per row per step; a partial step is
 * staged (zero activations beyond k1). */
static inline __m128i w4a8_group_dot4(const w4a8_rows* r, const int8_t* xq, size_t k0, size_t k1,
                                      int flip_value) {
  const __m128i flip = _mm_set1_epi8((char)flip_value);
  __m128i acc[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128()};
  for (size_t k = k0; k < k1; k += 16) {
    const size_t len = k1 - k < 16 ? k1 - k : 16;
    if (len == 16) {
      const __m128i x = _mm_loadu_si128((const __m128i*)(const void*)(xq + k));
      for (int i = 0; i < 4; i++) acc[i] = w4a8_dot16(acc[i], w4a8_unpack16(r->w[i] + k / 2, flip), x);
    } else {
      int8_t xs[16] = {0};
      memcpy(xs, xq + k, len);
      const __m128i x = _mm_loadu_si128((const __m128i*)(const void*)xs);
      for (int i = 0; i < 4; i++) {
        uint8_t ws[8] = {0};
        memcpy(ws, r->w[i] + k / 2, (len + 1) / 2);
        acc[i] = w4a8_dot16(acc[i], w4a8_unpack16(ws, flip), x);
      }
    }
  }
  return _mm_hadd_epi32(_mm_hadd_epi32(acc[0], acc[1]), _mm_hadd_epi32(acc[2], acc[3]));
}
