/* Quantization state: which layers are quantized, their weights quantized per the
 * qconfig (qb_quantize_tensor on the [out, reduction] view), int8 copies packed
 * for the chosen backend's GEMM, and per-layer information. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_quant_internal.h"

/* Which nodes are quantized layers, and their weight geometry. */
static qb_qlayer_kind layer_kind(const qb_model* m, const qb_node* n, size_t* N, size_t* K,
                                 bool* kn, size_t* taps) {
  const qb_value* w = qb_in(m, n, 1);
  if (!w || w->kind != QB_VALUE_CONST || w->constant.dtype != QB_F32) return QB_QLAYER_NONE;
  const qb_value* b = qb_in(m, n, 2);
  switch (n->op) {
    case QB_OP_GEMM:
      if (w->ndim != 2 || n->a.trans_a || n->a.alpha != 1.0f || n->a.beta != 1.0f) return QB_QLAYER_NONE;
      *kn = !n->a.trans_b;
      *N = *kn ? w->dims[1] : w->dims[0], *K = *kn ? w->dims[0] : w->dims[1];
      if (b && (b->kind != QB_VALUE_CONST || b->numel != *N)) return QB_QLAYER_NONE;
      return QB_QLAYER_GEMM;
    case QB_OP_MATMUL:
      if (w->ndim != 2 || qb_in(m, n, 0)->ndim < 2) return QB_QLAYER_NONE;
      *kn = true, *N = w->dims[1], *K = w->dims[0];
      return QB_QLAYER_GEMM;
    case QB_OP_CONV:
      if (b && b->kind != QB_VALUE_CONST) return QB_QLAYER_NONE;
      *kn = false, *N = w->dims[0], *K = w->numel / (w->dims[0] ? w->dims[0] : 1);
      return QB_QLAYER_CONV;
    case QB_OP_CONVTRANSPOSE:
      /* Groups would make the output channel two weight axes (no per-axis QDQ form). */
      if (n->a.group != 1 || w->ndim != 4 || (b && b->kind != QB_VALUE_CONST)) return QB_QLAYER_NONE;
      *kn = false, *taps = w->dims[2] * w->dims[3];
      *N = w->dims[1], *K = w->dims[0] * *taps;
      return QB_QLAYER_CONVT;
    default:
      return QB_QLAYER_NONE;
  }
}

static bool int_kernel_applies(const qb_qconfig* c) {
  const qb_tensor_qspec *w = &c->weight, *a = &c->act;
  const bool w_ok = w->scheme.is_signed && w->scheme.bits <= 8 && w->granularity.kind != QB_PER_GROUP;
  const bool a_ok = !a->scheme.is_signed && a->scheme.bits <= 8;
  return w_ok && (c->workflow == QB_WORKFLOW_WEIGHT_ONLY || a_ok);
}

/* D: the donor state's layer for this node (its quantized weights are copied), or NULL. */
static int quantize_weights(qb_quant_state* q, const qb_model* m, const qb_node* n, qb_qlayer* L,
                            const qb_qlayer* D, qb_error* err) {
  const qb_value* w = qb_in(m, n, 1);
  const float* src = w->constant.data;
  const size_t N = L->N, K = L->K;
  qb_tensor view;
  const size_t dims[2] = {N, K};
  if (qb_tensor_alloc(&view, QB_F32, 2, dims, err)) return -1;
  float* v = view.data;
  for (size_t r = 0; r < N; r++)
    for (size_t k = 0; k < K; k++) v[r * K + k] = src[qb_qlayer_w_index(L, r, k)];
  qb_tensor_qspec spec = q->cfg.weight;
  spec.granularity.axis = spec.granularity.kind == QB_PER_GROUP ? 1 : 0;
  const int rc = D && D->wq.q && D->N == N && D->K == K
                     ? qb_quantized_tensor_copy(&D->wq, N * K, &L->wq, err)
                     : qb_quantize_tensor(&spec, &view, &L->wq, err);
  qb_tensor_free(&view);
  if (rc) {
    char where[320];
    char inner[sizeof err->msg];
    if (err) {
      memcpy(inner, err->msg, sizeof inner);
      inner[sizeof inner - 1] = 0;
      qb_fail(err, "%s: weight: %s", qb_node_str(n, where, sizeof where), inner);
    }
    return -1;
  }
  L->w_fq = malloc(N * K * sizeof *L->w_fq);
  L->w_scale = malloc(N * sizeof *L->w_scale);
  L->w_zp = malloc(N * sizeof *L->w_zp);
  if (!L->w_fq || !L->w_scale || !L->w_zp) return qb_fail(err, "out of memory");
  for (size_t r = 0; r < N; r++)
    for (size_t k = 0; k < K; k++)
      L->w_fq[qb_qlayer_w_index(L, r, k)] = L->wq.dequant[r * K + k];
  const bool per_tensor = L->wq.layout.nunits == 1;
  for (size_t r = 0; r < N; r++) {
    /* Per-group has no single scale per channel; only tensor/channel feed kernels. */
    const qb_qparams p = L->wq.params[per_tensor || spec.granularity.kind == QB_PER_GROUP ? 0 : r];
    L->w_scale[r] = p.scale, L->w_zp[r] = p.zero_point;
  }
  return 0;
}

