/* Range strategies (see qb_range.h for the list). Each strategy is one short
 * function taking the values and returning [lo, hi]; qb_range_choose validates and
 * dispatches.
 *
 * Fake quantization (mse, crossentropy) is the real quantizer's rule, not an
 * approximation of it: qparams from qb_qparams_from_range, q = qb_quantize_one with
 * the scheme's rounding mode, then x' = (float)(q - zp) * scale as the dequantize
 * kernels compute it. So the alpha = 1 candidate is min-max exactly, and "mse is
 * never worse than min-max" holds exactly, not within a tolerance. */
#include "qb_range.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_ref_math.h"

/* ------------------------------------------------------------------ names */

static const struct {
  qb_range_kind kind;
  const char* name;
} kNames[] = {
    {QB_RANGE_MINMAX, "minmax"},   {QB_RANGE_MOVAVG, "movavg"},
    {QB_RANGE_PERCENTILE, "percentile"}, {QB_RANGE_MSE, "mse"},
    {QB_RANGE_ENTROPY, "entropy"}, {QB_RANGE_CROSSENTROPY, "crossentropy"},
};
#define NUM_NAMES (sizeof kNames / sizeof kNames[0])
#define VALID_NAMES "minmax, movavg, percentile:P, mse, entropy, crossentropy"

/* Defaults: percentile 99.99 (a common choice for activations), movavg c = 0.01
 * (PyTorch's averaging_constant) over 8 chunks, 100 alphas, 2048 histogram bins
 * (TensorRT's). Every field is filled whatever the kind, so a strategy can be
 * switched by changing `kind` alone. */
qb_range_strategy qb_range_default(qb_range_kind kind) {
  qb_range_strategy r;
  memset(&r, 0, sizeof r);
  r.kind = kind;
  r.percentile = 99.99;
  r.movavg_constant = 0.01f;
  r.movavg_batches = 8;
  r.grid = 100;
  r.histogram_bins = 2048;
  return r;
}

static bool percentile_valid(double p) { return p > 50.0 && p <= 100.0; }

/* "P" of "percentile:P": a plain decimal number (no sign, no leading space), all of
 * the text consumed, 50 < P <= 100 (NaN fails the comparison). */
static int parse_percentile(const char* text, const char* arg, double* p, qb_error* err) {
  if (*arg == '\0')
    return qb_fail(err, "range '%s': missing percentage, expected percentile:P with P in "
                        "(50, 100], e.g. percentile:99.9", text);
  char* end = NULL;
  const double v = strtod(arg, &end);
  const bool starts_ok = (*arg >= '0' && *arg <= '9') || *arg == '.';
  const bool decimal = strspn(arg, "0123456789.eE+-") == strlen(arg); /* no hex, inf */
  if (!starts_ok || !decimal || end == arg || *end != '\0')
    return qb_fail(err, "range '%s': '%s' is not a number, expected percentile:P with P in "
                        "(50, 100], e.g. percentile:99.9", text, arg);
  if (!percentile_valid(v))
    return qb_fail(err, "range '%s': percentile %g is outside (50, 100]", text, v);
  *p = v;
  return 0;
}

int qb_range_parse(const char* text, qb_range_strategy* out, qb_error* err) {
  if (!text) return qb_fail(err, "range strategy missing, expected one of: " VALID_NAMES);
  const char* colon = strchr(text, ':');
  const size_t name_len = colon ? (size_t)(colon - text) : strlen(text);
  for (size_t i = 0; i < NUM_NAMES; i++) {
    if (strlen(kNames[i].name) != name_len || strncmp(text, kNames[i].name, name_len) != 0)
      continue;
    qb_range_strategy r = qb_range_default(kNames[i].kind);
    if (r.kind == QB_RANGE_PERCENTILE) {
      if (!colon)
        return qb_fail(err, "range '%s': missing percentage, expected percentile:P with P "
                            "in (50, 100], e.g. percentile:99.9", text);
      if (parse_percentile(text, colon + 1, &r.percentile, err)) return -1;
    } else if (colon) {
      return qb_fail(err, "range '%s': '%s' takes no parameter", text, kNames[i].name);
    }
    *out = r;
    return 0;
  }
  return qb_fail(err, "unknown range strategy '%s', expected one of: " VALID_NAMES, text);
}

