/* Whole-model gradients: for each reference model (mlp, cnn, dwnet, vit), the
 * gradient backpropagated through every layer — including the ViT's composite
 * encoder blocks and the batch norms in training mode — matches central finite
 * differences of the cross-entropy loss for sampled entries of every parameter. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_reference_models.h"
#include "qb_test.h"
#include "qb_train_ops.h"

#define BATCH 3

static double loss_of(qb_net* net, const float* x, const uint8_t* y) {
  const float* logits = qb_net_forward(net, BATCH, x, 1);
  return logits ? qb_train_softmax_xent(BATCH, 10, logits, y, NULL) : NAN;
}

static void check_model(const char* name) {
  qb_error err;
  qb_net* net = qb_reference_model_build(name, BATCH, 7, &err);
  QB_CHECK_MSG(net != NULL, "%s", err.msg);
  if (!net) return;
  float* x = malloc(BATCH * 784 * sizeof *x);
  for (size_t i = 0; i < BATCH * 784; i++) x[i] = qb_rand_normal();
  const uint8_t y[BATCH] = {1, 7, 4};
  float dlogits[BATCH * 10];
  const float* logits = qb_net_forward(net, BATCH, x, 1);
  QB_CHECK(logits != NULL);
  qb_train_softmax_xent(BATCH, 10, logits, y, dlogits);
  qb_net_zero_grad(net);
  QB_CHECK(qb_net_backward(net, BATCH, dlogits) == 0);
  /* h: large enough for float rounding of the loss, small enough to rarely cross a
   * ReLU kink; a handful of kink crossings would show up as isolated mismatches, so
   * at most 5% of the sampled entries may miss (float forward noise is ~1e-3
   * in the difference quotient). */
  const float h = 1e-3f;
  int checked = 0, missed = 0;
  for (int p = 0; p < net->nparams; p++) {
    qb_param* prm = net->params[p];
    const size_t step = prm->count > 6 ? prm->count / 6 : 1;
    for (size_t i = (size_t)qb_rand_below((uint32_t)step); i < prm->count; i += step) {
      const float keep = prm->w[i];
      prm->w[i] = keep + h;
      const double lp = loss_of(net, x, y);
      prm->w[i] = keep - h;
      const double lm = loss_of(net, x, y);
      prm->w[i] = keep;
      const double num = (lp - lm) / (2.0 * (double)h), ana = prm->grad[i];
      checked++;
      if (fabs(num - ana) > 4e-3 + 2e-2 * fabs(num)) {
        if (missed++ < 5)
          fprintf(stderr, "%s %s[%zu]: analytic %.6g numeric %.6g\n", name, prm->name, i, ana,
                  num);
      }
    }
  }
  printf("%s: %d parameter entries checked, %d off\n", name, checked, missed);
  QB_CHECK(checked > 0);
  QB_CHECK_MSG(missed * 20 <= checked, "%s: %d of %d gradient entries off", name, missed,
               checked);
  free(x);
  qb_net_free(net);
}

int main(void) {
  qb_test_seed(5);
  for (int i = 0; i < QB_REFERENCE_MODEL_COUNT; i++) check_model(qb_reference_model_names[i]);
  return qb_test_finish("test_train_net_grad");
}
