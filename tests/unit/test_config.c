/* Sweep config parsing: a full config read back key by key, defaults, every class of
 * bad input with its exact FILE:LINE:COL, and every shipped configs/ YAML file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb_sweep_config.h"
#include "qb_sweep_plan.h"
#include "qb_test.h"

static int parse(const char* yaml, qb_sweep_config* cfg, qb_error* err) {
  return qb_sweep_config_parse(yaml, strlen(yaml), "cfg/t.yaml", cfg, err);
}

/* The error must start with "cfg/t.yaml:LINE:COL: " and contain `what`. */
static void expect_error(const char* yaml, int line, int col, const char* what) {
  qb_sweep_config cfg;
  qb_error err = {{0}};
  const int rc = parse(yaml, &cfg, &err);
  QB_CHECK_MSG(rc == -1, "accepted bad config:\n%s", yaml);
  char prefix[64];
  snprintf(prefix, sizeof prefix, "cfg/t.yaml:%d:%d: ", line, col);
  QB_CHECK_MSG(!strncmp(err.msg, prefix, strlen(prefix)), "want prefix '%s', got '%s'", prefix,
               err.msg);
  QB_CHECK_MSG(strstr(err.msg, what) != NULL, "want '%s' in '%s'", what, err.msg);
  if (!rc) qb_sweep_config_free(&cfg);
}

static const char kFull[] =
    "name: quick\n"
    "output: out/results\n"
    "seed: 7\n"
    "models:\n"
    "  - {name: mlp}\n"
    "  - {path: my.onnx, data: x.npy, labels: /abs/y.npy}\n"
    "eval: {limit: 2000, calibration: 256}\n"
    "weights:\n"
    "  bits: [8, 4]\n"
    "  scheme: [symmetric, affine]\n"
    "  granularity: [tensor, channel, group:32]\n"
    "  range: [minmax, mse, percentile:99.99]\n"
    "activations:\n"
    "  bits: 8\n"
    "  range: [minmax, entropy]\n"
    "workflow: [weight-only, dynamic, static]\n"
    "backends: [scalar, avx2-sat, avx512vnni]\n"
    "measure: [accuracy, speed, memory]\n"
    "repetitions: 3\n"
    "interleave: 4\n"
    "threads: [1, 2]\n";

