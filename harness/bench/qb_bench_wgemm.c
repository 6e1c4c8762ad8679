/* int4 weight-only GEMM entries (W4A8 and W4A32) as benchmark implementations.
 * Most kernels read the reference's packed layout (N rows of ceil(K/2) bytes), so a
 * column slice [n0, n1) is just an offset into the weights, the scales and the
 * output; W4A8 entries with their own layout (entry->pack) get each weight copy
 * packed once at setup, as the model runtime does at prepare, and a slice starts at
 * byte packed_size(n0, K, G, affine) (n0 a multiple of 16, itself a multiple of the
 * entry's nr). Threads split N in multiples of 16 columns, each running the entry on
 * its slice (every output is computed by one call, whatever T is).
 * W4A8 quantizes the rows of A once per call on the calling thread first (that
 * cost is part of the measured call, as in a real dynamic-quantization layer). */
#include <stdlib.h>
#include <string.h>

#include "qb_bench_gemm.h"
#include "qb_thread_pool.h"

typedef struct {
  const qb_bench_impl* impl;
  bool w4a8;
  qb_thread_pool* pool;
  size_t M, N, K, G, row_bytes, ngroups, copies, threads;
  float *x, *y, *sx;
  int8_t* xq;
  uint8_t** w;   /* copies */
  float** scale; /* copies */
  size_t copy;   /* the copy the current call reads */
} wgemm_state;

/* The packing entry of a W4A8 impl, else NULL. */
static const qb_qs8_q4_f32_wgemm_entry* packing_entry(const qb_bench_impl* impl) {
  const qb_qs8_q4_f32_wgemm_entry* e = impl->fp32 ? NULL : impl->entry;
  return e && e->pack ? e : NULL;
}

static size_t wgemm_weight_bytes(const qb_bench_impl* impl, size_t N, size_t K) {
  const qb_qs8_q4_f32_wgemm_entry* e = packing_entry(impl);
  if (e) return e->packed_size(N, K, QB_BENCH_WGEMM_GROUP, false);
  const size_t groups = (K + QB_BENCH_WGEMM_GROUP - 1) / QB_BENCH_WGEMM_GROUP;
  return N * ((K + 1) / 2) + N * groups * sizeof(float);
}

static void wgemm_destroy(void* p) {
  wgemm_state* s = p;
  if (!s) return;
  for (size_t i = 0; i < s->copies; i++) {
    if (s->w) free(s->w[i]);
    if (s->scale) free(s->scale[i]);
  }
  free(s->w), free(s->scale), free(s->x), free(s->y), free(s->sx), free(s->xq);
  qb_thread_pool_destroy(s->pool);
  free(s);
}

static void* wgemm_create(const qb_bench_impl* impl, const qb_bench_shape* sh, int threads,
                          size_t copies, qb_error* err) {
  wgemm_state* s = calloc(1, sizeof *s);
  if (!s) goto oom;
  s->impl = impl;
  s->w4a8 = impl->fp32 == false;
  s->M = sh->M, s->N = sh->N, s->K = sh->K, s->G = QB_BENCH_WGEMM_GROUP;
  s->row_bytes = (sh->K + 1) / 2;
  s->ngroups = (sh->K + s->G - 1) / s->G;
  s->threads = (size_t)threads;
  s->x = malloc(sh->M * sh->K * sizeof(float));
  s->y = malloc(sh->M * sh->N * sizeof(float));
  s->sx = malloc(sh->M * sizeof(float));
  s->xq = malloc(sh->M * sh->K);
  s->w = calloc(copies, sizeof *s->w);
  s->scale = calloc(copies, sizeof *s->scale);
  if (!s->x || !s->y || !s->sx || !s->xq || !s->w || !s->scale) goto oom;
  uint32_t r = 99u;
  for (size_t i = 0; i < sh->M * sh->K; i++)
    s->x[i] = (float)((r = r * 1664525u + 1013904223u) >> 24) / 128.0f - 1.0f;
  for (; s->copies < copies; s->copies++) {
    uint8_t* w = malloc(sh->N * s->row_bytes);
    float* sc = malloc(sh->N * s->ngroups * sizeof(float));
    s->w[s->copies] = w;
    s->scale[s->copies] = sc;
    if (!w || !sc) {
      s->copies++;
      goto oom;
    }
    for (size_t i = 0; i < sh->N * s->row_bytes; i++)
      w[i] = (uint8_t)((r = r * 1664525u + 1013904223u) >> 24);
    for (size_t i = 0; i < sh->N * s->ngroups; i++)
      sc[i] = 0.01f + (float)((r = r * 1664525u + 1013904223u) >> 28) * 0.001f;
    const qb_qs8_q4_f32_wgemm_entry* e = packing_entry(impl);
    if (e) { /* the copy becomes the entry's packed weights (scales inside) */
      uint8_t* packed = malloc(e->packed_size(sh->N, sh->K, s->G, false));
      if (!packed) {
        s->copies++;
        goto oom;
      }
      e->pack(sh->N, sh->K, s->G, w, sc, NULL, packed);
      free(w);
      s->w[s->copies] = packed;
    }
  }
  s->pool = qb_thread_pool_create(s->threads, true, err);
  if (!s->pool) {
    wgemm_destroy(s);
    return NULL;
  }
  return s;
oom:
  wgemm_destroy(s);
  qb_fail(err, "int4 GEMM: out of memory for M=%zu N=%zu K=%zu", sh->M, sh->N, sh->K);
  return NULL;
}

