/* Scalar reference quantize / dequantize (kernels/ref/quantize__scalar.c) against
 * hand-worked values and an independent double-precision model of the spec:
 *
 *   q = clamp(round_half_even(x / scale) + zp, qmin, qmax)     QB_ROUND_DIV
 *   q = clamp(round_half_even(x * (1/scale)) + zp, qmin, qmax) QB_ROUND_MUL_RECIP
 *   x' = (float)(q - zp) * scale                                one rounding
 *
 * Covers: ties to even in both modes, a DIV / MUL_RECIP disagreement at the
 * amax/127.5 (and amax/7.5) tie, clamping under the zero-point sweep, +-1e30
 * saturation, 4/2-bit ranges, 16/32-bit outputs, and guard bytes over tail sizes. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_kernels.h"
#include "qb_test.h"

typedef enum { K_S8, K_U8, K_S16, K_U16, K_S32, K_COUNT } out_kind;
static const char* const kind_name[K_COUNT] = {"qs8", "qu8", "qs16", "qu16", "qs32"};
static const size_t kind_size[K_COUNT] = {1, 1, 2, 2, 4};

/* Runs the kernel of `kind` into a guarded buffer, checks the guards, widens to int32. */
static void quantize(out_kind kind, size_t n, const float* x, float scale, int32_t zp,
                     int32_t qmin, int32_t qmax, qb_round_mode mode, int32_t* out) {
  void* y = qb_guard_alloc(n * kind_size[kind]);
  switch (kind) {
    case K_S8: qb_f32_qs8_quantize__scalar(n, x, scale, zp, qmin, qmax, mode, y); break;
    case K_U8: qb_f32_qu8_quantize__scalar(n, x, scale, zp, qmin, qmax, mode, y); break;
    case K_S16: qb_f32_qs16_quantize__scalar(n, x, scale, zp, qmin, qmax, mode, y); break;
    case K_U16: qb_f32_qu16_quantize__scalar(n, x, scale, zp, qmin, qmax, mode, y); break;
    default: qb_f32_qs32_quantize__scalar(n, x, scale, zp, qmin, qmax, mode, y); break;
  }
  qb_guard_check(y, n * kind_size[kind], kind_name[kind]);
  for (size_t i = 0; i < n; i++) {
    switch (kind) {
      case K_S8: out[i] = ((const int8_t*)y)[i]; break;
      case K_U8: out[i] = ((const uint8_t*)y)[i]; break;
      case K_S16: out[i] = ((const int16_t*)y)[i]; break;
      case K_U16: out[i] = ((const uint16_t*)y)[i]; break;
      default: out[i] = ((const int32_t*)y)[i]; break;
    }
  }
  qb_guard_free(y);
}

static int32_t quantize1(out_kind kind, float x, float scale, int32_t zp, int32_t qmin,
                         int32_t qmax, qb_round_mode mode) {
  int32_t q = 0;
  quantize(kind, 1, &x, scale, zp, qmin, qmax, mode, &q);
  return q;
}

/* Independent model: the float quotient (the only float step the spec names), then
 * round half to even written out by hand in double, clamp in double, add zp. */
static int32_t model_quantize(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax,
                              qb_round_mode mode) {
  const float inv = 1.0f / scale;
  const double quot = (double)(mode == QB_ROUND_DIV ? x / scale : x * inv);
  double r = floor(quot);
  const double frac = quot - r;
  if (frac > 0.5 || (frac == 0.5 && fmod(r, 2.0) != 0.0)) r += 1.0;
  double q = r + (double)zp;
  if (q < (double)qmin) q = (double)qmin;
  if (q > (double)qmax) q = (double)qmax;
  return (int32_t)q;
}

