/* W4A32 int4-weight GEMM/GEMV with fp32 activations, ARMv8.0 Advanced SIMD: 4 output
 * channels per block, one lane each, and each lane repeats the reference's fp32
 * sequence (group_sum = fma(x[k], (float)(w - zp), group_sum) for k increasing,
 * total = fma(scale, group_sum, total) for g increasing) with FMLA (vfmaq_f32),
 * which rounds once as the reference's fmaf does. The 32-bit windows of weight nibbles are gathered with four
 * scalar loads inserted by lane; the nibble of element k is (window >> shift) & 15 via
 * USHL by -shift. Method: wgemm/qb_w4a32_driver.h, which is plain C over the
 * vector operations defined here. */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

/* Four 32-bit windows at base + idx[i] (unaligned): scalar loads inserted by lane. */
static inline int32x4_t w4a32_gather4(const uint8_t* base, int32x4_t idx) {
  uint32_t v0, v1, v2, v3;
  memcpy(&v0, base + vgetq_lane_s32(idx, 0), 4);
  memcpy(&v1, base + vgetq_lane_s32(idx, 1), 4);
  memcpy(&v2, base + vgetq_lane_s32(idx, 2), 4);
  memcpy(&v3, base + vgetq_lane_s32(idx, 3), 4);
  uint32x4_t v = vdupq_n_u32(v0);
  v = vsetq_lane_u32(v1, v, 1);
  v = vsetq_lane_u32(v2, v, 2);
  v = vsetq_lane_u32(v3, v, 3);
  return vreinterpretq_s32_u32(v);
}

/* (v >> shift) & 15, logical shift. */
static inline int32x4_t w4a32_nibble4(int32x4_t v, int shift) {
  const uint32x4_t s = vshlq_u32(vreinterpretq_u32_s32(v), vdupq_n_s32(-shift));
  return vreinterpretq_s32_u32(vandq_u32(s, vdupq_n_u32(15)));
}

#define W4A32_LANES 4
typedef float32x4_t w4a32_vf;
typedef int32x4_t w4a32_vi;
#define w4a32_set1_f vdupq_n_f32
#define w4a32_set1_i vdupq_n_s32
#define w4a32_zero_f() vdupq_n_f32(0.0f)
#define w4a32_gather_u32 w4a32_gather4
#define w4a32_nibble w4a32_nibble4
#define w4a32_fma_f(a, b, c) vfmaq_f32(c, a, b)
#define w4a32_add_i vaddq_s32
#define w4a32_sub_i vsubq_s32
#define w4a32_xor_i veorq_s32
#define w4a32_cvt_f vcvtq_f32_s32
#define w4a32_load_i(p) vld1q_s32((const int32_t*)(p))
#define w4a32_load_f vld1q_f32
#define w4a32_store_f vst1q_f32

#define QB_W4A32_WGEMM qb_f32_q4_f32_wgemm_1x4__neon
#include "wgemm/qb_w4a32_driver.h"
