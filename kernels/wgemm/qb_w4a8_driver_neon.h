/* W4A8 driver shared by the Arm files (*__neon.c, *__neondot.c; static inline,
 * compiled under each file's ISA flags). The including file defines, before
 * including this header:
 *   static inline int32x4_t w4a8_dot16(int32x4_t acc, int8x16_t w, int8x16_t x)
 *       adds the 16 products w[j] * x[j] to the lanes of acc, exactly (any split of
 *       the 16 products over the 4 lanes: only the lane total is used)
 *   QB_W4A8_WGEMM   the name of the kernel to define.
 *
 * Method (differs from the x86 drivers: Arm multiplies s8 x s8 natively). Weights
 * are read row by row from the reference's packed layout, 16 bytes = 32 nibbles per
 * step: AND 0x0F / USHR 4 give the low / high nibbles and ZIP1 / ZIP2 put them back
 * in element order (element 2j is the low nibble of byte j). The group's zero point
 * is subtracted right there, in int8:
 *   symmetric  w = (nibble ^ 8) - 8                in -8..7
 *   affine     w = nibble - zp[n,g], zp in 0..15   in -15..15
 * so each product w * xq is a plain s8 x s8 product (|w * xq| <= 15 * 128) and the
 * group sum sum_k xq[k] * (w[n][k] - zp[n,g]) is exact in int32 whatever the order.
 * A partial step (the group's last < 32 elements) is staged with zero activations
 * beyond its end, so the nibbles there (the next group's, or an odd row's padding
 * nibble) contribute nothing. Groups of odd size G start mid-byte: when there is
 * more than one group those shapes take the reference path (exact by construction).
 *
 * Four output channels per block: their four int32 group sums are reduced with two
 * ADDPs into one vector whose lanes are the channels, and each lane then repeats the
 * reference's fp32 sequence (total += (float)acc_g * scale[n,g] for g increasing,
 * separate FMUL and FADD; y = sx * total): bit-exact. Channels past N repeat the
 * last one and are not stored. */
#ifndef QB_W4A8_DRIVER_NEON_H
#define QB_W4A8_DRIVER_NEON_H

#include <arm_neon.h>
#include <string.h>

#include "qb_kernels.h"
#include "wgemm/qb_wgemm.h"

#define QB_W4A8_NR 4

typedef struct {
  const uint8_t* w[QB_W4A8_NR];
  const float* scale[QB_W4A8_NR];
  const int8_t* zp[QB_W4A8_NR]; /* NULL: symmetric */
} w4a8_rows;

/* 16 packed bytes -> 32 weights (nibble ^ flip) - sub, in element order. */
static inline int8x16x2_t w4a8_unpack32(const uint8_t* bytes, uint8x16_t flip, int8x16_t sub) {
  const uint8x16_t b = vld1q_u8(bytes);
  const uint8x16_t lo = veorq_u8(vandq_u8(b, vdupq_n_u8(0x0F)), flip);
  const uint8x16_t hi = veorq_u8(vshrq_n_u8(b, 4), flip);
  int8x16x2_t r;
  r.val[0] = vsubq_s8(vreinterpretq_s8_u8(vzip1q_u8(lo, hi)), sub);
  r.val[1] = vsubq_s8(vreinterpretq_s8_u8(vzip2q_u8(lo, hi)), sub);
  return r;
}

/* Exact int32 group sums sum_{k in [k0, k1)} xq[k] * (w[n][k] - zp[n,g]) for the
 * block's 4 rows, one per lane. */
