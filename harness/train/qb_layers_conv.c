/* 2-D convolution and batch normalization layers, and their folding at export. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_layers.h"
#include "qb_train_ops.h"

#define NAME_LEN 96

/* ------------------------------------------------------------ convolution */

typedef struct {
  qb_train_conv_shape s;
  qb_param *W, *b; /* b NULL when a batch norm follows */
} conv_impl;

static int conv_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  conv_impl* c = l->impl;
  const float* xin = qb_layer_quant_input(l, n, x, training);
  const float* W = qb_layer_quant_weight(l, c->W, training);
  if (!xin || !W) return -1;
  if (qb_train_conv2d_forward(&c->s, n, xin, W, c->b ? c->b->w : NULL, y)) return -1;
  return qb_layer_quant_output(l, n, y, training);
}

static int conv_backward(qb_layer* l, size_t n, const float* x, const float* y,
                         const float* dy, float* dx) {
  conv_impl* c = l->impl;
  const float* xin = l->aq ? l->aq->out : x;
  const float* W = l->wq ? l->wq->out : c->W->w;
  if (!(dy = qb_layer_output_grad(l, n, dy))) return -1;
  if (qb_train_conv2d_backward(&c->s, n, xin, W, dy, dx, c->W->grad, c->b ? c->b->grad : NULL))
    return -1;
  if (l->wq) qb_fakequant_backward(l->wq, c->W->grad, c->W->count);
  if (l->aq && dx) qb_fakequant_backward(l->aq, dx, n * l->in_size);
  return 0;
}

/* One Conv node reading `in`, with weight `w` (an initializer or DQ output) and an
 * optional bias initializer. */
static void conv_node(qb_layer* l, qb_export_ctx* cx, const char* in, const char* w,
                      const char* bias, const char* out) {
  const conv_impl* c = l->impl;
  const int64_t k[2] = {(int64_t)c->s.kh, (int64_t)c->s.kw};
  const int64_t st[2] = {(int64_t)c->s.stride, (int64_t)c->s.stride};
  const int64_t p = (int64_t)c->s.pad;
  qb_onnx_node* n = qb_onnx_builder_node(cx->b, "Conv", l->name, bias ? 3 : 2,
                                         (const char*[]){in, w, bias}, 1, (const char*[]){out});
  qb_onnx_node_attr_ints(n, "kernel_shape", 2, k);
  qb_onnx_node_attr_ints(n, "strides", 2, st);
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){p, p, p, p});
  qb_onnx_node_attr_ints(n, "dilations", 2, (int64_t[]){1, 1});
  qb_onnx_node_attr_int(n, "group", (int64_t)c->s.groups);
}

static int conv_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                       qb_error* err) {
  conv_impl* c = l->impl;
  char qin[NAME_LEN], wname[NAME_LEN];
  const char* x = qb_layer_export_input(l, cx, in, qin, sizeof qin);
  const char* w = qb_layer_export_weight(l, cx, c->W, c->W->w, 4, c->W->dims, wname,
                                         sizeof wname);
  if (c->b) qb_export_float_init(cx, c->b->name, c->b->w, 1, c->b->dims);
  conv_node(l, cx, x, w, c->b ? c->b->name : NULL, out);
  return 0;
}

static const qb_layer_ops conv_ops = {"conv2d", conv_forward, conv_backward, conv_export, NULL};

int qb_layer_is_conv2d(const qb_layer* l) { return l->ops == &conv_ops; }

qb_layer* qb_add_conv2d(qb_net* net, const char* name, size_t cout, size_t k, size_t stride,
                        size_t pad, size_t groups, int bias) {
  qb_train_conv_shape s = {.cin = net->cur_dims[0], .h = net->cur_dims[1], .w = net->cur_dims[2],
                       .cout = cout, .kh = k, .kw = k, .stride = stride, .pad = pad,
                       .groups = groups};
  if (qb_train_conv_shape_init(&s) != 0) {
    net->failed = 1;
    return NULL;
  }
  qb_layer* l = qb_net_push_layer(net, &conv_ops, name, (size_t[3]){cout, s.ho, s.wo},
                                  sizeof(conv_impl));
  if (!l) return NULL;
  conv_impl* c = l->impl;
  c->s = s;
  const size_t cin_g = s.cin / groups;
  c->W = qb_layer_add_param(net, l, "weight", 4, (size_t[]){cout, cin_g, k, k}, 1);
  if (bias) c->b = qb_layer_add_param(net, l, "bias", 1, (size_t[]){cout}, 0);
  qb_net_init_uniform(net, c->W, sqrtf(6.0f / (float)(cin_g * k * k))); /* He-uniform */
  return l;
}

/* ------------------------------------------------------------- batch norm */

typedef struct {
  qb_param *gamma, *beta;
  float *running_mean, *running_var;
  float *xhat, *inv_std;
  float eps, momentum;
} bn_impl;

