/* W4A32 int4-weight GEMM/GEMV with fp32 activations, AVX-512: 16 output channels per
 * block, one lane each, the reference's fmaf chain per lane (bit-exact).
 * Method: wgemm/qb_w4a32_driver.h. */
#include <immintrin.h>

#define W4A32_LANES 16
typedef __m512 w4a32_vf;
typedef __m512i w4a32_vi;
#define w4a32_set1_f _mm512_set1_ps
#define w4a32_set1_i _mm512_set1_epi32
#define w4a32_zero_f _mm512_setzero_ps
#define w4a32_gather_u32(base, idx) _mm512_i32gather_epi32(idx, (const void*)(base), 1)
#define w4a32_nibble(v, shift) \
  _mm512_and_si512(_mm512_srl_epi32(v, _mm_cvtsi32_si128(shift)), _mm512_set1_epi32(15))
#define w4a32_fma_f _mm512_fmadd_ps
#define w4a32_add_i _mm512_add_epi32
#define w4a32_sub_i _mm512_sub_epi32
#define w4a32_xor_i _mm512_xor_si512
#define w4a32_cvt_f _mm512_cvtepi32_ps
#define w4a32_load_i(p) _mm512_loadu_si512((const void*)(p))
#define w4a32_load_f _mm512_loadu_ps
#define w4a32_store_f _mm512_storeu_ps

#define QB_W4A32_WGEMM qb_f32_q4_f32_wgemm_1x16__avx512vnni
#include "wgemm/qb_w4a32_driver.h"
