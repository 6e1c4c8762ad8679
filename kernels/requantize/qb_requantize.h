/* SIMD requantization qs32 -> qs8 / qu8 (kernels/requantize). Prototypes and
 * semantics are the scalar reference's (qb_kernels.h, kernels/ref/requantize__scalar.c),
 * bit for bit. Kernels vectorize across output channels n (per-channel scale or
 * multiplier, bias) and build each block's per-channel constants once; a partial
 * block of channels is staged through a small buffer (SSE4.1, AVX2) or masked
 * (AVX-512). SSE4.1, AVX2 and NEON build the blocks of QB_REQUANTIZE_CHUNK channels
 * into a table on the stack (a few KiB, in L1) and then walk the rows in memory
 * order, one read stream of acc and one write stream of y: sweeping all M rows
 * per 8-channel block instead read 32 of each 64-byte line of acc per pass, a
 * line fetched twice from DRAM at a large M, in 1 KiB strides (7 % of the read
 * bandwidth at 2^24 elements, 256 channels). Results are narrowed to 8 bits by truncation,
 * like the reference's cast, so qs8 and qu8 share one body.
 *
 * fp32 path: wrapping int32 add of the bias, CVTDQ2PS (round to nearest even, as
 * the C cast), one MULPS, clamp to [qmin - zp, qmax - zp] in float, CVTPS2DQ, + zp.
 *
 * gemmlowp path, per lane (see kernels/ref/qb_ref_math.h):
 *   shifted = acc << left                       (VPSLLVD; SSE4.1: PMULLD by 2^left)
 *   SRDHM(a, b) = (a * b + 2^30) >> 31 in 64-bit (the reference's nudge/truncating
 *       division is exactly this floor, see qb_ref_math.h); the 32 result bits are
 *       bits 31..62 of the 64-bit sum, taken with a logical shift (even lanes) or a
 *       left shift by one into the high dword (odd lanes), PMULDQ for the products;
 *       the one overflow a == b == INT32_MIN flips INT32_MIN to INT32_MAX by XOR.
 *   RoundingDivideByPOT(x, e) = (x >> e) + ((x & mask) > (mask >> 1) + (x < 0))
 *       with VPSRAVD (SSE4.1: four PSRAD blended).
 *   clamp to [qmin - zp, qmax - zp] (saturated to int32), + zp, clamp to [qmin, qmax]:
 *       equal to the reference's int64 clamp of scaled + zp for every zero point.
 *
 * Arm (NEON) has the gemmlowp primitives as instructions: SQRDMULH is SRDHM, and
 * SRSHL after gemmlowp's sign fix-up is RoundingDivideByPOT; the argument is in
 * requantize/qb_qs32_q8_requantize_gemmlowp__neon.c. */
#ifndef QB_REQUANTIZE_H
#define QB_REQUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "qb_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QB_REQUANTIZE_DECLARE(ISA)                                                          \
  void qb_qs32_qs8_requantize_fp32__##ISA(size_t M, size_t N, const int32_t* acc,           \
                                          size_t ldacc, const int32_t* bias,                \
                                          const float* scale, int32_t zero_point,           \
                                          int32_t qmin, int32_t qmax, int8_t* y, size_t ldy); \
  void qb_qs32_qu8_requantize_fp32__##ISA(size_t M, size_t N, const int32_t* acc,           \
                                          size_t ldacc, const int32_t* bias,                \
                                          const float* scale, int32_t zero_point,           \
                                          int32_t qmin, int32_t qmax, uint8_t* y, size_t ldy); \
  void qb_qs32_qs8_requantize_gemmlowp__##ISA(                                              \
      size_t M, size_t N, const int32_t* acc, size_t ldacc, const int32_t* bias,            \
      const qb_fixedpoint_multiplier* multiplier, int32_t zero_point, int32_t qmin,         \
      int32_t qmax, int8_t* y, size_t ldy);                                                 \
  void qb_qs32_qu8_requantize_gemmlowp__##ISA(                                              \
      size_t M, size_t N, const int32_t* acc, size_t ldacc, const int32_t* bias,            \
      const qb_fixedpoint_multiplier* multiplier, int32_t zero_point, int32_t qmin,         \
      int32_t qmax, uint8_t* y, size_t ldy);

#if defined(__x86_64__) || defined(__i386__)
QB_REQUANTIZE_DECLARE(sse41)
QB_REQUANTIZE_DECLARE(avx2)
QB_REQUANTIZE_DECLARE(avx512vnni)
#endif
#if defined(__aarch64__)
QB_REQUANTIZE_DECLARE(neon)
#endif

/* Channels per table of block constants (SSE4.1, AVX2, NEON): 256 (a whole row of
 * most layers) keeps the gemmlowp table at 11-14 KiB. */
#define QB_REQUANTIZE_CHUNK 256

/* Per-lane constants of the gemmlowp path for one channel (generic C, shared by the
 * ISA files: static inline). */
typedef struct {
  int32_t left, multiplier, right, mask, half_mask;
} qb_gemmlowp_lane;

static inline qb_gemmlowp_lane qb_gemmlowp_lane_make(qb_fixedpoint_multiplier m) {
  qb_gemmlowp_lane l;
  l.left = m.shift > 0 ? m.shift : 0;
  l.right = m.shift > 0 ? 0 : -m.shift;
  l.multiplier = m.multiplier;
  l.mask = (int32_t)((UINT32_C(1) << l.right) - 1u);
  l.half_mask = l.mask >> 1;
  return l;
}

/* qv - zp saturated to int32: the pre-add clamp bound for output bound qv. */
static inline int32_t qb_requantize_bound(int32_t qv, int32_t zp) {
  const int64_t d = (int64_t)qv - zp;
  return d < INT32_MIN ? INT32_MIN : (d > INT32_MAX ? INT32_MAX : (int32_t)d);
}

#ifdef __cplusplus
}
#endif
#endif /* QB_REQUANTIZE_H */
