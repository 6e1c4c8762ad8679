/* The evaluator's per-model cache: model, data, fp32 baseline, probe activations and
 * the one calibration every static qconfig reuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb_results_files.h"
#include "qb_model_probe.h"
#include "qb_ocr_synth.h"
#include "qb_sweep_eval_internal.h"
#include "qb_sweep_qat.h"
#include "qb_hash.h"

void qb_eval_model_free(qb_eval_model* em) {
  if (!em->loaded) return;
  if (em->probe_fp32)
    for (size_t k = 0; k < em->m.nnodes; k++) free(em->probe_fp32[k]);
  free(em->probe_fp32);
  qb_quant_free(em->calibration);
  for (size_t i = 0; i < em->nranges; i++) free(em->ranges[i].qp), free(em->ranges[i].has);
  qb_eval_result_free(&em->fp32), qb_eval_result_free(&em->fp32_sens);
  qb_task_ctx_free(&em->task), qb_task_labels_free(&em->labels);
  qb_dataset_free(&em->test), qb_dataset_free(&em->calib);
  qb_model_free(&em->m);
  memset(em, 0, sizeof *em);
}

/* The generated data of an ocr-* model: <output>/cache/ocr-data/<key>, written once
 * (into a temporary folder renamed into place, so a half-written set is never read). */
static int generated_dir(const qb_sweep_config* cfg, size_t index, char* dir, size_t size,
                         qb_error* err) {
  const qb_sweep_model* sm = &cfg->models[index];
  const long limit = qb_sweep_model_limit(cfg, index);
  const size_t count = limit > 0 ? (size_t)limit : QB_SWEEP_GENERATED_DEFAULT;
  const size_t calib = (size_t)qb_sweep_model_calibration(cfg, index);
  const uint64_t h = qb_fnv1a64_str(sm->dictionary); /* the dictionary path's characters */
  char parent[QB_SWEEP_PATH_MAX + 32];
  snprintf(parent, sizeof parent, "%s/cache/ocr-data", cfg->output);
  if (qb_mkdir_p(parent, err)) return -1;
  snprintf(dir, size, "%s/%s-seed%llu-eval%zu-calib%zu-%08llx", parent, qb_task_name(sm->task),
           (unsigned long long)cfg->seed, count, calib, (unsigned long long)(h & 0xffffffffu));
  char probe[QB_SWEEP_PATH_MAX + 200];
  snprintf(probe, sizeof probe, "%s/preprocess.txt", dir);
  if (access(probe, R_OK) == 0) return 0;
  char tmp[QB_SWEEP_PATH_MAX + 200];
  snprintf(tmp, sizeof tmp, "%s.tmp%ld", dir, (long)getpid());
  const qb_ocr_synth_options o = {sm->task, cfg->seed, count, calib,
                                  sm->dictionary[0] ? sm->dictionary : NULL, NULL, NULL};
  if (qb_ocr_synth_write(&o, tmp, err)) return -1;
  if (rename(tmp, dir) && access(probe, R_OK))
    return qb_fail(err, "%s: cannot move the generated data into place", dir);
  return 0;
}


