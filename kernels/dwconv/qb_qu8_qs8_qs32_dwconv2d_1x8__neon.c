/* Depthwise conv qu8 x qs8 -> qs32, ARMv8.0 Advanced SIMD: 8 output columns per step
 * (two int32x4). Per tap: one 8-byte load of the input row, UXTL twice, SUB of the
 * input zero point in int32 and MLA by the broadcast (w - w_zero_point): the
 * reference's int32 products and sums, lane by lane (wrapping, like the reference).
 * Block / border split and method: dwconv/qb_dwconv.h; the driver
 * (qb_dwconv_driver.h) is plain C over the vector operations defined here. */
#include <arm_neon.h>
#include <stdint.h>

typedef int32x4x2_t dw_vi;

static inline dw_vi dw_zero(void) {
  dw_vi r = {{vdupq_n_s32(0), vdupq_n_s32(0)}};
  return r;
}
static inline dw_vi dw_set1(int32_t v) {
  dw_vi r = {{vdupq_n_s32(v), vdupq_n_s32(v)}};
  return r;
}
/* 8 bytes -> 8 int32 (0..255). */
static inline dw_vi dw_load8_u8(const uint8_t* p) {
  const int16x8_t h = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(p)));
  dw_vi r = {{vmovl_s16(vget_low_s16(h)), vmovl_s16(vget_high_s16(h))}};
  return r;
}
static inline dw_vi dw_sub(dw_vi a, dw_vi b) {
  dw_vi r = {{vsubq_s32(a.val[0], b.val[0]), vsubq_s32(a.val[1], b.val[1])}};
  return r;
}
static inline dw_vi dw_madd(dw_vi acc, dw_vi a, dw_vi b) {
  dw_vi r = {{vmlaq_s32(acc.val[0], a.val[0], b.val[0]), vmlaq_s32(acc.val[1], a.val[1], b.val[1])}};
  return r;
}
static inline void dw_store(int32_t* p, dw_vi v) {
  vst1q_s32(p, v.val[0]);
  vst1q_s32(p + 4, v.val[1]);
}

#define DW_LANES 8
#define dw_load_u8 dw_load8_u8
#define QB_DWCONV_KERNEL qb_qu8_qs8_qs32_dwconv2d_1x8__neon
#include "dwconv/qb_dwconv_driver.h"
