/* The layer chain: construction, forward / backward over the boundary buffers,
 * parameter bookkeeping and the ONNX export driver. See qb_net.h. */
#include "qb_net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_layers.h"
#include "qb_hash.h"

/* splitmix64: the initialization stream (and the trainer's shuffles). */
static uint64_t next_u64(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

qb_net* qb_net_new(const char* model, size_t c, size_t h, size_t w, size_t max_batch,
                   uint64_t seed) {
  qb_net* net = calloc(1, sizeof *net);
  if (!net) return NULL;
  snprintf(net->model, sizeof net->model, "%s", model);
  net->in_dims[0] = net->cur_dims[0] = c;
  net->in_dims[1] = net->cur_dims[1] = h;
  net->in_dims[2] = net->cur_dims[2] = w;
  net->max_batch = max_batch;
  net->rng = seed;
  return net;
}

void qb_net_free(qb_net* net) {
  if (!net) return;
  for (int i = 0; i < net->nlayers; i++) {
    qb_layer* l = net->layers[i];
    if (l->ops->destroy) l->ops->destroy(l);
    qb_fakequant_free(l->wq);
    qb_fakequant_free(l->aq);
    qb_fakequant_free(l->oq);
    free(l->impl);
    free(l);
  }
  for (int i = 0; i < net->nparams; i++) {
    qb_param* p = net->params[i];
    free(p->w), free(p->grad), free(p->m), free(p->v), free(p);
  }
  for (int i = 0; i <= net->nlayers; i++) free(net->acts[i]), free(net->grads[i]);
  free(net);
}

float* qb_net_alloc_floats(qb_net* net, size_t count) {
  float* p = calloc(count > 0 ? count : 1, sizeof *p);
  if (!p) net->failed = 1;
  return p;
}

qb_layer* qb_net_push_layer(qb_net* net, const qb_layer_ops* ops, const char* name,
                            const size_t out_dims[3], size_t impl_size) {
  if (net->failed || net->nlayers == QB_NET_MAX_LAYERS) {
    net->failed = 1;
    return NULL;
  }
  qb_layer* l = calloc(1, sizeof *l);
  void* impl = impl_size ? calloc(1, impl_size) : NULL;
  if (!l || (impl_size && !impl)) {
    free(l), free(impl);
    net->failed = 1;
    return NULL;
  }
  l->ops = ops;
  snprintf(l->name, sizeof l->name, "%s", name);
  memcpy(l->in_dims, net->cur_dims, sizeof l->in_dims);
  memcpy(l->out_dims, out_dims, sizeof l->out_dims);
  l->in_size = l->in_dims[0] * l->in_dims[1] * l->in_dims[2];
  l->out_size = out_dims[0] * out_dims[1] * out_dims[2];
  l->max_batch = net->max_batch;
  l->impl = impl;
  memcpy(net->cur_dims, out_dims, sizeof net->cur_dims);
  net->layers[net->nlayers++] = l;
  return l;
}

qb_param* qb_layer_add_param(qb_net* net, qb_layer* l, const char* suffix, int ndim,
                             const size_t* dims, int decay) {
  if (!l || net->nparams == QB_NET_MAX_PARAMS || l->nparams == QB_LAYER_MAX_PARAMS) {
    net->failed = 1;
    return NULL;
  }
  qb_param* p = calloc(1, sizeof *p);
  if (!p) {
    net->failed = 1;
    return NULL;
  }
  snprintf(p->name, sizeof p->name, "%s.%s", l->name, suffix);
  p->ndim = ndim;
  p->count = 1;
  for (int i = 0; i < ndim; i++) p->count *= (p->dims[i] = dims[i]);
  p->decay = decay;
  p->w = qb_net_alloc_floats(net, p->count);
  p->grad = qb_net_alloc_floats(net, p->count);
  p->m = qb_net_alloc_floats(net, p->count);
  p->v = qb_net_alloc_floats(net, p->count);
  net->params[net->nparams++] = p;
  l->params[l->nparams++] = p;
  return p;
}

void qb_net_init_uniform(qb_net* net, qb_param* p, float bound) {
  if (!p) return;
  for (size_t i = 0; i < p->count; i++) {
    /* 24 random bits -> [0, 1) exactly representable, then [-bound, bound). */
    const float u = (float)(next_u64(&net->rng) >> 40) * (1.0f / 16777216.0f);
    p->w[i] = (2.0f * u - 1.0f) * bound;
  }
}

int qb_net_finish(qb_net* net, qb_error* err) {
  if (net->failed || net->nlayers == 0)
    return qb_fail(err, "model %s: construction failed (out of memory or unsupported shape)",
                   net->model);
  for (int i = 0; i <= net->nlayers; i++) {
    const size_t size = i < net->nlayers ? net->layers[i]->in_size
                                         : net->layers[net->nlayers - 1]->out_size;
    net->acts[i] = qb_net_alloc_floats(net, net->max_batch * size);
    net->grads[i] = qb_net_alloc_floats(net, net->max_batch * size);
  }
  if (net->failed) return qb_fail(err, "model %s: out of memory", net->model);
  return 0;
}

const float* qb_net_forward(qb_net* net, size_t n, const float* x, int training) {
  if (n > net->max_batch) return NULL;
  memcpy(net->acts[0], x, n * net->layers[0]->in_size * sizeof *x);
  for (int i = 0; i < net->nlayers; i++) {
    qb_layer* l = net->layers[i];
    if (l->ops->forward(l, n, net->acts[i], net->acts[i + 1], training) != 0) return NULL;
  }
  return net->acts[net->nlayers];
}

int qb_net_backward(qb_net* net, size_t n, const float* dout) {
  const int L = net->nlayers;
  memcpy(net->grads[L], dout, n * net->layers[L - 1]->out_size * sizeof *dout);
  for (int i = L - 1; i >= 0; i--) {
    qb_layer* l = net->layers[i];
    float* dx = i > 0 ? net->grads[i] : NULL;
    if (l->ops->backward(l, n, net->acts[i], net->acts[i + 1], net->grads[i + 1], dx) != 0)
      return -1;
  }
  return 0;
}

void qb_net_zero_grad(qb_net* net) {
  for (int i = 0; i < net->nparams; i++)
    memset(net->params[i]->grad, 0, net->params[i]->count * sizeof(float));
}

size_t qb_net_param_count(const qb_net* net) {
  size_t total = 0;
  for (int i = 0; i < net->nparams; i++) total += net->params[i]->count;
  return total;
}

size_t qb_net_output_size(const qb_net* net) {
  return net->layers[net->nlayers - 1]->out_size;
}

uint64_t qb_net_weights_hash(const qb_net* net) {
  uint64_t h = QB_FNV1A64_OFFSET;
  for (int i = 0; i < net->nparams; i++)
    h = qb_fnv1a64_update(h, net->params[i]->w, net->params[i]->count * sizeof(float));
  return h;
}

/* ------------------------------------------------------------------ export */

void qb_export_float_init(qb_export_ctx* cx, const char* name, const float* data, int ndim,
                          const size_t* dims) {
  qb_tensor t = {.dtype = QB_F32, .ndim = ndim, .data = (void*)data};
  for (int i = 0; i < ndim; i++) t.dims[i] = dims[i];
  qb_onnx_builder_initializer(cx->b, name, &t);
}

void qb_export_int64_init(qb_export_ctx* cx, const char* name, size_t count,
                          const int64_t* values) {
  qb_tensor t = {.dtype = QB_I64, .ndim = 1, .dims = {count}, .data = (void*)values};
  qb_onnx_builder_initializer(cx->b, name, &t);
}

const char* qb_export_name(const qb_layer* l, const char* suffix, char* buf, size_t len) {
  snprintf(buf, len, "%s.%s", l->name, suffix);
  return buf;
}

int qb_net_export_onnx(qb_net* net, const char* path, int qdq, const char* const* metadata,
                       qb_error* err) {
  qb_onnx_builder* b = qb_onnx_builder_new("qbench", 17);
  if (!b) return qb_fail(err, "%s: out of memory", path);
  qb_export_ctx cx = {b, qdq};
  const int64_t in_dims[4] = {-1, (int64_t)net->in_dims[0], (int64_t)net->in_dims[1],
                              (int64_t)net->in_dims[2]};
  qb_onnx_builder_input(b, "input", QB_F32, 4, in_dims);
  const char* in = "input";
  int rc = 0;
  for (int i = 0; i < net->nlayers && rc == 0; i++) {
    qb_layer* l = net->layers[i];
    qb_layer* next = i + 1 < net->nlayers ? net->layers[i + 1] : NULL;
    /* A batch norm right after a convolution is folded into it. */
    const int fold = next && qb_layer_is_conv2d(l) && qb_layer_is_batchnorm(next);
    const int last = i + (fold ? 1 : 0) == net->nlayers - 1;
    const char* out = last ? "logits" : l->name;
    rc = fold ? qb_conv2d_export_folded(l, next, &cx, in, out, err)
              : l->ops->export_onnx(l, &cx, in, out, err);
    if (fold) i++;
    in = l->name;
  }
  const int64_t out_dims[2] = {-1, (int64_t)qb_net_output_size(net)};
  qb_onnx_builder_output(b, "logits", QB_F32, 2, out_dims);
  qb_onnx_builder_metadata(b, "qbench.model", net->model);
  qb_onnx_builder_metadata(b, "qbench.dataset", "fashion-mnist");
  qb_onnx_builder_metadata(b, "qbench.preprocess",
                           "scale=0.00392156862745098;mean=0.2860;std=0.3530;layout=NCHW");
  for (size_t k = 0; metadata && metadata[k] && metadata[k + 1]; k += 2)
    qb_onnx_builder_metadata(b, metadata[k], metadata[k + 1]);
  if (rc == 0) rc = qb_onnx_builder_save(b, path, err);
  qb_onnx_builder_free(b);
  return rc;
}
