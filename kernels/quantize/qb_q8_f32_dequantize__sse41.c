/* qs8 / qu8 -> f32 dequantize, SSE4.1: 16 values per step, a staged partial step for
 * the tail. y = (float)(q - zero_point) * scale: widen, subtract, convert, multiply. */
#include <smmintrin.h>
#include <string.h>

#include "quantize/qb_quantize.h"

/* Four widened int32 lanes -> four floats. */
static inline __m128 dequantize4(__m128i q, __m128i zp, __m128 scale) {
  return _mm_mul_ps(_mm_cvtepi32_ps(_mm_sub_epi32(q, zp)), scale);
}

#define QB_DEQUANTIZE16(WIDEN)                                                      \
  static inline void dequantize16_##WIDEN(const void* q, __m128i zp, __m128 scale,  \
                                          float* y) {                              \
    const __m128i v = _mm_loadu_si128((const __m128i*)q);                          \
    _mm_storeu_ps(y, dequantize4(_mm_##WIDEN##_epi32(v), zp, scale));              \
    _mm_storeu_ps(y + 4, dequantize4(_mm_##WIDEN##_epi32(_mm_srli_si128(v, 4)), zp, scale));  \
    _mm_storeu_ps(y + 8, dequantize4(_mm_##WIDEN##_epi32(_mm_srli_si128(v, 8)), zp, scale));  \
    _mm_storeu_ps(y + 12, dequantize4(_mm_##WIDEN##_epi32(_mm_srli_si128(v, 12)), zp, scale)); \
  }
QB_DEQUANTIZE16(cvtepi8)
QB_DEQUANTIZE16(cvtepu8)

#define QB_DEQUANTIZE(NAME, IN_T, WIDEN)                                               \
  void NAME(size_t n, const IN_T* q, float scale, int32_t zero_point, float* y) {      \
    const __m128i vzp = _mm_set1_epi32(zero_point);                                    \
    const __m128 vscale = _mm_set1_ps(scale);                                          \
    for (; n >= 16; n -= 16, q += 16, y += 16) dequantize16_##WIDEN(q, vzp, vscale, y); \
    if (n != 0) {                                                                      \
      IN_T staged[16] = {0};                                                           \
      float out[16];                                                                   \
      memcpy(staged, q, n);                                                            \
      dequantize16_##WIDEN(staged, vzp, vscale, out);                                  \
      memcpy(y, out, n * sizeof(float));                                               \
    }                                                                                  \
  }

QB_DEQUANTIZE(qb_qs8_f32_dequantize__sse41, int8_t, cvtepi8)
QB_DEQUANTIZE(qb_qu8_f32_dequantize__sse41, uint8_t, cvtepu8)
