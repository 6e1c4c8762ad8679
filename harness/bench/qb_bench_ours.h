/* The state of one u8 x s8 GEMM benchmark (qb_bench_ours.c), shared with the
 * fused-epilogue GEMM benchmarks (qb_bench_fused.c), which run the same packed
 * weights through the same threaded driver. */
#ifndef QB_BENCH_OURS_H
#define QB_BENCH_OURS_H

#include "qb_bench_gemm.h"
#include "qb_gemm_threaded.h"

typedef struct {
  qb_thread_pool* pool;        /* threads bound one per core */
  qb_gemm_threaded_weights* w; /* `copies` copies, one column slice per thread */
  size_t copies, M, K, N;
  uint8_t* A;                  /* M x K, zero point 128 */
  int32_t* C;                  /* M x N */
} qb_bench_ours_state;

/* impl->entry is a qb_qu8_qs8_qs32_gemm_entry. NULL with err on failure. */
void* qb_bench_ours_create(const qb_bench_impl* impl, const qb_bench_shape* sh, int threads,
                           size_t copies, qb_error* err);
void qb_bench_ours_destroy(void* state);

#endif
