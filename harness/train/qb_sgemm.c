/* fp32 GEMM for training. See qb_sgemm.h for the determinism contract.
 *
 * Core: C[M,N] += A[M,K] * B[K,N] with both operands row-major. Rows of C are taken
 * four at a time and columns in panels of 64, so a 4x64 accumulator tile stays in
 * vector registers while k runs over the whole reduction in order. Transposed
 * operands are copied to row-major scratch first (O(MK + KN), small next to MNK). */
#include "qb_sgemm.h"

#include <stdlib.h>
#include <string.h>

#define PANEL 64

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define QB_SGEMM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define QB_SGEMM_CLONES
#endif

/* rows x PANEL-wide (or narrower, `w`) tile of C, accumulated over all k. */
QB_SGEMM_CLONES
static void tile_accumulate(size_t rows, size_t w, size_t K, const float* A, size_t lda,
                            const float* B, size_t ldb, float* C, size_t ldc) {
  float acc[4][PANEL];
  for (size_t r = 0; r < rows; r++) memcpy(acc[r], C + r * ldc, w * sizeof(float));
  if (rows == 4 && w == PANEL) {
    for (size_t k = 0; k < K; k++) {
      const float* b = B + k * ldb;
      const float a0 = A[k], a1 = A[lda + k], a2 = A[2 * lda + k], a3 = A[3 * lda + k];
      for (size_t j = 0; j < PANEL; j++) {
        const float bj = b[j];
        acc[0][j] += a0 * bj;
        acc[1][j] += a1 * bj;
        acc[2][j] += a2 * bj;
        acc[3][j] += a3 * bj;
      }
    }
  } else {
    for (size_t k = 0; k < K; k++) {
      const float* b = B + k * ldb;
      for (size_t r = 0; r < rows; r++) {
        const float a = A[r * lda + k];
        for (size_t j = 0; j < w; j++) acc[r][j] += a * b[j];
      }
    }
  }
  for (size_t r = 0; r < rows; r++) memcpy(C + r * ldc, acc[r], w * sizeof(float));
}

static void gemm_nn_accumulate(size_t M, size_t N, size_t K, const float* A, const float* B,
                               float* C) {
  for (size_t j0 = 0; j0 < N; j0 += PANEL) {
    const size_t w = N - j0 < PANEL ? N - j0 : PANEL;
    for (size_t i0 = 0; i0 < M; i0 += 4) {
      const size_t rows = M - i0 < 4 ? M - i0 : 4;
      tile_accumulate(rows, w, K, A + i0 * K, K, B + j0, N, C + i0 * N + j0, N);
    }
  }
}

static float* transposed_copy(const float* src, size_t rows, size_t cols) {
  const size_t count = rows * cols;
  float* dst = malloc((count > 0 ? count : 1) * sizeof *dst);
  if (!dst) return NULL;
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  return dst;
}

int qb_sgemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, const float* A,
             const float* B, float* C, int accumulate) {
  if (!accumulate) memset(C, 0, M * N * sizeof *C);
  if (M == 0 || N == 0 || K == 0) return 0;
  float* at = trans_a ? transposed_copy(A, K, M) : NULL;
  float* bt = trans_b ? transposed_copy(B, N, K) : NULL;
  if ((trans_a && !at) || (trans_b && !bt)) {
    free(at), free(bt);
    return -1;
  }
  gemm_nn_accumulate(M, N, K, trans_a ? at : A, trans_b ? bt : B, C);
  free(at);
  free(bt);
  return 0;
}
