/* f32 -> qs8 / qu8 quantize, SSE4.1: 16 values per step (4 x 4 lanes), a staged
 * partial step for the tail. Exactness argument: quantize/qb_quantize.h. */
#include <smmintrin.h>
#include <stdbool.h>
#include <string.h>

#include "quantize/qb_quantize.h"

typedef struct {
  __m128 divisor_or_factor, lo, hi;
  __m128i zero_point;
  bool divide;
} quantize_params;

static quantize_params make_params(float scale, int32_t zp, int32_t qmin, int32_t qmax,
                                   qb_round_mode mode) {
  quantize_params p;
  p.divide = mode == QB_ROUND_DIV;
  p.divisor_or_factor = _mm_set1_ps(p.divide ? scale : 1.0f / scale);
  p.lo = _mm_set1_ps((float)(qmin - zp));
  p.hi = _mm_set1_ps((float)(qmax - zp));
  p.zero_point = _mm_set1_epi32(zp);
  return p;
}

/* 4 floats -> 4 int32 in [qmin, qmax]. */
static inline __m128i quantize4(const quantize_params* p, __m128 x) {
  __m128 q = p->divide ? _mm_div_ps(x, p->divisor_or_factor) : _mm_mul_ps(x, p->divisor_or_factor);
  q = _mm_min_ps(_mm_max_ps(q, p->lo), p->hi);
  return _mm_add_epi32(_mm_cvtps_epi32(q), p->zero_point);
}

/* 16 floats -> 16 bytes, truncating each int32 to its low byte (the reference's cast):
 * masking to 0..255 first makes both unsigned packs exact. */
static inline __m128i quantize16(const quantize_params* p, const float* x) {
  const __m128i low_byte = _mm_set1_epi32(0xFF);
  const __m128i a = _mm_and_si128(quantize4(p, _mm_loadu_ps(x)), low_byte);
  const __m128i b = _mm_and_si128(quantize4(p, _mm_loadu_ps(x + 4)), low_byte);
  const __m128i c = _mm_and_si128(quantize4(p, _mm_loadu_ps(x + 8)), low_byte);
  const __m128i d = _mm_and_si128(quantize4(p, _mm_loadu_ps(x + 12)), low_byte);
  return _mm_packus_epi16(_mm_packus_epi32(a, b), _mm_packus_epi32(c, d));
}

static void quantize_q8(size_t n, const float* x, float scale, int32_t zp, int32_t qmin,
                        int32_t qmax, qb_round_mode mode, uint8_t* y) {
  const quantize_params p = make_params(scale, zp, qmin, qmax, mode);
  for (; n >= 16; n -= 16, x += 16, y += 16) _mm_storeu_si128((__m128i*)y, quantize16(&p, x));
  if (n != 0) {
    float staged[16] = {0};
    uint8_t out[16];
    memcpy(staged, x, n * sizeof(float));
    _mm_storeu_si128((__m128i*)out, quantize16(&p, staged));
    memcpy(y, out, n);
  }
}

void qb_f32_qs8_quantize__sse41(size_t n, const float* x, float scale, int32_t zero_point,
                                int32_t qmin, int32_t qmax, qb_round_mode mode, int8_t* y) {
  quantize_q8(n, x, scale, zero_point, qmin, qmax, mode, (uint8_t*)y);
}

void qb_f32_qu8_quantize__sse41(size_t n, const float* x, float scale, int32_t zero_point,
                                int32_t qmin, int32_t qmax, qb_round_mode mode, uint8_t* y) {
  quantize_q8(n, x, scale, zero_point, qmin, qmax, mode, y);
}
