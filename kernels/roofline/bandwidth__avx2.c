/* Read bandwidth with 256-bit loads: each 32-byte load is added (vpaddq with a
 * memory operand) into one of 8 independent accumulators, 256 bytes per inner
 * iteration. An empty asm with a memory clobber between passes keeps the compiler
 * from merging passes over the unchanged buffer. See qb_roofline_kernels.h. */
#include <immintrin.h>

#include "qb_roofline_kernels.h"

uint64_t qb_read_bw__avx2(const void* buf, size_t bytes, uint64_t passes) {
  const __m256i* p = (const __m256i*)buf;
  const size_t n = bytes / QB_READ_BW_BLOCK * (QB_READ_BW_BLOCK / 32);
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  __m256i s4 = s0, s5 = s0, s6 = s0, s7 = s0;
  for (uint64_t pass = 0; pass < passes; pass++) {
    for (size_t i = 0; i < n; i += 8) {
      s0 = _mm256_add_epi64(s0, _mm256_load_si256(p + i + 0));
      s1 = _mm256_add_epi64(s1, _mm256_load_si256(p + i + 1));
      s2 = _mm256_add_epi64(s2, _mm256_load_si256(p + i + 2));
      s3 = _mm256_add_epi64(s3, _mm256_load_si256(p + i + 3));
      s4 = _mm256_add_epi64(s4, _mm256_load_si256(p + i + 4));
      s5 = _mm256_add_epi64(s5, _mm256_load_si256(p + i + 5));
      s6 = _mm256_add_epi64(s6, _mm256_load_si256(p + i + 6));
      s7 = _mm256_add_epi64(s7, _mm256_load_si256(p + i + 7));
    }
    __asm__ volatile(""
                     : "+x"(s0), "+x"(s1), "+x"(s2), "+x"(s3), "+x"(s4), "+x"(s5),
                       "+x"(s6), "+x"(s7)
                     :
                     : "memory");
  }
  __m256i lo = _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3));
  __m256i hi = _mm256_add_epi64(_mm256_add_epi64(s4, s5), _mm256_add_epi64(s6, s7));
  __m256i s = _mm256_add_epi64(lo, hi);
  __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  h = _mm_add_epi64(h, _mm_unpackhi_epi64(h, h));
  return (uint64_t)_mm_cvtsi128_si64(h);
}