static void test_full(void) {
  qb_sweep_config cfg;
  qb_error err = {{0}};
  QB_CHECK_MSG(parse(kFull, &cfg, &err) == 0, "%s", err.msg);
  QB_CHECK(!strcmp(cfg.name, "quick"));
  QB_CHECK(!strcmp(cfg.output, "out/results"));
  QB_CHECK_EQ_INT(cfg.seed, 7);
  QB_CHECK_EQ_INT(cfg.nmodels, 2);
  QB_CHECK(cfg.models[0].reference && !strcmp(cfg.models[0].name, "mlp"));
  QB_CHECK(strstr(cfg.models[0].path, "/mlp.onnx") != NULL);
  QB_CHECK(!strcmp(cfg.models[0].data, "fashion-mnist"));
  QB_CHECK_EQ_INT(cfg.models[0].mark.line, 5);
  QB_CHECK_EQ_INT(cfg.models[0].mark.column, 5);
  /* Relative paths resolve against the config's folder, absolute ones stay. */
  QB_CHECK(!strcmp(cfg.models[1].path, "cfg/my.onnx"));
  QB_CHECK(!strcmp(cfg.models[1].name, "my"));
  QB_CHECK(!strcmp(cfg.models[1].data, "cfg/x.npy"));
  QB_CHECK(!strcmp(cfg.models[1].labels, "/abs/y.npy"));
  QB_CHECK_EQ_INT(cfg.eval_limit, 2000);
  QB_CHECK_EQ_INT(cfg.calibration, 256);
  QB_CHECK_EQ_INT(cfg.base.weights.nbits, 2);
  QB_CHECK_EQ_INT(cfg.base.weights.bits[1], 4);
  QB_CHECK_EQ_INT(cfg.base.weights.nscheme, 2);
  QB_CHECK_EQ_INT(cfg.base.weights.scheme[0], QB_SYMMETRIC);
  QB_CHECK_EQ_INT(cfg.base.weights.scheme[1], QB_AFFINE);
  QB_CHECK_EQ_INT(cfg.base.weights.ngranularity, 3);
  QB_CHECK_EQ_INT(cfg.base.weights.granularity[2].kind, QB_PER_GROUP);
  QB_CHECK_EQ_INT(cfg.base.weights.granularity[2].group_size, 32);
  QB_CHECK_EQ_INT(cfg.base.weights.nrange, 3);
  QB_CHECK_EQ_INT(cfg.base.weights.range[2].kind, QB_RANGE_PERCENTILE);
  QB_CHECK(cfg.base.weights.range[2].percentile == 99.99);
  /* A scalar is a list of one; keys not given keep their defaults. */
  QB_CHECK_EQ_INT(cfg.base.activations.nbits, 1);
  QB_CHECK_EQ_INT(cfg.base.activations.bits[0], 8);
  QB_CHECK_EQ_INT(cfg.base.activations.nscheme, 1);
  QB_CHECK_EQ_INT(cfg.base.activations.scheme[0], QB_AFFINE);
  QB_CHECK_EQ_INT(cfg.base.activations.granularity[0].kind, QB_PER_TENSOR);
  QB_CHECK_EQ_INT(cfg.base.activations.nrange, 2);
  QB_CHECK_EQ_INT(cfg.base.activations.range[1].kind, QB_RANGE_ENTROPY);
  QB_CHECK_EQ_INT(cfg.base.nworkflows, 3);
  QB_CHECK_EQ_INT(cfg.base.workflows[0], QB_WORKFLOW_WEIGHT_ONLY);
  QB_CHECK_EQ_INT(cfg.base.workflows[2], QB_WORKFLOW_STATIC);
  QB_CHECK(!cfg.backends_all);
  QB_CHECK_EQ_INT(cfg.nbackends, 3);
  QB_CHECK_EQ_INT(cfg.backends[1], QB_BACKEND_AVX2_SAT);
  QB_CHECK_EQ_INT(cfg.measure, QB_MEASURE_ACCURACY | QB_MEASURE_SPEED | QB_MEASURE_MEMORY);
  QB_CHECK_EQ_INT(cfg.repetitions, 3);
  QB_CHECK_EQ_INT(cfg.interleave, 4);
  QB_CHECK_EQ_INT(cfg.nthreads, 2);
  QB_CHECK_EQ_INT(cfg.threads[1], 2);
  QB_CHECK(cfg.text && !strcmp(cfg.text, kFull));
  qb_sweep_config_free(&cfg);
}

static void test_defaults(void) {
  qb_sweep_config cfg;
  qb_error err = {{0}};
  QB_CHECK_MSG(parse("models: [{name: cnn}]\n", &cfg, &err) == 0, "%s", err.msg);
  QB_CHECK(!strcmp(cfg.name, "t")); /* the file stem */
  QB_CHECK(!strcmp(cfg.output, "results"));
  QB_CHECK_EQ_INT(cfg.seed, 1);
  QB_CHECK(cfg.backends_all);
  QB_CHECK_EQ_INT(cfg.base.nworkflows, 1);
  QB_CHECK_EQ_INT(cfg.base.workflows[0], QB_WORKFLOW_STATIC);
  QB_CHECK_EQ_INT(cfg.base.weights.scheme[0], QB_SYMMETRIC);
  QB_CHECK_EQ_INT(cfg.base.weights.granularity[0].kind, QB_PER_CHANNEL);
  QB_CHECK_EQ_INT(cfg.measure, QB_MEASURE_ACCURACY);
  QB_CHECK_EQ_INT(cfg.qat_epochs, 1);
  QB_CHECK_EQ_INT(cfg.qat_limit, 0);
  QB_CHECK_EQ_INT(cfg.repetitions, 5);
  QB_CHECK_EQ_INT(cfg.interleave, 8);
  qb_sweep_config_free(&cfg);
  QB_CHECK_MSG(parse("models: [{name: cnn}]\nworkflow: [static, qat]\nqat: {epochs: 3, limit: 5000}\n",
                     &cfg, &err) == 0, "%s", err.msg);
  QB_CHECK_EQ_INT(cfg.base.nworkflows, 2);
  QB_CHECK_EQ_INT(cfg.base.workflows[1], QB_WORKFLOW_QAT);
  QB_CHECK_EQ_INT(cfg.qat_epochs, 3);
  QB_CHECK_EQ_INT(cfg.qat_limit, 5000);
  qb_sweep_config_free(&cfg);
}

