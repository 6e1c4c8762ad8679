/* f32 -> qs8 / qu8 quantize, AVX2: 32 values per step (4 x 8 lanes), a staged partial
 * step for the tail. Exactness argument: quantize/qb_quantize.h. */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "quantize/qb_quantize.h"

typedef struct {
  __m256 divisor_or_factor, lo, hi;
  __m256i zero_point;
  bool divide;
} quantize_params;

static quantize_params make_params(float scale, int32_t zp, int32_t qmin, int32_t qmax,
                                   qb_round_mode mode) {
  quantize_params p;
  p.divide = mode == QB_ROUND_DIV;
  p.divisor_or_factor = _mm256_set1_ps(p.divide ? scale : 1.0f / scale);
  p.lo = _mm256_set1_ps((float)(qmin - zp));
  p.hi = _mm256_set1_ps((float)(qmax - zp));
  p.zero_point = _mm256_set1_epi32(zp);
  return p;
}

/* 8 floats -> 8 int32 in [qmin, qmax], masked to their low byte (the reference's cast). */
static inline __m256i quantize8(const quantize_params* p, const float* x) {
  const __m256 v = _mm256_loadu_ps(x);
  __m256 q = p->divide ? _mm256_div_ps(v, p->divisor_or_factor)
                       : _mm256_mul_ps(v, p->divisor_or_factor);
  q = _mm256_min_ps(_mm256_max_ps(q, p->lo), p->hi);
  const __m256i i = _mm256_add_epi32(_mm256_cvtps_epi32(q), p->zero_point);
  return _mm256_and_si256(i, _mm256_set1_epi32(0xFF));
}

/* 32 floats -> 32 bytes. The packs work per 128-bit lane, so the dwords come out as
 * a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7 and one permute restores the order. */
static inline __m256i quantize32(const quantize_params* p, const float* x) {
  const __m256i ab = _mm256_packus_epi32(quantize8(p, x), quantize8(p, x + 8));
  const __m256i cd = _mm256_packus_epi32(quantize8(p, x + 16), quantize8(p, x + 24));
  const __m256i bytes = _mm256_packus_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static void quantize_q8(size_t n, const float* x, float scale, int32_t zp, int32_t qmin,
                        int32_t qmax, qb_round_mode mode, uint8_t* y) {
  const quantize_params p = make_params(scale, zp, qmin, qmax, mode);
  for (; n >= 32; n -= 32, x += 32, y += 32)
    _mm256_storeu_si256((__m256i*)y, quantize32(&p, x));
  if (n != 0) {
    float staged[32] = {0};
    uint8_t out[32];
    memcpy(staged, x, n * sizeof(float));
    _mm256_storeu_si256((__m256i*)out, quantize32(&p, staged));
    memcpy(y, out, n);
  }
}

void qb_f32_qs8_quantize__avx2(size_t n, const float* x, float scale, int32_t zero_point,
                               int32_t qmin, int32_t qmax, qb_round_mode mode, int8_t* y) {
  quantize_q8(n, x, scale, zero_point, qmin, qmax, mode, (uint8_t*)y);
}

void qb_f32_qu8_quantize__avx2(size_t n, const float* x, float scale, int32_t zero_point,
                               int32_t qmin, int32_t qmax, qb_round_mode mode, uint8_t* y) {
  quantize_q8(n, x, scale, zero_point, qmin, qmax, mode, y);
}
