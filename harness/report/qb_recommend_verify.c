#include "qb_recommend_verify.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_json_scan.h"
#include "qb_model_mixed.h"
#include "qb_sweep_config.h"
#include "qb_sweep_eval.h"

/* What the run evaluated: its sweep config, recorded in run.json. */
static int load_run_config(const qb_run_data* run, qb_sweep_config* cfg, qb_error* err) {
  if (!strncmp(run->source, "db:", 3))
    return qb_fail(err, "%s: --verify needs the run folder (its run.json holds the config)", run->source);
  char path[1100];
  snprintf(path, sizeof path, "%s/run.json", run->source);
  size_t len = 0;
  char* json = qb_read_text_file(path, &len);
  if (!json) return qb_fail(err, "%s: cannot read (needed for --verify)", path);
  char* text = malloc(len + 1);
  char file[QB_SWEEP_PATH_MAX] = "";
  int rc = 0;
  if (!text) rc = qb_fail(err, "out of memory");
  else if (!qb_json_scan_string(json, len, "config_text", text, len + 1) || !text[0])
    rc = qb_fail(err, "%s: no config_text (was the run made by qbench sweep?)", path);
  if (!rc) {
    qb_json_scan_string(json, len, "config_file", file, sizeof file);
    rc = qb_sweep_config_parse(text, strlen(text), file[0] ? file : path, cfg, err);
  }
  free(text), free(json);
  return rc;
}

typedef struct {
  qb_model m;
  qb_dataset test, calib;
  size_t count;
  qb_eval_result fp32;
} verify_data;

static int load_data(const qb_sweep_model* sm, const char* fmnist_dir, verify_data* d, qb_error* err) {
  if (qb_model_load_onnx(sm->path, &d->m, err)) return -1;
  if (!strcmp(sm->data, "fashion-mnist")) {
    qb_preprocess pp;
    if (qb_preprocess_parse(d->m.meta_preprocess, &pp, err)) return -1;
    const char* dir = fmnist_dir ? fmnist_dir : QB_FASHION_MNIST;
    return qb_dataset_fmnist(dir, "test", &pp, &d->test, err) ||
                   qb_dataset_fmnist(dir, "calib", &pp, &d->calib, err)
               ? -1
               : 0;
  }
  return qb_dataset_npy(sm->data, sm->labels, &d->test, err) || qb_dataset_npy(sm->data, NULL, &d->calib, err)
             ? -1
             : 0;
}

static void free_data(verify_data* d) {
  qb_eval_result_free(&d->fp32);
  qb_dataset_free(&d->test), qb_dataset_free(&d->calib);
  qb_model_free(&d->m);
}

/* The backend the plan's cost was measured on: --backend, else the best ranked
 * qconfig's, else (size objective) the run's first; the best exact one when the run
 * names none. Exact backends give identical integer results, so this only matters
 * for a run on an inexact one (avx2-sat). */
static int plan_backend(const qb_run_index* idx, const qb_recommend_query* q, const qb_recommendation* r,
                        qb_backend* out, qb_error* err) {
  const char* name = q->backend ? q->backend
                     : r->nranked && r->ranked[0].backend >= 0 ? idx->backends[r->ranked[0].backend]
                     : idx->nbackends > 0                     ? idx->backends[0]
                                                              : NULL;
  *out = QB_BACKEND_COUNT;
  if (name && qb_backend_from_name(name, strlen(name), out))
    return qb_fail(err, "backend '%s' is not known to this build", name);
  return 0;
}

/* Node choices from the plan's layers (by node name; a static layer's row names the
 * nodes it covers, "fc1+relu1", and the layer is the first); nodes not in the plan
 * take option 0 (every quantized layer has sensitivity rows, so none should). */
static int plan_choice(const qb_model* m, const qb_recommendation* r, int* choice, qb_error* err) {
  for (size_t k = 0; k < m->nnodes; k++) choice[k] = 0;
  for (size_t l = 0; l < r->nlayers; l++) {
    const char* layer = r->layers[l].layer;
    const char* plus = strchr(layer, '+');
    const size_t len = plus ? (size_t)(plus - layer) : strlen(layer);
    size_t k = 0;
    while (k < m->nnodes && (strlen(m->nodes[k].name) != len || strncmp(m->nodes[k].name, layer, len)))
      k++;
    if (k == m->nnodes) return qb_fail(err, "layer '%s' of the plan is not a node of the model", r->layers[l].layer);
    choice[k] = r->layers[l].option < 0 ? QB_MIXED_FLOAT : r->layers[l].option;
  }
  return 0;
}