static void test_errors(void) {
  /* Unknown key: position of the key. */
  expect_error("models: [{name: mlp}]\nsed: 1\n", 2, 1, "expected one of the keys");
  expect_error("models: [{name: mlp}]\nweights:\n  bitz: [8]\n", 3, 3,
               "weights: expected one of the keys bits, scheme, granularity, range, storage, restricted, rounding, got 'bitz'");
  /* Out-of-range values: position of the value inside the flow list. */
  expect_error("models: [{name: mlp}]\nweights:\n  bits: [8, 9]\n", 3, 13,
               "weights.bits: expected bits in 2..8 or 16, got '9'");
  expect_error("models: [{name: mlp}]\nweights: {bits: [1]}\n", 2, 18, "got '1'");
  expect_error("models: [{name: mlp}]\nweights:\n  granularity: [tensor, group:0]\n", 3, 25,
               "expected tensor, channel or group:G with G in 1..1048576, got 'group:0'");
  expect_error("models: [{name: mlp}]\nactivations:\n  range:\n    - minmax\n    - kl\n", 5, 7,
               "activations.range: expected minmax, movavg, percentile:P");
  expect_error("models: [{name: mlp}]\nweights: {range: [percentile:101]}\n", 2, 19,
               "got 'percentile:101'");
  /* Wrong types. */
  expect_error("models: [{name: mlp}]\nseed: [1]\n", 2, 7, "seed: expected an integer in 0..");
  expect_error("models: [{name: mlp}]\nweights: [8]\n", 2, 10, "weights: expected a mapping, got a list");
  expect_error("models: {name: mlp}\n", 1, 9, "models: expected a list of models, got a mapping");
  expect_error("models: [{name: mlp}]\nrepetitions: 0\n", 2, 14, "expected an integer in 1..1000, got '0'");
  expect_error("models: [{name: mlp}]\ninterleave: 65\n", 2, 13, "expected an integer in 1..64, got '65'");
  expect_error("models: [{name: mlp}]\neval: {limit: lots}\n", 2, 15, "eval.limit");
  expect_error("models: [{name: mlp}]\nbits: \n", 2, 1, "expected one of the keys");
  expect_error("models: [{name: mlp}]\nthreads: []\n", 2, 10, "expected a non-empty list");
  /* Enumerations. */
  expect_error("models: [{name: mlp}]\nbackends: [scalar, avx3]\n", 2, 20,
               "expected all, scalar, sse41");
  expect_error("models: [{name: mlp}]\nworkflow: [static, static]\n", 2, 20, "each workflow once");
  expect_error("models: [{name: mlp}]\nmeasure: [speed, joy]\n", 2, 18, "got 'joy'");
  expect_error("models: [{name: mlp}]\nworkflow: [qta]\n", 2, 12, "expected weight-only, dynamic, static or qat");
  expect_error("models: [{name: mlp}]\nqat: {epochs: 0}\n", 2, 15, "qat.epochs: expected an integer in 1..100");
  expect_error("models: [{name: mlp}]\nqat: {limit: 60000}\n", 2, 14, "in 0..55000, got '60000'");
  expect_error("models: [{name: mlp}]\nqat: {lr: 0.1}\n", 2, 7, "qat: expected one of the keys epochs, limit");
  /* Models. */
  expect_error("models: [{name: resnet}]\n", 1, 17, "a reference model name: mlp, cnn, dwnet or vit");
  expect_error("models: [{name: mlp, path: a.onnx}]\n", 1, 17,
               "other than the reference model 'mlp'");
  expect_error("models: [{path: a.onnx}]\n", 1, 17, "expected 'data'");
  expect_error("models: [{path: a.onnx, data: x.npy}]\n", 1, 31, "expected 'labels'");
  expect_error("models: [{name: mlp}, {name: mlp}]\n", 1, 23, "distinct model names");
  expect_error("name: q\n", 1, 1, "expected the key 'models'");
  expect_error("name: 'a b'\nmodels: [{name: mlp}]\n", 1, 7, "letters, digits");
  /* Structure. */
  expect_error("models: [{name: mlp}]\nseed: 1\nseed: 2\n", 3, 1, "expected each key once, got 'seed' again");
  expect_error("models: [{name: mlp}]\nweights:\n  bits: [8\n", 4, 1, "expected valid YAML");
  expect_error("", 1, 1, "got an empty file");
}

