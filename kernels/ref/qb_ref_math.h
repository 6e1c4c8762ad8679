/* Rounding primitives of the reference kernels. Every SIMD kernel reproduces these
 * exactly; each is named after the instruction or library function it matches.
 * Shared by ISA files, hence static inline (no cross-ISA calls). */
#ifndef QB_REF_MATH_H
#define QB_REF_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "qb_kernels.h"

/* Round half to even in the current (default: to-nearest) mode. Matches
 * nearbyintf, CVTPS2DQ under MXCSR round-to-nearest, and FRINTN on Arm. */
static inline float qb_round_half_even(float x) { return nearbyintf(x); }

/* The quantized value of one float, as every quantize kernel defines it:
 *   q = clamp(round_half_even(x / scale) + zp, qmin, qmax)
 * The clamp happens on the rounded quotient in float (q - zp range is exact in
 * float since |qmin|,|qmax|,|zp| < 2^24), so huge x saturate instead of
 * overflowing an int conversion. A NaN quotient (x NaN, or 0/0 with scale 0)
 * quantizes to qmin, as -inf does: the lower clamp is written so that NaN fails
 * it, as x86's MAXPS(q, lo) returns lo and AArch64's FMAXNM the number; converting
 * NaN to an integer would be undefined behaviour. */
static inline int32_t qb_quantize_one(float x, float scale, float inv_scale, int32_t zp,
                                      int32_t qmin, int32_t qmax, qb_round_mode mode) {
  const float quotient = (mode == QB_ROUND_DIV) ? x / scale : x * inv_scale;
  float r = qb_round_half_even(quotient);
  const float lo = (float)(qmin - zp), hi = (float)(qmax - zp);
  r = r >= lo ? r : lo;
  r = r > hi ? hi : r;
  return (int32_t)r + zp;
}

/* gemmlowp SaturatingRoundingDoublingHighMul (ARM VQRDMULH, s32): 2*a*b / 2^32
 * = a*b / 2^31 rounded to nearest with ties toward +infinity, for both signs
 * (1.5 -> 2, -1.5 -> -1). gemmlowp writes it as (ab + nudge) / 2^31 with C's
 * truncating division and nudge = 2^30 for ab >= 0, 1 - 2^30 for ab < 0; the
 * asymmetric nudge and the truncation toward zero together give the tie-up rule.
 * The single overflow case a == b == INT32_MIN saturates to INT32_MAX. */
static inline int32_t qb_saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : (1 - (INT64_C(1) << 30));
  /* Division (not shift) truncates toward zero, as gemmlowp's reference does. */
  return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from
 * zero (exponent 0..31). Matches ARM VRSHL by a negative shift followed by the
 * sign fix-up gemmlowp applies; on x86 the kernels emulate it with the mask and
 * threshold below. */
static inline int32_t qb_rounding_divide_by_pot(int32_t x, int exponent) {
  if (exponent == 0) return x;
  const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t qb_clamp_s32(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* fmaf(x, y, z) (one rounding of x*y + z) for the scalar kernels, without a libm
 * call per multiply-add where the hardware has no FMA (x86-64 baseline). x*y is
 * exact in double (24 + 24 bits < 53); r = x*y + z rounded once to double. Float
 * midpoints are doubles, so unless r IS a float midpoint (its 29 bits below float
 * precision read 1000...0), rounding r to float gives the float nearest the exact
 * sum, i.e. fmaf's result. Midpoints, results outside the normal float range
 * (zeros, subnormals: another rounding position; inf, NaN) go to libm's fmaf. */
static inline float qb_fmaf(float x, float y, float z) {
#if defined(__FMA__) || defined(__aarch64__)
  return fmaf(x, y, z); /* one instruction */
#else
  const double xy = (double)x * (double)y, r = xy + (double)z;
  uint64_t bits;
  memcpy(&bits, &r, sizeof bits);
  const uint32_t e = (uint32_t)(bits >> 52) & 0x7FFu;
  if ((bits & 0x1FFFFFFFu) != 0x10000000u && e >= 0x3FFu - 126u && e < 0x7FFu) return (float)r;
  return fmaf(x, y, z);
#endif
}

#endif /* QB_REF_MATH_H */
