/* Layer constructors: each appends one layer to the net, taking its input shape from
 * the previous layer's output, initializing its parameters from the net's seeded
 * stream. Names become ONNX node and initializer names ("conv1", "conv1.weight").
 * A constructor that fails (out of memory, a shape it cannot take) marks the net
 * failed; qb_net_finish reports it. */
#ifndef QB_LAYERS_H
#define QB_LAYERS_H

#include <stddef.h>

#include "qb_fakequant.h"
#include "qb_net.h"

typedef enum { QB_ACT_RELU, QB_ACT_RELU6, QB_ACT_GELU } qb_activation;

/* ---- image / vector layers (qb_layers_basic.c, qb_layers_conv.c) */
qb_layer* qb_add_flatten(qb_net* net, const char* name);
/* Fully connected on the flattened sample: (F,1,1) -> (out,1,1). He-uniform init. */
qb_layer* qb_add_dense(qb_net* net, const char* name, size_t out);
qb_layer* qb_add_activation(qb_net* net, const char* name, qb_activation kind);
qb_layer* qb_add_maxpool2x2(qb_net* net, const char* name);
/* Global average pool: (C,H,W) -> (C,1,1); exported as GlobalAveragePool + Flatten. */
qb_layer* qb_add_gap(qb_net* net, const char* name);
/* groups: 1 or the channel count (depthwise, cout == cin). */
qb_layer* qb_add_conv2d(qb_net* net, const char* name, size_t cout, size_t k, size_t stride,
                        size_t pad, size_t groups, int bias);
qb_layer* qb_add_batchnorm(qb_net* net, const char* name);

/* ---- transformer layers (qb_layers_vit.c); token shape (T, D, 1) */
/* Non-overlapping PxP patches -> T tokens of dim D (a stride-P convolution). */
qb_layer* qb_add_patch_embed(qb_net* net, const char* name, size_t patch, size_t dim);
qb_layer* qb_add_pos_embed(qb_net* net, const char* name);
/* Pre-LN block: x + MHA(LN(x)), then + MLP(LN(.)) with GELU, hidden mlp_dim. */
qb_layer* qb_add_encoder_block(qb_net* net, const char* name, size_t heads, size_t mlp_dim);
qb_layer* qb_add_layernorm(qb_net* net, const char* name);
/* Mean over tokens: (T, D, 1) -> (D, 1, 1). */
qb_layer* qb_add_token_mean(qb_net* net, const char* name);

/* ---- used by the export driver and QAT */
int qb_layer_is_conv2d(const qb_layer* l);
int qb_layer_is_dense(const qb_layer* l);
int qb_layer_is_batchnorm(const qb_layer* l);
/* Conv followed by batch norm, written as one Conv with
 * W' = W gamma / sqrt(var + eps) (per output channel), b' = beta + (b - mean) gamma / sqrt(var + eps). */
int qb_conv2d_export_folded(qb_layer* conv, qb_layer* bn, qb_export_ctx* cx, const char* in,
                            const char* out, qb_error* err);

/* Shared by dense and conv: fake-quantized input / weight for QAT (or the float ones). */
const float* qb_layer_quant_input(qb_layer* l, size_t n, const float* x, int training);
const float* qb_layer_quant_weight(qb_layer* l, const qb_param* w, int training);
/* The layer's output y (n samples) fake-quantized in place when l->oq is set; and the
 * output gradient through the STE (dy itself when l->oq is not set). */
int qb_layer_quant_output(qb_layer* l, size_t n, float* y, int training);
const float* qb_layer_output_grad(qb_layer* l, size_t n, const float* dy);
/* Writes `in` -> Q -> DQ into `qin` (when l->aq is set and cx->qdq), returns the
 * name the consumer must read; weights likewise (int8 initializer + DequantizeLinear). */
const char* qb_layer_export_input(qb_layer* l, qb_export_ctx* cx, const char* in, char* buf,
                                  size_t len);
const char* qb_layer_export_weight(qb_layer* l, qb_export_ctx* cx, const qb_param* w,
                                   const float* data, int ndim, const size_t* dims, char* buf,
                                   size_t len);

/* GELU as opset-17 nodes, 0.5 * x * (1 + Erf(x / sqrt 2)); names start with prefix. */
void qb_export_gelu(qb_export_ctx* cx, const char* prefix, const char* in, const char* out);

#endif /* QB_LAYERS_H */