static void test_ties(void) {
  /* scale 1 and 0.5 are powers of two: x/scale and x*(1/scale) are both exact, so
   * both modes see the same exact tie and must round it to even. */
  static const float xs[] = {0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f, -3.5f, 126.5f, -127.5f};
  static const int32_t want[] = {0, 2, 2, 4, 0, -2, -2, -4, 126, -128};
  for (int mode = 0; mode < 2; mode++)
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
      QB_CHECK_EQ_INT(quantize1(K_S8, xs[i], 1.0f, 0, -128, 127, (qb_round_mode)mode), want[i]);
      /* x = 2 * tie with scale 2 -> the same quotient */
      QB_CHECK_EQ_INT(quantize1(K_S32, xs[i] * 2.0f, 2.0f, 0, -1000, 1000, (qb_round_mode)mode),
                      want[i]);
      /* with scale 0.5: x = tie / 2 */
      QB_CHECK_EQ_INT(quantize1(K_S16, xs[i] * 0.5f, 0.5f, 0, -32768, 32767, (qb_round_mode)mode),
                      want[i]);
    }
  /* Ties with a zero point: the tie is on x/scale, zp is added after rounding.
   * 2.5 -> 2, + zp 3 = 5 (not round(5.5) = 6). */
  QB_CHECK_EQ_INT(quantize1(K_U8, 2.5f, 1.0f, 3, 0, 255, QB_ROUND_DIV), 5);
  QB_CHECK_EQ_INT(quantize1(K_U8, -2.5f, 1.0f, 128, 0, 255, QB_ROUND_MUL_RECIP), 126);
  /* Just off a tie: 2.5 + ulp rounds up. */
  QB_CHECK_EQ_INT(quantize1(K_S8, nextafterf(2.5f, 3.0f), 1.0f, 0, -128, 127, QB_ROUND_DIV), 3);
  QB_CHECK_EQ_INT(quantize1(K_S8, nextafterf(-2.5f, -3.0f), 1.0f, 0, -128, 127, QB_ROUND_DIV), -3);
  /* -0.4 -> -0.0 -> 0 (no negative zero surprise in the integer). */
  QB_CHECK_EQ_INT(quantize1(K_U8, -0.4f, 1.0f, 0, 0, 255, QB_ROUND_DIV), 0);
}

/* DESIGN.md's trap: symmetric scale = amax / 127.5 puts +-amax on a tie, and the two
 * quotient conventions resolve it one step apart. Values found by the search below
 * (amax = i * 0.01f) and pinned here:
 *   amax = 0.01f = 0x1.47ae14p-7, scale = amax / 127.5f = 0x1.48f70cp-14
 *   amax / scale        = 127.49999237 (0x1.fdfffep+6)  -> round 127
 *   amax * (1 / scale)  = 127.5 exactly                  -> tie, even: 128
 * so at x = -amax (signed 8-bit, -128..127 holds both): DIV -127, MUL_RECIP -128.
 *   amax = 0.19f = 0x1.851eb8p-3, scale = 0x1.86a55ep-10 goes the other way:
 *   amax / scale = 127.5 -> 128, amax * (1/scale) = 127.49999 -> 127.
 * 4-bit (amax / 7.5): amax = 0x1.999998p-5, scale = 0x1.b4e81ap-8:
 *   amax / scale = 7.5 -> 8, amax * (1/scale) = 7.4999995 -> 7; at -amax in -8..7:
 *   DIV -8, MUL_RECIP -7. */
