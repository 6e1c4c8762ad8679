/* Choosing a scheme for deployment (qbench recommend): from a run's measurements,
 *
 *  1. the qconfigs of a model within an accuracy budget (drop <= max_drop), ranked by
 *     the measured objective: end-to-end latency (on one backend, or each qconfig's
 *     fastest backend) or packed weight bytes; and the Pareto front (drop vs
 *     objective) over all qconfigs;
 *  2. a mixed-precision plan: per layer, one of the measured qconfigs sharing the
 *     activation side and workflow of the best-ranked qconfig, or float. Inputs are
 *     measured: per-layer sensitivity (sensitivity_only: drop with only that layer
 *     quantized) and per-layer cost (latency_* or bytes_weights rows of that layer;
 *     when a run has none, the weight bit width stands in and the plan says so).
 *     The search is greedy: every layer starts at its cheapest option; while the
 *     predicted drop (the SUM of the chosen options' sensitivities - an additivity
 *     assumption, optimistic when errors compound) exceeds the budget, the move with
 *     the most drop saved per unit of added cost is taken (float last).
 *     The plan's accuracy is a prediction until the mixed configuration is run end to
 *     end: qb_recommend_verify (qb_recommend_verify.c) runs it (harness/qruntime/
 *     qb_model_mixed.h) and records the measured accuracy; until then the plan is
 *     reported as "verification pending". */
#ifndef QB_RECOMMEND_H
#define QB_RECOMMEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "qb_error.h"
#include "qb_run_data.h"
#include "qb_run_index.h"

typedef enum { QB_OBJECTIVE_LATENCY, QB_OBJECTIVE_SIZE } qb_objective;

typedef struct {
  const char* model;
  double max_drop;     /* percentage points */
  const char* backend; /* NULL: each qconfig's fastest backend */
  qb_objective objective;
} qb_recommend_query;

typedef struct {
  const qb_cfg_summary* cfg;
  double cost;  /* ns or bytes */
  int backend;  /* index into the run index's backends, -1 for size */
} qb_ranked;

typedef struct {
  char layer[128];
  int option;         /* index into options, -1 = keep in float */
  double sensitivity; /* of the chosen option (0 for float) */
  double cost;        /* of the chosen option (NaN for float: not measured) */
  bool fallback;      /* moved to float by verification (measured drop over budget) */
} qb_plan_layer;

typedef struct {
  qb_ranked* ranked; /* within budget, best first */
  size_t nranked;
  qb_ranked* front;  /* Pareto front over all qconfigs, by cost */
  size_t nfront;
  /* mixed-precision plan */
  const qb_cfg_summary** options; /* the qconfigs a layer may take */
  size_t noptions;
  qb_plan_layer* layers;
  size_t nlayers;
  double predicted_drop;
  bool plan_within_budget;
  bool cost_is_bits; /* no per-layer cost rows: weight bits stood in */
  char plan_note[256]; /* why there is no plan, or "" */
  /* verification (qb_recommend_verify): the plan run end to end */
  bool verified;
  double fp32_top1, measured_top1; /* % on the same samples */
  double measured_drop;            /* pp, of the final plan (after any fallback) */
  double first_measured_drop;      /* pp, of the plan as searched (before fallback) */
  double first_predicted_drop;     /* pp, its prediction (predicted_drop follows fallback) */
  int fallback_rounds;
  size_t verify_samples, verify_calibration;
  char verify_backend[32];
} qb_recommendation;

int qb_recommend(const qb_run_data* run, const qb_run_index* idx, const qb_recommend_query* q,
                 qb_recommendation* out, qb_error* err);
void qb_recommendation_free(qb_recommendation* r);

/* The qconfig in `qbench eval --qconfig` text form, e.g.
 * "w8-sym-channel-minmax/a8-aff-tensor-minmax/static", "w4-sym-group:32-mse/weight-only". */
void qb_qconfig_cli_text(const qb_result_row* r, char* buf, size_t size);

/* Text report and the YAML sweep config (one qconfig: the best ranked; the mixed plan
 * as comments, with its measured accuracy when verified, else marked verification
 * pending). */
void qb_recommend_write_text(FILE* f, const qb_recommendation* r, const qb_run_index* idx,
                             const qb_recommend_query* q);
void qb_recommend_write_yaml(FILE* f, const qb_recommendation* r, const qb_run_index* idx,
                             const qb_recommend_query* q, const char* run_id);
/* The same with the model's entry (a YAML flow mapping, e.g. from
 * qb_recommend_model_entry); NULL: "{name: MODEL}" (a reference model). */
void qb_recommend_write_yaml_entry(FILE* f, const qb_recommendation* r, const qb_run_index* idx,
                                   const qb_recommend_query* q, const char* run_id,
                                   const char* model_entry);

#endif
