/* Flatten, dense, activations, max pool, global average pool; and the QAT plumbing
 * shared by the layers that carry weights. */
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_layers.h"
#include "qb_train_ops.h"

#define NAME_LEN 96

/* ----------------------------------------------------------- QAT plumbing */

const float* qb_layer_quant_input(qb_layer* l, size_t n, const float* x, int training) {
  return l->aq ? qb_fakequant_forward(l->aq, x, n * l->in_size, training) : x;
}

const float* qb_layer_quant_weight(qb_layer* l, const qb_param* w, int training) {
  return l->wq ? qb_fakequant_forward(l->wq, w->w, w->count, training) : w->w;
}

int qb_layer_quant_output(qb_layer* l, size_t n, float* y, int training) {
  if (!l->oq) return 0;
  const float* q = qb_fakequant_forward(l->oq, y, n * l->out_size, training);
  if (!q) return -1;
  memcpy(y, q, n * l->out_size * sizeof *y);
  return 0;
}

const float* qb_layer_output_grad(qb_layer* l, size_t n, const float* dy) {
  return l->oq ? qb_fakequant_backward_copy(l->oq, dy, n * l->out_size) : dy;
}

const char* qb_layer_export_input(qb_layer* l, qb_export_ctx* cx, const char* in, char* buf,
                                  size_t len) {
  if (!cx->qdq || !l->aq || !l->aq->observed) return in;
  char scale[NAME_LEN], zp[NAME_LEN], q[NAME_LEN], node[NAME_LEN];
  const float s = l->aq->act_qp.scale;
  const int32_t z = l->aq->act_qp.zero_point;
  const int8_t z8 = (int8_t)z;
  const uint8_t zu8 = (uint8_t)z;
  const bool is_signed = l->aq->spec.scheme.is_signed;
  qb_tensor ts = {.dtype = QB_F32, .ndim = 0, .data = (void*)&s};
  qb_tensor tz = {.dtype = is_signed ? QB_I8 : QB_U8, .ndim = 0,
                  .data = is_signed ? (void*)&z8 : (void*)&zu8};
  qb_onnx_builder_initializer(cx->b, qb_export_name(l, "input_scale", scale, sizeof scale), &ts);
  qb_onnx_builder_initializer(cx->b, qb_export_name(l, "input_zero_point", zp, sizeof zp), &tz);
  qb_export_name(l, "input_quantized", q, sizeof q);
  qb_export_name(l, "input_dequantized", buf, len);
  qb_onnx_builder_node(cx->b, "QuantizeLinear", qb_export_name(l, "input_q", node, sizeof node),
                       3, (const char*[]){in, scale, zp}, 1, (const char*[]){q});
  /* Below 8 bits QuantizeLinear's int8/uint8 range is wider than the grid: a Clip to
   * [(qmin - zp) * s, (qmax - zp) * s] after DequantizeLinear gives the fake-quant's
   * values exactly (the clamp commutes with the monotone dequantization, and the
   * limits are the float products DequantizeLinear computes for qmin and qmax). */
  const bool narrow = l->aq->spec.scheme.bits < 8;
  char dq8[NAME_LEN];
  qb_onnx_builder_node(cx->b, "DequantizeLinear",
                       qb_export_name(l, "input_dq", node, sizeof node), 3,
                       (const char*[]){q, scale, zp}, 1,
                       (const char*[]){narrow ? qb_export_name(l, "input_dq_8bit", dq8, sizeof dq8) : buf});
  if (narrow) {
    char lo[NAME_LEN], hi[NAME_LEN];
    float vlo, vhi;
    qb_qparams_representable(&l->aq->spec.scheme, l->aq->act_qp, &vlo, &vhi);
    qb_tensor tlo = {.dtype = QB_F32, .ndim = 0, .data = &vlo};
    qb_tensor thi = {.dtype = QB_F32, .ndim = 0, .data = &vhi};
    qb_onnx_builder_initializer(cx->b, qb_export_name(l, "input_grid_min", lo, sizeof lo), &tlo);
    qb_onnx_builder_initializer(cx->b, qb_export_name(l, "input_grid_max", hi, sizeof hi), &thi);
    qb_onnx_builder_node(cx->b, "Clip", qb_export_name(l, "input_clip_to_grid", node, sizeof node),
                         3, (const char*[]){dq8, lo, hi}, 1, (const char*[]){buf});
  }
  return buf;
}

