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
 * from qb_f32_qs8_rowquantize__neon. Driver: wgemm/qb_w4a8_driver_packed.h. */
#include <arm_neon.h>
#include <string.h>

#include "wgemm/qb_q4_pack_8c4.h"
#include "wgemm/qb_w4a8_neon.h"
#include "wgemm/qb_wgemm.h"

#define QB_NR QB_Q4_8C4_NR
#define QB_MR 4 /* rows per tile */

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
 * starting at p; total[r] in/out (channels 0..7). */
static inline __attribute__((always_inline)) void w4a8p_tile(size_t mr, const int8_t* const* x,
                                                             const int32_t* const* xs, const uint8_t* p,
                                                             size_t K, size_t G, size_t g0, size_t g1,
                                                             bool affine, float total_io[][QB_NR]) {
  float32x4_t total[QB_MR][2]; /* half h: channels 4h..4h+3 */
  w4a8n_load(mr, total_io, total);
  const uint8x16_t low = vdupq_n_u8(0x0F);
  for (size_t g = g0; g < g1; g++) {
    const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    int32x4_t acc[QB_MR][2];
    for (size_t r = 0; r < mr; r++) acc[r][0] = acc[r][1] = vdupq_n_s32(0);
    for (size_t k = k0; k < k1; k += 32, p += QB_Q4_8C4_BLOCK_BYTES) {
      int8x16_t xlo[QB_MR], xhi[QB_MR];
      for (size_t r = 0; r < mr; r++) {
        int8_t stage[32];
        const int8_t* xb = w4a8n_x_block(x[r], k, K, stage);
        xlo[r] = vld1q_s8(xb);
        xhi[r] = vld1q_s8(xb + 16);
      }
      QB_DOT_STEP(0);
      QB_DOT_STEP(1);
      QB_DOT_STEP(2);
      QB_DOT_STEP(3);
    }
    int32x4_t zp[2];
    w4a8n_group_zp(p, affine, zp);
    for (size_t h = 0; h < 2; h++) {
      const float32x4_t sc = vld1q_f32((const float*)(const void*)(p + 16 * h));
      for (size_t r = 0; r < mr; r++) {
        total[r][h] = w4a8n_group_step(total[r][h], acc[r][h], zp[h], xs[r][g - g0], sc);
      }
    }
    p += qb_q4_8c4_group_tail(affine);
  }
  w4a8n_store(mr, total, total_io);
}

#define QB_W4A8P_MR QB_MR
#define QB_W4A8P_TAIL_MR 1
#define QB_W4A8P_WGEMM qb_qs8_q4_f32_wgemm_4x8c4__neondot
#include "wgemm/qb_w4a8_driver_packed.h"
