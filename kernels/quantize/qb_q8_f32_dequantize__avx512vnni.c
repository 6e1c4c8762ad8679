/* qs8 / qu8 -> f32 dequantize, AVX-512 (F/BW/VL): 64 values per step, masked 16-lane
 * steps for the tail. y = (float)(q - zero_point) * scale. */
#include <immintrin.h>

#include "quantize/qb_quantize.h"

static inline __m512 dequantize16(__m512i q, __m512i zp, __m512 scale) {
  return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, zp)), scale);
}

#define QB_DEQUANTIZE(NAME, IN_T, WIDEN)                                                  \
  void NAME(size_t n, const IN_T* q, float scale, int32_t zero_point, float* y) {         \
    const __m512i vzp = _mm512_set1_epi32(zero_point);                                    \
    const __m512 vscale = _mm512_set1_ps(scale);                                          \
    for (; n >= 64; n -= 64, q += 64, y += 64)                                            \
      for (int i = 0; i < 64; i += 16) {                                                  \
        const __m128i v = _mm_loadu_si128((const __m128i*)(q + i));                       \
        _mm512_storeu_ps(y + i, dequantize16(_mm512_##WIDEN##_epi32(v), vzp, vscale));    \
      }                                                                                   \
    for (; n != 0;) {                                                                     \
      const size_t step = n < 16 ? n : 16;                                                \
      const __mmask16 m = (__mmask16)((1u << step) - 1u);                                 \
      const __m128i v = _mm_maskz_loadu_epi8(m, q);                                       \
      _mm512_mask_storeu_ps(y, m, dequantize16(_mm512_##WIDEN##_epi32(v), vzp, vscale));  \
      n -= step, q += step, y += step;                                                    \
    }                                                                                     \
  }

QB_DEQUANTIZE(qb_qs8_f32_dequantize__avx512vnni, int8_t, cvtepi8)
QB_DEQUANTIZE(qb_qu8_f32_dequantize__avx512vnni, uint8_t, cvtepu8)
