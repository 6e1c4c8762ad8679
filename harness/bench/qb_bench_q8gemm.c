/* The qs8 x qs8 -> s32 and qu8 x qu8 -> s32 GEMM entries as benchmark
 * implementations (names gemm/<kernel>/M:/N:/K:/threads:, the shapes of --shapes).
 * These families have no threaded driver (harness/parallel covers the u8 x s8 one),
 * so the bench splits columns itself, as that driver does for small M: B is packed
 * as T column slices (each a complete packed matrix, its own 64-byte header), and
 * pool thread t runs the entry on all M rows against slice t. Every thread reads
 * only its part of B; A is read by all. Weights are packed once and copied
 * `copies` times (the memory-bound rule of qb_bench_gemm.h). */
#include <stdlib.h>

#include "qb_bench_gemm.h"
#include "qb_thread_pool.h"

typedef enum { Q8_SS, Q8_UU } q8_kind; /* qs8 x qs8, qu8 x qu8 */

typedef struct {
  q8_kind kind;
  const void* entry;
  const qb_gemm_info* info;
  qb_thread_pool* pool;
  size_t M, N, K, slices, copies, copy;
  void** packed; /* copies x slices buffers */
  uint8_t* A;    /* bytes of A, read as int8 or uint8 */
  int32_t* C;
} q8_state;

static const qb_gemm_info* info_of(const qb_bench_impl* impl) {
  return (const qb_gemm_info*)impl->entry; /* info is the first member of both entry types */
}

static size_t q8_weight_bytes(const qb_bench_impl* impl, size_t N, size_t K) {
  return info_of(impl)->packed_size(N, K);
}

static void q8_destroy(void* p) {
  q8_state* s = p;
  if (!s) return;
  for (size_t i = 0; s->packed && i < s->copies * s->slices; i++) free(s->packed[i]);
  free(s->packed), free(s->A), free(s->C);
  qb_thread_pool_destroy(s->pool);
  free(s);
}

/* Columns [n0, n1) of slice t: whole NR panels, the last slice takes the rest. */
static void slice_cols(const q8_state* s, size_t t, size_t* n0, size_t* n1) {
  const size_t nr = s->info->nr, panels = (s->N + nr - 1) / nr;
  *n0 = t * panels / s->slices * nr;
  *n1 = t + 1 == s->slices ? s->N : (t + 1) * panels / s->slices * nr;
}

static void pack_slice(const q8_state* s, size_t t, const uint8_t* B, const int32_t* zb,
                       void* out) {
  size_t n0, n1;
  slice_cols(s, t, &n0, &n1);
  if (s->kind == Q8_SS)
    ((const qb_qs8_qs8_qs32_gemm_entry*)s->entry)
        ->pack(n1 - n0, s->K, (const int8_t*)B + n0 * s->K, s->K, zb + n0, 0, out);
  else
    ((const qb_qu8_qu8_qs32_gemm_entry*)s->entry)
        ->pack(n1 - n0, s->K, B + n0 * s->K, s->K, zb + n0, 128, out);
}

static int pack_all(q8_state* s, const uint8_t* B, const int32_t* zb, size_t copies,
                    qb_error* err) {
  s->packed = calloc(copies * s->slices, sizeof *s->packed);
  if (!s->packed) return qb_fail(err, "out of memory");
  s->copies = copies;
  for (size_t c = 0; c < copies; c++)
    for (size_t t = 0; t < s->slices; t++) {
      size_t n0, n1;
      slice_cols(s, t, &n0, &n1);
      const size_t bytes = (s->info->packed_size(n1 - n0, s->K) + 63) / 64 * 64;
      void* buf = aligned_alloc(64, bytes);
      if (!buf) return qb_fail(err, "cannot allocate %zu bytes of weights", bytes);
      s->packed[c * s->slices + t] = buf;
      pack_slice(s, t, B, zb, buf);
    }
  return 0;
}

