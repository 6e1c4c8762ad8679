/* Multi-threaded int8 GEMM (u8 activations x s8 weights -> s32) over any entry of
 * the dispatch list (kernels/qb_dispatch.h), run on a qb_thread_pool.
 *
 * Work split, for T threads and an entry with tile MR x NR:
 *  - M >= T*MR: rows. The ceil(M/MR) row blocks are cut into T contiguous ranges
 *    (thread t gets blocks [t*nb/T, (t+1)*nb/T)); each thread runs the entry on its
 *    rows against all of B. Every thread streams all of B, which is right for
 *    compute-bound shapes.
 *  - else (small M: GEMV and memory-bound shapes): columns. The ceil(N/NR) panels
 *    are cut into S contiguous column slices, each a multiple of NR wide except
 *    the last; each thread runs its slices for all M rows and reads only its part
 *    of B, so the threads share the DRAM stream instead of repeating it. (Weights
 *    packed in fewer slices than threads fall back to the row split.)
 *
 * Why the weights are packed per slice. The packed layout (q8-gemm/qb_q8_gemm_pack.h)
 * is a 64-byte header (the pack-time activation zero point) followed by NR-wide
 * panels, and a kernel reads the header at the start of the buffer it is given, so a
 * column slice cannot be run from a pointer into the middle of one packed buffer.
 * qb_gemm_threaded_pack therefore packs each of the S slices as its own complete
 * packed matrix with the entry's own pack routine (N_s x K, zero points of its
 * columns). The bytes are the same as one buffer's panels plus S-1 headers; the
 * kernels are untouched, and the row split simply runs every slice in turn.
 *
 * Determinism. Every output element is computed by exactly one call of the entry's
 * kernel with the same K loop, in exact (wrapping) int32 arithmetic, so C is
 * bit-identical for any thread count and any slice count, and equal to the
 * single-threaded entry (tests/unit/test_gemm_threaded.c checks 1, 2 and 3 threads
 * against the scalar reference). */
#ifndef QB_GEMM_THREADED_H
#define QB_GEMM_THREADED_H

#include <stddef.h>
#include <stdint.h>

#include "qb_dispatch.h"
#include "qb_error.h"
#include "qb_thread_pool.h"

typedef struct {
  size_t n0, n; /* columns [n0, n0 + n) of C */
  void* packed; /* the entry's packed form of those rows of B (64-byte aligned) */
} qb_gemm_slice;

typedef struct {
  const qb_qu8_qs8_qs32_gemm_entry* entry;
  size_t N, K;
  size_t slices;
  qb_gemm_slice* slice;
  size_t packed_bytes; /* sum over slices */
} qb_gemm_threaded_weights;

/* Packs B (N x K, row stride ldb, zero point per column n) for `entry` in `slices`
 * column slices (1..N; usually the thread count; fewer are made when N has fewer
 * NR panels). Returns 0, or -1 with err filled (out of memory, bad arguments). */
int qb_gemm_threaded_pack(const qb_qu8_qs8_qs32_gemm_entry* entry, size_t N, size_t K,
                          const int8_t* B, size_t ldb, const int32_t* b_zero_point,
                          int32_t a_zero_point, size_t slices, qb_gemm_threaded_weights* w,
                          qb_error* err);
void qb_gemm_threaded_free(qb_gemm_threaded_weights* w);

/* C (M x N, ldc) = A (M x K, lda) x packed B, split over the pool's threads as
 * described above. A NULL pool runs on the calling thread. */
void qb_gemm_threaded_run(const qb_gemm_threaded_weights* w, qb_thread_pool* pool, size_t M,
                          const uint8_t* A, size_t lda, int32_t a_zero_point, int32_t* C,
                          size_t ldc);

/* The same GEMM with its output consumed block by block while it is cache-hot: no
 * M x N int32 matrix is ever written. Each thread computes blocks of at most
 * QB_GEMM_EPILOGUE_ROWS rows (a multiple of the tile's MR) x one column slice into
 * its own int32 scratch (acc + thread * acc_stride, row stride = the slice's width)
 * and immediately calls fn on it; fn writes the final outputs (requantized u8, or
 * fp32) for rows [m0, m0 + m) and columns [n0, n0 + n). Blocks never overlap, so
 * fn may write its outputs without locks. The split over threads is the one above;
 * every element is still computed by exactly one kernel call over the full K, so
 * results are bit-identical for any thread count. */
#define QB_GEMM_EPILOGUE_ROWS 64
typedef void (*qb_gemm_epilogue_fn)(void* ctx, size_t thread, size_t m0, size_t m, size_t n0,
                                    size_t n, const int32_t* acc, size_t ldacc);
typedef struct {
  qb_gemm_epilogue_fn fn;
  void* ctx;
  int32_t* acc;      /* threads x acc_stride int32 */
  size_t acc_stride; /* >= qb_gemm_threaded_block_elems(w) */
} qb_gemm_epilogue;

/* int32 elements one thread's block needs (block rows x the widest slice). */
size_t qb_gemm_threaded_block_elems(const qb_gemm_threaded_weights* w);
void qb_gemm_threaded_run_fused(const qb_gemm_threaded_weights* w, qb_thread_pool* pool, size_t M,
                                const uint8_t* A, size_t lda, int32_t a_zero_point,
                                const qb_gemm_epilogue* ep);

#endif
