/* Range strategies: parse/str, hand-worked minmax / percentile / movavg, and
 * properties of mse, entropy and crossentropy on random tensors (printed seed).
 * Fake quantization here is recomputed independently of qb_range.c from
 * qb_qparams_from_range + qb_quantize_one, so the checks compare against the
 * quantizer's own rule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_qparams.h"
#include "qb_range.h"
#include "qb_ref_math.h"
#include "qb_test.h"

static qb_qscheme scheme(int bits, bool is_signed, qb_symmetry sym, qb_round_mode mode) {
  return (qb_qscheme){bits, is_signed, false, sym, mode};
}

static qb_range_strategy parsed(const char* text) {
  qb_range_strategy r = qb_range_default(QB_RANGE_MINMAX);
  qb_error err;
  QB_CHECK_MSG(qb_range_parse(text, &r, &err) == 0, "%s: %s", text, err.msg);
  return r;
}

/* Runs qb_range_choose, checks success and a valid, finite interval. */
static void choose(const qb_range_strategy* r, const qb_qscheme* s, const float* x, size_t n,
                   size_t row_len, float* lo, float* hi) {
  qb_error err;
  *lo = NAN;
  *hi = NAN;
  const int rc = qb_range_choose(r, s, x, n, row_len, lo, hi, &err);
  QB_CHECK_MSG(rc == 0, "kind %d n %zu: %s", (int)r->kind, n, err.msg);
  QB_CHECK_MSG(isfinite(*lo) && isfinite(*hi) && *lo <= *hi, "kind %d: [%g, %g]", (int)r->kind,
               (double)*lo, (double)*hi);
}

static void minmax_of(const float* x, size_t n, float* lo, float* hi) {
  *lo = *hi = x[0];
  for (size_t i = 1; i < n; i++) {
    *lo = fminf(*lo, x[i]);
    *hi = fmaxf(*hi, x[i]);
  }
}

/* x' = (float)(q - zp) * scale with the quantizer's own rule. */
static void fake_quant(const qb_qscheme* s, float lo, float hi, const float* x, size_t n,
                       float* y) {
  qb_qparams p;
  qb_error err;
  QB_CHECK_MSG(qb_qparams_from_range(s, lo, hi, &p, &err) == 0, "%s", err.msg);
  const float inv = 1.0f / p.scale;
  const int32_t qmin = qb_qscheme_qmin(s), qmax = qb_qscheme_qmax(s);
  for (size_t i = 0; i < n; i++) {
    const int32_t q = qb_quantize_one(x[i], p.scale, inv, p.zero_point, qmin, qmax, s->rounding);
    y[i] = (float)(q - p.zero_point) * p.scale;
  }
}

static double mse_of(const qb_qscheme* s, float lo, float hi, const float* x, size_t n) {
  float* y = malloc(n * sizeof *y);
  fake_quant(s, lo, hi, x, n, y);
  double acc = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double d = (double)x[i] - (double)y[i];
    acc += d * d;
  }
  free(y);
  return acc / (double)n;
}

/* Mean over rows of -sum softmax(x) * log softmax(x'), in double. */
static double ce_of(const qb_qscheme* s, float lo, float hi, const float* x, size_t n,
                    size_t len) {
  float* y = malloc(n * sizeof *y);
  fake_quant(s, lo, hi, x, n, y);
  double total = 0.0;
  for (size_t r = 0; r < n; r += len) {
    double mx = x[r], my = y[r], sx = 0.0, sy = 0.0, h = 0.0;
    for (size_t j = 0; j < len; j++) {
      mx = fmax(mx, x[r + j]);
      my = fmax(my, y[r + j]);
    }
    for (size_t j = 0; j < len; j++) {
      sx += exp(x[r + j] - mx);
      sy += exp(y[r + j] - my);
    }
    for (size_t j = 0; j < len; j++)
      h -= exp(x[r + j] - mx) / sx * (y[r + j] - my - log(sy));
    total += h;
  }
  free(y);
  return total / (double)(n / len);
}

static bool near(float a, float b, float tol) { return fabsf(a - b) <= tol; }

/* -------------------------------------------------------------- parse / str */

