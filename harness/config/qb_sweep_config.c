/* Sweep config schema on top of qb_yaml_walk: one handler per key. */
#include "qb_sweep_config.h"

#include "qb_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_ocr_synth.h"
#include "qb_yaml_walk.h"

static const char* const kMeasureNames[] = {"accuracy", "per-layer", "sensitivity", "speed",
                                            "memory"};
enum { QB_MEASURE_KINDS = sizeof kMeasureNames / sizeof *kMeasureNames };
/* The reference models harness/models/reference/<name>.onnx (trained on Fashion-MNIST). */
static const char* const kReferenceModels[] = {"mlp", "cnn", "dwnet", "vit", NULL};

int qb_sweep_workflow_parse(const char* text, qb_workflow* out) {
  static const qb_workflow kAll[QB_SWEEP_WORKFLOWS] = {
      QB_WORKFLOW_WEIGHT_ONLY, QB_WORKFLOW_DYNAMIC, QB_WORKFLOW_STATIC, QB_WORKFLOW_QAT};
  for (int i = 0; i < QB_SWEEP_WORKFLOWS; i++)
    if (!strcmp(text, qb_workflow_name(kAll[i]))) {
      *out = kAll[i];
      return 0;
    }
  return -1;
}

const char* qb_measure_name(unsigned m) {
  for (unsigned i = 0; i < QB_MEASURE_KINDS; i++)
    if (m == 1u << i) return kMeasureNames[i];
  return NULL;
}

const char* qb_reference_models_dir(void) {
  const char* env = getenv("QB_MODELS_DIR");
  return env && *env ? env : QB_SOURCE_DIR "/harness/models/reference";
}

/* ---- parse state ---------------------------------------------------------------- */

typedef struct {
  qb_sweep_config* cfg;
  char dir[QB_SWEEP_PATH_MAX]; /* folder of the config file, for relative paths */
  bool seen_models;
  const yaml_node_t* grids; /* read after the top-level keys, which its entries inherit */
} parse_state;

const char* qb_models_cache_dir(char* buf, size_t size) {
  const char* env = getenv("QB_MODELS_CACHE");
  if (env && *env) snprintf(buf, size, "%s", env);
  else snprintf(buf, size, "%s/.cache/qbench/models", getenv("HOME") ? getenv("HOME") : ".");
  return buf;
}

/* A relative path in the config is relative to the config file's folder; a path
 * starting with $QB_MODELS_CACHE/ is in the models cache (.ci/models). */
static int resolve_path(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path,
                        const parse_state* st, char* out) {
  char raw[QB_SWEEP_PATH_MAX];
  if (qb_yaml_string(c, n, path, raw, sizeof raw)) return -1;
  static const char kCache[] = "$QB_MODELS_CACHE/";
  if (!strncmp(raw, kCache, sizeof kCache - 1)) {
    char dir[QB_SWEEP_PATH_MAX];
    const int w = snprintf(out, QB_SWEEP_PATH_MAX, "%s/%s", qb_models_cache_dir(dir, sizeof dir),
                           raw + sizeof kCache - 1);
    return w < 0 || w >= QB_SWEEP_PATH_MAX ? qb_yaml_expected(c, n, path, "a shorter path") : 0;
  }
  int w = raw[0] == '/' || !st->dir[0]
              ? snprintf(out, QB_SWEEP_PATH_MAX, "%s", raw)
              : snprintf(out, QB_SWEEP_PATH_MAX, "%s/%s", st->dir, raw);
  if (w < 0 || w >= QB_SWEEP_PATH_MAX)
    return qb_yaml_expected(c, n, path, "a shorter path");
  return 0;
}

/* ---- axes ------------------------------------------------------------------------ */

static int bits_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t i,
                     void* user) {
  qb_tensor_axes* ax = user;
  long v;
  const char* s = qb_yaml_scalar(n);
  char* end;
  v = strtol(s, &end, 10);
  if (!*s || *end || !((v >= 2 && v <= 8) || v == 16))
    return qb_yaml_expected(c, n, path, "bits in 2..8 or 16");
  ax->bits[i] = (int)v;
  ax->nbits = i + 1;
  return 0;
}

