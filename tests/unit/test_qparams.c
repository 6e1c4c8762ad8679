/* qparams: integer ranges of every scheme and PyTorch-observer qparams, hand-worked. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "qb_qparams.h"
#include "qb_test.h"

static qb_qscheme scheme(int bits, bool is_signed, bool restricted, qb_symmetry sym) {
  return (qb_qscheme){bits, is_signed, restricted, sym, QB_ROUND_DIV};
}

static qb_qparams qp(qb_qscheme s, float lo, float hi) {
  qb_qparams p = {0, 0};
  qb_error err;
  QB_CHECK_MSG(qb_qparams_from_range(&s, lo, hi, &p, &err) == 0, "%s", err.msg);
  return p;
}

static void test_ranges(void) {
  qb_qscheme s = scheme(8, true, false, QB_SYMMETRIC);
  QB_CHECK_EQ_INT(qb_qscheme_qmin(&s), -128);
  QB_CHECK_EQ_INT(qb_qscheme_qmax(&s), 127);
  s.restricted = true;
  QB_CHECK_EQ_INT(qb_qscheme_qmin(&s), -127);
  QB_CHECK_EQ_INT(qb_qscheme_qmax(&s), 127);
  s = scheme(8, false, false, QB_AFFINE);
  QB_CHECK_EQ_INT(qb_qscheme_qmin(&s), 0);
  QB_CHECK_EQ_INT(qb_qscheme_qmax(&s), 255);
  s.restricted = true;
  QB_CHECK_EQ_INT(qb_qscheme_qmax(&s), 254);
  s = scheme(2, true, false, QB_AFFINE);
  QB_CHECK_EQ_INT(qb_qscheme_qmin(&s), -2);
  QB_CHECK_EQ_INT(qb_qscheme_qmax(&s), 1);
  s = scheme(4, true, true, QB_SYMMETRIC);
  QB_CHECK_EQ_INT(qb_qscheme_qmin(&s), -7);
  QB_CHECK_EQ_INT(qb_qscheme_qmax(&s), 7);
  s = scheme(16, false, false, QB_AFFINE);
  QB_CHECK_EQ_INT(qb_qscheme_qmax(&s), 65535);
  s = scheme(16, true, false, QB_AFFINE);
  QB_CHECK_EQ_INT(qb_qscheme_qmin(&s), -32768);
  qb_error err;
  for (int bits = 0; bits <= 20; bits++) {
    s = scheme(bits, true, false, QB_AFFINE);
    const bool valid = (bits >= 2 && bits <= 8) || bits == 16;
    QB_CHECK_MSG((qb_qscheme_check(&s, &err) == 0) == valid, "bits %d", bits);
  }
}

static void test_affine(void) {
  const qb_qscheme u8 = scheme(8, false, false, QB_AFFINE);
  /* [-64, 191]: scale = 255/255 = 1, zp = 0 - round(-64 / 1) = 64 */
  qb_qparams p = qp(u8, -64.0f, 191.0f);
  QB_CHECK_EQ_F32(p.scale, 1.0f);
  QB_CHECK_EQ_INT(p.zero_point, 64);
  /* zp ties round half to even: round(-2.5) = -2 -> zp 2; round(-3.5) = -4 -> zp 4 */
  QB_CHECK_EQ_INT(qp(u8, -2.5f, 252.5f).zero_point, 2);
  QB_CHECK_EQ_INT(qp(u8, -3.5f, 251.5f).zero_point, 4);
  /* A positive range is widened to include 0: [0.5, 2] -> [0, 2], zp 0 */
  p = qp(u8, 0.5f, 2.0f);
  QB_CHECK_EQ_F32(p.scale, 2.0f / 255.0f);
  QB_CHECK_EQ_INT(p.zero_point, 0);
  /* A negative range likewise: [-3, -1] -> [-3, 0], zp = round(3 / (3/255)) = 255 */
  p = qp(u8, -3.0f, -1.0f);
  QB_CHECK_EQ_F32(p.scale, 3.0f / 255.0f);
  QB_CHECK_EQ_INT(p.zero_point, 255);
  /* signed affine 8-bit: [-64, 191] -> zp = -128 - (-64) = -64 */
  QB_CHECK_EQ_INT(qp(scheme(8, true, false, QB_AFFINE), -64.0f, 191.0f).zero_point, -64);
  /* 4-bit unsigned affine: [-3, 12] -> scale = 15/15 = 1, zp = 3 */
  p = qp(scheme(4, false, false, QB_AFFINE), -3.0f, 12.0f);
  QB_CHECK_EQ_F32(p.scale, 1.0f);
  QB_CHECK_EQ_INT(p.zero_point, 3);
  /* all-zero range: the scale is clamped to float32 eps (2^-23), zp = qmin */
  p = qp(u8, 0.0f, 0.0f);
  QB_CHECK_EQ_F32(p.scale, 0x1p-23f);
  QB_CHECK_EQ_INT(p.zero_point, 0);
}

