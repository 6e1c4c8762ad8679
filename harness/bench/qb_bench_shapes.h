/* GEMM shape sets of `qbench bench --shapes`:
 *   standard  (M,N,K) = (1,4096,4096) (1,1024,1024) (16,4096,4096) (128,1024,1024)
 *             (256,4096,4096) (64,512,784): GEMV, small batch, large batch, and the
 *             first Fashion-MNIST layer at batch 64
 *   models    the layers of the Fashion-MNIST reference MLP 784-256-128-10 at batch
 *             1 and 64: (B,256,784) (B,128,256) (B,10,128)
 *   M,N,K;M,N,K;...  explicit shapes (1 <= M,N <= 1048576, 1 <= K <= 33025: the
 *             int32 accumulator is exact up to K = 2^31 / 255^2) */
#ifndef QB_BENCH_SHAPES_H
#define QB_BENCH_SHAPES_H

#include <stddef.h>

#include "qb_bench_gemm.h"
#include "qb_error.h"

enum { QB_BENCH_MAX_SHAPES = 64 };

/* Appends the shapes of `spec` to shapes[*count..]. Returns 0, or -1 with err naming
 * the offending part of the spec and what was expected. */
int qb_bench_shapes_parse(const char* spec, qb_bench_shape* shapes, size_t* count,
                          qb_error* err);

#endif
