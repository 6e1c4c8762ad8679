/* fp32 row primitives: see qb_f32_rows.h. */
#include "qb_f32_rows.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "qb_multiversion.h"

/* ---------------------------------------------------------------- Softmax */

/* exp(x) for the softmax's x - max <= 0: Cephes' expf (range reduction by ln 2 split
 * in two, degree-5 polynomial; max relative error 8.2e-8 on [-87, 0], 1.4 ulp), without a libm
 * call or branch so the loop vectorizes. |x| > 87 (exp below the normal range)
 * becomes -87 with x's sign: exp(-87) = 1.6e-38 instead of a subnormal or 0, a
 * difference that no softmax output (the sum is >= 1) can show; NaN stays NaN.
 * The clamp is on the bits (integer selects) and 2^n is built from them: float
 * compares would keep the compiler from vectorizing under trapping math. */
static inline float exp_nonpositive(float a) {
  uint32_t b;
  memcpy(&b, &a, sizeof b);
  const uint32_t mag = b & 0x7FFFFFFFu, lim = 0x42AE0000u /* 87.0f */, inf = 0x7F800000u;
  const uint32_t cb = (mag > lim && mag <= inf ? lim : mag) | (b & 0x80000000u);
  float x;
  memcpy(&x, &cb, sizeof x);
  const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
  const float r = (x * 1.44269504088896341f + magic) - magic;
  const float f = (x - r * 0.693359375f) - r * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * f + 1.3981999507e-3f;
  p = p * f + 8.3334519073e-3f;
  p = p * f + 4.1665795894e-2f;
  p = p * f + 1.6666665459e-1f;
  p = p * f + 5.0000001201e-1f;
  p = p * (f * f) + f + 1.0f;
  const uint32_t sb = (uint32_t)((int32_t)r + 127) << 23; /* 2^r, r in [-126, 0] */
  float scale;
  memcpy(&scale, &sb, sizeof scale);
  return p * scale;
}

static void exp_row(float* restrict y, const float* restrict x, float mx, size_t n) {
  for (size_t k = 0; k < n; k++) y[k] = exp_nonpositive(x[k] - mx);
}

/* Sums in double with four partial sums in a fixed order: independent add chains
 * (the row is latency-bound otherwise), deterministic. */
static double sum4(const float* x, size_t n) {
  double s[4] = {0, 0, 0, 0};
  size_t k = 0;
  for (; k + 4 <= n; k += 4) s[0] += x[k], s[1] += x[k + 1], s[2] += x[k + 2], s[3] += x[k + 3];
  for (; k < n; k++) s[0] += x[k];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

/* The last-axis row: max, exp (vectorized), the sum in double over four partial sums
 * (independent add chains; a fixed order, so deterministic), then y * (1 / sum) in
 * double rounded once to float (vectorized; within an ulp of y / sum). */
QB_MULTIVERSION void qb_f32_softmax_row(float* restrict y, const float* restrict x, size_t n) {
  float mx = -INFINITY;
  for (size_t k = 0; k < n; k++) mx = x[k] > mx ? x[k] : mx; /* fmaxf without the libm call: NaN never wins */
  exp_row(y, x, mx, n);
  const double inv = 1.0 / sum4(y, n);
  for (size_t k = 0; k < n; k++) y[k] = (float)((double)y[k] * inv);
}


/* Softmax along a strided axis (element k at x[k * inner]): the same exp, the sum in
 * double in order. */
void qb_f32_softmax_strided(float* y, const float* x, size_t len, size_t inner) {
  float mx = -INFINITY;
  for (size_t k = 0; k < len; k++) mx = x[k * inner] > mx ? x[k * inner] : mx;
  double sum = 0;
  for (size_t k = 0; k < len; k++) sum += (y[k * inner] = exp_nonpositive(x[k * inner] - mx));
  for (size_t k = 0; k < len; k++) y[k * inner] = (float)(y[k * inner] / sum);
}

/* -------------------------------------------------------------- LayerNorm */

/* Sum of (x - mean)^2, the same way. */
static double sum_sq4(const float* x, size_t n, float mean) {
  double s[4] = {0, 0, 0, 0};
  size_t k = 0;
  for (; k + 4 <= n; k += 4)
    for (size_t j = 0; j < 4; j++) s[j] += ((double)x[k + j] - mean) * ((double)x[k + j] - mean);
  for (; k < n; k++) s[0] += ((double)x[k] - mean) * ((double)x[k] - mean);
  return (s[0] + s[1]) + (s[2] + s[3]);
}

QB_MULTIVERSION void qb_f32_layernorm_row(float* restrict y, const float* restrict x,
                                          const float* scale, const float* bias, size_t len,
                                          float epsilon, float* mean_out, float* inv_out) {
  const float mean = (float)(sum4(x, len) / (double)len);
  const double ss = sum_sq4(x, len, mean);
  const float inv = (float)(1.0 / sqrt(ss / (double)len + (double)epsilon));
  if (bias)
    for (size_t k = 0; k < len; k++) y[k] = (x[k] - mean) * inv * scale[k] + bias[k];
  else
    for (size_t k = 0; k < len; k++) y[k] = (x[k] - mean) * inv * scale[k] + 0.0f;
  if (mean_out) *mean_out = mean;
  if (inv_out) *inv_out = inv;
}

/* -------------------------------------------------------------------- Erf */

/* erf as a rational function, the approximation of Eigen / XLA / TensorFlow
 * (generic_fast_erf_float): x clamped to [-4, 4] (|erf| rounds to 1 in float
 * beyond), erf(x) ~ x * P(x^2) / Q(x^2) with P of degree 6 and Q of degree 4. Max
 * error against erf in double, every float in [-6, 6] checked: 4.7e-7 absolute and
 * relative (8 ulp, near |x| = 3.27); erf(+-0) = +-0, NaN stays NaN
 * (tests/unit/test_f32_ops.c checks the bound). One division
 * and no branch or libm call: the loop below vectorizes, where libm's erff was a
 * fifth of vit's fp32 time. Deterministic: the same operations in the same order
 * on every machine (FMA contraction is off in the build). */
static inline float erf_rational(float a) {
  /* The clamp on the bits (integer selects; float compares would keep the compiler
   * from vectorizing under trapping math): |a| > 4 becomes 4 with a's sign, NaN
   * (magnitude bits above infinity's) passes through. */
  uint32_t b;
  memcpy(&b, &a, sizeof b);
  const uint32_t mag = b & 0x7FFFFFFFu, four = 0x40800000u, inf = 0x7F800000u;
  const uint32_t clamped = (mag > four && mag <= inf ? four : mag) | (b & 0x80000000u);
  float x;
  memcpy(&x, &clamped, sizeof x);
  const float x2 = x * x;
  float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = x2 * p + -2.10102402082508e-06f;
  p = x2 * p + -5.69250639462346e-05f;
  p = x2 * p + -7.34990630326855e-04f;
  p = x2 * p + -2.95459980854025e-03f;
  p = x2 * p + -1.60960333262415e-02f;
  float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
  q = x2 * q + -1.68282697438203e-03f;
  q = x2 * q + -7.37332916720468e-03f;
  q = x2 * q + -1.42647390514189e-02f;
  return x * p / q;
}

QB_MULTIVERSION void qb_f32_erf(float* restrict o, const float* restrict x, size_t n) {
  for (size_t i = 0; i < n; i++) o[i] = erf_rational(x[i]);
}
