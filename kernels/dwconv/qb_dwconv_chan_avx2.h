/* Vector operations of the channels-in-lanes depthwise method (dwconv/qb_dwconv_chan.h)
 * with 256-bit integer vectors: 16 channels as 16 int16 lanes. Shared by the avx2 and
 * avx512vnni fused files (static inline, compiled under their flags).
 *
 * Lane order: VPUNPCKL/HWD work inside 128-bit halves, so the low accumulator holds
 * channels 0-3 and 8-11, the high one 4-7 and 12-15; the per-channel weight pairs,
 * biases and scales are laid out the same way, and VPACKSSDW (also per half) puts
 * the results back in channel order. */
#ifndef QB_DWCONV_CHAN_AVX2_H
#define QB_DWCONV_CHAN_AVX2_H
#include <immintrin.h>
#include <stdint.h>

typedef struct {
  __m256i lo, hi;
} dc_acc;
typedef struct {
  __m256i lo, hi;
} dc_wpair;
typedef struct {
  __m256i bias_lo, bias_hi, zp;
  __m256 scale_lo, scale_hi, lo, hi;
} dc_rq;

static inline dc_wpair dc_wpair_load(const int16_t* a, const int16_t* b) {
  const __m256i va = _mm256_loadu_si256((const __m256i*)(const void*)a);
  const __m256i vb = _mm256_loadu_si256((const __m256i*)(const void*)b);
  return (dc_wpair){_mm256_unpacklo_epi16(va, vb), _mm256_unpackhi_epi16(va, vb)};
}
static inline dc_acc dc_acc_zero(void) {
  return (dc_acc){_mm256_setzero_si256(), _mm256_setzero_si256()};
}
static inline dc_acc dc_madd(dc_acc acc, const int16_t* a, const int16_t* b, const dc_wpair* w) {
  const __m256i va = _mm256_loadu_si256((const __m256i*)(const void*)a);
  const __m256i vb = _mm256_loadu_si256((const __m256i*)(const void*)b);
  acc.lo = _mm256_add_epi32(acc.lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(va, vb), w->lo));
  acc.hi = _mm256_add_epi32(acc.hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(va, vb), w->hi));
  return acc;
}
static inline dc_rq dc_rq_load(const int32_t* bias, const float* scale, int32_t zp, int32_t qmin,
                               int32_t qmax) {
  const __m256i b0 = _mm256_loadu_si256((const __m256i*)(const void*)bias);
  const __m256i b1 = _mm256_loadu_si256((const __m256i*)(const void*)(bias + 8));
  const __m256 s0 = _mm256_loadu_ps(scale), s1 = _mm256_loadu_ps(scale + 8);
  return (dc_rq){_mm256_permute2x128_si256(b0, b1, 0x20), _mm256_permute2x128_si256(b0, b1, 0x31),
                 _mm256_set1_epi32(zp), _mm256_permute2f128_ps(s0, s1, 0x20),
                 _mm256_permute2f128_ps(s0, s1, 0x31), _mm256_set1_ps((float)(qmin - zp)),
                 _mm256_set1_ps((float)(qmax - zp))};
}
/* The reference rule per lane: float(acc + bias) * scale, clamped to the bounds minus
 * zp, rounded half to even (VCVTPS2DQ, default MXCSR), plus zp. */
static inline __m256i dc_requantize(__m256i acc, __m256i bias, __m256 scale, const dc_rq* r) {
  __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc, bias)), scale);
  f = _mm256_min_ps(_mm256_max_ps(f, r->lo), r->hi);
  return _mm256_add_epi32(_mm256_cvtps_epi32(f), r->zp);
}
static inline void dc_store_u8(uint8_t* y, dc_acc acc, const dc_rq* r) {
  const __m256i v = _mm256_packs_epi32(dc_requantize(acc.lo, r->bias_lo, r->scale_lo, r),
                                       dc_requantize(acc.hi, r->bias_hi, r->scale_hi, r));
  const __m128i b = _mm_packus_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storeu_si128((__m128i*)(void*)y, b);
}
/* The 16 channels' sums in channel order (gemmlowp rule, dwconv/qb_dwconv_gemmlowp.h):
 * the low halves of lo and hi are channels 0-3 and 4-7, the high halves 8-11, 12-15. */
static inline void dc_store_s32(int32_t* y, dc_acc acc) {
  _mm256_storeu_si256((__m256i*)(void*)y, _mm256_permute2x128_si256(acc.lo, acc.hi, 0x20));
  _mm256_storeu_si256((__m256i*)(void*)(y + 8), _mm256_permute2x128_si256(acc.lo, acc.hi, 0x31));
}
static inline void dc_widen16(int16_t* d, const uint8_t* s, int16_t zp) {
  const __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i*)(const void*)s));
  _mm256_storeu_si256((__m256i*)(void*)d, _mm256_sub_epi16(v, _mm256_set1_epi16(zp)));
}

#endif /* QB_DWCONV_CHAN_AVX2_H */