static void test_parse_str(void) {
  static const struct {
    const char* text;
    qb_range_kind kind;
  } ok[] = {{"minmax", QB_RANGE_MINMAX},         {"movavg", QB_RANGE_MOVAVG},
            {"percentile:99.9", QB_RANGE_PERCENTILE}, {"mse", QB_RANGE_MSE},
            {"entropy", QB_RANGE_ENTROPY},       {"crossentropy", QB_RANGE_CROSSENTROPY},
            {"percentile:100", QB_RANGE_PERCENTILE}, {"percentile:50.5", QB_RANGE_PERCENTILE},
            {"percentile:99.99", QB_RANGE_PERCENTILE}};
  char buf[64];
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    const qb_range_strategy r = parsed(ok[i].text);
    QB_CHECK_EQ_INT(r.kind, ok[i].kind);
    QB_CHECK_MSG(strcmp(qb_range_str(&r, buf, sizeof buf), ok[i].text) == 0, "%s -> %s",
                 ok[i].text, buf);
  }
  qb_range_strategy r = parsed("percentile:99.9");
  QB_CHECK(r.percentile == 99.9);
  /* Defaults are filled in by parse. */
  r = parsed("movavg");
  QB_CHECK(r.movavg_constant == 0.01f && r.movavg_batches == 8);
  QB_CHECK_EQ_INT(parsed("mse").grid, 100);
  QB_CHECK_EQ_INT(parsed("entropy").histogram_bins, 2048);
  /* A percentage %g cannot show still round-trips. */
  r = qb_range_default(QB_RANGE_PERCENTILE);
  r.percentile = 99.999999;
  qb_range_strategy back = parsed(qb_range_str(&r, buf, sizeof buf));
  QB_CHECK_MSG(back.percentile == r.percentile, "%s", buf);

  static const struct {
    const char* text;
    const char* must_say;
  } bad[] = {{"percentile", "missing"},          {"percentile:", "missing"},
             {"percentile:abc", "'abc'"},        {"percentile:99x", "'99x'"},
             {"percentile:50", "(50, 100]"},     {"percentile:100.5", "(50, 100]"},
             {"percentile:-99", "'-99'"},        {"percentile:nan", "'nan'"},
             {"percentile: 99", "' 99'"},        {"percentile:0x60", "'0x60'"},        {"mse:3", "no parameter"},
             {"bogus", "minmax, movavg, percentile:P, mse, entropy, crossentropy"},
             {"", "unknown"},                    {"MinMax", "'MinMax'"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    qb_error err;
    memset(&err, 0, sizeof err);
    r = qb_range_default(QB_RANGE_MSE);
    QB_CHECK_MSG(qb_range_parse(bad[i].text, &r, &err) != 0, "'%s' accepted", bad[i].text);
    QB_CHECK_MSG(strstr(err.msg, bad[i].must_say) != NULL, "'%s': %s", bad[i].text, err.msg);
    QB_CHECK_MSG(bad[i].text[0] == '\0' || strstr(err.msg, bad[i].text) != NULL,
                 "message does not name '%s': %s", bad[i].text, err.msg);
    QB_CHECK_EQ_INT(r.kind, QB_RANGE_MSE); /* untouched on error */
  }
  qb_error err;
  QB_CHECK(qb_range_parse(NULL, &r, &err) != 0);
  QB_CHECK(qb_range_parse("bogus", &r, NULL) != 0); /* NULL err tolerated */
}

/* ------------------------------------------------------------- hand-worked */

