/* Reference requantization int32 accumulator -> 8-bit.
 *
 * Two rules are in use across deployed runtimes; both are provided, each named
 * after what it matches:
 *
 * fp32 (XNNPACK "fp32", ONNX Runtime's QLinear* on x86):
 *   s = (float)(acc + bias)             int32 add wraps; float conversion rounds
 *                                       to nearest even when |s| > 2^24
 *   y = clamp(round_half_even(s * scale) + zp, qmin, qmax)
 * Clamping before or after rounding is the same thing because the bounds are
 * integers and rounding is monotone, so SIMD kernels may do either.
 *
 * gemmlowp (TFLite reference MultiplyByQuantizedMultiplier):
 *   y = clamp(RoundingDivideByPOT(SRDHM(s << left, multiplier), right) + zp, ...)
 * with SRDHM = SaturatingRoundingDoublingHighMul (VQRDMULH) and the two rounding
 * primitives defined in qb_ref_math.h. Note the double rounding: the high-mul
 * rounds ties toward +infinity, then the shift rounds ties away from zero.
 * Like TFLite, the left shift (shift > 0) multiplies in int32 and wraps on
 * overflow, and acc + bias wraps; both are defined here (unsigned arithmetic) so
 * every backend reproduces them. */
#include <math.h>

#include "qb_kernels.h"
#include "qb_ref_math.h"

qb_fixedpoint_multiplier qb_fixedpoint_multiplier_from_double(double real_multiplier) {
  qb_fixedpoint_multiplier r = {0, 0};
  if (!(real_multiplier > 0.0)) return r;
  int exponent = 0;
  const double q = frexp(real_multiplier, &exponent); /* q in [0.5, 1) */
  int64_t q_fixed = (int64_t)round(q * (double)(INT64_C(1) << 31)); /* half away from 0 */
  if (q_fixed == (INT64_C(1) << 31)) {
    q_fixed /= 2;
    exponent++;
  }
  if (exponent < -31) return r; /* multiplier underflows to zero, as TFLite does */
  if (exponent > 30) { /* r >= 2^30: saturate to the largest encodable, as TFLite does */
    exponent = 30;
    q_fixed = INT32_MAX;
  }
  r.multiplier = (int32_t)q_fixed;
  r.shift = exponent;
  return r;
}

static int32_t wrapping_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

static int32_t requantize_fp32_one(int32_t acc, float scale, int32_t zp, int32_t qmin,
                                   int32_t qmax) {
  float r = qb_round_half_even((float)acc * scale);
  const float lo = (float)(qmin - zp), hi = (float)(qmax - zp);
  r = r < lo ? lo : (r > hi ? hi : r);
  return (int32_t)r + zp;
}

static int32_t requantize_gemmlowp_one(int32_t acc, qb_fixedpoint_multiplier m, int32_t zp,
                                       int32_t qmin, int32_t qmax) {
  const int left = m.shift > 0 ? m.shift : 0;
  const int right = m.shift > 0 ? 0 : -m.shift;
  /* TFLite multiplies by 2^left in int32; wrapping keeps that defined in C. */
  const int32_t shifted = (int32_t)((uint32_t)acc << left);
  const int32_t scaled = qb_rounding_divide_by_pot(
      qb_saturating_rounding_doubling_high_mul(shifted, m.multiplier), right);
  /* scaled + zp cannot overflow meaningfully before the clamp: clamp in int64. */
  const int64_t y = (int64_t)scaled + zp;
  return (int32_t)(y < qmin ? qmin : (y > qmax ? qmax : y));
}

#define QB_DEFINE_REQUANT_FP32(NAME, OUT_T)                                                 \
  void NAME(size_t M, size_t N, const int32_t* acc, size_t ldacc, const int32_t* bias,      \
            const float* scale, int32_t zero_point, int32_t qmin, int32_t qmax, OUT_T* y,   \
            size_t ldy) {                                                                   \
    for (size_t m = 0; m < M; m++)                                                          \
      for (size_t n = 0; n < N; n++) {                                                      \
        const int32_t s = wrapping_add(acc[m * ldacc + n], bias ? bias[n] : 0);             \
        y[m * ldy + n] = (OUT_T)requantize_fp32_one(s, scale[n], zero_point, qmin, qmax);   \
      }                                                                                     \
  }

#define QB_DEFINE_REQUANT_GEMMLOWP(NAME, OUT_T)                                             \
  void NAME(size_t M, size_t N, const int32_t* acc, size_t ldacc, const int32_t* bias,      \
            const qb_fixedpoint_multiplier* multiplier, int32_t zero_point, int32_t qmin,   \
            int32_t qmax, OUT_T* y, size_t ldy) {                                           \
    for (size_t m = 0; m < M; m++)                                                          \
      for (size_t n = 0; n < N; n++) {                                                      \
        const int32_t s = wrapping_add(acc[m * ldacc + n], bias ? bias[n] : 0);             \
        y[m * ldy + n] =                                                                    \
            (OUT_T)requantize_gemmlowp_one(s, multiplier[n], zero_point, qmin, qmax);       \
      }                                                                                     \
  }

QB_DEFINE_REQUANT_FP32(qb_qs32_qs8_requantize_fp32__scalar, int8_t)
QB_DEFINE_REQUANT_FP32(qb_qs32_qu8_requantize_fp32__scalar, uint8_t)
QB_DEFINE_REQUANT_GEMMLOWP(qb_qs32_qs8_requantize_gemmlowp__scalar, int8_t)
QB_DEFINE_REQUANT_GEMMLOWP(qb_qs32_qu8_requantize_gemmlowp__scalar, uint8_t)