/* Every shipped config parses and plans to at least one item. */
/* Model entries of other tasks and user models: task, name, calibration_data,
 * dictionary, per-model limit / calibration, generated data. */
static void test_task_models(void) {
  qb_sweep_config cfg;
  qb_error err = {{0}};
  const char* yaml =
      "models:\n"
      "  - {path: rec.onnx, name: my-rec, task: ocr-rec, data: generated, dictionary: keys.txt,\n"
      "     limit: 50, calibration: 16}\n"
      "  - {path: any.onnx, task: outputs, data: x.npy, calibration_data: c.npy}\n"
      "  - {path: det.onnx, task: ocr-det, data: p.npy, labels: boxes.txt, calibration_data: q.npy}\n"
      "  - {path: $QB_MODELS_CACHE/m/cls.onnx, task: ocr-cls, data: generated}\n";
  setenv("QB_MODELS_CACHE", "/cache", 1);
  QB_CHECK_MSG(parse(yaml, &cfg, &err) == 0, "%s", err.msg);
  if (cfg.nmodels == 4) {
    QB_CHECK(!strcmp(cfg.models[0].name, "my-rec") && cfg.models[0].task == QB_TASK_OCR_REC);
    QB_CHECK(!strcmp(cfg.models[0].data, "generated") && !strcmp(cfg.models[0].dictionary, "cfg/keys.txt"));
    QB_CHECK(qb_sweep_model_limit(&cfg, 0) == 50 && qb_sweep_model_calibration(&cfg, 0) == 16);
    QB_CHECK(qb_sweep_model_limit(&cfg, 1) == 0 && qb_sweep_model_calibration(&cfg, 1) == 512);
    QB_CHECK(!strcmp(cfg.models[1].name, "any") && cfg.models[1].task == QB_TASK_OUTPUTS);
    QB_CHECK(!strcmp(cfg.models[1].calibration_data, "cfg/c.npy") && !cfg.models[1].labels[0]);
    QB_CHECK(!strcmp(cfg.models[2].labels, "cfg/boxes.txt"));
    QB_CHECK(!strcmp(cfg.models[3].path, "/cache/m/cls.onnx"));
    char text[2048];
    qb_sweep_model_describe(&cfg.models[0], text, sizeof text);
    QB_CHECK(strstr(text, "exact-match") && strstr(text, "(x/255 - 0.5)/0.5"));
    qb_sweep_model_describe(&cfg.models[1], text, sizeof text);
    QB_CHECK(strstr(text, "calibration cfg/c.npy") && strstr(text, "fed as given"));
    qb_sweep_config_free(&cfg);
  }
  unsetenv("QB_MODELS_CACHE");
  expect_error("models: [{path: d/mlp.onnx, data: x.npy, labels: y.npy}]\n", 1, 17,
               "reference model 'mlp' (the file's stem): set 'name'");
  expect_error("models: [{path: a.onnx, name: 'a b', data: x.npy, labels: y.npy}]\n", 1, 31,
               "a model name of [A-Za-z0-9_.-]");
  expect_error("models: [{path: a.onnx, task: sorting, data: x.npy}]\n", 1, 31,
               "a task: classification, ocr-cls, ocr-rec, ocr-det or outputs");
  expect_error("models: [{name: mlp, task: ocr-rec}]\n", 1, 28, "task classification for a reference model");
  expect_error("models: [{path: a.onnx, task: ocr-rec, data: generated}]\n", 1, 31, "expected 'dictionary'");
  expect_error("models: [{path: a.onnx, task: ocr-cls, data: x.npy, dictionary: k.txt}]\n", 1, 65,
               "expected no 'dictionary'");
  expect_error("models: [{path: a.onnx, data: generated}]\n", 1, 31, "generated data only with task ocr-");
  expect_error("models: [{path: a.onnx, task: ocr-det, data: fashion-mnist}]\n", 1, 46,
               "fashion-mnist data only with task classification");
  expect_error("models: [{path: a.onnx, task: ocr-det, data: generated, labels: b.txt}]\n", 1, 65,
               "expected no 'labels' with generated data");
  expect_error("models: [{path: a.onnx, task: ocr-det, data: x.npy}]\n", 1, 46,
               "expected 'labels' (a text file of boxes, one line per sample)");
  expect_error("models: [{path: a.onnx, task: outputs, data: x.npy, labels: y.npy}]\n", 1, 61,
               "expected no 'labels' with task outputs");
  expect_error("models: [{name: cnn, calibration_data: c.npy}]\n", 1, 40,
               "expected no 'calibration_data' with data fashion-mnist");
  expect_error("models: [{path: a.onnx, data: x.npy, labels: y.npy, limit: -1}]\n", 1, 60, "an integer in 0..100000000");
}

