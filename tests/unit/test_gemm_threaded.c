/* Threaded int8 GEMM (harness/parallel): for every usable exact u8 x s8 entry, the
 * result on 1, 2 and 3 threads (weights packed in 1, 2 and 3 column slices, and
 * mismatched: 3 slices on 2 threads, 1 slice on 3 threads) is bit-identical to the
 * scalar reference, on shapes that take both the row split (M >= threads*MR) and
 * the column split, with N not a multiple of NR, odd K and random zero points. C has
 * ldc > N and the gap columns must keep their 0xA5 fill (no thread writes outside
 * its block). The fused entry (epilogue per block) must deliver every element exactly
 * once, in blocks no larger than its scratch, with the same values. */
#include <stdlib.h>
#include <string.h>

#include "qb_dispatch.h"
#include "qb_gemm_threaded.h"
#include "qb_kernels.h"
#include "qb_test.h"

typedef struct {
  size_t M, N, K;
} shape;

static const shape k_shapes[] = {
    {1, 100, 37}, {1, 1, 5},     {2, 67, 64},  {5, 200, 31}, {7, 33, 9},
    {17, 65, 130}, {24, 96, 17}, {64, 97, 64}, {3, 257, 1},  {33, 31, 33},
    {150, 40, 20}, {131, 97, 33}, /* several blocks of rows per thread */
};

/* Fused run: the epilogue copies each block into C and counts deliveries. */
typedef struct {
  int32_t* C;
  unsigned char* seen;
  size_t ldc, N, block_elems, threads;
  int bad;
} copy_ctx;

static void copy_block(void* ctx, size_t thread, size_t m0, size_t m, size_t n0, size_t n,
                       const int32_t* acc, size_t ldacc) {
  copy_ctx* c = ctx;
  if (thread >= c->threads || m * n > c->block_elems || ldacc < n) c->bad = 1;
  for (size_t r = 0; r < m; r++)
    for (size_t j = 0; j < n; j++) {
      c->C[(m0 + r) * c->ldc + n0 + j] = acc[r * ldacc + j];
      c->seen[(m0 + r) * c->N + n0 + j]++;
    }
}

static void check_fused(const qb_gemm_threaded_weights* w, qb_thread_pool* pool, size_t T,
                        size_t M, const uint8_t* A, size_t lda, int32_t za, const int32_t* ref,
                        size_t ldc) {
  const size_t N = w->N, blk = qb_gemm_threaded_block_elems(w);
  int32_t* C = malloc(M * ldc * sizeof *C);
  unsigned char* seen = calloc(M * N, 1);
  int32_t* acc = malloc(T * blk * sizeof *acc);
  memset(C, 0xA5, M * ldc * sizeof *C);
  copy_ctx c = {C, seen, ldc, N, blk, T, 0};
  const qb_gemm_epilogue ep = {copy_block, &c, acc, blk};
  qb_gemm_threaded_run_fused(w, pool, M, A, lda, za, &ep);
  size_t once = 0;
  for (size_t i = 0; i < M * N; i++) once += seen[i] == 1;
  QB_CHECK_MSG(!c.bad && once == M * N, "%s fused M=%zu N=%zu threads=%zu: %zu of %zu delivered once",
               w->entry->info.name, M, N, T, once, M * N);
  QB_CHECK_MSG(memcmp(C, ref, M * ldc * sizeof *C) == 0, "%s fused M=%zu N=%zu threads=%zu differs",
               w->entry->info.name, M, N, T);
  free(C), free(seen), free(acc);
}

