/* qs8 / qu8 -> f32 dequantize, AVX2: 32 values per step, a staged partial step for
 * the tail. y = (float)(q - zero_point) * scale: widen, subtract, convert, multiply. */
#include <immintrin.h>
#include <string.h>

#include "quantize/qb_quantize.h"

static inline __m256 dequantize8(__m256i q, __m256i zp, __m256 scale) {
  return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, zp)), scale);
}

#define QB_DEQUANTIZE32(WIDEN)                                                          \
  static inline void dequantize32_##WIDEN(const uint8_t* q, __m256i zp, __m256 scale,   \
                                          float* y) {                                  \
    for (int i = 0; i < 32; i += 8) {                                                  \
      const __m128i v = _mm_loadl_epi64((const __m128i*)(q + i));                      \
      _mm256_storeu_ps(y + i, dequantize8(_mm256_##WIDEN##_epi32(v), zp, scale));      \
    }                                                                                  \
  }
QB_DEQUANTIZE32(cvtepi8)
QB_DEQUANTIZE32(cvtepu8)

#define QB_DEQUANTIZE(NAME, IN_T, WIDEN)                                                \
  void NAME(size_t n, const IN_T* q, float scale, int32_t zero_point, float* y) {       \
    const __m256i vzp = _mm256_set1_epi32(zero_point);                                  \
    const __m256 vscale = _mm256_set1_ps(scale);                                        \
    for (; n >= 32; n -= 32, q += 32, y += 32)                                          \
      dequantize32_##WIDEN((const uint8_t*)q, vzp, vscale, y);                          \
    if (n != 0) {                                                                       \
      uint8_t staged[32] = {0};                                                         \
      float out[32];                                                                    \
      memcpy(staged, q, n);                                                             \
      dequantize32_##WIDEN(staged, vzp, vscale, out);                                   \
      memcpy(y, out, n * sizeof(float));                                                \
    }                                                                                   \
  }

QB_DEQUANTIZE(qb_qs8_f32_dequantize__avx2, int8_t, cvtepi8)
QB_DEQUANTIZE(qb_qu8_f32_dequantize__avx2, uint8_t, cvtepu8)
