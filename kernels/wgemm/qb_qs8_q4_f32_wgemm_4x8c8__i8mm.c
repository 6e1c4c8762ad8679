/* qb_qs8_q4_f32_wgemm_4x8c8__i8mm: W4A8 int4-weight GEMM / GEMV on weights packed
 * once at prepare in the 8c8 layout (wgemm/qb_q4_pack_8c8.h), Armv8.2 dotprod + i8mm,
 * exact (qb_qs8_q4_f32_wgemm__scalar semantics). Pairs with
 * qb_f32_qs8_rowquantize__neon.
 *
 * SMMLA (vmmlaq_s32) multiplies a 2 x 8 s8 matrix by the transpose of another and
 * adds the 2 x 2 int32 result: with the activations of a row pair (2 rows x 8 k) as
 * the first operand and one 8c8 vector of weights masked with 0x0F or shifted right
 * by 4 (channels 2p, 2p + 1 x the same 8 k; unsigned nibbles 0..15, valid as s8) as
 * the second,
 *   acc[pair][p] lanes (r0 c2p, r0 c2p+1, r1 c2p, r1 c2p+1) += sum_{i<8} x[r][k+i] * u(c, k+i)
 * 16 exact products per lane pair (|x * u| <= 128 * 15) summed in int32, exactly like
 * the reference's int32 group sum (no overflow below 2^31 / 1920 k per group). Per block of 8 channels x 32 k (128 bytes) and row
 * pair: 8 weight loads + 8 AND + 8 USHR (shared by the tile's pairs), 2 x 2 loads +
 * 4 ZIP1/ZIP2 (64-bit) of activations, 16 SMMLA; a 4-row tile (two pairs) thus
 * issues 32 SMMLA = 1024 MACs per 16 nibble ops, against 64 SDOT for the same work
 * in qb_qs8_q4_f32_wgemm_4x8c4__neondot.
 * Per group: ZIP1 / ZIP2 on 64-bit lanes turn the pair's 2 x 2 blocks into one row's
 * 4 channels, acc - zp_eff * sum_{k in g} x[k] (exact int32), then the reference's
 * fp32 step total += (float)acc * scale per lane (FMUL, then FADD: vmulq_f32 /
 * vaddq_f32 are plain C operators in GCC's arm_neon.h and the build's
 * -ffp-contract=off keeps them apart), and the driver's y = sx * total:
 * bit-identical. Activations past a group's end meet zero weights; a block crossing
 * K reads a zero-padded copy of the rows. Tile: 4 rows x 8 channels; the row tail
 * runs a pair, then an odd last row as a pair whose second row repeats the first
 * (its lanes are dropped). Every shape (odd G included: groups start a new block).
 * Driver: wgemm/qb_w4a8_driver_packed.h. */
#include <arm_neon.h>
#include <string.h>

#include "wgemm/qb_q4_pack_8c8.h"
#include "wgemm/qb_w4a8_neon.h"
#include "wgemm/qb_wgemm.h"

#define QB_NR QB_Q4_8C4_NR
#define QB_MR 4
#define QB_MP (QB_MR / 2) /* row pairs per tile */

/* Activation operands of rows (a, b) for the block at k: octets k+0..7, k+8..15,
 * k+16..23, k+24..31, each as the 2 x 8 matrix (row a; row b). */
