/* Gemm / MatMul layers with weights of at most 4 bits on the int4 wgemm families
 * (kernels/qb_kernels.h has the reference semantics):
 *   weight-only  W4A32:  y = sum_g scale[n,g] * sum_{k in g} x[k] * (w[n][k] - zp[n,g])
 *   dynamic      W4A8:   xq, sx = rowquantize(x)  (per row, symmetric int8 -127..127,
 *                        sx = amax / 127, round half to even of x / sx)
 *                        y = sx * sum_g scale[n,g] * (int32) sum_{k in g} xq[k] * (w - zp)
 * then + bias in fp32. The activation grid of W4A8 is the kernel's, not the
 * qconfig's: the simulated layer uses the same per-row rounding
 * (qb_w4a8_fake_quant), so simulated and integer differ only by fp32 summation
 * order.
 *
 * Packing. The [N, K] weight view was quantized by qb_quantize_tensor with any
 * granularity: per tensor and per channel become one group of K per row, per group
 * keeps G. Symmetric weights (every zero point 0, values -8..7) pack as signed
 * nibbles with zero_point = NULL; anything else packs as unsigned nibbles q + off
 * with zero point zp + off, off = 8 for signed storage and 0 for unsigned, which
 * keeps every w - zp (so the dequantized weight) unchanged. A W4A8 entry with its
 * own layout (entry->pack, e.g. interleaved nibble panels) gets that layout built
 * here, once, from the reference one, which is then freed. */
#include <stdlib.h>
#include <string.h>

#include "qb_model_quant_internal.h"

void qb_w4_free(qb_w4_weights* w) {
  free(w->w), free(w->scale), free(w->zero_point), free(w->packed);
  memset(w, 0, sizeof *w);
}

/* Unit (qparams index) of element (n, k) of the [N, K] view. */
static qb_qparams param_at(const qb_qlayer* L, size_t n, size_t k) {
  return L->wq.params[qb_unit_of(&L->wq.layout, n * L->K + k)];
}

/* The reference layout -> repack's own (then the reference arrays are freed). */
static int w4_repack(qb_w4_weights* w, size_t N, size_t K, const qb_qs8_q4_f32_wgemm_entry* repack,
                     qb_error* err) {
  w->packed = malloc(repack->packed_size(N, K, w->group, w->affine));
  if (!w->packed) {
    qb_w4_free(w);
    return qb_fail(err, "out of memory");
  }
  repack->pack(N, K, w->group, w->w, w->scale, w->zero_point, w->packed);
  free(w->w), free(w->scale), free(w->zero_point);
  w->w = NULL, w->scale = NULL, w->zero_point = NULL;
  return 0;
}

int qb_w4_pack(qb_qlayer* L, const qb_qconfig* cfg, const qb_qs8_q4_f32_wgemm_entry* repack,
               qb_error* err) {
  const size_t N = L->N, K = L->K;
  const size_t G = cfg->weight.granularity.kind == QB_PER_GROUP ? cfg->weight.granularity.group_size : K;
  qb_w4_weights* w = &L->w4;
  if (!K || !N || !G) return 1;
  w->group = G, w->ngroups = (K + G - 1) / G;
  const size_t row_bytes = (K + 1) / 2, units = N * w->ngroups;
  bool symmetric = true;
  for (size_t i = 0; i < N * K && symmetric; i++) symmetric = L->wq.q[i] >= -8 && L->wq.q[i] <= 7;
  for (size_t u = 0; u < L->wq.layout.nunits && symmetric; u++)
    symmetric = L->wq.params[u].zero_point == 0;
  const int32_t off = cfg->weight.scheme.is_signed ? 8 : 0;
  w->w = malloc(N * row_bytes);
  w->scale = malloc(units * sizeof *w->scale);
  w->zero_point = symmetric ? NULL : malloc(units);
  w->affine = !symmetric;
  int8_t* row = malloc(K);
  if (!w->w || !w->scale || (!symmetric && !w->zero_point) || !row) {
    free(row);
    qb_w4_free(w);
    return qb_fail(err, "out of memory");
  }
  bool fits = true;
  for (size_t n = 0; n < N && fits; n++) {
    for (size_t g = 0; g < w->ngroups; g++) {
      const qb_qparams p = param_at(L, n, g * G);
      w->scale[n * w->ngroups + g] = p.scale;
      if (!symmetric) {
        fits &= p.zero_point + off >= 0 && p.zero_point + off <= 15;
        w->zero_point[n * w->ngroups + g] = (int8_t)(p.zero_point + off);
      }
    }
    for (size_t k = 0; k < K; k++) {
      const int32_t v = L->wq.q[n * K + k] + (symmetric ? 0 : off);
      fits &= symmetric || (v >= 0 && v <= 15);
      row[k] = (int8_t)v;
    }
    /* Signed and unsigned nibbles pack alike: the low four bits of each value. */
    qb_qs8_q4_pack__scalar(K, row, w->w + n * row_bytes);
  }
  free(row);
  if (!fits) {
    qb_w4_free(w);
    return 1;
  }
  return repack && repack->pack ? w4_repack(w, N, K, repack, err) : 0;
}

