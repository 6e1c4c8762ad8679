/* Scalar reference requantization (kernels/ref/requantize__scalar.c and the rounding
 * primitives of kernels/ref/qb_ref_math.h):
 *   - qb_fixedpoint_multiplier_from_double on hand-derived encodings;
 *   - SaturatingRoundingDoublingHighMul and RoundingDivideByPOT on hand cases and
 *     against independent int64 definitions (floor((a*b + 2^30) / 2^31) saturated;
 *     round-half-away-from-zero of |x| / 2^e);
 *   - fp32 requantization: ties to even, clamp, bias, per-channel scale, zero points,
 *     the int32 -> float conversion rounding above 2^24;
 *   - gemmlowp requantization against an independent int64 version of TFLite's
 *     MultiplyByQuantizedMultiplier, multipliers < 1 and > 1;
 *   - guard bytes and untouched row gaps (ldy > N) for tail shapes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_kernels.h"
#include "qb_ref_math.h"
#include "qb_test.h"

#define P30 (INT32_C(1) << 30)

/* ------------------------------------------------------------ multiplier encoding */
static void check_mult(double r, int32_t want_m, int32_t want_shift) {
  const qb_fixedpoint_multiplier m = qb_fixedpoint_multiplier_from_double(r);
  QB_CHECK_MSG(m.multiplier == want_m && m.shift == want_shift,
               "from_double(%.17g) = {%d, %d}, want {%d, %d}", r, m.multiplier, m.shift, want_m,
               want_shift);
}

static void test_multiplier_from_double(void) {
  /* r = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31):
   * 0.5  = 2^30 * 2^(0 - 31)                           -> {2^30, 0}
   * 1.0  = 2^30 * 2^(1 - 31)                           -> {2^30, 1}
   * 0.25                                               -> {2^30, -1}
   * 0.0078125 = 2^-7 = 0.5 * 2^-6                      -> {2^30, -6}
   * 0.75 = 0.75 * 2^0, 0.75 * 2^31 = 1610612736        -> {1610612736, 0}
   * 3.0  = 0.75 * 2^2                                  -> {1610612736, 2}
   * 0.1  = 0.8 * 2^-3, 0.8 * 2^31 = 1717986918.4       -> {1717986918, -3}
   * 1/3  = (2/3) * 2^-1, (2/3) * 2^31 = 1431655765.33  -> {1431655765, -1}
   * 0.5 + 2^-32: q * 2^31 = 2^30 + 0.5, a tie, rounded away from zero (std::round)
   *                                                    -> {2^30 + 1, 0}
   * 1 - 2^-40: q * 2^31 = 2^31 - 2^-9 rounds to 2^31, renormalized -> {2^30, 1}
   * 2^-31 = 0.5 * 2^-30 -> {2^30, -30}; 2^-32 -> {2^30, -31} (the smallest shift);
   * 2^-33 needs shift -32: underflows to {0, 0} as TFLite does.
   * 2^29 = 0.5 * 2^30 -> {2^30, 30} (the largest shift).
   * 2^30 and above need shift 31: saturate to the largest encodable value
   *   {2^31 - 1, 30} (= 2^30 - 2^-1), as TFLite's QuantizeMultiplier does.
   * 0, negatives, NaN -> {0, 0}. */
  check_mult(0.5, P30, 0);
  check_mult(1.0, P30, 1);
  check_mult(0.25, P30, -1);
  check_mult(0.0078125, P30, -6);
  check_mult(0.75, 1610612736, 0);
  check_mult(3.0, 1610612736, 2);
  check_mult(0.1, 1717986918, -3);
  check_mult(1.0 / 3.0, 1431655765, -1);
  check_mult(0.5 + ldexp(1.0, -32), P30 + 1, 0);
  check_mult(1.0 - ldexp(1.0, -40), P30, 1);
  check_mult(ldexp(1.0, -31), P30, -30);
  check_mult(ldexp(1.0, -32), P30, -31);
  check_mult(ldexp(1.0, -33), 0, 0);
  check_mult(ldexp(1.0, 29), P30, 30);
  check_mult(ldexp(1.0, 30), INT32_MAX, 30);
  check_mult(ldexp(1.5, 35), INT32_MAX, 30);
  check_mult(0.0, 0, 0);
  check_mult(-0.5, 0, 0);
  check_mult(nan(""), 0, 0);

  /* Random multipliers, log-uniform in [2^-31, 2^29]: the encoding is normalized
   * and within half a unit of the last place of the real value. */
  for (int i = 0; i < 20000; i++) {
    const double r = ldexp(1.0 + (double)qb_rand_u64() / 18446744073709551616.0,
                           qb_rand_range(-31, 28));
    const qb_fixedpoint_multiplier m = qb_fixedpoint_multiplier_from_double(r);
    QB_CHECK(m.multiplier >= P30);
    QB_CHECK(m.shift >= -31 && m.shift <= 30);
    const double enc = ldexp((double)m.multiplier, m.shift - 31);
    QB_CHECK_MSG(fabs(enc - r) <= ldexp(1.0, m.shift - 32), "r=%.17g enc=%.17g", r, enc);
  }
}

