/* mlp: 784-256-128-10 with ReLU. */
#include "qb_layers.h"
#include "qb_reference_models.h"

void qb_model_mlp_layers(qb_net* net) {
  qb_add_flatten(net, "flatten");
  qb_add_dense(net, "fc1", 256);
  qb_add_activation(net, "relu1", QB_ACT_RELU);
  qb_add_dense(net, "fc2", 128);
  qb_add_activation(net, "relu2", QB_ACT_RELU);
  qb_add_dense(net, "fc3", 10);
}
