#include "qb_metrics_select.h"

#include <math.h>
#include <stdlib.h>

static void swap(double* a, double* b) {
  const double t = *a;
  *a = *b, *b = t;
}

static int cmp_double(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* Reorders v so that v[k] is the k-th smallest, everything before it <= v[k] and
 * everything after >= v[k] (Hoare partition around a median of three; equal keys
 * stop both scans, so runs of equal values split evenly). */
static void select_kth(double* v, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  int budget = 2 * 64; /* unbalanced rounds allowed before sorting the rest */
  while (hi > lo) {
    if (budget-- <= 0) {
      qsort(v + lo, hi - lo + 1, sizeof *v, cmp_double);
      return;
    }
    const size_t mid = lo + (hi - lo) / 2;
    if (v[mid] < v[lo]) swap(&v[mid], &v[lo]);
    if (v[hi] < v[lo]) swap(&v[hi], &v[lo]);
    if (v[hi] < v[mid]) swap(&v[hi], &v[mid]);
    const double pivot = v[mid];
    size_t i = lo, j = hi;
    for (;;) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i >= j) break;
      swap(&v[i], &v[j]);
      i++, j--;
    }
    /* v[lo..j] <= pivot <= v[j+1..hi] */
    if (k <= j) hi = j;
    else lo = j + 1;
  }
}

double qb_quantile_select(double* v, size_t n, double q) {
  if (n == 0) return NAN;
  const double pos = (double)(n - 1) * q;
  const size_t lo = (size_t)floor(pos);
  select_kth(v, n, lo);
  double next = v[lo];
  if (lo + 1 < n) { /* the (lo+1)-th smallest: the least of what lies after v[lo] */
    next = v[lo + 1];
    for (size_t i = lo + 2; i < n; i++) next = v[i] < next ? v[i] : next;
  }
  const double frac = pos - (double)lo;
  return v[lo] + (next - v[lo]) * frac;
}

int qb_metrics_compute_select(const float* x, const float* y, size_t n, qb_error_metrics* m,
                              qb_error* err) {
  if (n == 0) return qb_fail(err, "error metrics of an empty tensor are undefined");
  double* abs_err = malloc(n * sizeof *abs_err);
  if (!abs_err) return qb_fail(err, "out of memory computing metrics over %zu values", n);
  double sxx = 0, syy = 0, sxy = 0, see = 0, max_abs = 0;
  for (size_t i = 0; i < n; i++) {
    const double a = x[i], b = y[i], e = a - b;
    sxx += a * a, syy += b * b, sxy += a * b, see += e * e;
    abs_err[i] = fabs(e);
    if (abs_err[i] > max_abs) max_abs = abs_err[i];
  }
  m->n = n;
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
  else m->cosine = fmax(-1.0, fmin(1.0, sxy / sqrt(sxx * syy)));
  m->p95_abs = qb_quantile_select(abs_err, n, 0.95);
  m->median_abs = qb_quantile_select(abs_err, n, 0.5);
  free(abs_err);
  return 0;
}
