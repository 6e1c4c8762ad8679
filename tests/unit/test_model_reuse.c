/* qb_quant_create_reusing (the sweep's "weight range search once per weight spec"):
 * on a small random MLP with MSE-chosen 4-bit weights,
 *   - a state made from a donor with the same weight spec (another backend and
 *     workflow) runs bit for bit as a freshly quantized one;
 *   - its weights really come from the donor: a donor whose quantized weights were
 *     overwritten passes them on (and the logits change);
 *   - a donor with another weight spec is not used (qb_quant_weights_match says no,
 *     the state equals a fresh one even when that donor is overwritten). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_dataset.h"
#include "qb_model.h"
#include "qb_model_eval.h"
#include "qb_model_quant.h"
#include "qb_model_quant_internal.h"
#include "qb_test.h"
#include "qb_test_model.h"

#define NSAMPLES 64
#define BATCH 16
#define STATIC_MSE "w4-sym-channel-mse/a8-aff-tensor-minmax/static"
#define WO_MSE "w4-sym-channel-mse/weight-only"
#define WO_MINMAX "w4-sym-channel-minmax/weight-only"

static qb_quant_state* make(qb_model* m, const char* text, qb_backend b, const qb_quant_state* donor) {
  qb_qconfig cfg;
  qb_error err;
  qb_quant_state* q = NULL;
  if (qb_qconfig_parse(text, &cfg, &err) || qb_quant_create_reusing(m, &cfg, b, donor, &q, &err)) {
    fprintf(stderr, "%s: %s\n", text, err.msg);
    return NULL;
  }
  return q;
}

/* Calibrated integer run of the static state q over d. */
static int logits(qb_model* m, qb_quant_state* q, const qb_dataset* d, qb_eval_result* r) {
  qb_error err;
  const qb_model_exec e = {QB_EXEC_INTEGER, q, NULL, NULL, false};
  if (qb_model_calibrate(m, q, d, 0, BATCH, &err) ||
      qb_model_evaluate(m, d, 0, BATCH, &e, NULL, NULL, r, &err)) {
    fprintf(stderr, "run: %s\n", err.msg);
    return -1;
  }
  return 0;
}

static bool same(const qb_eval_result* a, const qb_eval_result* b) {
  return a->count == b->count && a->classes == b->classes &&
         !memcmp(a->logits, b->logits, a->count * a->classes * sizeof(float));
}

/* Overwrites every quantized weight of q with code 1 (dequantized accordingly). */
static void overwrite_weights(qb_quant_state* q) {
  for (size_t k = 0; k < q->nnodes; k++) {
    qb_qlayer* L = &q->layers[k];
    for (size_t i = 0; L->wq.q && i < L->N * L->K; i++)
      L->wq.q[i] = 1, L->wq.dequant[i] = L->wq.params[L->wq.layout.nunits == 1 ? 0 : i / L->K].scale;
  }
}

int main(void) {
  qb_test_seed(20261202);
  qb_model m;
  QB_CHECK(qb_test_build_mlp(&m, 16, 24) == 0);
  qb_dataset d;
  qb_test_random_dataset(&d, NSAMPLES, 16);
  qb_error err;
  QB_CHECK(qb_model_prepare(&m, BATCH, &err) == 0);
  qb_eval_result fresh = {0}, reused = {0}, poisoned = {0}, other = {0};

  qb_quant_state* q = make(&m, STATIC_MSE, QB_BACKEND_SCALAR, NULL);
  QB_CHECK(q && logits(&m, q, &d, &fresh) == 0);
  qb_quant_free(q);

  qb_quant_state* donor = make(&m, WO_MSE, QB_BACKEND_COUNT, NULL);
  QB_CHECK(donor != NULL);
  qb_qconfig st;
  QB_CHECK(qb_qconfig_parse(STATIC_MSE, &st, &err) == 0);
  QB_CHECK(qb_quant_weights_match(donor, &st));
  q = make(&m, STATIC_MSE, QB_BACKEND_SCALAR, donor);
  QB_CHECK(q && logits(&m, q, &d, &reused) == 0);
  QB_CHECK_MSG(same(&fresh, &reused), "a state reusing a donor's weights differs from a fresh one");
  qb_quant_free(q);

  overwrite_weights(donor);
  q = make(&m, STATIC_MSE, QB_BACKEND_SCALAR, donor);
  QB_CHECK(q && logits(&m, q, &d, &poisoned) == 0);
  QB_CHECK_MSG(!same(&fresh, &poisoned), "the donor's weights were not used");
  qb_quant_free(q);
  qb_quant_free(donor);

  donor = make(&m, WO_MINMAX, QB_BACKEND_COUNT, NULL);
  QB_CHECK(donor != NULL);
  QB_CHECK(!qb_quant_weights_match(donor, &st));
  overwrite_weights(donor);
  q = make(&m, STATIC_MSE, QB_BACKEND_SCALAR, donor);
  QB_CHECK(q && logits(&m, q, &d, &other) == 0);
  QB_CHECK_MSG(same(&fresh, &other), "a donor with another weight spec was used");
  qb_quant_free(q);
  qb_quant_free(donor);

  qb_eval_result_free(&fresh), qb_eval_result_free(&reused);
  qb_eval_result_free(&poisoned), qb_eval_result_free(&other);
  qb_dataset_free(&d);
  qb_model_free(&m);
  return qb_test_finish("test_model_reuse");
}
