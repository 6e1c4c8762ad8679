/* W4A8 int4-weight GEMM/GEMV, AVX2: 4 output channels per block, 32 products per
 * step as VPMADDUBSW (u8 nibble x s8 activation pairs, at most 2*15*128: never
 * saturates) then VPMADDWD by ones into int32. Method: wgemm/qb_wgemm.h. */
#include <immintrin.h>

static inline __m256i w4a8_dot32(__m256i acc, __m256i u, __m256i x) {
  const __m256i pairs = _mm256_maddubs_epi16(u, x);
  return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

#define QB_W4A8_QUANTIZE qb_f32_qs8_quantize__avx2
#define QB_W4A8_ROWQUANTIZE qb_f32_qs8_rowquantize__avx2
#define QB_W4A8_WGEMM qb_qs8_q4_f32_wgemm_1x4__avx2
#include "wgemm/qb_w4a8_driver_x86.h"