/* -------------------------------------------------------- rounding primitives */
/* floor(x / 2^e) in int64 without relying on >> of negatives. */
static int64_t floor_div_pow2(int64_t x, int e) {
  const int64_t d = INT64_C(1) << e;
  int64_t q = x / d;
  if (x % d != 0 && x < 0) q--;
  return q;
}

/* VQRDMULH: floor((2ab + 2^31) / 2^32) = floor((ab + 2^30) / 2^31), i.e. the high
 * half of the doubled product rounded half up, saturated to int32. */
static int32_t model_srdhm(int32_t a, int32_t b) {
  const int64_t r = floor_div_pow2((int64_t)a * b + P30, 31);
  return r > INT32_MAX ? INT32_MAX : (int32_t)r;
}

/* x / 2^e rounded to nearest, ties away from zero, via the magnitude. */
static int32_t model_rdbp(int32_t x, int e) {
  if (e == 0) return x;
  const int64_t mag = x < 0 ? -(int64_t)x : (int64_t)x;
  const int64_t q = (mag + (INT64_C(1) << (e - 1))) >> e;
  return (int32_t)(x < 0 ? -q : q);
}

static void test_srdhm(void) {
  /* the single overflow: (-2^31)^2 * 2 / 2^32 = 2^31 -> saturates */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN), INT32_MAX);
  /* 2^30 * 2^30 / 2^31 = 2^29 exactly */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(P30, P30), 1 << 29);
  /* (2^31-1)^2 / 2^31 = 2^31 - 2 + 2^-31 -> 2147483646 */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(INT32_MAX, INT32_MAX), 2147483646);
  /* -2^31 * (2^31 - 1) / 2^31 = -(2^31 - 1) exactly */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MAX), -2147483647);
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(INT32_MIN, 1), -1); /* -1 exactly */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(1, 1), 0);          /* 2^-31 */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(0, INT32_MIN), 0);
  /* ties: +0.5 -> 1, -0.5 -> 0 (half up, like VQRDMULH) */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(P30, 1), 1);
  /* Ties go toward +infinity for both signs: 3 * 2^30 / 2^31 = 1.5 -> 2, -1.5 -> -1. */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(3 * (P30 / 2), 2), 2);
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(-3 * (P30 / 2), 2), -1);
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(-P30, 1), 0);
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(1, -P30), 0);
  /* just past the negative tie: -0.5 - 2^-31 -> -1 */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(-(P30 + 1), 1), -1);
  /* 3*2^29 * 2 = 1.5 * 2^31: 1.5 -> 2, -1.5 -> -1 */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(3 << 29, 2), 2);
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(-(3 << 29), 2), -1);
  /* 5*2^28 * 4 = 2.5 * 2^31: 2.5 -> 3, -2.5 -> -2, -2.5 - 4/2^31 -> -3 */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(5 << 28, 4), 3);
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(-(5 << 28), 4), -2);
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(-(5 << 28) - 1, 4), -3);
  /* a non-tie negative: -1000 * 2^30 / 2^31 = -500 exactly; -1001 * 2^30 -> -500.5 -> -500 */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(-1000, P30), -500);
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(-1001, P30), -500);
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(-1003, P30), -501); /* -501.5 */
  QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(1001, P30), 501);   /* 500.5 */

  static const int32_t special[] = {INT32_MIN, INT32_MIN + 1, -P30 - 1, -P30, -P30 + 1, -3, -2, -1,
                                    0, 1, 2, 3, P30 - 1, P30, P30 + 1, INT32_MAX - 1, INT32_MAX};
  const size_t ns = sizeof special / sizeof special[0];
  for (size_t i = 0; i < ns; i++)
    for (size_t j = 0; j < ns; j++)
      QB_CHECK_EQ_INT(qb_saturating_rounding_doubling_high_mul(special[i], special[j]),
                      model_srdhm(special[i], special[j]));
  int bad = 0;
  for (int i = 0; i < 200000; i++) {
    const int32_t a = (int32_t)(uint32_t)qb_rand_u64();
    /* half the time b is small so products land near ties and small quotients */
    const int32_t b = qb_rand_below(2) ? (int32_t)(uint32_t)qb_rand_u64() : qb_rand_range(-16, 16);
    if (qb_saturating_rounding_doubling_high_mul(a, b) != model_srdhm(a, b)) {
      if (bad++ < 5) fprintf(stderr, "srdhm(%d, %d) mismatch\n", a, b);
    }
  }
  QB_CHECK_EQ_INT(bad, 0);
}

