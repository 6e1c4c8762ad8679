/* Training is deterministic and actually learns:
 *  - two runs of the same model, data and seed end with bit-identical weights
 *    (for every reference model: dense, conv + pool, depthwise + batch norm,
 *    attention + layer norm), and a different seed gives different weights;
 *  - a short run on real Fashion-MNIST images lowers the loss far below ln 10 and
 *    classifies held-out test images far above chance. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_reference_models.h"
#include "qb_test.h"
#include "qb_trainer.h"

/* Synthetic images: the label decides which image quadrant is bright. */
static void synthetic(qb_train_data* d, size_t n) {
  memset(d, 0, sizeof *d);
  d->train_x = malloc(n * 784 * sizeof(float));
  d->train_y = malloc(n);
  d->ntrain = n;
  for (size_t i = 0; i < n; i++) {
    d->train_y[i] = (uint8_t)qb_rand_below(10);
    for (size_t p = 0; p < 784; p++) {
      const size_t quadrant = (p / 28 >= 14) * 2 + (p % 28 >= 14);
      d->train_x[i * 784 + p] = qb_rand_normal() * 0.5f + (quadrant == d->train_y[i] % 4);
    }
  }
}

static uint64_t train_hash(const char* model, const qb_train_data* d, uint64_t seed) {
  qb_error err;
  qb_train_recipe r;
  QB_CHECK(qb_reference_model_recipe(model, &r) == 0);
  r.epochs = 1, r.batch = 16, r.seed = seed, r.warmup_steps = 2;
  qb_net* net = qb_reference_model_build(model, 16, seed, &err);
  QB_CHECK_MSG(net != NULL, "%s", err.msg);
  if (!net) return 0;
  qb_train_result res;
  QB_CHECK_MSG(qb_train_run(net, d, &r, &res, NULL, &err) == 0, "%s", err.msg);
  const uint64_t h = qb_net_weights_hash(net);
  qb_net_free(net);
  return h;
}

static void test_same_seed_same_weights(void) {
  qb_train_data d;
  synthetic(&d, 64);
  for (int m = 0; m < QB_REFERENCE_MODEL_COUNT; m++) {
    const char* name = qb_reference_model_names[m];
    const uint64_t a = train_hash(name, &d, 11), b = train_hash(name, &d, 11);
    const uint64_t c = train_hash(name, &d, 12);
    QB_CHECK_MSG(a == b, "%s: same seed, hashes %016llx vs %016llx", name,
                 (unsigned long long)a, (unsigned long long)b);
    QB_CHECK_MSG(a != c, "%s: seeds 11 and 12 gave the same weights", name);
  }
  qb_train_data_free(&d);
}

static void test_short_run_learns(void) {
  qb_error err;
  qb_train_data d;
  if (qb_train_data_load(&d, QB_FASHION_MNIST, 3000, &err) != 0) {
    fprintf(stderr, "%s\n", err.msg);
    qb_test_skip("Fashion-MNIST not installed");
  }
  QB_CHECK_EQ_INT(d.ntrain, 3000);
  QB_CHECK_EQ_INT(d.ntest, 10000);
  /* Evaluate on the first 2000 test images only (speed). */
  d.ntest = 2000;
  qb_train_recipe r;
  qb_reference_model_recipe("mlp", &r);
  r.epochs = 2, r.warmup_steps = 10;
  qb_net* net = qb_reference_model_build("mlp", 128, 1, &err);
  QB_CHECK(net != NULL);
  const float before = qb_net_accuracy(net, d.test_x, d.test_y, d.ntest);
  qb_train_result res;
  QB_CHECK_MSG(qb_train_run(net, &d, &r, &res, NULL, &err) == 0, "%s", err.msg);
  printf("mlp, 3000 images, 2 epochs: loss %.3f, test accuracy %.3f (before %.3f)\n",
         (double)res.final_loss, (double)res.test_accuracy, (double)before);
  QB_CHECK(res.final_loss < 0.8f * logf(10.0f));
  QB_CHECK(res.test_accuracy > 0.70f);
  QB_CHECK(res.test_accuracy > before + 0.3f);
  qb_net_free(net);
  qb_train_data_free(&d);
}

int main(void) {
  qb_test_seed(3);
  test_same_seed_same_weights();
  test_short_run_learns();
  return qb_test_finish("test_train_determinism");
}