/* int8 weights packed per group (a Conv with groups packs each group's rows), in
 * q->threads column slices for the threaded GEMM (qb_gemm_threaded.h). */
static int pack_groups(qb_quant_state* q, qb_qlayer* L, qb_error* err) {
  const size_t og = L->N / L->packed_groups;
  for (size_t g = 0; g < L->packed_groups; g++)
    if (qb_gemm_threaded_pack(q->table->qu8_qs8_qs32_gemm, og, L->K, L->w_s8 + g * og * L->K, L->K,
                              L->w_zp + g * og, 0, q->threads, &L->packed[g], err))
      return -1;
  return 0;
}

static size_t layer_groups(const qb_node* n, const qb_qlayer* L) {
  return L->kind == QB_QLAYER_CONV ? (size_t)n->a.group : 1;
}

static void free_packed(qb_qlayer* L, size_t groups) {
  for (size_t g = 0; L->packed && g < groups; g++) qb_gemm_threaded_free(&L->packed[g]);
  free(L->packed);
  L->packed = NULL;
}

/* The u8 x s8 -> s32 GEMM accumulates K products of at most 255 * 128 in magnitude
 * (the zero-point decomposition in kernels/ref keeps each term in that range), so
 * K * 255 * 128 < 2^31, K <= 65793, is what keeps the int32 accumulator exact. */
#define QB_Q8_MAX_K ((size_t)(INT32_MAX / (255 * 128)))

static int pack_weights(qb_quant_state* q, const qb_node* n, qb_qlayer* L, qb_error* err) {
  const size_t N = L->N, K = L->K;
  if (K > QB_Q8_MAX_K) {
    char where[320];
    return qb_fail(err, "%s: reduction length K = %zu exceeds the int8 GEMM's bound "
                   "K * 255 * 128 < 2^31 (K <= %zu): its int32 accumulator could overflow",
                   qb_node_str(n, where, sizeof where), K, QB_Q8_MAX_K);
  }
  L->w_s8 = malloc(N * K);
  if (!L->w_s8) return qb_fail(err, "out of memory");
  for (size_t i = 0; i < N * K; i++) L->w_s8[i] = (int8_t)L->wq.q[i];
  if (L->depthwise) return 0; /* the dwconv kernels read w_s8 directly */
  if (L->kind == QB_QLAYER_GEMM && q->cfg.workflow == QB_WORKFLOW_DYNAMIC &&
      q->cfg.act.granularity.kind == QB_PER_TOKEN) {
    /* |sum| <= K * 255 < 2^31 by the K bound above. */
    if (!(L->w_sum = malloc(N * sizeof *L->w_sum))) return qb_fail(err, "out of memory");
    for (size_t c = 0; c < N; c++) {
      int32_t s = 0;
      for (size_t k = 0; k < K; k++) s += L->w_s8[c * K + k] - L->w_zp[c];
      L->w_sum[c] = s;
    }
  }
  L->packed = calloc(layer_groups(n, L), sizeof *L->packed);
  if (!L->packed) return qb_fail(err, "out of memory");
  L->packed_groups = layer_groups(n, L);
  return pack_groups(q, L, err);
}

