/* Shared pieces of the Arm int8 GEMM microkernels (*__neon.c, *__neondot.c, *__i8mm.c).
 * Included by a kernel file after it defines QB_NR (a multiple of 4); everything is
 * static inline, so each file compiles its own copy with its own ISA flags.
 *
 * Signed A. Arm's integer multiplies want both operands of one signedness
 * (SMULL/SDOT: s8 x s8; UMULL/UDOT: u8 x u8; the mixed USDOT needs i8mm), while the
 * driver (qb_q8_gemm_driver.h) hands the microkernel A as u8 (A_u = A ^ axor) and
 * the packing (qb_q8_gemm_pack.h) leaves B as s8. The Arm kernels therefore
 * multiply A_s = A_u - 128 = (A_u ^ 0x80 as int8), i.e. the raw bytes xored with
 * axor ^ 0x80808080 (raw s8 A needs no xor at all), and get
 *   acc' = sum_k A_s * B = sum_k A_u * B - 128 * colsum_B[n].
 * colsum_B (sum of the packed B over the padded k, which is zero beyond K) is
 * recovered from what the panel holds, colsum_B = d + K * zb, so
 *   C = acc' + [bias + za_delta * d + 128 * (d + K * zb)] - zb * rowsum_A
 * with the bracket computed once per panel (qb_neon_panel_bias, a_shift = 128).
 * The i8mm kernels multiply u8 x s8 directly (USMMLA) and pass a_shift = 0. All
 * of it in wrapping 32-bit arithmetic (uint32 lanes), as the packing defines it:
 * exact.
 *
 * K tail (c4 kernels): a row's last 1-3 bytes are copied into a zeroed dword
 * (never read past the row); after the xor they are -128, but the packed B is 0
 * there. */
#ifndef QB_Q8_GEMM_NEON_H
#define QB_Q8_GEMM_NEON_H

#include <arm_neon.h>
#include <string.h>

#include "qb_q8_gemm_pack.h"

#ifndef QB_NR
#error "define QB_NR before including qb_q8_gemm_neon.h"
#endif
#define QB_NV (QB_NR / 4) /* int32x4 vectors per output row */

/* Constant-trip loops over rows / vectors are fully unrolled so the accumulators
 * stay in registers. */
#define QB_UNROLL _Pragma("GCC unroll 16")

/* The xor that turns raw A bytes into A_s (see above), from the driver's axor. */
#define QB_NEON_SXOR(axor) ((axor) ^ 0x80808080u)

/* Bytes k..k+n-1 (n <= 4) of a row as a dword, xored with sxor; zero-filled. */
static inline __attribute__((always_inline)) uint32_t qb_neon_load_a4(const uint8_t* p, size_t n,
                                                                      uint32_t sxor) {
  uint32_t v = 0;
  memcpy(&v, p, n);
  return v ^ sxor;
}

/* Per panel: bias' = bias + za_delta * d + a_shift * (d + K * zb) and zb, as
 * uint32x4 vectors (QB_NV of each). Panel header: int32 bias[NR], zb[NR], d[NR]. */
static inline __attribute__((always_inline)) void qb_neon_panel_bias(const uint8_t* panel,
                                                                     size_t K, int32_t za_delta,
                                                                     uint32_t a_shift,
                                                                     uint32x4_t bias[QB_NV],
                                                                     uint32x4_t zb[QB_NV]) {
  const uint32x4_t delta = vdupq_n_u32((uint32_t)za_delta);
  const uint32x4_t kk = vdupq_n_u32((uint32_t)K);
  QB_UNROLL for (size_t v = 0; v < QB_NV; v++) {
    const uint32x4_t b = vld1q_u32((const uint32_t*)(const void*)(panel + v * 16));
    const uint32x4_t z = vld1q_u32((const uint32_t*)(const void*)(panel + QB_NR * 4 + v * 16));
    const uint32x4_t d = vld1q_u32((const uint32_t*)(const void*)(panel + 2 * QB_NR * 4 + v * 16));
    const uint32x4_t colsum = vmlaq_u32(d, kk, z);
    bias[v] = vmlaq_u32(vmlaq_n_u32(b, colsum, a_shift), delta, d);
    zb[v] = z;
  }
}

/* One output row: c[0..nr) = acc' + bias' - zb * rowsum (wrapping); a partial
 * panel (nr < QB_NR) goes through a stack row so nothing past c[nr) is written. */
static inline __attribute__((always_inline)) void qb_neon_store_row(
    const int32x4_t acc[QB_NV], const uint32x4_t bias[QB_NV], const uint32x4_t zb[QB_NV],
    int32_t rowsum, size_t nr, int32_t* c) {
  const uint32x4_t rs = vdupq_n_u32((uint32_t)rowsum);
  uint32x4_t out[QB_NV];
  QB_UNROLL for (size_t v = 0; v < QB_NV; v++)
    out[v] = vmlsq_u32(vaddq_u32(vreinterpretq_u32_s32(acc[v]), bias[v]), zb[v], rs);
  if (nr >= QB_NR) {
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++) vst1q_u32((uint32_t*)(void*)(c + 4 * v), out[v]);
  } else {
    uint32_t row[QB_NR];
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++) vst1q_u32(row + 4 * v, out[v]);
    memcpy(c, row, nr * sizeof(int32_t));
  }
}

/* sum_k (A[k] ^ axor byte), the u8 view's row sum: UADDLP (u8 pairs -> u16) then
 * UADALP (u16 pairs accumulated into u32 lanes), 16 bytes a step; lanes wrap mod
 * 2^32, which is the int32 result's own arithmetic. Scalar tail. */
static int32_t qb_rowsum(const uint8_t* a, size_t K, uint32_t axor) {
  const uint8x16_t x = vreinterpretq_u8_u32(vdupq_n_u32(axor));
  uint32x4_t s = vdupq_n_u32(0);
  size_t k = 0;
  for (; k + 16 <= K; k += 16) s = vpadalq_u16(s, vpaddlq_u8(veorq_u8(vld1q_u8(a + k), x)));
  uint32_t total = vaddvq_u32(s);
  for (; k < K; k++) total += (uint8_t)(a[k] ^ (uint8_t)axor);
  return (int32_t)total;
}

#endif /* QB_Q8_GEMM_NEON_H */
