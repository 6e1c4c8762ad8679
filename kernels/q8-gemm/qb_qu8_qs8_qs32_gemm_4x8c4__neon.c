/* qb_qu8_qs8_qs32_gemm_4x8c4__neon: int8 GEMM, u8 x s8 -> s32, ARMv8.0 Advanced
 * SIMD, EXACT. Tile 4 rows x 8 columns x 4 k. Packed B is int8 (layout S8_C4, the
 * same as the dotprod kernel): per group of 4 k, 2 q registers hold 8 columns'
 * 4 bytes each. A is used signed, A_s = A_u - 128 (qb_q8_gemm_neon.h has the xor
 * and the 128 * colsum_B correction folded into the per-panel bias).
 * Per row and group, A_s[k..k+3] is replicated into all four dwords of a q
 * register and multiplied against 2 columns (8 bytes) at a time:
 *   p   = SMULL(a_lo, b.8b) / SMULL2(a, b.16b)     8 s8 x s8 products as int16
 *   acc = SADALP(acc, p)                           adjacent pairs added into int32
 * so acc[i][v] lanes hold (col 2v: k0+k1, k2+k3, col 2v+1: k0+k1, k2+k3) partial
 * sums, and ADDP of two accumulators at the end gives 4 columns' totals.
 * Why exact: |A_s * B| <= 128 * 128 = 16384 fits int16 (SMULL cannot overflow,
 * even for -128 * -128), SADALP widens before adding, and int32 lanes wrap like
 * the reference's int32 sum. No int16 sums of two products (which could reach
 * 32768) are ever formed.
 * Registers: 16 accumulators (4 rows x 4), 2 B, 4 A, product temporaries.
 * Also qs8 x qs8 and qu8 x qu8 through the shared packing and driver. */
/* GCC 12's pre-allocation scheduler hoists all 16 SMULLs of a group ahead of the
 * SADALPs, which needs 16 product registers on top of the 16 accumulators and
 * spills one per group; without it the loop runs from registers. */
#pragma GCC optimize("no-schedule-insns")
#include "qb_q8_gemm_pack.h"

#define QB_MR 4
#define QB_NR 8
#define QB_WLAYOUT QB_Q8_W_S8_C4
#include "qb_q8_gemm_neon.h"

#define QB_NACC (2 * QB_NV) /* accumulators per row: 2 columns each */

/* Group g's partial sums for row a4 (A_s[k..k+3] in every dword). */
static inline __attribute__((always_inline)) void qb_mac_group(int32x4_t acc[QB_NACC],
                                                               int8x16_t a4,
                                                               const int8x16_t b[QB_NV]) {
  QB_UNROLL for (size_t v = 0; v < QB_NV; v++) {
    acc[2 * v] = vpadalq_s16(acc[2 * v], vmull_s8(vget_low_s8(a4), vget_low_s8(b[v])));
    acc[2 * v + 1] = vpadalq_s16(acc[2 * v + 1], vmull_high_s8(a4, b[v]));
  }
}

static inline __attribute__((always_inline)) void qb_ukernel(
    size_t mr, uint32_t axor, size_t nr, size_t K, const uint8_t* a, size_t lda,
    const int32_t* rowsum, int32_t za_delta, const uint8_t* panel, int32_t* c, size_t ldc) {
  const uint32_t sxor = QB_NEON_SXOR(axor);
  int32x4_t acc[QB_MR][QB_NACC];
  QB_UNROLL for (size_t i = 0; i < mr; i++)
    QB_UNROLL for (size_t v = 0; v < QB_NACC; v++) acc[i][v] = vdupq_n_s32(0);

  const uint8_t* w = panel + 3 * QB_NR * sizeof(int32_t);
  size_t k = 0;
  for (; k + 4 <= K; k += 4, w += QB_NR * 4) {
    int8x16_t b[QB_NV];
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++) b[v] = vld1q_s8((const int8_t*)(w + 16 * v));
    QB_UNROLL for (size_t i = 0; i < mr; i++) {
      const uint32_t a4 = qb_neon_load_a4(a + i * lda + k, 4, sxor);
      qb_mac_group(acc[i], vreinterpretq_s8_u32(vdupq_n_u32(a4)), b);
    }
  }
  if (k < K) {
    int8x16_t b[QB_NV];
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++) b[v] = vld1q_s8((const int8_t*)(w + 16 * v));
    QB_UNROLL for (size_t i = 0; i < mr; i++) {
      const uint32_t a4 = qb_neon_load_a4(a + i * lda + k, K - k, sxor);
      qb_mac_group(acc[i], vreinterpretq_s8_u32(vdupq_n_u32(a4)), b);
    }
  }

  uint32x4_t bias[QB_NV], zb[QB_NV];
  qb_neon_panel_bias(panel, K, za_delta, 128, bias, zb); /* A_s = A_u - 128 */
  QB_UNROLL for (size_t i = 0; i < mr; i++) {
    int32x4_t sum[QB_NV];
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++)
      sum[v] = vpaddq_s32(acc[i][2 * v], acc[i][2 * v + 1]); /* ADDP: columns 4v..4v+3 */
    qb_neon_store_row(sum, bias, zb, rowsum[i], nr, c + i * ldc);
  }
}

#define QB_PACKED_SIZE qb_q8_gemm_packed_size_4x8c4__neon
#define QB_QU8_QS8_PACK qb_qu8_qs8_qs32_gemm_pack_4x8c4__neon
#define QB_QU8_QS8_RUN qb_qu8_qs8_qs32_gemm_4x8c4__neon
#define QB_QS8_QS8_PACK qb_qs8_qs8_qs32_gemm_pack_4x8c4__neon
#define QB_QS8_QS8_RUN qb_qs8_qs8_qs32_gemm_4x8c4__neon
#define QB_QU8_QU8_PACK qb_qu8_qu8_qs32_gemm_pack_4x8c4__neon
#define QB_QU8_QU8_RUN qb_qu8_qu8_qs32_gemm_4x8c4__neon
#include "qb_q8_gemm.h"
#include "qb_q8_gemm_driver.h"