/* The integer path of a layer (see qb_qpath). <= 4-bit Gemm weights go to the int4
 * families, as the sweep plan's rules `subbyte-weights-kernel` and
 * `weight-group-kernel` expect (per-group included: the W4 kernels rescale per group). */
static qb_qpath choose_path(const qb_qconfig* c, const qb_qlayer* L) {
  const qb_tensor_qspec *w = &c->weight, *a = &c->act;
  if (L->kind == QB_QLAYER_GEMM && w->scheme.bits <= 4) {
    if (c->workflow == QB_WORKFLOW_WEIGHT_ONLY) return QB_QPATH_W4A32;
    if (c->workflow == QB_WORKFLOW_DYNAMIC && a->scheme.bits == 8) return QB_QPATH_W4A8;
  }
  if (L->kind == QB_QLAYER_CONVT) return QB_QPATH_SIMULATED;
  return int_kernel_applies(c) && c->workflow != QB_WORKFLOW_WEIGHT_ONLY ? QB_QPATH_Q8
                                                                         : QB_QPATH_SIMULATED;
}

static int setup_layer(qb_quant_state* q, const qb_model* m, size_t k, const qb_quant_state* donor,
                       qb_error* err) {
  const qb_node* n = &m->nodes[k];
  qb_qlayer* L = &q->layers[k];
  L->kind = layer_kind(m, n, &L->N, &L->K, &L->b_is_kn, &L->taps);
  L->kernel = "fp32";
  L->in_value = n->in[0], L->out_value = n->out[0];
  L->bias_add_node = L->act_node = -1;
  L->act_lo = -INFINITY, L->act_hi = INFINITY;
  L->last_node = k;
  if (L->kind == QB_QLAYER_NONE) return 0;
  const qb_value* b = qb_in(m, n, 2);
  L->bias = b ? b->data : NULL;
  if (L->kind == QB_QLAYER_CONV) {
    const qb_value* x = qb_in(m, n, 0);
    L->depthwise = n->a.group > 1 && (size_t)n->a.group == x->dims[1];
  }
  if (quantize_weights(q, m, n, L, donor ? &donor->layers[k] : NULL, err)) return -1;
  L->path = choose_path(&q->cfg, L);
  if (L->path == QB_QPATH_W4A32 || L->path == QB_QPATH_W4A8) {
    const int rc = qb_w4_pack(L, &q->cfg,
                              L->path == QB_QPATH_W4A8 ? q->table->qs8_q4_f32_wgemm : NULL, err);
    if (rc < 0) return -1;
    if (rc > 0) L->path = QB_QPATH_SIMULATED; /* values outside the nibble range */
  }
  if (L->path == QB_QPATH_Q8 && pack_weights(q, n, L, err)) return -1;
  L->int_ok = L->path != QB_QPATH_SIMULATED;
  if (!L->int_ok) L->kernel = q->cfg.workflow == QB_WORKFLOW_WEIGHT_ONLY
                                  ? "fp32-dequantized-weights" : "fp32-simulated";
  else if (L->path == QB_QPATH_W4A32) L->kernel = q->table->f32_q4_f32_wgemm->info.name;
  else if (L->path == QB_QPATH_W4A8) L->kernel = q->table->qs8_q4_f32_wgemm->info.name;
  else if (L->depthwise && q->cfg.workflow == QB_WORKFLOW_STATIC) /* fused requantization */
    L->kernel = q->cfg.requant == QB_REQUANT_GEMMLOWP
                    ? q->table->qu8_qs8_qu8_dwconv2d_minmax_gemmlowp->info.name
                    : q->table->qu8_qs8_qu8_dwconv2d_minmax_fp32->info.name;
  else if (L->depthwise) L->kernel = q->table->qu8_qs8_qs32_dwconv2d->info.name;
  else L->kernel = q->table->qu8_qs8_qs32_gemm->info.name;
  return 0;
}

/* Compares the weight part of the qconfigs' texts (up to the first '/'): all the
 * weight quantization of a layer depends on. */