static void test_minmax_percentile(void) {
  const qb_qscheme s = scheme(8, true, QB_AFFINE, QB_ROUND_DIV);
  const float x[] = {0.5f, -3.0f, 2.0f, 7.25f, -1.0f};
  float lo, hi;
  choose(&(qb_range_strategy){.kind = QB_RANGE_MINMAX}, &s, x, 5, 0, &lo, &hi);
  QB_CHECK_EQ_F32(lo, -3.0f);
  QB_CHECK_EQ_F32(hi, 7.25f);

  /* 0..100 shuffled (101 values): q(1) at index 1, q(99) at index 99. */
  float v[101];
  for (int i = 0; i <= 100; i++) v[i] = (float)((i * 37) % 101);
  choose(&(qb_range_strategy){.kind = QB_RANGE_PERCENTILE, .percentile = 99}, &s, v, 101, 0, &lo,
         &hi);
  QB_CHECK_EQ_F32(lo, 1.0f);
  QB_CHECK_EQ_F32(hi, 99.0f);
  choose(&(qb_range_strategy){.kind = QB_RANGE_PERCENTILE, .percentile = 100}, &s, v, 101, 0, &lo,
         &hi);
  QB_CHECK_EQ_F32(lo, 0.0f);
  QB_CHECK_EQ_F32(hi, 100.0f);
  /* 0..10 at P=90: positions 10*0.1 = 1 and 10*0.9 = 9. */
  float w[11];
  for (int i = 0; i <= 10; i++) w[i] = (float)(10 - i);
  choose(&(qb_range_strategy){.kind = QB_RANGE_PERCENTILE, .percentile = 90}, &s, w, 11, 0, &lo,
         &hi);
  QB_CHECK(near(lo, 1.0f, 1e-6f) && near(hi, 9.0f, 1e-6f));
  /* Interpolation: {0, 10, 20, 30} at P=75: positions 3*0.25 = 0.75 -> 7.5 and
   * 3*0.75 = 2.25 -> 22.5 (numpy.percentile gives the same). */
  const float z[] = {30, 0, 20, 10};
  choose(&(qb_range_strategy){.kind = QB_RANGE_PERCENTILE, .percentile = 75}, &s, z, 4, 0, &lo,
         &hi);
  QB_CHECK_MSG(near(lo, 7.5f, 1e-5f) && near(hi, 22.5f, 1e-5f), "[%g, %g]", (double)lo,
               (double)hi);
  /* {10, 0, 20} at P=60: positions 0.8 -> 8 and 1.2 -> 12. */
  const float t[] = {10, 0, 20};
  choose(&(qb_range_strategy){.kind = QB_RANGE_PERCENTILE, .percentile = 60}, &s, t, 3, 0, &lo,
         &hi);
  QB_CHECK_MSG(near(lo, 8.0f, 1e-5f) && near(hi, 12.0f, 1e-5f), "[%g, %g]", (double)lo,
               (double)hi);
}

static void test_movavg(void) {
  const qb_qscheme s = scheme(8, false, QB_AFFINE, QB_ROUND_DIV);
  /* 7 values in 3 batches of 2, 2, 3 (remainder in the last):
   *   [1,3] -> [1, 3]
   *   [0,5] -> lo 1 + c(0 - 1), hi 3 + c(5 - 3)
   *   [2,4,10] -> lo + c(2 - lo), hi + c(10 - hi)
   * c = 0.5: [0.5, 4] then [1.25, 7] (exact in float). */
  const float x[] = {1, 3, 0, 5, 2, 4, 10};
  qb_range_strategy r = qb_range_default(QB_RANGE_MOVAVG);
  r.movavg_batches = 3;
  r.movavg_constant = 0.5f;
  float lo, hi;
  choose(&r, &s, x, 7, 0, &lo, &hi);
  QB_CHECK_EQ_F32(lo, 1.25f);
  QB_CHECK_EQ_F32(hi, 7.0f);
  /* c = 0.01: lo 0.99 then 0.99 + 0.01 * 1.01 = 1.0001; hi 3.02 then 3.02 + 0.0698. */
  r.movavg_constant = 0.01f;
  choose(&r, &s, x, 7, 0, &lo, &hi);
  QB_CHECK_MSG(near(lo, 1.0001f, 1e-6f) && near(hi, 3.0898f, 1e-6f), "[%.7g, %.7g]", (double)lo,
               (double)hi);
  /* Fewer values than batches: chunks of one. {4, 2}, c = 0.5 -> [3, 3]. */
  r = qb_range_default(QB_RANGE_MOVAVG);
  r.movavg_constant = 0.5f;
  choose(&r, &s, (const float[]){4, 2}, 2, 0, &lo, &hi);
  QB_CHECK_EQ_F32(lo, 3.0f);
  QB_CHECK_EQ_F32(hi, 3.0f);
}