static int scheme_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t i,
                       void* user) {
  qb_tensor_axes* ax = user;
  const char* s = qb_yaml_scalar(n);
  if (!strcmp(s, "symmetric")) ax->scheme[i] = QB_SYMMETRIC;
  else if (!strcmp(s, "affine")) ax->scheme[i] = QB_AFFINE;
  else return qb_yaml_expected(c, n, path, "symmetric or affine");
  ax->nscheme = i + 1;
  return 0;
}

static int granularity_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path,
                            size_t i, void* user) {
  qb_tensor_axes* ax = user;
  qb_error perr;
  if (qb_granularity_parse(qb_yaml_scalar(n), &ax->granularity[i], &perr))
    return qb_yaml_expected(c, n, path, "tensor, channel or group:G with G in 1..1048576");
  ax->ngranularity = i + 1;
  return 0;
}

static int range_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t i,
                      void* user) {
  qb_tensor_axes* ax = user;
  qb_error perr;
  if (qb_range_parse(qb_yaml_scalar(n), &ax->range[i], &perr))
    return qb_yaml_expected(c, n, path,
                            "minmax, movavg, percentile:P (50 < P <= 100), mse, entropy or "
                            "crossentropy");
  ax->nrange = i + 1;
  return 0;
}

static int storage_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t i,
                        void* user) {
  qb_tensor_axes* ax = user;
  const char* s = qb_yaml_scalar(n);
  if (!strcmp(s, "signed")) ax->is_signed[i] = true;
  else if (!strcmp(s, "unsigned")) ax->is_signed[i] = false;
  else return qb_yaml_expected(c, n, path, "signed or unsigned");
  ax->nstorage = i + 1;
  return 0;
}

static int restricted_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path,
                           size_t i, void* user) {
  qb_tensor_axes* ax = user;
  const char* s = qb_yaml_scalar(n);
  if (!strcmp(s, "true")) ax->restricted[i] = true;
  else if (!strcmp(s, "false")) ax->restricted[i] = false;
  else return qb_yaml_expected(c, n, path, "true or false");
  ax->nrestricted = i + 1;
  return 0;
}

static int rounding_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t i,
                         void* user) {
  qb_tensor_axes* ax = user;
  const char* s = qb_yaml_scalar(n);
  if (!strcmp(s, "div")) ax->rounding[i] = QB_ROUND_DIV;
  else if (!strcmp(s, "mulrecip")) ax->rounding[i] = QB_ROUND_MUL_RECIP;
  else return qb_yaml_expected(c, n, path, "div or mulrecip");
  ax->nrounding = i + 1;
  return 0;
}

static int axes_field(const qb_yaml_ctx* c, const char* key, const yaml_node_t* v,
                      const char* path, void* user) {
  qb_tensor_axes* ax = user;
  if (!strcmp(key, "bits")) return qb_yaml_each_scalar(c, v, path, QB_SWEEP_MAX_AXIS, bits_item, ax);
  if (!strcmp(key, "storage"))
    return qb_yaml_each_scalar(c, v, path, QB_SWEEP_MAX_AXIS, storage_item, ax);
  if (!strcmp(key, "restricted"))
    return qb_yaml_each_scalar(c, v, path, QB_SWEEP_MAX_AXIS, restricted_item, ax);
  if (!strcmp(key, "rounding"))
    return qb_yaml_each_scalar(c, v, path, QB_SWEEP_MAX_AXIS, rounding_item, ax);
  if (!strcmp(key, "scheme"))
    return qb_yaml_each_scalar(c, v, path, QB_SWEEP_MAX_AXIS, scheme_item, ax);
  if (!strcmp(key, "granularity"))
    return qb_yaml_each_scalar(c, v, path, QB_SWEEP_MAX_AXIS, granularity_item, ax);
  return qb_yaml_each_scalar(c, v, path, QB_SWEEP_MAX_AXIS, range_item, ax);
}

static const char* const kAxesKeys[] = {"bits", "scheme", "granularity", "range", "storage",
                                        "restricted", "rounding", NULL};

/* Defaults: weights w8 symmetric signed per-channel min-max, activations a8 affine
 * unsigned per-tensor min-max (the usual int8 deployment choice, what the int8
 * kernels take); full range, rounding div (as ONNX's QuantizeLinear). */
