/* fp32 matrix product for training: C[M,N] = beta*C + op(A)[M,K] * op(B)[K,N], all
 * row-major, op = identity or transpose.
 *
 * Determinism: every C element is accumulated over k = 0..K-1 in order, one
 * multiply and one add per step (the build forbids FMA contraction), starting from
 * beta*C (beta is 0 or 1). The result is therefore bit-identical whatever the
 * blocking or vector width, so the AVX-512 / AVX2 clones picked at run time and the
 * portable code give the same weights for the same seed. */
#ifndef QB_SGEMM_H
#define QB_SGEMM_H

#include <stddef.h>

/* trans_a: A is stored [K,M]; trans_b: B is stored [N,K]. accumulate: C += (else C =).
 * Returns 0, or -1 when out of memory (transposed operands use a scratch copy). */
int qb_sgemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, const float* A,
             const float* B, float* C, int accumulate);

#endif /* QB_SGEMM_H */
