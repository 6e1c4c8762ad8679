/* A run's rows folded into the tables every reader wants: per model, the fp32
 * accuracy and one entry per qconfig with its end-to-end numbers (accuracy drop,
 * weight bytes, latency per backend). Speed uses threads = 1 rows: the median of
 * the latency_sample repetitions, else the latency_median row.
 *
 * drop is the "drop" row if present, else accuracy_fp32 - accuracy. Accuracy (and the
 * drop's interval and significance) comes from the first backend that reported it; acc_spread records how much backends
 * disagree (a bit-exact backend never does; avx2-sat may). */
#ifndef QB_RUN_INDEX_H
#define QB_RUN_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "qb_error.h"
#include "qb_result.h"

enum { QB_INDEX_MAX_BACKENDS = 12 };

typedef struct {
  qb_result_row id; /* model + workflow + qconfig; layer/backend/metric cleared */
  double accuracy, drop, agreement, bytes_weights, eff_bits;
  /* The drop's paired statistics (harness/stats/qb_paired.h), from the same backend
   * as accuracy: 95 % interval (pp), exact McNemar p, significant = 1 / 0, or -1 for a
   * run without them (made before they were recorded). */
  double drop_ci_low, drop_ci_high, mcnemar_p;
  double discordant; /* discordant_lost + discordant_gained (NaN if not recorded) */
  int discordant_seen; /* of those two rows, read so far (from the first backend) */
  int significant;
  double kl_p99, true_prob_rms; /* output-level metrics, NaN if not recorded */
  double acc_spread; /* max - min accuracy over backends */
  double latency_ns[QB_INDEX_MAX_BACKENDS]; /* per idx->backends, NaN if not measured */
  double latency_cv[QB_INDEX_MAX_BACKENDS];
  double speedup_fp32[QB_INDEX_MAX_BACKENDS]; /* the model's latency_fp32_ns / latency_ns, NaN if absent */
} qb_cfg_summary;

typedef struct {
  char name[64];
  /* The task metric that accuracy / drop measure (the task_metric row's unit:
   * "top-1", "exact-match", "F1", "agreement"; qb_task.h); "top-1" without one. */
  char metric[32];
  double accuracy_fp32; /* NaN if not recorded */
  double latency_fp32_ns; /* the fp32 baseline at 1 thread: the median of the run's speed
                             groups' latency_fp32_median, NaN if absent */
  char fp32_kernel[96];   /* the fp32 GEMM kernel that baseline ran on */
  qb_cfg_summary* cfgs;
  size_t ncfgs;
} qb_model_summary;

typedef struct {
  char backends[QB_INDEX_MAX_BACKENDS][16];
  int nbackends;
  qb_model_summary* models;
  size_t nmodels;
} qb_run_index;

int qb_run_index_build(const qb_result_rows* rows, qb_run_index* idx, qb_error* err);
void qb_run_index_free(qb_run_index* idx);
/* Index of a backend name in idx->backends, or -1. */
int qb_run_index_backend(const qb_run_index* idx, const char* name);
const qb_model_summary* qb_run_index_model(const qb_run_index* idx, const char* name);

/* Pareto front of n points (x, y), both to minimize: on_front[i] = 1 when no other
 * point is <= in both and < in one. NaN points are never on the front. Returns the
 * number of front points. */
size_t qb_pareto_front(const double* x, const double* y, size_t n, int* on_front);

/* What the drop supports: +1 significantly worse than fp32, -1 significantly better,
 * 0 not distinguishable from fp32. A run without paired statistics (significant
 * = -1) counts as significant in the direction of its drop (the old reading). */
int qb_cfg_drop_direction(const qb_cfg_summary* c);

/* True when a row is an end-to-end row (layer = model name, or empty). */
bool qb_row_is_end_to_end(const qb_result_row* r);

#endif
