/* The trained reference models (harness/models/reference/{mlp,cnn,dwnet,vit}.onnx,
 * when present) through the runtime:
 *   - fp32 top-1 on the 10,000 test images equals the accuracy the trainer
 *     measured and recorded in the model's .json (within 5 images: the trainer's
 *     forward pass sums in another order, which may flip a near-tie);
 *   - static w8/a8 (per-channel weights, min-max calibration on the first 1,000
 *     images of the calibration split): the integer run agrees with the
 *     simulation on >= 99.5 % of the first 2,000 test images and loses at most 1.5
 *     points of top-1 there.
 * Arguments: the models to check (default all four; CTest registers one entry per
 * model so they run in parallel). Skipped (exit 77) when none of them exists yet. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_dataset.h"
#include "qb_metrics.h"
#include "qb_model.h"
#include "qb_model_eval.h"
#include "qb_model_quant.h"
#include "qb_test.h"

static char ref_dir[1024];

/* Sanitizer builds run ~10x slower: there, a 1,000-image subset (the recorded
 * accuracy is checked by the plain build). */
#if defined(__SANITIZE_ADDRESS__)
#define EVAL_LIMIT 1000
#else
#define EVAL_LIMIT 0
#endif

static void find_ref_dir(void) {
  /* __FILE__ is tests/unit/test_model_reference.c under the source tree. */
  snprintf(ref_dir, sizeof ref_dir, "%s", __FILE__);
  char* p = strstr(ref_dir, "tests/unit/");
  if (p) snprintf(p, sizeof ref_dir - (size_t)(p - ref_dir), "harness/models/reference");
}

static double recorded_accuracy(const char* name) {
  char path[1200], buf[8192];
  snprintf(path, sizeof path, "%s/%s.json", ref_dir, name);
  FILE* f = fopen(path, "r");
  if (!f) return -1;
  const size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char* k = strstr(buf, "\"test_accuracy_fp32\":");
  return k ? atof(k + strlen("\"test_accuracy_fp32\":")) : -1;
}

static int check_model(const char* name, const qb_dataset* test, const qb_dataset* calib) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s.onnx", ref_dir, name);
  FILE* f = fopen(path, "rb");
  if (!f) return 0;
  fclose(f);
  qb_error err;
  qb_model m;
  QB_CHECK_MSG(qb_model_load_onnx(path, &m, &err) == 0, "%s", err.msg);
  if (!m.nvalues) return 1;
  qb_eval_result fp32, sim, integer;
  QB_CHECK_MSG(qb_model_evaluate(&m, test, EVAL_LIMIT, 200, NULL, NULL, NULL, &fp32, &err) == 0, "%s", err.msg);
  const double recorded = recorded_accuracy(name);
  printf("%s: fp32 top-1 %.2f %% on %zu images (trainer recorded %.2f %% on 10000)\n", name,
         100 * fp32.top1, fp32.count, 100 * recorded);
  if (fp32.count == 10000)
    QB_CHECK_MSG(recorded > 0 && fp32.top1 > recorded - 5e-4 && fp32.top1 < recorded + 5e-4,
                 "%s: %.4f vs recorded %.4f", name, fp32.top1, recorded);
  const size_t nq = fp32.count < 2000 ? fp32.count : 2000;
  qb_qconfig cfg = qb_qconfig_default();
  qb_quant_state* q = NULL;
  QB_CHECK(qb_quant_create(&m, &cfg, QB_BACKEND_COUNT, &q, &err) == 0);
  if (q && qb_model_calibrate(&m, q, calib, 1000, 200, &err) == 0) {
    const qb_model_exec se = {QB_EXEC_SIMULATED, q, NULL, NULL, false}, ie = {QB_EXEC_INTEGER, q, NULL, NULL, false};
    QB_CHECK(qb_model_evaluate(&m, test, nq, 200, &se, NULL, NULL, &sim, &err) == 0);
    QB_CHECK(qb_model_evaluate(&m, test, nq, 200, &ie, NULL, NULL, &integer, &err) == 0);
    const double agree = qb_top1_agreement(sim.logits, integer.logits, nq, 10);
    double fp32_2k = 0;
    for (size_t i = 0; i < nq; i++)
      fp32_2k += qb_argmax(fp32.logits + i * 10, 10) == (size_t)test->labels[i];
    fp32_2k /= (double)nq;
    printf("%s: w8/a8 static (calibrated on 1000) on %zu images: fp32 %.2f %%, simulated %.2f %%, "
           "integer %.2f %% (%s), integer/simulated top-1 agreement %.2f %%\n", name, nq,
           100 * fp32_2k, 100 * sim.top1,
           100 * integer.top1, qb_quant_backend_name(q), 100 * agree);
    QB_CHECK(agree >= 0.995);
    QB_CHECK(integer.top1 >= fp32_2k - 0.015);
    qb_eval_result_free(&sim), qb_eval_result_free(&integer);
  } else {
    QB_CHECK_MSG(0, "%s: quantization failed: %s", name, err.msg);
  }
  qb_quant_free(q);
  qb_eval_result_free(&fp32);
  qb_model_free(&m);
  return 1;
}

int main(int argc, char** argv) {
  find_ref_dir();
  qb_error err;
  qb_dataset test, calib;
  qb_preprocess pp;
  qb_preprocess_parse("scale=0.00392156862745098;mean=0.2860;std=0.3530;layout=NCHW", &pp, &err);
  size_t found = 0;
  const char* all[] = {"mlp", "cnn", "dwnet", "vit"};
  const char* const* names = argc > 1 ? (const char* const*)argv + 1 : all;
  const size_t count = argc > 1 ? (size_t)argc - 1 : 4;
  char path[1200];
  for (size_t i = 0; i < count; i++) {
    snprintf(path, sizeof path, "%s/%s.onnx", ref_dir, names[i]);
    FILE* f = fopen(path, "rb");
    if (f) fclose(f), found++;
  }
  if (!found) qb_test_skip("no reference models in harness/models/reference yet");
  if (qb_dataset_fmnist(QB_FASHION_MNIST, "test", &pp, &test, &err) ||
      qb_dataset_fmnist(QB_FASHION_MNIST, "calib", &pp, &calib, &err))
    qb_test_skip("Fashion-MNIST is not installed");
  for (size_t i = 0; i < count; i++) check_model(names[i], &test, &calib);
  qb_dataset_free(&test), qb_dataset_free(&calib);
  return qb_test_finish("test_model_reference");
}