static void test_div_vs_mul_recip(void) {
  const float a1 = 0x1.47ae14p-7f, s1 = 0x1.48f70cp-14f;
  QB_CHECK_EQ_F32(a1, 0.01f);
  QB_CHECK_EQ_F32(a1 / 127.5f, s1);
  QB_CHECK_EQ_F32(a1 / s1, 0x1.fdfffep+6f);
  QB_CHECK_EQ_F32(a1 * (1.0f / s1), 127.5f);
  QB_CHECK_EQ_INT(quantize1(K_S8, -a1, s1, 0, -128, 127, QB_ROUND_DIV), -127);
  QB_CHECK_EQ_INT(quantize1(K_S8, -a1, s1, 0, -128, 127, QB_ROUND_MUL_RECIP), -128);
  QB_CHECK_EQ_INT(quantize1(K_S16, a1, s1, 0, -32768, 32767, QB_ROUND_DIV), 127);
  QB_CHECK_EQ_INT(quantize1(K_S16, a1, s1, 0, -32768, 32767, QB_ROUND_MUL_RECIP), 128);
  /* unsigned with zp 128: 128 + 127 = 255 vs 128 + 128 -> clamped 255; at -a1: 1 vs 0 */
  QB_CHECK_EQ_INT(quantize1(K_U8, -a1, s1, 128, 0, 255, QB_ROUND_DIV), 1);
  QB_CHECK_EQ_INT(quantize1(K_U8, -a1, s1, 128, 0, 255, QB_ROUND_MUL_RECIP), 0);

  const float a2 = 0x1.851eb8p-3f, s2 = 0x1.86a55ep-10f;
  QB_CHECK_EQ_F32(a2, 0.19f);
  QB_CHECK_EQ_F32(a2 / 127.5f, s2);
  QB_CHECK_EQ_INT(quantize1(K_S32, a2, s2, 0, -1000, 1000, QB_ROUND_DIV), 128);
  QB_CHECK_EQ_INT(quantize1(K_S32, a2, s2, 0, -1000, 1000, QB_ROUND_MUL_RECIP), 127);
  QB_CHECK_EQ_INT(quantize1(K_S8, -a2, s2, 0, -128, 127, QB_ROUND_DIV), -128);
  QB_CHECK_EQ_INT(quantize1(K_S8, -a2, s2, 0, -128, 127, QB_ROUND_MUL_RECIP), -127);

  const float a3 = 0x1.999998p-5f, s3 = 0x1.b4e81ap-8f;
  QB_CHECK_EQ_F32(a3 / 7.5f, s3);
  QB_CHECK_EQ_INT(quantize1(K_S8, -a3, s3, 0, -8, 7, QB_ROUND_DIV), -8);
  QB_CHECK_EQ_INT(quantize1(K_S8, -a3, s3, 0, -8, 7, QB_ROUND_MUL_RECIP), -7);

  /* The search itself: every amax = i * 0.01f, at +-amax, for both modes the kernel
   * agrees with the model of its own mode, and the modes disagree somewhere. */
  int disagreements = 0;
  for (int i = 1; i <= 1000; i++) {
    const float amax = (float)i * 0.01f, scale = amax / 127.5f;
    const float xs[2] = {amax, -amax};
    for (int s = 0; s < 2; s++) {
      const int32_t d = quantize1(K_S16, xs[s], scale, 0, -32768, 32767, QB_ROUND_DIV);
      const int32_t r = quantize1(K_S16, xs[s], scale, 0, -32768, 32767, QB_ROUND_MUL_RECIP);
      QB_CHECK_EQ_INT(d, model_quantize(xs[s], scale, 0, -32768, 32767, QB_ROUND_DIV));
      QB_CHECK_EQ_INT(r, model_quantize(xs[s], scale, 0, -32768, 32767, QB_ROUND_MUL_RECIP));
      QB_CHECK(d == r || d - r == 1 || r - d == 1);
      disagreements += d != r;
    }
  }
  QB_CHECK(disagreements > 0);
}

static const int32_t u8_zps[] = {0, 18, 75, 128, 157, 231, 255};
static const int32_t s8_zps[] = {-128, -110, -53, 0, 29, 103, 127};

/* For a zero point and an integer range, x = (t - zp) * scale quantizes to t when
 * t is in range, and to the bound beyond it. scale = 0.25 keeps everything exact. */