static void test_rdbp(void) {
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(5, 1), 3);   /* 2.5 -> 3 */
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(-5, 1), -3); /* -2.5 -> -3 */
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(6, 2), 2);   /* 1.5 -> 2 */
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(-6, 2), -2); /* -1.5 -> -2 */
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(3, 1), 2);   /* 1.5 -> 2 */
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(-3, 1), -2);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(1, 1), 1);   /* 0.5 -> 1 */
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(-1, 1), -1); /* -0.5 -> -1 */
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(5, 2), 1);   /* 1.25 */
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(-5, 2), -1);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(7, 2), 2);   /* 1.75 */
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(-7, 2), -2);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(-8, 2), -2); /* exact */
  /* exponent 0 is the identity, extremes included */
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(5, 0), 5);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(-5, 0), -5);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(INT32_MIN, 0), INT32_MIN);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(INT32_MAX, 0), INT32_MAX);
  /* exponent 31: INT32_MIN / 2^31 = -1 exactly; INT32_MAX -> 0.99.. -> 1;
   * +-2^30 -> +-0.5 -> +-1; 2^30 - 1 -> 0 */
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(INT32_MIN, 31), -1);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(INT32_MAX, 31), 1);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(P30, 31), 1);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(-P30, 31), -1);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(P30 - 1, 31), 0);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(-P30 + 1, 31), 0);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(INT32_MIN, 1), -P30);
  QB_CHECK_EQ_INT(qb_rounding_divide_by_pot(INT32_MAX, 1), P30); /* 2^30 - 0.5 -> 2^30 */
  int bad = 0;
  for (int e = 0; e <= 31; e++) {
    static const int32_t special[] = {INT32_MIN, INT32_MIN + 1, -3, -2, -1, 0, 1, 2, 3,
                                      INT32_MAX - 1, INT32_MAX};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
      bad += qb_rounding_divide_by_pot(special[i], e) != model_rdbp(special[i], e);
    for (int i = 0; i < 5000; i++) {
      int32_t x = (int32_t)(uint32_t)qb_rand_u64();
      /* exact ties at this exponent: odd multiples of 2^(e-1) */
      if (e > 0 && qb_rand_below(3) == 0) x = (int32_t)((uint32_t)(x | 1) << (e - 1));
      if (qb_rounding_divide_by_pot(x, e) != model_rdbp(x, e)) {
        if (bad++ < 5) fprintf(stderr, "rdbp(%d, %d) mismatch\n", x, e);
      }
    }
  }
  QB_CHECK_EQ_INT(bad, 0);
}

/* ------------------------------------------------------------- requantizers */
typedef enum { OUT_S8, OUT_U8 } out_type;

/* Runs one requantizer into a guarded y (M rows of ldy), widens to int32 (ldy
 * layout), checks guards and that the row gaps kept their 0xA5. */
static void run_fp32(out_type t, size_t M, size_t N, const int32_t* acc, size_t ldacc,
                     const int32_t* bias, const float* scale, int32_t zp, int32_t qmin,
                     int32_t qmax, int32_t* out, size_t ldy) {
  uint8_t* y = qb_guard_alloc(M * ldy);
  if (t == OUT_S8)
    qb_qs32_qs8_requantize_fp32__scalar(M, N, acc, ldacc, bias, scale, zp, qmin, qmax, (int8_t*)y, ldy);
  else
    qb_qs32_qu8_requantize_fp32__scalar(M, N, acc, ldacc, bias, scale, zp, qmin, qmax, y, ldy);
  qb_guard_check(y, M * ldy, "fp32 requantize y");
  for (size_t i = 0; i < M * ldy; i++) {
    if (i % ldy >= N) QB_CHECK_EQ_INT(y[i], 0xA5);
    out[i] = t == OUT_S8 ? (int32_t)(int8_t)y[i] : (int32_t)y[i];
  }
  qb_guard_free(y);
}