static inline __attribute__((always_inline)) void pair_operands(const int8_t* a, const int8_t* b,
                                                                size_t k, size_t K, int8x16_t op[4]) {
  int8_t stage[2][32];
  if (k + 32 > K) { /* the block crosses K: zero-padded copies (never read past a row) */
    memset(stage, 0, sizeof stage);
    memcpy(stage[0], a + k, K - k);
    memcpy(stage[1], b + k, K - k);
    a = stage[0] - k;
    b = stage[1] - k;
  }
  const int64x2_t a0 = vreinterpretq_s64_s8(vld1q_s8(a + k)), a1 = vreinterpretq_s64_s8(vld1q_s8(a + k + 16));
  const int64x2_t b0 = vreinterpretq_s64_s8(vld1q_s8(b + k)), b1 = vreinterpretq_s64_s8(vld1q_s8(b + k + 16));
  op[0] = vreinterpretq_s8_s64(vzip1q_s64(a0, b0));
  op[1] = vreinterpretq_s8_s64(vzip2q_s64(a0, b0));
  op[2] = vreinterpretq_s8_s64(vzip1q_s64(a1, b1));
  op[3] = vreinterpretq_s8_s64(vzip2q_s64(a1, b1));
}

static inline __attribute__((always_inline)) void w4a8p_tile(size_t mr, const int8_t* const* x,
                                                             const int32_t* const* xs, const uint8_t* p,
                                                             size_t K, size_t G, size_t g0, size_t g1,
                                                             bool affine, float total[][QB_NR]) {
  const size_t mp = (mr + 1) / 2;
  const uint8x16_t low = vdupq_n_u8(0x0F);
  float32x4_t tot[QB_MR][2];
  w4a8n_load(mr, total, tot);
  for (size_t g = g0; g < g1; g++) {
    const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    int32x4_t acc[QB_MP][4];
    for (size_t q = 0; q < mp; q++) acc[q][0] = acc[q][1] = acc[q][2] = acc[q][3] = vdupq_n_s32(0);
    for (size_t k = k0; k < k1; k += 32, p += QB_Q4_8C4_BLOCK_BYTES) {
      int8x16_t op[QB_MP][4];
      for (size_t q = 0; q < mp; q++)
        pair_operands(x[2 * q], 2 * q + 1 < mr ? x[2 * q + 1] : x[2 * q], k, K, op[q]);
      for (size_t o = 0; o < 2; o++)
        for (size_t c2 = 0; c2 < 4; c2++) {
          const uint8x16_t v = vld1q_u8(p + 16 * (4 * o + c2));
          const int8x16_t wl = vreinterpretq_s8_u8(vandq_u8(v, low));
          const int8x16_t wh = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
          for (size_t q = 0; q < mp; q++) {
            acc[q][c2] = vmmlaq_s32(acc[q][c2], op[q][o], wl);     /* k + 8o .. */
            acc[q][c2] = vmmlaq_s32(acc[q][c2], op[q][o + 2], wh); /* k + 16 + 8o .. */
          }
        }
    }
    int32x4_t zp[2];
    w4a8n_group_zp(p, affine, zp);
    const float32x4_t sc[2] = {vld1q_f32((const float*)(const void*)p),
                               vld1q_f32((const float*)(const void*)(p + 16))};
    for (size_t q = 0; q < mp; q++)
      for (size_t h = 0; h < 2; h++) {
        /* channels 4h..4h+3: column pairs 2h and 2h + 1 */
        const int64x2_t lo = vreinterpretq_s64_s32(acc[q][2 * h]), hi = vreinterpretq_s64_s32(acc[q][2 * h + 1]);
        const size_t r0 = 2 * q, r1 = 2 * q + 1;
        tot[r0][h] = w4a8n_group_step(tot[r0][h], vreinterpretq_s32_s64(vzip1q_s64(lo, hi)), zp[h], xs[r0][g - g0], sc[h]);
        if (r1 < mr)
          tot[r1][h] = w4a8n_group_step(tot[r1][h], vreinterpretq_s32_s64(vzip2q_s64(lo, hi)), zp[h], xs[r1][g - g0], sc[h]);
      }
    p += qb_q4_8c4_group_tail(affine);
  }
  w4a8n_store(mr, tot, total);
}

#define QB_W4A8P_MR QB_MR
#define QB_W4A8P_TAIL_MR 2
#define QB_W4A8P_WGEMM qb_qs8_q4_f32_wgemm_4x8c8__i8mm
#include "wgemm/qb_w4a8_driver_packed.h"
