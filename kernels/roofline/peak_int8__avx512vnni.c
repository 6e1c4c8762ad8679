/* int8 compute ceiling with AVX-512 VNNI: 16 independent vpdpbusd chains per
 * iteration (latency 4-5 cycles x up to 2 per cycle needs >= 10 in flight).
 * Accumulators are named variables (not an array) so they live in registers; an
 * empty asm naming each accumulator and operand ends every iteration, so nothing is
 * loop-invariant and nothing can be folded or dropped (a "+" operand counts twice
 * toward GCC's 30-operand limit, hence several statements). See
 * qb_roofline_kernels.h for what is counted. */
#include <immintrin.h>

#include "qb_roofline_kernels.h"

static uint64_t hsum256(__m256i s) {
  __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
  return (uint64_t)(uint32_t)_mm_cvtsi128_si32(h);
}

#define QB_KEEP4(c, w, x, y, z) __asm__ volatile("" : "+" c(w), "+" c(x), "+" c(y), "+" c(z))

#define QB_VNNI_LOOP(dpbusd)                                                     \
  for (uint64_t it = 0; it < iters; it++) {                                      \
    x0 = dpbusd(x0, a, b);                                                       \
    x1 = dpbusd(x1, a, b);                                                       \
    x2 = dpbusd(x2, a, b);                                                       \
    x3 = dpbusd(x3, a, b);                                                       \
    x4 = dpbusd(x4, a, b);                                                       \
    x5 = dpbusd(x5, a, b);                                                       \
    x6 = dpbusd(x6, a, b);                                                       \
    x7 = dpbusd(x7, a, b);                                                       \
    x8 = dpbusd(x8, a, b);                                                       \
    x9 = dpbusd(x9, a, b);                                                       \
    x10 = dpbusd(x10, a, b);                                                     \
    x11 = dpbusd(x11, a, b);                                                     \
    x12 = dpbusd(x12, a, b);                                                     \
    x13 = dpbusd(x13, a, b);                                                     \
    x14 = dpbusd(x14, a, b);                                                     \
    x15 = dpbusd(x15, a, b);                                                     \
    QB_KEEP4("v", x0, x1, x2, x3);                                               \
    QB_KEEP4("v", x4, x5, x6, x7);                                               \
    QB_KEEP4("v", x8, x9, x10, x11);                                             \
    QB_KEEP4("v", x12, x13, x14, x15);                                           \
    __asm__ volatile("" : "+v"(a), "+v"(b));                                     \
  }

uint64_t qb_peak_int8_vnni_zmm__avx512vnni(uint64_t iters) {
  __m512i x0 = _mm512_set1_epi32(0), x1 = _mm512_set1_epi32(1), x2 = _mm512_set1_epi32(2),
          x3 = _mm512_set1_epi32(3), x4 = _mm512_set1_epi32(4), x5 = _mm512_set1_epi32(5),
          x6 = _mm512_set1_epi32(6), x7 = _mm512_set1_epi32(7), x8 = _mm512_set1_epi32(8),
          x9 = _mm512_set1_epi32(9), x10 = _mm512_set1_epi32(10), x11 = _mm512_set1_epi32(11),
          x12 = _mm512_set1_epi32(12), x13 = _mm512_set1_epi32(13),
          x14 = _mm512_set1_epi32(14), x15 = _mm512_set1_epi32(15);
  __m512i a = _mm512_set1_epi8(3);  /* u8 */
  __m512i b = _mm512_set1_epi8(-2); /* s8 */
  QB_VNNI_LOOP(_mm512_dpbusd_epi32)
  __m512i s = _mm512_add_epi32(
      _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(x0, x1), _mm512_add_epi32(x2, x3)),
                       _mm512_add_epi32(_mm512_add_epi32(x4, x5), _mm512_add_epi32(x6, x7))),
      _mm512_add_epi32(
          _mm512_add_epi32(_mm512_add_epi32(x8, x9), _mm512_add_epi32(x10, x11)),
          _mm512_add_epi32(_mm512_add_epi32(x12, x13), _mm512_add_epi32(x14, x15))));
  /* Not _mm512_reduce_add_epi32: GCC implements it with scalar int additions, and
   * the accumulators wrap (signed overflow, UB); vector adds wrap by definition. */
  __m256i lo = _mm512_castsi512_si256(s), hi = _mm512_extracti64x4_epi64(s, 1);
  return hsum256(_mm256_add_epi32(lo, hi));
}

uint64_t qb_peak_int8_vnni_ymm__avx512vnni(uint64_t iters) {
  __m256i x0 = _mm256_set1_epi32(0), x1 = _mm256_set1_epi32(1), x2 = _mm256_set1_epi32(2),
          x3 = _mm256_set1_epi32(3), x4 = _mm256_set1_epi32(4), x5 = _mm256_set1_epi32(5),
          x6 = _mm256_set1_epi32(6), x7 = _mm256_set1_epi32(7), x8 = _mm256_set1_epi32(8),
          x9 = _mm256_set1_epi32(9), x10 = _mm256_set1_epi32(10), x11 = _mm256_set1_epi32(11),
          x12 = _mm256_set1_epi32(12), x13 = _mm256_set1_epi32(13),
          x14 = _mm256_set1_epi32(14), x15 = _mm256_set1_epi32(15);
  __m256i a = _mm256_set1_epi8(3);
  __m256i b = _mm256_set1_epi8(-2);
  QB_VNNI_LOOP(_mm256_dpbusd_epi32)
  __m256i s = _mm256_add_epi32(
      _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(x0, x1), _mm256_add_epi32(x2, x3)),
                       _mm256_add_epi32(_mm256_add_epi32(x4, x5), _mm256_add_epi32(x6, x7))),
      _mm256_add_epi32(
          _mm256_add_epi32(_mm256_add_epi32(x8, x9), _mm256_add_epi32(x10, x11)),
          _mm256_add_epi32(_mm256_add_epi32(x12, x13), _mm256_add_epi32(x14, x15))));
  return hsum256(s);
}
