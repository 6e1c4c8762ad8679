/* qs32 -> qs8 / qu8 requantization, gemmlowp fixed-point path, AVX2: 8 channels per
 * block, row by row over chunks of QB_REQUANTIZE_CHUNK channels, per-lane shifts
 * with VPSLLVD / VPSRAVD.
 * Exactness argument: requantize/qb_requantize.h. */
#include <immintrin.h>
#include <string.h>

#include "requantize/qb_requantize.h"

typedef struct {
  __m256i bias, left, multiplier, right, mask, half_mask, lo, hi, zero_point, qmin, qmax;
} block_params;

static void make_block(const qb_fixedpoint_multiplier* mult, const int32_t* bias, size_t n0,
                       size_t w, block_params* p) {
  int32_t b[8] = {0}, le[8], mu[8], ri[8], ma[8], hm[8];
  for (size_t i = 0; i < 8; i++) {
    const qb_fixedpoint_multiplier m = i < w ? mult[n0 + i] : (qb_fixedpoint_multiplier){0, 0};
    const qb_gemmlowp_lane l = qb_gemmlowp_lane_make(m);
    if (bias && i < w) b[i] = bias[n0 + i];
    le[i] = l.left, mu[i] = l.multiplier, ri[i] = l.right, ma[i] = l.mask, hm[i] = l.half_mask;
  }
  p->bias = _mm256_loadu_si256((const __m256i*)b);
  p->left = _mm256_loadu_si256((const __m256i*)le);
  p->multiplier = _mm256_loadu_si256((const __m256i*)mu);
  p->right = _mm256_loadu_si256((const __m256i*)ri);
  p->mask = _mm256_loadu_si256((const __m256i*)ma);
  p->half_mask = _mm256_loadu_si256((const __m256i*)hm);
}

/* SaturatingRoundingDoublingHighMul per lane. */
static inline __m256i srdhm8(__m256i a, __m256i b) {
  const __m256i nudge = _mm256_set1_epi64x(INT64_C(1) << 30);
  const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(a, b), nudge), 31);
  const __m256i odd_prod = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32));
  const __m256i odd = _mm256_slli_epi64(_mm256_add_epi64(odd_prod, nudge), 1);
  const __m256i r = _mm256_blend_epi32(even, odd, 0xAA);
  const __m256i int_min = _mm256_set1_epi32(INT32_MIN);
  const __m256i both_min =
      _mm256_and_si256(_mm256_cmpeq_epi32(a, int_min), _mm256_cmpeq_epi32(b, int_min));
  return _mm256_xor_si256(r, both_min); /* INT32_MIN -> INT32_MAX */
}

/* RoundingDivideByPOT per lane. */
static inline __m256i rdbpot8(__m256i x, const block_params* p) {
  const __m256i remainder = _mm256_and_si256(x, p->mask);
  const __m256i threshold =
      _mm256_sub_epi32(p->half_mask, _mm256_cmpgt_epi32(_mm256_setzero_si256(), x));
  return _mm256_sub_epi32(_mm256_srav_epi32(x, p->right), _mm256_cmpgt_epi32(remainder, threshold));
}

static inline __m256i requantize8(__m256i acc, const block_params* p) {
  const __m256i shifted = _mm256_sllv_epi32(_mm256_add_epi32(acc, p->bias), p->left);
  __m256i r = rdbpot8(srdhm8(shifted, p->multiplier), p);
  r = _mm256_min_epi32(_mm256_max_epi32(r, p->lo), p->hi);
  r = _mm256_add_epi32(r, p->zero_point);
  return _mm256_min_epi32(_mm256_max_epi32(r, p->qmin), p->qmax);
}

static inline uint64_t narrow8(__m256i v) {
  const __m256i low_bytes = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                             0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, low_bytes),
                                                _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
  return (uint64_t)_mm_cvtsi128_si64(_mm256_castsi256_si128(b));
}

static void requantize_gemmlowp_q8(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                   const int32_t* bias, const qb_fixedpoint_multiplier* mult,
                                   int32_t zp, int32_t qmin, int32_t qmax, uint8_t* y,
                                   size_t ldy) {
  block_params p;
  p.lo = _mm256_set1_epi32(qb_requantize_bound(qmin, zp));
  p.hi = _mm256_set1_epi32(qb_requantize_bound(qmax, zp));
  p.zero_point = _mm256_set1_epi32(zp);
  p.qmin = _mm256_set1_epi32(qmin);
  p.qmax = _mm256_set1_epi32(qmax);
  block_params blocks[QB_REQUANTIZE_CHUNK / 8];
  for (size_t c0 = 0; c0 < N; c0 += QB_REQUANTIZE_CHUNK) {
    const size_t nc = N - c0 < QB_REQUANTIZE_CHUNK ? N - c0 : QB_REQUANTIZE_CHUNK;
    const size_t nb = (nc + 7) / 8;
    for (size_t b = 0; b < nb; b++) {
      const size_t n0 = c0 + b * 8;
      const size_t w = N - n0 < 8 ? N - n0 : 8;
      blocks[b] = p;
      make_block(mult, bias, n0, w, &blocks[b]);
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

void qb_qs32_qs8_requantize_gemmlowp__avx2(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                           const int32_t* bias,
                                           const qb_fixedpoint_multiplier* multiplier,
                                           int32_t zero_point, int32_t qmin, int32_t qmax,
                                           int8_t* y, size_t ldy) {
  requantize_gemmlowp_q8(M, N, acc, ldacc, bias, multiplier, zero_point, qmin, qmax,
                         (uint8_t*)y, ldy);
}

void qb_qs32_qu8_requantize_gemmlowp__avx2(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                           const int32_t* bias,
                                           const qb_fixedpoint_multiplier* multiplier,
                                           int32_t zero_point, int32_t qmin, int32_t qmax,
                                           uint8_t* y, size_t ldy) {
  requantize_gemmlowp_q8(M, N, acc, ldacc, bias, multiplier, zero_point, qmin, qmax, y, ldy);
}
