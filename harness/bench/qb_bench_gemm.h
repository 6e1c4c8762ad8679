/* GEMM benchmarks of `qbench bench`: ours (every u8 x s8 -> s32 entry of the
 * dispatch list whose backend is usable, through the threaded driver, every
 * qs8 x qs8 and qu8 x qu8 -> s32 entry, every int4-weight W4A8 / W4A32 entry, every
 * fp32 GEMM entry, and the u8 x s8 GEMM with the fused requantizing epilogue) and the
 * peers (oneDNN int8 matmul, OpenBLAS sgemm), one Google Benchmark per
 * (implementation, shape, thread count), named
 *   gemm/<kernel or peer>/M:<M>/N:<N>/K:<K>/threads:<T>/real_time
 *   gemm-fused/<kernel>/rule:<fp32|gemmlowp>/M:<M>/N:<N>/K:<K>/threads:<T>/real_time
 *   (impl->family, impl->variant)
 * (Google Benchmark appends "/real_time": these run on wall time, see qb_gbench.h).
 *
 * Measurement. Weights are packed (or reordered, for oneDNN) once, outside the
 * timed loop, and kept while Google Benchmark calls the function repeatedly for
 * the same benchmark (only one benchmark's buffers are alive at a time). The
 * timed loop is one GEMM call per iteration, on wall time (threads).
 *
 * Memory-bound shapes. A shape whose int8 arithmetic intensity
 * 2MNK / (NK + MK + 4MN) is below the machine's 1-thread ridge point (best int8
 * peak / DRAM bandwidth of the roofline; 8 ops/byte without a roofline) is
 * memory-bound; it rotates through `copies` weight buffers whose total exceeds
 * twice the last-level cache, so every call reads its weights from DRAM as it
 * would in a model whose layers do not fit the cache. (Total capped at 1 GiB; weights
 * smaller than 2*LLC/64 keep one copy: they stay cache-resident in real runs too.)
 *
 * Counters (per benchmark, in the JSON and on the console):
 *   OPS            2*M*N*K per call, as a rate (ops/s)
 *   bytes_per_second  bytes moved per call (weights as stored: packed int8 or fp32,
 *                  plus A and C), as a rate
 *   bytes_per_call the same, per call
 *   pct_of_peak    100 * OPS / the compute ceiling of the implementation's backend
 *                  on this many threads (qb_roofline: int8 peak of the backend for
 *                  ours and oneDNN, fp32 FMA peak for sgemm and W4A32; the int4
 *                  W4A8 kernels are held to the same int8 ceiling as the int8
 *                  GEMM of their backend); absent for scalar
 *   pct_of_dram_bw (M = 1) 100 * bytes/s / DRAM read bandwidth on this many threads
 *   weight_copies  how many weight buffers the loop rotates through
 *   kernel_threads threads the implementation was asked to use
 * The roofline has figures for 1 thread and for all cores; a thread count in
 * between is interpolated linearly, beyond it takes the all-cores figure. */
#ifndef QB_BENCH_GEMM_H
#define QB_BENCH_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qb_dispatch.h"
#include "qb_error.h"
#include "qb_roofline.h"

typedef struct {
  size_t M, N, K;
} qb_bench_shape;

/* One implementation under test: make its state for a shape (packed weights,
 * `copies` of them, inputs, outputs, threads), run one call on weight copy `copy`,
 * free. `weight_bytes` is the size of one weight copy as this implementation
 * stores it. */
