/* uint8 im2col, SSE4.1 (SSE2 byte interleaves for the 16 x 16 transposes, PAND +
 * PACKUSWB for stride-2 segments, PSHUFB + PBLENDVB for segments at a row's edge). Method: im2col/qb_im2col.h. */
#include <smmintrin.h>
#include <stdint.h>

static inline void im_load_even16(const uint8_t* p, uint8_t out[16]) {
  const __m128i low = _mm_set1_epi16(0x00FF);
  const __m128i a = _mm_and_si128(_mm_loadu_si128((const __m128i*)(const void*)p), low);
  const __m128i b = _mm_and_si128(_mm_loadu_si128((const __m128i*)(const void*)(p + 16)), low);
  _mm_storeu_si128((__m128i*)(void*)out, _mm_packus_epi16(a, b));
}

/* PSHUFB moves byte l + delta to lane l; PBLENDVB puts pad outside [lo, hi). */
static inline void im_load_shifted16(const uint8_t* p, int delta, int lo, int hi, uint8_t pad,
                                     uint8_t out[16]) {
  const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m128i v = _mm_loadu_si128((const __m128i*)(const void*)p);
  const __m128i idx = _mm_add_epi8(iota, _mm_set1_epi8((char)delta));
  const __m128i inside = _mm_and_si128(_mm_cmpgt_epi8(iota, _mm_set1_epi8((char)(lo - 1))),
                                       _mm_cmplt_epi8(iota, _mm_set1_epi8((char)hi)));
  const __m128i r = _mm_blendv_epi8(_mm_set1_epi8((char)pad), _mm_shuffle_epi8(v, idx), inside);
  _mm_storeu_si128((__m128i*)(void*)out, r);
}

#define QB_IM2COL_KERNEL qb_qu8_im2col__sse41
#include "im2col/qb_im2col_driver.h"
