/* The four reference models qbench trains and ships (harness/models/reference/):
 *
 *   mlp    784-256-128-10, ReLU
 *   cnn    conv3x3(16)+ReLU+maxpool, conv3x3(32)+ReLU+maxpool, fc128+ReLU, fc10
 *   dwnet  MobileNet-style: strided conv stem (16) + BN + ReLU6, four depthwise-separable
 *          blocks (dw3x3 + BN + ReLU6, pw1x1 + BN + ReLU6; 32, 64, 128, 128 channels),
 *          GAP, fc10; BN folded into the convolutions at export
 *   vit    7x7 patches (16 tokens, dim 64) + position embedding, 2 pre-LN encoder
 *          blocks (4 heads, GELU MLP 128), final LN, mean over tokens, fc10
 *
 * Each comes with its training recipe (optimizer, learning rate, epochs, batch). */
#ifndef QB_REFERENCE_MODELS_H
#define QB_REFERENCE_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"
#include "qb_net.h"
#include "qb_trainer.h"

#define QB_REFERENCE_MODEL_COUNT 4
extern const char* const qb_reference_model_names[QB_REFERENCE_MODEL_COUNT];

/* Builds the named model (input 1x28x28, 10 classes) for batches up to max_batch,
 * weights initialized from seed. NULL with err set for an unknown name or failure. */
qb_net* qb_reference_model_build(const char* name, size_t max_batch, uint64_t seed,
                                 qb_error* err);
/* The model's default recipe (seed 1). -1 for an unknown name. */
int qb_reference_model_recipe(const char* name, qb_train_recipe* out);

/* Per-model builders (one file each) add their layers to an empty 1x28x28 net. */
void qb_model_mlp_layers(qb_net* net);
void qb_model_cnn_layers(qb_net* net);
void qb_model_dwnet_layers(qb_net* net);
void qb_model_vit_layers(qb_net* net);

#endif /* QB_REFERENCE_MODELS_H */
