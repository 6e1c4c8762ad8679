/* qb_qu8_qs8_qs32_gemm_4x16c8__i8mm: int8 GEMM, u8 x s8 -> s32, Armv8.2 + i8mm
 * (USMMLA), EXACT. Tile 4 rows x 16 columns x 8 k. Packed B is int8 (layout S8_C8):
 * per group of 8 k, column j's 8 bytes are contiguous, so each q register holds
 * the 2 x 8 matrix of columns (2q, 2q+1). A row pair (2p, 2p+1) is loaded as
 * another 2 x 8 matrix (two d registers combined), and
 *   acc[p][q] = USMMLA(acc[p][q], a_pair[p], b[q])
 *   lanes: (r0 c0, r0 c1, r1 c0, r1 c1) += sum_{k<8} A_u[r][k] * B[c][k]
 * multiplies u8 A by s8 B directly: no sign flip of A, so the epilogue is the x86
 * kernels' one (a_shift = 0 in qb_neon_panel_bias). The products (|p| <= 255*128)
 * are summed into int32 without rounding or saturation: exact, wrapping like the
 * reference's int32 sum.
 * Odd mr: the missing second row of the last pair is zero and its lanes are not
 * stored. K tail: the last 1-7 bytes of a row are copied into a zeroed 8-byte
 * word (never read past the row), B is zero-padded there.
 * Epilogue: ZIP1/ZIP2 on 64-bit lanes turn two 2x2 blocks into one row's 4
 * columns (row 2p: low halves, row 2p+1: high halves).
 * Registers: 16 accumulators (2 row pairs x 8 column pairs), 8 B, 2 A: 26 of 32.
 * Also qs8 x qs8 and qu8 x qu8 through the shared packing and driver. */
#include "qb_q8_gemm_pack.h"

#define QB_MR 4
#define QB_NR 16
#define QB_WLAYOUT QB_Q8_W_S8_C8
#include "qb_q8_gemm_neon.h"

#define QB_MP (QB_MR / 2) /* row pairs */
#define QB_NP (QB_NR / 2) /* column pairs */

/* Bytes k..k+n-1 (n <= 8) of a row, zero-filled, xored with axor (u8 view). */
static inline __attribute__((always_inline)) uint8x8_t qb_load_a8(const uint8_t* p, size_t n,
                                                                 uint32_t axor) {
  uint64_t v = 0;
  memcpy(&v, p, n);
  return vcreate_u8(v ^ ((uint64_t)axor << 32 | axor));
}

/* One group of 8 k (n of them real: 8 in the main loop, a constant after
 * inlining, so the copy is a plain load). */
static inline __attribute__((always_inline)) void qb_group(int32x4_t acc[QB_MP][QB_NP],
                                                           size_t mr, uint32_t axor,
                                                           const uint8_t* a, size_t lda,
                                                           size_t n, const uint8_t* w) {
  const size_t mp = (mr + 1) / 2;
  uint8x16_t va[QB_MP];
  QB_UNROLL for (size_t p = 0; p < mp; p++) {
    const uint8x8_t r0 = qb_load_a8(a + 2 * p * lda, n, axor);
    const uint8x8_t r1 = 2 * p + 1 < mr ? qb_load_a8(a + (2 * p + 1) * lda, n, axor) : vdup_n_u8(0);
    va[p] = vcombine_u8(r0, r1);
  }
  QB_UNROLL for (size_t q = 0; q < QB_NP; q++) {
    const int8x16_t b = vld1q_s8((const int8_t*)(w + 16 * q));
    QB_UNROLL for (size_t p = 0; p < mp; p++) acc[p][q] = vusmmlaq_s32(acc[p][q], va[p], b);
  }
}

static inline __attribute__((always_inline)) void qb_ukernel(
    size_t mr, uint32_t axor, size_t nr, size_t K, const uint8_t* a, size_t lda,
    const int32_t* rowsum, int32_t za_delta, const uint8_t* panel, int32_t* c, size_t ldc) {
  const size_t mp = (mr + 1) / 2;
  int32x4_t acc[QB_MP][QB_NP];
  QB_UNROLL for (size_t p = 0; p < mp; p++)
    QB_UNROLL for (size_t q = 0; q < QB_NP; q++) acc[p][q] = vdupq_n_s32(0);

  const uint8_t* w = panel + 3 * QB_NR * sizeof(int32_t);
  size_t k = 0;
  for (; k + 8 <= K; k += 8, w += QB_NR * 8) qb_group(acc, mr, axor, a + k, lda, 8, w);
  if (k < K) qb_group(acc, mr, axor, a + k, lda, K - k, w);

  uint32x4_t bias[QB_NV], zb[QB_NV];
  qb_neon_panel_bias(panel, K, za_delta, 0, bias, zb); /* u8 A used as is */
  QB_UNROLL for (size_t p = 0; p < mp; p++) {
    int32x4_t row0[QB_NV], row1[QB_NV];
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++) {
      const uint64x2_t lo = vreinterpretq_u64_s32(acc[p][2 * v]);
      const uint64x2_t hi = vreinterpretq_u64_s32(acc[p][2 * v + 1]);
      row0[v] = vreinterpretq_s32_u64(vzip1q_u64(lo, hi));
      row1[v] = vreinterpretq_s32_u64(vzip2q_u64(lo, hi));
    }
    qb_neon_store_row(row0, bias, zb, rowsum[2 * p], nr, c + 2 * p * ldc);
    if (2 * p + 1 < mr) qb_neon_store_row(row1, bias, zb, rowsum[2 * p + 1], nr, c + (2 * p + 1) * ldc);
  }
}

#define QB_PACKED_SIZE qb_q8_gemm_packed_size_4x16c8__i8mm
#define QB_QU8_QS8_PACK qb_qu8_qs8_qs32_gemm_pack_4x16c8__i8mm
#define QB_QU8_QS8_RUN qb_qu8_qs8_qs32_gemm_4x16c8__i8mm
#define QB_QS8_QS8_PACK qb_qs8_qs8_qs32_gemm_pack_4x16c8__i8mm
#define QB_QS8_QS8_RUN qb_qs8_qs8_qs32_gemm_4x16c8__i8mm
#define QB_QU8_QU8_PACK qb_qu8_qu8_qs32_gemm_pack_4x16c8__i8mm
#define QB_QU8_QU8_RUN qb_qu8_qu8_qs32_gemm_4x16c8__i8mm
#include "qb_q8_gemm.h"
#include "qb_q8_gemm_driver.h"