static void run_gemmlowp(out_type t, size_t M, size_t N, const int32_t* acc, size_t ldacc,
                         const int32_t* bias, const qb_fixedpoint_multiplier* mult, int32_t zp,
                         int32_t qmin, int32_t qmax, int32_t* out, size_t ldy) {
  uint8_t* y = qb_guard_alloc(M * ldy);
  if (t == OUT_S8)
    qb_qs32_qs8_requantize_gemmlowp__scalar(M, N, acc, ldacc, bias, mult, zp, qmin, qmax, (int8_t*)y, ldy);
  else
    qb_qs32_qu8_requantize_gemmlowp__scalar(M, N, acc, ldacc, bias, mult, zp, qmin, qmax, y, ldy);
  qb_guard_check(y, M * ldy, "gemmlowp requantize y");
  for (size_t i = 0; i < M * ldy; i++) {
    if (i % ldy >= N) QB_CHECK_EQ_INT(y[i], 0xA5);
    out[i] = t == OUT_S8 ? (int32_t)(int8_t)y[i] : (int32_t)y[i];
  }
  qb_guard_free(y);
}

static int32_t fp32_one(out_type t, int32_t acc, int32_t bias, float scale, int32_t zp, int32_t qmin,
                        int32_t qmax) {
  int32_t out;
  run_fp32(t, 1, 1, &acc, 1, &bias, &scale, zp, qmin, qmax, &out, 1);
  return out;
}

/* The fp32 rule written independently: wrapping add, float conversion, float
 * product (the spec's one float multiply), then round half to even by hand in
 * double, clamp, zero point. */
static int32_t model_fp32(int32_t acc, int32_t bias, float scale, int32_t zp, int32_t qmin,
                          int32_t qmax) {
  const int32_t s = (int32_t)((uint32_t)acc + (uint32_t)bias);
  const double p = (double)((float)s * scale);
  double r = floor(p);
  if (p - r > 0.5 || (p - r == 0.5 && fmod(r, 2.0) != 0.0)) r += 1.0;
  r += zp;
  return (int32_t)(r < qmin ? qmin : (r > qmax ? qmax : r));
}

