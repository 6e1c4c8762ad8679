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
  if (accumulate && nc == NR) {
    v00 = _mm256_loadu_ps(c0), v01 = _mm256_loadu_ps(c0 + 8);
    v10 = _mm256_loadu_ps(c1), v11 = _mm256_loadu_ps(c1 + 8);
    v20 = _mm256_loadu_ps(c2), v21 = _mm256_loadu_ps(c2 + 8);
    v30 = _mm256_loadu_ps(c3), v31 = _mm256_loadu_ps(c3 + 8);
    v40 = _mm256_loadu_ps(c4), v41 = _mm256_loadu_ps(c4 + 8);
    v50 = _mm256_loadu_ps(c5), v51 = _mm256_loadu_ps(c5 + 8);
  } else if (accumulate) {
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
  /* Highest row first: an aliased row stores the same values as the row it copies.
   * Whole panels use plain stores (masked stores are microcoded and slow on AMD). */
  if (nc == NR) {
    _mm256_storeu_ps(c5, v50), _mm256_storeu_ps(c5 + 8, v51);
    _mm256_storeu_ps(c4, v40), _mm256_storeu_ps(c4 + 8, v41);
    _mm256_storeu_ps(c3, v30), _mm256_storeu_ps(c3 + 8, v31);
    _mm256_storeu_ps(c2, v20), _mm256_storeu_ps(c2 + 8, v21);
    _mm256_storeu_ps(c1, v10), _mm256_storeu_ps(c1 + 8, v11);
    _mm256_storeu_ps(c0, v00), _mm256_storeu_ps(c0 + 8, v01);
    return;
  }
  _mm256_maskstore_ps(c5, m0, v50), _mm256_maskstore_ps(c5 + 8, m1, v51);
  _mm256_maskstore_ps(c4, m0, v40), _mm256_maskstore_ps(c4 + 8, m1, v41);
  _mm256_maskstore_ps(c3, m0, v30), _mm256_maskstore_ps(c3 + 8, m1, v31);
  _mm256_maskstore_ps(c2, m0, v20), _mm256_maskstore_ps(c2 + 8, m1, v21);
  _mm256_maskstore_ps(c1, m0, v10), _mm256_maskstore_ps(c1 + 8, m1, v11);
  _mm256_maskstore_ps(c0, m0, v00), _mm256_maskstore_ps(c0 + 8, m1, v01);
}

/* One row of A against up to 4 panels (nc <= 64 columns, panel p at w + p*panel_stride):
 * a GEMV tile. With one row, the 6x16 tile's 12 chains would be 2 distinct ones
 * and each k would wait for the previous FMA (4-5 cycles); 4 panels give 8
 * independent chains per k, enough to keep both FMA pipes busy. Panels past nc
 * alias panel 0 and their columns are masked. */
void qb_f32_gemv_ukernel_1x64__avx2(size_t nc, size_t kc, const float* a, const float* w,
                                    size_t panel_stride, float* c, bool accumulate) {
  const float* w0 = w;
  const float* w1 = nc > 16 ? w0 + panel_stride : w0;
  const float* w2 = nc > 32 ? w1 + panel_stride : w0;
  const float* w3 = nc > 48 ? w2 + panel_stride : w0;
  __m256i m[8];
  for (size_t q = 0; q < 8; q++) m[q] = column_mask(nc, 8 * q);
  __m256 v[8];
  const bool full = nc == 4 * NR; /* plain loads and stores (masked ones are slow on AMD) */
  for (size_t q = 0; q < 8; q++)
    v[q] = !accumulate ? _mm256_setzero_ps()
           : full      ? _mm256_loadu_ps(c + 8 * q)
                       : _mm256_maskload_ps(c + 8 * q, m[q]);
  for (size_t k = 0; k < kc; k++) {
    const __m256 x = _mm256_broadcast_ss(a + k);
    v[0] = _mm256_fmadd_ps(x, _mm256_load_ps(w0 + k * NR), v[0]);
    v[1] = _mm256_fmadd_ps(x, _mm256_load_ps(w0 + k * NR + 8), v[1]);
    v[2] = _mm256_fmadd_ps(x, _mm256_load_ps(w1 + k * NR), v[2]);
    v[3] = _mm256_fmadd_ps(x, _mm256_load_ps(w1 + k * NR + 8), v[3]);
    v[4] = _mm256_fmadd_ps(x, _mm256_load_ps(w2 + k * NR), v[4]);
    v[5] = _mm256_fmadd_ps(x, _mm256_load_ps(w2 + k * NR + 8), v[5]);
    v[6] = _mm256_fmadd_ps(x, _mm256_load_ps(w3 + k * NR), v[6]);
    v[7] = _mm256_fmadd_ps(x, _mm256_load_ps(w3 + k * NR + 8), v[7]);
  }
  for (size_t q = 0; q < 8; q++)
    if (full) _mm256_storeu_ps(c + 8 * q, v[q]);
    else _mm256_maskstore_ps(c + 8 * q, m[q], v[q]);
}
