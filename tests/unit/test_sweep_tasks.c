/* The sweep evaluator on tasks other than classification, with a small convolutional
 * "orientation classifier" [N,3,48,192] -> 2 built here: an ocr-cls model on generated
 * data (written once into <output>/cache/ocr-data and reused), the same model on
 * the generated .npy with explicit labels and calibration_data (same fp32 score), and
 * the outputs task on the bare .npy (no labels; calibration held out). Checks the
 * task_metric / accuracy / drop / agreement rows and the per-output error rows.
 * Skipped (77) without the DejaVu fonts or the word list. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb_ocr_synth.h"
#include "qb_sweep_eval.h"
#include "qb_sweep_plan.h"
#include "qb_test.h"
#include "qb_test_model.h"

static char g_tmp[128];

static int build_model(const char* path) {
  qb_onnx_builder* b = qb_onnx_builder_new("qbench-test", 13);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 3, 48, 192});
  qb_test_add_random_initializer(b, "conv.w", 4, (size_t[]){4, 3, 3, 3}, 0.3f);
  qb_test_add_random_initializer(b, "conv.b", 1, (size_t[]){4}, 0.1f);
  qb_test_add_random_initializer(b, "fc.w", 2, (size_t[]){2, 4}, 0.5f);
  qb_test_add_random_initializer(b, "fc.b", 1, (size_t[]){2}, 0.1f);
  qb_onnx_node* n = qb_onnx_builder_node(b, "Conv", "conv", 3, (const char*[]){"x", "conv.w", "conv.b"}, 1,
                                         (const char*[]){"c"});
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
  qb_onnx_node_attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3});
  qb_onnx_builder_node(b, "Relu", "relu", 1, (const char*[]){"c"}, 1, (const char*[]){"r"});
  qb_onnx_builder_node(b, "GlobalAveragePool", "gap", 1, (const char*[]){"r"}, 1, (const char*[]){"g"});
  qb_onnx_builder_node(b, "Flatten", "flat", 1, (const char*[]){"g"}, 1, (const char*[]){"f"});
  n = qb_onnx_builder_node(b, "Gemm", "fc", 3, (const char*[]){"f", "fc.w", "fc.b"}, 1, (const char*[]){"l"});
  qb_onnx_node_attr_int(n, "transB", 1);
  qb_onnx_builder_node(b, "Softmax", "softmax", 1, (const char*[]){"l"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 2});
  qb_error err;
  const int rc = qb_onnx_builder_save(b, path, &err);
  if (rc) fprintf(stderr, "%s\n", err.msg);
  qb_onnx_builder_free(b);
  return rc;
}

static double find(const qb_result_rows* r, const char* layer, const char* metric, const char** unit) {
  for (size_t i = 0; i < r->count; i++)
    if (!strcmp(r->rows[i].layer, layer) && !strcmp(r->rows[i].metric, metric)) {
      if (unit) *unit = r->rows[i].unit;
      return r->rows[i].value;
    }
  return NAN;
}

int main(void) {
  if (access(QB_OCR_WORDS_DEFAULT, R_OK) || access(QB_OCR_FONTS_DEFAULT "/DejaVuSerif-Italic.ttf", R_OK)) {
    printf("test_sweep_tasks: skipped (no word list or DejaVu fonts; run .ci/deps)\n");
    return 77;
  }
  snprintf(g_tmp, sizeof g_tmp, "/tmp/qb_sweep_tasks_XXXXXX");
  if (!mkdtemp(g_tmp)) return 1;
  char path[256], cfgtext[2048];
  snprintf(path, sizeof path, "%s/tiny.onnx", g_tmp);
  if (build_model(path)) return 1;
  /* The .npy set the second and third entries read: the generator's own files. */
  char dir[256];
  snprintf(dir, sizeof dir, "%s/set", g_tmp);
  qb_error err = {{0}};
  const qb_ocr_synth_options o = {QB_TASK_OCR_CLS, 1, 24, 8, NULL, NULL, NULL};
  QB_CHECK_MSG(qb_ocr_synth_write(&o, dir, &err) == 0, "%s", err.msg);
  snprintf(cfgtext, sizeof cfgtext,
           "output: %s/out\n"
           "seed: 1\n"
           "models:\n"
           "  - {path: tiny.onnx, name: gen, task: ocr-cls, data: generated, limit: 24, calibration: 8}\n"
           "  - {path: tiny.onnx, name: npy, task: ocr-cls, data: set/eval.npy, labels: set/eval-labels.npy,\n"
           "     calibration_data: set/calib.npy}\n"
           "  - {path: tiny.onnx, name: out, task: outputs, data: set/eval.npy, calibration: 4}\n"
           "weights: {bits: [8], granularity: [channel]}\n"
           "activations: {bits: [8]}\n"
           "workflow: [static]\n"
           "backends: [scalar]\n"
           "measure: [accuracy]\n",
           g_tmp);
  char file[256];
  snprintf(file, sizeof file, "%s/t.yaml", g_tmp);
  qb_sweep_config cfg;
  QB_CHECK_MSG(qb_sweep_config_parse(cfgtext, strlen(cfgtext), file, &cfg, &err) == 0, "%s", err.msg);
  qb_plan plan;
  QB_CHECK_MSG(qb_plan_build(&cfg, QB_BACKEND_BIT(QB_BACKEND_SCALAR), &plan, &err) == 0, "%s", err.msg);
  QB_CHECK_EQ_INT(plan.nitems, 3);
  qb_sweep_evaluator* ev = qb_sweep_evaluator_new(NULL);
  double fp32[3] = {NAN, NAN, NAN};
  for (size_t i = 0; i < plan.nitems && i < 3; i++) {
    qb_result_rows rows;
    qb_result_rows_init(&rows);
    QB_CHECK_MSG(qb_sweep_eval_item(ev, &cfg, &plan.items[i], &rows, &err) == 0, "%s", err.msg);
    const char* model = cfg.models[plan.items[i].model].name;
    const char* unit = "";
    const double task = find(&rows, model, "task_metric", &unit);
    const double acc = find(&rows, model, "accuracy", NULL), acc32 = find(&rows, model, "accuracy_fp32", NULL);
    fp32[i] = acc32;
    QB_CHECK_MSG(fabs(find(&rows, model, "drop", NULL) - (acc32 - acc)) < 1e-9, "%s: drop", model);
    QB_CHECK(acc >= 0 && acc <= 100 && find(&rows, model, "agreement", NULL) >= 0);
    if (i < 2) {
      QB_CHECK(task == QB_TASK_OCR_CLS && !strcmp(unit, "top-1"));
      QB_CHECK(find(&rows, model, "kl", NULL) >= 0);
    } else {
      QB_CHECK(task == QB_TASK_OUTPUTS && !strcmp(unit, "agreement"));
      /* fp32 agrees with itself; the output rows of 'y'. */
      QB_CHECK(acc32 == 100 && isnan(find(&rows, model, "kl", NULL)));
      QB_CHECK(find(&rows, "y", "output_cosine", NULL) > 0.9 && find(&rows, "y", "output_sqnr", NULL) > 10);
      QB_CHECK(find(&rows, "y", "output_agreement", NULL) == acc);
    }
    qb_result_rows_free(&rows);
  }
  /* The generated set (seed 1, 24 + 8) is the set written above: the same fp32 score. */
  QB_CHECK_MSG(fp32[0] == fp32[1], "generated %g vs .npy %g", fp32[0], fp32[1]);
  snprintf(path, sizeof path, "%s/out/cache/ocr-data", g_tmp);
  struct stat st;
  QB_CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
  qb_sweep_evaluator_free(ev);
  qb_plan_free(&plan);
  qb_sweep_config_free(&cfg);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
  if (system(cmd)) printf("could not remove %s\n", g_tmp);
  return qb_test_finish("test_sweep_tasks");
}