static void axes_default(qb_tensor_axes* ax, qb_symmetry scheme, qb_granularity_kind g,
                         bool is_signed) {
  memset(ax, 0, sizeof *ax);
  ax->bits[0] = 8;
  ax->nbits = 1;
  ax->scheme[0] = scheme;
  ax->nscheme = 1;
  ax->granularity[0].kind = g;
  ax->ngranularity = 1;
  ax->range[0] = qb_range_default(QB_RANGE_MINMAX);
  ax->nrange = 1;
  ax->is_signed[0] = is_signed;
  ax->nstorage = 1;
  ax->restricted[0] = false;
  ax->nrestricted = 1;
  ax->rounding[0] = QB_ROUND_DIV;
  ax->nrounding = 1;
}

/* ---- models ---------------------------------------------------------------------- */

typedef struct {
  parse_state* st;
  qb_sweep_model* m;
  const yaml_node_t *name, *path, *data, *labels, *task, *calib, *dict, *limit, *calibration;
} model_fields;

static const char* const kModelKeys[] = {"name", "path", "data", "labels", "task",
                                         "calibration_data", "dictionary", "limit",
                                         "calibration", NULL};

static int model_field(const qb_yaml_ctx* c, const char* key, const yaml_node_t* v,
                       const char* path, void* user) {
  (void)c, (void)path;
  model_fields* f = user;
  const yaml_node_t** slot[] = {&f->name, &f->path, &f->data, &f->labels, &f->task,
                                &f->calib, &f->dict, &f->limit, &f->calibration};
  for (size_t i = 0; kModelKeys[i]; i++)
    if (!strcmp(key, kModelKeys[i])) *slot[i] = v;
  return 0;
}

static bool is_reference(const char* name) {
  for (size_t i = 0; kReferenceModels[i]; i++)
    if (!strcmp(kReferenceModels[i], name)) return true;
  return false;
}

/* The stem of a path: "dir/my.model.onnx" -> "my.model". */
static void path_stem(const char* path, char* out, size_t size) {
  const char* base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const size_t n = strlen(base) < size ? strlen(base) : size - 1;
  memcpy(out, base, n);
  out[n] = 0;
  char* dot = strrchr(out, '.');
  if (dot && dot != out) *dot = '\0';
}

static const char* scalar_or_empty(const yaml_node_t* n) {
  const char* s = n ? qb_yaml_scalar(n) : NULL;
  return s ? s : "";
}

/* A key that the entry's data or task does not take. */
static int not_with(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, const char* key,
                    const char* why) {
  return n ? qb_yaml_fail_at(c, n, path, "expected no '%s' %s", key, why) : 0;
}

static int model_data(const qb_yaml_ctx* c, model_fields* f, const char* path) {
  qb_sweep_model* m = f->m;
  const char* data = scalar_or_empty(f->data);
  const bool ocr = m->task == QB_TASK_OCR_REC || m->task == QB_TASK_OCR_CLS || m->task == QB_TASK_OCR_DET;
  if (!f->data && !m->reference)
    return qb_yaml_fail_at(c, f->path, path, "expected 'data' (fashion-mnist, generated or an .npy "
                           "file) with an ONNX path, got none");
  if (m->task == QB_TASK_OCR_REC) {
    if (!f->dict)
      return qb_yaml_fail_at(c, f->task, path, "expected 'dictionary' (the recognizer's character "
                             "list) with task ocr-rec, got none");
    if (resolve_path(c, f->dict, path, f->st, m->dictionary)) return -1;
  } else if (not_with(c, f->dict, path, "dictionary", "(only ocr-rec decodes text)")) {
    return -1;
  }
  if (!f->data || !strcmp(data, "fashion-mnist")) {
    if (m->task != QB_TASK_CLASSIFICATION)
      return qb_yaml_expected(c, f->data ? f->data : f->task, path,
                              "fashion-mnist data only with task classification");
    snprintf(m->data, sizeof m->data, "fashion-mnist");
    return not_with(c, f->labels, path, "labels", "with data fashion-mnist") ||
           not_with(c, f->calib, path, "calibration_data", "with data fashion-mnist (its calibration "
                    "split is fixed)");
  }
  if (!strcmp(data, "generated")) {
    if (!ocr) return qb_yaml_expected(c, f->data, path, "generated data only with task ocr-rec, ocr-cls or ocr-det");
    snprintf(m->data, sizeof m->data, "generated");
    return not_with(c, f->labels, path, "labels", "with generated data") ||
           not_with(c, f->calib, path, "calibration_data", "with generated data (it has its own)");
  }
  if (resolve_path(c, f->data, path, f->st, m->data)) return -1;
  if (f->calib && resolve_path(c, f->calib, path, f->st, m->calibration_data)) return -1;
  if (!qb_task_needs_labels(m->task))
    return not_with(c, f->labels, path, "labels", "with task outputs (it compares with fp32)");
  if (!f->labels)
    return qb_yaml_fail_at(c, f->data, path, "expected 'labels' (%s) with an .npy data file and "
                           "task %s, got none",
                           m->task == QB_TASK_OCR_REC   ? "a text file, one line per sample"
                           : m->task == QB_TASK_OCR_DET ? "a text file of boxes, one line per sample"
                                                        : "an .npy of class indices",
                           qb_task_name(m->task));
  return resolve_path(c, f->labels, path, f->st, m->labels);
}