/* The weight as int8 codes with one scale and zero point per output channel (a
 * per-tensor grid repeats its one pair); DequantizeLinear along axis 0. */
static void export_weight_codes(qb_layer* l, qb_export_ctx* cx, const qb_quantized_tensor* g,
                                int ndim, const size_t* dims, size_t count, size_t rows,
                                int8_t* q8, float* scales, int8_t* zps, char* buf, size_t len) {
  for (size_t i = 0; i < count; i++) q8[i] = (int8_t)g->q[i];
  for (size_t c = 0; c < rows; c++) {
    const qb_qparams p = g->params[g->layout.nunits == 1 ? 0 : c];
    scales[c] = p.scale, zps[c] = (int8_t)p.zero_point;
  }
  char qn[NAME_LEN], sn[NAME_LEN], zn[NAME_LEN], node[NAME_LEN];
  qb_tensor tq = {.dtype = QB_I8, .ndim = ndim, .data = q8};
  for (int i = 0; i < ndim; i++) tq.dims[i] = dims[i];
  qb_tensor ts = {.dtype = QB_F32, .ndim = 1, .dims = {rows}, .data = scales};
  qb_tensor tz = {.dtype = QB_I8, .ndim = 1, .dims = {rows}, .data = zps};
  qb_onnx_builder_initializer(cx->b, qb_export_name(l, "weight_quantized", qn, sizeof qn), &tq);
  qb_onnx_builder_initializer(cx->b, qb_export_name(l, "weight_scale", sn, sizeof sn), &ts);
  qb_onnx_builder_initializer(cx->b, qb_export_name(l, "weight_zero_point", zn, sizeof zn), &tz);
  qb_export_name(l, "weight_dequantized", buf, len);
  qb_onnx_node* n = qb_onnx_builder_node(cx->b, "DequantizeLinear",
                                         qb_export_name(l, "weight_dq", node, sizeof node), 3,
                                         (const char*[]){qn, sn, zn}, 1, (const char*[]){buf});
  qb_onnx_node_attr_int(n, "axis", 0);
}

/* QDQ: int8 codes + per-axis DequantizeLinear where the grid has one scale per output
 * channel or per tensor and signed storage; per-group grids (blocked DequantizeLinear
 * is opset 21) and unsigned weights are written as their fake-quantized float values,
 * the same numbers. */
const char* qb_layer_export_weight(qb_layer* l, qb_export_ctx* cx, const qb_param* w,
                                   const float* data, int ndim, const size_t* dims, char* buf,
                                   size_t len) {
  qb_fakequant* fq = l->wq;
  if (!cx->qdq || !fq || !qb_fakequant_forward(fq, data, w->count, 0)) {
    qb_export_float_init(cx, w->name, data, ndim, dims);
    return w->name;
  }
  const qb_quantized_tensor* g = &fq->grid;
  if (g->layout.kind == QB_PER_GROUP || !fq->spec.scheme.is_signed) {
    qb_export_float_init(cx, w->name, g->dequant, ndim, dims);
    return w->name;
  }
  int8_t* q8 = malloc(w->count);
  float* scales = malloc(fq->rows * sizeof *scales);
  int8_t* zps = malloc(fq->rows);
  if (q8 && scales && zps)
    export_weight_codes(l, cx, g, ndim, dims, w->count, fq->rows, q8, scales, zps, buf, len);
  else
    qb_export_float_init(cx, w->name, g->dequant, ndim, dims);
  const bool done = q8 && scales && zps;
  free(q8), free(scales), free(zps);
  return done ? buf : w->name;
}

