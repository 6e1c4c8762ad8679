/* Data-set runs: accuracy and calibration. */
#include "qb_model_eval.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qb_metrics.h"

/* Prepares m for `n` samples and checks one sample matches the model input. */
static int prepare_for(qb_model* m, const qb_dataset* d, size_t n, qb_error* err) {
  if (m->batch != n || !m->prepared)
    if (qb_model_prepare(m, n, err)) return -1;
  if (m->ninputs != 1) return qb_fail(err, "the model has %zu inputs; evaluation feeds one", m->ninputs);
  const qb_value* in = &m->values[m->inputs[0]];
  if (in->numel != n * d->sample_numel)
    return qb_fail(err, "model input '%.200s' takes %zu values per sample; the data has %zu",
                   in->name, n ? in->numel / n : 0, d->sample_numel);
  return 0;
}

int qb_model_evaluate(qb_model* m, const qb_dataset* d, size_t limit, size_t batch,
                      const qb_model_exec* exec, qb_eval_progress progress, void* ctx,
                      qb_eval_result* out, qb_error* err) {
  return qb_model_evaluate_task(m, d, limit, batch, exec, NULL, progress, ctx, out, err);
}

int qb_model_evaluate_task(qb_model* m, const qb_dataset* d, size_t limit, size_t batch,
                           const qb_model_exec* exec, const qb_task_ctx* task,
                           qb_eval_progress progress, void* ctx, qb_eval_result* out,
                           qb_error* err) {
  memset(out, 0, sizeof *out);
  const size_t total = limit && limit < d->count ? limit : d->count;
  if (batch == 0) batch = 100;
  for (size_t first = 0; first < total; first += batch) {
    const size_t n = total - first < batch ? total - first : batch;
    if (prepare_for(m, d, n, err)) goto fail;
    const float* x = d->x + first * d->sample_numel;
    if (qb_model_run(m, &x, exec, err)) goto fail;
    const qb_value* y = qb_model_output(m, 0);
    const size_t classes = task ? qb_task_width(task, m, n) : y->numel / n;
    if (!out->logits) {
      out->classes = classes;
      if (classes == 0 || !(out->logits = malloc(total * classes * sizeof *out->logits))) {
        qb_fail(err, "cannot hold %zu x %zu logits", total, classes);
        goto fail;
      }
    }
    if (task ? out->classes != classes : y->numel != n * classes) {
      qb_fail(err, "output 0 changed its per-sample size between batches");
      goto fail;
    }
    if (!task) memcpy(out->logits + first * classes, y->data, n * classes * sizeof(float));
    else if (qb_task_reduce(task, m, n, out->logits + first * classes, err)) goto fail;
    const bool classifier = !task || task->task == QB_TASK_CLASSIFICATION || task->task == QB_TASK_OCR_CLS;
    for (size_t i = 0; classifier && d->labels && i < n; i++)
      out->correct += d->labels[first + i] >= 0 &&
                      qb_argmax(y->data + i * classes, classes) == (size_t)d->labels[first + i];
    out->count += n;
    if (progress) progress(ctx, out->count, total);
  }
  out->top1 = out->count ? (double)out->correct / (double)out->count : 0.0;
  return 0;
fail:
  qb_eval_result_free(out);
  return -1;
}

void qb_eval_result_free(qb_eval_result* r) {
  free(r->logits);
  memset(r, 0, sizeof *r);
}

int qb_model_calibrate(qb_model* m, qb_quant_state* q, const qb_dataset* calib, size_t limit,
                       size_t batch, qb_error* err) {
  const size_t total = limit && limit < calib->count ? limit : calib->count;
  if (batch == 0) batch = 100;
  qb_quant_reset_calibration(q);
  const qb_model_exec exec = {QB_EXEC_CALIBRATE, q, NULL, NULL, false};
  for (size_t first = 0; first < total; first += batch) {
    const size_t n = total - first < batch ? total - first : batch;
    if (prepare_for(m, calib, n, err)) return -1;
    const float* x = calib->x + first * calib->sample_numel;
    if (qb_model_run(m, &x, &exec, err)) return -1;
  }
  return qb_quant_finish_calibration(q, NULL, err);
}
