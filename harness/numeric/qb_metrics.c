#include "qb_metrics.h"

#include "qb_metrics_select.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

double qb_quantile_sorted_inplace(double* v, size_t n, double q) {
  if (n == 0) return NAN;
  qsort(v, n, sizeof *v, cmp_double);
  /* numpy's default ("linear"): position (n - 1) * q between neighbours. */
  const double pos = (double)(n - 1) * q;
  const size_t lo = (size_t)floor(pos);
  const size_t hi = lo + 1 < n ? lo + 1 : lo;
  const double frac = pos - (double)lo;
  return v[lo] + (v[hi] - v[lo]) * frac;
}

int qb_metrics_compute(const float* x, const float* y, size_t n, qb_error_metrics* m,
                       qb_error* err) {
  if (n == 0) return qb_fail(err, "error metrics of an empty tensor are undefined");
  double* abs_err = malloc(n * sizeof *abs_err);
  if (!abs_err) return qb_fail(err, "out of memory computing metrics over %zu values", n);
  double sxx = 0, syy = 0, sxy = 0, see = 0, max_abs = 0;
  size_t nonfinite = 0;
  for (size_t i = 0; i < n; i++) {
    const double a = x[i], b = y[i], e = a - b;
    sxx += a * a, syy += b * b, sxy += a * b, see += e * e;
    abs_err[i] = fabs(e);
    if (abs_err[i] > max_abs) max_abs = abs_err[i];
    if (!isfinite(e)) nonfinite++;
  }
  m->n = n;
  m->nonfinite = nonfinite;
  if (nonfinite) {
    /* An infinite or NaN error: every metric is undefined (NaN), never "cosine 1, max
     * error 0" (NaN fails every comparison that would otherwise say so). */
    m->mse = m->max_abs = m->sqnr_db = m->norm_l2 = m->cosine = NAN;
    m->p95_abs = m->median_abs = NAN;
    free(abs_err);
    return 0;
  }
  m->mse = see / (double)n;
  m->max_abs = max_abs;
  if (see == 0) {
    m->sqnr_db = INFINITY;
    m->norm_l2 = 0;
  } else {
    m->sqnr_db = sxx > 0 ? 10.0 * log10(sxx / see) : -INFINITY;
    m->norm_l2 = sxx > 0 ? sqrt(see / sxx) : INFINITY;
  }
  if (sxx == 0 && syy == 0) m->cosine = 1.0;
  else if (sxx == 0 || syy == 0) m->cosine = 0.0;
  else m->cosine = fmax(-1.0, fmin(1.0, sxy / sqrt(sxx * syy))); /* |cos| <= 1 (Cauchy-Schwarz) */
  m->p95_abs = qb_quantile_select(abs_err, n, 0.95);
  m->median_abs = qb_quantile_select(abs_err, n, 0.5);
  free(abs_err);
  return 0;
}

/* log(sum exp(v)) computed stably around the row maximum. */
static double log_sum_exp(const float* v, size_t n, double* max_out) {
  double mx = v[0];
  for (size_t i = 1; i < n; i++) mx = v[i] > mx ? v[i] : mx;
  double s = 0;
  for (size_t i = 0; i < n; i++) s += exp((double)v[i] - mx);
  *max_out = mx;
  return mx + log(s);
}

/* KL(softmax(p) || softmax(q)) of one row: sum_i P_i (log P_i - log Q_i), with
 * log P_i = p_i - logsumexp(p). */
static double kl_row(const float* pr, const float* qr, size_t classes) {
  double pm, qm;
  const double lp = log_sum_exp(pr, classes, &pm), lq = log_sum_exp(qr, classes, &qm);
  double kl = 0;
  for (size_t i = 0; i < classes; i++) {
    const double logp = pr[i] - lp, logq = qr[i] - lq;
    kl += exp(logp) * (logp - logq);
  }
  return kl;
}

double qb_kl_divergence_logits(const float* p, const float* q, size_t rows, size_t classes) {
  if (rows == 0 || classes == 0) return 0.0;
  double total = 0;
  for (size_t r = 0; r < rows; r++) total += kl_row(p + r * classes, q + r * classes, classes);
  return total / (double)rows;
}

void qb_kl_divergence_rows(const float* p, const float* q, size_t rows, size_t classes,
                           double* out) {
  for (size_t r = 0; r < rows; r++)
    out[r] = classes ? kl_row(p + r * classes, q + r * classes, classes) : 0.0;
}

double qb_true_class_prob_rms(const float* p, const float* q, const int32_t* labels, size_t rows,
                              size_t classes) {
  double ss = 0;
  size_t n = 0;
  for (size_t r = 0; r < rows; r++) {
    if (labels[r] < 0 || (size_t)labels[r] >= classes) continue;
    const float *pr = p + r * classes, *qr = q + r * classes;
    double pm, qm;
    const double lp = log_sum_exp(pr, classes, &pm), lq = log_sum_exp(qr, classes, &qm);
    const size_t y = (size_t)labels[r];
    const double d = exp(qr[y] - lq) - exp(pr[y] - lp);
    ss += d * d;
    n++;
  }
  return n ? sqrt(ss / (double)n) : NAN;
}

size_t qb_argmax(const float* v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (v[i] > v[best]) best = i;
  return best;
}

double qb_top1_agreement(const float* p, const float* q, size_t rows, size_t classes) {
  if (rows == 0) return 1.0;
  size_t agree = 0;
  for (size_t r = 0; r < rows; r++)
    agree += qb_argmax(p + r * classes, classes) == qb_argmax(q + r * classes, classes);
  return (double)agree / (double)rows;
}
