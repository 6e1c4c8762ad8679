/* Vision-transformer layers: patch embedding, position embedding, the pre-LN encoder
 * block (multi-head self-attention + GELU MLP, both residual), layer norm and the
 * mean over tokens. Token tensors are [n, T, D]; the block's dense layers act on
 * n*T rows. In ONNX their weights are stored transposed ([in, out]) for MatMul. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_layers.h"
#include "qb_train_ops.h"

#define NAME_LEN 96

/* ---------------------------------------------------------- export helpers */

/* MatMul(in, W^T) + b: a token-wise dense layer named `prefix`. */
static void export_token_dense(qb_export_ctx* cx, const char* prefix, const qb_param* W,
                               const qb_param* b, const char* in, const char* out) {
  const size_t rows = W->dims[0], cols = W->dims[1]; /* [out, in] */
  float* wt = malloc(rows * cols * sizeof *wt);
  if (!wt) return; /* the builder will not have the initializer: save reports nothing */
  for (size_t o = 0; o < rows; o++)
    for (size_t i = 0; i < cols; i++) wt[i * rows + o] = W->w[o * cols + i];
  char mm[NAME_LEN];
  qb_export_float_init(cx, W->name, wt, 2, (size_t[]){cols, rows});
  qb_export_float_init(cx, b->name, b->w, 1, b->dims);
  snprintf(mm, sizeof mm, "%s.matmul", prefix);
  qb_onnx_builder_node(cx->b, "MatMul", mm, 2, (const char*[]){in, W->name}, 1,
                       (const char*[]){mm});
  qb_onnx_builder_node(cx->b, "Add", prefix, 2, (const char*[]){mm, b->name}, 1,
                       (const char*[]){out});
  free(wt);
}

static void export_layernorm(qb_export_ctx* cx, const char* name, const qb_param* g,
                             const qb_param* b, float eps, const char* in, const char* out) {
  qb_export_float_init(cx, g->name, g->w, 1, g->dims);
  qb_export_float_init(cx, b->name, b->w, 1, b->dims);
  qb_onnx_node* n = qb_onnx_builder_node(cx->b, "LayerNormalization", name, 3,
                                         (const char*[]){in, g->name, b->name}, 1,
                                         (const char*[]){out});
  qb_onnx_node_attr_int(n, "axis", -1);
  qb_onnx_node_attr_float(n, "epsilon", eps);
}

static void export_transpose(qb_export_ctx* cx, const char* name, size_t nperm,
                             const int64_t* perm, const char* in, const char* out) {
  qb_onnx_node* n = qb_onnx_builder_node(cx->b, "Transpose", name, 1, (const char*[]){in}, 1,
                                         (const char*[]){out});
  qb_onnx_node_attr_ints(n, "perm", nperm, perm);
}

static void export_reshape(qb_export_ctx* cx, const char* name, const char* shape,
                           const char* in, const char* out) {
  qb_onnx_builder_node(cx->b, "Reshape", name, 2, (const char*[]){in, shape}, 1,
                       (const char*[]){out});
}

/* ---------------------------------------------------------- patch embedding */

typedef struct {
  size_t patch, dim, tokens, pdim, grid_w;
  qb_param *W, *b;
  float* patches; /* [n, T, C*P*P] */
} patch_impl;

/* patches[s][t][(c*P + i)*P + j] = x[s][c][ty*P + i][tx*P + j], t = ty*grid_w + tx:
 * the order of a Conv weight [D, C, P, P] and of Reshape([N, D, gh*gw]). */
static void gather_patches(const qb_layer* l, const patch_impl* p, size_t n, const float* x,
                           float* out, int scatter) {
  const size_t C = l->in_dims[0], H = l->in_dims[1], W = l->in_dims[2], P = p->patch;
  for (size_t s = 0; s < n; s++)
    for (size_t t = 0; t < p->tokens; t++) {
      const size_t ty = t / p->grid_w, tx = t % p->grid_w;
      for (size_t c = 0; c < C; c++)
        for (size_t i = 0; i < P; i++)
          for (size_t j = 0; j < P; j++) {
            const size_t xi = ((s * C + c) * H + ty * P + i) * W + tx * P + j;
            const size_t pi = (s * p->tokens + t) * p->pdim + (c * P + i) * P + j;
            if (scatter)
              ((float*)x)[xi] = out[pi];
            else
              out[pi] = x[xi];
          }
    }
}

