/* fp32 GEMM driver: K blocking and the thread split (see qb_f32_gemm_threaded.h). */
#include "qb_f32_gemm_threaded.h"

#include <stdlib.h>
#include <string.h>

#include "f32-gemm/qb_f32_gemm.h"

size_t qb_f32_gemm_scratch_floats(const qb_f32_gemm_entry* e, size_t N, size_t K) {
  return (qb_f32_gemm_packed_floats(e->info.nr, N, K) + 15) / 16 * 16;
}

int qb_f32_packed_b_make(const qb_f32_gemm_entry* e, size_t N, size_t K, const float* B,
                         size_t sb_k, size_t sb_j, qb_f32_packed_b* out, qb_error* err) {
  const size_t floats = qb_f32_gemm_scratch_floats(e, N, K);
  *out = (qb_f32_packed_b){e, N, K, aligned_alloc(64, (floats ? floats : 16) * sizeof(float))};
  if (!out->packed)
    return qb_fail(err, "out of memory packing %zu x %zu fp32 weights", K, N);
  qb_f32_gemm_pack(e->info.nr, N, K, B, sb_k, sb_j, 0, (N + e->info.nr - 1) / e->info.nr,
                   out->packed);
  return 0;
}

void qb_f32_packed_b_free(qb_f32_packed_b* b) {
  free(b->packed);
  b->packed = NULL;
}

size_t qb_f32_gemm_threads_for(const qb_thread_pool* pool, size_t work) {
  return qb_thread_pool_threads_for(pool, work, QB_F32_GEMM_THREAD_MIN);
}

typedef struct {
  const qb_f32_gemm_entry* e;
  size_t M, N, K, lda, ldc, sb_k, sb_j, tasks;
  const float *A, *B;
  const float* packed;
  float* C;
  float* pack_out;
  bool split_cols;
} f32_job;

/* Task t of T gets [t*n/T, (t+1)*n/T) of n units. */
static void range_of(size_t n, size_t t, size_t T, size_t* b, size_t* e) {
  *b = t * n / T, *e = (t + 1) * n / T;
}

static void pack_task(void* ctx, size_t t, size_t thread) {
  const f32_job* j = ctx;
  (void)thread;
  const size_t nr = j->e->info.nr;
  size_t p0, p1;
  range_of((j->N + nr - 1) / nr, t, j->tasks, &p0, &p1);
  qb_f32_gemm_pack(nr, j->N, j->K, j->B, j->sb_k, j->sb_j, p0, p1, j->pack_out);
}

void qb_f32_gemm_pack_threaded(const qb_f32_gemm_entry* e, qb_thread_pool* pool, size_t N,
                               size_t K, const float* B, size_t sb_k, size_t sb_j, float* packed) {
  const size_t T = qb_f32_gemm_threads_for(pool, N * K * 16);
  f32_job j = {.e = e, .N = N, .K = K, .sb_k = sb_k, .sb_j = sb_j, .tasks = T, .B = B,
               .pack_out = packed};
  if (T == 1) pack_task(&j, 0, 0);
  else qb_thread_pool_run(pool, T, pack_task, &j);
}

/* Panels per column block: kc x 16*NR floats (256 KiB for NR = 16) stay in L2 while
 * the row blocks pass. */
enum { NC_PANELS = 16, MR_MAX = 8, LDA_PACKED = QB_F32_GEMM_KC + 16 };

/* Copies rows [i, i + m) x columns [k0, k0 + kc) of A into buf (row stride
 * LDA_PACKED: contiguous for the hardware prefetcher, and rows 1088 bytes apart
 * rather than a power of two, so a large lda does not map every row of the tile
 * to the same L1 set). */
static void pack_a(const f32_job* j, size_t i, size_t m, size_t k0, size_t kc, float* buf) {
  for (size_t r = 0; r < m; r++) memcpy(buf + r * LDA_PACKED, j->A + (i + r) * j->lda + k0, kc * sizeof *buf);
}