static void test_symmetric(void) {
  /* s8: scale = amax / 127.5 (PyTorch's (qmax - qmin) / 2), zero point 0 */
  qb_qparams p = qp(scheme(8, true, false, QB_SYMMETRIC), -1.0f, 2.0f);
  QB_CHECK_EQ_F32(p.scale, 2.0f / 127.5f);
  QB_CHECK_EQ_INT(p.zero_point, 0);
  /* restricted s8: scale = amax / 127 -> 127 / 127 = 1 */
  p = qp(scheme(8, true, true, QB_SYMMETRIC), -127.0f, 5.0f);
  QB_CHECK_EQ_F32(p.scale, 1.0f);
  /* u8 symmetric: zero point at mid-range, 128 (PyTorch's default) */
  p = qp(scheme(8, false, false, QB_SYMMETRIC), -1.0f, 1.0f);
  QB_CHECK_EQ_INT(p.zero_point, 128);
  QB_CHECK_EQ_F32(p.scale, 1.0f / 127.5f);
  /* restricted u8 (0..254): mid-range 127 */
  QB_CHECK_EQ_INT(qp(scheme(8, false, true, QB_SYMMETRIC), -1.0f, 1.0f).zero_point, 127);
  /* Below 8 bits PyTorch configures the grid with quant_min/quant_max and takes the
   * down-rounded midpoint (qmin + qmax) // 2 (torch 1.13, observer.py,
   * _calculate_qparams; checked with Debian's python3-torch 1.13 MinMaxObserver with
   * quant_min/quant_max: u4 -> 7, u3 -> 3, u2 -> 1, u4 restricted -> 7, u8 restricted
   * -> 127, default u8 -> 128): u4 0..15 -> 7, scale 7.5 / 7.5 = 1, so [-7, 8] is covered
   * and a ReLU output of 7.5 is not clipped. */
  const qb_qscheme u4 = scheme(4, false, false, QB_SYMMETRIC);
  p = qp(u4, 0.0f, 7.5f);
  QB_CHECK_EQ_INT(p.zero_point, 7);
  QB_CHECK_EQ_F32(p.scale, 1.0f);
  float lo, hi;
  qb_qparams_representable(&u4, p, &lo, &hi);
  QB_CHECK_EQ_F32(lo, -7.0f);
  QB_CHECK_EQ_F32(hi, 8.0f);
  QB_CHECK_EQ_INT(qp(scheme(2, false, false, QB_SYMMETRIC), 0.0f, 1.0f).zero_point, 1);
  QB_CHECK_EQ_INT(qp(scheme(3, false, false, QB_SYMMETRIC), 0.0f, 1.0f).zero_point, 3);
  QB_CHECK_EQ_INT(qp(scheme(4, false, true, QB_SYMMETRIC), 0.0f, 1.0f).zero_point, 7);
  QB_CHECK_EQ_INT(qp(scheme(16, false, false, QB_SYMMETRIC), 0.0f, 1.0f).zero_point, 32767);
  /* 4-bit signed: scale = 7.5 / 7.5 = 1 */
  QB_CHECK_EQ_F32(qp(scheme(4, true, false, QB_SYMMETRIC), -7.5f, 3.0f).scale, 1.0f);
  /* 2-bit signed: (1 - (-2)) / 2 = 1.5 -> 3 / 1.5 = 2 */
  QB_CHECK_EQ_F32(qp(scheme(2, true, false, QB_SYMMETRIC), -3.0f, 1.0f).scale, 2.0f);
  /* tiny range: eps clamp */
  QB_CHECK_EQ_F32(qp(scheme(8, true, false, QB_SYMMETRIC), -1e-30f, 1e-30f).scale, 0x1p-23f);
}

static void test_errors(void) {
  qb_qparams p;
  qb_error err;
  const qb_qscheme s = scheme(8, true, false, QB_AFFINE);
  QB_CHECK(qb_qparams_from_range(&s, NAN, 1.0f, &p, &err) != 0);
  QB_CHECK(strstr(err.msg, "not finite") != NULL);
  QB_CHECK(qb_qparams_from_range(&s, 0.0f, INFINITY, &p, &err) != 0);
  QB_CHECK(qb_qparams_from_range(&s, 2.0f, 1.0f, &p, &err) != 0);
  QB_CHECK(strstr(err.msg, "min") != NULL);
  const qb_qscheme bad = scheme(9, true, false, QB_AFFINE);
  QB_CHECK(qb_qparams_from_range(&bad, 0.0f, 1.0f, &p, &err) != 0);
  QB_CHECK(strstr(err.msg, "bits 9") != NULL);
}

/* The representable interval contains the (widened) range for min-max qparams. */
static void test_representable(void) {
  qb_test_seed(2024);
  for (int i = 0; i < 2000; i++) {
    const int bits_choices[] = {2, 3, 4, 5, 6, 7, 8, 16};
    qb_qscheme s = scheme(bits_choices[qb_rand_below(8)], qb_rand_below(2), qb_rand_below(2),
                          qb_rand_below(2) ? QB_SYMMETRIC : QB_AFFINE);
    float lo = qb_rand_uniform(-10.0f, 5.0f), hi = lo + qb_rand_uniform(0.0f, 20.0f);
    qb_qparams p = qp(s, lo, hi);
    float rlo, rhi;
    qb_qparams_representable(&s, p, &rlo, &rhi);
    /* Affine loses at most half a step at each end to the zero-point rounding, symmetric
     * half a step at the top (scale = amax / (qmax - qmin) * 2 puts amax at qmax + 1/2);
     * the float products (q - zp) * scale add a few ulp of the bound. */
    const float slack = 0.5f * p.scale + 4.0f * FLT_EPSILON * fmaxf(fabsf(lo), fabsf(hi));
    QB_CHECK_MSG(rlo <= fminf(lo, 0.0f) + slack && rhi >= fmaxf(hi, 0.0f) - slack,
                 "bits %d %s [%g, %g] -> [%g, %g]", s.bits,
                 s.symmetry == QB_SYMMETRIC ? "sym" : "aff", (double)lo, (double)hi, (double)rlo,
                 (double)rhi);
    QB_CHECK(p.zero_point >= qb_qscheme_qmin(&s) && p.zero_point <= qb_qscheme_qmax(&s));
  }
}

int main(void) {
  test_ranges();
  test_affine();
  test_symmetric();
  test_errors();
  test_representable();
  return qb_test_finish("test_qparams");
}
