/* fp32 GEMM for training on the model runtime's fp32 GEMM (kernels/f32-gemm through
 * harness/parallel/qb_f32_gemm_threaded.h). See qb_sgemm.h for the contract.
 *
 * B is packed per call into the microkernel's panels straight from its storage (a
 * transposed B is just other strides); A must have k contiguous per row, so a
 * transposed A is copied first (O(MK), small next to MNK). */
#include "qb_sgemm.h"

#include <stdlib.h>
#include <string.h>

#include "qb_f32_gemm_threaded.h"

static float* aligned_floats(size_t n) {
  const size_t bytes = ((n > 0 ? n : 1) * sizeof(float) + 63) / 64 * 64;
  return aligned_alloc(64, bytes);
}

static float* transposed_copy(const float* src, size_t rows, size_t cols) {
  float* dst = malloc((rows * cols > 0 ? rows * cols : 1) * sizeof *dst);
  if (!dst) return NULL;
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  return dst;
}

int qb_sgemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, const float* A,
             const float* B, float* C, int accumulate) {
  if (M == 0 || N == 0) return 0;
  if (K == 0) {
    if (!accumulate) memset(C, 0, M * N * sizeof *C);
    return 0;
  }
  const qb_f32_gemm_entry* e = qb_dispatch_best()->f32_gemm;
  float* at = trans_a ? transposed_copy(A, K, M) : NULL;
  float* packed = aligned_floats(qb_f32_gemm_scratch_floats(e, N, K));
  float* product = accumulate ? malloc(M * N * sizeof *product) : C;
  int rc = -1;
  if ((!trans_a || at) && packed && product) {
    /* B element (k, j): row-major [K,N] at B[k*N + j]; transposed [N,K] at B[j*K + k]. */
    qb_f32_gemm_pack_threaded(e, NULL, N, K, B, trans_b ? 1 : N, trans_b ? K : 1, packed);
    qb_f32_gemm_threaded_run(e, NULL, M, N, K, trans_a ? at : A, K, packed, product, N);
    if (accumulate)
      for (size_t i = 0; i < M * N; i++) C[i] += product[i];
    rc = 0;
  }
  if (accumulate) free(product);
  free(packed);
  free(at);
  return rc;
}
