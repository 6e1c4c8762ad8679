/* Depthwise conv qu8 x qs8 -> qs32, AVX-512: 16 output columns per step (VPMOVZXBD,
 * VPSUBD, VPMULLD, VPADDD per tap). Method: dwconv/qb_dwconv.h. */
#include <immintrin.h>

#define DW_LANES 16
typedef __m512i dw_vi;
#define dw_zero _mm512_setzero_si512
#define dw_set1 _mm512_set1_epi32
#define dw_load_u8(p) _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i*)(const void*)(p)))
#define dw_sub _mm512_sub_epi32
#define dw_madd(acc, a, b) _mm512_add_epi32(acc, _mm512_mullo_epi32(a, b))
#define dw_store(p, v) _mm512_storeu_si512((void*)(p), v)

#define QB_DWCONV_KERNEL qb_qu8_qs8_qs32_dwconv2d_1x16__avx512vnni
#include "dwconv/qb_dwconv_driver.h"
