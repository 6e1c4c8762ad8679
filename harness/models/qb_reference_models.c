/* Registry of the reference models and their training recipes. */
#include "qb_reference_models.h"

#include <string.h>

const char* const qb_reference_model_names[QB_REFERENCE_MODEL_COUNT] = {"mlp", "cnn", "dwnet",
                                                                        "vit"};

typedef struct {
  const char* name;
  void (*layers)(qb_net* net);
  qb_train_recipe recipe;
} model_entry;

#define SGD(lr_, wd_) {.kind = QB_OPT_SGD, .momentum = 0.9f, .weight_decay = wd_}, lr_
#define ADAMW(lr_, wd_) \
  {.kind = QB_OPT_ADAMW, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = wd_}, lr_

/* Recipes: epochs, batch, seed, optimizer + peak lr, warm-up steps (cosine decay after). */
static const model_entry models[QB_REFERENCE_MODEL_COUNT] = {
    {"mlp", qb_model_mlp_layers, {10, 128, 1, SGD(0.05f, 5e-4f), 100}},
    {"cnn", qb_model_cnn_layers, {8, 128, 1, SGD(0.05f, 5e-4f), 100}},
    {"dwnet", qb_model_dwnet_layers, {6, 128, 1, SGD(0.1f, 1e-4f), 200}},
    {"vit", qb_model_vit_layers, {10, 128, 1, ADAMW(2e-3f, 0.05f), 400}},
};

static const model_entry* find(const char* name) {
  for (int i = 0; i < QB_REFERENCE_MODEL_COUNT; i++)
    if (strcmp(models[i].name, name) == 0) return &models[i];
  return NULL;
}

qb_net* qb_reference_model_build(const char* name, size_t max_batch, uint64_t seed,
                                 qb_error* err) {
  const model_entry* m = find(name);
  if (!m) {
    qb_fail(err, "unknown model '%s' (expected mlp, cnn, dwnet or vit)", name);
    return NULL;
  }
  qb_net* net = qb_net_new(name, 1, 28, 28, max_batch, seed);
  if (!net) {
    qb_fail(err, "out of memory");
    return NULL;
  }
  m->layers(net);
  if (qb_net_finish(net, err) != 0) {
    qb_net_free(net);
    return NULL;
  }
  return net;
}

int qb_reference_model_recipe(const char* name, qb_train_recipe* out) {
  const model_entry* m = find(name);
  if (!m) return -1;
  *out = m->recipe;
  return 0;
}
