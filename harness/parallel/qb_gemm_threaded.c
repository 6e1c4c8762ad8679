/* Threaded int8 GEMM driver. See qb_gemm_threaded.h for the split and why the
 * weights are packed per column slice. */
#include "qb_gemm_threaded.h"

#include <stdlib.h>
#include <string.h>

static size_t div_up(size_t a, size_t b) { return (a + b - 1) / b; }

int qb_gemm_threaded_pack(const qb_qu8_qs8_qs32_gemm_entry* entry, size_t N, size_t K,
                          const int8_t* B, size_t ldb, const int32_t* b_zero_point,
                          int32_t a_zero_point, size_t slices, qb_gemm_threaded_weights* w,
                          qb_error* err) {
  memset(w, 0, sizeof *w);
  if (!entry || N == 0 || K == 0 || slices == 0)
    return qb_fail(err, "threaded GEMM pack: need an entry, N > 0, K > 0 and slices > 0");
  const size_t nr = entry->info.nr, panels = div_up(N, nr);
  if (slices > panels) slices = panels;
  w->slice = calloc(slices, sizeof *w->slice);
  if (!w->slice) return qb_fail(err, "threaded GEMM pack: out of memory");
  w->entry = entry;
  w->N = N;
  w->K = K;
  w->slices = slices;
  for (size_t s = 0; s < slices; s++) {
    /* Panels [s*panels/slices, (s+1)*panels/slices): as even as NR allows. */
    const size_t p0 = s * panels / slices, p1 = (s + 1) * panels / slices;
    qb_gemm_slice* sl = &w->slice[s];
    sl->n0 = p0 * nr;
    sl->n = (p1 * nr < N ? p1 * nr : N) - sl->n0;
    const size_t bytes = entry->info.packed_size(sl->n, K);
    sl->packed = aligned_alloc(64, div_up(bytes, 64) * 64);
    if (!sl->packed) {
      qb_gemm_threaded_free(w);
      return qb_fail(err, "threaded GEMM pack: cannot allocate %zu bytes", bytes);
    }
    entry->pack(sl->n, K, B + sl->n0 * ldb, ldb, b_zero_point + sl->n0, a_zero_point,
                sl->packed);
    w->packed_bytes += bytes;
  }
  return 0;
}

void qb_gemm_threaded_free(qb_gemm_threaded_weights* w) {
  if (w->slice)
    for (size_t s = 0; s < w->slices; s++) free(w->slice[s].packed);
  free(w->slice);
  memset(w, 0, sizeof *w);
}

typedef struct {
  const qb_gemm_threaded_weights* w;
  size_t M, lda, ldc, tasks;
  const uint8_t* A;
  int32_t za;
  int32_t* C;
} gemm_job;

/* Row split: task t runs row blocks [t*nb/T, (t+1)*nb/T) against every slice. */
static void run_rows(void* ctx, size_t task, size_t thread) {
  (void)thread;
  const gemm_job* j = ctx;
  const qb_qu8_qs8_qs32_gemm_entry* e = j->w->entry;
  const size_t mr = e->info.mr, nb = div_up(j->M, mr);
  const size_t m0 = task * nb / j->tasks * mr;
  size_t m1 = (task + 1) * nb / j->tasks * mr;
  if (m1 > j->M) m1 = j->M;
  if (m0 >= m1) return;
  for (size_t s = 0; s < j->w->slices; s++) {
    const qb_gemm_slice* sl = &j->w->slice[s];
    e->run(m1 - m0, sl->n, j->w->K, j->A + m0 * j->lda, j->lda, j->za, sl->packed,
           j->C + m0 * j->ldc + sl->n0, j->ldc);
  }
}

/* Column split: task t runs slices [t*S/T, (t+1)*S/T) for all rows. */
static void run_cols(void* ctx, size_t task, size_t thread) {
  (void)thread;
  const gemm_job* j = ctx;
  const qb_qu8_qs8_qs32_gemm_entry* e = j->w->entry;
  const size_t s0 = task * j->w->slices / j->tasks, s1 = (task + 1) * j->w->slices / j->tasks;
  for (size_t s = s0; s < s1; s++) {
    const qb_gemm_slice* sl = &j->w->slice[s];
    e->run(j->M, sl->n, j->w->K, j->A, j->lda, j->za, sl->packed, j->C + sl->n0, j->ldc);
  }
}