static void check_clamp(out_kind kind, int32_t zp, int32_t qmin, int32_t qmax) {
  const float scale = 0.25f;
  for (int mode = 0; mode < 2; mode++) {
    const qb_round_mode md = (qb_round_mode)mode;
    /* exactly on the bounds */
    QB_CHECK_EQ_INT(quantize1(kind, (float)(qmax - zp) * scale, scale, zp, qmin, qmax, md), qmax);
    QB_CHECK_EQ_INT(quantize1(kind, (float)(qmin - zp) * scale, scale, zp, qmin, qmax, md), qmin);
    /* one step and far beyond */
    QB_CHECK_EQ_INT(quantize1(kind, (float)(qmax - zp + 1) * scale, scale, zp, qmin, qmax, md), qmax);
    QB_CHECK_EQ_INT(quantize1(kind, (float)(qmin - zp - 1) * scale, scale, zp, qmin, qmax, md), qmin);
    QB_CHECK_EQ_INT(quantize1(kind, (float)(qmax - zp + 1000) * scale, scale, zp, qmin, qmax, md), qmax);
    QB_CHECK_EQ_INT(quantize1(kind, (float)(qmin - zp - 1000) * scale, scale, zp, qmin, qmax, md), qmin);
    /* one inside */
    if (qmax > qmin) {
      QB_CHECK_EQ_INT(quantize1(kind, (float)(qmax - zp - 1) * scale, scale, zp, qmin, qmax, md), qmax - 1);
      QB_CHECK_EQ_INT(quantize1(kind, (float)(qmin - zp + 1) * scale, scale, zp, qmin, qmax, md), qmin + 1);
    }
    /* 0.0 maps to the zero point when it is in range */
    if (zp >= qmin && zp <= qmax) QB_CHECK_EQ_INT(quantize1(kind, 0.0f, scale, zp, qmin, qmax, md), zp);
    /* a tie next to the upper bound: (qmax - zp) - 0.5 rounds to even */
    const int32_t t = qmax - zp - 1; /* tie between t and t + 1 */
    const int32_t even = (t % 2 == 0) ? t : t + 1;
    QB_CHECK_EQ_INT(quantize1(kind, ((float)t + 0.5f) * scale, scale, zp, qmin, qmax, md),
                    even + zp < qmin ? qmin : (even + zp > qmax ? qmax : even + zp));
    /* saturation of huge values */
    QB_CHECK_EQ_INT(quantize1(kind, 1e30f, scale, zp, qmin, qmax, md), qmax);
    QB_CHECK_EQ_INT(quantize1(kind, -1e30f, scale, zp, qmin, qmax, md), qmin);
    /* FLT_MAX / tiny scale: the quotient itself overflows to +-inf, still clamps */
    QB_CHECK_EQ_INT(quantize1(kind, FLT_MAX, 1e-3f, zp, qmin, qmax, md), qmax);
    QB_CHECK_EQ_INT(quantize1(kind, -FLT_MAX, 1e-3f, zp, qmin, qmax, md), qmin);
  }
}

static void test_clamp(void) {
  for (size_t i = 0; i < 7; i++) {
    check_clamp(K_U8, u8_zps[i], 0, 255);
    check_clamp(K_U8, u8_zps[i], 1, 254);      /* restricted unsigned */
    check_clamp(K_S8, s8_zps[i], -128, 127);
    check_clamp(K_S8, s8_zps[i], -127, 127);   /* restricted signed */
    check_clamp(K_S16, s8_zps[i], -128, 127);  /* 8-bit range in wider storage */
    check_clamp(K_U16, u8_zps[i], 0, 255);
    check_clamp(K_S32, u8_zps[i], 0, 255);
  }
  /* Hand cases, u8 zp 157, scale 0.5: x = 49 -> 98 + 157 = 255; x = 49.5 -> 99 + 157
   * = 256 -> 255; x = -78.5 -> -157 + 157 = 0; x = -79 -> -158 + 157 -> 0. */
  QB_CHECK_EQ_INT(quantize1(K_U8, 49.0f, 0.5f, 157, 0, 255, QB_ROUND_DIV), 255);
  QB_CHECK_EQ_INT(quantize1(K_U8, 48.5f, 0.5f, 157, 0, 255, QB_ROUND_DIV), 254);
  QB_CHECK_EQ_INT(quantize1(K_U8, 49.5f, 0.5f, 157, 0, 255, QB_ROUND_DIV), 255);
  QB_CHECK_EQ_INT(quantize1(K_U8, -78.5f, 0.5f, 157, 0, 255, QB_ROUND_DIV), 0);
  QB_CHECK_EQ_INT(quantize1(K_U8, -79.0f, 0.5f, 157, 0, 255, QB_ROUND_DIV), 0);
  QB_CHECK_EQ_INT(quantize1(K_U8, -78.0f, 0.5f, 157, 0, 255, QB_ROUND_DIV), 1);
  /* s8 zp -110, scale 2: x = 474 -> 237 - 110 = 127; x = 476 -> 238 - 110 -> 127;
   * x = -36 -> -18 - 110 = -128; x = -35 -> -17.5 -> -18 (even) -> -128;
   * x = -33 -> -16.5 -> -16 (even) -> -126; x = -31 -> -15.5 -> -16 -> -126. */
  QB_CHECK_EQ_INT(quantize1(K_S8, 474.0f, 2.0f, -110, -128, 127, QB_ROUND_DIV), 127);
  QB_CHECK_EQ_INT(quantize1(K_S8, 476.0f, 2.0f, -110, -128, 127, QB_ROUND_DIV), 127);
  QB_CHECK_EQ_INT(quantize1(K_S8, -36.0f, 2.0f, -110, -128, 127, QB_ROUND_DIV), -128);
  QB_CHECK_EQ_INT(quantize1(K_S8, -35.0f, 2.0f, -110, -128, 127, QB_ROUND_DIV), -128);
  QB_CHECK_EQ_INT(quantize1(K_S8, -33.0f, 2.0f, -110, -128, 127, QB_ROUND_DIV), -126);
  QB_CHECK_EQ_INT(quantize1(K_S8, -31.0f, 2.0f, -110, -128, 127, QB_ROUND_DIV), -126);
}

