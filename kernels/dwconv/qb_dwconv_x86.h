/* x86 row conversions of the depthwise phase planes (dwconv/qb_dwconv_plane.h):
 * u8 -> int16 minus the zero point, plain (stride 1) or split into even and odd
 * columns (stride 2). SSE4.1 instructions, shared by the sse41, avx2 and
 * avx512vnni files (static inline: compiled under each file's flags). */
#ifndef QB_DWCONV_X86_H
#define QB_DWCONV_X86_H

#include <smmintrin.h>
#include <stddef.h>
#include <stdint.h>

/* 8 bytes at s -> 8 int16 minus zp. */
static inline __m128i dw_widen8(const uint8_t* s, __m128i zp) {
  return _mm_sub_epi16(_mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i*)(const void*)s)), zp);
}

/* d[i] = s[i] - zp, i < n. Rows are short (7, 14, 28 ...): 8 bytes per step, and a
 * last step overlapping the previous one (same values) instead of a scalar tail. */
static inline void dw_widen(int16_t* d, const uint8_t* s, size_t n, int16_t zp) {
  const __m128i z = _mm_set1_epi16(zp);
  if (n < 8) {
    for (size_t i = 0; i < n; i++) d[i] = (int16_t)(s[i] - zp);
    return;
  }
  for (size_t i = 0; i + 8 < n; i += 8)
    _mm_storeu_si128((__m128i*)(void*)(d + i), dw_widen8(s + i, z));
  _mm_storeu_si128((__m128i*)(void*)(d + n - 8), dw_widen8(s + n - 8, z));
}

/* even[i] = s[2i] - zp, odd[i] = s[2i+1] - zp over the n bytes of s: masking the
 * low byte of each 16-bit word gives the even bytes as int16, shifting gives the
 * odd. 8 bytes per step; the last step overlaps, starting at an even byte. */
static inline void dw_widen2(int16_t* even, int16_t* odd, const uint8_t* s, size_t n, int16_t zp) {
  const __m128i z = _mm_set1_epi16(zp), low = _mm_set1_epi16(0x00FF);
  if (n < 8) {
    for (size_t i = 0; i < n; i++) (i % 2 ? odd : even)[i / 2] = (int16_t)(s[i] - zp);
    return;
  }
  for (size_t i = 0, last = 0; !last; i += 8) {
    if (i + 8 >= n) i = (n - 8) & ~(size_t)1, last = 1;
    const __m128i v = _mm_loadl_epi64((const __m128i*)(const void*)(s + i));
    _mm_storel_epi64((__m128i*)(void*)(even + i / 2), _mm_sub_epi16(_mm_and_si128(v, low), z));
    _mm_storel_epi64((__m128i*)(void*)(odd + i / 2), _mm_sub_epi16(_mm_srli_epi16(v, 8), z));
  }
  if (n % 2) even[n / 2] = (int16_t)(s[n - 1] - zp);
}

/* The same over ceil(n / 8) * 8 bytes (dwconv/qb_dwconv_plane.h: dw_fill). */
static inline void dw_widen_over(int16_t* d, const uint8_t* s, size_t n, int16_t zp) {
  const __m128i z = _mm_set1_epi16(zp);
  for (size_t i = 0; i < n; i += 8) _mm_storeu_si128((__m128i*)(void*)(d + i), dw_widen8(s + i, z));
}
static inline void dw_widen2_over(int16_t* even, int16_t* odd, const uint8_t* s, size_t n,
                                  int16_t zp) {
  const __m128i z = _mm_set1_epi16(zp), low = _mm_set1_epi16(0x00FF);
  for (size_t i = 0; i < n; i += 8) {
    const __m128i v = _mm_loadl_epi64((const __m128i*)(const void*)(s + i));
    _mm_storel_epi64((__m128i*)(void*)(even + i / 2), _mm_sub_epi16(_mm_and_si128(v, low), z));
    _mm_storel_epi64((__m128i*)(void*)(odd + i / 2), _mm_sub_epi16(_mm_srli_epi16(v, 8), z));
  }
}

#endif /* QB_DWCONV_X86_H */
