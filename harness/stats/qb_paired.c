/* Paired accuracy statistics (see qb_paired.h). */
#include "qb_paired.h"

#include <math.h>

/* log(exp(a) + exp(b)) without overflow; a may be -inf (an empty sum). */
static double log_add(double a, double b) {
  if (a == -INFINITY) return b;
  return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

/* P(X <= k), X ~ Bin(m, pi): the terms C(m,i) pi^i (1-pi)^(m-i) summed in log space
 * (m (1 - pi) underflows long before the sum does), each from the previous one by
 * the ratio (m - i) / (i + 1) * pi / (1 - pi). */
double qb_binom_cdf(size_t k, size_t m, double pi) {
  if (k >= m || pi <= 0) return 1.0;
  if (pi >= 1) return 0.0;
  const double lratio = log(pi) - log1p(-pi);
  double lt = (double)m * log1p(-pi), sum = lt;
  for (size_t i = 0; i < k; i++) {
    lt += log((double)(m - i) / (double)(i + 1)) + lratio;
    sum = log_add(sum, lt);
  }
  const double p = exp(sum);
  return p > 1 ? 1 : p;
}

double qb_mcnemar_exact_p(size_t b, size_t c) {
  const size_t m = b + c;
  if (m == 0) return 1.0;
  const double p = 2 * qb_binom_cdf(b < c ? b : c, m, 0.5);
  return p > 1 ? 1 : p;
}

/* P(X >= k | pi) = P(m - X <= m - k | 1 - pi), computed as that lower tail so a small
 * upper tail keeps its precision. */
static double binom_sf_ge(size_t k, size_t m, double pi) {
  return k == 0 ? 1.0 : qb_binom_cdf(m - k, m, 1 - pi);
}

/* Bisection on [0, 1]: the tails are monotone in pi; 64 halvings reach the double
 * resolution of the interval's ends. */
void qb_clopper_pearson(size_t k, size_t m, double alpha, double* lo, double* hi) {
  const double target = alpha / 2;
  *lo = 0, *hi = 1;
  if (k > 0) { /* P(X >= k | pi) rises with pi: the pi where it reaches alpha/2 */
    double a = 0, b = 1;
    for (int it = 0; it < 64; it++) {
      const double mid = 0.5 * (a + b);
      if (binom_sf_ge(k, m, mid) < target) a = mid;
      else b = mid;
    }
    *lo = 0.5 * (a + b);
  }
  if (k < m) { /* P(X <= k | pi) falls with pi */
    double a = 0, b = 1;
    for (int it = 0; it < 64; it++) {
      const double mid = 0.5 * (a + b);
      if (qb_binom_cdf(k, m, mid) > target) a = mid;
      else b = mid;
    }
    *hi = 0.5 * (a + b);
  }
}

void qb_paired_stats(size_t n, size_t b, size_t c, double alpha, qb_paired_result* out) {
  const size_t m = b + c;
  out->n = n, out->b = b, out->c = c;
  out->drop = n ? 100.0 * ((double)b - (double)c) / (double)n : NAN;
  out->p = qb_mcnemar_exact_p(b, c);
  if (!n) {
    out->ci_low = out->ci_high = NAN;
    return;
  }
  if (m == 0) {
    out->ci_low = out->ci_high = 0;
    return;
  }
  double lo, hi;
  qb_clopper_pearson(b, m, alpha, &lo, &hi);
  const double scale = 100.0 * (double)m / (double)n;
  out->ci_low = scale * (2 * lo - 1);
  out->ci_high = scale * (2 * hi - 1);
}

void qb_paired_count(const uint16_t* ref, const uint16_t* cur, const uint16_t* labels, size_t n,
                     size_t* b, size_t* c) {
  *b = *c = 0;
  for (size_t i = 0; i < n; i++) {
    const int r = ref[i] == labels[i], q = cur[i] == labels[i];
    *b += r && !q;
    *c += !r && q;
  }
}