static int bn_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  bn_impl* b = l->impl;
  const size_t c = l->in_dims[0], hw = l->in_dims[1] * l->in_dims[2];
  if (!training) {
    qb_train_batchnorm_eval_forward(n, c, hw, x, b->gamma->w, b->beta->w, b->eps, b->running_mean,
                              b->running_var, y);
    return 0;
  }
  return qb_train_batchnorm_train_forward(n, c, hw, x, b->gamma->w, b->beta->w, b->eps, b->momentum,
                                    b->running_mean, b->running_var, y, b->xhat, b->inv_std);
}

static int bn_backward(qb_layer* l, size_t n, const float* x, const float* y, const float* dy,
                       float* dx) {
  bn_impl* b = l->impl;
  const size_t c = l->in_dims[0], hw = l->in_dims[1] * l->in_dims[2];
  if (!dx) return 0; /* never the first layer of a model */
  qb_train_batchnorm_backward(n, c, hw, b->gamma->w, b->xhat, b->inv_std, dy, dx, b->gamma->grad,
                        b->beta->grad);
  return 0;
}

static int bn_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                     qb_error* err) {
  bn_impl* b = l->impl;
  char mean[NAME_LEN], var[NAME_LEN];
  const size_t c[1] = {l->in_dims[0]};
  qb_export_float_init(cx, b->gamma->name, b->gamma->w, 1, c);
  qb_export_float_init(cx, b->beta->name, b->beta->w, 1, c);
  qb_export_float_init(cx, qb_export_name(l, "running_mean", mean, sizeof mean),
                       b->running_mean, 1, c);
  qb_export_float_init(cx, qb_export_name(l, "running_var", var, sizeof var), b->running_var,
                       1, c);
  qb_onnx_node* n = qb_onnx_builder_node(
      cx->b, "BatchNormalization", l->name, 5,
      (const char*[]){in, b->gamma->name, b->beta->name, mean, var}, 1, (const char*[]){out});
  qb_onnx_node_attr_float(n, "epsilon", b->eps);
  return 0;
}

static void bn_destroy(qb_layer* l) {
  bn_impl* b = l->impl;
  free(b->running_mean), free(b->running_var), free(b->xhat), free(b->inv_std);
}

static const qb_layer_ops bn_ops = {"batchnorm", bn_forward, bn_backward, bn_export,
                                    bn_destroy};

int qb_layer_is_batchnorm(const qb_layer* l) { return l->ops == &bn_ops; }

qb_layer* qb_add_batchnorm(qb_net* net, const char* name) {
  qb_layer* l = qb_net_push_layer(net, &bn_ops, name, net->cur_dims, sizeof(bn_impl));
  if (!l) return NULL;
  bn_impl* b = l->impl;
  const size_t c = l->in_dims[0];
  b->eps = 1e-5f;
  b->momentum = 0.1f;
  b->gamma = qb_layer_add_param(net, l, "weight", 1, (size_t[]){c}, 0);
  b->beta = qb_layer_add_param(net, l, "bias", 1, (size_t[]){c}, 0);
  b->running_mean = qb_net_alloc_floats(net, c);
  b->running_var = qb_net_alloc_floats(net, c);
  b->xhat = qb_net_alloc_floats(net, net->max_batch * l->in_size);
  b->inv_std = qb_net_alloc_floats(net, c);
  if (net->failed) return l;
  for (size_t i = 0; i < c; i++) b->gamma->w[i] = 1.0f, b->running_var[i] = 1.0f;
  return l;
}

/* ---------------------------------------------------------------- folding */

int qb_conv2d_export_folded(qb_layer* conv, qb_layer* bn, qb_export_ctx* cx, const char* in,
                            const char* out, qb_error* err) {
  conv_impl* c = conv->impl;
  bn_impl* b = bn->impl;
  const size_t cout = c->s.cout, per = c->W->count / cout;
  float* w = malloc(c->W->count * sizeof *w);
  float* bias = malloc(cout * sizeof *bias);
  if (!w || !bias) {
    free(w), free(bias);
    return qb_fail(err, "%s: out of memory folding batch norm", conv->name);
  }
  for (size_t o = 0; o < cout; o++) {
    const float k = b->gamma->w[o] / sqrtf(b->running_var[o] + b->eps);
    for (size_t i = 0; i < per; i++) w[o * per + i] = c->W->w[o * per + i] * k;
    const float b0 = c->b ? c->b->w[o] : 0.0f;
    bias[o] = b->beta->w[o] + (b0 - b->running_mean[o]) * k;
  }
  char wname[NAME_LEN], bname[NAME_LEN], qin[NAME_LEN];
  const char* x = qb_layer_export_input(conv, cx, in, qin, sizeof qin);
  const char* wn = qb_layer_export_weight(conv, cx, c->W, w, 4, c->W->dims, wname, sizeof wname);
  qb_export_float_init(cx, qb_export_name(conv, "bias", bname, sizeof bname), bias, 1,
                       (size_t[]){cout});
  conv_node(conv, cx, x, wn, bname, out);
  free(w), free(bias);
  return 0;
}