int qb_w4a8_fake_quant(qb_quant_state* q, const float* x, size_t M, size_t K, float* y,
                       qb_error* err) {
  int8_t* xq = qb_quant_scratch(q, QB_SCR_XQ, M * K, err);
  float* sx = qb_quant_scratch(q, QB_SCR_F32, M * sizeof *sx, err);
  if (!xq || !sx) return -1;
  qb_f32_qs8_rowquantize__scalar(M, K, x, K, xq, sx);
  for (size_t m = 0; m < M; m++)
    for (size_t k = 0; k < K; k++) y[m * K + k] = (float)xq[m * K + k] * sx[m];
  return 0;
}

/* One thread's columns [n0, n1) of y: output channels are independent in both
 * kernels, so the split changes no bit. Packed weights split at multiples of the
 * entry's nr (a slice starts at byte packed_size(n0, K, G, affine)). */
typedef struct {
  const qb_quant_state* q;
  const qb_qlayer* L;
  const float* x;
  const int8_t* xq;
  const float* sx;
  size_t M, tasks;
  float* y;
} w4_job;

static void w4_columns(void* ctx, size_t task, size_t thread) {
  (void)thread;
  const w4_job* j = ctx;
  const qb_qlayer* L = j->L;
  const qb_w4_weights* w = &L->w4;
  const size_t N = L->N, K = L->K;
  const qb_qs8_q4_f32_wgemm_entry* a8 = j->q->table->qs8_q4_f32_wgemm;
  if (w->packed) {
    const size_t blocks = (N + a8->nr - 1) / a8->nr, end = (task + 1) * blocks / j->tasks * a8->nr;
    const size_t n0 = task * blocks / j->tasks * a8->nr, n1 = end < N ? end : N;
    if (n1 > n0)
      a8->run_packed(j->M, n1 - n0, K, w->group, w->affine, j->xq, j->sx,
                     (const uint8_t*)w->packed + a8->packed_size(n0, K, w->group, w->affine),
                     j->y + n0, N);
    return;
  }
  const size_t n0 = task * N / j->tasks, n1 = (task + 1) * N / j->tasks;
  if (n1 == n0) return;
  const uint8_t* wn = w->w + n0 * ((K + 1) / 2);
  const float* sn = w->scale + n0 * w->ngroups;
  const int8_t* zn = w->zero_point ? w->zero_point + n0 * w->ngroups : NULL;
  if (L->path == QB_QPATH_W4A32)
    j->q->table->f32_q4_f32_wgemm->wgemm(j->M, n1 - n0, K, w->group, j->x, K, wn, sn, zn, j->y + n0, N);
  else
    j->q->table->qs8_q4_f32_wgemm->wgemm(j->M, n1 - n0, K, w->group, j->xq, j->sx, wn, sn, zn,
                                         j->y + n0, N);
}

int qb_w4_run(qb_quant_state* q, const qb_qlayer* L, const float* x, size_t M, float* y,
              qb_error* err) {
  const size_t N = L->N, K = L->K;
  w4_job j = {q, L, x, NULL, NULL, M, q->pool ? q->threads : 1, y};
  if (L->path == QB_QPATH_W4A8) {
    int8_t* xq = qb_quant_scratch(q, QB_SCR_XQ, M * K, err);
    float* sx = qb_quant_scratch(q, QB_SCR_F32, M * sizeof *sx, err);
    if (!xq || !sx) return -1;
    q->table->qs8_q4_f32_wgemm->rowquantize(M, K, x, K, xq, sx);
    j.xq = xq, j.sx = sx;
  }
  if (q->pool) qb_thread_pool_run(q->pool, j.tasks, w4_columns, &j);
  else w4_columns(&j, 0, 0);
  if (L->bias)
    for (size_t m = 0; m < M; m++)
      for (size_t n = 0; n < N; n++) y[m * N + n] += L->bias[n];
  return 0;
}