static void test_fp32_hand(void) {
  /* ties to even: 5 * 0.5 = 2.5 -> 2; 7 * 0.5 = 3.5 -> 4; negatives mirror */
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 5, 0, 0.5f, 0, -128, 127), 2);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 7, 0, 0.5f, 0, -128, 127), 4);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, -5, 0, 0.5f, 0, -128, 127), -2);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, -7, 0, 0.5f, 0, -128, 127), -4);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 1, 0, 0.5f, 0, -128, 127), 0);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 3, 0, 0.5f, 0, -128, 127), 2);
  /* the tie is taken before the zero point: 2.5 -> 2, + 128 = 130 (not 131) */
  QB_CHECK_EQ_INT(fp32_one(OUT_U8, 5, 0, 0.5f, 128, 0, 255), 130);
  QB_CHECK_EQ_INT(fp32_one(OUT_U8, -7, 0, 0.5f, 128, 0, 255), 124);
  /* bias: 3 + 2 = 5 -> 2.5 -> 2; 3 + 4 = 7 -> 4; 3 - 10 = -7 -> -4 */
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 3, 2, 0.5f, 0, -128, 127), 2);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 3, 4, 0.5f, 0, -128, 127), 4);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 3, -10, 0.5f, 0, -128, 127), -4);
  /* clamp: 1000 -> 127, -1000 -> -128, restricted -127; zp 10: 120 + 10 -> 127;
   * u8 zp 231: 30 + 231 = 261 -> 255, -232 + 231 = -1 -> 0, -231 -> 0 exactly */
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 1000, 0, 1.0f, 0, -128, 127), 127);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, -1000, 0, 1.0f, 0, -128, 127), -128);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, -1000, 0, 1.0f, 0, -127, 127), -127);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 120, 0, 1.0f, 10, -128, 127), 127);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 117, 0, 1.0f, 10, -128, 127), 127);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 116, 0, 1.0f, 10, -128, 127), 126);
  QB_CHECK_EQ_INT(fp32_one(OUT_U8, 30, 0, 1.0f, 231, 0, 255), 255);
  QB_CHECK_EQ_INT(fp32_one(OUT_U8, -232, 0, 1.0f, 231, 0, 255), 0);
  QB_CHECK_EQ_INT(fp32_one(OUT_U8, -231, 0, 1.0f, 231, 0, 255), 0);
  QB_CHECK_EQ_INT(fp32_one(OUT_U8, -230, 0, 1.0f, 231, 0, 255), 1);
  QB_CHECK_EQ_INT(fp32_one(OUT_U8, INT32_MAX, 0, 1.0f, 0, 0, 255), 255);
  QB_CHECK_EQ_INT(fp32_one(OUT_U8, INT32_MIN, 0, 1.0f, 0, 0, 255), 0);
  /* |acc| > 2^24: acc = 203 * 2^17 - 1 = 26607615 converts to float as 26607616
   * (tie between 26607614 and 26607616 at ulp 2; the even mantissa is 26607616), so
   * (float)acc * 2^-18 = 101.5 exactly -> ties to even -> 102. The exact product is
   * 101.5 - 2^-18 -> 101: a kernel that skips the float conversion gets 101. */
  QB_CHECK_EQ_F32((float)26607615, 26607616.0f);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 26607615, 0, 0x1p-18f, 0, -128, 127), 102);
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, -26607615, 0, 0x1p-18f, 0, -128, 127), -102);
  QB_CHECK_EQ_INT(fp32_one(OUT_U8, 26607615, 0, 0x1p-18f, 0, 0, 255), 102);
  /* ... the same through the bias: 26607600 + 15 */
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 26607600, 15, 0x1p-18f, 0, -128, 127), 102);
  /* 201 * 2^17 - 1 -> 100.5 -> 100 (even), also what the exact product rounds to */
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, 201 * 131072 - 1, 0, 0x1p-18f, 0, -128, 127), 100);
  /* acc + bias wraps in int32 (documented in requantize__scalar.c, as paddd / vaddq
   * do): INT32_MAX + 1 = INT32_MIN -> -2^31 * 2^-24 = -128, not +128 -> 127. */
  QB_CHECK_EQ_INT(fp32_one(OUT_S8, INT32_MAX, 1, 0x1p-24f, 0, -128, 127), -128);

  /* per-channel scales and bias, M = 2, N = 3:
   * acc = [[6, 6, 6], [-6, 10, 1]], bias = {0, 1, -1}, scale = {0.5, 0.25, 2}
   * row 0: 6*0.5 = 3; 7*0.25 = 1.75 -> 2; 5*2 = 10
   * row 1: -6*0.5 = -3; 11*0.25 = 2.75 -> 3; 0*2 = 0;  zp 5 added to all */
  const int32_t acc[6] = {6, 6, 6, -6, 10, 1}, bias[3] = {0, 1, -1};
  const float scale[3] = {0.5f, 0.25f, 2.0f};
  int32_t out[2 * 4];
  run_fp32(OUT_S8, 2, 3, acc, 3, bias, scale, 5, -128, 127, out, 4);
  QB_CHECK_EQ_INT(out[0], 8);
  QB_CHECK_EQ_INT(out[1], 7);
  QB_CHECK_EQ_INT(out[2], 15);
  QB_CHECK_EQ_INT(out[4], 2);
  QB_CHECK_EQ_INT(out[5], 8);
  QB_CHECK_EQ_INT(out[6], 5);
  /* bias == NULL: 6*0.5 = 3, 6*0.25 = 1.5 -> 2, 12; -3, 2.5 -> 2, 2 */
  run_fp32(OUT_U8, 2, 3, acc, 3, NULL, scale, 128, 0, 255, out, 3);
  QB_CHECK_EQ_INT(out[0], 131);
  QB_CHECK_EQ_INT(out[1], 130);
  QB_CHECK_EQ_INT(out[2], 140);
  QB_CHECK_EQ_INT(out[3], 125);
  QB_CHECK_EQ_INT(out[4], 130);
  QB_CHECK_EQ_INT(out[5], 130);
}

static const int32_t u8_zps[] = {0, 18, 75, 128, 157, 231, 255};
static const int32_t s8_zps[] = {-128, -110, -53, 0, 29, 103, 127};
static const size_t tails[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 63, 64, 65};
#define NTAILS (sizeof tails / sizeof tails[0])

static int32_t random_acc(void) {
  switch (qb_rand_below(4)) {
    case 0: return (int32_t)(uint32_t)qb_rand_u64();         /* anything, incl. > 2^24 */
    case 1: return qb_rand_range(-2000, 2000) * 2 + 1;       /* small odd: ties at scale 2^-k */
    default: return qb_rand_range(-100000, 100000);
  }
}