static int load_data(const qb_sweep_evaluator* ev, const qb_sweep_config* cfg, size_t index,
                     qb_eval_model* em, qb_error* err) {
  const qb_sweep_model* sm = &cfg->models[index];
  if (!strcmp(sm->data, "fashion-mnist")) {
    qb_preprocess pp;
    const char* dir = ev->opt.fmnist_dir ? ev->opt.fmnist_dir : QB_FASHION_MNIST;
    if (qb_preprocess_parse(em->m.meta_preprocess, &pp, err)) return -1;
    if (qb_dataset_fmnist(dir, "test", &pp, &em->test, err)) return -1;
    return qb_dataset_fmnist(dir, "calib", &pp, &em->calib, err);
  }
  const bool cls_labels = sm->task == QB_TASK_CLASSIFICATION || sm->task == QB_TASK_OCR_CLS;
  char x[QB_SWEEP_PATH_MAX + 200], y[QB_SWEEP_PATH_MAX + 200], c[QB_SWEEP_PATH_MAX + 200];
  if (!strcmp(sm->data, "generated")) {
    char dir[QB_SWEEP_PATH_MAX + 100];
    if (generated_dir(cfg, index, dir, sizeof dir, err)) return -1;
    snprintf(x, sizeof x, "%s/eval.npy", dir);
    snprintf(y, sizeof y, "%s/eval-labels.%s", dir, cls_labels ? "npy" : "txt");
    snprintf(c, sizeof c, "%s/calib.npy", dir);
  } else {
    snprintf(x, sizeof x, "%s", sm->data);
    snprintf(y, sizeof y, "%s", sm->labels);
    snprintf(c, sizeof c, "%s", sm->calibration_data);
  }
  if (qb_dataset_npy(x, cls_labels && y[0] ? y : NULL, &em->test, err)) return -1;
  if (!cls_labels && y[0] && qb_task_labels_load(sm->task, y, em->test.count, &em->labels, err))
    return -1;
  if (c[0]) return qb_dataset_npy(c, NULL, &em->calib, err);
  /* Text / box labels were read for all N samples; the evaluation reads the first ones. */
  return qb_dataset_split_tail(&em->test, &em->calib, (size_t)qb_sweep_model_calibration(cfg, index), err);
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
  return qb_model_calibrate(&em->m, em->calibration, &em->calib,
                            (size_t)qb_sweep_model_calibration(cfg, em->index), QB_SWEEP_BATCH, err);
}

static int load(qb_sweep_evaluator* ev, const qb_sweep_config* cfg, size_t index,
                const char* path, qb_eval_model* em, qb_error* err) {
  const qb_sweep_model* sm = &cfg->models[index];
  if (qb_model_load_onnx(path, &em->m, err)) return -1;
  em->loaded = true, em->index = index;
  snprintf(em->path, sizeof em->path, "%s", path);
  if (load_data(ev, cfg, index, em, err)) return -1;
  /* Symbolic dimensions (PaddleOCR's H and W) take the data's sample shape. */
  if (qb_model_fit_input(&em->m, em->test.ndim, em->test.dims, err)) return -1;
  const size_t n = em->test.count;
  const long limit = qb_sweep_model_limit(cfg, index);
  em->eval_count = limit > 0 && (size_t)limit < n ? (size_t)limit : n;
  if (em->eval_count == 0) return qb_fail(err, "model %s: the evaluation data is empty", sm->name);
  const size_t probe = ev->opt.probe ? ev->opt.probe : QB_SWEEP_PROBE_DEFAULT;
  em->probe = probe < em->eval_count ? probe : em->eval_count;
  if (qb_model_set_threads(&em->m, ev->opt.eval_threads ? ev->opt.eval_threads : 1, err)) return -1;
  if (calibrate_once(em, cfg, err)) return -1;
  /* The task's context needs the output shapes: the model is prepared (batch 1). */
  if (qb_task_ctx_init(&em->task, sm->task, &em->m, sm->dictionary, err)) return -1;
  if (qb_model_evaluate_task(&em->m, &em->test, em->eval_count, QB_SWEEP_BATCH, NULL, &em->task,
                             NULL, NULL, &em->fp32, err) ||
      qb_eval_model_score(em, &em->fp32, &em->fp32, &em->fp32_score, err))
    return -1;
  const size_t ns = em->eval_count < QB_SWEEP_SENS_LIMIT ? em->eval_count : QB_SWEEP_SENS_LIMIT;
  if (qb_model_evaluate_task(&em->m, &em->test, ns, QB_SWEEP_BATCH, NULL, &em->task, NULL, NULL,
                             &em->fp32_sens, err) ||
      qb_eval_model_score(em, &em->fp32_sens, &em->fp32_sens, &em->fp32_sens_score, err))
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
  if (strcmp(sm->data, "fashion-mnist") && strcmp(sm->data, "generated") && access(sm->data, R_OK))
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
  return qb_model_evaluate_task(&em->m, &em->test, limit, QB_SWEEP_BATCH, &exec, &em->task, NULL,
                                NULL, out, err);
}

int qb_eval_model_score(const qb_eval_model* em, const qb_eval_result* r, const qb_eval_result* ref,
                        qb_task_score* out, qb_error* err) {
  return qb_task_evaluate(&em->task, r->logits, r->count, r->classes, em->test.labels, &em->labels,
                          ref ? ref->logits : NULL, out, err);
}
