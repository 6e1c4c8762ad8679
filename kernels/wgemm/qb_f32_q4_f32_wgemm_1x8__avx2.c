/* W4A32 int4-weight GEMM/GEMV with fp32 activations, AVX2: 8 output channels per
 * block, one lane each, the reference's fp32 order per lane (bit-exact).
 * Method: wgemm/qb_w4a32_driver.h. */
#include <immintrin.h>

#define W4A32_LANES 8
typedef __m256 w4a32_vf;
typedef __m256i w4a32_vi;
#define w4a32_set1_f _mm256_set1_ps
#define w4a32_set1_i _mm256_set1_epi32
#define w4a32_zero_f _mm256_setzero_ps
#define w4a32_gather_u32(base, idx) _mm256_i32gather_epi32((const int*)(const void*)(base), idx, 1)
#define w4a32_nibble(v, shift) \
  _mm256_and_si256(_mm256_srl_epi32(v, _mm_cvtsi32_si128(shift)), _mm256_set1_epi32(15))
#define w4a32_add_f _mm256_add_ps
#define w4a32_mul_f _mm256_mul_ps
#define w4a32_add_i _mm256_add_epi32
#define w4a32_sub_i _mm256_sub_epi32
#define w4a32_xor_i _mm256_xor_si256
#define w4a32_cvt_f _mm256_cvtepi32_ps
#define w4a32_load_i(p) _mm256_loadu_si256((const __m256i*)(p))
#define w4a32_load_f _mm256_loadu_ps
#define w4a32_store_f _mm256_storeu_ps

#define QB_W4A32_WGEMM qb_f32_q4_f32_wgemm_1x8__avx2
#include "wgemm/qb_w4a32_driver.h"
