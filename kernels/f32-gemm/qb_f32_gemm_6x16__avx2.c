/* AVX2 + FMA microkernel, 6 rows x 16 columns: 12 ymm accumulators (one lane per
 * output element), 2 panel loads and 6 broadcasts per k. vfmadd231ps rounds once
 * per term and k runs in order, so each lane is the reference's fmaf chain.
 * Zen 3 / Haswell+: 2 FMA pipes x 4-5 cycles latency need >= 8-10 independent
 * chains; 12 keep both pipes busy. Rows past mr alias row mr-1 (same inputs, same
 * stores); columns past nc are masked on load and store. */
#include <immintrin.h>

#include "qb_f32_gemm.h"

enum { MR = 6, NR = 16 };

static __m256i column_mask(size_t nc, size_t first) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int n = nc > first ? (int)(nc - first) : 0;
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
}

void qb_f32_gemm_ukernel_6x16__avx2(size_t mr, size_t nc, size_t kc, const float* a, size_t lda,
                                    const float* w, float* c, size_t ldc, bool accumulate) {
  const float* a0 = a;
  const float* a1 = mr > 1 ? a0 + lda : a0;
  const float* a2 = mr > 2 ? a1 + lda : a1;
  const float* a3 = mr > 3 ? a2 + lda : a2;
  const float* a4 = mr > 4 ? a3 + lda : a3;
  const float* a5 = mr > 5 ? a4 + lda : a4;
  float* c0 = c;
  float* c1 = mr > 1 ? c0 + ldc : c0;
  float* c2 = mr > 2 ? c1 + ldc : c1;
  float* c3 = mr > 3 ? c2 + ldc : c2;
  float* c4 = mr > 4 ? c3 + ldc : c3;
  float* c5 = mr > 5 ? c4 + ldc : c4;
  const __m256i m0 = column_mask(nc, 0), m1 = column_mask(nc, 8);
  __m256 v00, v01, v10, v11, v20, v21, v30, v31, v40, v41, v50, v51;
  if (accumulate) {
    v00 = _mm256_maskload_ps(c0, m0), v01 = _mm256_maskload_ps(c0 + 8, m1);
    v10 = _mm256_maskload_ps(c1, m0), v11 = _mm256_maskload_ps(c1 + 8, m1);
    v20 = _mm256_maskload_ps(c2, m0), v21 = _mm256_maskload_ps(c2 + 8, m1);
    v30 = _mm256_maskload_ps(c3, m0), v31 = _mm256_maskload_ps(c3 + 8, m1);
    v40 = _mm256_maskload_ps(c4, m0), v41 = _mm256_maskload_ps(c4 + 8, m1);
    v50 = _mm256_maskload_ps(c5, m0), v51 = _mm256_maskload_ps(c5 + 8, m1);
  } else {
    v00 = v01 = v10 = v11 = v20 = v21 = v30 = v31 = v40 = v41 = v50 = v51 = _mm256_setzero_ps();
  }
  for (size_t k = 0; k < kc; k++, w += NR) {
    const __m256 b0 = _mm256_load_ps(w), b1 = _mm256_load_ps(w + 8);
    __m256 x = _mm256_broadcast_ss(a0 + k);
    v00 = _mm256_fmadd_ps(x, b0, v00), v01 = _mm256_fmadd_ps(x, b1, v01);
    x = _mm256_broadcast_ss(a1 + k);
    v10 = _mm256_fmadd_ps(x, b0, v10), v11 = _mm256_fmadd_ps(x, b1, v11);
    x = _mm256_broadcast_ss(a2 + k);
    v20 = _mm256_fmadd_ps(x, b0, v20), v21 = _mm256_fmadd_ps(x, b1, v21);
    x = _mm256_broadcast_ss(a3 + k);
    v30 = _mm256_fmadd_ps(x, b0, v30), v31 = _mm256_fmadd_ps(x, b1, v31);
    x = _mm256_broadcast_ss(a4 + k);
    v40 = _mm256_fmadd_ps(x, b0, v40), v41 = _mm256_fmadd_ps(x, b1, v41);
    x = _mm256_broadcast_ss(a5 + k);
    v50 = _mm256_fmadd_ps(x, b0, v50), v51 = _mm256_fmadd_ps(x, b1, v51);
  }
  /* Highest row first: an aliased row stores the same values as the row it copies. */
  _mm256_maskstore_ps(c5, m0, v50), _mm256_maskstore_ps(c5 + 8, m1, v51);
  _mm256_maskstore_ps(c4, m0, v40), _mm256_maskstore_ps(c4 + 8, m1, v41);
  _mm256_maskstore_ps(c3, m0, v30), _mm256_maskstore_ps(c3 + 8, m1, v31);
  _mm256_maskstore_ps(c2, m0, v20), _mm256_maskstore_ps(c2 + 8, m1, v21);
  _mm256_maskstore_ps(c1, m0, v10), _mm256_maskstore_ps(c1 + 8, m1, v11);
  _mm256_maskstore_ps(c0, m0, v00), _mm256_maskstore_ps(c0 + 8, m1, v01);
}
