/* The evaluator's per-model cache: model, data, fp32 baseline, probe activations and
 * the one calibration every static qconfig reuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_model_probe.h"
#include "qb_sweep_eval_internal.h"
#include "qb_sweep_qat.h"

void qb_eval_model_free(qb_eval_model* em) {
  if (!em->loaded) return;
  if (em->probe_fp32)
    for (size_t k = 0; k < em->m.nnodes; k++) free(em->probe_fp32[k]);
  free(em->probe_fp32);
  qb_quant_free(em->calibration);
  for (size_t i = 0; i < em->nranges; i++) free(em->ranges[i].qp), free(em->ranges[i].has);
  qb_eval_result_free(&em->fp32), qb_eval_result_free(&em->fp32_sens);
  qb_dataset_free(&em->test), qb_dataset_free(&em->calib);
  qb_model_free(&em->m);
  memset(em, 0, sizeof *em);
}

static int load_data(const qb_sweep_evaluator* ev, const qb_sweep_model* sm, qb_eval_model* em,
                     qb_error* err) {
  if (!strcmp(sm->data, "fashion-mnist")) {
    qb_preprocess pp;
    const char* dir = ev->opt.fmnist_dir ? ev->opt.fmnist_dir : QB_FASHION_MNIST;
    if (qb_preprocess_parse(em->m.meta_preprocess, &pp, err)) return -1;
    if (qb_dataset_fmnist(dir, "test", &pp, &em->test, err)) return -1;
    return qb_dataset_fmnist(dir, "calib", &pp, &em->calib, err);
  }
  /* User data: evaluation on X/Y; calibration on the first samples of X. */
  if (qb_dataset_npy(sm->data, sm->labels, &em->test, err)) return -1;
  return qb_dataset_npy(sm->data, NULL, &em->calib, err);
}

typedef struct {
  qb_eval_model* em;
  const qb_quant_state* layers;
  int failed;
} probe_ctx;

/* Hook of the fp32 probe run: keep the output of every quantized layer's node and
 * of the last node folded into one (static items compare there, dynamic ones at the
 * layer's own node). */
static void keep_output(void* ctx, const qb_model* m, size_t k, const qb_value* out) {
  probe_ctx* p = ctx;
  (void)m;
  size_t layer;
  if (!qb_probe_is_layer(p->layers, k) && !qb_probe_layer_output(p->layers, k, &layer)) return;
  float* copy = malloc((out->numel ? out->numel : 1) * sizeof *copy);
  if (!copy) {
    p->failed = 1;
    return;
  }
  memcpy(copy, out->data, out->numel * sizeof *copy);
  p->em->probe_fp32[k] = copy;
}

static int probe_fp32(qb_eval_model* em, qb_error* err) {
  if (qb_model_prepare(&em->m, em->probe, err)) return -1;
  em->probe_fp32 = calloc(em->m.nnodes ? em->m.nnodes : 1, sizeof *em->probe_fp32);
  if (!em->probe_fp32) return qb_fail(err, "out of memory");
  probe_ctx p = {em, em->calibration, 0};
  const qb_model_exec exec = {QB_EXEC_FP32, NULL, keep_output, &p, false};
  const float* x = em->test.x;
  if (qb_model_run(&em->m, &x, &exec, err)) return -1;
  return p.failed ? qb_fail(err, "out of memory keeping probe activations") : 0;
}

/* Calibration once per model: a static default qconfig on the scalar backend whose
 * statistics (per-batch min/max and a value sample per activation) are copied into
 * every static item's state (qb_probe_copy_calibration). */
static int calibrate_once(qb_eval_model* em, const qb_sweep_config* cfg, qb_error* err) {
  qb_qconfig qc = qb_qconfig_default();
  qc.workflow = QB_WORKFLOW_STATIC;
  if (!em->m.prepared && qb_model_prepare(&em->m, 1, err)) return -1;
  if (qb_quant_create(&em->m, &qc, QB_BACKEND_SCALAR, &em->calibration, err)) return -1;
  return qb_model_calibrate(&em->m, em->calibration, &em->calib, (size_t)cfg->calibration,
                            QB_SWEEP_BATCH, err);
}