static int model_name(const qb_yaml_ctx* c, model_fields* f, const char* path) {
  qb_sweep_model* m = f->m;
  if (!f->path) {
    if (qb_yaml_string(c, f->name, path, m->name, sizeof m->name)) return -1;
    if (!is_reference(m->name))
      return qb_yaml_expected(c, f->name, path, "a reference model name: mlp, cnn, dwnet or vit "
                              "(or 'path' to an ONNX file)");
    m->reference = true;
    char file[QB_SWEEP_PATH_MAX];
    snprintf(file, sizeof file, "%s/%s.onnx", qb_reference_models_dir(), m->name);
    memcpy(m->path, file, sizeof file);
    return 0;
  }
  if (resolve_path(c, f->path, path, f->st, m->path)) return -1;
  if (f->name) {
    if (qb_yaml_string(c, f->name, path, m->name, sizeof m->name)) return -1;
    for (const char* p = m->name; *p; p++)
      if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p))
        return qb_yaml_expected(c, f->name, path, "a model name of [A-Za-z0-9_.-]");
  } else {
    path_stem(m->path, m->name, sizeof m->name);
  }
  /* Results, reports and the history key rows by model name: a user model must not
   * pass for a reference model. */
  if (is_reference(m->name))
    return qb_yaml_fail_at(c, f->name ? f->name : f->path, path,
                           "expected a model name other than the reference model '%s'%s", m->name,
                           f->name ? "" : " (the file's stem): set 'name'");
  return 0;
}

