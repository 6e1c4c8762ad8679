/* A trainable network: a chain of layers, each with forward, backward and ONNX export.
 *
 * Per-sample shapes are (C, H, W) for images, (T, D, 1) for token sequences and
 * (F, 1, 1) for feature vectors; batches are batch-major. The net owns one activation
 * buffer and one gradient buffer per layer boundary, sized for max_batch samples, so
 * a training step allocates nothing but GEMM scratch. Composite layers (the ViT's
 * encoder block) keep their internal activations in their own caches.
 *
 * Parameters (qb_param) live inside the layers; the net lists pointers to them for
 * the optimizer and for the determinism check. Initialization draws from the net's
 * seeded generator in construction order: same seed, same weights. */
#ifndef QB_NET_H
#define QB_NET_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"
#include "qb_onnx_builder.h"

#define QB_NET_MAX_LAYERS 48
#define QB_NET_MAX_PARAMS 128
#define QB_LAYER_MAX_PARAMS 20

typedef struct {
  char name[64];  /* the ONNX initializer name, "conv1.weight" */
  size_t count;
  int ndim;
  size_t dims[4]; /* export shape (ONNX layout) */
  float* w;
  float* grad;
  float* m; /* optimizer state (momentum / Adam first moment) */
  float* v; /* Adam second moment */
  int decay; /* weight decay applies (weights yes; biases, norms, embeddings no) */
} qb_param;

typedef struct qb_layer qb_layer;
typedef struct qb_net qb_net;
typedef struct qb_fakequant qb_fakequant;

/* Export context: the builder plus whether to write QDQ (quantized) nodes. */
typedef struct {
  qb_onnx_builder* b;
  int qdq; /* QAT export: QuantizeLinear/DequantizeLinear around weights and inputs */
} qb_export_ctx;

typedef struct {
  const char* kind;
  /* y = f(x) for n samples; training selects batch statistics, caches, observers. */
  int (*forward)(qb_layer* l, size_t n, const float* x, float* y, int training);
  /* dx may be NULL (first layer). Parameter gradients accumulate. */
  int (*backward)(qb_layer* l, size_t n, const float* x, const float* y, const float* dy,
                  float* dx);
  /* Appends the nodes computing tensor `out` from tensor `in`. */
  int (*export_onnx)(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                     qb_error* err);
  void (*destroy)(qb_layer* l); /* frees what the layer allocated besides params */
} qb_layer_ops;

struct qb_layer {
  const qb_layer_ops* ops;
  char name[48];
  size_t in_dims[3], out_dims[3];
  size_t in_size, out_size; /* products of the dims */
  size_t max_batch;
  qb_param* params[QB_LAYER_MAX_PARAMS];
  int nparams;
  qb_fakequant* wq; /* QAT: weight fake-quant (NULL when training in fp32) */
  qb_fakequant* aq; /* QAT: input activation fake-quant */
  qb_fakequant* oq; /* QAT: output fake-quant (static quantization requantizes outputs) */
  void* impl;       /* the layer kind's own state */
};

struct qb_net {
  char model[16];
  qb_layer* layers[QB_NET_MAX_LAYERS];
  int nlayers;
  size_t max_batch;
  size_t in_dims[3];
  size_t cur_dims[3]; /* output shape of the last layer added */
  float* acts[QB_NET_MAX_LAYERS + 1];  /* acts[i]: input of layer i; acts[nlayers]: output */
  float* grads[QB_NET_MAX_LAYERS + 1];
  qb_param* params[QB_NET_MAX_PARAMS];
  int nparams;
  uint64_t rng; /* initialization stream */
  int failed;   /* a construction step failed (out of memory / bad shape) */
};

/* ------------------------------------------------------------- the net */
qb_net* qb_net_new(const char* model, size_t c, size_t h, size_t w, size_t max_batch,
                   uint64_t seed);
void qb_net_free(qb_net* net);
/* Allocates the boundary buffers after the last layer is added; -1 on failure. */
int qb_net_finish(qb_net* net, qb_error* err);
/* Runs n <= max_batch samples; returns the output (net->acts[nlayers]) or NULL. */
const float* qb_net_forward(qb_net* net, size_t n, const float* x, int training);
/* Backpropagates dout (n x output size) after a training forward of the same batch. */
int qb_net_backward(qb_net* net, size_t n, const float* dout);
void qb_net_zero_grad(qb_net* net);
size_t qb_net_param_count(const qb_net* net); /* trainable scalars */
size_t qb_net_output_size(const qb_net* net);
/* FNV-1a over every parameter's bytes: equal hashes <=> (practically) equal weights. */
uint64_t qb_net_weights_hash(const qb_net* net);

/* Writes the ONNX model (opset 17): input "input" [N, C, H, W], output "logits".
 * metadata is a NULL-terminated list of key, value pairs added after the
 * agreement's fixed keys (qbench.model, qbench.dataset, qbench.preprocess). */
int qb_net_export_onnx(qb_net* net, const char* path, int qdq, const char* const* metadata,
                       qb_error* err);

/* --------------------------------------------------- building blocks (used
 * by layer constructors, see qb_layers.h) */
qb_layer* qb_net_push_layer(qb_net* net, const qb_layer_ops* ops, const char* name,
                            const size_t out_dims[3], size_t impl_size);
/* A parameter of `count` scalars with the given export shape, zero-initialized. */
qb_param* qb_layer_add_param(qb_net* net, qb_layer* l, const char* suffix, int ndim,
                             const size_t* dims, int decay);
/* Fills with U(-bound, bound) from the net's stream. */
void qb_net_init_uniform(qb_net* net, qb_param* p, float bound);
float* qb_net_alloc_floats(qb_net* net, size_t count); /* zeroed; flags failure */

/* Export helpers. */
void qb_export_float_init(qb_export_ctx* cx, const char* name, const float* data, int ndim,
                          const size_t* dims);
void qb_export_int64_init(qb_export_ctx* cx, const char* name, size_t count,
                          const int64_t* values);
/* "<layer>.<suffix>" into buf. */
const char* qb_export_name(const qb_layer* l, const char* suffix, char* buf, size_t len);

#endif /* QB_NET_H */
