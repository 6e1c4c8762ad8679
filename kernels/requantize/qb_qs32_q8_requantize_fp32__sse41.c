/* qs32 -> qs8 / qu8 requantization, fp32 scale path, SSE4.1: 4 channels per block,
 * row by row over chunks of QB_REQUANTIZE_CHUNK channels. Exactness argument: requantize/qb_requantize.h. */
#include <smmintrin.h>
#include <string.h>

#include "requantize/qb_requantize.h"

typedef struct {
  __m128i bias, zero_point;
  __m128 scale, lo, hi;
} block_params;

static inline __m128i requantize4(__m128i acc, const block_params* p) {
  __m128 f = _mm_mul_ps(_mm_cvtepi32_ps(_mm_add_epi32(acc, p->bias)), p->scale);
  f = _mm_min_ps(_mm_max_ps(f, p->lo), p->hi);
  return _mm_add_epi32(_mm_cvtps_epi32(f), p->zero_point);
}

/* Low byte of each int32 lane, 4 bytes. */
static inline uint32_t narrow4(__m128i v) {
  const __m128i low_bytes = _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  return (uint32_t)_mm_cvtsi128_si32(_mm_shuffle_epi8(v, low_bytes));
}

static void requantize_fp32_q8(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                               const int32_t* bias, const float* scale, int32_t zp,
                               int32_t qmin, int32_t qmax, uint8_t* y, size_t ldy) {
  block_params p;
  p.zero_point = _mm_set1_epi32(zp);
  p.lo = _mm_set1_ps((float)(qmin - zp));
  p.hi = _mm_set1_ps((float)(qmax - zp));
  block_params blocks[QB_REQUANTIZE_CHUNK / 4];
  for (size_t c0 = 0; c0 < N; c0 += QB_REQUANTIZE_CHUNK) {
    const size_t nc = N - c0 < QB_REQUANTIZE_CHUNK ? N - c0 : QB_REQUANTIZE_CHUNK;
    const size_t nb = (nc + 3) / 4;
    for (size_t b = 0; b < nb; b++) {
      const size_t n0 = c0 + b * 4;
      const size_t w = N - n0 < 4 ? N - n0 : 4;
      int32_t bias4[4] = {0};
      float scale4[4] = {0};
      if (bias) memcpy(bias4, bias + n0, w * sizeof(int32_t));
      memcpy(scale4, scale + n0, w * sizeof(float));
      blocks[b] = p;
      blocks[b].bias = _mm_loadu_si128((const __m128i*)bias4);
      blocks[b].scale = _mm_loadu_ps(scale4);
    }
    for (size_t m = 0; m < M; m++) {
      const int32_t* a = acc + m * ldacc + c0;
      uint8_t* out = y + m * ldy + c0;
      for (size_t b = 0; b < nb; b++, a += 4, out += 4) {
        const size_t w = nc - b * 4 < 4 ? nc - b * 4 : 4;
        if (w == 4) {
          const uint32_t bytes = narrow4(requantize4(_mm_loadu_si128((const __m128i*)a), &blocks[b]));
          memcpy(out, &bytes, 4);
        } else {
          int32_t staged[4] = {0};
          memcpy(staged, a, w * sizeof(int32_t));
          const uint32_t bytes = narrow4(requantize4(_mm_loadu_si128((const __m128i*)staged), &blocks[b]));
          memcpy(out, &bytes, w);
        }
      }
    }
  }
}

void qb_qs32_qs8_requantize_fp32__sse41(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                        const int32_t* bias, const float* scale,
                                        int32_t zero_point, int32_t qmin, int32_t qmax, int8_t* y,
                                        size_t ldy) {
  requantize_fp32_q8(M, N, acc, ldacc, bias, scale, zero_point, qmin, qmax, (uint8_t*)y, ldy);
}

void qb_qs32_qu8_requantize_fp32__sse41(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                        const int32_t* bias, const float* scale,
                                        int32_t zero_point, int32_t qmin, int32_t qmax,
                                        uint8_t* y, size_t ldy) {
  requantize_fp32_q8(M, N, acc, ldacc, bias, scale, zero_point, qmin, qmax, y, ldy);
}
