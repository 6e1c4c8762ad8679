/* qs32 -> qs8 / qu8 requantization, gemmlowp fixed-point path, ARMv8.0 Advanced SIMD:
 * 8 channels per block (two int32x4), row by row over chunks of QB_REQUANTIZE_CHUNK
 * channels; a partial block is staged. Arm has the gemmlowp primitives as
 * instructions (gemmlowp's own NEON path):
 *
 *   shifted = (acc + bias) << left     ADD (unsigned lanes: wraps), SSHL by a
 *                                      non-negative per-lane count:
 *                                      wraps like the reference's uint32 shift.
 *   SRDHM(shifted, multiplier)         SQRDMULH (vqrdmulhq_s32) = sat((2ab + 2^31) >> 32)
 *                                      = floor((ab + 2^30) / 2^31), the reference's
 *                                      nudge-and-truncate result, and INT32_MIN x
 *                                      INT32_MIN saturates to INT32_MAX as it does.
 *   RoundingDivideByPOT(x, right)      SRSHL by -right rounds half UP:
 *                                      (x + 2^(right-1)) >> right in unbounded
 *                                      precision. Ties must go away from zero, so
 *                                      negative x first get -1 (gemmlowp's fix-up:
 *                                      fixup = (x & -right) >> 31, all ones exactly
 *                                      when x < 0 and right > 0, added with SQADD):
 *                                      (x - 1 + 2^(right-1)) >> right rounds up only
 *                                      when the remainder exceeds half. x = INT32_MIN
 *                                      saturates the SQADD instead of wrapping, and
 *                                      INT32_MIN >> right is still the right answer
 *                                      (its remainder is 0).
 *   y = clamp(SQADD(scaled, zp), qmin, qmax)
 *                                      the saturating add is exact unless the true
 *                                      sum leaves int32, and then the clamp gives
 *                                      what the reference's int64 clamp gives.
 * Then XTN twice keeps each int32's low byte (the reference's cast). */
#include <arm_neon.h>
#include <string.h>

#include "requantize/qb_requantize.h"

typedef struct {
  int32x4_t bias[2], left[2], multiplier[2], neg_right[2];
  int32x4_t zero_point, qmin, qmax;
} block_params;

static void make_block(const qb_fixedpoint_multiplier* mult, const int32_t* bias, size_t n0,
                       size_t w, block_params* p) {
  int32_t b[8] = {0}, left[8], mu[8], nr[8];
  for (size_t i = 0; i < 8; i++) {
    const qb_fixedpoint_multiplier m = i < w ? mult[n0 + i] : (qb_fixedpoint_multiplier){0, 0};
    const qb_gemmlowp_lane l = qb_gemmlowp_lane_make(m);
    if (bias && i < w) b[i] = bias[n0 + i];
    left[i] = l.left, mu[i] = l.multiplier, nr[i] = -l.right;
  }
  for (int v = 0; v < 2; v++) {
    p->bias[v] = vld1q_s32(b + 4 * v);
    p->left[v] = vld1q_s32(left + 4 * v);
    p->multiplier[v] = vld1q_s32(mu + 4 * v);
    p->neg_right[v] = vld1q_s32(nr + 4 * v);
  }
}

/* gemmlowp RoundingDivideByPOT by per-lane exponents (-neg_right). */
static inline int32x4_t rdbpot4(int32x4_t x, int32x4_t neg_right) {
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, neg_right), 31);
  return vrshlq_s32(vqaddq_s32(x, fixup), neg_right);
}

/* acc + bias, wrapping like the reference (GCC's vaddq_s32 is a signed C add: UB on
 * overflow, so add the unsigned lanes). */
static inline int32x4_t wrapping_add4(int32x4_t a, int32x4_t b) {
  return vreinterpretq_s32_u32(vaddq_u32(vreinterpretq_u32_s32(a), vreinterpretq_u32_s32(b)));
}

static inline int32x4_t requantize4(int32x4_t acc, const block_params* p, int v) {
  const int32x4_t shifted = vshlq_s32(wrapping_add4(acc, p->bias[v]), p->left[v]);
  const int32x4_t scaled = rdbpot4(vqrdmulhq_s32(shifted, p->multiplier[v]), p->neg_right[v]);
  return vminq_s32(vmaxq_s32(vqaddq_s32(scaled, p->zero_point), p->qmin), p->qmax);
}

/* 8 accumulators of one row -> their 8 output bytes. */
static inline uint8x8_t requantize8(const int32_t* a, const block_params* p) {
  const int32x4_t r0 = requantize4(vld1q_s32(a), p, 0);
  const int32x4_t r1 = requantize4(vld1q_s32(a + 4), p, 1);
  return vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(r0), vmovn_s32(r1))));
}

static void requantize_gemmlowp_q8(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                   const int32_t* bias, const qb_fixedpoint_multiplier* mult,
                                   int32_t zp, int32_t qmin, int32_t qmax, uint8_t* y,
                                   size_t ldy) {
  block_params p;
  p.zero_point = vdupq_n_s32(zp);
  p.qmin = vdupq_n_s32(qmin);
  p.qmax = vdupq_n_s32(qmax);
  block_params blocks[QB_REQUANTIZE_CHUNK / 8];
  for (size_t c0 = 0; c0 < N; c0 += QB_REQUANTIZE_CHUNK) {
    const size_t nc = N - c0 < QB_REQUANTIZE_CHUNK ? N - c0 : QB_REQUANTIZE_CHUNK;
    const size_t nb = (nc + 7) / 8;
    for (size_t b = 0; b < nb; b++) {
      const size_t n0 = c0 + b * 8;
      const size_t w = N - n0 < 8 ? N - n0 : 8;
      blocks[b] = p;
      make_block(mult, bias, n0, w, &blocks[b]);
    }
    for (size_t m = 0; m < M; m++) {
      const int32_t* a = acc + m * ldacc + c0;
      uint8_t* out = y + m * ldy + c0;
      for (size_t b = 0; b < nb; b++, a += 8, out += 8) {
        const size_t w = nc - b * 8 < 8 ? nc - b * 8 : 8;
        if (w == 8) {
          vst1_u8(out, requantize8(a, &blocks[b]));
        } else {
          int32_t staged[8] = {0};
          uint8_t bytes[8];
          memcpy(staged, a, w * sizeof(int32_t));
          vst1_u8(bytes, requantize8(staged, &blocks[b]));
          memcpy(out, bytes, w);
        }
      }
    }
  }
}

void qb_qs32_qs8_requantize_gemmlowp__neon(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                           const int32_t* bias,
                                           const qb_fixedpoint_multiplier* multiplier,
                                           int32_t zero_point, int32_t qmin, int32_t qmax,
                                           int8_t* y, size_t ldy) {
  requantize_gemmlowp_q8(M, N, acc, ldacc, bias, multiplier, zero_point, qmin, qmax,
                         (uint8_t*)y, ldy);
}

void qb_qs32_qu8_requantize_gemmlowp__neon(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                           const int32_t* bias,
                                           const qb_fixedpoint_multiplier* multiplier,
                                           int32_t zero_point, int32_t qmin, int32_t qmax,
                                           uint8_t* y, size_t ldy) {
  requantize_gemmlowp_q8(M, N, acc, ldacc, bias, multiplier, zero_point, qmin, qmax, y, ldy);
}