typedef struct qb_bench_impl {
  const char* family;    /* first part of the benchmark name; NULL: "gemm" */
  const char* name;      /* in the benchmark name: kernel name or peer name */
  const char* variant;   /* part after the name (e.g. "epilogue:fp32"); NULL: none */
  double out_bytes;      /* bytes per element of C as written; 0: 4 (int32 or fp32) */
  const char* backend;   /* backend whose roofline ceiling applies; "" = none */
  bool fp32;             /* compare against the fp32 FMA ceiling, not int8 */
  bool gemv_only;        /* registered on M = 1 shapes only */
  const void* entry;     /* ours: the dispatch entry (type per family); peers: NULL */
  int kernel_backend;    /* ours: the entry's qb_backend (run only if usable); peers: -1 */
  size_t (*weight_bytes)(const struct qb_bench_impl* impl, size_t N, size_t K);
  void* (*create)(const struct qb_bench_impl* impl, const qb_bench_shape* s, int threads,
                  size_t copies, qb_error* err);
  void (*run)(void* state, size_t copy);
  void (*destroy)(void* state);
} qb_bench_impl;

/* Ours: one impl per entry of the u8 x s8 list (usable or not; the caller filters). */
size_t qb_bench_ours(qb_bench_impl* out, size_t max);
/* Ours, int4 weights: one impl per entry of the W4A8 (qs8_q4_f32_wgemm: rows of A
 * quantized per call, then the int8 x int4 GEMM) and W4A32 (f32_q4_f32_wgemm)
 * lists; symmetric int4 weights, groups of QB_BENCH_WGEMM_GROUP along K, threads
 * split N. The weight bytes are the packed nibbles plus one fp32 scale per group, or
 * the entry's packed_size for W4A8 entries with their own layout (packed at setup). */
enum { QB_BENCH_WGEMM_GROUP = 32 };
size_t qb_bench_wgemm(qb_bench_impl* out, size_t max);
/* Ours, fp32: one impl per entry of the fp32 GEMM list (kernels/f32-gemm), B N x K
 * packed once, the threaded driver; compared with the fp32 FMA ceiling and with the
 * OpenBLAS sgemm peer on the same data. */
size_t qb_bench_f32(qb_bench_impl* out, size_t max);
/* Ours, the other int8 GEMM families: one impl per entry of the qs8 x qs8 -> s32 and
 * qu8 x qu8 -> s32 lists (qb_bench_q8gemm.c; no threaded driver of their own: the
 * bench packs one column slice per thread and runs each on a pool thread). */
size_t qb_bench_q8gemm(qb_bench_impl* out, size_t max);
/* Ours, the u8 x s8 GEMM with the fused requantizing epilogue of the integer model
 * run (qb_bench_fused.c): two impls per u8 x s8 entry (rules fp32 and gemmlowp),
 * family "gemm-fused", run on their own model shapes (qb_bench_fused_shapes), not
 * on --shapes. */
size_t qb_bench_fused(qb_bench_impl* out, size_t max);
size_t qb_bench_fused_shapes(const qb_bench_shape** shapes);
/* Peers compiled in (QB_HAVE_DNNL, QB_HAVE_OPENBLAS): 0..2 impls. */
size_t qb_bench_peers(qb_bench_impl* out, size_t max);

typedef struct {
  const qb_roofline* roofline; /* ceilings; NULL: no pct_of_peak / pct_of_dram_bw */
  int64_t llc_bytes;           /* for the weight-copy rule; 0: unknown (1 copy) */
  int cores;                   /* roofline's N (its tn column) */
} qb_bench_setup;
/* Minimum time and repetitions are Google Benchmark flags (--benchmark_min_time,
 * --benchmark_repetitions): set per benchmark, they would be appended to its name. */

/* Registers one benchmark. Returns 0 or -1 (registration refused). */
int qb_bench_register_gemm(const qb_bench_setup* setup, const qb_bench_impl* impl,
                           const qb_bench_shape* shape, int threads);

/* After the run: frees the buffers of the last benchmark that ran and every
 * registered case (the registered benchmarks must not run again). */
void qb_bench_gemm_release(void);

/* Ceiling helpers (exposed for the report and tests): the compute ceiling in GOPS
 * of an implementation on `threads` threads, and the DRAM read bandwidth in GB/s;
 * 0 when the roofline lacks the figure. */
double qb_bench_peak_gops(const qb_roofline* r, const qb_bench_impl* impl, int threads);
double qb_bench_dram_gbs(const qb_roofline* r, int threads);

#endif