static void test_bit_ranges(void) {
  /* 4-bit and 2-bit through qmin/qmax (values one per byte). */
  for (int mode = 0; mode < 2; mode++) {
    const qb_round_mode md = (qb_round_mode)mode;
    /* signed 4-bit, scale 1: 7.4 -> 7, 7.5 -> 8 -> 7, -8.5 -> -8, -9 -> -8, 1e30 -> 7 */
    QB_CHECK_EQ_INT(quantize1(K_S8, 7.4f, 1.0f, 0, -8, 7, md), 7);
    QB_CHECK_EQ_INT(quantize1(K_S8, 7.5f, 1.0f, 0, -8, 7, md), 7);
    QB_CHECK_EQ_INT(quantize1(K_S8, 6.5f, 1.0f, 0, -8, 7, md), 6);
    QB_CHECK_EQ_INT(quantize1(K_S8, -8.5f, 1.0f, 0, -8, 7, md), -8);
    QB_CHECK_EQ_INT(quantize1(K_S8, -7.5f, 1.0f, 0, -8, 7, md), -8);
    QB_CHECK_EQ_INT(quantize1(K_S8, -6.5f, 1.0f, 0, -8, 7, md), -6);
    QB_CHECK_EQ_INT(quantize1(K_S8, -9.0f, 1.0f, 0, -8, 7, md), -8);
    QB_CHECK_EQ_INT(quantize1(K_S8, 1e30f, 1.0f, 0, -8, 7, md), 7);
    QB_CHECK_EQ_INT(quantize1(K_S8, -1e30f, 1.0f, 0, -8, 7, md), -8);
    /* restricted 4-bit -7..7 */
    QB_CHECK_EQ_INT(quantize1(K_S8, -7.5f, 1.0f, 0, -7, 7, md), -7);
    /* unsigned 4-bit zp 8, scale 0.5: x = 3.5 -> 7 + 8 = 15; 4 -> 16 -> 15; -4 -> 0; -4.5 -> 0 */
    QB_CHECK_EQ_INT(quantize1(K_U8, 3.5f, 0.5f, 8, 0, 15, md), 15);
    QB_CHECK_EQ_INT(quantize1(K_U8, 4.0f, 0.5f, 8, 0, 15, md), 15);
    QB_CHECK_EQ_INT(quantize1(K_U8, -4.0f, 0.5f, 8, 0, 15, md), 0);
    QB_CHECK_EQ_INT(quantize1(K_U8, -4.5f, 0.5f, 8, 0, 15, md), 0);
    QB_CHECK_EQ_INT(quantize1(K_U8, 0.75f, 0.5f, 8, 0, 15, md), 10); /* 1.5 -> 2 */
    /* signed 2-bit -2..1: 0.5 -> 0, 1.5 -> 2 -> 1, -1.5 -> -2, -2.5 -> -2, -3 -> -2 */
    QB_CHECK_EQ_INT(quantize1(K_S8, 0.5f, 1.0f, 0, -2, 1, md), 0);
    QB_CHECK_EQ_INT(quantize1(K_S8, 1.5f, 1.0f, 0, -2, 1, md), 1);
    QB_CHECK_EQ_INT(quantize1(K_S8, -1.5f, 1.0f, 0, -2, 1, md), -2);
    QB_CHECK_EQ_INT(quantize1(K_S8, -0.5f, 1.0f, 0, -2, 1, md), 0);
    QB_CHECK_EQ_INT(quantize1(K_S8, -3.0f, 1.0f, 0, -2, 1, md), -2);
    /* unsigned 2-bit 0..3, zp 1: 2.5 -> 2 + 1 = 3; 3 -> 4 -> 3; -1 -> 0; -2 -> 0; 0.5 -> 1 */
    QB_CHECK_EQ_INT(quantize1(K_U8, 2.5f, 1.0f, 1, 0, 3, md), 3);
    QB_CHECK_EQ_INT(quantize1(K_U8, 3.0f, 1.0f, 1, 0, 3, md), 3);
    QB_CHECK_EQ_INT(quantize1(K_U8, 1.5f, 1.0f, 1, 0, 3, md), 3);
    QB_CHECK_EQ_INT(quantize1(K_U8, -1.0f, 1.0f, 1, 0, 3, md), 0);
    QB_CHECK_EQ_INT(quantize1(K_U8, -2.0f, 1.0f, 1, 0, 3, md), 0);
    QB_CHECK_EQ_INT(quantize1(K_U8, 0.5f, 1.0f, 1, 0, 3, md), 1);
  }
}