/* ---------------------------------------------------------------- flatten */

static int flatten_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  memcpy(y, x, n * l->in_size * sizeof *x);
  return 0;
}

static int flatten_backward(qb_layer* l, size_t n, const float* x, const float* y,
                            const float* dy, float* dx) {
  if (dx) memcpy(dx, dy, n * l->in_size * sizeof *dy);
  return 0;
}

static int flatten_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                          qb_error* err) {
  qb_onnx_node* n = qb_onnx_builder_node(cx->b, "Flatten", l->name, 1, (const char*[]){in}, 1,
                                         (const char*[]){out});
  qb_onnx_node_attr_int(n, "axis", 1);
  return 0;
}

static const qb_layer_ops flatten_ops = {"flatten", flatten_forward, flatten_backward,
                                         flatten_export, NULL};

qb_layer* qb_add_flatten(qb_net* net, const char* name) {
  const size_t f = net->cur_dims[0] * net->cur_dims[1] * net->cur_dims[2];
  return qb_net_push_layer(net, &flatten_ops, name, (size_t[3]){f, 1, 1}, 0);
}

/* ------------------------------------------------------------------ dense */

typedef struct {
  qb_param *W, *b;
} dense_impl;

static int dense_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  dense_impl* d = l->impl;
  const float* xin = qb_layer_quant_input(l, n, x, training);
  const float* W = qb_layer_quant_weight(l, d->W, training);
  if (!xin || !W) return -1;
  if (qb_train_dense_forward(n, l->in_size, l->out_size, xin, W, d->b->w, y)) return -1;
  return qb_layer_quant_output(l, n, y, training);
}

static int dense_backward(qb_layer* l, size_t n, const float* x, const float* y,
                          const float* dy, float* dx) {
  dense_impl* d = l->impl;
  const float* xin = l->aq ? l->aq->out : x;
  const float* W = l->wq ? l->wq->out : d->W->w;
  if (!(dy = qb_layer_output_grad(l, n, dy))) return -1;
  if (qb_train_dense_backward(n, l->in_size, l->out_size, xin, W, dy, dx, d->W->grad, d->b->grad))
    return -1;
  if (l->wq) qb_fakequant_backward(l->wq, d->W->grad, d->W->count);
  if (l->aq && dx) qb_fakequant_backward(l->aq, dx, n * l->in_size);
  return 0;
}

static int dense_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                        qb_error* err) {
  dense_impl* d = l->impl;
  char qin[NAME_LEN], wname[NAME_LEN];
  const char* x = qb_layer_export_input(l, cx, in, qin, sizeof qin);
  const char* w = qb_layer_export_weight(l, cx, d->W, d->W->w, 2, d->W->dims, wname,
                                         sizeof wname);
  qb_export_float_init(cx, d->b->name, d->b->w, 1, d->b->dims);
  qb_onnx_node* n = qb_onnx_builder_node(cx->b, "Gemm", l->name, 3,
                                         (const char*[]){x, w, d->b->name}, 1,
                                         (const char*[]){out});
  qb_onnx_node_attr_int(n, "transB", 1);
  return 0;
}

static const qb_layer_ops dense_ops = {"dense", dense_forward, dense_backward, dense_export,
                                       NULL};

int qb_layer_is_dense(const qb_layer* l) { return l->ops == &dense_ops; }

qb_layer* qb_add_dense(qb_net* net, const char* name, size_t out) {
  const size_t in = net->cur_dims[0] * net->cur_dims[1] * net->cur_dims[2];
  qb_layer* l = qb_net_push_layer(net, &dense_ops, name, (size_t[3]){out, 1, 1},
                                  sizeof(dense_impl));
  if (!l) return NULL;
  dense_impl* d = l->impl;
  d->W = qb_layer_add_param(net, l, "weight", 2, (size_t[]){out, in}, 1);
  d->b = qb_layer_add_param(net, l, "bias", 1, (size_t[]){out}, 0);
  qb_net_init_uniform(net, d->W, sqrtf(6.0f / (float)in)); /* He-uniform (ReLU) */
  return l;
}

