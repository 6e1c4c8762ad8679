/* NEON pieces shared by the packed W4A8 tiles (2x8c4__neon, 4x8c4__neondot,
 * 4x8c8__i8mm; static inline, compiled under each file's ISA flags): a row's 8
 * running totals as two float32x4 halves (channels 0-3, 4-7), and the group epilogue
 * in the reference's float order: total += (float)(dot - zp * xs) * scale. */
#ifndef QB_W4A8_NEON_H
#define QB_W4A8_NEON_H

#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wgemm/qb_q4_pack_8c4.h"

static inline __attribute__((always_inline)) void w4a8n_load(size_t mr, float (*total)[QB_Q4_8C4_NR],
                                                             float32x4_t (*tot)[2]) {
  for (size_t r = 0; r < mr; r++) {
    tot[r][0] = vld1q_f32(total[r]);
    tot[r][1] = vld1q_f32(total[r] + 4);
  }
}

static inline __attribute__((always_inline)) void w4a8n_store(size_t mr, float32x4_t (*tot)[2],
                                                              float (*total)[QB_Q4_8C4_NR]) {
  for (size_t r = 0; r < mr; r++) {
    vst1q_f32(total[r], tot[r][0]);
    vst1q_f32(total[r] + 4, tot[r][1]);
  }
}

/* Row x's 32 activations from k: x + k itself, or when the block crosses K a copy
 * zero-padded past K in stage. */
static inline __attribute__((always_inline)) const int8_t* w4a8n_x_block(const int8_t* x, size_t k,
                                                                         size_t K, int8_t stage[32]) {
  if (k + 32 <= K) return x + k;
  memset(stage, 0, 32);
  memcpy(stage, x + k, K - k);
  return stage;
}

/* The group's zero points as int32, halves 0-3 / 4-7 (symmetric weights: 8). p: the
 * group's tail (scales, then affine zero points). */
static inline __attribute__((always_inline)) void w4a8n_group_zp(const uint8_t* p, bool affine,
                                                                 int32x4_t zp[2]) {
  const int16x8_t zp16 = affine ? vmovl_s8(vld1_s8((const int8_t*)p + QB_Q4_8C4_SCALE_BYTES))
                                : vdupq_n_s16(8);
  zp[0] = vmovl_s16(vget_low_s16(zp16));
  zp[1] = vmovl_s16(vget_high_s16(zp16));
}

/* One half's total += (float)(dot - zp * xs) * scale. */
static inline __attribute__((always_inline)) float32x4_t w4a8n_group_step(float32x4_t total,
                                                                          int32x4_t dot, int32x4_t zp,
                                                                          int32_t xs, float32x4_t sc) {
  const int32x4_t a = vsubq_s32(dot, vmulq_n_s32(zp, xs));
  return vaddq_f32(total, vmulq_f32(vcvtq_f32_s32(a), sc));
}

#endif /* QB_W4A8_NEON_H */
