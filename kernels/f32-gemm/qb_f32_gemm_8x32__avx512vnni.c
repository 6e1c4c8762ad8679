/* AVX-512F microkernel, 8 rows x 32 columns: 16 zmm accumulators (one lane per
 * output element), 2 panel loads and 8 broadcasts per k, fused multiply-add in k
 * order (the reference's fmaf chain per lane). Built under the avx512vnni token:
 * that is the AVX-512 backend of this project; only AVX-512F is used. Rows past mr
 * alias row mr-1; columns past nc are masked. */
#include <immintrin.h>

#include "qb_f32_gemm.h"

enum { MR = 8, NR = 32 };

static __mmask16 column_mask(size_t nc, size_t first) {
  const size_t n = nc > first ? nc - first : 0;
  return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

void qb_f32_gemm_ukernel_8x32__avx512vnni(size_t mr, size_t nc, size_t kc, const float* a,
                                          size_t lda, const float* w, float* c, size_t ldc,
                                          bool accumulate) {
  const float* ar[MR];
  float* cr[MR];
  ar[0] = a, cr[0] = c;
  for (size_t i = 1; i < MR; i++) {
    ar[i] = i < mr ? ar[i - 1] + lda : ar[i - 1];
    cr[i] = i < mr ? cr[i - 1] + ldc : cr[i - 1];
  }
  const __mmask16 m0 = column_mask(nc, 0), m1 = column_mask(nc, 16);
  __m512 v[MR][2];
  for (size_t i = 0; i < MR; i++) {
    v[i][0] = accumulate ? _mm512_maskz_loadu_ps(m0, cr[i]) : _mm512_setzero_ps();
    v[i][1] = accumulate ? _mm512_maskz_loadu_ps(m1, cr[i] + 16) : _mm512_setzero_ps();
  }
  for (size_t k = 0; k < kc; k++, w += NR) {
    const __m512 b0 = _mm512_load_ps(w), b1 = _mm512_load_ps(w + 16);
    for (size_t i = 0; i < MR; i++) {
      const __m512 x = _mm512_set1_ps(ar[i][k]);
      v[i][0] = _mm512_fmadd_ps(x, b0, v[i][0]);
      v[i][1] = _mm512_fmadd_ps(x, b1, v[i][1]);
    }
  }
  for (size_t i = MR; i-- > 0;) {
    _mm512_mask_storeu_ps(cr[i], m0, v[i][0]);
    _mm512_mask_storeu_ps(cr[i] + 16, m1, v[i][1]);
  }
}
