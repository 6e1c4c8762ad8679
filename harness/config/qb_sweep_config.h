/* A sweep configuration: what `qbench sweep CONFIG` measures, read from YAML.
 *
 * Every key is documented in configs/README.md. In short:
 *   name, output, seed                  the run (folder <output>/<name>-<UTC stamp>)
 *   models: [{name: mlp} | {path: m.onnx, data: x.npy, labels: y.npy,
 *             name, task, calibration_data, dictionary, limit, calibration}]
 *   eval: {limit, calibration}          evaluation and calibration sample counts
 *   weights / activations:              axes, each a list; the plan is their product
 *       {bits, scheme, granularity, range, storage, restricted, rounding}
 *   workflow, backends, measure, repetitions, interleave, min_time_ms, threads
 *   requant: [fp32, gemmlowp]           requantization rule(s) of static items
 *   grids: [{weights, activations, workflow, requant}, ...]
 *                                       several products instead of one: the plan is
 *                                       their union, each entry inheriting the top-level
 *                                       value of every key it does not give
 *   qat: {epochs, limit}                QAT fine-tuning: epochs, training images
 * A list-valued key also accepts a single scalar (bits: 8 == bits: [8]).
 *
 * Parsing is strict: an unknown key, a wrong type, an out-of-range value or a
 * duplicate key is an error "FILE:LINE:COL: expected ..., got ..." (1-based line and
 * column of the offending node, as an editor shows them). */
#ifndef QB_SWEEP_CONFIG_H
#define QB_SWEEP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isa/qb_isa.h"
#include "qb_error.h"
#include "qb_qconfig.h"
#include "qb_qparams.h"
#include "qb_range.h"
#include "qb_task.h"
#include "qb_tensor_quant.h"

enum {
  QB_SWEEP_MAX_MODELS = 16,
  QB_SWEEP_MAX_AXIS = 16, /* values per axis */
  QB_SWEEP_MAX_THREADS = 8,
  QB_SWEEP_MAX_GRIDS = 16,
  QB_SWEEP_MAX_INTERLEAVE = 64, /* = QB_SWEEP_GROUP_MAX */
  QB_SWEEP_PATH_MAX = 512,
  QB_SWEEP_NAME_MAX = 64,
  QB_SWEEP_CONFIG_MAX_BYTES = 1 << 20, /* a config file of more is refused */
  QB_SWEEP_CONFIG_MAX_DEPTH = 32,      /* '[' / '{' nesting (libyaml is quadratic in it) */
};

/* Where a value came from (1-based), for errors raised after parsing. */
typedef struct {
  int line, column;
} qb_config_mark;

/* Workflows (harness/qruntime/qb_qconfig.h: qb_workflow, qb_workflow_name): the
 * runtime's weight-only, dynamic, static, and qat (static quantization of the model
 * fine-tuned with fake quantization for the item's grid; mlp and cnn). */
enum { QB_SWEEP_WORKFLOWS = 4 };
/* "weight-only", "dynamic", "static", "qat" (the names qb_workflow_name prints). */
int qb_sweep_workflow_parse(const char* text, qb_workflow* out);

typedef enum {
  QB_MEASURE_ACCURACY = 1u << 0,    /* end-to-end top-1, drop from fp32 */
  QB_MEASURE_PER_LAYER = 1u << 1,   /* numeric suite per layer */
  QB_MEASURE_SENSITIVITY = 1u << 2, /* one layer quantized / one left float */
  QB_MEASURE_SPEED = 1u << 3,       /* latency per layer and end to end */
  QB_MEASURE_MEMORY = 1u << 4,      /* packed weight bytes, arena, peak RSS */
} qb_measure;

/* "accuracy", "per-layer", "sensitivity", "speed", "memory"; NULL if not one bit. */
const char* qb_measure_name(unsigned m);

/* One tensor role's axes (weights or activations). */
typedef struct {
  int bits[QB_SWEEP_MAX_AXIS];
  size_t nbits;
  qb_symmetry scheme[QB_SWEEP_MAX_AXIS];
  size_t nscheme;
  qb_granularity granularity[QB_SWEEP_MAX_AXIS];
  size_t ngranularity;
  qb_range_strategy range[QB_SWEEP_MAX_AXIS];
  size_t nrange;
  bool is_signed[QB_SWEEP_MAX_AXIS];       /* storage: signed / unsigned */
  size_t nstorage;
  bool restricted[QB_SWEEP_MAX_AXIS];      /* restricted: false / true */
  size_t nrestricted;
  qb_round_mode rounding[QB_SWEEP_MAX_AXIS]; /* rounding: div / mulrecip */
  size_t nrounding;
} qb_tensor_axes;

/* One grid of the plan: its items are the product weights x activations x workflows
 * x requantization rules (x models x backends). */
typedef struct {
  qb_tensor_axes weights, activations;
  qb_workflow workflows[QB_SWEEP_WORKFLOWS];
  size_t nworkflows;
  qb_requant_rule requants[2]; /* static / qat items are planned once per rule */
  size_t nrequants;
} qb_sweep_grid;

