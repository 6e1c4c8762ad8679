/* fp32 GEMM microkernels with packed B (kernels/f32-gemm): the fp32 baseline of
 * Gemm / MatMul / Conv (harness/parallel/qb_f32_gemm_threaded.h drives them).
 *
 * Semantics (the spec is qb_f32_gemm__scalar in kernels/ref/f32_gemm__scalar.c):
 *   C[i][j] = fma(A[i][K-1], B[K-1][j], ... fma(A[i][1], B[1][j], fma(A[i][0], B[0][j], +0)))
 * one fused multiply-add per term, k in increasing order, one chain per output
 * element. Every kernel keeps that chain (one accumulator lane per element, no split
 * accumulators, no reassociation), so every backend is bit-identical to the
 * reference and to each other, and the result of an element never depends on the
 * tile, the thread split or M (batch 1 and batch 100 give the same row). Backends
 * without FMA (sse41) have no kernel of their own: mul + add would round twice.
 *
 * Packed B: B is K x N; NR-wide panels, panel p holding columns [p*NR, p*NR + NR),
 * K rows of NR floats (k-major), columns past N zero:
 *   packed[p*K*NR + k*NR + l] = B[k][p*NR + l]   (0 when p*NR + l >= N).
 * A k-range [k0, k0 + kc) of a panel is the contiguous kc x NR block at
 * p*K*NR + k0*NR, so a driver may block K (KC) and call the kernel per block with
 * accumulate = true after the first: the chain continues from the stored float,
 * which is exactly the accumulator's value, so blocking changes no bit.
 *
 * Microkernel:
 *   void ukernel(mr, nc, kc, a, lda, w, c, ldc, accumulate)
 *     rows i < mr (1..MR) of A at a + i*lda (kc contiguous floats each), one panel's
 *     kc x NR block w, columns j < nc (1..NR) of C at c + i*ldc; the chain starts
 *     at +0 (accumulate false) or at c[i*ldc + j] (true). Writes nothing else.
 *
 * GEMV tile (optional, for M = 1, where an MR-row tile would run MR copies of one
 * row and each k would wait on the previous FMA):
 *   void gemv(nc, kc, a, w, panel_stride, c, accumulate)
 *     one row a (kc floats) against the kc x NR blocks of ceil(nc/NR) consecutive
 *     panels (w, w + panel_stride, ...), nc <= gemv_panels * NR columns of c
 *     (gemv_panels: the dispatch entry's). Same chain per element as ukernel. */
#ifndef QB_F32_GEMM_H
#define QB_F32_GEMM_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ref/qb_ref_math.h" /* qb_fmaf */

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*qb_f32_gemm_ukernel_fn)(size_t mr, size_t nc, size_t kc, const float* a,
                                       size_t lda, const float* w, float* c, size_t ldc,
                                       bool accumulate);

/* Reference (the spec): C (M x N, ldc) = A x B with A element (i, k) at
 * A[i*sa_i + k*sa_k] and B element (k, j) at B[k*sb_k + j*sb_j]; any strides, no
 * allocation. */
void qb_f32_gemm__scalar(size_t M, size_t N, size_t K, const float* A, size_t sa_i, size_t sa_k,
                         const float* B, size_t sb_k, size_t sb_j, float* C, size_t ldc);

/* Floats of the packed form of a K x N matrix for panel width nr. */
size_t qb_f32_gemm_packed_floats(size_t nr, size_t N, size_t K);
/* Packs panels [p0, p1) of B (element (k, j) at B[k*sb_k + j*sb_j]) into `packed`
 * (the whole packed buffer: panel p goes to packed + p*K*nr). */
void qb_f32_gemm_pack(size_t nr, size_t N, size_t K, const float* B, size_t sb_k, size_t sb_j,
                      size_t p0, size_t p1, float* packed);

void qb_f32_gemm_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc, const float* a, size_t lda,
                                     const float* w, float* c, size_t ldc, bool accumulate);
void qb_f32_gemm_ukernel_6x16__avx2(size_t mr, size_t nc, size_t kc, const float* a, size_t lda,
                                    const float* w, float* c, size_t ldc, bool accumulate);
void qb_f32_gemv_ukernel_1x64__avx2(size_t nc, size_t kc, const float* a, const float* w,
                                    size_t panel_stride, float* c, bool accumulate);
void qb_f32_gemm_ukernel_8x32__avx512vnni(size_t mr, size_t nc, size_t kc, const float* a,
                                          size_t lda, const float* w, float* c, size_t ldc,
                                          bool accumulate);
void qb_f32_gemm_ukernel_6x8__neon(size_t mr, size_t nc, size_t kc, const float* a, size_t lda,
                                   const float* w, float* c, size_t ldc, bool accumulate);

#ifdef __cplusplus
}
#endif
#endif /* QB_F32_GEMM_H */
