/* Depthwise conv qu8 x qs8 -> qs32, AVX2: 8 output columns per step (VPMOVZXBD,
 * VPSUBD, VPMULLD, VPADDD per tap). Method: dwconv/qb_dwconv.h. */
#include <immintrin.h>

#define DW_LANES 8
typedef __m256i dw_vi;
#define dw_zero _mm256_setzero_si256
#define dw_set1 _mm256_set1_epi32
#define dw_load_u8(p) _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)(const void*)(p)))
#define dw_sub _mm256_sub_epi32
#define dw_madd(acc, a, b) _mm256_add_epi32(acc, _mm256_mullo_epi32(a, b))
#define dw_store(p, v) _mm256_storeu_si256((__m256i*)(void*)(p), v)

#define QB_DWCONV_KERNEL qb_qu8_qs8_qs32_dwconv2d_1x8__avx2
#include "dwconv/qb_dwconv_driver.h"