struct qb_sweep_config_s;

/* A model entry. data is "fashion-mnist" (reference models, classification),
 * "generated" (ocr-rec / ocr-cls / ocr-det: harness/ocrdata, cached under
 * <output>/cache/ocr-data) or an .npy of inputs. With .npy data, calibration_data
 * is a separate .npy of calibration inputs; without it the data is split: its last
 * min(calibration, N / 2) samples calibrate and only the others are evaluated (never
 * calibration on evaluated samples). */
typedef struct {
  char name[QB_SWEEP_NAME_MAX];   /* reference name, `name:`, or the file stem of `path` */
  bool reference;                 /* a built-in reference model (mlp, cnn, dwnet, vit) */
  qb_task task;                   /* `task:`, classification by default */
  char path[QB_SWEEP_PATH_MAX];   /* ONNX file (resolved) */
  char data[QB_SWEEP_PATH_MAX];   /* "fashion-mnist", "generated" or an .npy path (resolved) */
  char labels[QB_SWEEP_PATH_MAX]; /* .npy (classification, ocr-cls) or .txt (ocr-rec, ocr-det) */
  char calibration_data[QB_SWEEP_PATH_MAX]; /* .npy of calibration inputs, "" = split */
  char dictionary[QB_SWEEP_PATH_MAX];       /* ocr-rec: the recognizer's dictionary */
  long limit;       /* evaluation samples of this model; 0 = eval.limit */
  long calibration; /* calibration samples of this model; 0 = eval.calibration */
  qb_config_mark mark;
} qb_sweep_model;

/* The grids the plan enumerates: cfg->grids, or the base alone. */
const qb_sweep_grid* qb_sweep_config_grids(const struct qb_sweep_config_s* cfg, size_t* count);

/* The evaluation / calibration sample counts of model i (its own or the config's). */
long qb_sweep_model_limit(const struct qb_sweep_config_s* cfg, size_t i);
long qb_sweep_model_calibration(const struct qb_sweep_config_s* cfg, size_t i);
/* "model FILE; task T (metric); data D; calibration C; preprocessing P": what a
 * report or eval prints about a model entry. */
void qb_sweep_model_describe(const qb_sweep_model* m, char* out, size_t size);

typedef struct qb_sweep_config_s {
  char file[QB_SWEEP_PATH_MAX]; /* as given, for messages */
  char* text;                   /* the whole config text (owned), recorded in run.json */
  char name[QB_SWEEP_NAME_MAX];
  char output[QB_SWEEP_PATH_MAX];
  uint64_t seed;
  qb_sweep_model models[QB_SWEEP_MAX_MODELS];
  size_t nmodels;
  long eval_limit;  /* 0 = the whole evaluation split */
  long calibration; /* calibration samples */
  /* The top-level weights / activations / workflow / requant keys: the plan's one
   * grid, or, with `grids:`, what each entry inherits for the keys it does not give. */
  qb_sweep_grid base;
  qb_sweep_grid grids[QB_SWEEP_MAX_GRIDS]; /* `grids:` entries; the plan is their union */
  size_t ngrids;                          /* 0: no `grids:`, the base is the grid */
  qb_tensor_axes weights, activations;
  qb_workflow workflows[QB_SWEEP_WORKFLOWS];
  size_t nworkflows;
  qb_requant_rule requants[2]; /* static / qat items are planned once per rule */
  size_t nrequants;
  bool backends_all; /* "all": every backend usable on the machine at plan time */
  qb_backend backends[QB_BACKEND_COUNT];
  size_t nbackends;
  unsigned measure; /* qb_measure bits */
  int repetitions;
  int interleave; /* speed: items whose repetitions are timed in interleaved rounds */
  int min_time_ms; /* speed: Google Benchmark's minimum time per repetition */
  int threads[QB_SWEEP_MAX_THREADS];
  size_t nthreads;
  long qat_epochs; /* fine-tuning epochs of qat items */
  long qat_limit;  /* training images of qat items; 0 = all 55,000 */
} qb_sweep_config;

/* Parse `len` bytes of YAML; `file` names it in messages and resolves relative model
 * paths (relative to the file's folder). On error fills err ("FILE:L:C: expected
 * ..., got ...") and returns -1; the config is then freed. */
int qb_sweep_config_parse(const char* text, size_t len, const char* file, qb_sweep_config* cfg,
                          qb_error* err);
/* Read and parse a file ("FILE: cannot read: ..." if it cannot be read). */
int qb_sweep_config_load(const char* file, qb_sweep_config* cfg, qb_error* err);
void qb_sweep_config_free(qb_sweep_config* cfg);

/* The models cache (.ci/models): $QB_MODELS_CACHE, else ~/.cache/qbench/models. */
const char* qb_models_cache_dir(char* buf, size_t size);

/* Folder of the built-in reference models: $QB_MODELS_DIR, else
 * <source>/harness/models/reference. */
const char* qb_reference_models_dir(void);

#endif
