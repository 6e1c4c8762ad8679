/* int8 compute ceilings with AVX2 (ymm), 8 independent groups per iteration:
 *   maddubs: vpmaddubsw (u8 x s8 -> pairs summed into int16, saturating)
 *            + vpmaddwd with ones (-> int32) + vpaddd: 32 MACs per group
 *   maddwd:  vpmaddwd on int16 lanes (exact) + vpaddd: 16 MACs per group
 * An empty asm on the operand between groups stops the compiler from computing the
 * (identical) products once; it emits no instruction. Named accumulators stay in
 * registers. See qb_roofline_kernels.h. */
#include <immintrin.h>

#include "qb_roofline_kernels.h"

#define QB_NEW(v) __asm__ volatile("" : "+x"(v))
#define QB_KEEP4(c, w, x, y, z) __asm__ volatile("" : "+" c(w), "+" c(x), "+" c(y), "+" c(z))

static uint64_t hsum(__m256i s) {
  __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
  return (uint64_t)(uint32_t)_mm_cvtsi128_si32(h);
}

#define QB_MADDUBS_GROUP(acc)                                                        \
  do {                                                                               \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones));   \
    QB_NEW(a);                                                                       \
  } while (0)

#define QB_MADDWD_GROUP(acc)                                                         \
  do {                                                                               \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));                               \
    QB_NEW(a);                                                                       \
  } while (0)

uint64_t qb_peak_int8_maddubs_ymm__avx2(uint64_t iters) {
  __m256i x0 = _mm256_set1_epi32(0);
  __m256i x1 = _mm256_set1_epi32(1);
  __m256i x2 = _mm256_set1_epi32(2);
  __m256i x3 = _mm256_set1_epi32(3);
  __m256i x4 = _mm256_set1_epi32(4);
  __m256i x5 = _mm256_set1_epi32(5);
  __m256i x6 = _mm256_set1_epi32(6);
  __m256i x7 = _mm256_set1_epi32(7);
  __m256i a = _mm256_set1_epi8(3);  /* u8 */
  __m256i b = _mm256_set1_epi8(-2); /* s8: pair sums stay far from int16 saturation */
  __m256i ones = _mm256_set1_epi16(1);
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
  __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(x0, x1), _mm256_add_epi32(x2, x3)),
      _mm256_add_epi32(_mm256_add_epi32(x4, x5), _mm256_add_epi32(x6, x7)));
  return hsum(s);
}

uint64_t qb_peak_int8_maddwd_ymm__avx2(uint64_t iters) {
  __m256i x0 = _mm256_set1_epi32(0);
  __m256i x1 = _mm256_set1_epi32(1);
  __m256i x2 = _mm256_set1_epi32(2);
  __m256i x3 = _mm256_set1_epi32(3);
  __m256i x4 = _mm256_set1_epi32(4);
  __m256i x5 = _mm256_set1_epi32(5);
  __m256i x6 = _mm256_set1_epi32(6);
  __m256i x7 = _mm256_set1_epi32(7);
  __m256i a = _mm256_set1_epi16(3);  /* int8 values held in int16 lanes */
  __m256i b = _mm256_set1_epi16(-2);
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
  __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(x0, x1), _mm256_add_epi32(x2, x3)),
      _mm256_add_epi32(_mm256_add_epi32(x4, x5), _mm256_add_epi32(x6, x7)));
  return hsum(s);
}
