/* fp32 compute ceiling on ymm: 12 independent vfmadd231ps ymm chains per iteration
 * (FMA latency 4 x up to 2 per cycle needs >= 8 in flight; 12 + 2 operands fit the
 * 16 ymm registers). Named accumulators and empty asm barriers as in
 * peak_int8__avx512vnni.c. See qb_roofline_kernels.h. */
#include <immintrin.h>

#include "qb_roofline_kernels.h"

#define QB_KEEP4(c, w, x, y, z) __asm__ volatile("" : "+" c(w), "+" c(x), "+" c(y), "+" c(z))

uint64_t qb_peak_fp32_fma_ymm__avx2(uint64_t iters) {
  __m256 x0 = _mm256_set1_ps(0.0f);
  __m256 x1 = _mm256_set1_ps(1.0f);
  __m256 x2 = _mm256_set1_ps(2.0f);
  __m256 x3 = _mm256_set1_ps(3.0f);
  __m256 x4 = _mm256_set1_ps(4.0f);
  __m256 x5 = _mm256_set1_ps(5.0f);
  __m256 x6 = _mm256_set1_ps(6.0f);
  __m256 x7 = _mm256_set1_ps(7.0f);
  __m256 x8 = _mm256_set1_ps(8.0f);
  __m256 x9 = _mm256_set1_ps(9.0f);
  __m256 x10 = _mm256_set1_ps(10.0f);
  __m256 x11 = _mm256_set1_ps(11.0f);
  __m256 a = _mm256_set1_ps(0.5f);
  __m256 b = _mm256_set1_ps(1e-3f);
  for (uint64_t it = 0; it < iters; it++) {
    x0 = _mm256_fmadd_ps(a, b, x0);
    x1 = _mm256_fmadd_ps(a, b, x1);
    x2 = _mm256_fmadd_ps(a, b, x2);
    x3 = _mm256_fmadd_ps(a, b, x3);
    x4 = _mm256_fmadd_ps(a, b, x4);
    x5 = _mm256_fmadd_ps(a, b, x5);
    x6 = _mm256_fmadd_ps(a, b, x6);
    x7 = _mm256_fmadd_ps(a, b, x7);
    x8 = _mm256_fmadd_ps(a, b, x8);
    x9 = _mm256_fmadd_ps(a, b, x9);
    x10 = _mm256_fmadd_ps(a, b, x10);
    x11 = _mm256_fmadd_ps(a, b, x11);
    QB_KEEP4("x", x0, x1, x2, x3);
    QB_KEEP4("x", x4, x5, x6, x7);
    QB_KEEP4("x", x8, x9, x10, x11);
    __asm__ volatile("" : "+x"(a), "+x"(b));
  }
  __m256 s = _mm256_setzero_ps();
  s = _mm256_add_ps(s, x0);
  s = _mm256_add_ps(s, x1);
  s = _mm256_add_ps(s, x2);
  s = _mm256_add_ps(s, x3);
  s = _mm256_add_ps(s, x4);
  s = _mm256_add_ps(s, x5);
  s = _mm256_add_ps(s, x6);
  s = _mm256_add_ps(s, x7);
  s = _mm256_add_ps(s, x8);
  s = _mm256_add_ps(s, x9);
  s = _mm256_add_ps(s, x10);
  s = _mm256_add_ps(s, x11);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  float f = _mm_cvtss_f32(h);
  uint32_t u;
  __builtin_memcpy(&u, &f, sizeof u);
  return u;
}