static void test_fp32_random(void) {
  int32_t acc[65 * 70], bias[65], out[65 * 70];
  float scale[65];
  int bad = 0;
  for (size_t mi = 0; mi < NTAILS; mi += 2)
    for (size_t ni = 0; ni < NTAILS; ni++) {
      const size_t M = tails[mi], N = tails[ni], ldacc = N + 3, ldy = N + 5;
      const out_type t = (out_type)qb_rand_below(2);
      const int32_t zp = t == OUT_S8 ? s8_zps[qb_rand_below(7)] : u8_zps[qb_rand_below(7)];
      const int32_t qmin = t == OUT_S8 ? -128 + (int32_t)qb_rand_below(2) : 0, qmax = t == OUT_S8 ? 127 : 255;
      for (size_t i = 0; i < M * ldacc; i++) acc[i] = random_acc();
      for (size_t n = 0; n < N; n++) {
        bias[n] = qb_rand_below(2) ? qb_rand_range(-5000, 5000) : 0;
        /* powers of two make exact ties common; otherwise arbitrary scales */
        scale[n] = qb_rand_below(2) ? ldexpf(1.0f, -qb_rand_range(0, 20)) : qb_rand_uniform(1e-6f, 0.1f);
      }
      const int with_bias = (int)qb_rand_below(2);
      run_fp32(t, M, N, acc, ldacc, with_bias ? bias : NULL, scale, zp, qmin, qmax, out, ldy);
      for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N; n++) {
          const int32_t want = model_fp32(acc[m * ldacc + n], with_bias ? bias[n] : 0, scale[n], zp, qmin, qmax);
          if (out[m * ldy + n] != want && bad++ < 5)
            fprintf(stderr, "fp32 M=%zu N=%zu [%zu][%zu] acc=%d bias=%d scale=%a zp=%d: %d != %d\n", M, N,
                    m, n, acc[m * ldacc + n], with_bias ? bias[n] : 0, (double)scale[n], zp,
                    out[m * ldy + n], want);
        }
    }
  QB_CHECK_EQ_INT(bad, 0);
}

/* TFLite MultiplyByQuantizedMultiplier (the double-rounding reference version),
 * independently in int64: x * 2^left (in int32, wrapping as the SIMD shifts do),
 * SRDHM as floor((x*M + 2^30) / 2^31) saturated, then round half away from zero
 * by 2^right; zero point; clamp. */
static int32_t model_gemmlowp(int32_t acc, int32_t bias, qb_fixedpoint_multiplier m, int32_t zp,
                              int32_t qmin, int32_t qmax) {
  const int32_t s = (int32_t)((uint32_t)acc + (uint32_t)bias);
  const int left = m.shift > 0 ? m.shift : 0, right = m.shift > 0 ? 0 : -m.shift;
  const int32_t x = (int32_t)((uint32_t)s << left);
  const int64_t y = (int64_t)model_rdbp(model_srdhm(x, m.multiplier), right) + zp;
  return (int32_t)(y < qmin ? qmin : (y > qmax ? qmax : y));
}

static int32_t gemmlowp_one(out_type t, int32_t acc, qb_fixedpoint_multiplier m, int32_t zp,
                            int32_t qmin, int32_t qmax) {
  int32_t out;
  run_gemmlowp(t, 1, 1, &acc, 1, NULL, &m, zp, qmin, qmax, &out, 1);
  return out;
}

