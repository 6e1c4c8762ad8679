/* Our int8 GEMM entries as benchmark implementations: weights packed once per
 * column slice (qb_gemm_threaded_pack, one slice per thread) and copied `copies`
 * times, run by the threaded driver on a pool bound one thread per core. */
#include <stdlib.h>
#include <string.h>

#include "qb_bench_ours.h"

typedef qb_bench_ours_state ours_state;

static const qb_qu8_qs8_qs32_gemm_entry* entry_of(const qb_bench_impl* impl) {
  return (const qb_qu8_qs8_qs32_gemm_entry*)impl->entry;
}

static size_t ours_weight_bytes(const qb_bench_impl* impl, size_t N, size_t K) {
  return entry_of(impl)->info.packed_size(N, K);
}

void qb_bench_ours_destroy(void* p) {
  ours_state* s = p;
  if (!s) return;
  if (s->w)
    for (size_t i = 0; i < s->copies; i++) qb_gemm_threaded_free(&s->w[i]);
  free(s->w);
  free(s->A);
  free(s->C);
  qb_thread_pool_destroy(s->pool);
  free(s);
}

/* A copy of packed weights: same slices, bytes copied (the layout has no pointers). */
static int copy_weights(const qb_gemm_threaded_weights* from, qb_gemm_threaded_weights* to,
                        qb_error* err) {
  *to = *from;
  to->slice = calloc(from->slices, sizeof *to->slice);
  if (!to->slice) return qb_fail(err, "out of memory");
  for (size_t s = 0; s < from->slices; s++) {
    const size_t bytes = from->entry->info.packed_size(from->slice[s].n, from->K);
    to->slice[s] = from->slice[s];
    to->slice[s].packed = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!to->slice[s].packed) {
      to->slices = s;
      return qb_fail(err, "cannot allocate %zu bytes of weights", bytes);
    }
    memcpy(to->slice[s].packed, from->slice[s].packed, bytes);
  }
  return 0;
}

void* qb_bench_ours_create(const qb_bench_impl* impl, const qb_bench_shape* sh, int threads,
                           size_t copies, qb_error* err) {
  const size_t M = sh->M, N = sh->N, K = sh->K;
  ours_state* s = calloc(1, sizeof *s);
  int8_t* B = malloc(N * K);
  int32_t* zb = malloc(N * sizeof *zb);
  if (!s || !B || !zb) goto oom;
  s->M = M, s->N = N, s->K = K;
  s->A = malloc(M * K);
  s->C = malloc(M * N * sizeof *s->C);
  s->w = calloc(copies, sizeof *s->w);
  if (!s->A || !s->C || !s->w) goto oom;
  /* Fixed pseudo-random data: timing does not depend on values, but keep them
   * away from all-zero so nothing can be skipped. */
  uint32_t x = 12345u;
  for (size_t i = 0; i < M * K; i++) s->A[i] = (uint8_t)((x = x * 1664525u + 1013904223u) >> 24);
  for (size_t i = 0; i < N * K; i++) B[i] = (int8_t)((x = x * 1664525u + 1013904223u) >> 24);
  for (size_t n = 0; n < N; n++) zb[n] = (int32_t)(n % 7) - 3;
  s->pool = qb_thread_pool_create((size_t)threads, true, err);
  if (!s->pool) goto fail;
  if (qb_gemm_threaded_pack(entry_of(impl), N, K, B, K, zb, 128, (size_t)threads, &s->w[0], err))
    goto fail;
  s->copies = 1;
  for (size_t i = 1; i < copies; i++, s->copies++)
    if (copy_weights(&s->w[0], &s->w[i], err) != 0) {
      s->copies++; /* free the partial copy too */
      goto fail;
    }
  free(B);
  free(zb);
  return s;
oom:
  qb_fail(err, "out of memory for M=%zu N=%zu K=%zu", M, N, K);
fail:
  free(B);
  free(zb);
  qb_bench_ours_destroy(s);
  return NULL;
}

static void ours_run(void* p, size_t copy) {
  ours_state* s = p;
  qb_gemm_threaded_run(&s->w[copy], s->pool, s->M, s->A, s->K, 128, s->C, s->N);
}

size_t qb_bench_ours(qb_bench_impl* out, size_t max) {
  size_t count, n = 0;
  const qb_qu8_qs8_qs32_gemm_entry* list = qb_qu8_qs8_qs32_gemm_entries(&count);
  for (size_t i = 0; i < count && n < max; i++) {
    out[n++] = (qb_bench_impl){.name = list[i].info.name,
                               .backend = qb_backend_name(list[i].info.backend),
                               .entry = &list[i],
                               .kernel_backend = (int)list[i].info.backend,
                               .weight_bytes = ours_weight_bytes,
                               .create = qb_bench_ours_create,
                               .run = ours_run,
                               .destroy = qb_bench_ours_destroy};
  }
  return n;
}
