/* Reference "weight_read": reads the N x K int8 weight bytes of a GEMV shape once per
 * call (rotating the same number of copies as the GEMMs, so from DRAM when they do)
 * and nothing else, on T pool threads, each a contiguous slice. Its OPS counter,
 * 2 * N * K per call, is then the GOPS an int8 GEMV would reach if it ran at this
 * run's read speed: the memory ceiling measured beside the kernels, in the same
 * minutes. (The roofline's read_dram was measured once and cached; on a shared
 * machine the DRAM bandwidth moves 10-30 % between minutes.) The sum is kept so the
 * reads cannot be dropped. */
#include <stdlib.h>
#include <string.h>

#include "qb_peers.h"
#include "qb_thread_pool.h"

typedef struct {
  size_t bytes, copies, copy, threads;
  unsigned char** buf;
  qb_thread_pool* pool;
  uint64_t sum[64];
} read_state;

static size_t read_weight_bytes(const qb_bench_impl* impl, size_t N, size_t K) {
  (void)impl;
  return N * K;
}

static void read_destroy(void* p) {
  read_state* s = p;
  if (!s) return;
  qb_thread_pool_destroy(s->pool);
  if (s->buf)
    for (size_t i = 0; i < s->copies; i++) free(s->buf[i]);
  free(s->buf);
  free(s);
}

static void* read_create(const qb_bench_impl* impl, const qb_bench_shape* sh, int threads,
                         size_t copies, qb_error* err) {
  (void)impl;
  read_state* s = calloc(1, sizeof *s);
  if (!s) goto oom;
  s->bytes = sh->N * sh->K / 64 * 64; /* whole lines; the rest is < 64 bytes */
  s->threads = threads < 1 ? 1 : threads > 64 ? 64 : (size_t)threads;
  if (!(s->pool = qb_thread_pool_create(s->threads, true, err))) goto fail;
  if (!(s->buf = calloc(copies, sizeof *s->buf))) goto oom;
  for (; s->copies < copies; s->copies++) {
    if (!(s->buf[s->copies] = aligned_alloc(64, s->bytes ? s->bytes : 64))) goto oom;
    memset(s->buf[s->copies], (int)s->copies + 1, s->bytes);
  }
  return s;
oom:
  qb_fail(err, "weight_read: out of memory for N=%zu K=%zu", sh->N, sh->K);
fail:
  read_destroy(s);
  return NULL;
}

/* 16-byte vectors (GCC's vector extension: SSE2 / NEON loads) and a prefetch 4 KiB
 * ahead per 64-byte line, as the GEMV kernels prefetch: a plain loop of 8-byte loads
 * read 0.6-0.75x the kernels' bytes/s from DRAM (Zen 1). */
typedef uint64_t qb_u64x2 __attribute__((vector_size(16)));

static void read_task(void* ctx, size_t t, size_t thread) {
  (void)thread;
  read_state* s = ctx;
  const size_t lines = s->bytes / 64, l0 = lines * t / s->threads, l1 = lines * (t + 1) / s->threads;
  const qb_u64x2* p = (const qb_u64x2*)(const void*)s->buf[s->copy];
  qb_u64x2 a = {0, 0}, b = a, c = a, d = a;
  for (size_t i = 4 * l0; i < 4 * l1; i += 4) {
    __builtin_prefetch(p + i + 256);
    a += p[i], b += p[i + 1], c += p[i + 2], d += p[i + 3];
  }
  a ^= b ^ c ^ d;
  s->sum[t] += a[0] + a[1];
}

static void read_run(void* p, size_t copy) {
  read_state* s = p;
  s->copy = copy;
  qb_thread_pool_run(s->pool, s->threads, read_task, s);
}

const qb_bench_impl qb_peer_read = {.name = "weight_read",
                                    .backend = "",
                                    .kernel_backend = -1,
                                    .gemv_only = true,
                                    .weight_bytes = read_weight_bytes,
                                    .create = read_create,
                                    .run = read_run,
                                    .destroy = read_destroy};