static int patch_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  patch_impl* p = l->impl;
  gather_patches(l, p, n, x, p->patches, 0);
  return qb_train_dense_forward(n * p->tokens, p->pdim, p->dim, p->patches, p->W->w, p->b->w, y);
}

static int patch_backward(qb_layer* l, size_t n, const float* x, const float* y,
                          const float* dy, float* dx) {
  patch_impl* p = l->impl;
  /* dx (if wanted) goes through the patch buffer, which the forward no longer needs
   * once dW is accumulated. */
  if (qb_train_dense_backward(n * p->tokens, p->pdim, p->dim, p->patches, p->W->w, dy, NULL,
                        p->W->grad, p->b->grad))
    return -1;
  if (!dx) return 0;
  if (qb_train_dense_backward(n * p->tokens, p->pdim, p->dim, p->patches, p->W->w, dy, p->patches,
                        NULL, NULL))
    return -1;
  memset(dx, 0, n * l->in_size * sizeof *dx);
  gather_patches(l, p, n, dx, p->patches, 1);
  return 0;
}

static int patch_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                        qb_error* err) {
  patch_impl* p = l->impl;
  char conv[NAME_LEN], shape[NAME_LEN], flat[NAME_LEN], node[NAME_LEN];
  const int64_t P = (int64_t)p->patch;
  qb_export_float_init(cx, p->W->name, p->W->w, 4, p->W->dims);
  qb_export_float_init(cx, p->b->name, p->b->w, 1, p->b->dims);
  qb_export_name(l, "conv", conv, sizeof conv);
  qb_onnx_node* n = qb_onnx_builder_node(cx->b, "Conv", l->name, 3,
                                         (const char*[]){in, p->W->name, p->b->name}, 1,
                                         (const char*[]){conv});
  qb_onnx_node_attr_ints(n, "kernel_shape", 2, (int64_t[]){P, P});
  qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){P, P});
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){0, 0, 0, 0});
  qb_onnx_node_attr_ints(n, "dilations", 2, (int64_t[]){1, 1});
  qb_onnx_node_attr_int(n, "group", 1);
  qb_export_int64_init(cx, qb_export_name(l, "shape", shape, sizeof shape), 3,
                       (int64_t[]){-1, (int64_t)p->dim, (int64_t)p->tokens});
  export_reshape(cx, qb_export_name(l, "reshape", node, sizeof node), shape, conv,
                 qb_export_name(l, "flat", flat, sizeof flat));
  export_transpose(cx, qb_export_name(l, "transpose", node, sizeof node), 3,
                   (int64_t[]){0, 2, 1}, flat, out);
  return 0;
}

static void patch_destroy(qb_layer* l) { free(((patch_impl*)l->impl)->patches); }

static const qb_layer_ops patch_ops = {"patch_embed", patch_forward, patch_backward,
                                       patch_export, patch_destroy};

qb_layer* qb_add_patch_embed(qb_net* net, const char* name, size_t patch, size_t dim) {
  const size_t C = net->cur_dims[0], H = net->cur_dims[1], W = net->cur_dims[2];
  if (patch == 0 || H % patch || W % patch) {
    net->failed = 1;
    return NULL;
  }
  const size_t tokens = (H / patch) * (W / patch);
  qb_layer* l = qb_net_push_layer(net, &patch_ops, name, (size_t[3]){tokens, dim, 1},
                                  sizeof(patch_impl));
  if (!l) return NULL;
  patch_impl* p = l->impl;
  *p = (patch_impl){patch, dim, tokens, C * patch * patch, W / patch, NULL, NULL, NULL};
  p->W = qb_layer_add_param(net, l, "weight", 4, (size_t[]){dim, C, patch, patch}, 1);
  p->b = qb_layer_add_param(net, l, "bias", 1, (size_t[]){dim}, 0);
  p->patches = qb_net_alloc_floats(net, net->max_batch * tokens * p->pdim);
  qb_net_init_uniform(net, p->W, sqrtf(6.0f / (float)(p->pdim + dim))); /* Xavier */
  return l;
}

