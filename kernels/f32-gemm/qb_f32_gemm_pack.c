/* Packing of B into NR-wide panels (layout in qb_f32_gemm.h); shared by every
 * backend, which differ only in NR. */
#include <string.h>

#include "qb_f32_gemm.h"

size_t qb_f32_gemm_packed_floats(size_t nr, size_t N, size_t K) {
  return (N + nr - 1) / nr * nr * K;
}

void qb_f32_gemm_pack(size_t nr, size_t N, size_t K, const float* B, size_t sb_k, size_t sb_j,
                      size_t p0, size_t p1, float* packed) {
  for (size_t p = p0; p < p1; p++) {
    const size_t j0 = p * nr, n = N - j0 < nr ? N - j0 : nr;
    float* dst = packed + p * K * nr;
    for (size_t k = 0; k < K; k++, dst += nr) {
      const float* src = B + k * sb_k + j0 * sb_j;
      if (sb_j == 1) memcpy(dst, src, n * sizeof *dst);
      else
        for (size_t l = 0; l < n; l++) dst[l] = src[l * sb_j];
      for (size_t l = n; l < nr; l++) dst[l] = 0.0f;
    }
  }
}