static void test_shipped_configs(void) {
  const char* dir = QB_SOURCE_DIR "/configs";
  DIR* d = opendir(dir);
  QB_CHECK_MSG(d != NULL, "cannot open %s", dir);
  if (!d) return;
  int parsed = 0;
  for (struct dirent* e; (e = readdir(d));) {
    const size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".yaml")) continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    qb_sweep_config cfg;
    qb_error err = {{0}};
    const int rc = qb_sweep_config_load(path, &cfg, &err);
    QB_CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) continue;
    qb_plan plan;
    QB_CHECK_MSG(qb_plan_build(&cfg, QB_BACKEND_SET_ALL, &plan, &err) == 0, "%s", err.msg);
    QB_CHECK_MSG(plan.nitems > 0, "%s plans nothing", path);
    printf("%s: %zu items, %zu skipped\n", e->d_name, plan.nitems, plan.nskips);
    qb_plan_free(&plan);
    qb_sweep_config_free(&cfg);
    parsed++;
  }
  closedir(d);
  QB_CHECK_MSG(parsed >= 3, "expected quick, nightly and hardware configs, parsed %d", parsed);
}

/* Inputs that once crashed, hung or were silently misread (issue 12). */
static void test_hostile_inputs(void) {
  /* group:G beyond long: strtol's overflow is an error at the value's position, not
   * group:LONG_MAX. */
  expect_error("models: [{name: mlp}]\nweights: {granularity: [group:99999999999999999999]}\n", 2,
               25, "group:G with G in 1..1048576, got 'group:99999999999999999999'");
  expect_error("models: [{name: mlp}]\nweights: {granularity: [group:1048577]}\n", 2, 25,
               "got 'group:1048577'");
  /* 100,000 nested '[' are refused at the 33rd, without handing them to libyaml
   * (which took a minute to reject them). */
  const size_t deep = 100000;
  char* yaml = malloc(deep + 16);
  QB_CHECK(yaml != NULL);
  if (yaml) {
    memcpy(yaml, "models: ", 8);
    memset(yaml + 8, '[', deep);
    yaml[8 + deep] = '\0';
    expect_error(yaml, 1, 8 + QB_SWEEP_CONFIG_MAX_DEPTH + 1, "nested at most 32 deep");
    free(yaml);
  }
  /* Brackets in quoted scalars and comments do not count. */
  qb_sweep_config cfg;
  qb_error err = {{0}};
  const char* quoted = "output: \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"\n# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                       "[[[[[[\nmodels: [{name: mlp}] # {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\n";
  QB_CHECK_MSG(parse(quoted, &cfg, &err) == 0, "%s", err.msg);
  qb_sweep_config_free(&cfg);
  /* Size bound. */
  const size_t big = (size_t)QB_SWEEP_CONFIG_MAX_BYTES + 1;
  char* huge = malloc(big + 1);
  QB_CHECK(huge != NULL);
  if (huge) {
    memset(huge, '#', big);
    huge[big] = '\0';
    QB_CHECK(qb_sweep_config_parse(huge, big, "cfg/t.yaml", &cfg, &err) == -1);
    QB_CHECK_MSG(strstr(err.msg, "a sweep config has at most") != NULL, "%s", err.msg);
    free(huge);
  }
  /* A FIFO as the config is refused instead of blocking the reader. */
  char fifo[] = "/tmp/qb_test_config_fifo.XXXXXX";
  QB_CHECK(mkdtemp(fifo) != NULL);
  char path[64];
  snprintf(path, sizeof path, "%s/c.yaml", fifo);
  QB_CHECK(mkfifo(path, 0600) == 0);
  QB_CHECK(qb_sweep_config_load(path, &cfg, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "not a regular file") != NULL, "%s", err.msg);
  unlink(path);
  rmdir(fifo);
}

