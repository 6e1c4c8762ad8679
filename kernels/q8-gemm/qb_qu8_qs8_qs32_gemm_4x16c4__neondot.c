/* qb_qu8_qs8_qs32_gemm_4x16c4__neondot: int8 GEMM, u8 x s8 -> s32, ARMv8.2 dotprod,
 * EXACT. Tile 4 rows x 16 columns x 4 k. Packed B is int8 (layout S8_C4): per group
 * of 4 k, 4 q registers hold 4 columns' 4 bytes each, the layout SDOT reads.
 * A is used signed, A_s = A_u - 128 (qb_q8_gemm_neon.h has the xor and the
 * 128 * colsum_B correction folded into the per-panel bias), so one instruction
 * multiplies s8 x s8:
 *   acc[i][v] = SDOT(acc[i][v], b[v], a_i.4b[g])   (by-element form, lane g)
 * adds the 4 products of row i's group g to each column's int32 lane. SDOT has no
 * intermediate rounding or saturation (|p| <= 128*128): exact, wrapping like the
 * reference's int32 sum.
 * Main loop: 8 k per step, each row's 8 bytes in one d register (lanes 0 and 1
 * are its two groups); then one 4-k group and the 1-3 byte tail as dwords.
 * Registers: 16 accumulators (4 rows x 4), 4 B, 4 A: 24 of 32.
 * Also qs8 x qs8 and qu8 x qu8 through the shared packing and driver. */
#include "qb_q8_gemm_pack.h"

#define QB_MR 4
#define QB_NR 16
#define QB_WLAYOUT QB_Q8_W_S8_C4
#include "qb_q8_gemm_neon.h"

static inline __attribute__((always_inline)) void qb_ukernel(
    size_t mr, uint32_t axor, size_t nr, size_t K, const uint8_t* a, size_t lda,
    const int32_t* rowsum, int32_t za_delta, const uint8_t* panel, int32_t* c, size_t ldc) {
  const uint32_t sxor = QB_NEON_SXOR(axor);
  const uint8x8_t sxor8 = vdup_n_u8((uint8_t)sxor);
  int32x4_t acc[QB_MR][QB_NV];
  QB_UNROLL for (size_t i = 0; i < mr; i++)
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++) acc[i][v] = vdupq_n_s32(0);

  const uint8_t* w = panel + 3 * QB_NR * sizeof(int32_t);
  size_t k = 0;
  for (; k + 8 <= K; k += 8, w += 2 * QB_NR * 4) {
    int8x8_t va[QB_MR];
    QB_UNROLL for (size_t i = 0; i < mr; i++)
      va[i] = vreinterpret_s8_u8(veor_u8(vld1_u8(a + i * lda + k), sxor8));
    int8x16_t b[QB_NV];
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++) b[v] = vld1q_s8((const int8_t*)(w + 16 * v));
    QB_UNROLL for (size_t i = 0; i < mr; i++)
      QB_UNROLL for (size_t v = 0; v < QB_NV; v++) acc[i][v] = vdotq_lane_s32(acc[i][v], b[v], va[i], 0);
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++)
      b[v] = vld1q_s8((const int8_t*)(w + QB_NR * 4 + 16 * v));
    QB_UNROLL for (size_t i = 0; i < mr; i++)
      QB_UNROLL for (size_t v = 0; v < QB_NV; v++) acc[i][v] = vdotq_lane_s32(acc[i][v], b[v], va[i], 1);
  }
  /* Up to two more groups: a full one and / or the 1-3 byte tail. */
  for (; k < K; k += 4, w += QB_NR * 4) {
    const size_t n = K - k < 4 ? K - k : 4;
    int8x8_t va[QB_MR];
    QB_UNROLL for (size_t i = 0; i < mr; i++)
      va[i] = vreinterpret_s8_u32(vdup_n_u32(qb_neon_load_a4(a + i * lda + k, n, sxor)));
    int8x16_t b[QB_NV];
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++) b[v] = vld1q_s8((const int8_t*)(w + 16 * v));
    QB_UNROLL for (size_t i = 0; i < mr; i++)
      QB_UNROLL for (size_t v = 0; v < QB_NV; v++) acc[i][v] = vdotq_lane_s32(acc[i][v], b[v], va[i], 0);
  }

  uint32x4_t bias[QB_NV], zb[QB_NV];
  qb_neon_panel_bias(panel, K, za_delta, 128, bias, zb); /* A_s = A_u - 128 */
  QB_UNROLL for (size_t i = 0; i < mr; i++) qb_neon_store_row(acc[i], bias, zb, rowsum[i], nr, c + i * ldc);
}

#define QB_PACKED_SIZE qb_q8_gemm_packed_size_4x16c4__neondot
#define QB_QU8_QS8_PACK qb_qu8_qs8_qs32_gemm_pack_4x16c4__neondot
#define QB_QU8_QS8_RUN qb_qu8_qs8_qs32_gemm_4x16c4__neondot
#define QB_QS8_QS8_PACK qb_qs8_qs8_qs32_gemm_pack_4x16c4__neondot
#define QB_QS8_QS8_RUN qb_qs8_qs8_qs32_gemm_4x16c4__neondot
#define QB_QU8_QU8_PACK qb_qu8_qu8_qs32_gemm_pack_4x16c4__neondot
#define QB_QU8_QU8_RUN qb_qu8_qu8_qs32_gemm_4x16c4__neondot
#include "qb_q8_gemm.h"
#include "qb_q8_gemm_driver.h"