static void test_wide_outputs(void) {
  for (int mode = 0; mode < 2; mode++) {
    const qb_round_mode md = (qb_round_mode)mode;
    /* qs16 full range */
    QB_CHECK_EQ_INT(quantize1(K_S16, 32767.0f, 1.0f, 0, -32768, 32767, md), 32767);
    QB_CHECK_EQ_INT(quantize1(K_S16, 32767.5f, 1.0f, 0, -32768, 32767, md), 32767);
    QB_CHECK_EQ_INT(quantize1(K_S16, 32766.5f, 1.0f, 0, -32768, 32767, md), 32766);
    QB_CHECK_EQ_INT(quantize1(K_S16, -32768.0f, 1.0f, 0, -32768, 32767, md), -32768);
    QB_CHECK_EQ_INT(quantize1(K_S16, -40000.0f, 1.0f, 0, -32768, 32767, md), -32768);
    QB_CHECK_EQ_INT(quantize1(K_S16, 1e30f, 1e-4f, 0, -32768, 32767, md), 32767);
    QB_CHECK_EQ_INT(quantize1(K_S16, -1e30f, 1e-4f, 0, -32768, 32767, md), -32768);
    /* zp 1000, scale 0.125: x = 1.0625 -> 8.5 -> 8 + 1000 = 1008 */
    QB_CHECK_EQ_INT(quantize1(K_S16, 1.0625f, 0.125f, 1000, -32768, 32767, md), 1008);
    /* qu16 with zp 32768: x = 32767 -> 65535; 32768 -> 65535; -32768 -> 0; -0.5 -> 32768 */
    QB_CHECK_EQ_INT(quantize1(K_U16, 32767.0f, 1.0f, 32768, 0, 65535, md), 65535);
    QB_CHECK_EQ_INT(quantize1(K_U16, 32768.0f, 1.0f, 32768, 0, 65535, md), 65535);
    QB_CHECK_EQ_INT(quantize1(K_U16, -32768.0f, 1.0f, 32768, 0, 65535, md), 0);
    QB_CHECK_EQ_INT(quantize1(K_U16, -32769.0f, 1.0f, 32768, 0, 65535, md), 0);
    QB_CHECK_EQ_INT(quantize1(K_U16, -0.5f, 1.0f, 32768, 0, 65535, md), 32768);
    QB_CHECK_EQ_INT(quantize1(K_U16, -1.5f, 1.0f, 32768, 0, 65535, md), 32766);
    QB_CHECK_EQ_INT(quantize1(K_U16, 1e30f, 1.0f, 32768, 0, 65535, md), 65535);
    QB_CHECK_EQ_INT(quantize1(K_U16, -1e30f, 1.0f, 32768, 0, 65535, md), 0);
    /* qs32, 24-bit range (|q - zp| stays exact in float, as the kernel requires):
     * 8388607 fits, 8388608 clamps; 1000.5 -> 1000; 1001.5 -> 1002 */
    const int32_t lo = -8388608, hi = 8388607;
    QB_CHECK_EQ_INT(quantize1(K_S32, 8388607.0f, 1.0f, 0, lo, hi, md), 8388607);
    QB_CHECK_EQ_INT(quantize1(K_S32, 8388608.0f, 1.0f, 0, lo, hi, md), 8388607);
    QB_CHECK_EQ_INT(quantize1(K_S32, -8388608.0f, 1.0f, 0, lo, hi, md), -8388608);
    QB_CHECK_EQ_INT(quantize1(K_S32, 1000.5f, 1.0f, 0, lo, hi, md), 1000);
    QB_CHECK_EQ_INT(quantize1(K_S32, 1001.5f, 1.0f, 0, lo, hi, md), 1002);
    QB_CHECK_EQ_INT(quantize1(K_S32, 1e30f, 1.0f, 0, lo, hi, md), hi);
    QB_CHECK_EQ_INT(quantize1(K_S32, -1e30f, 1.0f, 0, lo, hi, md), lo);
    QB_CHECK_EQ_INT(quantize1(K_S32, 1e30f, 1.0f, 12345, lo, hi, md), hi);
    QB_CHECK_EQ_INT(quantize1(K_S32, -1e30f, 1.0f, -12345, lo, hi, md), lo);
    /* 12-bit range in int32 storage */
    QB_CHECK_EQ_INT(quantize1(K_S32, 3000.0f, 1.0f, 0, -2048, 2047, md), 2047);
    QB_CHECK_EQ_INT(quantize1(K_S32, -2047.5f, 1.0f, 0, -2048, 2047, md), -2048);
  }
}

