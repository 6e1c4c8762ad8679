/* x86 row conversions of the depthwise phase planes (dwconv/qb_dwconv_plane.h):
 * u8 -> int16 minus the zero point, plain (stride 1) or split into even and odd
 * columns (stride 2). SSE4.1 instructions, shared by the sse41, avx2 and
 * avx512vnni files (static inline: compiled under each file's flags). */
#ifndef QB_DWCONV_X86_H
#define QB_DWCONV_X86_H

#include <smmintrin.h>
#include <stddef.h>
#include <stdint.h>

/* d[i] = s[i] - zp, i < n. */
static inline void dw_widen(int16_t* d, const uint8_t* s, size_t n, int16_t zp) {
  const __m128i z = _mm_set1_epi16(zp);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128((const __m128i*)(const void*)(s + i));
    _mm_storeu_si128((__m128i*)(void*)(d + i), _mm_sub_epi16(_mm_cvtepu8_epi16(v), z));
    _mm_storeu_si128((__m128i*)(void*)(d + i + 8),
                     _mm_sub_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(v, 8)), z));
  }
  for (; i < n; i++) d[i] = (int16_t)(s[i] - zp);
}

/* even[i] = s[2i] - zp, odd[i] = s[2i+1] - zp over the n bytes of s: masking the
 * low byte of each 16-bit word gives the even bytes as int16, shifting gives the odd. */
static inline void dw_widen2(int16_t* even, int16_t* odd, const uint8_t* s, size_t n, int16_t zp) {
  const __m128i z = _mm_set1_epi16(zp), low = _mm_set1_epi16(0x00FF);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128((const __m128i*)(const void*)(s + i));
    _mm_storeu_si128((__m128i*)(void*)(even + i / 2), _mm_sub_epi16(_mm_and_si128(v, low), z));
    _mm_storeu_si128((__m128i*)(void*)(odd + i / 2), _mm_sub_epi16(_mm_srli_epi16(v, 8), z));
  }
  for (; i < n; i++) (i % 2 ? odd : even)[i / 2] = (int16_t)(s[i] - zp);
}

#endif /* QB_DWCONV_X86_H */
