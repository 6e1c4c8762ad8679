/* Vector operations of the channels-in-lanes depthwise method (dwconv/qb_dwconv_chan.h)
 * for SSE4.1: 16 channels as two vectors of 8 int16; accumulators per 4 channels
 * (PUNPCKLWD: channels 0-3 of a half, PUNPCKHWD: 4-7). Static inline. */
#ifndef QB_DWCONV_CHAN_SSE41_H
#define QB_DWCONV_CHAN_SSE41_H
#include <smmintrin.h>
#include <stdint.h>

typedef struct {
  __m128i v[4]; /* channels 0-3, 4-7, 8-11, 12-15 */
} dc_acc;
typedef struct {
  __m128i v[4];
} dc_wpair;
typedef struct {
  __m128i bias[4], zp;
  __m128 scale[4], lo, hi;
} dc_rq;

static inline dc_wpair dc_wpair_load(const int16_t* a, const int16_t* b) {
  dc_wpair w;
  for (int h = 0; h < 2; h++) {
    const __m128i va = _mm_loadu_si128((const __m128i*)(const void*)(a + 8 * h));
    const __m128i vb = _mm_loadu_si128((const __m128i*)(const void*)(b + 8 * h));
    w.v[2 * h] = _mm_unpacklo_epi16(va, vb);
    w.v[2 * h + 1] = _mm_unpackhi_epi16(va, vb);
  }
  return w;
}
static inline dc_acc dc_acc_zero(void) {
  const __m128i z = _mm_setzero_si128();
  return (dc_acc){{z, z, z, z}};
}
static inline dc_acc dc_madd(dc_acc acc, const int16_t* a, const int16_t* b, const dc_wpair* w) {
  for (int h = 0; h < 2; h++) {
    const __m128i va = _mm_loadu_si128((const __m128i*)(const void*)(a + 8 * h));
    const __m128i vb = _mm_loadu_si128((const __m128i*)(const void*)(b + 8 * h));
    acc.v[2 * h] = _mm_add_epi32(acc.v[2 * h], _mm_madd_epi16(_mm_unpacklo_epi16(va, vb), w->v[2 * h]));
    acc.v[2 * h + 1] =
        _mm_add_epi32(acc.v[2 * h + 1], _mm_madd_epi16(_mm_unpackhi_epi16(va, vb), w->v[2 * h + 1]));
  }
  return acc;
}
static inline dc_rq dc_rq_load(const int32_t* bias, const float* scale, int32_t zp, int32_t qmin,
                               int32_t qmax) {
  dc_rq r;
  for (int i = 0; i < 4; i++) {
    r.bias[i] = _mm_loadu_si128((const __m128i*)(const void*)(bias + 4 * i));
    r.scale[i] = _mm_loadu_ps(scale + 4 * i);
  }
  r.zp = _mm_set1_epi32(zp);
  r.lo = _mm_set1_ps((float)(qmin - zp));
  r.hi = _mm_set1_ps((float)(qmax - zp));
  return r;
}
/* Reference rule per lane (see the AVX2 file). */
static inline __m128i dc_requantize(__m128i acc, int i, const dc_rq* r) {
  __m128 f = _mm_mul_ps(_mm_cvtepi32_ps(_mm_add_epi32(acc, r->bias[i])), r->scale[i]);
  f = _mm_min_ps(_mm_max_ps(f, r->lo), r->hi);
  return _mm_add_epi32(_mm_cvtps_epi32(f), r->zp);
}
static inline void dc_store_u8(uint8_t* y, dc_acc acc, const dc_rq* r) {
  const __m128i a = _mm_packs_epi32(dc_requantize(acc.v[0], 0, r), dc_requantize(acc.v[1], 1, r));
  const __m128i b = _mm_packs_epi32(dc_requantize(acc.v[2], 2, r), dc_requantize(acc.v[3], 3, r));
  _mm_storeu_si128((__m128i*)(void*)y, _mm_packus_epi16(a, b));
}
/* The 16 channels' sums in channel order (gemmlowp rule, dwconv/qb_dwconv_gemmlowp.h). */
static inline void dc_store_s32(int32_t* y, dc_acc acc) {
  for (int i = 0; i < 4; i++) _mm_storeu_si128((__m128i*)(void*)(y + 4 * i), acc.v[i]);
}
static inline void dc_widen16(int16_t* d, const uint8_t* s, int16_t zp) {
  const __m128i z = _mm_set1_epi16(zp);
  const __m128i v = _mm_loadu_si128((const __m128i*)(const void*)s);
  _mm_storeu_si128((__m128i*)(void*)d, _mm_sub_epi16(_mm_cvtepu8_epi16(v), z));
  _mm_storeu_si128((__m128i*)(void*)(d + 8), _mm_sub_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(v, 8)), z));
}

#endif /* QB_DWCONV_CHAN_SSE41_H */