/* P is printed with %g; if six significant digits do not give P back (99.999999),
 * with %.17g, so that the text always parses back to the same strategy. */
const char* qb_range_str(const qb_range_strategy* r, char* buf, unsigned len) {
  if (len == 0) return buf;
  const char* name = "unknown";
  for (size_t i = 0; i < NUM_NAMES; i++)
    if (kNames[i].kind == r->kind) name = kNames[i].name;
  if (r->kind != QB_RANGE_PERCENTILE) {
    snprintf(buf, len, "%s", name);
    return buf;
  }
  char num[40];
  snprintf(num, sizeof num, "%g", r->percentile);
  if (strtod(num, NULL) != r->percentile) snprintf(num, sizeof num, "%.17g", r->percentile);
  snprintf(buf, len, "%s:%s", name, num);
  return buf;
}

/* ------------------------------------------------------------- minmax/movavg */

static void range_minmax(const float* x, size_t n, float* lo, float* hi) {
  float a = x[0], b = x[0];
  for (size_t i = 1; i < n; i++) {
    a = x[i] < a ? x[i] : a;
    b = x[i] > b ? x[i] : b;
  }
  *lo = a;
  *hi = b;
}

/* PyTorch's MovingAverageMinMaxObserver fed the tensor as `batches` consecutive
 * chunks of n / batches values (the last chunk also takes the n % batches
 * remainder; with fewer values than batches, n chunks of one value):
 *   r_0 = (min, max) of chunk 0;   r_b = r_{b-1} + c * (range(chunk b) - r_{b-1})
 * in float, both ends independently. */
static void range_movavg(const float* x, size_t n, int batches, float c, float* lo, float* hi) {
  const size_t nb = n < (size_t)batches ? n : (size_t)batches;
  const size_t chunk = n / nb;
  range_minmax(x, chunk, lo, hi);
  for (size_t b = 1; b < nb; b++) {
    const size_t start = b * chunk, len = (b + 1 == nb) ? n - start : chunk;
    float blo, bhi;
    range_minmax(x + start, len, &blo, &bhi);
    *lo = *lo + c * (blo - *lo);
    *hi = *hi + c * (bhi - *hi);
  }
}

/* -------------------------------------------------------------- percentile */

static int cmp_float(const void* a, const void* b) {
  const float x = *(const float*)a, y = *(const float*)b;
  return (x > y) - (x < y);
}

/* numpy.percentile(method="linear") on sorted s[0..n-1]: position h = (n-1) q/100,
 * value = s[floor h] + (h - floor h) * (s[floor h + 1] - s[floor h]), evaluated in
 * double as numpy's _lerp does (from the upper end when the fraction >= 0.5, which
 * keeps the result monotone and exact at the ends). */
static float quantile_sorted(const float* s, size_t n, double q) {
  const double h = (double)(n - 1) * q / 100.0;
  size_t k = (size_t)floor(h);
  if (k >= n - 1) return s[n - 1];
  const double t = h - (double)k, a = s[k], b = s[k + 1], d = b - a;
  return (float)(t >= 0.5 ? b - d * (1.0 - t) : a + d * t);
}

/* [q(100 - P), q(P)]: both tails clipped by the same share of values. */
static int range_percentile(const float* x, size_t n, double p, float* lo, float* hi,
                            qb_error* err) {
  float* s = malloc(n * sizeof *s);
  if (!s) return qb_fail(err, "percentile: out of memory for %zu values", n);
  memcpy(s, x, n * sizeof *s);
  qsort(s, n, sizeof *s, cmp_float);
  *lo = quantile_sorted(s, n, 100.0 - p);
  *hi = quantile_sorted(s, n, p);
  free(s);
  return 0;
}

/* ----------------------------------------------------------- fake quantize */

typedef struct {
  float scale, inv_scale;
  int32_t zp, qmin, qmax;
  qb_round_mode mode;
} fake_quant;