/* ------------------------------------------------------------ activations */

typedef struct {
  qb_activation kind;
} act_impl;

static int act_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  const size_t count = n * l->in_size;
  switch (((act_impl*)l->impl)->kind) {
    case QB_ACT_RELU: qb_train_relu_forward(count, x, y); break;
    case QB_ACT_RELU6: qb_train_relu6_forward(count, x, y); break;
    case QB_ACT_GELU: qb_train_gelu_forward(count, x, y); break;
  }
  return 0;
}

static int act_backward(qb_layer* l, size_t n, const float* x, const float* y, const float* dy,
                        float* dx) {
  if (!dx) return 0;
  const size_t count = n * l->in_size;
  switch (((act_impl*)l->impl)->kind) {
    case QB_ACT_RELU: qb_train_relu_backward(count, x, dy, dx); break;
    case QB_ACT_RELU6: qb_train_relu6_backward(count, x, dy, dx); break;
    case QB_ACT_GELU: qb_train_gelu_backward(count, x, dy, dx); break;
  }
  return 0;
}

/* GELU as ONNX opset-17 nodes: 0.5 * x * (1 + Erf(x / sqrt 2)). Used by the ViT too. */
void qb_export_gelu(qb_export_ctx* cx, const char* prefix, const char* in, const char* out) {
  char c_sqrt2[NAME_LEN], c_one[NAME_LEN], c_half[NAME_LEN], t1[NAME_LEN], t2[NAME_LEN],
      t3[NAME_LEN], t4[NAME_LEN], node[NAME_LEN];
  const float sqrt2 = (float)M_SQRT2, one = 1.0f, half = 0.5f;
  snprintf(c_sqrt2, sizeof c_sqrt2, "%s.sqrt2", prefix);
  snprintf(c_one, sizeof c_one, "%s.one", prefix);
  snprintf(c_half, sizeof c_half, "%s.half", prefix);
  qb_export_float_init(cx, c_sqrt2, &sqrt2, 0, NULL);
  qb_export_float_init(cx, c_one, &one, 0, NULL);
  qb_export_float_init(cx, c_half, &half, 0, NULL);
  snprintf(t1, sizeof t1, "%s.div", prefix);
  snprintf(t2, sizeof t2, "%s.erf", prefix);
  snprintf(t3, sizeof t3, "%s.add", prefix);
  snprintf(t4, sizeof t4, "%s.mul", prefix);
  qb_onnx_builder_node(cx->b, "Div", t1, 2, (const char*[]){in, c_sqrt2}, 1,
                       (const char*[]){t1});
  qb_onnx_builder_node(cx->b, "Erf", t2, 1, (const char*[]){t1}, 1, (const char*[]){t2});
  qb_onnx_builder_node(cx->b, "Add", t3, 2, (const char*[]){t2, c_one}, 1, (const char*[]){t3});
  qb_onnx_builder_node(cx->b, "Mul", t4, 2, (const char*[]){in, t3}, 1, (const char*[]){t4});
  snprintf(node, sizeof node, "%s", prefix);
  qb_onnx_builder_node(cx->b, "Mul", node, 2, (const char*[]){t4, c_half}, 1,
                       (const char*[]){out});
}

static int act_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                      qb_error* err) {
  switch (((act_impl*)l->impl)->kind) {
    case QB_ACT_RELU:
      qb_onnx_builder_node(cx->b, "Relu", l->name, 1, (const char*[]){in}, 1,
                           (const char*[]){out});
      break;
    case QB_ACT_RELU6: {
      char lo[NAME_LEN], hi[NAME_LEN];
      const float zero = 0.0f, six = 6.0f;
      qb_export_float_init(cx, qb_export_name(l, "min", lo, sizeof lo), &zero, 0, NULL);
      qb_export_float_init(cx, qb_export_name(l, "max", hi, sizeof hi), &six, 0, NULL);
      qb_onnx_builder_node(cx->b, "Clip", l->name, 3, (const char*[]){in, lo, hi}, 1,
                           (const char*[]){out});
      break;
    }
    case QB_ACT_GELU: qb_export_gelu(cx, l->name, in, out); break;
  }
  return 0;
}

