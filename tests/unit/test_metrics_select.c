/* qb_quantile_select == the sorted definition (qb_quantile_sorted_inplace) bit for bit,
 * and so the median / p95 of qb_metrics_compute, on random data with many ties
 * (quantized errors repeat), all-equal and tiny inputs; and qb_quantile_select
 * against hand-computed quantiles. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qb_metrics.h"
#include "qb_metrics_select.h"
#include "qb_test.h"

static bool same(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

static void check_same(const float* x, const float* y, size_t n) {
  double* sorted = malloc(n * sizeof *sorted);
  double* selected = malloc(n * sizeof *selected);
  for (size_t i = 0; i < n; i++) sorted[i] = selected[i] = fabs((double)x[i] - (double)y[i]);
  const double p95 = qb_quantile_sorted_inplace(sorted, n, 0.95);
  const double median = qb_quantile_sorted_inplace(sorted, n, 0.5);
  QB_CHECK_MSG(same(qb_quantile_select(selected, n, 0.95), p95), "n=%zu p95", n);
  QB_CHECK_MSG(same(qb_quantile_select(selected, n, 0.5), median), "n=%zu median", n);
  qb_error_metrics m;
  qb_error err;
  QB_CHECK(qb_metrics_compute(x, y, n, &m, &err) == 0);
  QB_CHECK_MSG(same(m.p95_abs, p95) && same(m.median_abs, median),
               "n=%zu p95 %.17g vs %.17g, median %.17g vs %.17g", n, m.p95_abs, p95,
               m.median_abs, median);
  free(sorted), free(selected);
}

int main(void) {
  qb_test_seed(7);
  const size_t sizes[] = {1, 2, 3, 4, 5, 19, 20, 21, 100, 101, 1000, 4097, 100000};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    const size_t n = sizes[s];
    float* x = malloc(n * sizeof *x);
    float* y = malloc(n * sizeof *y);
    for (int mode = 0; mode < 4; mode++) {
      for (size_t i = 0; i < n; i++) {
        x[i] = qb_rand_uniform(-4, 4);
        switch (mode) {
          case 0: y[i] = x[i] + 0.01f * qb_rand_normal(); break;              /* distinct */
          case 1: y[i] = x[i] + 0.125f * (float)qb_rand_range(-2, 2); break;  /* many ties */
          case 2: y[i] = x[i]; break;                                          /* all zero */
          default: y[i] = qb_rand_below(10) ? x[i] : x[i] + 1.0f; break;        /* mostly zero */
        }
      }
      check_same(x, y, n);
    }
    free(x), free(y);
  }
  /* Hand-checked: quantiles of 1..5 (numpy: median 3, p95 4.8, p25 2). */
  double v[5] = {5, 1, 4, 2, 3};
  QB_CHECK(fabs(qb_quantile_select(v, 5, 0.95) - 4.8) < 1e-12);
  double w[5] = {5, 1, 4, 2, 3};
  QB_CHECK(qb_quantile_select(w, 5, 0.5) == 3.0);
  double u[5] = {5, 1, 4, 2, 3};
  QB_CHECK(qb_quantile_select(u, 5, 0.25) == 2.0);
  QB_CHECK(isnan(qb_quantile_select(u, 0, 0.5)));
  return qb_test_finish("test_metrics_select");
}