/* --------------------------------------------------------------- properties */

/* The alpha the search should pick, recomputed here: argmin over k = grid..1 of
 * mse(k/grid * [min, max]), first (widest) on ties. */
static void brute_force_mse(const qb_qscheme* s, int grid, const float* x, size_t n, float* lo,
                            float* hi) {
  float min, max;
  minmax_of(x, n, &min, &max);
  double best = INFINITY;
  for (int k = grid; k >= 1; k--) {
    const float a = (float)k / (float)grid, l = a * min, h = a * max;
    const double e = mse_of(s, l, h, x, n);
    if (e < best) {
      best = e;
      *lo = l;
      *hi = h;
    }
  }
}

static void test_mse_never_worse(void) {
  const int bits[] = {8, 4, 2};
  const size_t n = 777;
  float* x = malloc(n * sizeof *x);
  const qb_range_strategy r = qb_range_default(QB_RANGE_MSE);
  int strictly_better = 0;
  for (int trial = 0; trial < 4; trial++) {
    for (size_t i = 0; i < n; i++)
      x[i] = trial % 2 ? qb_rand_normal() * 2.0f + 0.3f : qb_rand_uniform(-1.0f, 5.0f);
    if (trial == 3) x[qb_rand_below((uint32_t)n)] = 40.0f;
    float min, max;
    minmax_of(x, n, &min, &max);
    for (size_t b = 0; b < 3; b++) {
      for (int sym = 0; sym < 2; sym++) {
        for (int mode = 0; mode < 2; mode++) {
          const qb_qscheme s = scheme(bits[b], sym == 0, sym ? QB_SYMMETRIC : QB_AFFINE,
                                      (qb_round_mode)mode);
          float lo, hi, elo = 0, ehi = 0;
          choose(&r, &s, x, n, 0, &lo, &hi);
          const double e = mse_of(&s, lo, hi, x, n), e0 = mse_of(&s, min, max, x, n);
          QB_CHECK_MSG(e <= e0, "bits %d sym %d mode %d: mse %.17g > minmax %.17g", bits[b], sym,
                       mode, e, e0);
          strictly_better += e < e0;
          /* At 2 bits a gaussian's min-max grid (3 steps over ~7 sigma) is far from
           * optimal: clipping must be found. */
          if (bits[b] == 2 && trial % 2)
            QB_CHECK_MSG(e < e0, "2-bit gaussian: mse %.17g not below minmax", e);
          QB_CHECK(lo >= min && hi <= max);
          brute_force_mse(&s, r.grid, x, n, &elo, &ehi);
          QB_CHECK_MSG(lo == elo && hi == ehi, "bits %d: [%g, %g], expected [%g, %g]", bits[b],
                       (double)lo, (double)hi, (double)elo, (double)ehi);
        }
      }
    }
  }
  /* At 2 and 4 bits clipping pays on these tensors: the search must find it. */
  printf("mse: strictly better than minmax in %d of 48 cases\n", strictly_better);
  free(x);
}

/* Ties keep the widest range: values so small that every alpha's scale is the
 * floor 2^-23 and the zero point is the same, so every candidate has the same
 * error; the answer must be alpha = 1, [min, max] itself. */
static void test_ties_keep_widest(void) {
  const float x[] = {0.0f, 1e-9f, 5e-10f, 2e-10f};
  const qb_qscheme s = scheme(8, false, QB_AFFINE, QB_ROUND_DIV);
  float lo, hi;
  choose(&(qb_range_strategy){.kind = QB_RANGE_MSE, .grid = 100}, &s, x, 4, 0, &lo, &hi);
  QB_CHECK_EQ_F32(lo, 0.0f);
  QB_CHECK_EQ_F32(hi, 1e-9f);
  choose(&(qb_range_strategy){.kind = QB_RANGE_CROSSENTROPY, .grid = 100}, &s, x, 4, 2, &lo, &hi);
  QB_CHECK_EQ_F32(lo, 0.0f);
  QB_CHECK_EQ_F32(hi, 1e-9f);
}

