#include "qb_mann_whitney.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  double v;
  int from_a;
} tagged;

static int cmp_tagged(const void* x, const void* y) {
  const double a = ((const tagged*)x)->v, b = ((const tagged*)y)->v;
  return (a > b) - (a < b);
}

static int cmp_double(const void* x, const void* y) {
  const double a = *(const double*)x, b = *(const double*)y;
  return (a > b) - (a < b);
}

/* Rank sum of A (mid-ranks for ties) and the tie term sum_t (t^3 - t). */
static void rank_sum(const tagged* s, size_t n, double* r_a, double* tie_term) {
  *r_a = 0;
  *tie_term = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && s[j].v == s[i].v) j++;
    const double t = (double)(j - i);
    const double mid_rank = 0.5 * (double)(i + 1 + j); /* mean of ranks i+1..j */
    for (size_t k = i; k < j; k++)
      if (s[k].from_a) *r_a += mid_rank;
    *tie_term += t * t * t - t;
    i = j;
  }
}

/* P(U <= u) under H0 without ties, from the recurrence in the header. Counts are
 * doubles: exact up to 2^53 and beyond that only rounded (relative error ~1e-16),
 * which is all a p-value needs. */
static double exact_cdf(size_t na, size_t nb, size_t u) {
  const size_t umax = na * nb;
  /* f[j][x]: count for (i, j) in the current row i; rolling over i. */
  double* prev = calloc((nb + 1) * (umax + 1), sizeof *prev);
  double* cur = calloc((nb + 1) * (umax + 1), sizeof *cur);
  if (!prev || !cur) {
    free(prev);
    free(cur);
    return NAN;
  }
#define F(t, j, x) t[(j) * (umax + 1) + (x)]
  for (size_t j = 0; j <= nb; j++) F(prev, j, 0) = 1; /* i = 0: U = 0, one way */
  for (size_t i = 1; i <= na; i++) {
    memset(cur, 0, (nb + 1) * (umax + 1) * sizeof *cur);
    F(cur, 0, 0) = 1;
    for (size_t j = 1; j <= nb; j++)
      for (size_t x = 0; x <= i * j; x++)
        F(cur, j, x) = (x >= j ? F(prev, j, x - j) : 0) + F(cur, j - 1, x);
    double* t = prev;
    prev = cur;
    cur = t;
  }
  double below = 0, total = 0;
  for (size_t x = 0; x <= umax; x++) {
    total += F(prev, nb, x);
    if (x <= u) below += F(prev, nb, x);
  }
#undef F
  free(prev);
  free(cur);
  return below / total;
}

int qb_mann_whitney(const double* a, size_t na, const double* b, size_t nb, qb_mw_result* out) {
  memset(out, 0, sizeof *out);
  if (!na || !nb) return -1;
  const size_t n = na + nb;
  tagged* s = malloc(n * sizeof *s);
  if (!s) return -1;
  for (size_t i = 0; i < n; i++) {
    s[i].v = i < na ? a[i] : b[i - na];
    s[i].from_a = i < na;
    if (!isfinite(s[i].v)) {
      free(s);
      return -1;
    }
  }
  qsort(s, n, sizeof *s, cmp_tagged);
  double r_a, tie_term;
  rank_sum(s, n, &r_a, &tie_term);
  free(s);
  const double dna = (double)na, dnb = (double)nb, dn = (double)n;
  out->u_a = r_a - dna * (dna + 1) / 2;
  const double mu = dna * dnb / 2;
  if (tie_term == 0 && na * nb <= QB_MW_EXACT_MAX_PAIRS) {
    out->method = QB_MW_EXACT;
    const double u_small = fmin(out->u_a, dna * dnb - out->u_a);
    out->p = fmin(1.0, 2 * exact_cdf(na, nb, (size_t)u_small));
    return isnan(out->p) ? -1 : 0;
  }
  out->method = QB_MW_NORMAL;
  const double var = dna * dnb / 12 * ((dn + 1) - tie_term / (dn * (dn - 1)));
  if (!(var > 0)) {
    out->p = 1;
    return 0;
  }
  const double dev = fmax(0.0, fabs(out->u_a - mu) - 0.5);
  out->z = copysign(dev / sqrt(var), out->u_a - mu);
  out->p = fmin(1.0, erfc(fabs(out->z) / sqrt(2.0)));
  return 0;
}

double qb_mann_whitney_min_p(size_t na, size_t nb) {
  if (!na || !nb) return 1.0;
  double inv_binom = 1.0; /* 1 / C(na + nb, na), as a product that cannot overflow */
  for (size_t i = 1; i <= na && inv_binom > 0; i++) inv_binom *= (double)i / (double)(nb + i);
  const double p = 2.0 * inv_binom;
  return p < 1.0 ? p : 1.0;
}

double qb_median(const double* v, size_t n) {
  if (!n) return NAN;
  double* c = malloc(n * sizeof *c);
  if (!c) return NAN;
  memcpy(c, v, n * sizeof *c);
  qsort(c, n, sizeof *c, cmp_double);
  const double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
  free(c);
  return m;
}

double qb_cv(const double* v, size_t n) {
  if (n < 2) return NAN;
  double mean = 0;
  for (size_t i = 0; i < n; i++) mean += v[i];
  mean /= (double)n;
  double ss = 0;
  for (size_t i = 0; i < n; i++) ss += (v[i] - mean) * (v[i] - mean);
  return sqrt(ss / (double)(n - 1)) / mean;
}
