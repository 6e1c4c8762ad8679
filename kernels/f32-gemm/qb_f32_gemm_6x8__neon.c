/* NEON microkernel, 6 rows x 8 columns: 12 q-register accumulators (one lane per
 * output element), 2 panel loads per k and FMLA by scalar (fused, k in order: the
 * reference's fmaf chain per lane). Rows past mr alias row mr-1; a column tail
 * goes through a small buffer. */
#include <arm_neon.h>
#include <string.h>

#include "qb_f32_gemm.h"

enum { MR = 6, NR = 8 };

void qb_f32_gemm_ukernel_6x8__neon(size_t mr, size_t nc, size_t kc, const float* a, size_t lda,
                                   const float* w, float* c, size_t ldc, bool accumulate) {
  const float* ar[MR];
  float* cr[MR];
  ar[0] = a, cr[0] = c;
  for (size_t i = 1; i < MR; i++) {
    ar[i] = i < mr ? ar[i - 1] + lda : ar[i - 1];
    cr[i] = i < mr ? cr[i - 1] + ldc : cr[i - 1];
  }
  float32x4_t v[MR][2];
  for (size_t i = 0; i < MR; i++) {
    float row[NR] = {0};
    if (accumulate) memcpy(row, cr[i], nc * sizeof *row);
    v[i][0] = vld1q_f32(row), v[i][1] = vld1q_f32(row + 4);
  }
  for (size_t k = 0; k < kc; k++, w += NR) {
    const float32x4_t b0 = vld1q_f32(w), b1 = vld1q_f32(w + 4);
    for (size_t i = 0; i < MR; i++) {
      const float x = ar[i][k];
      v[i][0] = vfmaq_n_f32(v[i][0], b0, x);
      v[i][1] = vfmaq_n_f32(v[i][1], b1, x);
    }
  }
  for (size_t i = MR; i-- > 0;) {
    if (nc == NR) {
      vst1q_f32(cr[i], v[i][0]), vst1q_f32(cr[i] + 4, v[i][1]);
      continue;
    }
    float row[NR];
    vst1q_f32(row, v[i][0]), vst1q_f32(row + 4, v[i][1]);
    memcpy(cr[i], row, nc * sizeof *row);
  }
}