/* One outlier among gaussian values at 4 bits. MSE clips it only when that pays:
 * clipping a value v to h costs (v - h)^2 / n, so an outlier of 50 among 10000
 * values is clipped (the bulk's rounding error drops far more), while an outlier
 * of 1000 among 1000 values is kept (clipping it alone would cost ~1000). */
static void test_mse_clips_outlier(void) {
  const size_t n = 10000;
  float* x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; i++) x[i] = qb_rand_normal();
  x[n / 2] = 50.0f;
  const qb_qscheme schemes[] = {scheme(4, true, QB_AFFINE, QB_ROUND_DIV),
                                scheme(4, true, QB_SYMMETRIC, QB_ROUND_DIV)};
  const qb_range_strategy r = qb_range_default(QB_RANGE_MSE);
  float lo, hi;
  for (size_t s = 0; s < 2; s++) {
    choose(&r, &schemes[s], x, n, 0, &lo, &hi);
    QB_CHECK_MSG(hi < 25.0f, "4-bit mse range [%g, %g] keeps the outlier 50", (double)lo,
                 (double)hi);
  }
  x[n / 2] = x[0];
  x[500] = 1000.0f;
  choose(&r, &schemes[0], x, 1000, 0, &lo, &hi);
  QB_CHECK_EQ_F32(hi, 1000.0f);
  free(x);
}

/* Normal quantile by bisection on Phi(z) = erfc(-z / sqrt 2) / 2 (to ~1e-12). */
static double normal_quantile(double u) {
  double a = -40.0, b = 40.0;
  for (int it = 0; it < 60; it++) {
    const double m = 0.5 * (a + b);
    if (0.5 * erfc(-m / sqrt(2.0)) < u) a = m;
    else b = m;
  }
  return 0.5 * (a + b);
}

/* T = max(-lo, hi) of the entropy range, with the common checks. */
static float entropy_t(const qb_qscheme* s, const float* x, size_t n, float min, float max) {
  float lo, hi;
  choose(&(qb_range_strategy){.kind = QB_RANGE_ENTROPY, .histogram_bins = 2048}, s, x, n, 0, &lo,
         &hi);
  const float t = fmaxf(-lo, hi);
  /* Both ends are the same threshold, unless the data end first. */
  QB_CHECK_MSG(lo == fmaxf(min, -t) && hi == fminf(max, t), "[%g, %g]", (double)lo, (double)hi);
  return t;
}

/* KL calibration worked by hand on 4 bins of width 1 (amax = 4). |x| histogram
 * [8, 4, 2, 1], whose zero bin takes its neighbour's count: h = [4, 4, 2, 1], N = 11.
 * A symmetric 2-bit grid has 2 levels a side, so thresholds i = 2, 3, 4 bins are
 * tried (P, Q unnormalized, then each divided by its sum):
 *   i=4: P = [4,4,2,1]/11, Q = [4,4,1.5,1.5]/11 (chunks {0,1},{2,3})  KL = 0.01545
 *   i=3: P = [4,4,3]/11,   Q = [4,3,3]/10       (chunks {0},{1,2})    KL = 0.00930
 *   i=2: P = [4,7]/11,     Q = [4,4]/8          (chunks {0},{1})      KL = 0.03767
 * so T = 3 and the range is [max(min, -3), min(max, 3)]. */