/* ---------------------------------------------------------- position embedding */

typedef struct {
  qb_param* pos;
} pos_impl;

static int pos_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  const float* pos = ((pos_impl*)l->impl)->pos->w;
  for (size_t s = 0; s < n; s++)
    for (size_t i = 0; i < l->in_size; i++) y[s * l->in_size + i] = x[s * l->in_size + i] + pos[i];
  return 0;
}

static int pos_backward(qb_layer* l, size_t n, const float* x, const float* y, const float* dy,
                        float* dx) {
  float* g = ((pos_impl*)l->impl)->pos->grad;
  for (size_t s = 0; s < n; s++)
    for (size_t i = 0; i < l->in_size; i++) g[i] += dy[s * l->in_size + i];
  if (dx) memcpy(dx, dy, n * l->in_size * sizeof *dy);
  return 0;
}

static int pos_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                      qb_error* err) {
  const qb_param* pos = ((pos_impl*)l->impl)->pos;
  qb_export_float_init(cx, pos->name, pos->w, 3, pos->dims);
  qb_onnx_builder_node(cx->b, "Add", l->name, 2, (const char*[]){in, pos->name}, 1,
                       (const char*[]){out});
  return 0;
}

static const qb_layer_ops pos_ops = {"pos_embed", pos_forward, pos_backward, pos_export, NULL};

qb_layer* qb_add_pos_embed(qb_net* net, const char* name) {
  qb_layer* l = qb_net_push_layer(net, &pos_ops, name, net->cur_dims, sizeof(pos_impl));
  if (!l) return NULL;
  pos_impl* p = l->impl;
  p->pos = qb_layer_add_param(net, l, "weight", 3,
                              (size_t[]){1, l->in_dims[0], l->in_dims[1]}, 0);
  qb_net_init_uniform(net, p->pos, 0.02f * sqrtf(3.0f)); /* std 0.02 */
  return l;
}

/* ------------------------------------------------------------- layer norm */

typedef struct {
  qb_param *g, *b;
  float *xhat, *istd;
  float eps;
} ln_impl;

static int ln_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  ln_impl* p = l->impl;
  qb_train_layernorm_forward(n * l->in_dims[0], l->in_dims[1], x, p->g->w, p->b->w, p->eps, y,
                       p->xhat, p->istd);
  return 0;
}

static int ln_backward(qb_layer* l, size_t n, const float* x, const float* y, const float* dy,
                       float* dx) {
  ln_impl* p = l->impl;
  if (dx)
    qb_train_layernorm_backward(n * l->in_dims[0], l->in_dims[1], p->g->w, p->xhat, p->istd, dy, dx,
                          p->g->grad, p->b->grad);
  return 0;
}

static int ln_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                     qb_error* err) {
  ln_impl* p = l->impl;
  export_layernorm(cx, l->name, p->g, p->b, p->eps, in, out);
  return 0;
}

static void ln_destroy(qb_layer* l) {
  ln_impl* p = l->impl;
  free(p->xhat), free(p->istd);
}

static const qb_layer_ops ln_ops = {"layernorm", ln_forward, ln_backward, ln_export,
                                    ln_destroy};

static void init_layernorm(qb_net* net, qb_layer* l, const char* prefix, size_t d,
                           qb_param** g, qb_param** b) {
  char gn[NAME_LEN], bn[NAME_LEN];
  snprintf(gn, sizeof gn, "%s%sweight", prefix, prefix[0] ? "." : "");
  snprintf(bn, sizeof bn, "%s%sbias", prefix, prefix[0] ? "." : "");
  *g = qb_layer_add_param(net, l, gn, 1, (size_t[]){d}, 0);
  *b = qb_layer_add_param(net, l, bn, 1, (size_t[]){d}, 0);
  if (*g)
    for (size_t i = 0; i < d; i++) (*g)->w[i] = 1.0f;
}

