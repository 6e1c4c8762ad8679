/* Error metrics between a reference signal x and an approximation y, accumulated
 * in double precision:
 *   sqnr_db     10 log10( sum x^2 / sum (x - y)^2 )   (+inf when y == x exactly)
 *   mse         mean (x - y)^2
 *   norm_l2     ||x - y|| / ||x||                       (+inf if ||x|| = 0 < ||x - y||)
 *   cosine      <x, y> / (||x|| ||y||)                  (1 if both zero, 0 if one is)
 *   max_abs     max |x - y|
 *   median_abs, p95_abs   linear-interpolated quantiles of |x - y| (numpy default)
 */
#ifndef QB_METRICS_H
#define QB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"

typedef struct {
  size_t n;
  size_t nonfinite; /* pairs whose error is inf or NaN: then every metric is NaN */
  double sqnr_db, mse, norm_l2, cosine, max_abs, median_abs, p95_abs;
} qb_error_metrics;

int qb_metrics_compute(const float* x, const float* y, size_t n, qb_error_metrics* m,
                       qb_error* err);

/* Linear-interpolated quantile (q in [0, 1]) of v[0..n), which is sorted in place. */
double qb_quantile_sorted_inplace(double* v, size_t n, double q);

/* Mean over rows of KL(softmax(p_row) || softmax(q_row)), in nats; rows x classes. */
double qb_kl_divergence_logits(const float* p, const float* q, size_t rows, size_t classes);
/* The same per row: out[r] = KL(softmax(p_r) || softmax(q_r)), nats (out: rows values). */
void qb_kl_divergence_rows(const float* p, const float* q, size_t rows, size_t classes,
                           double* out);
/* Root mean square over rows of softmax(q_r)[y_r] - softmax(p_r)[y_r], the change in
 * the true class's probability from p (reference) to q; rows whose label is outside
 * 0..classes-1 (unlabelled: -1) are skipped; NaN when none is labelled. */
double qb_true_class_prob_rms(const float* p, const float* q, const int32_t* labels, size_t rows,
                              size_t classes);
/* Fraction of rows whose argmax agrees (first index wins ties). */
double qb_top1_agreement(const float* p, const float* q, size_t rows, size_t classes);
/* Index of the largest value (first on ties). */
size_t qb_argmax(const float* v, size_t n);

#endif