static void test_entropy_by_hand(void) {
  const float x[] = {-0.5f, -0.5f, -0.5f, -0.5f, 0.5f, 0.5f, 0.5f, 0.5f,
                     -1.5f, -1.5f, 1.5f,  1.5f,  -2.5f, 2.5f, 4.0f};
  const size_t n = sizeof x / sizeof x[0];
  const qb_range_strategy r = {.kind = QB_RANGE_ENTROPY, .histogram_bins = 4};
  const qb_qscheme s2 = scheme(2, true, QB_SYMMETRIC, QB_ROUND_DIV);
  float lo, hi;
  choose(&r, &s2, x, n, 0, &lo, &hi);
  QB_CHECK_EQ_F32(lo, -2.5f);
  QB_CHECK_EQ_F32(hi, 3.0f);
  /* The same magnitudes all positive: symmetric s2 still has 2 levels on [0, T],
   * an affine 2-bit grid has 4 = all the bins, so it keeps [min, max]. */
  float y[sizeof x / sizeof x[0]];
  for (size_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
  choose(&r, &s2, y, n, 0, &lo, &hi);
  QB_CHECK_EQ_F32(lo, 0.5f);
  QB_CHECK_EQ_F32(hi, 3.0f);
  const qb_qscheme a2 = scheme(2, false, QB_AFFINE, QB_ROUND_DIV);
  choose(&r, &a2, y, n, 0, &lo, &hi);
  QB_CHECK_EQ_F32(lo, 0.5f);
  QB_CHECK_EQ_F32(hi, 4.0f);
}

/* KL calibration of gaussians. At 8 bits it clips only the sparse far tail, and on
 * a random sample it sometimes keeps everything (T = amax; about one seed in ten
 * at 200000 values, an independent Python port of the algorithm agrees), so the
 * "T < amax" claim is checked on an exact gaussian (values at the quantiles
 * (i + 1/2) / n, no sampling noise), the looser ones on a random sample. */
static void test_entropy_gaussian(void) {
  const size_t n = 200000;
  const double sigma = 1.5;
  float* x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n / 2; i++) {
    x[i] = (float)(sigma * normal_quantile((i + 0.5) / (double)n));
    x[n - 1 - i] = -x[i];
  }
  const qb_qscheme s8 = scheme(8, true, QB_SYMMETRIC, QB_ROUND_DIV);
  float min, max;
  minmax_of(x, n, &min, &max);
  float t = entropy_t(&s8, x, n, min, max);
  printf("entropy: exact gaussian sigma %.1f amax %.3f -> T %.3f (%.2f sigma)\n", sigma,
         (double)max, (double)t, t / sigma);
  QB_CHECK_MSG(t < max && t > 2.0 * sigma, "T %g, amax %g", (double)t, (double)max);

  double s2 = 0;
  for (size_t i = 0; i < n; i++) {
    x[i] = qb_rand_normal() * (float)sigma;
    s2 += (double)x[i] * x[i];
  }
  const double sd = sqrt(s2 / n);
  minmax_of(x, n, &min, &max);
  const float amax = fmaxf(-min, max);
  t = entropy_t(&s8, x, n, min, max);
  printf("entropy: random gaussian sigma %.3f amax %.3f -> T %.3f (%.2f sigma)\n", sd,
         (double)amax, (double)t, t / sd);
  QB_CHECK_MSG(t <= amax && t > 2.0 * sd, "T %g, amax %g, sigma %g", (double)t, (double)amax, sd);
  /* Data on both sides: an affine grid has 128 levels a side too. */
  const qb_qscheme a8 = scheme(8, false, QB_AFFINE, QB_ROUND_DIV);
  QB_CHECK_EQ_F32(entropy_t(&a8, x, n, min, max), t);
  /* 8 levels a side instead of 128: clips harder (about 3.5 sigma instead of 4.4). */
  const qb_qscheme s4 = scheme(4, true, QB_SYMMETRIC, QB_ROUND_DIV);
  const float t4 = entropy_t(&s4, x, n, min, max);
  QB_CHECK_MSG(t4 < t && t4 > 2.0 * sd, "4-bit T %g, 8-bit T %g", (double)t4, (double)t);
  free(x);
}