static void test_gemmlowp_hand(void) {
  const qb_fixedpoint_multiplier half = {P30, 0};    /* 0.5 */
  const qb_fixedpoint_multiplier quarter = {P30, -1}; /* 0.25 */
  const qb_fixedpoint_multiplier one = {P30, 1};      /* 1.0 */
  const qb_fixedpoint_multiplier three = {3 << 29, 2}; /* 0.75 * 4 = 3 */
  /* 0.5: SRDHM(5, 2^30) = 2.5 -> 3 (half up); no shift */
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, 5, half, 0, -128, 127), 3);
  /* -5 * 0.5 = -2.5 -> SRDHM half up -> -2 */
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, -5, half, 0, -128, 127), -2);
  /* 0.25: SRDHM(5, 2^30) = 3 (2.5 up), then 3 / 2 = 1.5 -> 2: double rounding
   * (exact 1.25 would give 1) */
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, 5, quarter, 0, -128, 127), 2);
  /* -5 * 0.25: SRDHM = -2 (-2.5 up), -2 / 2 = -1 exactly */
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, -5, quarter, 0, -128, 127), -1);
  /* -6 * 0.25: SRDHM = -3 exactly, -3 / 2 = -1.5 -> away from zero -> -2 */
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, -6, quarter, 0, -128, 127), -2);
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, 6, quarter, 0, -128, 127), 2);
  /* 1.0 = {2^30, 1}: 37 << 1 = 74, SRDHM(74, 2^30) = 37 */
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, 37, one, 0, -128, 127), 37);
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, -37, one, 0, -128, 127), -37);
  /* 3.0: 13 << 2 = 52, 52 * 0.75 * 2 / 2 = 39; -43 -> -129 -> clamp -128 */
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, 13, three, 0, -128, 127), 39);
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, -43, three, 0, -128, 127), -128);
  /* zero point and clamp for u8: 5 * 0.5 -> 3 + 128 = 131; 600*0.5 = 300 -> 255 */
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_U8, 5, half, 128, 0, 255), 131);
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_U8, 600, half, 128, 0, 255), 255);
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_U8, -600, half, 128, 0, 255), 0);
  /* large results + zp must clamp, not wrap: 2^31-1 at 0.5 -> 2^30, + 255 */
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_U8, INT32_MAX, half, 255, 0, 255), 255);
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, INT32_MIN, half, -128, -128, 127), -128);
  /* Pinned: the left shift wraps in int32 (as pslld / vshlq_s32 do; TFLite's
   * reference would overflow): 2^30 << 1 = INT32_MIN, SRDHM(-2^31, 2^30) = -2^30
   * -> clamp -128, whereas the real value 2^30 * 1.0 would clamp to 127. */
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_S8, P30, one, 0, -128, 127), -128);
  /* zero multiplier -> zero point */
  const qb_fixedpoint_multiplier zero = {0, 0};
  QB_CHECK_EQ_INT(gemmlowp_one(OUT_U8, 123456, zero, 75, 0, 255), 75);
  /* per-channel multipliers + bias: acc = {10, 10, 10}, bias = {1, -1, 0},
   * mult = {0.5, 0.25, 3}: 11 * 0.5 = 5.5 -> 6; 9 * 0.25: SRDHM(9,2^30) = 4.5 -> 5,
   * 5 / 2 = 2.5 -> 3; 10 * 3 = 30 */
  const int32_t acc[3] = {10, 10, 10}, bias[3] = {1, -1, 0};
  const qb_fixedpoint_multiplier mults[3] = {half, quarter, three};
  int32_t out[3];
  run_gemmlowp(OUT_S8, 1, 3, acc, 3, bias, mults, 0, -128, 127, out, 3);
  QB_CHECK_EQ_INT(out[0], 6);
  QB_CHECK_EQ_INT(out[1], 3);
  QB_CHECK_EQ_INT(out[2], 30);
}