static int model_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path,
                      parse_state* st) {
  if (st->cfg->nmodels == QB_SWEEP_MAX_MODELS)
    return qb_yaml_fail_at(c, n, path, "expected at most %d models", QB_SWEEP_MAX_MODELS);
  qb_sweep_model* m = &st->cfg->models[st->cfg->nmodels];
  memset(m, 0, sizeof *m);
  m->mark = (qb_config_mark){(int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
  model_fields f = {st, m, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  if (qb_yaml_each_field(c, n, path, kModelKeys, model_field, &f)) return -1;
  if (!f.name && !f.path) return qb_yaml_expected(c, n, path, "'name' (a reference model) or 'path'");
  if (model_name(c, &f, path)) return -1;
  m->task = QB_TASK_CLASSIFICATION;
  if (f.task && qb_task_parse(scalar_or_empty(f.task), &m->task))
    return qb_yaml_expected(c, f.task, path,
                            "a task: classification, ocr-cls, ocr-rec, ocr-det or outputs");
  if (m->reference && m->task != QB_TASK_CLASSIFICATION)
    return qb_yaml_expected(c, f.task, path, "task classification for a reference model");
  if (f.limit && qb_yaml_long(c, f.limit, path, 0, 100000000L, &m->limit)) return -1;
  if (f.calibration && qb_yaml_long(c, f.calibration, path, 1, 100000000L, &m->calibration)) return -1;
  if (model_data(c, &f, path)) return -1;
  for (size_t i = 0; i < st->cfg->nmodels; i++)
    if (!strcmp(st->cfg->models[i].name, m->name))
      return qb_yaml_fail_at(c, n, path, "expected distinct model names, got '%s' twice",
                             m->name);
  st->cfg->nmodels++;
  return 0;
}

long qb_sweep_model_limit(const qb_sweep_config* cfg, size_t i) {
  return cfg->models[i].limit ? cfg->models[i].limit : cfg->eval_limit;
}

long qb_sweep_model_calibration(const qb_sweep_config* cfg, size_t i) {
  return cfg->models[i].calibration ? cfg->models[i].calibration : cfg->calibration;
}

static int models_field(const qb_yaml_ctx* c, const yaml_node_t* v, const char* path,
                        parse_state* st) {
  if (v->type != YAML_SEQUENCE_NODE) return qb_yaml_expected(c, v, path, "a list of models");
  const size_t count = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  if (count == 0) return qb_yaml_expected(c, v, path, "a non-empty list of models");
  for (size_t i = 0; i < count; i++)
    if (model_item(c, yaml_document_get_node(c->doc, v->data.sequence.items.start[i]), path, st))
      return -1;
  st->seen_models = true;
  return 0;
}

/* ---- top-level lists --------------------------------------------------------------- */

static int workflow_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t i,
                         void* user) {
  qb_sweep_grid* g = user;
  if (qb_sweep_workflow_parse(qb_yaml_scalar(n), &g->workflows[i]))
    return qb_yaml_expected(c, n, path, "weight-only, dynamic, static or qat");
  for (size_t j = 0; j < i; j++)
    if (g->workflows[j] == g->workflows[i])
      return qb_yaml_expected(c, n, path, "each workflow once");
  g->nworkflows = i + 1;
  return 0;
}

static int requant_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t i,
                        void* user) {
  qb_sweep_grid* g = user;
  const char* t = qb_yaml_scalar(n);
  if (!strcmp(t, "fp32")) g->requants[i] = QB_REQUANT_FP32;
  else if (!strcmp(t, "gemmlowp")) g->requants[i] = QB_REQUANT_GEMMLOWP;
  else return qb_yaml_expected(c, n, path, "fp32 or gemmlowp");
  if (i == 1 && g->requants[0] == g->requants[1])
    return qb_yaml_expected(c, n, path, "each rule once");
  g->nrequants = i + 1;
  return 0;
}

static int backend_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t i,
                        void* user) {
  qb_sweep_config* cfg = user;
  const char* s = qb_yaml_scalar(n);
  if (!strcmp(s, "all")) {
    cfg->backends_all = true;
    return 0;
  }
  qb_backend b;
  if (qb_backend_from_name(s, strlen(s), &b) || strlen(s) != strlen(qb_backend_name(b))) {
    char expected[256] = "all";
    for (int k = 0; k < QB_BACKEND_COUNT; k++)
      snprintf(expected + strlen(expected), sizeof expected - strlen(expected), "%s%s",
               k + 1 == QB_BACKEND_COUNT ? " or " : ", ", qb_backend_name((qb_backend)k));
    return qb_yaml_expected(c, n, path, expected);
  }
  for (size_t j = 0; j < cfg->nbackends; j++)
    if (cfg->backends[j] == b) return qb_yaml_expected(c, n, path, "each backend once");
  cfg->backends[cfg->nbackends++] = b;
  return 0;
}

static int measure_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t i,
                        void* user) {
  qb_sweep_config* cfg = user;
  for (unsigned k = 0; k < QB_MEASURE_KINDS; k++)
    if (!strcmp(qb_yaml_scalar(n), kMeasureNames[k])) {
      cfg->measure |= 1u << k;
      return 0;
    }
  return qb_yaml_expected(c, n, path, "accuracy, per-layer, sensitivity, speed or memory");
}

static int threads_item(const qb_yaml_ctx* c, const yaml_node_t* n, const char* path, size_t i,
                        void* user) {
  qb_sweep_config* cfg = user;
  long v;
  if (qb_yaml_long(c, n, path, 1, 1024, &v)) return -1;
  cfg->threads[i] = (int)v;
  cfg->nthreads = i + 1;
  return 0;
}

/* ---- eval, top level ---------------------------------------------------------------- */

static int eval_field(const qb_yaml_ctx* c, const char* key, const yaml_node_t* v,
                      const char* path, void* user) {
  qb_sweep_config* cfg = user;
  if (!strcmp(key, "limit")) return qb_yaml_long(c, v, path, 0, 100000000L, &cfg->eval_limit);
  return qb_yaml_long(c, v, path, 1, 100000000L, &cfg->calibration);
}

static const char* const kEvalKeys[] = {"limit", "calibration", NULL};

