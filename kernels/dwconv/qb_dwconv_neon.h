/* Vector operations of the depthwise phase-plane driver (dwconv/qb_dwconv_plane.h)
 * for ARMv8.0 Advanced SIMD, shared by both depthwise families' neon files (static inline,
 * compiled under their flags). */
#ifndef QB_DWCONV_NEON_H
#define QB_DWCONV_NEON_H
#include <arm_neon.h>
#include <stddef.h>


#define DW_LANES 8
typedef struct {
  int32x4_t lo, hi;
} dw_acc;
typedef struct {
  int16_t a, b;
} dw_wpair;
typedef struct {
  int32x4_t bias, zp;
  float32x4_t scale, lo, hi;
} dw_rq;

static inline dw_wpair dw_wpair_set(int16_t wa, int16_t wb) { return (dw_wpair){wa, wb}; }
static inline dw_acc dw_acc_zero(void) { return (dw_acc){vdupq_n_s32(0), vdupq_n_s32(0)}; }
static inline dw_acc dw_acc_madd(dw_acc acc, const int16_t* a, const int16_t* b, dw_wpair w) {
  const int16x8_t va = vld1q_s16(a), vb = vld1q_s16(b);
  acc.lo = vmlal_n_s16(acc.lo, vget_low_s16(va), w.a);
  acc.hi = vmlal_high_n_s16(acc.hi, va, w.a);
  acc.lo = vmlal_n_s16(acc.lo, vget_low_s16(vb), w.b);
  acc.hi = vmlal_high_n_s16(acc.hi, vb, w.b);
  return acc;
}
static inline dw_rq dw_rq_set(int32_t bias, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  return (dw_rq){vdupq_n_s32(bias), vdupq_n_s32(zp), vdupq_n_f32(scale),
                 vdupq_n_f32((float)(qmin - zp)), vdupq_n_f32((float)(qmax - zp))};
}
static inline int32x4_t dw_requantize(int32x4_t acc, const dw_rq* r) {
  float32x4_t f = vmulq_f32(vcvtq_f32_s32(vaddq_s32(acc, r->bias)), r->scale);
  f = vminq_f32(vmaxq_f32(f, r->lo), r->hi);
  return vaddq_s32(vcvtnq_s32_f32(f), r->zp);
}
static inline void dw_store_u8(uint8_t* y, dw_acc acc, const dw_rq* r) {
  const int16x8_t v = vcombine_s16(vqmovn_s32(dw_requantize(acc.lo, r)),
                                   vqmovn_s32(dw_requantize(acc.hi, r)));
  vst1_u8(y, vqmovun_s16(v));
}
static inline void dw_store_s32(int32_t* y, dw_acc acc) {
  vst1q_s32(y, acc.lo);
  vst1q_s32(y + 4, acc.hi);
}
static inline void dw_widen(int16_t* d, const uint8_t* s, size_t n, int16_t zp) {
  const int16x8_t z = vdupq_n_s16(zp);
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    vst1q_s16(d + i, vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(s + i))), z));
  for (; i < n; i++) d[i] = (int16_t)(s[i] - zp);
}
static inline void dw_widen2(int16_t* even, int16_t* odd, const uint8_t* s, size_t n, int16_t zp) {
  const int16x8_t z = vdupq_n_s16(zp);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const uint8x8x2_t v = vld2_u8(s + i); /* even bytes, odd bytes */
    vst1q_s16(even + i / 2, vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(v.val[0])), z));
    vst1q_s16(odd + i / 2, vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(v.val[1])), z));
  }
  for (; i < n; i++) (i % 2 ? odd : even)[i / 2] = (int16_t)(s[i] - zp);
}

/* The same over ceil(n / 8) (dw_widen_over) or ceil(n / 16) * 16 (dw_widen2_over)
 * bytes (dwconv/qb_dwconv_plane.h: dw_fill). */
static inline void dw_widen_over(int16_t* d, const uint8_t* s, size_t n, int16_t zp) {
  const int16x8_t z = vdupq_n_s16(zp);
  for (size_t i = 0; i < n; i += 8)
    vst1q_s16(d + i, vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(s + i))), z));
}
static inline void dw_widen2_over(int16_t* even, int16_t* odd, const uint8_t* s, size_t n,
                                  int16_t zp) {
  const int16x8_t z = vdupq_n_s16(zp);
  for (size_t i = 0; i < n; i += 16) {
    const uint8x8x2_t v = vld2_u8(s + i);
    vst1q_s16(even + i / 2, vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(v.val[0])), z));
    vst1q_s16(odd + i / 2, vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(v.val[1])), z));
  }
}

#endif /* QB_DWCONV_NEON_H */