static void test_gemmlowp_random(void) {
  int32_t acc[65 * 72], bias[65], out[65 * 72];
  qb_fixedpoint_multiplier mult[65];
  int bad = 0, far = 0;
  for (int rep = 0; rep < 4; rep++)
    for (size_t mi = 0; mi < NTAILS; mi += 3)
      for (size_t ni = 0; ni < NTAILS; ni++) {
        const size_t M = tails[mi], N = tails[ni], ldacc = N + 7, ldy = N + 2;
        const out_type t = (out_type)qb_rand_below(2);
        const int32_t zp = t == OUT_S8 ? s8_zps[qb_rand_below(7)] : u8_zps[qb_rand_below(7)];
        const int32_t qmin = t == OUT_S8 ? -128 : 0, qmax = t == OUT_S8 ? 127 : 255;
        const int big = rep % 2; /* multipliers > 1 (shift > 0) or in (0, 1) */
        for (size_t n = 0; n < N; n++) {
          if (qb_rand_below(2)) {
            mult[n].multiplier = qb_rand_range(P30, INT32_MAX);
            mult[n].shift = big ? qb_rand_range(1, 12) : qb_rand_range(-31, 0);
          } else { /* the way runtimes build them */
            const double r = big ? 1.0 + 100.0 * (double)qb_rand_uniform(0.0f, 1.0f)
                                 : ldexp((double)qb_rand_uniform(0.5f, 1.0f), -qb_rand_range(0, 20));
            mult[n] = qb_fixedpoint_multiplier_from_double(r);
          }
          bias[n] = qb_rand_below(2) ? qb_rand_range(-1000, 1000) : 0;
        }
        /* accumulators that do not overflow the left shift (its wrap is pinned above) */
        int max_left = 0;
        for (size_t n = 0; n < N; n++) max_left = mult[n].shift > max_left ? mult[n].shift : max_left;
        const int32_t lim = (int32_t)((INT32_C(1) << (30 - max_left)) - 1001);
        for (size_t i = 0; i < M * ldacc; i++) {
          acc[i] = qb_rand_range(-lim, lim);
          if (qb_rand_below(4) == 0) acc[i] /= 1 << qb_rand_range(0, 20); /* small, in range */
        }
        run_gemmlowp(t, M, N, acc, ldacc, bias, mult, zp, qmin, qmax, out, ldy);
        for (size_t m = 0; m < M; m++)
          for (size_t n = 0; n < N; n++) {
            const int32_t s = acc[m * ldacc + n] + bias[n];
            const int32_t want = model_gemmlowp(acc[m * ldacc + n], bias[n], mult[n], zp, qmin, qmax);
            const int32_t got = out[m * ldy + n];
            if (got != want && bad++ < 5)
              fprintf(stderr, "gemmlowp acc=%d bias=%d mult={%d,%d} zp=%d: %d != %d\n",
                      acc[m * ldacc + n], bias[n], mult[n].multiplier, mult[n].shift, zp, got, want);
            /* semantic sanity: within one step of the real-valued product */
            const double real = (double)s * ldexp((double)mult[n].multiplier, mult[n].shift - 31) + zp;
            const double clamped = real < qmin ? qmin : (real > qmax ? qmax : real);
            if (fabs((double)got - clamped) > 1.0) far++;
          }
      }
  QB_CHECK_EQ_INT(bad, 0);
  QB_CHECK_EQ_INT(far, 0);
}

/* Zero-point sweep at the clamp edges for both paths and both output types. */
static void test_zero_point_sweep(void) {
  for (int i = 0; i < 7; i++) {
    const qb_fixedpoint_multiplier one = {P30, 1};
    const float s1 = 1.0f;
    for (int t = 0; t < 2; t++) {
      const int32_t zp = t == OUT_S8 ? s8_zps[i] : u8_zps[i];
      const int32_t qmin = t == OUT_S8 ? -128 : 0, qmax = t == OUT_S8 ? 127 : 255;
      const int32_t accs[6] = {qmax - zp, qmax - zp + 1, qmin - zp, qmin - zp - 1, 0, 100000};
      const int32_t want[6] = {qmax, qmax, qmin, qmin, zp, qmax};
      for (int j = 0; j < 6; j++) {
        QB_CHECK_EQ_INT(fp32_one((out_type)t, accs[j], 0, s1, zp, qmin, qmax), want[j]);
        QB_CHECK_EQ_INT(gemmlowp_one((out_type)t, accs[j], one, zp, qmin, qmax), want[j]);
      }
    }
  }
}

/* M = 0 / N = 0 write nothing. */
static void test_zero_dims(void) {
  const int32_t acc[4] = {1, 2, 3, 4};
  const float scale[4] = {1, 1, 1, 1};
  const qb_fixedpoint_multiplier mult[4] = {{P30, 1}, {P30, 1}, {P30, 1}, {P30, 1}};
  int8_t* y = qb_guard_alloc(16);
  qb_qs32_qs8_requantize_fp32__scalar(0, 4, acc, 4, NULL, scale, 0, -128, 127, y, 4);
  qb_qs32_qs8_requantize_fp32__scalar(4, 0, acc, 0, NULL, scale, 0, -128, 127, y, 4);
  qb_qs32_qs8_requantize_gemmlowp__scalar(0, 4, acc, 4, NULL, mult, 0, -128, 127, y, 4);
  qb_qs32_qs8_requantize_gemmlowp__scalar(4, 0, acc, 0, NULL, mult, 0, -128, 127, y, 4);
  for (int i = 0; i < 16; i++) QB_CHECK_EQ_INT((uint8_t)y[i], 0xA5);
  qb_guard_check(y, 16, "zero-dim y");
  qb_guard_free(y);
}

int main(void) {
  qb_test_seed(31337);
  test_multiplier_from_double();
  test_srdhm();
  test_rdbp();
  test_fp32_hand();
  test_fp32_random();
  test_gemmlowp_hand();
  test_gemmlowp_random();
  test_zero_point_sweep();
  test_zero_dims();
  return qb_test_finish("test_ref_requantize");
}
