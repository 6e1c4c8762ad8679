/* Depthwise conv qu8 x qs8 -> qs32, SSE4.1: 4 output columns per step (PMOVZXBD,
 * PSUBD, PMULLD, PADDD per tap). Method: dwconv/qb_dwconv.h. */
#include <smmintrin.h>
#include <stdint.h>
#include <string.h>

static inline __m128i dw_load4_u8(const uint8_t* p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return _mm_cvtepu8_epi32(_mm_cvtsi32_si128(v));
}

#define DW_LANES 4
typedef __m128i dw_vi;
#define dw_zero _mm_setzero_si128
#define dw_set1 _mm_set1_epi32
#define dw_load_u8 dw_load4_u8
#define dw_sub _mm_sub_epi32
#define dw_madd(acc, a, b) _mm_add_epi32(acc, _mm_mullo_epi32(a, b))
#define dw_store(p, v) _mm_storeu_si128((__m128i*)(void*)(p), v)

#define QB_DWCONV_KERNEL qb_qu8_qs8_qs32_dwconv2d_1x4__sse41
#include "dwconv/qb_dwconv_driver.h"