bool qb_quant_weights_match(const qb_quant_state* donor, const qb_qconfig* cfg) {
  char ta[400], tb[400];
  qb_qconfig_str(&donor->cfg, ta, sizeof ta);
  qb_qconfig_str(cfg, tb, sizeof tb);
  const size_t la = strcspn(ta, "/"), lb = strcspn(tb, "/");
  return la == lb && !memcmp(ta, tb, la);
}

int qb_quant_create(const qb_model* m, const qb_qconfig* cfg, qb_backend backend,
                    qb_quant_state** out, qb_error* err) {
  return qb_quant_create_reusing(m, cfg, backend, NULL, out, err);
}

int qb_quant_create_reusing(const qb_model* m, const qb_qconfig* cfg, qb_backend backend,
                            const qb_quant_state* donor, qb_quant_state** out, qb_error* err) {
  *out = NULL;
  if (!m->prepared) return qb_fail(err, "prepare the model before quantizing it");
  if (cfg->workflow == QB_WORKFLOW_QAT)
    return qb_fail(err, "qat is a sweep workflow: quantize the fine-tuned model as static");
  qb_quant_state* q = calloc(1, sizeof *q);
  if (!q) return qb_fail(err, "out of memory");
  q->cfg = *cfg;
  q->table = backend == QB_BACKEND_COUNT ? qb_dispatch_best() : qb_dispatch_get(backend);
  if (!q->table) {
    free(q);
    const char* name = qb_backend_name(backend);
    return qb_fail(err, "backend '%s' is not usable on this machine", name ? name : "?");
  }
  q->backend = q->table->backend;
  q->threads = 1;
  q->nnodes = m->nnodes, q->nvalues = m->nvalues;
  q->layers = calloc(m->nnodes ? m->nnodes : 1, sizeof *q->layers);
  q->stats = calloc(m->nvalues ? m->nvalues : 1, sizeof *q->stats);
  q->act_qp = calloc(m->nvalues ? m->nvalues : 1, sizeof *q->act_qp);
  q->act_has = calloc(m->nvalues ? m->nvalues : 1, sizeof *q->act_has);
  if (!q->layers || !q->stats || !q->act_qp || !q->act_has) {
    qb_quant_free(q);
    return qb_fail(err, "out of memory");
  }
  if (donor && !(donor->nnodes == m->nnodes && qb_quant_weights_match(donor, cfg))) donor = NULL;
  for (size_t k = 0; k < m->nnodes; k++)
    if (setup_layer(q, m, k, donor, err)) {
      qb_quant_free(q);
      return -1;
    }
  /* Folding and which values the calibration observes (static). */
  if (qb_qplan_create(q, m, err)) {
    qb_quant_free(q);
    return -1;
  }
  qb_qplan_run(q);
  for (size_t v = 0; v < m->nvalues; v++) q->stats[v].rng = 0x9E3779B97F4A7C15ull ^ (v + 1);
  q->calibrated = cfg->workflow != QB_WORKFLOW_STATIC;
  *out = q;
  return 0;
}

void qb_quant_free(qb_quant_state* q) {
  if (!q) return;
  for (size_t k = 0; k < q->nnodes && q->layers; k++) {
    qb_qlayer* L = &q->layers[k];
    qb_quantized_tensor_free(&L->wq);
    free(L->w_fq), free(L->w_scale), free(L->w_zp), free(L->w_s8), free(L->w_sum);
    qb_f32_packed_b_free(&L->w_fq_packed);
    free_packed(L, L->packed_groups);
    qb_w4_free(&L->w4);
    free(L->bias_q), free(L->bias_fq), free(L->requant_scale), free(L->requant_fixed);
    free(L->name);
  }
  qb_qplan_free(q);
  for (size_t v = 0; v < q->nvalues && q->stats; v++) {
    free(q->stats[v].batch_min), free(q->stats[v].batch_max), free(q->stats[v].sample);
  }
  free(q->layers), free(q->stats), free(q->act_qp), free(q->act_has);
  qb_thread_pool_destroy(q->pool);
  free(q);
}