static inline int32x4_t w4a8_group_dot4(const w4a8_rows* r, const int8_t* xq, size_t k0,
                                        size_t k1, size_t g) {
  const uint8x16_t flip = vdupq_n_u8(r->zp[0] ? 0 : 8);
  int8x16_t sub[QB_W4A8_NR];
  int32x4_t acc[QB_W4A8_NR];
  for (int i = 0; i < QB_W4A8_NR; i++) {
    sub[i] = vdupq_n_s8(r->zp[i] ? r->zp[i][g] : 8);
    acc[i] = vdupq_n_s32(0);
  }
  for (size_t k = k0; k < k1; k += 32) {
    const size_t len = k1 - k < 32 ? k1 - k : 32;
    if (len == 32) {
      const int8x16_t x0 = vld1q_s8(xq + k), x1 = vld1q_s8(xq + k + 16);
      for (int i = 0; i < QB_W4A8_NR; i++) {
        const int8x16x2_t wv = w4a8_unpack32(r->w[i] + k / 2, flip, sub[i]);
        acc[i] = w4a8_dot16(w4a8_dot16(acc[i], wv.val[0], x0), wv.val[1], x1);
      }
    } else {
      int8_t xs[32] = {0};
      memcpy(xs, xq + k, len);
      const int8x16_t x0 = vld1q_s8(xs), x1 = vld1q_s8(xs + 16);
      for (int i = 0; i < QB_W4A8_NR; i++) {
        uint8_t ws[16] = {0};
        memcpy(ws, r->w[i] + k / 2, (len + 1) / 2);
        const int8x16x2_t wv = w4a8_unpack32(ws, flip, sub[i]);
        acc[i] = w4a8_dot16(w4a8_dot16(acc[i], wv.val[0], x0), wv.val[1], x1);
      }
    }
  }
  return vpaddq_s32(vpaddq_s32(acc[0], acc[1]), vpaddq_s32(acc[2], acc[3]));
}

/* One row of activations against output channels [n0, n0 + 4). */
static inline void w4a8_block(size_t N, size_t K, size_t G, size_t ngroups, const int8_t* xq,
                              float sx, const uint8_t* w, const float* scale,
                              const int8_t* zero_point, size_t n0, float* y) {
  const size_t row_bytes = (K + 1) / 2;
  w4a8_rows r;
  for (size_t i = 0; i < QB_W4A8_NR; i++) {
    const size_t n = n0 + i < N ? n0 + i : N - 1;
    r.w[i] = w + n * row_bytes;
    r.scale[i] = scale + n * ngroups;
    r.zp[i] = zero_point ? zero_point + n * ngroups : NULL;
  }
  float32x4_t total = vdupq_n_f32(0.0f);
  for (size_t g = 0; g < ngroups; g++) {
    const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    const int32x4_t acc = w4a8_group_dot4(&r, xq, k0, k1, g);
    const float s_lanes[QB_W4A8_NR] = {r.scale[0][g], r.scale[1][g], r.scale[2][g], r.scale[3][g]};
    total = vaddq_f32(total, vmulq_f32(vcvtq_f32_s32(acc), vld1q_f32(s_lanes)));
  }
  total = vmulq_f32(vdupq_n_f32(sx), total);
  float out[QB_W4A8_NR];
  vst1q_f32(out, total);
  const size_t valid = N - n0 < QB_W4A8_NR ? N - n0 : QB_W4A8_NR;
  memcpy(y + n0, out, valid * sizeof(float));
}

void QB_W4A8_WGEMM(size_t M, size_t N, size_t K, size_t G, const int8_t* xq, const float* sx,
                   const uint8_t* w, const float* scale, const int8_t* zero_point, float* y,
                   size_t ldy) {
  const size_t ngroups = (K + G - 1) / G;
  if (G % 2 != 0 && ngroups > 1) { /* groups start mid-byte */
    qb_qs8_q4_f32_wgemm__scalar(M, N, K, G, xq, sx, w, scale, zero_point, y, ldy);
    return;
  }
  for (size_t m = 0; m < M; m++)
    for (size_t n0 = 0; n0 < N; n0 += QB_W4A8_NR)
      w4a8_block(N, K, G, ngroups, xq + m * K, sx[m], w, scale, zero_point, n0, y + m * ldy);
}

#endif /* QB_W4A8_DRIVER_NEON_H */
