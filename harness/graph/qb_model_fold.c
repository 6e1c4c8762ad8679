/* BatchNormalization folding at load.
 *
 * Inference BN is y = (x - mean) * s + beta with s = gamma / sqrt(var + eps), one s
 * per channel. When x is the output of a Conv (or Gemm) with constant weights and
 * nothing else reads x, the BN is absorbed into that layer:
 *   W'[c, ...] = W[c, ...] * s[c]            (c = output channel)
 *   b'[c]      = (b[c] - mean[c]) * s[c] + beta[c]
 * which is what a deployed int8 model quantizes (BN never exists at run time).
 * s and b' are computed in double and rounded once to float. The layer's weight
 * and bias constants are rewritten in place only when the layer is their sole
 * user; otherwise the BN stays a separate op. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_internal.h"

static size_t uses(const qb_model* m, int value) {
  size_t n = 0;
  for (size_t k = 0; k < m->nnodes; k++)
    for (int i = 0; i < m->nodes[k].nin; i++) n += m->nodes[k].in[i] == value;
  return n;
}

static int producer_of(const qb_model* m, int value) {
  for (size_t k = 0; k < m->nnodes; k++)
    for (int o = 0; o < m->nodes[k].nout; o++)
      if (m->nodes[k].out[o] == value) return (int)k;
  return -1;
}

static const float* f32_const(const qb_model* m, int v, size_t numel) {
  if (v < 0) return NULL;
  const qb_value* val = &m->values[v];
  if (val->kind != QB_VALUE_CONST || val->constant.dtype != QB_F32 ||
      qb_tensor_numel(&val->constant) != numel)
    return NULL;
  return val->constant.data;
}

/* Folds BN node `k` into node `p` if the shapes allow; returns 1 when folded. */
static int try_fold(qb_model* m, size_t k, int p, qb_error* err) {
  qb_node* bn = &m->nodes[k];
  qb_node* layer = &m->nodes[p];
  const int wv = layer->in[1];
  if (wv < 0 || m->values[wv].kind != QB_VALUE_CONST || m->values[wv].constant.dtype != QB_F32 ||
      uses(m, wv) != 1)
    return 0;
  qb_tensor* w = &m->values[wv].constant;
  size_t C, inner;
  if (layer->op == QB_OP_CONV) {
    if (w->ndim != 4) return 0;
    C = w->dims[0], inner = qb_tensor_numel(w) / (C ? C : 1);
  } else { /* Gemm: output channel n is a row of B^T */
    if (w->ndim != 2 || layer->a.trans_a || layer->a.alpha != 1.0f || layer->a.beta != 1.0f) return 0;
    C = layer->a.trans_b ? w->dims[0] : w->dims[1];
    inner = layer->a.trans_b ? w->dims[1] : w->dims[0];
  }
  const float *gamma = f32_const(m, bn->in[1], C), *beta = f32_const(m, bn->in[2], C),
              *mean = f32_const(m, bn->in[3], C), *var = f32_const(m, bn->in[4], C);
  if (!gamma || !beta || !mean || !var) return 0;
  const int bv = layer->nin > 2 ? layer->in[2] : -1;
  if (bv >= 0 && (!f32_const(m, bv, C) || uses(m, bv) != 1)) return 0;
  float* wd = w->data;
  for (size_t c = 0; c < C; c++) {
    const double s = (double)gamma[c] / sqrt((double)var[c] + (double)bn->a.epsilon);
    for (size_t i = 0; i < inner; i++) {
      float* e = layer->op == QB_OP_CONV || layer->a.trans_b ? &wd[c * inner + i] : &wd[i * C + c];
      *e = (float)((double)*e * s);
    }
  }
  /* The bias: rewrite the layer's own, or add one. */
  int nb = bv;
  if (nb < 0) {
    char name[300];
    snprintf(name, sizeof name, "%.200s.bias_folded", layer->name);
    nb = qb_model_add_value(m, name, QB_VALUE_CONST, err);
    if (nb < 0) return -1;
    bn = &m->nodes[k]; /* values may have moved, nodes did not, but stay safe */
    const size_t dims[1] = {C};
    if (qb_tensor_alloc(&m->values[nb].constant, QB_F32, 1, dims, err)) return -1;
    layer->in[2] = nb;
    layer->nin = 3;
  }
  float* b = m->values[nb].constant.data;
  for (size_t c = 0; c < C; c++) {
    const double s = (double)gamma[c] / sqrt((double)var[c] + (double)bn->a.epsilon);
    b[c] = (float)(((double)(bv >= 0 ? b[c] : 0.0f) - mean[c]) * s + beta[c]);
  }
  /* The layer now writes the BN's output; the old intermediate value is dead. */
  const int old = layer->out[0];
  layer->out[0] = bn->out[0];
  m->values[old].producer = -1;
  return 1;
}

int qb_model_fold_batchnorm(qb_model* m, qb_error* err) {
  size_t k = 0;
  while (k < m->nnodes) {
    qb_node* bn = &m->nodes[k];
    if (bn->op == QB_OP_BATCHNORM) {
      const int x = bn->in[0];
      const int p = producer_of(m, x);
      if (p >= 0 && (m->nodes[p].op == QB_OP_CONV || m->nodes[p].op == QB_OP_GEMM) &&
          uses(m, x) == 1 && !m->values[x].is_output) {
        const int rc = try_fold(m, k, p, err);
        if (rc < 0) return -1;
        if (rc == 1) {
          free(m->nodes[k].name);
          memmove(&m->nodes[k], &m->nodes[k + 1], (m->nnodes - k - 1) * sizeof *m->nodes);
          m->nnodes--;
          m->folded_batchnorms++;
          continue;
        }
      }
    }
    k++;
  }
  return 0;
}