/* Fallback step: the most sensitive layer still quantized goes to float. */
static bool fall_back_one(qb_recommendation* r) {
  qb_plan_layer* worst = NULL;
  for (size_t l = 0; l < r->nlayers; l++)
    if (r->layers[l].option >= 0 && (!worst || r->layers[l].sensitivity > worst->sensitivity)) worst = &r->layers[l];
  if (!worst) return false;
  r->predicted_drop -= worst->sensitivity;
  worst->option = -1, worst->sensitivity = 0, worst->cost = NAN, worst->fallback = true;
  return true;
}

/* The plan's top-1 (%) and its drop from fp32 (pp). The drop is taken from the counts of
 * correct samples, so a drop of exactly the budget compares equal to it (91.5 - 91.3
 * in floating point is 0.2000000000000028 > 0.2). */
static int measure(qb_mixed* x, verify_data* d, qb_recommendation* r, int* choice, double* drop,
                   qb_error* err) {
  if (plan_choice(&d->m, r, choice, err)) return -1;
  qb_eval_result res;
  if (qb_mixed_evaluate(x, &d->m, choice, QB_EXEC_INTEGER, &d->test, d->count, QB_SWEEP_BATCH, &res, err))
    return -1;
  r->measured_top1 = 100 * res.top1;
  *drop = 100.0 * ((double)d->fp32.correct - (double)res.correct) / (double)res.count;
  qb_eval_result_free(&res);
  return 0;
}

static int run_plan(const qb_sweep_config* cfg, qb_backend backend, verify_data* d, const qb_verify_options* opt,
                    const qb_recommend_query* q, qb_recommendation* r, qb_error* err) {
  qb_qconfig* cfgs = calloc(r->noptions + 1, sizeof *cfgs);
  int* choice = calloc(d->m.nnodes + 1, sizeof *choice);
  qb_mixed* x = NULL;
  int rc = cfgs && choice ? 0 : qb_fail(err, "out of memory");
  for (size_t o = 0; !rc && o < r->noptions; o++) {
    char t[160];
    qb_qconfig_cli_text(&r->options[o]->id, t, sizeof t);
    rc = qb_qconfig_parse(t, &cfgs[o], err);
  }
  if (!rc) rc = qb_model_prepare(&d->m, QB_SWEEP_BATCH, err) ||
                qb_mixed_create(&d->m, cfgs, r->noptions, backend, &x, err);
  if (!rc && cfgs[0].workflow == QB_WORKFLOW_STATIC)
    rc = qb_model_calibrate(&d->m, qb_mixed_base(x), &d->calib, (size_t)cfg->calibration, QB_SWEEP_BATCH, err) ||
         qb_mixed_share_calibration(x, err);
  if (!rc) {
    snprintf(r->verify_backend, sizeof r->verify_backend, "%s", qb_quant_backend_name(qb_mixed_base(x)));
    rc = measure(x, d, r, choice, &r->measured_drop, err);
    r->first_measured_drop = r->measured_drop;
    r->first_predicted_drop = r->predicted_drop;
  }
  while (!rc && r->measured_drop > q->max_drop && r->fallback_rounds < opt->max_rounds && fall_back_one(r)) {
    r->fallback_rounds++;
    if (opt->log)
      fprintf(opt->log, "verify: measured drop %.2f pp over the %.2f pp budget: one more layer to float (round %d)\n",
              r->measured_drop, q->max_drop, r->fallback_rounds);
    rc = measure(x, d, r, choice, &r->measured_drop, err);
  }
  if (!rc) {
    r->plan_within_budget = r->measured_drop <= q->max_drop;
    r->verified = true;
  }
  qb_mixed_free(x);
  free(cfgs), free(choice);
  return rc;
}

