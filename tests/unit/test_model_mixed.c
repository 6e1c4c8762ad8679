/* Mixed-precision runs (harness/qruntime/qb_model_mixed): on a small random MLP
 * (fc1 Gemm -> Relu -> fc2 MatMul + bias),
 *   - every layer float gives the fp32 logits bit for bit;
 *   - every layer at qconfig 0 gives the plain qconfig-0 run bit for bit (simulated and
 *     integer), though the other states hold other weights;
 *   - fc1 at w4, fc2 at w8: fc1's output equals the plain w4 run's, the logits differ
 *     from both plain runs, and restore leaves the base state's own run unchanged;
 *   - qconfigs with different activations and out-of-range choices are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_dataset.h"
#include "qb_model.h"
#include "qb_model_eval.h"
#include "qb_model_mixed.h"
#include "qb_model_quant.h"
#include "qb_onnx_builder.h"
#include "qb_test.h"
#include "qb_test_model.h"

#define NSAMPLES 64
#define BATCH 16
#define W8 "w8-sym-channel-minmax/a8-aff-tensor-minmax/static"
#define W4 "w4-sym-channel-minmax/a8-aff-tensor-minmax/static"

static bool same_logits(const qb_eval_result* a, const qb_eval_result* b) {
  return a->count == b->count && a->classes == b->classes &&
         !memcmp(a->logits, b->logits, a->count * a->classes * sizeof(float));
}

/* A plain (single qconfig) quantized state, calibrated on d. */
static qb_quant_state* plain_state(qb_model* m, const char* text, const qb_dataset* d) {
  qb_qconfig cfg;
  qb_error err;
  qb_quant_state* q = NULL;
  if (qb_qconfig_parse(text, &cfg, &err) || qb_quant_create(m, &cfg, QB_BACKEND_COUNT, &q, &err) ||
      qb_model_calibrate(m, q, d, 0, BATCH, &err)) {
    fprintf(stderr, "%s: %s\n", text, err.msg);
    qb_quant_free(q);
    return NULL;
  }
  return q;
}

static int plain_eval(qb_model* m, qb_quant_state* q, qb_exec_mode mode, const qb_dataset* d,
                      qb_eval_result* r) {
  qb_error err;
  const qb_model_exec e = {mode, q, NULL, NULL, false};
  const int rc = qb_model_evaluate(m, d, 0, BATCH, e.quant ? &e : NULL, NULL, NULL, r, &err);
  if (rc) fprintf(stderr, "eval: %s\n", err.msg);
  return rc;
}

/* fc1's output (node 0) of the first batch, captured by a hook. */
typedef struct {
  float v[BATCH * 24];
} fc1_out;
static void fc1_hook(void* ctx, const qb_model* m, size_t node, const qb_value* out) {
  (void)m;
  if (node == 0 && out->numel == BATCH * 24) memcpy(((fc1_out*)ctx)->v, out->data, sizeof(fc1_out));
}
static int run_fc1(qb_model* m, qb_quant_state* q, const qb_dataset* d, fc1_out* o) {
  qb_error err;
  const qb_model_exec e = {QB_EXEC_INTEGER, q, fc1_hook, o, false};
  const float* x = d->x;
  if (qb_model_prepare(m, BATCH, &err) || qb_model_run(m, &x, &e, &err)) {
    fprintf(stderr, "run: %s\n", err.msg);
    return -1;
  }
  return 0;
}