static void test_entropy_one_sided(void) {
  const size_t n = 100000;
  float* x = malloc(n * sizeof *x);
  /* ReLU output (half zeros), affine u8: [>= 0, T]. */
  for (size_t i = 0; i < n; i++) x[i] = fmaxf(qb_rand_normal(), 0.0f);
  float min, max, lo, hi;
  minmax_of(x, n, &min, &max);
  const qb_range_strategy r = qb_range_default(QB_RANGE_ENTROPY);
  const qb_qscheme u8 = scheme(8, false, QB_AFFINE, QB_ROUND_DIV);
  choose(&r, &u8, x, n, 0, &lo, &hi);
  QB_CHECK_MSG(lo >= 0.0f && hi > 0.0f && hi <= max, "relu: [%g, %g]", (double)lo, (double)hi);
  /* The zero spike does not drive T: only the far tail is clipped (T was 1.6 when
   * the zero bin counted, clipping 6 % of the values), at 4 bits as well. */
  QB_CHECK_MSG(hi > 3.0f, "relu u8: T %g, amax %g", (double)hi, (double)max);
  float lo4, hi4;
  choose(&r, &(qb_qscheme){4, false, false, QB_AFFINE, QB_ROUND_DIV}, x, n, 0, &lo4, &hi4);
  QB_CHECK_MSG(hi4 > 2.5f && hi4 <= max, "relu u4: T %g, amax %g", (double)hi4, (double)max);
  /* Levels on the data's side decide the merge: an affine u4 grid puts all 16
   * levels on [0, max] for one-sided data, as many as a symmetric s5 grid has on
   * one side, so the two searches are identical (s4 has 8). */
  float lo_a, hi_a, lo_b, hi_b;
  const qb_qscheme u4 = scheme(4, false, QB_AFFINE, QB_ROUND_DIV);
  const qb_qscheme s5 = scheme(5, true, QB_SYMMETRIC, QB_ROUND_DIV);
  choose(&r, &u4, x, n, 0, &lo_a, &hi_a);
  choose(&r, &s5, x, n, 0, &lo_b, &hi_b);
  QB_CHECK_EQ_F32(hi_a, hi_b);
  /* All values far from zero, in the top bins: nothing to clip. */
  for (size_t i = 0; i < n; i++) x[i] = qb_rand_uniform(0.95f, 1.0f);
  minmax_of(x, n, &min, &max);
  choose(&r, &u8, x, n, 0, &lo, &hi);
  QB_CHECK_MSG(lo == min && hi == max, "[%g, %g] of [%g, %g]", (double)lo, (double)hi,
               (double)min, (double)max);
  /* 16 bits: finer than the histogram, nothing to choose: min-max. */
  for (size_t i = 0; i < n; i++) x[i] = qb_rand_normal();
  minmax_of(x, n, &min, &max);
  const qb_qscheme s16 = scheme(16, true, QB_SYMMETRIC, QB_ROUND_DIV);
  choose(&r, &s16, x, n, 0, &lo, &hi);
  QB_CHECK(lo == min && hi == max);
  free(x);
}

static void test_crossentropy(void) {
  const size_t len = 10, rows = 300, n = len * rows;
  float* x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; i++) x[i] = qb_rand_normal() * 3.0f + (i % len == 3 ? 4.0f : 0.0f);
  x[17] = 30.0f; /* one confident row */
  float min, max;
  minmax_of(x, n, &min, &max);
  const qb_range_strategy r = qb_range_default(QB_RANGE_CROSSENTROPY);
  const int bits[] = {8, 4, 3};
  for (size_t b = 0; b < 3; b++) {
    const qb_qscheme s = scheme(bits[b], true, QB_AFFINE, QB_ROUND_MUL_RECIP);
    float lo, hi;
    choose(&r, &s, x, n, len, &lo, &hi);
    QB_CHECK_MSG(lo >= min && hi <= max, "[%g, %g] outside [%g, %g]", (double)lo, (double)hi,
                 (double)min, (double)max);
    /* Recomputed independently (summation order may differ): 1e-12 relative slack. */
    const double ce = ce_of(&s, lo, hi, x, n, len), ce0 = ce_of(&s, min, max, x, n, len);
    QB_CHECK_MSG(ce <= ce0 * (1.0 + 1e-12), "bits %d: CE %.17g > minmax CE %.17g", bits[b], ce,
                 ce0);
    /* ... and is the best of the grid (recomputed here for every alpha). */
    double best = INFINITY;
    for (int k = r.grid; k >= 1; k--) {
      const float a = (float)k / (float)r.grid;
      best = fmin(best, ce_of(&s, a * min, a * max, x, n, len));
    }
    QB_CHECK_MSG(ce <= best * (1.0 + 1e-12), "bits %d: CE %.17g, grid best %.17g", bits[b], ce,
                 best);
    /* The chosen range is one of the grid's alphas. */
    const double alpha = (double)hi / (double)max;
    QB_CHECK_MSG(fabs(alpha * r.grid - nearbyint(alpha * r.grid)) < 1e-3, "alpha %g", alpha);
  }
  /* n = 25 is not a whole number of rows of 10. */
  qb_error err;
  float lo, hi;
  QB_CHECK(qb_range_choose(&r, &(qb_qscheme){8, true, false, QB_AFFINE, QB_ROUND_DIV}, x, 25, 10,
                           &lo, &hi, &err) != 0);
  QB_CHECK_MSG(strstr(err.msg, "25") && strstr(err.msg, "10"), "%s", err.msg);
  /* row_len 0: one row of n. */
  choose(&r, &(qb_qscheme){8, true, false, QB_AFFINE, QB_ROUND_DIV}, x, 25, 0, &lo, &hi);
  free(x);
}