/* Task t: columns [t*P/T, (t+1)*P/T) * 16 of P = ceil(N/16) blocks. */
static void wgemm_task(void* ctx, size_t task, size_t thread) {
  (void)thread;
  const wgemm_state* s = ctx;
  const size_t blocks = (s->N + 15) / 16;
  const size_t n0 = task * blocks / s->threads * 16;
  size_t n1 = (task + 1) * blocks / s->threads * 16;
  if (n1 > s->N) n1 = s->N;
  if (n0 >= n1) return;
  const uint8_t* w = s->w[s->copy] + n0 * s->row_bytes;
  const float* sc = s->scale[s->copy] + n0 * s->ngroups;
  const qb_qs8_q4_f32_wgemm_entry* packing = packing_entry(s->impl);
  if (packing) {
    packing->run_packed(s->M, n1 - n0, s->K, s->G, false, s->xq, s->sx,
                        s->w[s->copy] + packing->packed_size(n0, s->K, s->G, false), s->y + n0, s->N);
  } else if (s->w4a8) {
    const qb_qs8_q4_f32_wgemm_entry* e = s->impl->entry;
    e->wgemm(s->M, n1 - n0, s->K, s->G, s->xq, s->sx, w, sc, NULL, s->y + n0, s->N);
  } else {
    const qb_f32_q4_f32_wgemm_entry* e = s->impl->entry;
    e->wgemm(s->M, n1 - n0, s->K, s->G, s->x, s->K, w, sc, NULL, s->y + n0, s->N);
  }
}

static void wgemm_run(void* p, size_t copy) {
  wgemm_state* s = p;
  s->copy = copy;
  if (s->w4a8) {
    const qb_qs8_q4_f32_wgemm_entry* e = s->impl->entry;
    e->rowquantize(s->M, s->K, s->x, s->K, s->xq, s->sx);
  }
  qb_thread_pool_run(s->pool, s->threads, wgemm_task, s);
}

size_t qb_bench_wgemm(qb_bench_impl* out, size_t max) {
  size_t n = 0, count;
  const qb_qs8_q4_f32_wgemm_entry* a8 = qb_qs8_q4_f32_wgemm_entries(&count);
  for (size_t i = 0; i < count && n < max; i++)
    out[n++] = (qb_bench_impl){.name = a8[i].info.name,
                               .backend = qb_backend_name(a8[i].info.backend),
                               .entry = &a8[i],
                               .kernel_backend = (int)a8[i].info.backend,
                               .weight_bytes = wgemm_weight_bytes,
                               .create = wgemm_create,
                               .run = wgemm_run,
                               .destroy = wgemm_destroy};
  const qb_f32_q4_f32_wgemm_entry* a32 = qb_f32_q4_f32_wgemm_entries(&count);
  for (size_t i = 0; i < count && n < max; i++)
    out[n++] = (qb_bench_impl){.name = a32[i].info.name,
                               .backend = qb_backend_name(a32[i].info.backend),
                               .fp32 = true,
                               .entry = &a32[i],
                               .kernel_backend = (int)a32[i].info.backend,
                               .weight_bytes = wgemm_weight_bytes,
                               .create = wgemm_create,
                               .run = wgemm_run,
                               .destroy = wgemm_destroy};
  return n;
}