static void* q8_create(q8_kind kind, const qb_bench_impl* impl, const qb_bench_shape* sh,
                       int threads, size_t copies, qb_error* err) {
  q8_state* s = calloc(1, sizeof *s);
  uint8_t* B = malloc(sh->N * sh->K);
  int32_t* zb = malloc(sh->N * sizeof *zb);
  if (!s || !B || !zb) goto oom;
  *s = (q8_state){.kind = kind, .entry = impl->entry, .info = info_of(impl), .M = sh->M, .N = sh->N, .K = sh->K};
  const size_t panels = (sh->N + s->info->nr - 1) / s->info->nr;
  s->slices = (size_t)threads < panels ? (size_t)threads : panels;
  s->A = malloc(sh->M * sh->K);
  s->C = malloc(sh->M * sh->N * sizeof *s->C);
  if (!s->A || !s->C) goto oom;
  uint32_t x = 4242u; /* fixed pseudo-random data, away from all-zero */
  for (size_t i = 0; i < sh->M * sh->K; i++) s->A[i] = (uint8_t)((x = x * 1664525u + 1013904223u) >> 24);
  for (size_t i = 0; i < sh->N * sh->K; i++) B[i] = (uint8_t)((x = x * 1664525u + 1013904223u) >> 24);
  for (size_t n = 0; n < sh->N; n++) zb[n] = s->kind == Q8_SS ? (int32_t)(n % 7) - 3 : 125 + (int32_t)(n % 7);
  if (!(s->pool = qb_thread_pool_create((size_t)threads, true, err))) goto fail;
  if (pack_all(s, B, zb, copies, err)) goto fail;
  free(B), free(zb);
  return s;
oom:
  qb_fail(err, "out of memory for M=%zu N=%zu K=%zu", sh->M, sh->N, sh->K);
fail:
  free(B), free(zb);
  q8_destroy(s);
  return NULL;
}

static void* ss_create(const qb_bench_impl* impl, const qb_bench_shape* sh, int threads,
                       size_t copies, qb_error* err) {
  return q8_create(Q8_SS, impl, sh, threads, copies, err);
}

static void* uu_create(const qb_bench_impl* impl, const qb_bench_shape* sh, int threads,
                       size_t copies, qb_error* err) {
  return q8_create(Q8_UU, impl, sh, threads, copies, err);
}

static void q8_task(void* ctx, size_t t, size_t thread) {
  (void)thread;
  const q8_state* s = ctx;
  size_t n0, n1;
  slice_cols(s, t, &n0, &n1);
  const void* packed = s->packed[s->copy * s->slices + t];
  if (s->kind == Q8_SS)
    ((const qb_qs8_qs8_qs32_gemm_entry*)s->entry)
        ->run(s->M, n1 - n0, s->K, (const int8_t*)s->A, s->K, 0, packed, s->C + n0, s->N);
  else
    ((const qb_qu8_qu8_qs32_gemm_entry*)s->entry)
        ->run(s->M, n1 - n0, s->K, s->A, s->K, 128, packed, s->C + n0, s->N);
}

static void q8_run(void* p, size_t copy) {
  q8_state* s = p;
  s->copy = copy;
  qb_thread_pool_run(s->pool, s->slices, q8_task, s);
}

static qb_bench_impl impl_of(const qb_gemm_info* info, const void* entry,
                             void* (*create)(const qb_bench_impl*, const qb_bench_shape*, int,
                                             size_t, qb_error*)) {
  return (qb_bench_impl){.name = info->name,
                         .backend = qb_backend_name(info->backend),
                         .entry = entry,
                         .kernel_backend = (int)info->backend,
                         .weight_bytes = q8_weight_bytes,
                         .create = create,
                         .run = q8_run,
                         .destroy = q8_destroy};
}

size_t qb_bench_q8gemm(qb_bench_impl* out, size_t max) {
  size_t nss, nuu, n = 0;
  const qb_qs8_qs8_qs32_gemm_entry* ss = qb_qs8_qs8_qs32_gemm_entries(&nss);
  const qb_qu8_qu8_qs32_gemm_entry* uu = qb_qu8_qu8_qs32_gemm_entries(&nuu);
  for (size_t i = 0; i < nss && n < max; i++) out[n++] = impl_of(&ss[i].info, &ss[i], ss_create);
  for (size_t i = 0; i < nuu && n < max; i++) out[n++] = impl_of(&uu[i].info, &uu[i], uu_create);
  return n;
}