qb_layer* qb_add_layernorm(qb_net* net, const char* name) {
  qb_layer* l = qb_net_push_layer(net, &ln_ops, name, net->cur_dims, sizeof(ln_impl));
  if (!l) return NULL;
  ln_impl* p = l->impl;
  p->eps = 1e-5f;
  init_layernorm(net, l, "", l->in_dims[1], &p->g, &p->b);
  p->xhat = qb_net_alloc_floats(net, net->max_batch * l->in_size);
  p->istd = qb_net_alloc_floats(net, net->max_batch * l->in_dims[0]);
  return l;
}

/* ------------------------------------------------------------- token mean */

static int mean_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  const size_t T = l->in_dims[0], D = l->in_dims[1];
  for (size_t s = 0; s < n; s++)
    for (size_t d = 0; d < D; d++) {
      float acc = 0.0f;
      for (size_t t = 0; t < T; t++) acc += x[(s * T + t) * D + d];
      y[s * D + d] = acc / (float)T;
    }
  return 0;
}

static int mean_backward(qb_layer* l, size_t n, const float* x, const float* y, const float* dy,
                         float* dx) {
  const size_t T = l->in_dims[0], D = l->in_dims[1];
  if (dx)
    for (size_t s = 0; s < n; s++)
      for (size_t t = 0; t < T; t++)
        for (size_t d = 0; d < D; d++) dx[(s * T + t) * D + d] = dy[s * D + d] / (float)T;
  return 0;
}

/* [N, T, D] -> Transpose -> [N, D, T] -> GlobalAveragePool -> [N, D, 1] -> Flatten. */
static int mean_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                       qb_error* err) {
  char tr[NAME_LEN], pooled[NAME_LEN], node[NAME_LEN];
  qb_export_name(l, "transpose", tr, sizeof tr);
  export_transpose(cx, tr, 3, (int64_t[]){0, 2, 1}, in, tr);
  qb_export_name(l, "pool", pooled, sizeof pooled);
  qb_onnx_builder_node(cx->b, "GlobalAveragePool", l->name, 1, (const char*[]){tr}, 1,
                       (const char*[]){pooled});
  qb_onnx_node* n = qb_onnx_builder_node(cx->b, "Flatten",
                                         qb_export_name(l, "flatten", node, sizeof node), 1,
                                         (const char*[]){pooled}, 1, (const char*[]){out});
  qb_onnx_node_attr_int(n, "axis", 1);
  return 0;
}

static const qb_layer_ops mean_ops = {"token_mean", mean_forward, mean_backward, mean_export,
                                      NULL};

qb_layer* qb_add_token_mean(qb_net* net, const char* name) {
  return qb_net_push_layer(net, &mean_ops, name, (size_t[3]){net->cur_dims[1], 1, 1}, 0);
}

/* ---------------------------------------------------------- encoder block */

enum { BUF_H1, BUF_Q, BUF_K, BUF_V, BUF_A, BUF_X2, BUF_H2, BUF_XHAT1, BUF_XHAT2, BUF_DA, BUF_DQ,
       BUF_DK, BUF_DV, BUF_DH, BUF_DX2, BUF_TD_COUNT };

typedef struct {
  size_t heads, mlp;
  qb_param *ln1_g, *ln1_b, *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo, *ln2_g, *ln2_b, *w1, *b1, *w2,
      *b2;
  float* td[BUF_TD_COUNT]; /* [n, T, D] buffers */
  float *istd1, *istd2;    /* [n, T] */
  float* probs;            /* [n, heads, T, T] */
  float *f1, *g, *dm;      /* [n, T, mlp] */
  float eps;
} block_impl;

