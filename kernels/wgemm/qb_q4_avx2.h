/* int4 weight unpacking shared by the AVX2 int4-weight kernels (static inline,
 * compiled under each including file's AVX2 flags). Weights are the reference's
 * packed rows: element 2j is the low nibble of byte j, 2j + 1 the high one. */
#ifndef QB_Q4_AVX2_H
#define QB_Q4_AVX2_H

#include <immintrin.h>
#include <stdint.h>

/* 16 packed bytes -> 32 unsigned nibbles in element order (element 2j = low nibble
 * of byte j): word j = b | b << 4 masked to 0x0F0F holds (lo, hi) as its bytes. */
static inline __m256i qb_q4_unpack32_avx2(const uint8_t* p, __m256i flip) {
  const __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i*)p));
  const __m256i n = _mm256_and_si256(_mm256_or_si256(b, _mm256_slli_epi16(b, 4)), _mm256_set1_epi16(0x0F0F));
  return _mm256_xor_si256(n, flip);
}

/* 8 x 8 transpose of dwords: out[j] = {in[0] dword j, ..., in[7] dword j}, so
 * lane c of out[j] holds channel c's nibbles 4j..4j+3 (the "c4" layout VNNI-style
 * kernels pack, built here once per block of 8 channels x 32 k). */
static inline void qb_q4_transpose8_avx2(const __m256i in[8], __m256i out[8]) {
  __m256i t[8], q[8];
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm256_unpacklo_epi32(in[2 * i], in[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(in[2 * i], in[2 * i + 1]);
  }
  for (int h = 0; h < 2; h++) { /* channels 0-3, then 4-7 */
    q[4 * h + 0] = _mm256_unpacklo_epi64(t[4 * h], t[4 * h + 2]);
    q[4 * h + 1] = _mm256_unpackhi_epi64(t[4 * h], t[4 * h + 2]);
    q[4 * h + 2] = _mm256_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]);
    q[4 * h + 3] = _mm256_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]);
  }
  for (int j = 0; j < 4; j++) {
    out[j] = _mm256_permute2x128_si256(q[j], q[4 + j], 0x20);
    out[4 + j] = _mm256_permute2x128_si256(q[j], q[4 + j], 0x31);
  }
}

#endif /* QB_Q4_AVX2_H */