int qb_quant_set_threads(qb_quant_state* q, size_t threads, qb_error* err) {
  if (threads < 1 || threads > QB_THREAD_POOL_MAX)
    return qb_fail(err, "threads: %zu is outside 1..%d", threads, QB_THREAD_POOL_MAX);
  if (threads == q->threads) return 0;
  qb_thread_pool* pool = NULL;
  if (threads > 1 && !(pool = qb_thread_pool_create(threads, false, err))) return -1;
  qb_thread_pool_destroy(q->pool);
  q->pool = pool, q->threads = threads;
  /* Repack every int8 GEMM in one column slice per thread. */
  for (size_t k = 0; k < q->nnodes; k++) {
    qb_qlayer* L = &q->layers[k];
    if (!L->packed) continue;
    const size_t groups = L->packed_groups;
    for (size_t g = 0; g < groups; g++) qb_gemm_threaded_free(&L->packed[g]);
    memset(L->packed, 0, groups * sizeof *L->packed);
    if (pack_groups(q, L, err)) return -1;
  }
  return 0;
}

size_t qb_quant_threads(const qb_quant_state* q) { return q->threads; }

const char* qb_quant_backend_name(const qb_quant_state* q) { return qb_backend_name(q->backend); }

bool qb_quant_calibrated(const qb_quant_state* q) { return q->calibrated; }

/* A node's kernel in the last planned run (see qb_qnode_run). */
static const char* node_kernel(const qb_quant_state* q, size_t k) {
  const qb_qnode* n = &q->nodes[k];
  switch (q->run[k]) {
    case QB_QNODE_FOLDED: return "folded";
    case QB_QNODE_FLOAT:
      for (int i = 0; i < n->nin; i++)
        if (n->in[i] >= 0 && q->value_int[n->in[i]]) return "fp32-islanded";
      return "fp32";
    default: return qb_qops_kernel(q->run[k]);
  }
}

void qb_quant_layer(const qb_quant_state* q, size_t node, qb_quant_layer_info* info) {
  memset(info, 0, sizeof *info);
  info->kernel = "fp32";
  if (node >= q->nnodes) return;
  const qb_qlayer* L = &q->layers[node];
  info->name = L->name;
  info->last_node = node;
  if (L->kind == QB_QLAYER_NONE) {
    info->kernel = node_kernel(q, node);
    const int out = q->nodes[node].out;
    if (q->run[node] >= QB_QNODE_PASS && (info->has_out_qparams = q->act_has[out])) {
      info->out_scale = q->act_qp[out].scale;
      info->out_zero_point = q->act_qp[out].zero_point;
    }
    return;
  }
  info->last_node = L->last_node;
  info->kernel = L->kernel;
  /* A static int8 layer without integer constants (its input or output has no
   * qparams) runs the simulated layer: say so rather than name the kernel. */
  if (L->path == QB_QPATH_Q8 && q->cfg.workflow == QB_WORKFLOW_STATIC && q->run[node] != QB_QNODE_LAYER_Q8)
    info->kernel = "fp32-simulated";
  info->quantized = L->kind != QB_QLAYER_NONE;
  if (!info->quantized) return;
  info->weight_numel = L->N * L->K;
  /* Integer weights at their bit width, plus a scale, zero point and int32 bias per unit / channel. */
  const size_t bits = (size_t)q->cfg.weight.scheme.bits;
  info->weight_bytes = (L->N * L->K * bits + 7) / 8 + L->wq.layout.nunits * 8 + L->N * 4;
  if ((info->has_in_qparams = q->act_has[L->in_value])) {
    info->in_scale = q->act_qp[L->in_value].scale;
    info->in_zero_point = q->act_qp[L->in_value].zero_point;
  }
  if ((info->has_out_qparams = q->act_has[L->out_value])) {
    info->out_scale = q->act_qp[L->out_value].scale;
    info->out_zero_point = q->act_qp[L->out_value].zero_point;
  }
  if ((info->has_int32_bias = L->bias_q != NULL))
    for (size_t n = 0; n < L->N; n++)
      info->bias_saturated += L->bias_q[n] == INT32_MAX || L->bias_q[n] == INT32_MIN;
}