static int block_forward(qb_layer* l, size_t n, const float* x, float* y, int training) {
  block_impl* b = l->impl;
  const size_t T = l->in_dims[0], D = l->in_dims[1], R = n * T, M = b->mlp;
  float** t = b->td;
  int rc = 0;
  qb_train_layernorm_forward(R, D, x, b->ln1_g->w, b->ln1_b->w, b->eps, t[BUF_H1], t[BUF_XHAT1],
                       b->istd1);
  rc |= qb_train_dense_forward(R, D, D, t[BUF_H1], b->wq->w, b->bq->w, t[BUF_Q]);
  rc |= qb_train_dense_forward(R, D, D, t[BUF_H1], b->wk->w, b->bk->w, t[BUF_K]);
  rc |= qb_train_dense_forward(R, D, D, t[BUF_H1], b->wv->w, b->bv->w, t[BUF_V]);
  rc |= qb_train_attention_forward(n, T, D, b->heads, t[BUF_Q], t[BUF_K], t[BUF_V], t[BUF_A], b->probs);
  rc |= qb_train_dense_forward(R, D, D, t[BUF_A], b->wo->w, b->bo->w, t[BUF_X2]);
  for (size_t i = 0; i < R * D; i++) t[BUF_X2][i] += x[i]; /* residual */
  qb_train_layernorm_forward(R, D, t[BUF_X2], b->ln2_g->w, b->ln2_b->w, b->eps, t[BUF_H2],
                       t[BUF_XHAT2], b->istd2);
  rc |= qb_train_dense_forward(R, D, M, t[BUF_H2], b->w1->w, b->b1->w, b->f1);
  qb_train_gelu_forward(R * M, b->f1, b->g);
  rc |= qb_train_dense_forward(R, M, D, b->g, b->w2->w, b->b2->w, y);
  for (size_t i = 0; i < R * D; i++) y[i] += t[BUF_X2][i]; /* residual */
  return rc ? -1 : 0;
}

/* The forward pass in reverse; each residual sends its gradient both ways. */
static int block_backward(qb_layer* l, size_t n, const float* x, const float* y,
                          const float* dy, float* dx) {
  block_impl* b = l->impl;
  const size_t T = l->in_dims[0], D = l->in_dims[1], R = n * T, M = b->mlp;
  float** t = b->td;
  int rc = 0;
  /* MLP branch: y = x2 + fc2(gelu(fc1(ln2(x2)))). */
  rc |= qb_train_dense_backward(R, M, D, b->g, b->w2->w, dy, b->dm, b->w2->grad, b->b2->grad);
  qb_train_gelu_backward(R * M, b->f1, b->dm, b->dm);
  rc |= qb_train_dense_backward(R, D, M, t[BUF_H2], b->w1->w, b->dm, t[BUF_DH], b->w1->grad,
                          b->b1->grad);
  qb_train_layernorm_backward(R, D, b->ln2_g->w, t[BUF_XHAT2], b->istd2, t[BUF_DH], t[BUF_DX2],
                        b->ln2_g->grad, b->ln2_b->grad);
  for (size_t i = 0; i < R * D; i++) t[BUF_DX2][i] += dy[i];
  /* Attention branch: x2 = x + proj(attn(q, k, v)), q/k/v = dense(ln1(x)). */
  rc |= qb_train_dense_backward(R, D, D, t[BUF_A], b->wo->w, t[BUF_DX2], t[BUF_DA], b->wo->grad,
                          b->bo->grad);
  rc |= qb_train_attention_backward(n, T, D, b->heads, t[BUF_Q], t[BUF_K], t[BUF_V], b->probs,
                              t[BUF_DA], t[BUF_DQ], t[BUF_DK], t[BUF_DV]);
  /* dh1 = dq Wq + dk Wk + dv Wv, summed in that order. */
  rc |= qb_train_dense_backward(R, D, D, t[BUF_H1], b->wq->w, t[BUF_DQ], t[BUF_DH], b->wq->grad,
                          b->bq->grad);
  rc |= qb_train_dense_backward(R, D, D, t[BUF_H1], b->wk->w, t[BUF_DK], t[BUF_DA], b->wk->grad,
                          b->bk->grad);
  for (size_t i = 0; i < R * D; i++) t[BUF_DH][i] += t[BUF_DA][i];
  rc |= qb_train_dense_backward(R, D, D, t[BUF_H1], b->wv->w, t[BUF_DV], t[BUF_DA], b->wv->grad,
                          b->bv->grad);
  for (size_t i = 0; i < R * D; i++) t[BUF_DH][i] += t[BUF_DA][i];
  if (dx) {
    qb_train_layernorm_backward(R, D, b->ln1_g->w, t[BUF_XHAT1], b->istd1, t[BUF_DH], dx,
                          b->ln1_g->grad, b->ln1_b->grad);
    for (size_t i = 0; i < R * D; i++) dx[i] += t[BUF_DX2][i];
  }
  return rc ? -1 : 0;
}