static int qat_field(const qb_yaml_ctx* c, const char* key, const yaml_node_t* v,
                     const char* path, void* user) {
  qb_sweep_config* cfg = user;
  if (!strcmp(key, "epochs")) return qb_yaml_long(c, v, path, 1, 100, &cfg->qat_epochs);
  return qb_yaml_long(c, v, path, 0, 55000, &cfg->qat_limit);
}

static const char* const kQatKeys[] = {"epochs", "limit", NULL};

/* ---- grids ------------------------------------------------------------------------ */

static const char* const kGridKeys[] = {"weights", "activations", "workflow", "requant", NULL};

static bool is_grid_key(const char* key) {
  for (size_t i = 0; kGridKeys[i]; i++)
    if (!strcmp(key, kGridKeys[i])) return true;
  return false;
}

/* A grid key into g: the axes given replace g's, the others keep their values. */
static int grid_field(const qb_yaml_ctx* c, const char* key, const yaml_node_t* v,
                      const char* path, void* user) {
  qb_sweep_grid* g = user;
  if (!strcmp(key, "weights") || !strcmp(key, "activations"))
    return qb_yaml_each_field(c, v, path, kAxesKeys, axes_field,
                              key[0] == 'w' ? &g->weights : &g->activations);
  if (!strcmp(key, "workflow"))
    return qb_yaml_each_scalar(c, v, path, QB_SWEEP_WORKFLOWS, workflow_item, g);
  return qb_yaml_each_scalar(c, v, path, 2, requant_item, g);
}

/* `grids:` a list of mappings of grid keys, each starting from the base (the
 * top-level keys, wherever they stand in the file). */
static int grids_field(const qb_yaml_ctx* c, const yaml_node_t* v, qb_sweep_config* cfg) {
  if (v->type != YAML_SEQUENCE_NODE) return qb_yaml_expected(c, v, "grids", "a list of grids");
  const size_t count = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  if (count == 0) return qb_yaml_expected(c, v, "grids", "a non-empty list of grids");
  if (count > QB_SWEEP_MAX_GRIDS)
    return qb_yaml_fail_at(c, v, "grids", "expected at most %d grids, got %zu", QB_SWEEP_MAX_GRIDS,
                           count);
  for (size_t i = 0; i < count; i++) {
    const yaml_node_t* n = yaml_document_get_node(c->doc, v->data.sequence.items.start[i]);
    char path[32];
    snprintf(path, sizeof path, "grids[%zu]", i);
    cfg->grids[i] = cfg->base;
    if (qb_yaml_each_field(c, n, path, kGridKeys, grid_field, &cfg->grids[i])) return -1;
  }
  cfg->ngrids = count;
  return 0;
}

const qb_sweep_grid* qb_sweep_config_grids(const qb_sweep_config* cfg, size_t* count) {
  *count = cfg->ngrids ? cfg->ngrids : 1;
  return cfg->ngrids ? cfg->grids : &cfg->base;
}
static const char* const kTopKeys[] = {
    "name",     "output",   "seed",     "models",  "eval",        "weights", "activations",
    "workflow", "backends", "measure",  "repetitions", "threads", "qat",     "requant", "interleave",
    "min_time_ms", "grids", NULL};

