/* Shared by the evaluator's files (not a public API): the per-model cache and the
 * measurement steps of one item. */
#ifndef QB_SWEEP_EVAL_INTERNAL_H
#define QB_SWEEP_EVAL_INTERNAL_H

#include <stdbool.h>

#include "qb_dataset.h"
#include "qb_model.h"
#include "qb_model_eval.h"
#include "qb_model_quant.h"
#include "qb_sweep_eval.h"

/* Activation ranges chosen for one activation spec (static), reused by every weight
 * config of the model. */
enum { QB_EVAL_RANGE_CACHE = 16 };
typedef struct {
  char key[400]; /* the activation part of the qconfig text, e.g. "a8-sym-...-percentile:99" */
  qb_qparams* qp;
  bool* has;
} qb_eval_ranges;

typedef struct {
  bool loaded;
  size_t index;              /* cfg->models[index] */
  char path[QB_SWEEP_PATH_MAX + 64]; /* the ONNX file: the model's, or its qat fine-tune */
  qb_model m;
  qb_dataset test, calib;
  size_t eval_count;         /* samples of the evaluation subset */
  qb_eval_result fp32;       /* over the evaluation subset (kept values: qb_task.h) */
  qb_eval_result fp32_sens;  /* over the sensitivity subset (a prefix of it) */
  qb_task_ctx task;          /* the model's task: what is kept of its outputs, the metric */
  qb_task_labels labels;     /* ocr-rec texts / ocr-det boxes of the evaluation data */
  qb_task_score fp32_score, fp32_sens_score; /* the task metric of fp32 and fp32_sens */
  size_t probe;              /* probe batch size */
  float** probe_fp32;        /* per node: fp32 output on the probe batch (layers only) */
  qb_quant_state* calibration; /* static: calibrated once, reused by every qconfig */
  qb_eval_ranges ranges[QB_EVAL_RANGE_CACHE];
  size_t nranges;
} qb_eval_model;

/* What evaluating one qconfig on one backend produced: the accuracy, per-layer and
 * sensitivity rows, and the outputs on the probe batch that every other backend of
 * its exactness class must reproduce bit for bit to be given a copy of it (whole:
 * everything an evaluation yields belongs here). */
typedef struct {
  char key[QB_PLAN_ID_MAX]; /* the item id without its backend; "" = none */
  qb_backend backend;       /* evaluated on */
  qb_result_rows rows;
  float* probe;             /* logits of the first probe_count evaluation samples */
  size_t probe_count, probe_floats;
} qb_eval_outcome;

struct qb_sweep_evaluator {
  qb_sweep_eval_options opt;
  qb_eval_model model; /* the config's model: every item's fp32 baseline */
  qb_eval_model tuned; /* qat items: the model fine-tuned for the current item's grid */
  size_t high_cv;
  size_t probe_mismatches; /* exact backends whose probe outputs differed */
  /* The last evaluation of an exactness class (the plan puts backends innermost, so a
   * qconfig's backends are consecutive). */
  qb_eval_outcome outcome;
  /* Items evaluated but not yet timed (qb_sweep_eval_speed_group times them). */
  struct qb_eval_item_s* pending;
  size_t npending;
};

/* The item's context during its measurements. */
typedef struct qb_eval_item_s {
  const qb_sweep_config* cfg;
  const qb_plan_item* item;
  qb_eval_model* em;                 /* the model quantized: ev->model, or ev->tuned (qat) */
  const qb_eval_result* baseline;    /* the config model's fp32 run (accuracy, drop, ...) */
  qb_quant_state* q;
  qb_result_rows* rows;
  const char* model_name;
  FILE* log;
  size_t* high_cv; /* items with an end-to-end latency CV above 5 % so far */
  const char* gbench_json; /* Google Benchmark JSON of the latency runs; NULL = none */
  bool rss_reset;          /* the RSS high-water mark was reset when the item began */
  size_t eval_threads;     /* threads of its accuracy / per-layer / sensitivity runs */
} qb_eval_item;

/* qb_sweep_eval_model.c */
int qb_eval_model_ensure(qb_sweep_evaluator* ev, const qb_sweep_config* cfg, size_t index,
                         qb_error* err);
/* ev->model for the item's model, and ev->tuned for a qat item (fine-tuned, or taken
 * from the cache: qb_sweep_qat.h). */
int qb_eval_tuned_ensure(qb_sweep_evaluator* ev, const qb_sweep_config* cfg,
                         const qb_plan_item* item, qb_error* err);
void qb_eval_model_free(qb_eval_model* em);
/* Quantized evaluation of the first `limit` samples (batch QB_SWEEP_BATCH). */
int qb_eval_model_run(qb_eval_model* em, qb_quant_state* q, size_t limit, qb_eval_result* out,
                      qb_error* err);
/* The task metric of kept values r (against labels, or for outputs the fp32 run
 * `ref` of the same samples). */
int qb_eval_model_score(const qb_eval_model* em, const qb_eval_result* r, const qb_eval_result* ref,
                        qb_task_score* out, qb_error* err);

/* One row (identity from rows->identity); -1 when out of memory. */
int qb_eval_row(qb_eval_item* it, const char* layer, const char* kernel, int threads,
                const char* metric, double value, const char* unit, qb_error* err);

/* qb_sweep_eval_layers.c: weight, activation, shadow, simulation-vs-kernel errors. */
int qb_eval_layers(qb_eval_item* it, qb_error* err);
/* qb_sweep_eval_sens.c */
int qb_eval_sensitivity(qb_eval_item* it, qb_error* err);
/* qb_sweep_eval_perf.c: latency and memory. */
/* The items share one model (a speed group); their repetitions interleave. */
int qb_eval_speed_group(qb_eval_item* const* items, size_t n, qb_error* err);
int qb_eval_memory(qb_eval_item* it, qb_error* err);

#endif
