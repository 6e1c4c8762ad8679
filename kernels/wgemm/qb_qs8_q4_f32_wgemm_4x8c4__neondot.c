/* qb_qs8_q4_f32_wgemm_4x8c4__neondot: W4A8 int4-weight GEMM / GEMV on weights packed
 * once at prepare in the 8c4 layout (wgemm/qb_q4_pack_8c4.h), ARMv8.2 dotprod,
 * exact (qb_qs8_q4_f32_wgemm__scalar semantics). Each 16-byte half of a block's
 * 32-byte vector (channels 0-3, 4-7) masked with 0x0F or shifted right by 4 is a "c4"
 * operand: lane c holds channel c's unsigned nibbles (0..15, valid as s8) of 4
 * consecutive k, so SDOT by element against the block's activations (lane v: k 4v..4v+3
 * for the low nibbles, 16 + 4v.. for the high ones) adds 4 exact products per lane
 * straight into int32. Per group: acc - zp * sum(x), then the reference's fp32 step
 * (mul, then add; no FMA) per lane: bit-identical. Tile: 4 rows x 8 channels; row
 * tails and M < 4 run a 1-row tile (each weight byte read once). Activations come
 * from qb_f32_qs8_rowquantize__neon. */
#include <arm_neon.h>
#include <string.h>

#include "wgemm/qb_q4_pack_8c4.h"
#include "wgemm/qb_wgemm.h"

#define QB_NR QB_Q4_8C4_NR
#define QB_MR 4      /* rows per tile */
#define QB_XSUM 8192 /* int32 activation sums on the stack (rows x groups) */

/* acc[r][h] += the products of vector v of a block (p: the block) with row r. */
#define QB_DOT_STEP(V)                                                                          \
  do {                                                                                          \
    for (size_t h = 0; h < 2; h++) {                                                            \
      const uint8x16_t q = vld1q_u8(p + 32 * (V) + 16 * h);                                     \
      const int8x16_t wl = vreinterpretq_s8_u8(vandq_u8(q, low));                               \
      const int8x16_t wh = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));                               \
      for (size_t r = 0; r < mr; r++) {                                                         \
        acc[r][h] = vdotq_laneq_s32(acc[r][h], wl, xlo[r], (V));                                \
        acc[r][h] = vdotq_laneq_s32(acc[r][h], wh, xhi[r], (V));                                \
      }                                                                                         \
    }                                                                                           \
  } while (0)

/* mr rows (x[r], their group sums xs[r][g - g0]) against one panel, groups [g0, g1)
 * starting at p; total[r][h] in/out (half h: channels 4h..4h+3). */
static inline __attribute__((always_inline)) void tile(size_t mr, const int8_t* const* x,
                                                       const int32_t* const* xs, const uint8_t* p,
                                                       size_t K, size_t G, size_t g0, size_t g1,
                                                       bool affine, float32x4_t total[][2]) {
  const uint8x16_t low = vdupq_n_u8(0x0F);
  for (size_t g = g0; g < g1; g++) {
    const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    int32x4_t acc[QB_MR][2];
    for (size_t r = 0; r < mr; r++) acc[r][0] = acc[r][1] = vdupq_n_s32(0);
    for (size_t k = k0; k < k1; k += 32, p += QB_Q4_8C4_BLOCK_BYTES) {
      int8x16_t xlo[QB_MR], xhi[QB_MR];
      for (size_t r = 0; r < mr; r++) {
        const int8_t* xb = x[r] + k;
        int8_t stage[32];
        if (k + 32 > K) { /* the block crosses K: zero-padded copy */
          memset(stage, 0, sizeof stage);
          memcpy(stage, x[r] + k, K - k);
          xb = stage;
        }
        xlo[r] = vld1q_s8(xb);
        xhi[r] = vld1q_s8(xb + 16);
      }
      QB_DOT_STEP(0);
      QB_DOT_STEP(1);
      QB_DOT_STEP(2);
      QB_DOT_STEP(3);
    }
    const int16x8_t zp16 = affine ? vmovl_s8(vld1_s8((const int8_t*)p + QB_Q4_8C4_SCALE_BYTES))
                                  : vdupq_n_s16(8); /* symmetric: zero point 8 */
    const int32x4_t zp[2] = {vmovl_s16(vget_low_s16(zp16)), vmovl_s16(vget_high_s16(zp16))};
    for (size_t h = 0; h < 2; h++) {
      const float32x4_t sc = vld1q_f32((const float*)(const void*)(p + 16 * h));
      for (size_t r = 0; r < mr; r++) {
        const int32x4_t a = vsubq_s32(acc[r][h], vmulq_n_s32(zp[h], xs[r][g - g0]));
        total[r][h] = vaddq_f32(total[r][h], vmulq_f32(vcvtq_f32_s32(a), sc));
      }
    }
    p += qb_q4_8c4_group_tail(affine);
  }
}