static void test_load_missing(void) {
  qb_sweep_config cfg;
  qb_error err = {{0}};
  QB_CHECK(qb_sweep_config_load("/nonexistent/x.yaml", &cfg, &err) == -1);
  QB_CHECK(strstr(err.msg, "/nonexistent/x.yaml: cannot read") == err.msg);
}

/* The storage / restricted / rounding axes: defaults per role, lists, scalars, and
 * errors with their position. */
static void test_grid_axes(void) {
  qb_sweep_config cfg;
  qb_error err = {{0}};
  QB_CHECK_MSG(parse("models: [{name: mlp}]\n", &cfg, &err) == 0, "%s", err.msg);
  QB_CHECK_EQ_INT(cfg.base.weights.nstorage, 1);
  QB_CHECK(cfg.base.weights.is_signed[0]);
  QB_CHECK_EQ_INT(cfg.base.activations.nstorage, 1);
  QB_CHECK(!cfg.base.activations.is_signed[0]);
  QB_CHECK(cfg.base.weights.nrestricted == 1 && !cfg.base.weights.restricted[0]);
  QB_CHECK(cfg.base.activations.nrounding == 1 && cfg.base.activations.rounding[0] == QB_ROUND_DIV);
  qb_sweep_config_free(&cfg);
  QB_CHECK_MSG(parse("models: [{name: mlp}]\n"
                     "weights: {storage: unsigned, restricted: [false, true], rounding: [div, mulrecip]}\n"
                     "activations: {storage: [unsigned, signed], restricted: true, rounding: mulrecip}\n",
                     &cfg, &err) == 0, "%s", err.msg);
  QB_CHECK(cfg.base.weights.nstorage == 1 && !cfg.base.weights.is_signed[0]);
  QB_CHECK(cfg.base.weights.nrestricted == 2 && !cfg.base.weights.restricted[0] && cfg.base.weights.restricted[1]);
  QB_CHECK(cfg.base.weights.nrounding == 2 && cfg.base.weights.rounding[1] == QB_ROUND_MUL_RECIP);
  QB_CHECK(cfg.base.activations.nstorage == 2 && cfg.base.activations.is_signed[1]);
  QB_CHECK(cfg.base.activations.nrestricted == 1 && cfg.base.activations.restricted[0]);
  QB_CHECK(cfg.base.activations.nrounding == 1 && cfg.base.activations.rounding[0] == QB_ROUND_MUL_RECIP);
  qb_sweep_config_free(&cfg);
  expect_error("models: [{name: mlp}]\nweights: {storage: [signd]}\n", 2, 21,
               "weights.storage: expected signed or unsigned, got 'signd'");
  expect_error("models: [{name: mlp}]\nactivations:\n  restricted: [yes]\n", 3, 16,
               "activations.restricted: expected true or false, got 'yes'");
  expect_error("models: [{name: mlp}]\nweights: {rounding: [div, mul-recip]}\n", 2, 27,
               "weights.rounding: expected div or mulrecip, got 'mul-recip'");
}

