/* Quantiles by selection (quickselect) instead of sorting: what qb_metrics_compute
 * uses for the median and p95 of |x - y|. Same definition as sorting, same result
 * bit for bit (tests/unit/test_metrics_select.c); the sweep computes three metric
 * sets per layer on probe activations of up to millions of values, where sorting
 * dominated the run time. */
#ifndef QB_METRICS_SELECT_H
#define QB_METRICS_SELECT_H

#include <stddef.h>

#include "qb_metrics.h"

/* Linear-interpolated quantile (numpy's default) of v[0..n), q in [0, 1]; v is
 * reordered. NaN for n = 0. Average O(n); falls back to sorting after too many
 * unbalanced partitions (introselect), so never worse than O(n log n). */
double qb_quantile_select(double* v, size_t n, double q);

#endif