static int top_field(const qb_yaml_ctx* c, const char* key, const yaml_node_t* v,
                     const char* path, void* user) {
  parse_state* st = user;
  qb_sweep_config* cfg = st->cfg;
  long n;
  if (!strcmp(key, "name")) {
    if (qb_yaml_string(c, v, path, cfg->name, sizeof cfg->name)) return -1;
    if (!cfg->name[0] || strspn(cfg->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789_.-") != strlen(cfg->name))
      return qb_yaml_expected(c, v, path, "a name of letters, digits, '_', '.' or '-'");
    return 0;
  }
  if (!strcmp(key, "output")) return qb_yaml_string(c, v, path, cfg->output, sizeof cfg->output);
  if (!strcmp(key, "seed")) {
    if (qb_yaml_long(c, v, path, 0, 2147483647L, &n)) return -1;
    cfg->seed = (uint64_t)n;
    return 0;
  }
  if (!strcmp(key, "models")) return models_field(c, v, path, st);
  if (!strcmp(key, "eval")) return qb_yaml_each_field(c, v, path, kEvalKeys, eval_field, cfg);
  if (!strcmp(key, "qat")) return qb_yaml_each_field(c, v, path, kQatKeys, qat_field, cfg);
  if (is_grid_key(key)) return grid_field(c, key, v, path, &cfg->base);
  if (!strcmp(key, "grids")) {
    st->grids = v;
    return 0;
  }
  if (!strcmp(key, "backends")) {
    cfg->nbackends = 0;
    cfg->backends_all = false;
    if (qb_yaml_each_scalar(c, v, path, QB_BACKEND_COUNT + 1, backend_item, cfg)) return -1;
    return 0;
  }
  if (!strcmp(key, "measure")) {
    cfg->measure = 0;
    return qb_yaml_each_scalar(c, v, path, QB_MEASURE_KINDS, measure_item, cfg);
  }
  if (!strcmp(key, "repetitions")) {
    if (qb_yaml_long(c, v, path, 1, 1000, &n)) return -1;
    cfg->repetitions = (int)n;
    return 0;
  }
  if (!strcmp(key, "min_time_ms")) {
    if (qb_yaml_long(c, v, path, 1, 10000, &n)) return -1;
    cfg->min_time_ms = (int)n;
    return 0;
  }
  if (!strcmp(key, "interleave")) {
    if (qb_yaml_long(c, v, path, 1, QB_SWEEP_MAX_INTERLEAVE, &n)) return -1;
    cfg->interleave = (int)n;
    return 0;
  }
  return qb_yaml_each_scalar(c, v, path, QB_SWEEP_MAX_THREADS, threads_item, cfg);
}

static void config_defaults(qb_sweep_config* cfg, const char* file) {
  memset(cfg, 0, sizeof *cfg);
  snprintf(cfg->file, sizeof cfg->file, "%s", file);
  path_stem(file, cfg->name, sizeof cfg->name);
  snprintf(cfg->output, sizeof cfg->output, "results");
  cfg->seed = 1;
  cfg->calibration = 512;
  cfg->qat_epochs = 1;
  axes_default(&cfg->base.weights, QB_SYMMETRIC, QB_PER_CHANNEL, true);
  axes_default(&cfg->base.activations, QB_AFFINE, QB_PER_TENSOR, false);
  cfg->base.workflows[0] = QB_WORKFLOW_STATIC;
  cfg->base.nworkflows = 1;
  cfg->base.requants[0] = QB_REQUANT_FP32;
  cfg->base.nrequants = 1;
  cfg->backends_all = true;
  cfg->measure = QB_MEASURE_ACCURACY;
  cfg->repetitions = 5;
  cfg->interleave = 8;
  cfg->min_time_ms = 5;
  cfg->threads[0] = 1;
  cfg->nthreads = 1;
}

static int parse_document(yaml_document_t* doc, parse_state* st, qb_error* err) {
  qb_yaml_ctx c = {doc, st->cfg->file, err};
  yaml_node_t* root = yaml_document_get_root_node(doc);
  if (!root) return qb_fail(err, "%s:1:1: expected a mapping of sweep keys, got an empty file",
                            st->cfg->file);
  if (qb_yaml_each_field(&c, root, "", kTopKeys, top_field, st)) return -1;
  if (st->grids && grids_field(&c, st->grids, st->cfg)) return -1;
  if (!st->seen_models) return qb_yaml_fail_at(&c, root, "", "expected the key 'models', got none");
  if (st->cfg->nbackends == 0 && !st->cfg->backends_all)
    return qb_yaml_fail_at(&c, root, "backends", "expected at least one backend");
  return 0;
}

/* Bounds checked before libyaml sees the text: libyaml's scanner keeps one pending
 * simple key per flow level and rescans them all on every token, so thousands of
 * nested '[' take minutes to reject. The depth count is conservative: brackets inside
 * quoted scalars and comments are skipped, any other '[' '{' counts. */
static int check_yaml_bounds(const char* text, size_t len, const char* file, qb_error* err) {
  if (len > QB_SWEEP_CONFIG_MAX_BYTES)
    return qb_fail(err, "%s: %zu bytes; a sweep config has at most %d", file, len,
                   QB_SWEEP_CONFIG_MAX_BYTES);
  size_t line = 1, col = 0;
  int depth = 0;
  char quote = 0;
  bool comment = false;
  for (size_t i = 0; i < len; i++) {
    const char ch = text[i];
    col++;
    if (ch == '\n') {
      line++, col = 0, comment = false;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (ch == '\\' && quote == '"') i++, col++;
      else if (ch == quote) quote = 0;
    } else if (ch == '"' || ch == '\'') {
      quote = ch;
    } else if (ch == '#' && (col == 1 || text[i - 1] == ' ' || text[i - 1] == '\t')) {
      comment = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > QB_SWEEP_CONFIG_MAX_DEPTH)
        return qb_fail(err, "%s:%zu:%zu: expected flow collections nested at most %d deep, got "
                       "deeper", file, line, col, QB_SWEEP_CONFIG_MAX_DEPTH);
    } else if ((ch == ']' || ch == '}') && depth > 0) {
      depth--;
    }
  }
  return 0;
}

int qb_sweep_config_parse(const char* text, size_t len, const char* file, qb_sweep_config* cfg,
                          qb_error* err) {
  config_defaults(cfg, file);
  if (check_yaml_bounds(text, len, file, err)) return -1;
  parse_state st = {cfg, "", false, NULL};
  const char* slash = strrchr(file, '/');
  if (slash) snprintf(st.dir, sizeof st.dir, "%.*s", (int)(slash - file), file);
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser)) return qb_fail(err, "%s: libyaml: out of memory", file);
  yaml_parser_set_input_string(&parser, (const unsigned char*)text, len);
  int rc = 0;
  if (!yaml_parser_load(&parser, &doc)) {
    rc = qb_fail(err, "%s:%zu:%zu: expected valid YAML, got a syntax error: %s%s%s", file,
                 parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "unknown", parser.context ? " " : "",
                 parser.context ? parser.context : "");
  } else {
    rc = parse_document(&doc, &st, err);
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  if (!rc) {
    cfg->text = malloc(len + 1);
    if (!cfg->text) return qb_fail(err, "%s: out of memory", file);
    memcpy(cfg->text, text, len);
    cfg->text[len] = '\0';
  }
  return rc;
}

