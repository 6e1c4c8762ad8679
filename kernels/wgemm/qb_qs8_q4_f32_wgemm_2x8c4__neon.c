/* qb_qs8_q4_f32_wgemm_2x8c4__neon: W4A8 int4-weight GEMM / GEMV on weights packed
 * once at prepare in the 8c4 layout (wgemm/qb_q4_pack_8c4.h), ARMv8.0 Advanced SIMD
 * (no dotprod: Cortex-A53 / A72 class), exact (qb_qs8_q4_f32_wgemm__scalar
 * semantics). Pairs with qb_f32_qs8_rowquantize__neon.
 *
 * Each 16-byte half of a block's 32-byte vector (channels 4h..4h+3) masked with 0x0F
 * or shifted right by 4 is a "c4" operand: bytes 4c..4c+3 hold channel c's unsigned
 * nibbles (0..15, valid as s8) of 4 consecutive k. DUP by 32-bit lane repeats the
 * row's 4 activations of those k in every lane, and SMULL / SMLAL (low 8 bytes:
 * channels 4h, 4h+1) and SMULL2 / SMLAL2 (high 8: 4h+2, 4h+3) multiply them into
 * int16 lanes (channel, k mod 4). Per block (32 k) an int16 lane sums 8 products of
 * at most 15 * 128 = 1920 in magnitude: 15360 < 32768, exact; SADALP then adds
 * adjacent int16 pairs into int32 (lanes: channel x {k mod 4 in 0-1, 2-3}), and one
 * ADDP per half at the group's end gives the 4 channels' exact group dots.
 * Per block and row: 8 loads + 16 AND/USHR of weights (shared by the tile's 2 rows),
 * 8 DUP, 32 SMULL/SMLAL(2) (8 MACs each: 256 MACs), 4 SADALP.
 * Per group: acc - zp_eff * sum_{k in g} x[k] (exact int32), then the reference's
 * fp32 step total += (float)acc * scale per lane (FMUL, then FADD; -ffp-contract=off
 * keeps them apart), and the driver's y = sx * total: bit-identical. Activations
 * past a group's end meet zero weights; a block crossing K reads a zero-padded copy.
 * Tile: 2 rows x 8 channels (per row 4 int16 + 4 int32 accumulators and 2 activation
 * vectors: 20 of the 32 registers with 2 rows); M = 1 and the last odd row run a
 * 1-row tile, which reads each weight byte once (GEMV). Every shape.
 * Driver: wgemm/qb_w4a8_driver_packed.h. */
#include <arm_neon.h>
#include <string.h>

#include "wgemm/qb_q4_pack_8c4.h"
#include "wgemm/qb_w4a8_neon.h"
#include "wgemm/qb_wgemm.h"

#define QB_NR QB_Q4_8C4_NR
#define QB_MR 2

/* s[r][h][j] (+)= the products of vector V of a block (p: the block) with row r:
 * low nibbles against k 4V..4V+3, high nibbles against 16 + 4V... */
#define QB_MUL_STEP(V)                                                                          \
  do {                                                                                          \
    for (size_t h = 0; h < 2; h++) {                                                            \
      const uint8x16_t q = vld1q_u8(p + 32 * (V) + 16 * h);                                     \
      const int8x16_t wl = vreinterpretq_s8_u8(vandq_u8(q, low));                               \
      const int8x16_t wh = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));                               \
      for (size_t r = 0; r < mr; r++) {                                                         \
        const int8x16_t xl = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(xlo[r]), (V))); \
        const int8x16_t xh = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(xhi[r]), (V))); \
        s[r][h][0] = vmlal_s8(s[r][h][0], vget_low_s8(wl), vget_low_s8(xl));                    \
        s[r][h][0] = vmlal_s8(s[r][h][0], vget_low_s8(wh), vget_low_s8(xh));                    \
        s[r][h][1] = vmlal_high_s8(s[r][h][1], wl, xl);                                         \
        s[r][h][1] = vmlal_high_s8(s[r][h][1], wh, xh);                                         \
      }                                                                                         \
    }                                                                                           \
  } while (0)

static inline __attribute__((always_inline)) void w4a8p_tile(size_t mr, const int8_t* const* x,
                                                             const int32_t* const* xs, const uint8_t* p,
                                                             size_t K, size_t G, size_t g0, size_t g1,
                                                             bool affine, float total[][QB_NR]) {
  const uint8x16_t low = vdupq_n_u8(0x0F);
  float32x4_t tot[QB_MR][2];
  w4a8n_load(mr, total, tot);
  for (size_t g = g0; g < g1; g++) {
    const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    int32x4_t acc[QB_MR][2][2];
    for (size_t r = 0; r < mr; r++) acc[r][0][0] = acc[r][0][1] = acc[r][1][0] = acc[r][1][1] = vdupq_n_s32(0);
    for (size_t k = k0; k < k1; k += 32, p += QB_Q4_8C4_BLOCK_BYTES) {
      int8x16_t xlo[QB_MR], xhi[QB_MR];
      int16x8_t s[QB_MR][2][2];
      for (size_t r = 0; r < mr; r++) {
        int8_t stage[32];
        const int8_t* xb = w4a8n_x_block(x[r], k, K, stage);
        xlo[r] = vld1q_s8(xb);
        xhi[r] = vld1q_s8(xb + 16);
        s[r][0][0] = s[r][0][1] = s[r][1][0] = s[r][1][1] = vdupq_n_s16(0);
      }
      QB_MUL_STEP(0);
      QB_MUL_STEP(1);
      QB_MUL_STEP(2);
      QB_MUL_STEP(3);
      for (size_t r = 0; r < mr; r++)
        for (size_t h = 0; h < 2; h++) {
          acc[r][h][0] = vpadalq_s16(acc[r][h][0], s[r][h][0]);
          acc[r][h][1] = vpadalq_s16(acc[r][h][1], s[r][h][1]);
        }
    }
    int32x4_t zp[2];
    w4a8n_group_zp(p, affine, zp);
    for (size_t h = 0; h < 2; h++) {
      const float32x4_t sc = vld1q_f32((const float*)(const void*)(p + 16 * h));
      for (size_t r = 0; r < mr; r++) {
        /* lanes (c, k mod 4 in 0-1 / 2-3) of channels 4h, 4h+1 and 4h+2, 4h+3 -> 4 channels */
        const int32x4_t dot = vpaddq_s32(acc[r][h][0], acc[r][h][1]);
        tot[r][h] = w4a8n_group_step(tot[r][h], dot, zp[h], xs[r][g - g0], sc);
      }
    }
    p += qb_q4_8c4_group_tail(affine);
  }
  w4a8n_store(mr, tot, total);
}

#define QB_W4A8P_MR QB_MR
#define QB_W4A8P_TAIL_MR 1
#define QB_W4A8P_WGEMM qb_qs8_q4_f32_wgemm_2x8c4__neon
#include "wgemm/qb_w4a8_driver_packed.h"
