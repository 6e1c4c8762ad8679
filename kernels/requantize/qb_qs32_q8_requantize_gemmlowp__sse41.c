/* qs32 -> qs8 / qu8 requantization, gemmlowp fixed-point path, SSE4.1: 4 channels per
 * block, row by row over chunks of QB_REQUANTIZE_CHUNK channels. SSE4.1 has no
 * per-lane shifts: the left shift is a PMULLD by 2^left (the same wrapping
 * product), the right shift four PSRADs blended. Exactness argument: requantize/qb_requantize.h. */
#include <smmintrin.h>
#include <string.h>

#include "requantize/qb_requantize.h"

typedef struct {
  __m128i bias, pow2_left, multiplier, mask, half_mask, lo, hi, zero_point, qmin, qmax;
  __m128i right[4]; /* lane i's shift count in the low 64 bits, for PSRAD */
} block_params;

static void make_block(const qb_fixedpoint_multiplier* mult, const int32_t* bias, size_t n0,
                       size_t w, block_params* p) {
  int32_t b[4] = {0}, pl[4], mu[4], ma[4], hm[4];
  for (size_t i = 0; i < 4; i++) {
    const qb_fixedpoint_multiplier m = i < w ? mult[n0 + i] : (qb_fixedpoint_multiplier){0, 0};
    const qb_gemmlowp_lane l = qb_gemmlowp_lane_make(m);
    if (bias && i < w) b[i] = bias[n0 + i];
    pl[i] = (int32_t)(UINT32_C(1) << l.left);
    mu[i] = l.multiplier, ma[i] = l.mask, hm[i] = l.half_mask;
    p->right[i] = _mm_cvtsi32_si128(l.right);
  }
  p->bias = _mm_loadu_si128((const __m128i*)b);
  p->pow2_left = _mm_loadu_si128((const __m128i*)pl);
  p->multiplier = _mm_loadu_si128((const __m128i*)mu);
  p->mask = _mm_loadu_si128((const __m128i*)ma);
  p->half_mask = _mm_loadu_si128((const __m128i*)hm);
}

/* SaturatingRoundingDoublingHighMul per lane. */
static inline __m128i srdhm4(__m128i a, __m128i b) {
  const __m128i nudge = _mm_set1_epi64x(INT64_C(1) << 30);
  const __m128i even = _mm_srli_epi64(_mm_add_epi64(_mm_mul_epi32(a, b), nudge), 31);
  const __m128i odd_prod = _mm_mul_epi32(_mm_srli_epi64(a, 32), _mm_srli_epi64(b, 32));
  const __m128i odd = _mm_slli_epi64(_mm_add_epi64(odd_prod, nudge), 1);
  const __m128i r = _mm_blend_epi16(even, odd, 0xCC);
  const __m128i int_min = _mm_set1_epi32(INT32_MIN);
  const __m128i both_min = _mm_and_si128(_mm_cmpeq_epi32(a, int_min), _mm_cmpeq_epi32(b, int_min));
  return _mm_xor_si128(r, both_min); /* INT32_MIN -> INT32_MAX */
}

/* RoundingDivideByPOT per lane. */
static inline __m128i rdbpot4(__m128i x, const block_params* p) {
  const __m128i remainder = _mm_and_si128(x, p->mask);
  const __m128i threshold = _mm_sub_epi32(p->half_mask, _mm_cmpgt_epi32(_mm_setzero_si128(), x));
  __m128i q = _mm_sra_epi32(x, p->right[0]);
  q = _mm_blend_epi16(q, _mm_sra_epi32(x, p->right[1]), 0x0C);
  q = _mm_blend_epi16(q, _mm_sra_epi32(x, p->right[2]), 0x30);
  q = _mm_blend_epi16(q, _mm_sra_epi32(x, p->right[3]), 0xC0);
  return _mm_sub_epi32(q, _mm_cmpgt_epi32(remainder, threshold));
}

static inline __m128i requantize4(__m128i acc, const block_params* p) {
  const __m128i shifted = _mm_mullo_epi32(_mm_add_epi32(acc, p->bias), p->pow2_left);
  __m128i r = rdbpot4(srdhm4(shifted, p->multiplier), p);
  r = _mm_min_epi32(_mm_max_epi32(r, p->lo), p->hi);
  r = _mm_add_epi32(r, p->zero_point);
  return _mm_min_epi32(_mm_max_epi32(r, p->qmin), p->qmax);
}

static inline uint32_t narrow4(__m128i v) {
  const __m128i low_bytes = _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  return (uint32_t)_mm_cvtsi128_si32(_mm_shuffle_epi8(v, low_bytes));
}

static void requantize_gemmlowp_q8(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                   const int32_t* bias, const qb_fixedpoint_multiplier* mult,
                                   int32_t zp, int32_t qmin, int32_t qmax, uint8_t* y,
                                   size_t ldy) {
  block_params p;
  p.lo = _mm_set1_epi32(qb_requantize_bound(qmin, zp));
  p.hi = _mm_set1_epi32(qb_requantize_bound(qmax, zp));
  p.zero_point = _mm_set1_epi32(zp);
  p.qmin = _mm_set1_epi32(qmin);
  p.qmax = _mm_set1_epi32(qmax);
  block_params blocks[QB_REQUANTIZE_CHUNK / 4];
  for (size_t c0 = 0; c0 < N; c0 += QB_REQUANTIZE_CHUNK) {
    const size_t nc = N - c0 < QB_REQUANTIZE_CHUNK ? N - c0 : QB_REQUANTIZE_CHUNK;
    const size_t nb = (nc + 3) / 4;
    for (size_t b = 0; b < nb; b++) {
      const size_t n0 = c0 + b * 4;
      const size_t w = N - n0 < 4 ? N - n0 : 4;
      blocks[b] = p;
      make_block(mult, bias, n0, w, &blocks[b]);
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

void qb_qs32_qs8_requantize_gemmlowp__sse41(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                            const int32_t* bias,
                                            const qb_fixedpoint_multiplier* multiplier,
                                            int32_t zero_point, int32_t qmin, int32_t qmax,
                                            int8_t* y, size_t ldy) {
  requantize_gemmlowp_q8(M, N, acc, ldacc, bias, multiplier, zero_point, qmin, qmax,
                         (uint8_t*)y, ldy);
}

void qb_qs32_qu8_requantize_gemmlowp__sse41(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                            const int32_t* bias,
                                            const qb_fixedpoint_multiplier* multiplier,
                                            int32_t zero_point, int32_t qmin, int32_t qmax,
                                            uint8_t* y, size_t ldy) {
  requantize_gemmlowp_q8(M, N, acc, ldacc, bias, multiplier, zero_point, qmin, qmax, y, ldy);
}
