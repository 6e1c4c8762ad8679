/* Vector operations of the channels-in-lanes depthwise method (dwconv/qb_dwconv_chan.h)
 * for ARMv8.0 Advanced SIMD: 16 channels as two vectors of 8 int16, SMLAL / SMLAL2
 * per tap (int16 x int16 -> int32, exact), accumulators per 4 channels in order.
 * Static inline. */
#ifndef QB_DWCONV_CHAN_NEON_H
#define QB_DWCONV_CHAN_NEON_H
#include <arm_neon.h>
#include <stdint.h>

#include "requantize/qb_requantize.h"

typedef struct {
  int32x4_t v[4]; /* channels 0-3, 4-7, 8-11, 12-15 */
} dc_acc;
typedef struct {
  int16x8_t a[2], b[2];
} dc_wpair;
typedef struct {
  int32x4_t bias[4], zp;
  float32x4_t scale[4], lo, hi;
} dc_rq;

static inline dc_wpair dc_wpair_load(const int16_t* a, const int16_t* b) {
  return (dc_wpair){{vld1q_s16(a), vld1q_s16(a + 8)}, {vld1q_s16(b), vld1q_s16(b + 8)}};
}
static inline dc_acc dc_acc_zero(void) {
  const int32x4_t z = vdupq_n_s32(0);
  return (dc_acc){{z, z, z, z}};
}
static inline dc_acc dc_madd(dc_acc acc, const int16_t* a, const int16_t* b, const dc_wpair* w) {
  for (int h = 0; h < 2; h++) {
    const int16x8_t va = vld1q_s16(a + 8 * h), vb = vld1q_s16(b + 8 * h);
    acc.v[2 * h] = vmlal_s16(acc.v[2 * h], vget_low_s16(va), vget_low_s16(w->a[h]));
    acc.v[2 * h + 1] = vmlal_high_s16(acc.v[2 * h + 1], va, w->a[h]);
    acc.v[2 * h] = vmlal_s16(acc.v[2 * h], vget_low_s16(vb), vget_low_s16(w->b[h]));
    acc.v[2 * h + 1] = vmlal_high_s16(acc.v[2 * h + 1], vb, w->b[h]);
  }
  return acc;
}
static inline dc_rq dc_rq_load(const int32_t* bias, const float* scale, int32_t zp, int32_t qmin,
                               int32_t qmax) {
  dc_rq r;
  for (int i = 0; i < 4; i++) r.bias[i] = vld1q_s32(bias + 4 * i), r.scale[i] = vld1q_f32(scale + 4 * i);
  r.zp = vdupq_n_s32(zp);
  r.lo = vdupq_n_f32((float)(qmin - zp));
  r.hi = vdupq_n_f32((float)(qmax - zp));
  return r;
}
/* Reference rule per lane: FCVTNS rounds half to even. */
static inline int32x4_t dc_requantize(int32x4_t acc, int i, const dc_rq* r) {
  float32x4_t f = vmulq_f32(vcvtq_f32_s32(vaddq_s32(acc, r->bias[i])), r->scale[i]);
  f = vminq_f32(vmaxq_f32(f, r->lo), r->hi);
  return vaddq_s32(vcvtnq_s32_f32(f), r->zp);
}
static inline void dc_store_u8(uint8_t* y, dc_acc acc, const dc_rq* r) {
  const int16x8_t a = vcombine_s16(vqmovn_s32(dc_requantize(acc.v[0], 0, r)),
                                   vqmovn_s32(dc_requantize(acc.v[1], 1, r)));
  const int16x8_t b = vcombine_s16(vqmovn_s32(dc_requantize(acc.v[2], 2, r)),
                                   vqmovn_s32(dc_requantize(acc.v[3], 3, r)));
  vst1q_u8(y, vcombine_u8(vqmovun_s16(a), vqmovun_s16(b)));
}
/* The 16 channels' sums in channel order (gemmlowp rule, dwconv/qb_dwconv_gemmlowp.h). */
static inline void dc_store_s32(int32_t* y, dc_acc acc) {
  for (int i = 0; i < 4; i++) vst1q_s32(y + 4 * i, acc.v[i]);
}
/* gemmlowp rule in registers (dwconv/qb_dwconv_gemmlowp.h) with the requantize
 * kernel's instructions (requantize/qb_qs32_q8_requantize_gemmlowp__neon.c has the
 * argument): wrapping ADD of the bias, SSHL by left, SQRDMULH (= SRDHM, its INT32_MIN
 * case included), gemmlowp's sign fix-up + SRSHL (= RoundingDivideByPOT), SQADD zp,
 * clamp. Exact for every input; the caller's checks (made for AVX2) only send some
 * groups to the block route. */
#define DC_GEMMLOWP_IN_REGISTERS 1
typedef struct {
  int32x4_t bias[4], left[4], mult[4], neg_right[4], zp, qmin, qmax;
} dc_glrq;

static inline dc_glrq dc_glrq_load(const int32_t* bias, const qb_fixedpoint_multiplier* m,
                                   int32_t zp, int32_t qmin, int32_t qmax) {
  dc_glrq r;
  int32_t le[16], mu[16], nr[16];
  for (int c = 0; c < 16; c++) {
    const qb_gemmlowp_lane l = qb_gemmlowp_lane_make(m[c]);
    le[c] = l.left, mu[c] = l.multiplier, nr[c] = -l.right;
  }
  for (int i = 0; i < 4; i++) {
    r.bias[i] = vld1q_s32(bias + 4 * i);
    r.left[i] = vld1q_s32(le + 4 * i);
    r.mult[i] = vld1q_s32(mu + 4 * i);
    r.neg_right[i] = vld1q_s32(nr + 4 * i);
  }
  r.zp = vdupq_n_s32(zp);
  r.qmin = vdupq_n_s32(qmin);
  r.qmax = vdupq_n_s32(qmax);
  return r;
}
static inline int32x4_t dc_gl_requantize(int32x4_t acc, const dc_glrq* r, int i) {
  const int32x4_t sum =
      vreinterpretq_s32_u32(vaddq_u32(vreinterpretq_u32_s32(acc), vreinterpretq_u32_s32(r->bias[i])));
  const int32x4_t x = vqrdmulhq_s32(vshlq_s32(sum, r->left[i]), r->mult[i]);
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, r->neg_right[i]), 31);
  const int32x4_t q = vrshlq_s32(vqaddq_s32(x, fixup), r->neg_right[i]);
  return vminq_s32(vmaxq_s32(vqaddq_s32(q, r->zp), r->qmin), r->qmax);
}
static inline void dc_store_u8_gl(uint8_t* y, dc_acc acc, const dc_glrq* r) {
  const int16x8_t a = vcombine_s16(vqmovn_s32(dc_gl_requantize(acc.v[0], r, 0)),
                                   vqmovn_s32(dc_gl_requantize(acc.v[1], r, 1)));
  const int16x8_t b = vcombine_s16(vqmovn_s32(dc_gl_requantize(acc.v[2], r, 2)),
                                   vqmovn_s32(dc_gl_requantize(acc.v[3], r, 3)));
  vst1q_u8(y, vcombine_u8(vqmovun_s16(a), vqmovun_s16(b)));
}
static inline void dc_widen16(int16_t* d, const uint8_t* s, int16_t zp) {
  const uint8x16_t v = vld1q_u8(s);
  const int16x8_t z = vdupq_n_s16(zp);
  vst1q_s16(d, vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v))), z));
  vst1q_s16(d + 8, vsubq_s16(vreinterpretq_s16_u16(vmovl_high_u8(v)), z));
}

#endif /* QB_DWCONV_CHAN_NEON_H */