static int block_export(qb_layer* l, qb_export_ctx* cx, const char* in, const char* out,
                        qb_error* err) {
  block_impl* b = l->impl;
  const int64_t T = (int64_t)l->in_dims[0], D = (int64_t)l->in_dims[1];
  const int64_t H = (int64_t)b->heads, dh = D / H;
  char ln1[NAME_LEN], q[NAME_LEN], k[NAME_LEN], v[NAME_LEN], split[NAME_LEN], merge[NAME_LEN],
      scale[NAME_LEN], tmp[NAME_LEN], tmp2[NAME_LEN], node[NAME_LEN], qh[NAME_LEN],
      kt[NAME_LEN], vh[NAME_LEN], sc[NAME_LEN], x2[NAME_LEN], ln2[NAME_LEN], f1[NAME_LEN],
      g[NAME_LEN], f2[NAME_LEN], prefix[NAME_LEN];
  export_layernorm(cx, qb_export_name(l, "ln1", ln1, sizeof ln1), b->ln1_g, b->ln1_b, b->eps,
                   in, ln1);
  export_token_dense(cx, qb_export_name(l, "attn.q", q, sizeof q), b->wq, b->bq, ln1, q);
  export_token_dense(cx, qb_export_name(l, "attn.k", k, sizeof k), b->wk, b->bk, ln1, k);
  export_token_dense(cx, qb_export_name(l, "attn.v", v, sizeof v), b->wv, b->bv, ln1, v);
  /* Heads: [N, T, D] -> [N, T, H, dh] -> q, v: [N, H, T, dh]; k: [N, H, dh, T]. */
  qb_export_int64_init(cx, qb_export_name(l, "attn.split_shape", split, sizeof split), 4,
                       (int64_t[]){-1, T, H, dh});
  qb_export_int64_init(cx, qb_export_name(l, "attn.merge_shape", merge, sizeof merge), 3,
                       (int64_t[]){-1, T, D});
  const float s = 1.0f / sqrtf((float)dh);
  qb_export_float_init(cx, qb_export_name(l, "attn.scale", scale, sizeof scale), &s, 0, NULL);
  const char* srcs[3] = {q, k, v};
  char* dsts[3] = {qh, kt, vh};
  const char* tags[3] = {"q", "k", "v"};
  for (int i = 0; i < 3; i++) {
    snprintf(tmp, sizeof tmp, "%s.attn.%s_split", l->name, tags[i]);
    export_reshape(cx, tmp, split, srcs[i], tmp);
    snprintf(dsts[i], NAME_LEN, "%s.attn.%s_heads", l->name, tags[i]);
    export_transpose(cx, dsts[i], 4, i == 1 ? (int64_t[]){0, 2, 3, 1} : (int64_t[]){0, 2, 1, 3},
                     tmp, dsts[i]);
  }
  qb_export_name(l, "attn.scores", sc, sizeof sc);
  qb_onnx_builder_node(cx->b, "MatMul", sc, 2, (const char*[]){qh, kt}, 1, (const char*[]){sc});
  qb_export_name(l, "attn.scaled", tmp, sizeof tmp);
  qb_onnx_builder_node(cx->b, "Mul", tmp, 2, (const char*[]){sc, scale}, 1,
                       (const char*[]){tmp});
  qb_export_name(l, "attn.softmax", tmp2, sizeof tmp2);
  qb_onnx_node* sm = qb_onnx_builder_node(cx->b, "Softmax", tmp2, 1, (const char*[]){tmp}, 1,
                                          (const char*[]){tmp2});
  qb_onnx_node_attr_int(sm, "axis", -1);
  qb_export_name(l, "attn.context", tmp, sizeof tmp);
  qb_onnx_builder_node(cx->b, "MatMul", tmp, 2, (const char*[]){tmp2, vh}, 1,
                       (const char*[]){tmp});
  qb_export_name(l, "attn.context_tokens", tmp2, sizeof tmp2);
  export_transpose(cx, tmp2, 4, (int64_t[]){0, 2, 1, 3}, tmp, tmp2);
  qb_export_name(l, "attn.merge", tmp, sizeof tmp);
  export_reshape(cx, tmp, merge, tmp2, tmp);
  qb_export_name(l, "attn.out", tmp2, sizeof tmp2);
  export_token_dense(cx, tmp2, b->wo, b->bo, tmp, tmp2);
  qb_export_name(l, "attn.residual", x2, sizeof x2);
  qb_onnx_builder_node(cx->b, "Add", x2, 2, (const char*[]){in, tmp2}, 1, (const char*[]){x2});
  /* MLP. */
  export_layernorm(cx, qb_export_name(l, "ln2", ln2, sizeof ln2), b->ln2_g, b->ln2_b, b->eps,
                   x2, ln2);
  export_token_dense(cx, qb_export_name(l, "mlp.fc1", f1, sizeof f1), b->w1, b->b1, ln2, f1);
  qb_export_gelu(cx, qb_export_name(l, "mlp.gelu", g, sizeof g), f1, g);
  export_token_dense(cx, qb_export_name(l, "mlp.fc2", f2, sizeof f2), b->w2, b->b2, g, f2);
  snprintf(prefix, sizeof prefix, "%s.mlp.residual", l->name);
  snprintf(node, sizeof node, "%s", prefix);
  qb_onnx_builder_node(cx->b, "Add", node, 2, (const char*[]){x2, f2}, 1, (const char*[]){out});
  return 0;
}

