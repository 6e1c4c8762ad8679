/* Elementwise quantization benchmarks of `qbench bench` (--kernels elementwise):
 * every usable entry of the quantize (f32 -> qu8), dequantize (qu8 -> f32) and
 * requantize (qs32 -> qu8, rules fp32 and gemmlowp) families, in their qu8 form
 * (the one the integer model run calls; the qs8 form shares the implementation),
 * one Google Benchmark per (kernel, size, thread count), named
 *   quantize/<kernel>/n:<n>/threads:<T>/real_time
 *   dequantize/<kernel>/n:<n>/threads:<T>/real_time
 *   requantize/<kernel>/rule:fp32|gemmlowp/n:<n>/threads:<T>/real_time
 * Sizes: n = 16384 elements (80 KiB moved: cache-resident) and a DRAM size, the
 * smallest power of two >= 2^24 whose bytes moved exceed twice the last-level cache
 * (capped at 2^28). Requantize runs n / 256 rows x 256 channels (per-channel
 * bias and scale, as after a GEMM). T threads split the elements (rows) evenly.
 * Counters:
 *   bytes_per_second  bytes read + written per call (5 per element: 4-byte side
 *                  and 1-byte side; requantize adds its per-channel parameters), a rate
 *   bytes_per_call the same, per call
 *   OPS            elements converted per second (one op per element), so that
 *                  OPS / bytes_per_second, the arithmetic intensity of the roofline
 *                  plot, is 0.2: the kernels are memory-bound points
 *   pct_of_dram_bw (DRAM size only) 100 * bytes_per_second / the roofline's DRAM
 *                  read bandwidth on this many threads (reads and writes counted
 *                  against a read ceiling: write-allocate traffic makes 100 % hard) */
#ifndef QB_BENCH_Q8ELEM_H
#define QB_BENCH_Q8ELEM_H

#include "qb_bench_gemm.h"

/* Registers every elementwise benchmark of usable kernels for each thread count;
 * returns how many. */
size_t qb_bench_register_q8elem(const qb_bench_setup* setup, const int* threads,
                                size_t nthreads);
/* Frees the buffers and the registered cases (after the run). */
void qb_bench_q8elem_release(void);

#endif
