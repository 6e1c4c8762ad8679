/* dwnet: a small MobileNet-v1-style network. Convolutions carry no bias (the batch
 * norm after each provides it); at export every conv+BN pair becomes one Conv.
 *   stem     conv3x3 s2, 1 -> 16, 28x28 -> 14x14
 *   block1   dw3x3 s1 (16), pw 16 -> 32    14x14
 *   block2   dw3x3 s2 (32), pw 32 -> 64    7x7
 *   block3   dw3x3 s1 (64), pw 64 -> 128   7x7
 *   block4   dw3x3 s2 (128), pw 128 -> 128 4x4
 *   GAP, fc 128 -> 10
 * About 1 M multiply-adds per image. */
#include <stdio.h>

#include "qb_layers.h"
#include "qb_reference_models.h"

static void conv_bn_relu6(qb_net* net, const char* name, size_t cout, size_t k, size_t stride,
                          size_t groups) {
  char bn[64], act[64];
  snprintf(bn, sizeof bn, "%.40s.bn", name);
  snprintf(act, sizeof act, "%.40s.relu6", name);
  qb_add_conv2d(net, name, cout, k, stride, k / 2, groups, 0);
  qb_add_batchnorm(net, bn);
  qb_add_activation(net, act, QB_ACT_RELU6);
}

static void separable_block(qb_net* net, int index, size_t cout, size_t stride) {
  char dw[48], pw[48];
  snprintf(dw, sizeof dw, "block%d.dw", index);
  snprintf(pw, sizeof pw, "block%d.pw", index);
  conv_bn_relu6(net, dw, net->cur_dims[0], 3, stride, net->cur_dims[0]);
  conv_bn_relu6(net, pw, cout, 1, 1, 1);
}

void qb_model_dwnet_layers(qb_net* net) {
  conv_bn_relu6(net, "stem", 16, 3, 2, 1);
  separable_block(net, 1, 32, 1);
  separable_block(net, 2, 64, 2);
  separable_block(net, 3, 128, 1);
  separable_block(net, 4, 128, 2);
  qb_add_gap(net, "gap");
  qb_add_dense(net, "fc", 10);
}
