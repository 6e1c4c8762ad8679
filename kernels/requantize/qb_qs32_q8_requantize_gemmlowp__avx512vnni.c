/* qs32 -> qs8 / qu8 requantization, gemmlowp fixed-point path, AVX-512 (F/BW/VL):
 * 16 channels per block (masked for the last), rows swept inside the block.
 * Exactness argument: requantize/qb_requantize.h. */
#include <immintrin.h>

#include "requantize/qb_requantize.h"

typedef struct {
  __m512i bias, left, multiplier, right, mask, half_mask, lo, hi, zero_point, qmin, qmax;
} block_params;

static void make_block(const qb_fixedpoint_multiplier* mult, const int32_t* bias, size_t n0,
                       size_t w, block_params* p) {
  int32_t b[16] = {0}, le[16], mu[16], ri[16], ma[16], hm[16];
  for (size_t i = 0; i < 16; i++) {
    const qb_fixedpoint_multiplier m = i < w ? mult[n0 + i] : (qb_fixedpoint_multiplier){0, 0};
    const qb_gemmlowp_lane l = qb_gemmlowp_lane_make(m);
    if (bias && i < w) b[i] = bias[n0 + i];
    le[i] = l.left, mu[i] = l.multiplier, ri[i] = l.right, ma[i] = l.mask, hm[i] = l.half_mask;
  }
  p->bias = _mm512_loadu_si512(b);
  p->left = _mm512_loadu_si512(le);
  p->multiplier = _mm512_loadu_si512(mu);
  p->right = _mm512_loadu_si512(ri);
  p->mask = _mm512_loadu_si512(ma);
  p->half_mask = _mm512_loadu_si512(hm);
}

/* SaturatingRoundingDoublingHighMul per lane. */
static inline __m512i srdhm16(__m512i a, __m512i b) {
  const __m512i nudge = _mm512_set1_epi64(INT64_C(1) << 30);
  const __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(a, b), nudge), 31);
  const __m512i odd_prod = _mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32));
  const __m512i odd = _mm512_slli_epi64(_mm512_add_epi64(odd_prod, nudge), 1);
  const __m512i r = _mm512_mask_blend_epi32(0xAAAA, even, odd);
  const __m512i int_min = _mm512_set1_epi32(INT32_MIN);
  const __mmask16 both_min =
      _mm512_cmpeq_epi32_mask(a, int_min) & _mm512_cmpeq_epi32_mask(b, int_min);
  return _mm512_mask_mov_epi32(r, both_min, _mm512_set1_epi32(INT32_MAX));
}

/* RoundingDivideByPOT per lane. */
static inline __m512i rdbpot16(__m512i x, const block_params* p) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i remainder = _mm512_and_si512(x, p->mask);
  const __mmask16 negative = _mm512_cmplt_epi32_mask(x, _mm512_setzero_si512());
  const __m512i threshold = _mm512_mask_add_epi32(p->half_mask, negative, p->half_mask, one);
  const __m512i q = _mm512_srav_epi32(x, p->right);
  return _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(remainder, threshold), q, one);
}

static void requantize_gemmlowp_q8(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                   const int32_t* bias, const qb_fixedpoint_multiplier* mult,
                                   int32_t zp, int32_t qmin, int32_t qmax, uint8_t* y,
                                   size_t ldy) {
  block_params p;
  p.lo = _mm512_set1_epi32(qb_requantize_bound(qmin, zp));
  p.hi = _mm512_set1_epi32(qb_requantize_bound(qmax, zp));
  p.zero_point = _mm512_set1_epi32(zp);
  p.qmin = _mm512_set1_epi32(qmin);
  p.qmax = _mm512_set1_epi32(qmax);
  for (size_t n0 = 0; n0 < N; n0 += 16) {
    const size_t w = N - n0 < 16 ? N - n0 : 16;
    const __mmask16 k = (__mmask16)((1u << w) - 1u);
    make_block(mult, bias, n0, w, &p);
    for (size_t m = 0; m < M; m++) {
      const __m512i a = _mm512_maskz_loadu_epi32(k, acc + m * ldacc + n0);
      const __m512i shifted = _mm512_sllv_epi32(_mm512_add_epi32(a, p.bias), p.left);
      __m512i r = rdbpot16(srdhm16(shifted, p.multiplier), &p);
      r = _mm512_min_epi32(_mm512_max_epi32(r, p.lo), p.hi);
      r = _mm512_add_epi32(r, p.zero_point);
      r = _mm512_min_epi32(_mm512_max_epi32(r, p.qmin), p.qmax);
      _mm512_mask_cvtepi32_storeu_epi8(y + m * ldy + n0, k, r);
    }
  }
}

void qb_qs32_qs8_requantize_gemmlowp__avx512vnni(size_t M, size_t N, const int32_t* acc,
                                                 size_t ldacc, const int32_t* bias,
                                                 const qb_fixedpoint_multiplier* multiplier,
                                                 int32_t zero_point, int32_t qmin, int32_t qmax,
                                                 int8_t* y, size_t ldy) {
  requantize_gemmlowp_q8(M, N, acc, ldacc, bias, multiplier, zero_point, qmin, qmax,
                         (uint8_t*)y, ldy);
}

void qb_qs32_qu8_requantize_gemmlowp__avx512vnni(size_t M, size_t N, const int32_t* acc,
                                                 size_t ldacc, const int32_t* bias,
                                                 const qb_fixedpoint_multiplier* multiplier,
                                                 int32_t zero_point, int32_t qmin, int32_t qmax,
                                                 uint8_t* y, size_t ldy) {
  requantize_gemmlowp_q8(M, N, acc, ldacc, bias, multiplier, zero_point, qmin, qmax, y, ldy);
}