/* ------------------------------------------------------------- degenerate */

static void test_degenerate(void) {
  static const char* names[] = {"minmax", "movavg", "percentile:99", "mse", "entropy",
                                "crossentropy"};
  const qb_qscheme schemes[] = {scheme(8, false, QB_AFFINE, QB_ROUND_DIV),
                                scheme(4, true, QB_SYMMETRIC, QB_ROUND_MUL_RECIP),
                                scheme(2, true, QB_AFFINE, QB_ROUND_DIV)};
  const float consts[] = {0.0f, 3.5f, -2.0f, 1e-30f};
  float x[64];
  for (size_t k = 0; k < 6; k++) {
    const qb_range_strategy r = parsed(names[k]);
    for (size_t s = 0; s < 3; s++) {
      for (size_t c = 0; c < 4; c++) {
        for (size_t i = 0; i < 64; i++) x[i] = consts[c];
        for (size_t n = 1; n <= 64; n += 63) {
          float lo, hi;
          qb_qparams p;
          qb_error err;
          choose(&r, &schemes[s], x, n, 0, &lo, &hi);
          QB_CHECK_MSG(qb_qparams_from_range(&schemes[s], lo, hi, &p, &err) == 0, "%s", err.msg);
          /* Nothing to clip: a constant's range is the constant, for every strategy
           * but the alpha searches, which may shrink it toward zero. */
          if (r.kind != QB_RANGE_MSE && r.kind != QB_RANGE_CROSSENTROPY)
            QB_CHECK_MSG(lo == consts[c] && hi == consts[c], "%s const %g: [%g, %g]", names[k],
                         (double)consts[c], (double)lo, (double)hi);
        }
      }
    }
  }
  /* Invalid strategy parameters are errors, not crashes. */
  qb_error err;
  float lo, hi;
  const qb_qscheme s = schemes[0];
  qb_range_strategy r = qb_range_default(QB_RANGE_MSE);
  r.grid = 0;
  QB_CHECK(qb_range_choose(&r, &s, x, 4, 0, &lo, &hi, &err) != 0);
  r = qb_range_default(QB_RANGE_PERCENTILE);
  r.percentile = 20;
  QB_CHECK(qb_range_choose(&r, &s, x, 4, 0, &lo, &hi, &err) != 0);
  r = qb_range_default(QB_RANGE_ENTROPY);
  r.histogram_bins = 0;
  QB_CHECK(qb_range_choose(&r, &s, x, 4, 0, &lo, &hi, &err) != 0);
  r = qb_range_default(QB_RANGE_MOVAVG);
  r.movavg_batches = 0;
  QB_CHECK(qb_range_choose(&r, &s, x, 4, 0, &lo, &hi, &err) != 0);
  QB_CHECK(qb_range_choose(&r, &s, x, 0, 0, &lo, &hi, &err) != 0);
}

int main(void) {
  qb_test_seed(20240611);
  test_parse_str();
  test_minmax_percentile();
  test_movavg();
  test_mse_never_worse();
  test_ties_keep_widest();
  test_mse_clips_outlier();
  test_entropy_by_hand();
  test_entropy_gaussian();
  test_entropy_one_sided();
  test_crossentropy();
  test_degenerate();
  return qb_test_finish("test_range");
}