int main(void) {
  qb_test_seed(20261202);
  qb_model m;
  QB_CHECK(qb_test_build_mlp(&m, 16, 24) == 0);
  qb_dataset d;
  qb_test_random_dataset(&d, NSAMPLES, 16);
  qb_error err;
  qb_qconfig cfgs[2];
  QB_CHECK(qb_qconfig_parse(W8, &cfgs[0], &err) == 0 && qb_qconfig_parse(W4, &cfgs[1], &err) == 0);
  QB_CHECK(qb_model_prepare(&m, BATCH, &err) == 0);
  qb_mixed* x = NULL;
  QB_CHECK(qb_mixed_create(&m, cfgs, 2, QB_BACKEND_COUNT, &x, &err) == 0);
  QB_CHECK(qb_model_calibrate(&m, qb_mixed_base(x), &d, 0, BATCH, &err) == 0);
  QB_CHECK(qb_mixed_share_calibration(x, &err) == 0);
  qb_quant_state* q8 = plain_state(&m, W8, &d);
  qb_quant_state* q4 = plain_state(&m, W4, &d);
  QB_CHECK(q8 && q4);

  int all_float[4], all_base[4], mixed[4];
  QB_CHECK(m.nnodes == 4);
  for (int k = 0; k < 4; k++) all_float[k] = QB_MIXED_FLOAT, all_base[k] = 0, mixed[k] = 0;
  mixed[0] = 1; /* fc1 at w4, fc2 at w8 */

  qb_eval_result fp32, r;
  QB_CHECK(plain_eval(&m, NULL, QB_EXEC_FP32, &d, &fp32) == 0);
  for (int mode = QB_EXEC_SIMULATED; mode <= QB_EXEC_INTEGER; mode++) {
    QB_CHECK(qb_mixed_evaluate(x, &m, all_float, (qb_exec_mode)mode, &d, 0, BATCH, &r, &err) == 0);
    QB_CHECK_MSG(same_logits(&fp32, &r), "all float == fp32 (mode %d)", mode);
    qb_eval_result_free(&r);
    qb_eval_result p8, p4;
    QB_CHECK(plain_eval(&m, q8, (qb_exec_mode)mode, &d, &p8) == 0);
    QB_CHECK(plain_eval(&m, q4, (qb_exec_mode)mode, &d, &p4) == 0);
    QB_CHECK(qb_mixed_evaluate(x, &m, all_base, (qb_exec_mode)mode, &d, 0, BATCH, &r, &err) == 0);
    QB_CHECK_MSG(same_logits(&p8, &r), "all at qconfig 0 == plain w8 (mode %d)", mode);
    qb_eval_result_free(&r);
    for (int k = 0; k < 4; k++) all_base[k] = 1;
    QB_CHECK(qb_mixed_evaluate(x, &m, all_base, (qb_exec_mode)mode, &d, 0, BATCH, &r, &err) == 0);
    QB_CHECK_MSG(same_logits(&p4, &r), "all at qconfig 1 == plain w4 (mode %d)", mode);
    qb_eval_result_free(&r);
    for (int k = 0; k < 4; k++) all_base[k] = 0;
    QB_CHECK(qb_mixed_evaluate(x, &m, mixed, (qb_exec_mode)mode, &d, 0, BATCH, &r, &err) == 0);
    QB_CHECK_MSG(!same_logits(&p8, &r) && !same_logits(&p4, &r), "mixed differs from both plain runs (mode %d)",
                 mode);
    QB_CHECK(r.count == NSAMPLES && r.correct <= NSAMPLES);
    qb_eval_result_free(&r);
    /* Restored: the base state runs plain w8 again. */
    QB_CHECK(plain_eval(&m, qb_mixed_base(x), (qb_exec_mode)mode, &d, &r) == 0);
    QB_CHECK_MSG(same_logits(&p8, &r), "base after restore == plain w8 (mode %d)", mode);
    qb_eval_result_free(&r), qb_eval_result_free(&p8), qb_eval_result_free(&p4);
  }

  /* The mixed run's fc1 is exactly the plain w4 run's fc1. */
  fc1_out a, b;
  memset(&a, 0, sizeof a), memset(&b, 1, sizeof b);
  qb_quant_layer_info li4, li, lf;
  qb_quant_layer(q4, 0, &li4);
  qb_mixed_layer(x, mixed, 0, &li);
  qb_mixed_layer(x, all_float, 0, &lf);
  QB_CHECK(li.quantized && li.weight_bytes == li4.weight_bytes && !strcmp(li.kernel, li4.kernel));
  QB_CHECK(!lf.quantized);
  QB_CHECK(qb_mixed_apply(x, mixed, &err) == 0);
  QB_CHECK(run_fc1(&m, qb_mixed_base(x), &d, &a) == 0);
  qb_mixed_restore(x);
  QB_CHECK(run_fc1(&m, q4, &d, &b) == 0);
  QB_CHECK_MSG(!memcmp(a.v, b.v, sizeof a.v), "mixed fc1 == plain w4 fc1");

  /* Refusals. */
  int bad[4] = {2, 0, 0, 0};
  QB_CHECK(qb_mixed_apply(x, bad, &err) != 0);
  qb_qconfig other[2] = {cfgs[0], cfgs[0]};
  QB_CHECK(qb_qconfig_parse("w8/a8/dynamic", &other[1], &err) == 0);
  qb_mixed* y = NULL;
  QB_CHECK(qb_mixed_create(&m, other, 2, QB_BACKEND_COUNT, &y, &err) != 0 && y == NULL);

  qb_eval_result_free(&fp32);
  qb_mixed_free(x), qb_quant_free(q8), qb_quant_free(q4);
  qb_dataset_free(&d);
  qb_model_free(&m);
  return qb_test_finish("test_model_mixed");
}
