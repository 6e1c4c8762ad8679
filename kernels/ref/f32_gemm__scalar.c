/* The fp32 GEMM reference: the spec of every kernel in kernels/f32-gemm.
 *
 * One fused multiply-add chain per output element, k increasing from +0:
 *   acc = +0; for k in 0..K-1: acc = fmaf(A[i][k], B[k][j], acc)
 * (qb_fmaf = fmaf, see qb_f32_gemm.h.) fmaf rounds once per term (exactly what vfmadd231ps / FMLA do per lane), so a
 * SIMD kernel that keeps one lane per element and walks k in order gives the same
 * bits. The error against the exact sum is the classic recursive-summation bound
 * with one rounding per term: |C - exact| <= gamma_K * sum_k |A[i][k] * B[k][j]|,
 * gamma_K = K*u / (1 - K*u), u = 2^-24 (tests/kernels/test_f32_gemm.c). */
#include "f32-gemm/qb_f32_gemm.h"

void qb_f32_gemm__scalar(size_t M, size_t N, size_t K, const float* A, size_t sa_i, size_t sa_k,
                         const float* B, size_t sb_k, size_t sb_j, float* C, size_t ldc) {
  for (size_t i = 0; i < M; i++)
    for (size_t j = 0; j < N; j++) {
      float acc = 0.0f;
      for (size_t k = 0; k < K; k++) acc = qb_fmaf(A[i * sa_i + k * sa_k], B[k * sb_k + j * sb_j], acc);
      C[i * ldc + j] = acc;
    }
}