void qb_gemm_threaded_run(const qb_gemm_threaded_weights* w, qb_thread_pool* pool, size_t M,
                          const uint8_t* A, size_t lda, int32_t a_zero_point, int32_t* C,
                          size_t ldc) {
  if (M == 0 || w->slices == 0) return;
  const size_t T = pool ? qb_thread_pool_threads(pool) : 1;
  gemm_job j = {.w = w, .M = M, .lda = lda, .ldc = ldc, .tasks = T, .A = A,
                .za = a_zero_point, .C = C};
  const bool split_rows = M >= T * w->entry->info.mr || w->slices < T;
  if (T == 1) {
    run_rows(&j, 0, 0);
  } else if (split_rows) {
    qb_thread_pool_run(pool, T, run_rows, &j);
  } else {
    qb_thread_pool_run(pool, T, run_cols, &j);
  }
}

/* ------------------------------------------------ fused epilogue (see the header) */

static size_t block_rows(const qb_gemm_threaded_weights* w) {
  const size_t mr = w->entry->info.mr;
  return div_up(QB_GEMM_EPILOGUE_ROWS, mr) * mr;
}

size_t qb_gemm_threaded_block_elems(const qb_gemm_threaded_weights* w) {
  size_t widest = 0;
  for (size_t s = 0; s < w->slices; s++)
    if (w->slice[s].n > widest) widest = w->slice[s].n;
  return block_rows(w) * widest;
}

typedef struct {
  const qb_gemm_threaded_weights* w;
  size_t M, lda, tasks;
  const uint8_t* A;
  int32_t za;
  const qb_gemm_epilogue* ep;
} fused_job;

/* Rows [m0, m1) x slices [s0, s1), block by block, on thread `thread`'s scratch. */
static void fused_range(const fused_job* j, size_t thread, size_t m0, size_t m1, size_t s0,
                        size_t s1) {
  const qb_qu8_qs8_qs32_gemm_entry* e = j->w->entry;
  int32_t* acc = j->ep->acc + thread * j->ep->acc_stride;
  const size_t rows = block_rows(j->w);
  for (size_t r0 = m0; r0 < m1; r0 += rows) {
    const size_t m = m1 - r0 < rows ? m1 - r0 : rows;
    for (size_t s = s0; s < s1; s++) {
      const qb_gemm_slice* sl = &j->w->slice[s];
      e->run(m, sl->n, j->w->K, j->A + r0 * j->lda, j->lda, j->za, sl->packed, acc, sl->n);
      j->ep->fn(j->ep->ctx, thread, r0, m, sl->n0, sl->n, acc, sl->n);
    }
  }
}

static void fused_rows(void* ctx, size_t task, size_t thread) {
  const fused_job* j = ctx;
  const size_t mr = j->w->entry->info.mr, nb = div_up(j->M, mr);
  const size_t m0 = task * nb / j->tasks * mr;
  size_t m1 = (task + 1) * nb / j->tasks * mr;
  if (m1 > j->M) m1 = j->M;
  if (m0 < m1) fused_range(j, thread, m0, m1, 0, j->w->slices);
}

static void fused_cols(void* ctx, size_t task, size_t thread) {
  const fused_job* j = ctx;
  const size_t s0 = task * j->w->slices / j->tasks, s1 = (task + 1) * j->w->slices / j->tasks;
  fused_range(j, thread, 0, j->M, s0, s1);
}

void qb_gemm_threaded_run_fused(const qb_gemm_threaded_weights* w, qb_thread_pool* pool, size_t M,
                                const uint8_t* A, size_t lda, int32_t a_zero_point,
                                const qb_gemm_epilogue* ep) {
  if (M == 0 || w->slices == 0) return;
  const size_t T = pool ? qb_thread_pool_threads(pool) : 1;
  fused_job j = {.w = w, .M = M, .lda = lda, .tasks = T, .A = A, .za = a_zero_point, .ep = ep};
  if (T == 1) fused_rows(&j, 0, 0);
  else if (M >= T * w->entry->info.mr || w->slices < T) qb_thread_pool_run(pool, T, fused_rows, &j);
  else qb_thread_pool_run(pool, T, fused_cols, &j);
}