static const qb_layer_ops act_ops = {"activation", act_forward, act_backward, act_export, NULL};

qb_layer* qb_add_activation(qb_net* net, const char* name, qb_activation kind) {
  qb_layer* l = qb_net_push_layer(net, &act_ops, name, net->cur_dims, sizeof(act_impl));
  if (l) ((act_impl*)l->impl)->kind = kind;
  return l;
}

/* --------------------------------------------------------------- max pool */

typedef struct {
  uint32_t* argmax;
} pool_impl;

static int maxpool_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  qb_train_maxpool2x2_forward(n, l->in_dims[0], l->in_dims[1], l->in_dims[2], x, y,
                        ((pool_impl*)l->impl)->argmax);
  return 0;
}

static int maxpool_backward(qb_layer* l, size_t n, const float* x, const float* y,
                            const float* dy, float* dx) {
  if (dx)
    qb_train_maxpool2x2_backward(n, l->in_dims[0], l->in_dims[1], l->in_dims[2],
                           ((pool_impl*)l->impl)->argmax, dy, dx);
  return 0;
}

static int maxpool_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                          qb_error* err) {
  qb_onnx_node* n = qb_onnx_builder_node(cx->b, "MaxPool", l->name, 1, (const char*[]){in}, 1,
                                         (const char*[]){out});
  qb_onnx_node_attr_ints(n, "kernel_shape", 2, (int64_t[]){2, 2});
  qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
  return 0;
}

static void maxpool_destroy(qb_layer* l) { free(((pool_impl*)l->impl)->argmax); }

static const qb_layer_ops maxpool_ops = {"maxpool2x2", maxpool_forward, maxpool_backward,
                                         maxpool_export, maxpool_destroy};

qb_layer* qb_add_maxpool2x2(qb_net* net, const char* name) {
  const size_t* d = net->cur_dims;
  qb_layer* l = qb_net_push_layer(net, &maxpool_ops, name, (size_t[3]){d[0], d[1] / 2, d[2] / 2},
                                  sizeof(pool_impl));
  if (!l) return NULL;
  pool_impl* p = l->impl;
  p->argmax = calloc(net->max_batch * l->out_size + 1, sizeof *p->argmax);
  if (!p->argmax) net->failed = 1;
  return l;
}

/* ----------------------------------------------------- global average pool */

static int gap_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  qb_train_gap_forward(n, l->in_dims[0], l->in_dims[1] * l->in_dims[2], x, y);
  return 0;
}

static int gap_backward(qb_layer* l, size_t n, const float* x, const float* y, const float* dy,
                        float* dx) {
  if (dx) qb_train_gap_backward(n, l->in_dims[0], l->in_dims[1] * l->in_dims[2], dy, dx);
  return 0;
}

static int gap_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                      qb_error* err) {
  char pooled[NAME_LEN], node[NAME_LEN];
  qb_export_name(l, "pool", pooled, sizeof pooled);
  qb_onnx_builder_node(cx->b, "GlobalAveragePool", l->name, 1, (const char*[]){in}, 1,
                       (const char*[]){pooled});
  qb_onnx_node* n = qb_onnx_builder_node(cx->b, "Flatten",
                                         qb_export_name(l, "flatten", node, sizeof node), 1,
                                         (const char*[]){pooled}, 1, (const char*[]){out});
  qb_onnx_node_attr_int(n, "axis", 1);
  return 0;
}

static const qb_layer_ops gap_ops = {"gap", gap_forward, gap_backward, gap_export, NULL};

qb_layer* qb_add_gap(qb_net* net, const char* name) {
  return qb_net_push_layer(net, &gap_ops, name, (size_t[3]){net->cur_dims[0], 1, 1}, 0);
}
