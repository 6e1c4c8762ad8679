/* Reference int8 GEMM with zero points.
 *
 *   C[m][n] = sum_k (A[m][k] - za) * (B[n][k] - zb[n])
 *
 * computed literally, one product at a time, in int32. This is the definition.
 * Optimized kernels use gemmlowp's offset decomposition instead, which is the same
 * integer (wrapping arithmetic is a ring homomorphism, so it agrees even where
 * intermediate sums would overflow, as long as the final value fits in int32):
 *
 *   C = sum_k A*B  -  zb[n] * rowsum_A[m]  -  za * colsum_B[n]  +  K * za * zb[n]
 *
 * where colsum_B and the za/zb terms depend on weights only and are folded into a
 * per-channel bias at packing time; rowsum_A is computed once per row of A.
 * Range: |A-za|, |B-zb| <= 255, so K <= 33025 cannot overflow. */
#include "qb_kernels.h"

#define QB_DEFINE_GEMM(NAME, A_T, B_T)                                                    \
  void NAME(size_t M, size_t N, size_t K, const A_T* A, size_t lda, int32_t a_zero_point, \
            const B_T* B, size_t ldb, const int32_t* b_zero_point, int32_t* C,            \
            size_t ldc) {                                                                 \
    for (size_t m = 0; m < M; m++)                                                        \
      for (size_t n = 0; n < N; n++) {                                                    \
        int32_t acc = 0;                                                                  \
        for (size_t k = 0; k < K; k++)                                                    \
          acc += ((int32_t)A[m * lda + k] - a_zero_point) *                               \
                 ((int32_t)B[n * ldb + k] - b_zero_point[n]);                             \
        C[m * ldc + n] = acc;                                                             \
      }                                                                                   \
  }

QB_DEFINE_GEMM(qb_qu8_qs8_qs32_gemm__scalar, uint8_t, int8_t)
QB_DEFINE_GEMM(qb_qs8_qs8_qs32_gemm__scalar, int8_t, int8_t)
QB_DEFINE_GEMM(qb_qu8_qu8_qs32_gemm__scalar, uint8_t, uint8_t)
