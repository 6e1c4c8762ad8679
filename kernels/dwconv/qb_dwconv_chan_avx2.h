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

#include "requantize/qb_requantize.h"

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
/* gemmlowp rule in registers (dwconv/qb_dwconv_gemmlowp.h), the requantize kernels'
 * per-lane arithmetic (requantize/qb_requantize.h) with the group's 16 channels in
 * the lanes (the accumulators' order, see above). What it leaves out needs the
 * caller's check (dc_gl_ok): no multiplier is INT32_MIN (SRDHM's one overflow, never
 * an encoded multiplier) and |zp| <= 2^16 (the bounds qmin - zp, qmax - zp are then
 * exact, and after clamping to them r + zp is in qmin..qmax, so the reference's
 * second clamp is a no-op and the packs are exact). */
#define DC_GEMMLOWP_IN_REGISTERS 1
typedef struct {
  __m256i bias[2], left[2], mult[2], mult_odd[2], right[2], mask[2], half[2], lo, hi, zp;
} dc_glrq;

static inline dc_glrq dc_glrq_load(const int32_t* bias, const qb_fixedpoint_multiplier* m,
                                   int32_t zp, int32_t qmin, int32_t qmax) {
  dc_glrq r;
  for (int h = 0; h < 2; h++) {
    int32_t b[8], le[8], mu[8], ri[8], ma[8], hm[8];
    for (int j = 0; j < 8; j++) {
      const int c = (j < 4 ? j : j + 4) + 4 * h; /* lane j of lo (h 0) / hi (h 1) */
      const qb_gemmlowp_lane l = qb_gemmlowp_lane_make(m[c]);
      b[j] = bias[c], le[j] = l.left, mu[j] = l.multiplier, ri[j] = l.right;
      ma[j] = l.mask, hm[j] = l.half_mask;
    }
    r.bias[h] = _mm256_loadu_si256((const __m256i*)(const void*)b);
    r.left[h] = _mm256_loadu_si256((const __m256i*)(const void*)le);
    r.mult[h] = _mm256_loadu_si256((const __m256i*)(const void*)mu);
    r.mult_odd[h] = _mm256_srli_epi64(r.mult[h], 32);
    r.right[h] = _mm256_loadu_si256((const __m256i*)(const void*)ri);
    r.mask[h] = _mm256_loadu_si256((const __m256i*)(const void*)ma);
    r.half[h] = _mm256_loadu_si256((const __m256i*)(const void*)hm);
  }
  r.lo = _mm256_set1_epi32(qmin - zp);
  r.hi = _mm256_set1_epi32(qmax - zp);
  r.zp = _mm256_set1_epi32(zp);
  return r;
}
/* acc + bias, << left (wrapping, VPSLLVD), SaturatingRoundingDoublingHighMul as
 * floor((a * m + 2^30) / 2^31) from two VPMULDQ (even lanes, odd lanes), then
 * RoundingDivideByPOT: (x >> right) + ((x & mask) > half_mask + (x < 0)), clamp, + zp. */
static inline __m256i dc_gl_requantize(__m256i acc, const dc_glrq* r, int h) {
  const __m256i nudge = _mm256_set1_epi64x(INT64_C(1) << 30);
  const __m256i a = _mm256_sllv_epi32(_mm256_add_epi32(acc, r->bias[h]), r->left[h]);
  const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(a, r->mult[h]), nudge), 31);
  const __m256i odd = _mm256_slli_epi64(
      _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), r->mult_odd[h]), nudge), 1);
  const __m256i x = _mm256_blend_epi32(even, odd, 0xAA);
  const __m256i threshold =
      _mm256_sub_epi32(r->half[h], _mm256_cmpgt_epi32(_mm256_setzero_si256(), x));
  const __m256i q = _mm256_sub_epi32(_mm256_srav_epi32(x, r->right[h]),
                                     _mm256_cmpgt_epi32(_mm256_and_si256(x, r->mask[h]), threshold));
  return _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(q, r->lo), r->hi), r->zp);
}
static inline void dc_store_u8_gl(uint8_t* y, dc_acc acc, const dc_glrq* r) {
  const __m256i v = _mm256_packs_epi32(dc_gl_requantize(acc.lo, r, 0), dc_gl_requantize(acc.hi, r, 1));
  const __m128i b = _mm_packus_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storeu_si128((__m128i*)(void*)y, b);
}
static inline void dc_widen16(int16_t* d, const uint8_t* s, int16_t zp) {
  const __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i*)(const void*)s));
  _mm256_storeu_si256((__m256i*)(void*)d, _mm256_sub_epi16(v, _mm256_set1_epi16(zp)));
}

#endif /* QB_DWCONV_CHAN_AVX2_H */