/* grids: each entry starts from the top-level keys wherever they stand (here after
 * the list), replaces the axes it gives and keeps the others; bad entries name their
 * line and column. */
static void test_grids(void) {
  qb_sweep_config cfg;
  qb_error err = {{0}};
  QB_CHECK_MSG(parse("models: [{name: mlp}]\n"
                     "grids:\n"
                     "  - {workflow: weight-only, weights: {bits: 4, range: [minmax, mse]}}\n"
                     "  - {activations: {range: [minmax, percentile:99]}}\n"
                     "weights: {granularity: [tensor, channel]}\n"
                     "workflow: static\n"
                     "requant: [fp32, gemmlowp]\n",
                     &cfg, &err) == 0, "%s", err.msg);
  size_t n;
  const qb_sweep_grid* g = qb_sweep_config_grids(&cfg, &n);
  QB_CHECK_EQ_INT(n, 2);
  QB_CHECK(g == cfg.grids);
  QB_CHECK(g[0].nworkflows == 1 && g[0].workflows[0] == QB_WORKFLOW_WEIGHT_ONLY);
  QB_CHECK(g[0].weights.nbits == 1 && g[0].weights.bits[0] == 4 && g[0].weights.nrange == 2);
  QB_CHECK_EQ_INT(g[0].weights.ngranularity, 2); /* inherited from the later top-level key */
  QB_CHECK_EQ_INT(g[0].nrequants, 2);
  QB_CHECK(g[1].nworkflows == 1 && g[1].workflows[0] == QB_WORKFLOW_STATIC);
  QB_CHECK(g[1].weights.bits[0] == 8 && g[1].weights.nrange == 1);
  QB_CHECK(g[1].activations.nrange == 2 && g[1].activations.range[1].kind == QB_RANGE_PERCENTILE);
  qb_sweep_config_free(&cfg);
  /* Without grids the base is the one grid. */
  QB_CHECK_MSG(parse("models: [{name: mlp}]\n", &cfg, &err) == 0, "%s", err.msg);
  g = qb_sweep_config_grids(&cfg, &n);
  QB_CHECK(n == 1 && g == &cfg.base);
  qb_sweep_config_free(&cfg);
  expect_error("models: [{name: mlp}]\ngrids: {workflow: static}\n", 2, 8,
               "grids: expected a list of grids");
  expect_error("models: [{name: mlp}]\ngrids: []\n", 2, 8, "a non-empty list of grids");
  expect_error("models: [{name: mlp}]\ngrids:\n  - {workflow: static}\n  - {backends: [avx2]}\n",
               4, 6, "expected one of the keys");
  expect_error("models: [{name: mlp}]\ngrids:\n  - weights: {bits: [9]}\n", 3, 22,
               "grids[0].weights.bits");
}

int main(void) {
  test_grids();
  test_grid_axes();
  test_full();
  test_defaults();
  test_errors();
  test_task_models();
  test_shipped_configs();
  test_load_missing();
  test_hostile_inputs();
  return qb_test_finish("test_config");
}
