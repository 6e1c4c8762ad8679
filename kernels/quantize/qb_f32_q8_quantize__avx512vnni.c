/* f32 -> qs8 / qu8 quantize, AVX-512 (F/BW/VL): 64 values per step (4 x 16 lanes),
 * masked 16-lane steps for the tail. VPMOVDB truncates each int32 to its low byte,
 * exactly the reference's cast. Exactness argument: quantize/qb_quantize.h. */
#include <immintrin.h>
#include <stdbool.h>

#include "quantize/qb_quantize.h"

typedef struct {
  __m512 divisor_or_factor, lo, hi;
  __m512i zero_point;
  bool divide;
} quantize_params;

static quantize_params make_params(float scale, int32_t zp, int32_t qmin, int32_t qmax,
                                   qb_round_mode mode) {
  quantize_params p;
  p.divide = mode == QB_ROUND_DIV;
  p.divisor_or_factor = _mm512_set1_ps(p.divide ? scale : 1.0f / scale);
  p.lo = _mm512_set1_ps((float)(qmin - zp));
  p.hi = _mm512_set1_ps((float)(qmax - zp));
  p.zero_point = _mm512_set1_epi32(zp);
  return p;
}

/* 16 floats -> 16 int32 in [qmin, qmax]. */
static inline __m512i quantize16(const quantize_params* p, __m512 x) {
  __m512 q = p->divide ? _mm512_div_ps(x, p->divisor_or_factor)
                       : _mm512_mul_ps(x, p->divisor_or_factor);
  q = _mm512_min_ps(_mm512_max_ps(q, p->lo), p->hi);
  return _mm512_add_epi32(_mm512_cvtps_epi32(q), p->zero_point);
}

static void quantize_q8(size_t n, const float* x, float scale, int32_t zp, int32_t qmin,
                        int32_t qmax, qb_round_mode mode, uint8_t* y) {
  const quantize_params p = make_params(scale, zp, qmin, qmax, mode);
  for (; n >= 64; n -= 64, x += 64, y += 64)
    for (int i = 0; i < 64; i += 16)
      _mm_storeu_si128((__m128i*)(y + i),
                       _mm512_cvtepi32_epi8(quantize16(&p, _mm512_loadu_ps(x + i))));
  for (; n != 0; ) {
    const size_t step = n < 16 ? n : 16;
    const __mmask16 m = (__mmask16)((1u << step) - 1u);
    _mm512_mask_cvtepi32_storeu_epi8(y, m, quantize16(&p, _mm512_maskz_loadu_ps(m, x)));
    n -= step, x += step, y += step;
  }
}

void qb_f32_qs8_quantize__avx512vnni(size_t n, const float* x, float scale, int32_t zero_point,
                                     int32_t qmin, int32_t qmax, qb_round_mode mode, int8_t* y) {
  quantize_q8(n, x, scale, zero_point, qmin, qmax, mode, (uint8_t*)y);
}

void qb_f32_qu8_quantize__avx512vnni(size_t n, const float* x, float scale, int32_t zero_point,
                                     int32_t qmin, int32_t qmax, qb_round_mode mode, uint8_t* y) {
  quantize_q8(n, x, scale, zero_point, qmin, qmax, mode, y);
}