static int fake_quant_init(const qb_qscheme* s, float lo, float hi, fake_quant* f,
                           qb_error* err) {
  qb_qparams p;
  if (qb_qparams_from_range(s, lo, hi, &p, err)) return -1;
  f->scale = p.scale;
  f->inv_scale = 1.0f / p.scale; /* as the quantizer forms it for QB_ROUND_MUL_RECIP */
  f->zp = p.zero_point;
  f->qmin = qb_qscheme_qmin(s);
  f->qmax = qb_qscheme_qmax(s);
  f->mode = s->rounding;
  return 0;
}

/* x' = dequantize(quantize(x)) = (float)(q - zp) * scale. */
static inline float fake_quant_one(const fake_quant* f, float x) {
  const int32_t q = qb_quantize_one(x, f->scale, f->inv_scale, f->zp, f->qmin, f->qmax, f->mode);
  return (float)(q - f->zp) * f->scale;
}

/* Candidate k of the alpha grid: alpha = k / grid applied to both ends, in float.
 * k == grid gives alpha = 1.0f exactly, i.e. [min, max] itself. */
static void alpha_range(float min, float max, int k, int grid, float* lo, float* hi) {
  const float alpha = (float)k / (float)grid;
  *lo = alpha * min;
  *hi = alpha * max;
}

/* ---------------------------------------------------------------------- mse */

/* MSE = (1/n) sum_i (x_i - x'_i)^2, accumulated in double in index order. */
static double fake_quant_mse(const fake_quant* f, const float* x, size_t n) {
  double acc = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double d = (double)x[i] - (double)fake_quant_one(f, x[i]);
    acc += d * d;
  }
  return acc / (double)n;
}

/* argmin over alpha = grid/grid, (grid-1)/grid, ..., 1/grid of MSE(alpha*[min,max]).
 * Scanning from alpha = 1 down and replacing only on a strictly smaller error keeps
 * the widest range on ties. Cost: grid * n quantizations. */
static int range_mse(const qb_range_strategy* r, const qb_qscheme* s, const float* x, size_t n,
                     float* lo, float* hi, qb_error* err) {
  float min, max;
  range_minmax(x, n, &min, &max);
  double best = INFINITY;
  for (int k = r->grid; k >= 1; k--) {
    float a, b;
    fake_quant f;
    alpha_range(min, max, k, r->grid, &a, &b);
    if (fake_quant_init(s, a, b, &f, err)) return -1;
    const double e = fake_quant_mse(&f, x, n);
    if (e < best) {
      best = e;
      *lo = a;
      *hi = b;
    }
  }
  return 0;
}

/* ------------------------------------------------------------- crossentropy */

/* Row-wise softmax p = softmax(x_row), stably: p_j = exp(x_j - m) / sum_k exp(x_k - m)
 * with m = max_k x_k, in double. */
static void softmax_row(const float* x, size_t len, double* p) {
  double m = x[0], sum = 0.0;
  for (size_t j = 1; j < len; j++) m = x[j] > m ? x[j] : m;
  for (size_t j = 0; j < len; j++) sum += (p[j] = exp((double)x[j] - m));
  for (size_t j = 0; j < len; j++) p[j] /= sum;
}

/* H(p, q) = -sum_j p_j log q_j with q = softmax(y), using the stable log-softmax
 * log q_j = y_j - m - log(sum_k exp(y_k - m)), m = max_k y_k, in double. */
static double cross_entropy_row(const double* p, const float* y, size_t len) {
  double m = y[0], sum = 0.0, h = 0.0;
  for (size_t j = 1; j < len; j++) m = y[j] > m ? y[j] : m;
  for (size_t j = 0; j < len; j++) sum += exp((double)y[j] - m);
  const double log_sum = log(sum);
  for (size_t j = 0; j < len; j++) h -= p[j] * ((double)y[j] - m - log_sum);
  return h;
}

/* Mean over the n / len rows of H(softmax(x_row), softmax(fq(x_row))). p holds
 * softmax(x) for all rows, y is scratch for one fake-quantized row. */