static void block_destroy(qb_layer* l) {
  block_impl* b = l->impl;
  for (int i = 0; i < BUF_TD_COUNT; i++) free(b->td[i]);
  free(b->istd1), free(b->istd2), free(b->probs), free(b->f1), free(b->g), free(b->dm);
}

static const qb_layer_ops block_ops = {"encoder_block", block_forward, block_backward,
                                       block_export, block_destroy};

static qb_param* block_dense(qb_net* net, qb_layer* l, const char* prefix, size_t out,
                             size_t in, qb_param** bias) {
  char wn[NAME_LEN], bn[NAME_LEN];
  snprintf(wn, sizeof wn, "%s.weight", prefix);
  snprintf(bn, sizeof bn, "%s.bias", prefix);
  qb_param* w = qb_layer_add_param(net, l, wn, 2, (size_t[]){out, in}, 1);
  *bias = qb_layer_add_param(net, l, bn, 1, (size_t[]){out}, 0);
  qb_net_init_uniform(net, w, sqrtf(6.0f / (float)(in + out))); /* Xavier */
  return w;
}

qb_layer* qb_add_encoder_block(qb_net* net, const char* name, size_t heads, size_t mlp_dim) {
  const size_t T = net->cur_dims[0], D = net->cur_dims[1];
  if (heads == 0 || D % heads) {
    net->failed = 1;
    return NULL;
  }
  qb_layer* l = qb_net_push_layer(net, &block_ops, name, net->cur_dims, sizeof(block_impl));
  if (!l) return NULL;
  block_impl* b = l->impl;
  b->heads = heads, b->mlp = mlp_dim, b->eps = 1e-5f;
  init_layernorm(net, l, "ln1", D, &b->ln1_g, &b->ln1_b);
  b->wq = block_dense(net, l, "attn.q", D, D, &b->bq);
  b->wk = block_dense(net, l, "attn.k", D, D, &b->bk);
  b->wv = block_dense(net, l, "attn.v", D, D, &b->bv);
  b->wo = block_dense(net, l, "attn.out", D, D, &b->bo);
  init_layernorm(net, l, "ln2", D, &b->ln2_g, &b->ln2_b);
  b->w1 = block_dense(net, l, "mlp.fc1", mlp_dim, D, &b->b1);
  b->w2 = block_dense(net, l, "mlp.fc2", D, mlp_dim, &b->b2);
  const size_t B = net->max_batch;
  for (int i = 0; i < BUF_TD_COUNT; i++) b->td[i] = qb_net_alloc_floats(net, B * T * D);
  b->istd1 = qb_net_alloc_floats(net, B * T);
  b->istd2 = qb_net_alloc_floats(net, B * T);
  b->probs = qb_net_alloc_floats(net, B * heads * T * T);
  b->f1 = qb_net_alloc_floats(net, B * T * mlp_dim);
  b->g = qb_net_alloc_floats(net, B * T * mlp_dim);
  b->dm = qb_net_alloc_floats(net, B * T * mlp_dim);
  return l;
}