/* M = 1: the entry's GEMV tile over groups of gemv_panels panels, A read in place. */
static void gemv_block(const f32_job* j, size_t p0, size_t p1) {
  const size_t nr = j->e->info.nr, g = j->e->gemv_panels;
  for (size_t k0 = 0; k0 < j->K; k0 += QB_F32_GEMM_KC) {
    const size_t kc = j->K - k0 < QB_F32_GEMM_KC ? j->K - k0 : QB_F32_GEMM_KC;
    for (size_t p = p0; p < p1; p += g) {
      const size_t pe = p1 - p < g ? p1 : p + g;
      const size_t nc = (pe * nr < j->N ? pe * nr : j->N) - p * nr;
      j->e->gemv(nc, kc, j->A + k0, j->packed + p * j->K * nr + k0 * nr, j->K * nr, j->C + p * nr,
                 k0 > 0);
    }
  }
}

static void gemm_block(const f32_job* j, size_t p0, size_t p1, size_t r0, size_t r1) {
  const size_t mr = j->e->info.mr, nr = j->e->info.nr;
  if (r0 >= r1 || p0 >= p1) return;
  if (j->M == 1 && j->e->gemv) {
    gemv_block(j, p0, p1);
    return;
  }
  float abuf[MR_MAX * LDA_PACKED];
  for (size_t k0 = 0; k0 < j->K; k0 += QB_F32_GEMM_KC) {
    const size_t kc = j->K - k0 < QB_F32_GEMM_KC ? j->K - k0 : QB_F32_GEMM_KC;
    for (size_t pb = p0; pb < p1; pb += NC_PANELS) {
      const size_t pe = p1 - pb < NC_PANELS ? p1 : pb + NC_PANELS;
      for (size_t rb = r0; rb < r1; rb++) {
        const size_t i = rb * mr, m = j->M - i < mr ? j->M - i : mr;
        pack_a(j, i, m, k0, kc, abuf);
        for (size_t p = pb; p < pe; p++) {
          const size_t nc = j->N - p * nr < nr ? j->N - p * nr : nr;
          j->e->ukernel(m, nc, kc, abuf, LDA_PACKED, j->packed + p * j->K * nr + k0 * nr,
                        j->C + i * j->ldc + p * nr, j->ldc, k0 > 0);
        }
      }
    }
  }
}

static void gemm_task(void* ctx, size_t t, size_t thread) {
  const f32_job* j = ctx;
  (void)thread;
  const size_t np = (j->N + j->e->info.nr - 1) / j->e->info.nr;
  const size_t nb = (j->M + j->e->info.mr - 1) / j->e->info.mr;
  size_t b, e;
  if (j->split_cols) {
    range_of(np, t, j->tasks, &b, &e);
    gemm_block(j, b, e, 0, nb);
  } else {
    range_of(nb, t, j->tasks, &b, &e);
    gemm_block(j, 0, np, b, e);
  }
}

void qb_f32_gemm_threaded_run(const qb_f32_gemm_entry* e, qb_thread_pool* pool, size_t M,
                              size_t N, size_t K, const float* A, size_t lda, const float* packed,
                              float* C, size_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (size_t i = 0; i < M; i++) memset(C + i * ldc, 0, N * sizeof *C);
    return;
  }
  const size_t T = qb_f32_gemm_threads_for(pool, M * N * K);
  const size_t np = (N + e->info.nr - 1) / e->info.nr, nb = (M + e->info.mr - 1) / e->info.mr;
  f32_job j = {.e = e, .M = M, .N = N, .K = K, .lda = lda, .ldc = ldc, .tasks = T, .A = A,
               .packed = packed, .C = C, .split_cols = np >= T && (np >= nb || nb < T)};
  if (T == 1) gemm_task(&j, 0, 0);
  else qb_thread_pool_run(pool, T, gemm_task, &j);
}