static double fake_quant_ce(const fake_quant* f, const float* x, const double* p, size_t n,
                            size_t len, float* y) {
  double acc = 0.0;
  for (size_t r0 = 0; r0 < n; r0 += len) {
    for (size_t j = 0; j < len; j++) y[j] = fake_quant_one(f, x[r0 + j]);
    acc += cross_entropy_row(p + r0, y, len);
  }
  return acc / (double)(n / len);
}

/* As range_mse, with the mean cross-entropy as the objective. Cost: grid * n
 * quantizations and exponentials; memory: n doubles for softmax(x). */
static int range_crossentropy(const qb_range_strategy* r, const qb_qscheme* s, const float* x,
                              size_t n, size_t row_len, float* lo, float* hi, qb_error* err) {
  const size_t len = row_len ? row_len : n;
  if (n % len != 0)
    return qb_fail(err, "crossentropy: %zu values are not a whole number of rows of %zu", n,
                   len);
  double* p = malloc(n * sizeof *p);
  float* y = malloc(len * sizeof *y);
  int rc = 0;
  if (!p || !y) {
    rc = qb_fail(err, "crossentropy: out of memory for %zu values", n);
    goto done;
  }
  for (size_t r0 = 0; r0 < n; r0 += len) softmax_row(x + r0, len, p + r0);
  float min, max;
  range_minmax(x, n, &min, &max);
  double best = INFINITY;
  for (int k = r->grid; k >= 1 && rc == 0; k--) {
    float a, b;
    fake_quant f;
    alpha_range(min, max, k, r->grid, &a, &b);
    if ((rc = fake_quant_init(s, a, b, &f, err)) != 0) break;
    const double e = fake_quant_ce(&f, x, p, n, len, y);
    if (e < best) {
      best = e;
      *lo = a;
      *hi = b;
    }
  }
done:
  free(p);
  free(y);
  return rc;
}

/* ------------------------------------------------------------------ entropy */

/* q floor in KL(P || Q): where Q (normalized) is 0 but P is not, q is taken as
 * this value. P's and Q's non-empty bins differ only when the last chunk of Q is
 * empty and P's last bin holds just the folded tail; the floor makes such a
 * threshold very costly instead of infinitely so (TensorRT smooths instead). */
#define QB_KL_EPS 1e-12

/* Most thresholds evaluated: beyond this the candidates are strided. */
#define QB_KL_MAX_CANDIDATES 256

/* Quantization levels on the side of zero that the data use: an affine grid on
 * one-sided data (all >= 0 or all <= 0) puts all 2^bits levels on that side, any
 * other case (symmetric grid, or data on both sides) has 2^(bits-1). */
static size_t entropy_target_bins(const qb_qscheme* s, float min, float max) {
  const bool one_sided = min >= 0.0f || max <= 0.0f;
  const int b = (s->symmetry == QB_AFFINE && one_sided) ? s->bits : s->bits - 1;
  return (size_t)1 << b;
}

/* The histogram h[0..nbins-1] of |x| over [0, amax] (|x| == amax in the last bin)
 * and its prefix sums over bins [0, j), j = 0..nbins: counts, non-empty bins, and
 * h log h (0 log 0 = 0). All counts are integers, exact in double. */
typedef struct {
  size_t nbins, target;
  double total; /* N, the number of values */
  double *hist, *count, *nonempty, *hlogh;
} kl_histogram;