static int load(qb_sweep_evaluator* ev, const qb_sweep_config* cfg, size_t index,
                const char* path, qb_eval_model* em, qb_error* err) {
  const qb_sweep_model* sm = &cfg->models[index];
  if (qb_model_load_onnx(path, &em->m, err)) return -1;
  em->loaded = true, em->index = index;
  snprintf(em->path, sizeof em->path, "%s", path);
  if (load_data(ev, sm, em, err)) return -1;
  /* Symbolic dimensions (PaddleOCR's H and W) take the data's sample shape. */
  if (qb_model_fit_input(&em->m, em->test.ndim, em->test.dims, err)) return -1;
  const size_t n = em->test.count;
  em->eval_count = cfg->eval_limit > 0 && (size_t)cfg->eval_limit < n ? (size_t)cfg->eval_limit : n;
  if (em->eval_count == 0) return qb_fail(err, "model %s: the evaluation data is empty", sm->name);
  const size_t probe = ev->opt.probe ? ev->opt.probe : QB_SWEEP_PROBE_DEFAULT;
  em->probe = probe < em->eval_count ? probe : em->eval_count;
  if (calibrate_once(em, cfg, err)) return -1;
  if (qb_model_evaluate(&em->m, &em->test, em->eval_count, QB_SWEEP_BATCH, NULL, NULL, NULL,
                        &em->fp32, err))
    return -1;
  const size_t ns = em->eval_count < QB_SWEEP_SENS_LIMIT ? em->eval_count : QB_SWEEP_SENS_LIMIT;
  if (qb_model_evaluate(&em->m, &em->test, ns, QB_SWEEP_BATCH, NULL, NULL, NULL, &em->fp32_sens,
                        err))
    return -1;
  return probe_fp32(em, err);
}

/* load(), with the model named in the message and nothing left loaded on failure. */
static int load_or_fail(qb_sweep_evaluator* ev, const qb_sweep_config* cfg, size_t index,
                        const char* path, qb_eval_model* em, qb_error* err) {
  if (load(ev, cfg, index, path, em, err) == 0) return 0;
  char inner[sizeof err->msg];
  memcpy(inner, err->msg, sizeof inner);
  inner[sizeof inner - 1] = 0;
  qb_eval_model_free(em);
  return qb_fail(err, "model %s (%s): %s", cfg->models[index].name, path, inner);
}

int qb_eval_model_ensure(qb_sweep_evaluator* ev, const qb_sweep_config* cfg, size_t index,
                         qb_error* err) {
  if (ev->model.loaded && ev->model.index == index) return 0;
  qb_eval_model_free(&ev->model);
  qb_eval_model_free(&ev->tuned);
  const qb_sweep_model* sm = &cfg->models[index];
  if (access(sm->path, R_OK))
    return qb_fail(err, "%s:%d:%d: model %s not found%s", cfg->file, sm->mark.line,
                   sm->mark.column, sm->path,
                   sm->reference ? " (train the reference models first, or set QB_MODELS_DIR "
                                   "to the folder that holds them)"
                                 : "");
  if (strcmp(sm->data, "fashion-mnist") && access(sm->data, R_OK))
    return qb_fail(err, "%s:%d:%d: data file %s not found", cfg->file, sm->mark.line,
                   sm->mark.column, sm->data);
  return load_or_fail(ev, cfg, index, sm->path, &ev->model, err);
}

int qb_eval_tuned_ensure(qb_sweep_evaluator* ev, const qb_sweep_config* cfg,
                         const qb_plan_item* item, qb_error* err) {
  if (qb_eval_model_ensure(ev, cfg, item->model, err)) return -1;
  char path[sizeof ev->tuned.path];
  if (qb_sweep_qat_model(cfg, item, ev->opt.fmnist_dir, ev->opt.log, path, sizeof path, err))
    return -1;
  if (ev->tuned.loaded && !strcmp(ev->tuned.path, path)) return 0;
  qb_eval_model_free(&ev->tuned);
  return load_or_fail(ev, cfg, item->model, path, &ev->tuned, err);
}

int qb_eval_model_run(qb_eval_model* em, qb_quant_state* q, size_t limit, qb_eval_result* out,
                      qb_error* err) {
  const qb_model_exec exec = {QB_EXEC_INTEGER, q, NULL, NULL, false};
  return qb_model_evaluate(&em->m, &em->test, limit, QB_SWEEP_BATCH, &exec, NULL, NULL, out, err);
}
