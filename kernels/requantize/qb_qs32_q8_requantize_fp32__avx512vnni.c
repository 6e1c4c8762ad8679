/* qs32 -> qs8 / qu8 requantization, fp32 scale path, AVX-512 (F/BW/VL): 16 channels
 * per block (masked for the last), rows swept inside the block, VPMOVDB truncation.
 * Exactness argument: requantize/qb_requantize.h. */
#include <immintrin.h>

#include "requantize/qb_requantize.h"

static void requantize_fp32_q8(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                               const int32_t* bias, const float* scale, int32_t zp,
                               int32_t qmin, int32_t qmax, uint8_t* y, size_t ldy) {
  const __m512i vzp = _mm512_set1_epi32(zp);
  const __m512 lo = _mm512_set1_ps((float)(qmin - zp)), hi = _mm512_set1_ps((float)(qmax - zp));
  for (size_t n0 = 0; n0 < N; n0 += 16) {
    const size_t w = N - n0 < 16 ? N - n0 : 16;
    const __mmask16 k = (__mmask16)((1u << w) - 1u);
    const __m512i vbias = bias ? _mm512_maskz_loadu_epi32(k, bias + n0) : _mm512_setzero_si512();
    const __m512 vscale = _mm512_maskz_loadu_ps(k, scale + n0);
    for (size_t m = 0; m < M; m++) {
      const __m512i a = _mm512_maskz_loadu_epi32(k, acc + m * ldacc + n0);
      __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(a, vbias)), vscale);
      f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
      const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(f), vzp);
      _mm512_mask_cvtepi32_storeu_epi8(y + m * ldy + n0, k, q);
    }
  }
}

void qb_qs32_qs8_requantize_fp32__avx512vnni(size_t M, size_t N, const int32_t* acc,
                                             size_t ldacc, const int32_t* bias,
                                             const float* scale, int32_t zero_point,
                                             int32_t qmin, int32_t qmax, int8_t* y, size_t ldy) {
  requantize_fp32_q8(M, N, acc, ldacc, bias, scale, zero_point, qmin, qmax, (uint8_t*)y, ldy);
}

void qb_qs32_qu8_requantize_fp32__avx512vnni(size_t M, size_t N, const int32_t* acc,
                                             size_t ldacc, const int32_t* bias,
                                             const float* scale, int32_t zero_point,
                                             int32_t qmin, int32_t qmax, uint8_t* y, size_t ldy) {
  requantize_fp32_q8(M, N, acc, ldacc, bias, scale, zero_point, qmin, qmax, y, ldy);
}