static int kl_histogram_init(kl_histogram* k, const float* x, size_t n, float amax, size_t nbins,
                             size_t target) {
  k->nbins = nbins;
  k->target = target;
  k->total = (double)n;
  k->hist = calloc(4 * (nbins + 1), sizeof *k->hist);
  if (!k->hist) return -1;
  k->count = k->hist + (nbins + 1);
  k->nonempty = k->count + (nbins + 1);
  k->hlogh = k->nonempty + (nbins + 1);
  for (size_t i = 0; i < n; i++) {
    const size_t b = (size_t)(fabs((double)x[i]) / (double)amax * (double)nbins);
    k->hist[b < nbins ? b : nbins - 1] += 1.0;
  }
  /* The first bin holds the exact zeros of ReLU outputs and padding (half of a
   * ReLU tensor): every grid represents 0 exactly, yet that spike dominates P and
   * drags T down (ReLU of N(0,1) at u8: T = 1.6 sigma, 6 % of values clipped).
   * As NVIDIA's calibrator does, the bin takes its neighbour's count instead. */
  if (nbins > 1) k->hist[0] = k->hist[1];
  k->total = 0.0;
  for (size_t j = 0; j < nbins; j++) k->total += k->hist[j];
  for (size_t j = 0; j < nbins; j++) {
    const double h = k->hist[j];
    k->count[j + 1] = k->count[j] + h;
    k->nonempty[j + 1] = k->nonempty[j] + (h > 0.0);
    k->hlogh[j + 1] = k->hlogh[j] + (h > 0.0 ? h * log(h) : 0.0);
  }
  return 0;
}

/* KL(P || Q) for threshold bin i (T = i * amax / nbins):
 *   P = h[0:i] with the clipped tail sum(h[i:]) added to P[i-1]
 *   Q = h[0:i] (not folded) merged into `target` chunks of m = i / target bins
 *       (the last chunk also takes the i % target remainder); chunk c's sum S_c is
 *       spread evenly over its nz_c bins where P != 0, other bins stay 0
 *   KL = sum_{P_j > 0} p_j log(p_j / q_j), p = P / N, q = Q / sum(Q), q floored at
 *       QB_KL_EPS; sum(Q) = sum(h[0:i]) since every non-empty chunk has nz_c > 0.
 * q is constant on a chunk, q_c = S_c / (nz_c sum(Q)), so a chunk contributes
 *   (1/N) [ sum_j h_j log h_j - (log N + log q_c) sum_j h_j ]
 * over its bins other than i-1, read off the prefix sums, and the last chunk adds
 * the folded bin, (P[i-1] / N) log(P[i-1] / (N q_c)): O(target) per threshold
 * instead of O(nbins), and the same value as the bin-by-bin sum (up to rounding). */
static double kl_for_threshold(const kl_histogram* k, size_t i) {
  const double n = k->total, log_n = log(n), qsum = k->count[i];
  const size_t last = i - 1, m = i / k->target;
  const double p_last = k->hist[last] + (n - k->count[i]);
  double acc = 0.0; /* N * KL */
  for (size_t c = 0; c < k->target; c++) {
    const bool final = c + 1 == k->target;
    const size_t start = c * m, end = final ? i : start + m, inner = final ? last : end;
    const double nz = k->nonempty[inner] - k->nonempty[start] + (final && p_last > 0.0);
    if (nz == 0.0) continue; /* P is empty on this chunk */
    const double q = qsum > 0.0 ? (k->count[end] - k->count[start]) / (nz * qsum) : 0.0;
    const double log_q = log(q > QB_KL_EPS ? q : QB_KL_EPS);
    const double mass = k->count[inner] - k->count[start];
    acc += (k->hlogh[inner] - k->hlogh[start]) - (log_n + log_q) * mass;
    if (final && p_last > 0.0) acc += p_last * (log(p_last) - log_n - log_q);
  }
  return acc / n;
}

/* Threshold bin index minimizing KL over i in {first, first + stride, ...} plus
 * nbins, first = max(target, nbins / 16) (TensorRT's start bin 128 of 2048: T is
 * never below amax / 16, which at 2-4 bits would otherwise win on a histogram
 * this coarse), stride = ceil((nbins - first) / 256) so at most ~257 candidates.
 * Scanned from i = nbins down, replacing on strictly smaller KL: ties keep the
 * widest. */
static size_t best_threshold_bin(const kl_histogram* k) {
  const size_t nbins = k->nbins, target = k->target;
  const size_t first = target > nbins / 16 ? target : nbins / 16, span = nbins - first;
  size_t best_i = nbins;
  double best = kl_for_threshold(k, nbins);
  const size_t stride = span > QB_KL_MAX_CANDIDATES
                            ? (span + QB_KL_MAX_CANDIDATES - 1) / QB_KL_MAX_CANDIDATES : 1;
  for (size_t i = first + ((span - 1) / stride) * stride;; i -= stride) {
    const double kl = kl_for_threshold(k, i);
    if (kl < best) {
      best = kl;
      best_i = i;
    }
    if (i == first) break;
  }
  return best_i;
}

