/* Our fp32 GEMM entries as benchmark implementations, next to the OpenBLAS sgemm
 * peer: B stored N x K as the peer's (and as Gemm transB weights are), packed once
 * (and copied `copies` times), run by the threaded driver (qb_f32_gemm_threaded.h)
 * on a pool bound one thread per core. Held to the fp32 FMA ceiling of the entry's
 * backend. */
#include <stdlib.h>
#include <string.h>

#include "qb_bench_gemm.h"
#include "qb_f32_gemm_threaded.h"

typedef struct {
  const qb_f32_gemm_entry* e;
  qb_thread_pool* pool;
  qb_f32_packed_b* w; /* copies */
  size_t copies, M, N, K;
  float *A, *C;
} f32_state;

static size_t f32_weight_bytes(const qb_bench_impl* impl, size_t N, size_t K) {
  return ((const qb_f32_gemm_entry*)impl->entry)->info.packed_size(N, K);
}

static void f32_destroy(void* p) {
  f32_state* s = p;
  if (!s) return;
  for (size_t i = 0; s->w && i < s->copies; i++) qb_f32_packed_b_free(&s->w[i]);
  free(s->w), free(s->A), free(s->C);
  qb_thread_pool_destroy(s->pool);
  free(s);
}

static void* f32_create(const qb_bench_impl* impl, const qb_bench_shape* sh, int threads,
                        size_t copies, qb_error* err) {
  const size_t M = sh->M, N = sh->N, K = sh->K;
  f32_state* s = calloc(1, sizeof *s);
  float* B = malloc(N * K * sizeof *B);
  if (!s || !B) goto oom;
  s->e = impl->entry, s->M = M, s->N = N, s->K = K;
  s->A = malloc(M * K * sizeof *s->A);
  s->C = malloc(M * N * sizeof *s->C);
  s->w = calloc(copies, sizeof *s->w);
  if (!s->A || !s->C || !s->w) goto oom;
  uint32_t x = 777u; /* the OpenBLAS peer's data */
  for (size_t i = 0; i < M * K; i++) s->A[i] = (float)((x = x * 1664525u + 1013904223u) >> 24) / 256.0f;
  for (size_t i = 0; i < N * K; i++)
    B[i] = (float)((x = x * 1664525u + 1013904223u) >> 24) / 128.0f - 1.0f;
  if (!(s->pool = qb_thread_pool_create((size_t)threads, true, err))) goto fail;
  for (; s->copies < copies; s->copies++)
    if (qb_f32_packed_b_make(s->e, N, K, B, 1, K, &s->w[s->copies], err)) goto fail;
  free(B);
  return s;
oom:
  qb_fail(err, "out of memory for M=%zu N=%zu K=%zu", M, N, K);
fail:
  free(B);
  f32_destroy(s);
  return NULL;
}

static void f32_run(void* p, size_t copy) {
  f32_state* s = p;
  qb_f32_gemm_threaded_run(s->e, s->pool, s->M, s->N, s->K, s->A, s->K, s->w[copy].packed, s->C,
                           s->N);
}

size_t qb_bench_f32(qb_bench_impl* out, size_t max) {
  size_t count, n = 0;
  const qb_f32_gemm_entry* list = qb_f32_gemm_entries(&count);
  for (size_t i = 0; i < count && n < max; i++)
    out[n++] = (qb_bench_impl){.name = list[i].info.name,
                               .backend = qb_backend_name(list[i].info.backend),
                               .fp32 = true,
                               .entry = &list[i],
                               .kernel_backend = (int)list[i].info.backend,
                               .weight_bytes = f32_weight_bytes,
                               .create = f32_create,
                               .run = f32_run,
                               .destroy = f32_destroy};
  return n;
}
