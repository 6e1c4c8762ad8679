/* int8 compute ceilings with SSE4.1-level code (xmm, legacy encoding: the
 * destructive two-operand forms cost a register copy per group, as in real SSE
 * kernels), 8 independent groups per iteration:
 *   maddubs: pmaddubsw (SSSE3; u8 x s8 pairs into int16, saturating) + pmaddwd with
 *            ones + paddd: 16 MACs per group
 *   maddwd:  pmaddwd on int16 lanes (exact) + paddd: 8 MACs per group
 * Barriers as in peak_int8__avx2.c. See qb_roofline_kernels.h. */
#include <smmintrin.h>

#include "qb_roofline_kernels.h"

#define QB_NEW(v) __asm__ volatile("" : "+x"(v))
#define QB_KEEP4(c, w, x, y, z) __asm__ volatile("" : "+" c(w), "+" c(x), "+" c(y), "+" c(z))

static uint64_t hsum(__m128i h) {
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
  return (uint64_t)(uint32_t)_mm_cvtsi128_si32(h);
}

#define QB_MADDUBS_GROUP(acc)                                                        \
  do {                                                                               \
    acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_maddubs_epi16(a, b), ones));   \
    QB_NEW(a);                                                                       \
  } while (0)

#define QB_MADDWD_GROUP(acc)                                                         \
  do {                                                                               \
    acc = _mm_add_epi32(acc, _mm_madd_epi16(a, b));                               \
    QB_NEW(a);                                                                       \
  } while (0)

uint64_t qb_peak_int8_maddubs_xmm__sse41(uint64_t iters) {
  __m128i x0 = _mm_set1_epi32(0);
  __m128i x1 = _mm_set1_epi32(1);
  __m128i x2 = _mm_set1_epi32(2);
  __m128i x3 = _mm_set1_epi32(3);
  __m128i x4 = _mm_set1_epi32(4);
  __m128i x5 = _mm_set1_epi32(5);
  __m128i x6 = _mm_set1_epi32(6);
  __m128i x7 = _mm_set1_epi32(7);
  __m128i a = _mm_set1_epi8(3);  /* u8 */
  __m128i b = _mm_set1_epi8(-2); /* s8: pair sums stay far from int16 saturation */
  __m128i ones = _mm_set1_epi16(1);
  for (uint64_t it = 0; it < iters; it++) {
    QB_MADDUBS_GROUP(x0);
    QB_MADDUBS_GROUP(x1);
    QB_MADDUBS_GROUP(x2);
    QB_MADDUBS_GROUP(x3);
    QB_MADDUBS_GROUP(x4);
    QB_MADDUBS_GROUP(x5);
    QB_MADDUBS_GROUP(x6);
    QB_MADDUBS_GROUP(x7);
    QB_KEEP4("x", x0, x1, x2, x3);
    QB_KEEP4("x", x4, x5, x6, x7);
    __asm__ volatile("" : "+x"(a), "+x"(b), "+x"(ones));
  }
  __m128i s = _mm_add_epi32(_mm_add_epi32(_mm_add_epi32(x0, x1), _mm_add_epi32(x2, x3)),
      _mm_add_epi32(_mm_add_epi32(x4, x5), _mm_add_epi32(x6, x7)));
  return hsum(s);
}

uint64_t qb_peak_int8_maddwd_xmm__sse41(uint64_t iters) {
  __m128i x0 = _mm_set1_epi32(0);
  __m128i x1 = _mm_set1_epi32(1);
  __m128i x2 = _mm_set1_epi32(2);
  __m128i x3 = _mm_set1_epi32(3);
  __m128i x4 = _mm_set1_epi32(4);
  __m128i x5 = _mm_set1_epi32(5);
  __m128i x6 = _mm_set1_epi32(6);
  __m128i x7 = _mm_set1_epi32(7);
  __m128i a = _mm_set1_epi16(3);  /* int8 values held in int16 lanes */
  __m128i b = _mm_set1_epi16(-2);
  for (uint64_t it = 0; it < iters; it++) {
    QB_MADDWD_GROUP(x0);
    QB_MADDWD_GROUP(x1);
    QB_MADDWD_GROUP(x2);
    QB_MADDWD_GROUP(x3);
    QB_MADDWD_GROUP(x4);
    QB_MADDWD_GROUP(x5);
    QB_MADDWD_GROUP(x6);
    QB_MADDWD_GROUP(x7);
    QB_KEEP4("x", x0, x1, x2, x3);
    QB_KEEP4("x", x4, x5, x6, x7);
    __asm__ volatile("" : "+x"(a), "+x"(b));
  }
  __m128i s = _mm_add_epi32(_mm_add_epi32(_mm_add_epi32(x0, x1), _mm_add_epi32(x2, x3)),
      _mm_add_epi32(_mm_add_epi32(x4, x5), _mm_add_epi32(x6, x7)));
  return hsum(s);
}
