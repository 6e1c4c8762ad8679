/* Peer implementations measured in the same `qbench bench` run as ours, each
 * compiled in only when its library was found at build time. */
#ifndef QB_PEERS_H
#define QB_PEERS_H

#include "qb_bench_gemm.h"

#ifdef QB_HAVE_DNNL
/* oneDNN int8 matmul: u8 src x s8 weights -> s32, weights reordered once into the
 * layout the primitive asks for (format `any`), OpenMP threads = T. */
extern const qb_bench_impl qb_peer_dnnl;
#endif
#ifdef QB_HAVE_OPENBLAS
/* OpenBLAS cblas_sgemm (fp32), openblas_set_num_threads(T). */
extern const qb_bench_impl qb_peer_openblas;
#endif
/* The weight bytes of a GEMV shape read and nothing else (M = 1 shapes only): the
 * memory ceiling of an int8 GEMV measured in the same run (qb_peer_read.c). */
extern const qb_bench_impl qb_peer_read;

#endif