int qb_sweep_config_load(const char* file, qb_sweep_config* cfg, qb_error* err) {
  memset(cfg, 0, sizeof *cfg);
  FILE* f = qb_open_input(file, QB_SWEEP_CONFIG_MAX_BYTES, NULL, err);
  if (!f) return -1;
  char* buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 > cap) {
      cap = cap ? cap * 2 : 8192;
      char* nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        return qb_fail(err, "%s: out of memory", file);
      }
      buf = nb;
    }
    const size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  const int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return qb_fail(err, "%s: read error", file);
  }
  const int rc = qb_sweep_config_parse(buf, len, file, cfg, err);
  free(buf);
  return rc;
}

void qb_sweep_config_free(qb_sweep_config* cfg) {
  free(cfg->text);
  cfg->text = NULL;
}

void qb_sweep_model_describe(const qb_sweep_model* m, char* out, size_t size) {
  char data[2 * QB_SWEEP_PATH_MAX + 64], calib[QB_SWEEP_PATH_MAX + 96];
  const char* pre;
  if (!strcmp(m->data, "fashion-mnist")) {
    snprintf(data, sizeof data, "Fashion-MNIST test split (10,000 images)");
    snprintf(calib, sizeof calib, "the last 5,000 training images");
    pre = "the model's qbench.preprocess metadata (x = (pixel * scale - mean) / std)";
  } else if (!strcmp(m->data, "generated")) {
    snprintf(data, sizeof data, "generated %s set (harness/ocrdata, the config's seed)", qb_task_name(m->task));
    snprintf(calib, sizeof calib, "its own generated calibration split");
    pre = qb_ocr_synth_preprocess(m->task);
  } else {
    snprintf(data, sizeof data, "%s%s%s", m->data, m->labels[0] ? ", labels " : "", m->labels);
    if (m->calibration_data[0]) snprintf(calib, sizeof calib, "%s", m->calibration_data);
    else snprintf(calib, sizeof calib, "the last min(calibration, N/2) samples of the data (not evaluated)");
    pre = "none (the .npy is fed as given)";
  }
  snprintf(out, size, "model %s; task %s (%s); data %s; calibration %s; preprocessing %s", m->path,
           qb_task_name(m->task), qb_task_metric(m->task), data, calib, pre);
}
