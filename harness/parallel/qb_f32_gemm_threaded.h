/* fp32 GEMM driver over a microkernel of the dispatch list (qb_f32_gemm_entry,
 * kernels/f32-gemm/qb_f32_gemm.h), on a qb_thread_pool.
 *
 *   C (M x N, ldc) = A (M x K, row stride lda, k contiguous) x B (K x N, packed)
 *
 * Blocking (per thread, BLIS order): K in blocks of QB_F32_GEMM_KC (256); the
 * thread's panels in groups of 16 (kc x 256 columns of B, 256 KiB for NR = 16, stay
 * in L2); per MR-row block, the kc-wide piece of A is copied to a stack buffer (rows
 * contiguous and 1088 bytes apart: a power-of-two lda would put every row of the
 * tile in one L1 set) and stays in L1 while the microkernel walks the group's panels.
 * Blocks of K after the first continue the chain from C (accumulate), which changes
 * no bit (qb_f32_gemm.h).
 *
 * Work split, T threads: the output is cut into T contiguous ranges of NR panels
 * (columns) when there are at least T of them and no more row blocks than panels,
 * else of MR-row blocks. Small products (M*N*K < QB_F32_GEMM_THREAD_MIN) run on the
 * caller only: a fork-join costs a few microseconds.
 *
 * Determinism. Every element is one fmaf chain over k in order, whoever computes
 * it: C is bit-identical for any thread count, any split, any backend, and equal
 * to the reference qb_f32_gemm__scalar (tests/unit/test_f32_gemm_threaded.c). */
#ifndef QB_F32_GEMM_THREADED_H
#define QB_F32_GEMM_THREADED_H

#include <stddef.h>

#include "qb_dispatch.h"
#include "qb_error.h"
#include "qb_thread_pool.h"

enum { QB_F32_GEMM_KC = 256, QB_F32_GEMM_THREAD_MIN = 1 << 17 };

/* B packed once for an entry (e.g. a layer's constant weights). */
typedef struct {
  const qb_f32_gemm_entry* entry;
  size_t N, K;
  float* packed; /* 64-byte aligned, qb_f32_gemm_packed_floats(nr, N, K) floats */
} qb_f32_packed_b;

/* Floats of scratch qb_f32_gemm_pack_threaded needs for a K x N B (rounded up to a
 * whole number of 64-byte lines). */
size_t qb_f32_gemm_scratch_floats(const qb_f32_gemm_entry* e, size_t N, size_t K);

/* Packs B (element (k, j) at B[k*sb_k + j*sb_j]) into a new buffer. Returns 0 or -1
 * with err (out of memory). */
int qb_f32_packed_b_make(const qb_f32_gemm_entry* e, size_t N, size_t K, const float* B,
                         size_t sb_k, size_t sb_j, qb_f32_packed_b* out, qb_error* err);
void qb_f32_packed_b_free(qb_f32_packed_b* b);

/* Packs B into `packed` (64-byte aligned, qb_f32_gemm_scratch_floats floats),
 * panels split over the pool's threads (NULL pool: the caller). */
void qb_f32_gemm_pack_threaded(const qb_f32_gemm_entry* e, qb_thread_pool* pool, size_t N,
                               size_t K, const float* B, size_t sb_k, size_t sb_j, float* packed);

/* C = A x packed B as described above; NULL pool: the caller. K = 0 gives zeros. */
void qb_f32_gemm_threaded_run(const qb_f32_gemm_entry* e, qb_thread_pool* pool, size_t M,
                              size_t N, size_t K, const float* A, size_t lda, const float* packed,
                              float* C, size_t ldc);

/* Threads a job of `work` multiply-adds should use on this pool (1 below
 * QB_F32_GEMM_THREAD_MIN). */
size_t qb_f32_gemm_threads_for(const qb_thread_pool* pool, size_t work);

#endif