/* TensorRT-style KL calibration (see qb_range.h). The threshold is the bin edge
 * T = i * amax / nbins (i = nbins gives amax exactly). When the grid has at least
 * as many levels as the histogram has bins (16 bits), no threshold can be told
 * apart and [min, max] is returned. Range = [max(min, -T), min(max, T)]. */
static int range_entropy(const qb_range_strategy* r, const qb_qscheme* s, const float* x,
                         size_t n, float* lo, float* hi, qb_error* err) {
  float min, max;
  range_minmax(x, n, &min, &max);
  *lo = min;
  *hi = max;
  const float amax = fmaxf(-min, max);
  const size_t nbins = (size_t)r->histogram_bins, target = entropy_target_bins(s, min, max);
  if (amax == 0.0f || target >= nbins) return 0;
  kl_histogram k;
  if (kl_histogram_init(&k, x, n, amax, nbins, target))
    return qb_fail(err, "entropy: out of memory for %zu bins", nbins);
  const size_t i = best_threshold_bin(&k);
  free(k.hist);
  const float t = i == nbins ? amax : (float)((double)i * (double)amax / (double)nbins);
  *lo = fmaxf(min, -t);
  *hi = fminf(max, t);
  /* One-sided data lying entirely beyond T: collapse onto the clipped end. */
  if (*lo > *hi) {
    if (min > 0.0f) *lo = *hi;
    else *hi = *lo;
  }
  return 0;
}

/* ------------------------------------------------------------------ choose */

static int check_strategy(const qb_range_strategy* r, qb_error* err) {
  switch (r->kind) {
    case QB_RANGE_MINMAX:
      return 0;
    case QB_RANGE_MOVAVG:
      if (r->movavg_batches < 1)
        return qb_fail(err, "movavg: batches %d, expected >= 1", r->movavg_batches);
      if (!(r->movavg_constant >= 0.0f && r->movavg_constant <= 1.0f))
        return qb_fail(err, "movavg: constant %g is outside [0, 1]", (double)r->movavg_constant);
      return 0;
    case QB_RANGE_PERCENTILE:
      if (!percentile_valid(r->percentile))
        return qb_fail(err, "percentile %g is outside (50, 100]", r->percentile);
      return 0;
    case QB_RANGE_MSE:
    case QB_RANGE_CROSSENTROPY:
      if (r->grid < 1) return qb_fail(err, "range grid %d, expected >= 1", r->grid);
      return 0;
    case QB_RANGE_ENTROPY:
      if (r->histogram_bins < 1)
        return qb_fail(err, "entropy: %d histogram bins, expected >= 1", r->histogram_bins);
      return 0;
  }
  return qb_fail(err, "unknown range strategy kind %d", (int)r->kind);
}

int qb_range_choose(const qb_range_strategy* r, const qb_qscheme* s, const float* x, size_t n,
                    size_t row_len, float* min, float* max, qb_error* err) {
  if (n == 0) return qb_fail(err, "range of an empty tensor");
  if (check_strategy(r, err)) return -1;
  if (qb_qscheme_check(s, err)) return -1;
  switch (r->kind) {
    case QB_RANGE_MINMAX:
      range_minmax(x, n, min, max);
      return 0;
    case QB_RANGE_MOVAVG:
      range_movavg(x, n, r->movavg_batches, r->movavg_constant, min, max);
      return 0;
    case QB_RANGE_PERCENTILE:
      return range_percentile(x, n, r->percentile, min, max, err);
    case QB_RANGE_MSE:
      return range_mse(r, s, x, n, min, max, err);
    case QB_RANGE_ENTROPY:
      return range_entropy(r, s, x, n, min, max, err);
    case QB_RANGE_CROSSENTROPY:
      return range_crossentropy(r, s, x, n, row_len, min, max, err);
  }
  return qb_fail(err, "unknown range strategy kind %d", (int)r->kind);
}
