/* cnn: two conv3x3 (padding 1) + ReLU + 2x2 max pool stages, then fc128 + ReLU, fc10.
 * 1x28x28 -> 16x28x28 -> 16x14x14 -> 32x14x14 -> 32x7x7 -> 1568 -> 128 -> 10. */
#include "qb_layers.h"
#include "qb_reference_models.h"

void qb_model_cnn_layers(qb_net* net) {
  qb_add_conv2d(net, "conv1", 16, 3, 1, 1, 1, 1);
  qb_add_activation(net, "relu1", QB_ACT_RELU);
  qb_add_maxpool2x2(net, "pool1");
  qb_add_conv2d(net, "conv2", 32, 3, 1, 1, 1, 1);
  qb_add_activation(net, "relu2", QB_ACT_RELU);
  qb_add_maxpool2x2(net, "pool2");
  qb_add_flatten(net, "flatten");
  qb_add_dense(net, "fc1", 128);
  qb_add_activation(net, "relu3", QB_ACT_RELU);
  qb_add_dense(net, "fc2", 10);
}
