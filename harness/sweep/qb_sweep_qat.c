/* qat items' fine-tuned models: key, cache, training. See qb_sweep_qat.h. */
#include "qb_sweep_qat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qb_json.h"
#include "qb_qat.h"
#include "qb_results_files.h"
#include "qb_hash.h"

/* Bump when the fine-tuning changes what it computes: cached models then retrain. */
#define QB_QAT_RECIPE_VERSION 2
#define QB_QAT_LR 0.005f
#define QB_QAT_MAX_BATCH 128

static int hash_file(const char* path, uint64_t* h, qb_error* err) {
  FILE* f = fopen(path, "rb");
  if (!f) return qb_fail(err, "%s: cannot read: %s", path, strerror(errno));
  unsigned char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) *h = qb_fnv1a64_update(*h, buf, n);
  const int bad = ferror(f);
  fclose(f);
  return bad ? qb_fail(err, "%s: read error", path) : 0;
}

/* The key in words (also written to the .json) and its hash. */
static int cache_key(const qb_sweep_config* cfg, const qb_plan_item* item, char* words,
                     size_t size, uint64_t* hash, qb_error* err) {
  const qb_qconfig qc = qb_plan_item_qconfig(item);
  char text[400];
  qb_qconfig_str(&qc, text, sizeof text);
  snprintf(words, size,
           "model %s, qconfig %s, epochs %ld, training images %ld, seed %" PRIu64
           ", lr %g, calibration %ld, batch 128, recipe %d",
           cfg->models[item->model].name, text, cfg->qat_epochs, cfg->qat_limit, cfg->seed,
           (double)QB_QAT_LR, cfg->calibration, QB_QAT_RECIPE_VERSION);
  *hash = QB_FNV1A64_OFFSET;
  if (hash_file(cfg->models[item->model].path, hash, err)) return -1;
  *hash = qb_fnv1a64_update(*hash, words, strlen(words));
  return 0;
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int write_sidecar(const char* path, const char* words, double seconds, qb_error* err) {
  FILE* f = fopen(path, "w");
  if (!f) return qb_fail(err, "%s: cannot write: %s", path, strerror(errno));
  fputs("{\n  \"key\": ", f);
  qb_json_string(f, words);
  fprintf(f, ",\n  \"training_seconds\": %.1f\n}\n", seconds);
  return fclose(f) ? qb_fail(err, "%s: write error", path) : 0;
}

/* Fine-tunes and writes the fp32 model to tmp. */
static int train(const qb_sweep_config* cfg, const qb_plan_item* item, const char* dir,
                 const char* tmp, qb_error* err) {
  const qb_sweep_model* sm = &cfg->models[item->model];
  qb_net* net = qb_net_load_onnx(sm->path, QB_QAT_MAX_BATCH, err);
  if (!net) return -1;
  qb_train_data d;
  if (qb_train_data_load(&d, dir, (size_t)cfg->qat_limit, err)) {
    qb_net_free(net);
    return -1;
  }
  qb_train_data train_only = d;
  train_only.ntest = 0; /* no test-set evaluation: the sweep measures the result */
  /* Calibrated on the images the runtime calibrates the result on (the calibration
   * split's first eval.calibration), in the same batches: see qb_qat.h. */
  const qb_qat_recipe r = {qb_plan_item_qconfig(item), (int)cfg->qat_epochs, QB_QAT_LR,
                           (size_t)cfg->calibration, cfg->seed};
  qb_train_result res;
  char qc_text[400];
  qb_qconfig_str(&r.qc, qc_text, sizeof qc_text);
  const char* meta[] = {"qbench.qat", qc_text, NULL};
  int rc = qb_qat_finetune(net, &train_only, &r, NULL, &res, NULL, err);
  if (!rc) rc = qb_net_export_onnx(net, tmp, 0, meta, err);
  qb_net_free(net);
  qb_train_data_free(&d);
  return rc;
}

int qb_sweep_qat_model(const qb_sweep_config* cfg, const qb_plan_item* item,
                       const char* fmnist_dir, FILE* log, char* path, size_t size, qb_error* err) {
  char words[768], dir[QB_SWEEP_PATH_MAX + 16];
  uint64_t hash;
  if (cache_key(cfg, item, words, sizeof words, &hash, err)) return -1;
  snprintf(dir, sizeof dir, "%s/cache/qat", cfg->output);
  snprintf(path, size, "%s/%s-%016" PRIx64 ".onnx", dir, cfg->models[item->model].name, hash);
  if (access(path, R_OK) == 0) return 0;
  if (qb_mkdir_p(dir, err)) return -1;
  if (log) fprintf(log, "qat: fine-tuning %s\n", words), fflush(log);
  char tmp[QB_SWEEP_PATH_MAX + 64], json[QB_SWEEP_PATH_MAX + 64];
  snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
  snprintf(json, sizeof json, "%.*s.json", (int)(strlen(path) - 5), path);
  const double t0 = seconds_now();
  int rc = train(cfg, item, fmnist_dir ? fmnist_dir : QB_FASHION_MNIST, tmp, err);
  const double seconds = seconds_now() - t0;
  if (!rc) rc = write_sidecar(json, words, seconds, err);
  if (!rc && rename(tmp, path))
    rc = qb_fail(err, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
  if (rc) unlink(tmp);
  else if (log) fprintf(log, "qat: %.1f s, cached as %s\n", seconds, path), fflush(log);
  return rc;
}
