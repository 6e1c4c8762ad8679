/* Scalar microkernel on packed panels (NR = 8): the reference's fmaf chain per
 * element (qb_fmaf: fmaf without a libm call in the common case), for the scalar
 * backend (and sse41, which has no FMA). */

#include "qb_f32_gemm.h"

enum { MR = 4, NR = 8 };

void qb_f32_gemm_ukernel_4x8__scalar(size_t mr, size_t nc, size_t kc, const float* a, size_t lda,
                                     const float* w, float* c, size_t ldc, bool accumulate) {
  for (size_t i = 0; i < mr; i++) {
    float acc[NR];
    for (size_t j = 0; j < NR; j++) acc[j] = accumulate && j < nc ? c[i * ldc + j] : 0.0f;
    for (size_t k = 0; k < kc; k++) {
      const float ai = a[i * lda + k];
      for (size_t j = 0; j < NR; j++) acc[j] = qb_fmaf(ai, w[k * NR + j], acc[j]);
    }
    for (size_t j = 0; j < nc; j++) c[i * ldc + j] = acc[j];
  }
}
