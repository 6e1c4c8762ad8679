/* Mann-Whitney U test (Wilcoxon rank-sum): do two sets of timings come from the same
 * distribution? The regression gate uses it the way Google Benchmark's compare.py
 * does (scipy.stats.mannwhitneyu, two-sided), on the repetitions of a measurement.
 *
 * U of sample A counts the pairs (a, b) with a > b, ties counting 1/2:
 *   U_A = R_A - nA (nA + 1) / 2,   R_A = sum of A's ranks in the pooled sample
 * (tied values get the mean of their ranks). U_A + U_B = nA nB.
 *
 * p-value (two-sided), two methods:
 *  - exact, when there are no ties and nA nB <= QB_MW_EXACT_MAX_PAIRS: under H0 every
 *    split of the pooled ranks is equally likely; the count of splits with U = u obeys
 *      N(nA, nB, u) = N(nA - 1, nB, u - nB) + N(nA, nB - 1, u)
 *    (the largest value is in A, adding nB to U, or in B, adding nothing);
 *    p = min(1, 2 P(U <= min(U_A, U_B))).
 *  - normal approximation otherwise, with tie correction and continuity correction
 *    (as scipy's asymptotic method with use_continuity=True):
 *      mu = nA nB / 2
 *      sigma^2 = nA nB / 12 * ((n + 1) - sum_t (t^3 - t) / (n (n - 1)))
 *      z = (|U_A - mu| - 1/2) / sigma,  p = erfc(|z| / sqrt 2)
 *    where t runs over the sizes of the groups of tied values and n = nA + nB. With
 *    every value tied (sigma = 0) p = 1: the samples cannot be told apart.
 * Small samples cannot be significant: with nA = nB = 3 the smallest exact p is 0.1, so
 * a gate that asks for p < 0.05 needs at least 4 repetitions per side (p = 0.029). */
#ifndef QB_MANN_WHITNEY_H
#define QB_MANN_WHITNEY_H

#include <stddef.h>

enum { QB_MW_EXACT_MAX_PAIRS = 4096 };

typedef enum { QB_MW_EXACT, QB_MW_NORMAL } qb_mw_method;

typedef struct {
  double u_a;  /* U of sample A (pairs with a > b; ties count 1/2) */
  double z;    /* normal method: signed z of U_A (0 for the exact method) */
  double p;    /* two-sided p-value */
  qb_mw_method method;
} qb_mw_result;

/* Returns 0, or -1 when a sample is empty or a value is not finite. */
int qb_mann_whitney(const double* a, size_t na, const double* b, size_t nb, qb_mw_result* out);

/* The smallest two-sided p the test can give samples of these sizes: the samples
 * fully separated, no ties, min(1, 2 / C(na + nb, na)). A series pair whose smallest
 * p is not below alpha cannot be judged at that alpha (3 and 3: 0.1; 4 and 4: 0.029;
 * 9 and 9: 4.1e-5). 1 for an empty sample. */
double qb_mann_whitney_min_p(size_t na, size_t nb);

/* Median of n values (sorts a copy); NaN for n = 0. */
double qb_median(const double* v, size_t n);

/* Coefficient of variation: sample standard deviation / mean; NaN for n < 2. */
double qb_cv(const double* v, size_t n);

#endif
