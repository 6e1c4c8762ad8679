/* fp32 compute ceiling on zmm: 24 independent vfmadd231ps zmm chains per iteration
 * (FMA latency 4 x up to 2 per cycle needs >= 8 in flight). Needs only AVX512F;
 * it sits in the avx512vnni backend's file set. Named accumulators and empty asm
 * barriers as in peak_int8__avx512vnni.c. See qb_roofline_kernels.h. */
#include <immintrin.h>

#include "qb_roofline_kernels.h"

#define QB_KEEP4(c, w, x, y, z) __asm__ volatile("" : "+" c(w), "+" c(x), "+" c(y), "+" c(z))

uint64_t qb_peak_fp32_fma_zmm__avx512vnni(uint64_t iters) {
  __m512 x0 = _mm512_set1_ps(0.0f);
  __m512 x1 = _mm512_set1_ps(1.0f);
  __m512 x2 = _mm512_set1_ps(2.0f);
  __m512 x3 = _mm512_set1_ps(3.0f);
  __m512 x4 = _mm512_set1_ps(4.0f);
  __m512 x5 = _mm512_set1_ps(5.0f);
  __m512 x6 = _mm512_set1_ps(6.0f);
  __m512 x7 = _mm512_set1_ps(7.0f);
  __m512 x8 = _mm512_set1_ps(8.0f);
  __m512 x9 = _mm512_set1_ps(9.0f);
  __m512 x10 = _mm512_set1_ps(10.0f);
  __m512 x11 = _mm512_set1_ps(11.0f);
  __m512 x12 = _mm512_set1_ps(12.0f);
  __m512 x13 = _mm512_set1_ps(13.0f);
  __m512 x14 = _mm512_set1_ps(14.0f);
  __m512 x15 = _mm512_set1_ps(15.0f);
  __m512 x16 = _mm512_set1_ps(16.0f);
  __m512 x17 = _mm512_set1_ps(17.0f);
  __m512 x18 = _mm512_set1_ps(18.0f);
  __m512 x19 = _mm512_set1_ps(19.0f);
  __m512 x20 = _mm512_set1_ps(20.0f);
  __m512 x21 = _mm512_set1_ps(21.0f);
  __m512 x22 = _mm512_set1_ps(22.0f);
  __m512 x23 = _mm512_set1_ps(23.0f);
  __m512 a = _mm512_set1_ps(0.5f);
  __m512 b = _mm512_set1_ps(1e-3f);
  for (uint64_t it = 0; it < iters; it++) {
    x0 = _mm512_fmadd_ps(a, b, x0);
    x1 = _mm512_fmadd_ps(a, b, x1);
    x2 = _mm512_fmadd_ps(a, b, x2);
    x3 = _mm512_fmadd_ps(a, b, x3);
    x4 = _mm512_fmadd_ps(a, b, x4);
    x5 = _mm512_fmadd_ps(a, b, x5);
    x6 = _mm512_fmadd_ps(a, b, x6);
    x7 = _mm512_fmadd_ps(a, b, x7);
    x8 = _mm512_fmadd_ps(a, b, x8);
    x9 = _mm512_fmadd_ps(a, b, x9);
    x10 = _mm512_fmadd_ps(a, b, x10);
    x11 = _mm512_fmadd_ps(a, b, x11);
    x12 = _mm512_fmadd_ps(a, b, x12);
    x13 = _mm512_fmadd_ps(a, b, x13);
    x14 = _mm512_fmadd_ps(a, b, x14);
    x15 = _mm512_fmadd_ps(a, b, x15);
    x16 = _mm512_fmadd_ps(a, b, x16);
    x17 = _mm512_fmadd_ps(a, b, x17);
    x18 = _mm512_fmadd_ps(a, b, x18);
    x19 = _mm512_fmadd_ps(a, b, x19);
    x20 = _mm512_fmadd_ps(a, b, x20);
    x21 = _mm512_fmadd_ps(a, b, x21);
    x22 = _mm512_fmadd_ps(a, b, x22);
    x23 = _mm512_fmadd_ps(a, b, x23);
    QB_KEEP4("v", x0, x1, x2, x3);
    QB_KEEP4("v", x4, x5, x6, x7);
    QB_KEEP4("v", x8, x9, x10, x11);
    QB_KEEP4("v", x12, x13, x14, x15);
    QB_KEEP4("v", x16, x17, x18, x19);
    QB_KEEP4("v", x20, x21, x22, x23);
    __asm__ volatile("" : "+v"(a), "+v"(b));
  }
  __m512 s = _mm512_setzero_ps();
  s = _mm512_add_ps(s, x0);
  s = _mm512_add_ps(s, x1);
  s = _mm512_add_ps(s, x2);
  s = _mm512_add_ps(s, x3);
  s = _mm512_add_ps(s, x4);
  s = _mm512_add_ps(s, x5);
  s = _mm512_add_ps(s, x6);
  s = _mm512_add_ps(s, x7);
  s = _mm512_add_ps(s, x8);
  s = _mm512_add_ps(s, x9);
  s = _mm512_add_ps(s, x10);
  s = _mm512_add_ps(s, x11);
  s = _mm512_add_ps(s, x12);
  s = _mm512_add_ps(s, x13);
  s = _mm512_add_ps(s, x14);
  s = _mm512_add_ps(s, x15);
  s = _mm512_add_ps(s, x16);
  s = _mm512_add_ps(s, x17);
  s = _mm512_add_ps(s, x18);
  s = _mm512_add_ps(s, x19);
  s = _mm512_add_ps(s, x20);
  s = _mm512_add_ps(s, x21);
  s = _mm512_add_ps(s, x22);
  s = _mm512_add_ps(s, x23);
  float f = _mm512_reduce_add_ps(s);
  uint32_t u;
  __builtin_memcpy(&u, &f, sizeof u);
  return u;
}
