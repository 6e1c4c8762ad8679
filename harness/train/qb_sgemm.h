/* fp32 matrix product for training: C[M,N] = op(A)[M,K] * op(B)[K,N] (+ C when
 * accumulating), all row-major, op = identity or transpose.
 *
 * It runs the model runtime's fp32 GEMM microkernel (the best usable backend's
 * kernels/f32-gemm entry, one thread), so training multiplies as inference does.
 * Determinism: each product element is one fmaf chain over k = 0..K-1 in order
 * (kernels/f32-gemm/qb_f32_gemm.h), bit-identical on every backend and for any
 * blocking; accumulate then adds it to C. Same inputs, same bits, on any machine
 * and under any QB_ISA_MASK. */
#ifndef QB_SGEMM_H
#define QB_SGEMM_H

#include <stddef.h>

/* trans_a: A is stored [K,M]; trans_b: B is stored [N,K]. accumulate: C += (else C =).
 * Returns 0, or -1 when out of memory (packing and a transposed A use scratch). */
int qb_sgemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, const float* A,
             const float* B, float* C, int accumulate);

#endif /* QB_SGEMM_H */
