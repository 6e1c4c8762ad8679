/* Convolution benchmarks of `qbench bench --conv`: every usable entry of the fused
 * depthwise families (qu8_qs8_qu8_dwconv2d_minmax_fp32 and _gemmlowp, through their
 * threaded driver; gemmlowp multipliers encode the fp32 scale),
 * of the int32-output depthwise family (qu8_qs8_qs32_dwconv2d, channels split the
 * same way) on dwnet's depthwise layers, and of the uint8 im2col family on the
 * reference models' im2col convolutions, one Google Benchmark per (kernel, layer,
 * thread count), named
 *   dwconv/<kernel>/C:<C>/H:<H>/W:<W>/k:<k>/s:<stride>/threads:<T>/real_time
 *   im2col/<kernel>/C:<C>/H:<H>/W:<W>/k:<k>/s:<stride>/threads:<T>/real_time
 * Layers (batch 1, square kernels, padding k/2):
 *   depthwise  dwnet block1-4: 16@14x14 s1, 32@14x14 s2, 64@7x7 s1, 128@7x7 s2 (3x3),
 *              128@14x14 3x3 s1 (the shape quoted in issue 11), 72@28x28 5x5 s2
 *              (a MobileNet-V3 layer)
 *   im2col     cnn conv1 1@28x28 3x3, cnn conv2 16@14x14 3x3, dwnet stem 1@28x28
 *              3x3 s2, a dwnet pointwise 64@7x7 1x1
 * Counters: OPS = 2 * taps * outputs per call (the multiply-adds of the int8
 * arithmetic, as for the GEMMs), pct_of_peak = OPS against the roofline's int8
 * ceiling of the kernel's backend on this many threads (absent for scalar and
 * without a roofline); im2col reports bytes_per_second (matrix bytes written). */
#ifndef QB_BENCH_CONV_H
#define QB_BENCH_CONV_H

#include "qb_bench_gemm.h"

/* Registers every conv benchmark of usable kernels for each thread count; returns
 * how many. */
size_t qb_bench_register_conv(const qb_bench_setup* setup, const int* threads, size_t nthreads);
/* Frees the registered cases (after the run). */
void qb_bench_conv_release(void);

#endif