static void run_case(const qb_qu8_qs8_qs32_gemm_entry* e, const shape* s,
                     qb_thread_pool* pools[4]) {
  const size_t M = s->M, N = s->N, K = s->K, lda = K + 3, ldb = K + 1, ldc = N + 5;
  uint8_t* A = malloc(M * lda);
  int8_t* B = malloc(N * ldb);
  int32_t* zb = malloc(N * sizeof *zb);
  int32_t* ref = malloc(M * ldc * sizeof *ref);
  int32_t* C = malloc(M * ldc * sizeof *C);
  for (size_t i = 0; i < M * lda; i++) A[i] = (uint8_t)qb_rand_below(256);
  for (size_t i = 0; i < N * ldb; i++) B[i] = (int8_t)qb_rand_range(-128, 127);
  for (size_t n = 0; n < N; n++) zb[n] = qb_rand_range(-128, 127);
  const int32_t za = qb_rand_range(0, 255);
  memset(ref, 0xA5, M * ldc * sizeof *ref);
  qb_qu8_qs8_qs32_gemm__scalar(M, N, K, A, lda, za, B, ldb, zb, ref, ldc);

  /* (threads, slices) pairs: matched, more slices than threads, fewer. */
  static const size_t runs[][2] = {{1, 1}, {2, 2}, {3, 3}, {2, 3}, {3, 1}, {1, 3}};
  for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
    const size_t T = runs[r][0], S = runs[r][1];
    qb_gemm_threaded_weights w;
    qb_error err;
    QB_CHECK(qb_gemm_threaded_pack(e, N, K, B, ldb, zb, za, S, &w, &err) == 0);
    memset(C, 0xA5, M * ldc * sizeof *C);
    qb_gemm_threaded_run(&w, pools[T], M, A, lda, za, C, ldc);
    QB_CHECK_MSG(memcmp(C, ref, M * ldc * sizeof *C) == 0,
                 "%s M=%zu N=%zu K=%zu threads=%zu slices=%zu differs from the reference",
                 e->info.name, M, N, K, T, S);
    check_fused(&w, pools[T], T, M, A, lda, za, ref, ldc);
    qb_gemm_threaded_free(&w);
  }
  free(A), free(B), free(zb), free(ref), free(C);
}

/* The split must actually spread work: with 3 slices of N = 3*NR columns, each
 * slice starts at a multiple of NR and they tile [0, N). */
static void check_slices(const qb_qu8_qs8_qs32_gemm_entry* e) {
  const size_t nr = e->info.nr, N = 3 * nr + 1, K = 8;
  int8_t* B = calloc(N * K, 1);
  int32_t* zb = calloc(N, sizeof *zb);
  qb_gemm_threaded_weights w;
  qb_error err;
  QB_CHECK(qb_gemm_threaded_pack(e, N, K, B, K, zb, 0, 3, &w, &err) == 0);
  QB_CHECK_EQ_INT(w.slices, 3);
  size_t next = 0;
  for (size_t s = 0; s < w.slices; s++) {
    QB_CHECK_EQ_INT(w.slice[s].n0, next);
    QB_CHECK_EQ_INT(w.slice[s].n0 % nr, 0);
    QB_CHECK(w.slice[s].n > 0);
    next += w.slice[s].n;
  }
  QB_CHECK_EQ_INT(next, N);
  qb_gemm_threaded_free(&w);
  /* More slices than panels: capped at the panel count. */
  QB_CHECK(qb_gemm_threaded_pack(e, nr, K, B, K, zb, 0, 5, &w, &err) == 0);
  QB_CHECK_EQ_INT(w.slices, 1);
  qb_gemm_threaded_free(&w);
  QB_CHECK(qb_gemm_threaded_pack(e, 0, K, B, K, zb, 0, 2, &w, &err) == -1);
  free(B), free(zb);
}

int main(void) {
  qb_test_seed(20261201);
  qb_thread_pool* pools[4] = {NULL};
  qb_error err;
  for (size_t t = 1; t <= 3; t++) {
    pools[t] = qb_thread_pool_create(t, false, &err);
    QB_CHECK(pools[t] != NULL);
    if (!pools[t]) return qb_test_finish("test_gemm_threaded");
  }
  QB_CHECK(qb_thread_pool_create(0, false, &err) == NULL);
  size_t count, tested = 0;
  const qb_qu8_qs8_qs32_gemm_entry* list = qb_qu8_qs8_qs32_gemm_entries(&count);
  for (size_t i = 0; i < count; i++) {
    const qb_qu8_qs8_qs32_gemm_entry* e = &list[i];
    if (!e->info.exact || !qb_isa_usable(e->info.backend)) continue;
    tested++;
    check_slices(e);
    for (size_t s = 0; s < sizeof k_shapes / sizeof k_shapes[0]; s++)
      run_case(e, &k_shapes[s], pools);
  }
  QB_CHECK(tested >= 1); /* the scalar entry at least */
  for (size_t t = 1; t <= 3; t++) qb_thread_pool_destroy(pools[t]);
  return qb_test_finish("test_gemm_threaded");
}
