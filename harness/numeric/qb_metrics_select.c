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
