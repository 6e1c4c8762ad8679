/* Whole-data-set runs of a model: top-1 accuracy and static calibration, in
 * batches (the last batch may be smaller: the model is re-prepared for it). */
#ifndef QB_MODEL_EVAL_H
#define QB_MODEL_EVAL_H

#include <stddef.h>

#include "qb_dataset.h"
#include "qb_model.h"
#include "qb_model_quant.h"
#include "qb_task.h"

typedef struct {
  size_t count;      /* samples evaluated */
  size_t correct;    /* argmax == label */
  double top1;       /* correct / count */
  size_t classes;    /* logits per sample */
  float* logits;     /* count x classes (owned; free with qb_eval_result_free) */
} qb_eval_result;

/* Called after every batch with the samples done so far (e.g. a progress bar). */
typedef void (*qb_eval_progress)(void* ctx, size_t done, size_t total);

/* Runs m (exec: NULL for fp32) over the first `limit` samples of d (0 = all) in
 * batches of `batch`, the model's first output taken as logits [N, classes]. */
int qb_model_evaluate(qb_model* m, const qb_dataset* d, size_t limit, size_t batch,
                      const qb_model_exec* exec, qb_eval_progress progress, void* ctx,
                      qb_eval_result* out, qb_error* err);
/* The same keeping, per sample, what task scores need (qb_task.h: qb_task_width
 * values; out->classes is that width, out->logits those values; out->correct counts
 * argmax == label only for classification-like tasks). task NULL = output 0 as is. */
int qb_model_evaluate_task(qb_model* m, const qb_dataset* d, size_t limit, size_t batch,
                           const qb_model_exec* exec, const qb_task_ctx* task,
                           qb_eval_progress progress, void* ctx, qb_eval_result* out,
                           qb_error* err);
void qb_eval_result_free(qb_eval_result* r);

/* Static workflow: fp32 runs over the first `limit` samples of calib (0 = all),
 * recording statistics into q, then ranges with the qconfig's strategy. */
int qb_model_calibrate(qb_model* m, qb_quant_state* q, const qb_dataset* calib, size_t limit,
                       size_t batch, qb_error* err);

#endif