/* Random inputs (with forced ties) over tail sizes: every element equals the model,
 * and nothing is written outside the n outputs. */
static void test_sizes_and_guards(void) {
  static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 63, 64, 65};
  static const struct { out_kind kind; int32_t qmin, qmax; } ranges[] = {
      {K_S8, -128, 127}, {K_U8, 0, 255}, {K_S8, -8, 7}, {K_U8, 0, 3},
      {K_S16, -32768, 32767}, {K_U16, 0, 65535}, {K_S32, -8388608, 8388607}};
  float* x = malloc(65 * sizeof(float));
  int32_t* q = malloc(65 * sizeof(int32_t));
  for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
      for (int mode = 0; mode < 2; mode++) {
        const size_t n = sizes[si];
        const int32_t qmin = ranges[r].qmin, qmax = ranges[r].qmax;
        const int32_t zp = qb_rand_range(qmin, qmax);
        const float scale = (qb_rand_below(2) ? 0.25f : qb_rand_uniform(0.001f, 3.0f));
        const float span = (float)(qmax - qmin) * scale;
        for (size_t i = 0; i < n; i++) {
          switch (qb_rand_below(4)) {
            case 0: x[i] = ((float)qb_rand_range(-300, 300) + 0.5f) * scale; break; /* tie (exact if scale 0.25) */
            case 1: x[i] = qb_rand_below(2) ? 1e30f : -1e30f; break;
            default: x[i] = qb_rand_uniform(-0.7f * span, 0.7f * span); break;
          }
        }
        quantize(ranges[r].kind, n, x, scale, zp, qmin, qmax, (qb_round_mode)mode, q);
        for (size_t i = 0; i < n; i++) {
          const int32_t want = model_quantize(x[i], scale, zp, qmin, qmax, (qb_round_mode)mode);
          QB_CHECK_MSG(q[i] == want, "%s n=%zu i=%zu x=%a scale=%a zp=%d mode=%d: %d != %d",
                       kind_name[ranges[r].kind], n, i, (double)x[i], (double)scale, zp, mode,
                       q[i], want);
        }
      }
  free(x);
  free(q);
}

/* Dequantize: (float)(q - zp) * scale with a single rounding. |q - zp| < 2^24 and
 * scale has 24 bits, so the product is exact in double and rounding that double to
 * float is the one correct rounding. A two-rounding form (q*s - zp*s) differs:
 * q = 5, zp = -37, scale = 0.1f = 13421773 * 2^-27: 42 * 13421773 = 563714466,
 * rounded to 24 bits (multiple of 64) = 8808039 * 64 -> 0x1.0ccccep+2 (4.2000003),
 * while 5*s - (-37)*s gives 0x1.0cccccp+2. */
