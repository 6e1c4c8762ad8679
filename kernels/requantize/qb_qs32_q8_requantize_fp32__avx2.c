/* qs32 -> qs8 / qu8 requantization, fp32 scale path, AVX2: 8 channels per block,
 * row by row over chunks of QB_REQUANTIZE_CHUNK channels. Exactness argument: requantize/qb_requantize.h. */
#include <immintrin.h>
#include <string.h>

#include "requantize/qb_requantize.h"

typedef struct {
  __m256i bias, zero_point;
  __m256 scale, lo, hi;
} block_params;

static inline __m256i requantize8(__m256i acc, const block_params* p) {
  __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc, p->bias)), p->scale);
  f = _mm256_min_ps(_mm256_max_ps(f, p->lo), p->hi);
  return _mm256_add_epi32(_mm256_cvtps_epi32(f), p->zero_point);
}

/* Low byte of each int32 lane, 8 bytes. */
static inline uint64_t narrow8(__m256i v) {
  const __m256i low_bytes = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                             0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, low_bytes),
                                                _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
  return (uint64_t)_mm_cvtsi128_si64(_mm256_castsi256_si128(b));
}

static void requantize_fp32_q8(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                               const int32_t* bias, const float* scale, int32_t zp,
                               int32_t qmin, int32_t qmax, uint8_t* y, size_t ldy) {
  block_params p;
  p.zero_point = _mm256_set1_epi32(zp);
  p.lo = _mm256_set1_ps((float)(qmin - zp));
  p.hi = _mm256_set1_ps((float)(qmax - zp));
  block_params blocks[QB_REQUANTIZE_CHUNK / 8];
  for (size_t c0 = 0; c0 < N; c0 += QB_REQUANTIZE_CHUNK) {
    const size_t nc = N - c0 < QB_REQUANTIZE_CHUNK ? N - c0 : QB_REQUANTIZE_CHUNK;
    const size_t nb = (nc + 7) / 8;
    for (size_t b = 0; b < nb; b++) {
      const size_t n0 = c0 + b * 8;
      const size_t w = N - n0 < 8 ? N - n0 : 8;
      int32_t bias8[8] = {0};
      float scale8[8] = {0};
      if (bias) memcpy(bias8, bias + n0, w * sizeof(int32_t));
      memcpy(scale8, scale + n0, w * sizeof(float));
      blocks[b] = p;
      blocks[b].bias = _mm256_loadu_si256((const __m256i*)bias8);
      blocks[b].scale = _mm256_loadu_ps(scale8);
    }
    for (size_t m = 0; m < M; m++) {
      const int32_t* a = acc + m * ldacc + c0;
      uint8_t* out = y + m * ldy + c0;
      for (size_t b = 0; b < nb; b++, a += 8, out += 8) {
        const size_t w = nc - b * 8 < 8 ? nc - b * 8 : 8;
        if (w == 8) {
          const uint64_t bytes = narrow8(requantize8(_mm256_loadu_si256((const __m256i*)a), &blocks[b]));
          memcpy(out, &bytes, 8);
        } else {
          int32_t staged[8] = {0};
          memcpy(staged, a, w * sizeof(int32_t));
          const uint64_t bytes = narrow8(requantize8(_mm256_loadu_si256((const __m256i*)staged), &blocks[b]));
          memcpy(out, &bytes, w);
        }
      }
    }
  }
}

void qb_qs32_qs8_requantize_fp32__avx2(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                       const int32_t* bias, const float* scale,
                                       int32_t zero_point, int32_t qmin, int32_t qmax, int8_t* y,
                                       size_t ldy) {
  requantize_fp32_q8(M, N, acc, ldacc, bias, scale, zero_point, qmin, qmax, (uint8_t*)y, ldy);
}

void qb_qs32_qu8_requantize_fp32__avx2(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                       const int32_t* bias, const float* scale,
                                       int32_t zero_point, int32_t qmin, int32_t qmax,
                                       uint8_t* y, size_t ldy) {
  requantize_fp32_q8(M, N, acc, ldacc, bias, scale, zero_point, qmin, qmax, y, ldy);
}
