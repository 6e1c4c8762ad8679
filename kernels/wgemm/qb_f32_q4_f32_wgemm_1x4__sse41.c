/* W4A32 int4-weight GEMM/GEMV with fp32 activations, SSE4.1: 4 output channels per
 * block, one lane each, the reference's fp32 order per lane (bit-exact). SSE has no
 * gather: the four 32-bit windows are loaded one by one.
 * Method: wgemm/qb_w4a32_driver.h. */
#include <smmintrin.h>
#include <stdint.h>
#include <string.h>

static inline __m128i w4a32_gather4(const uint8_t* base, __m128i idx) {
  int32_t v[4];
  memcpy(&v[0], base + _mm_extract_epi32(idx, 0), 4);
  memcpy(&v[1], base + _mm_extract_epi32(idx, 1), 4);
  memcpy(&v[2], base + _mm_extract_epi32(idx, 2), 4);
  memcpy(&v[3], base + _mm_extract_epi32(idx, 3), 4);
  return _mm_loadu_si128((const __m128i*)(const void*)v);
}

#define W4A32_LANES 4
typedef __m128 w4a32_vf;
typedef __m128i w4a32_vi;
#define w4a32_set1_f _mm_set1_ps
#define w4a32_set1_i _mm_set1_epi32
#define w4a32_zero_f _mm_setzero_ps
#define w4a32_gather_u32 w4a32_gather4
#define w4a32_nibble(v, shift) \
  _mm_and_si128(_mm_srl_epi32(v, _mm_cvtsi32_si128(shift)), _mm_set1_epi32(15))
#define w4a32_add_f _mm_add_ps
#define w4a32_mul_f _mm_mul_ps
#define w4a32_add_i _mm_add_epi32
#define w4a32_sub_i _mm_sub_epi32
#define w4a32_xor_i _mm_xor_si128
#define w4a32_cvt_f _mm_cvtepi32_ps
#define w4a32_load_i(p) _mm_loadu_si128((const __m128i*)(const void*)(p))
#define w4a32_load_f _mm_loadu_ps
#define w4a32_store_f _mm_storeu_ps

#define QB_W4A32_WGEMM qb_f32_q4_f32_wgemm_1x4__sse41
#include "wgemm/qb_w4a32_driver.h"