/* Rows [m, m + mr) against the panel of channels [n0, n0 + 8), groups [g0, g1). */
static inline __attribute__((always_inline)) void tile_rows(size_t mr, size_t m, size_t n0, size_t N,
                                                            size_t K, size_t G, size_t g0, size_t g1,
                                                            size_t ngroups, const int8_t* xq,
                                                            const float* sx, const int32_t* xsum,
                                                            size_t m_first, const uint8_t* p,
                                                            bool affine, float* y, size_t ldy) {
  const size_t valid = N - n0 < QB_NR ? N - n0 : QB_NR;
  const int8_t* x[QB_MR];
  const int32_t* xs[QB_MR];
  float32x4_t total[QB_MR][2];
  for (size_t r = 0; r < mr; r++) {
    x[r] = xq + (m + r) * K;
    xs[r] = xsum + (m + r - m_first) * (g1 - g0);
    float carried[QB_NR] = {0};
    if (g0 != 0) memcpy(carried, y + (m + r) * ldy + n0, valid * sizeof(float));
    total[r][0] = vld1q_f32(carried);
    total[r][1] = vld1q_f32(carried + 4);
  }
  tile(mr, x, xs, p, K, G, g0, g1, affine, total);
  for (size_t r = 0; r < mr; r++) {
    float out[QB_NR];
    for (size_t h = 0; h < 2; h++) {
      float32x4_t t = total[r][h];
      if (g1 == ngroups) t = vmulq_f32(vdupq_n_f32(sx[m + r]), t);
      vst1q_f32(out + 4 * h, t);
    }
    memcpy(y + (m + r) * ldy + n0, out, valid * sizeof(float));
  }
}

void qb_qs8_q4_f32_wgemm_4x8c4__neondot(size_t M, size_t N, size_t K, size_t G, bool affine,
                                        const int8_t* xq, const float* sx, const void* packed,
                                        float* y, size_t ldy) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (size_t m = 0; m < M; m++) memset(y + m * ldy, 0, N * sizeof(float));
    return;
  }
  const size_t ngroups = (K + G - 1) / G, panel_bytes = qb_q4_8c4_panel_offset(K, G, ngroups, affine);
  const size_t gc = ngroups < QB_XSUM ? ngroups : QB_XSUM;
  int32_t xsum[QB_XSUM];
  for (size_t g0 = 0; g0 < ngroups; g0 += gc) {
    const size_t g1 = g0 + gc < ngroups ? g0 + gc : ngroups, pg = qb_q4_8c4_panel_offset(K, G, g0, affine);
    size_t mc = QB_XSUM / (g1 - g0);
    if (mc > QB_MR) mc -= mc % QB_MR;
    for (size_t m0 = 0; m0 < M; m0 += mc) {
      const size_t m1 = m0 + mc < M ? m0 + mc : M;
      for (size_t m = m0; m < m1; m++)
        for (size_t g = g0; g < g1; g++) {
          const int8_t* x = xq + m * K;
          const size_t k1 = (g + 1) * G < K ? (g + 1) * G : K;
          int32_t s = 0;
          for (size_t k = g * G; k < k1; k++) s += x[k];
          xsum[(m - m0) * (g1 - g0) + g - g0] = s;
        }
      for (size_t n0 = 0; n0 < N; n0 += QB_NR) {
        const uint8_t* p = (const uint8_t*)packed + n0 / QB_NR * panel_bytes + pg;
        size_t m = m0;
        for (; m + QB_MR <= m1; m += QB_MR)
          tile_rows(QB_MR, m, n0, N, K, G, g0, g1, ngroups, xq, sx, xsum, m0, p, affine, y, ldy);
        for (; m < m1; m++)
          tile_rows(1, m, n0, N, K, G, g0, g1, ngroups, xq, sx, xsum, m0, p, affine, y, ldy);
      }
    }
  }
}