static void test_dequantize(void) {
  static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 63, 64, 65};
  int8_t qs[256];
  uint8_t qu[256];
  int32_t q32[256];
  float* y = qb_guard_alloc(256 * sizeof(float));
  for (int v = 0; v < 256; v++) {
    qs[v] = (int8_t)(v - 128);
    qu[v] = (uint8_t)v;
  }
  /* hand case */
  const int8_t q5 = 5;
  float one = 0.0f;
  qb_qs8_f32_dequantize__scalar(1, &q5, 0.1f, -37, &one);
  QB_CHECK_EQ_F32(one, 0x1.0ccccep+2f);
  QB_CHECK(0x1.0ccccep+2f != 5.0f * 0.1f - (-37.0f) * 0.1f);
  const uint8_t u255 = 255;
  qb_qu8_f32_dequantize__scalar(1, &u255, 0.5f, 128, &one);
  QB_CHECK_EQ_F32(one, 63.5f);
  /* qs32 beyond 2^24: (float)16777217 rounds to 16777216 first (ties to even) */
  const int32_t big = 16777217;
  qb_qs32_f32_dequantize__scalar(1, &big, 1.0f, 0, &one);
  QB_CHECK_EQ_F32(one, 16777216.0f);

  for (size_t z = 0; z < 7; z++) {
    const float scale = qb_rand_uniform(1e-4f, 2.0f);
    qb_qs8_f32_dequantize__scalar(256, qs, scale, s8_zps[z], y);
    for (int v = 0; v < 256; v++)
      QB_CHECK_EQ_F32(y[v], (float)((double)(qs[v] - s8_zps[z]) * (double)scale));
    qb_qu8_f32_dequantize__scalar(256, qu, scale, u8_zps[z], y);
    for (int v = 0; v < 256; v++)
      QB_CHECK_EQ_F32(y[v], (float)((double)(qu[v] - u8_zps[z]) * (double)scale));
    for (int v = 0; v < 256; v++) q32[v] = qb_rand_range(-8000000, 8000000);
    qb_qs32_f32_dequantize__scalar(256, q32, scale, u8_zps[z] * 1000, y);
    for (int v = 0; v < 256; v++)
      QB_CHECK_EQ_F32(y[v], (float)((double)(q32[v] - u8_zps[z] * 1000) * (double)scale));
  }
  qb_guard_check(y, 256 * sizeof(float), "dequantize 256");
  qb_guard_free(y);

  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    const size_t n = sizes[si];
    const float scale = qb_rand_uniform(1e-3f, 1.0f);
    float* ys = qb_guard_alloc(n * sizeof(float));
    qb_qs8_f32_dequantize__scalar(n, qs + 3, scale, 7, ys);
    for (size_t i = 0; i < n; i++) QB_CHECK_EQ_F32(ys[i], (float)((double)(qs[3 + i] - 7) * scale));
    qb_guard_check(ys, n * sizeof(float), "qs8 dequantize");
    qb_qu8_f32_dequantize__scalar(n, qu + 100, scale, 157, ys);
    for (size_t i = 0; i < n; i++) QB_CHECK_EQ_F32(ys[i], (float)((double)(qu[100 + i] - 157) * scale));
    qb_guard_check(ys, n * sizeof(float), "qu8 dequantize");
    qb_qs32_f32_dequantize__scalar(n, q32, scale, -5, ys);
    for (size_t i = 0; i < n; i++) QB_CHECK_EQ_F32(ys[i], (float)((double)(q32[i] + 5) * scale));
    qb_guard_check(ys, n * sizeof(float), "qs32 dequantize");
    qb_guard_free(ys);
  }
}

int main(void) {
  qb_test_seed(20240611);
  test_ties();
  test_div_vs_mul_recip();
  test_clamp();
  test_bit_ranges();
  test_wide_outputs();
  test_sizes_and_guards();
  test_dequantize();
  return qb_test_finish("test_ref_quantize");
}
