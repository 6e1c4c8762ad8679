/* vit: a small vision transformer. 7x7 patches of the 28x28 image give 16 tokens,
 * embedded to dim 64 plus a learned position embedding; two pre-LN encoder blocks
 * (4 heads of 16, GELU MLP of 128); final layer norm; mean over tokens; fc 64 -> 10. */
#include "qb_layers.h"
#include "qb_reference_models.h"

void qb_model_vit_layers(qb_net* net) {
  qb_add_patch_embed(net, "patch_embed", 7, 64);
  qb_add_pos_embed(net, "pos_embed");
  qb_add_encoder_block(net, "encoder0", 4, 128);
  qb_add_encoder_block(net, "encoder1", 4, 128);
  qb_add_layernorm(net, "norm");
  qb_add_token_mean(net, "pool");
  qb_add_dense(net, "head", 10);
}
