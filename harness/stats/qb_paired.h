/* Paired accuracy statistics: two classifiers (a reference R and a candidate Q) scored
 * on the SAME n samples. Their accuracies differ only through the discordant pairs
 *   b = samples R gets right and Q gets wrong  (lost)
 *   c = samples R gets wrong and Q gets right  (gained)
 * so the accuracy drop R - Q is exactly (b - c) / n, and its uncertainty lives in b and
 * c alone (the n - b - c concordant samples cancel).
 *
 * Significance: the exact McNemar test. Under H0 (R and Q equally accurate) each of
 * the m = b + c discordant samples is equally likely to be lost or gained, so
 * b ~ Binomial(m, 1/2) given m, and the two-sided p-value is
 *   p = min(1, 2 * P(X <= min(b, c))),  X ~ Bin(m, 1/2)
 * (the binomial test with p = 0.5, as scipy.stats.binomtest; p = 1 when m = 0).
 *
 * Interval: the exact conditional interval. Given m, pi = b / m estimates the share of
 * discordant samples that were lost; the Clopper-Pearson interval [pi_lo, pi_hi] for
 * it (level 1 - alpha: P(X >= b | pi_lo) = alpha/2, P(X <= b | pi_hi) = alpha/2;
 * pi_lo = 0 when b = 0, pi_hi = 1 when b = m) maps onto the drop through
 *   drop = (b - c) / n = (m / n) (2 pi - 1).
 * Why this and not a bootstrap: it is exact and deterministic (no seed, no resampling
 * error), costs nothing, and it agrees with the McNemar flag: the 95 % interval
 * excludes 0 exactly when p <= 0.05 (both invert the same two one-sided binomial
 * tails). A paired bootstrap of a few discordant pairs is known to be too narrow.
 * What it does not cover: it is conditional on m (the number of discordant samples is
 * taken as observed), so with m = 0 the interval is [0, 0] — the two models are right
 * on exactly the same samples of this set, which says nothing about other samples. */
#ifndef QB_PAIRED_H
#define QB_PAIRED_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  size_t n;            /* samples scored by both */
  size_t b, c;         /* lost (R right, Q wrong), gained (R wrong, Q right) */
  double drop;         /* (b - c) / n, percentage points */
  double ci_low, ci_high; /* the (1 - alpha) interval of drop, percentage points */
  double p;            /* exact McNemar two-sided p-value */
} qb_paired_result;

/* P(X <= k) for X ~ Binomial(m, pi); 1 when k >= m. */
double qb_binom_cdf(size_t k, size_t m, double pi);
/* Exact McNemar p-value of b lost and c gained. */
double qb_mcnemar_exact_p(size_t b, size_t c);
/* Clopper-Pearson (1 - alpha) interval for a binomial proportion of k in m (m > 0). */
void qb_clopper_pearson(size_t k, size_t m, double alpha, double* lo, double* hi);
/* Statistics of b lost and c gained out of n (b + c <= n, n > 0). */
void qb_paired_stats(size_t n, size_t b, size_t c, double alpha, qb_paired_result* out);

/* Counts b and c from per-sample predictions: ref and cur are predicted class indices,
 * labels the true ones, n samples each. */
void qb_paired_count(const uint16_t* ref, const uint16_t* cur, const uint16_t* labels, size_t n,
                     size_t* b, size_t* c);

#endif