int qb_recommend_verify(const qb_run_data* run, const qb_run_index* idx, const qb_recommend_query* q,
                        const qb_verify_options* opt, qb_recommendation* r, qb_error* err) {
  if (!r->nlayers || !r->noptions) return qb_fail(err, "no mixed-precision plan to verify (%s)", r->plan_note);
  qb_backend backend;
  if (plan_backend(idx, q, r, &backend, err)) return -1;
  qb_sweep_config cfg;
  if (load_run_config(run, &cfg, err)) return -1;
  const qb_sweep_model* sm = NULL;
  for (size_t i = 0; i < cfg.nmodels && !sm; i++)
    if (!strcmp(cfg.models[i].name, q->model)) sm = &cfg.models[i];
  verify_data d;
  memset(&d, 0, sizeof d);
  int rc = sm ? 0 : qb_fail(err, "%s: model '%s' is not in the run's config", run->source, q->model);
  if (!rc) rc = load_data(sm, opt->fmnist_dir, &d, err);
  if (!rc) {
    const size_t n = d.test.count;
    d.count = cfg.eval_limit > 0 && (size_t)cfg.eval_limit < n ? (size_t)cfg.eval_limit : n;
    r->verify_samples = d.count;
    r->verify_calibration = (size_t)cfg.calibration;
    rc = qb_model_evaluate(&d.m, &d.test, d.count, QB_SWEEP_BATCH, NULL, NULL, NULL, &d.fp32, err);
  }
  if (!rc) {
    r->fp32_top1 = 100 * d.fp32.top1;
    rc = run_plan(&cfg, backend, &d, opt, q, r, err);
  }
  if (rc && sm) {
    char inner[sizeof err->msg];
    memcpy(inner, err->msg, sizeof inner);
    inner[sizeof inner - 1] = 0;
    qb_fail(err, "verifying the plan of %s (%s): %s", q->model, sm->path, inner);
  }
  free_data(&d);
  qb_sweep_config_free(&cfg);
  return rc;
}

/* ", key: ABSOLUTE" for a non-empty path. */
static void entry_path(char* out, size_t size, const char* key, const char* path) {
  if (!path[0]) return;
  char abs[PATH_MAX];
  const char* p = realpath(path, abs) ? abs : path;
  const size_t used = strlen(out);
  snprintf(out + used, size - used, ", %s: %s", key, p);
}

int qb_recommend_model_entry(const qb_run_data* run, const char* model, char* out, size_t size,
                             qb_error* err) {
  qb_sweep_config cfg;
  if (load_run_config(run, &cfg, err)) return -1;
  int rc = qb_fail(err, "%s: model '%s' is not in the run's config", run->source, model);
  for (size_t i = 0; i < cfg.nmodels; i++) {
    const qb_sweep_model* m = &cfg.models[i];
    if (strcmp(m->name, model)) continue;
    if (m->reference) {
      snprintf(out, size, "{name: %s}", m->name);
    } else {
      snprintf(out, size, "{name: %s, task: %s", m->name, qb_task_name(m->task));
      entry_path(out, size, "path", m->path);
      const bool builtin = !strcmp(m->data, "fashion-mnist") || !strcmp(m->data, "generated");
      if (builtin) snprintf(out + strlen(out), size - strlen(out), ", data: %s", m->data);
      else entry_path(out, size, "data", m->data);
      entry_path(out, size, "labels", m->labels);
      entry_path(out, size, "calibration_data", m->calibration_data);
      entry_path(out, size, "dictionary", m->dictionary);
      if (m->limit) snprintf(out + strlen(out), size - strlen(out), ", limit: %ld", m->limit);
      if (m->calibration)
        snprintf(out + strlen(out), size - strlen(out), ", calibration: %ld", m->calibration);
      snprintf(out + strlen(out), size - strlen(out), "}");
    }
    rc = 0;
    break;
  }
  qb_sweep_config_free(&cfg);
  return rc;
}

int qb_run_model_describe(const qb_run_data* run, const char* model, char* out, size_t size,
                          qb_error* err) {
  qb_sweep_config cfg;
  if (load_run_config(run, &cfg, err)) return -1;
  int rc = qb_fail(err, "%s: model '%s' is not in the run's config", run->source, model);
  for (size_t i = 0; i < cfg.nmodels; i++)
    if (!strcmp(cfg.models[i].name, model)) {
      qb_sweep_model_describe(&cfg.models[i], out, size);
      rc = 0;
      break;
    }
  qb_sweep_config_free(&cfg);
  return rc;
}
