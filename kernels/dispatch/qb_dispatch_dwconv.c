/* Kernel lists of the depthwise convolution families (best first, scalar last; rules
 * in qb_dispatch.h). The scalar entry is the reference function. */
#include "dwconv/qb_dwconv.h"
#include "qb_dispatch.h"

#define QB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const qb_qu8_qs8_qs32_dwconv2d_entry dwconv_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    {{"qb_qu8_qs8_qs32_dwconv2d__avx512vnni", QB_BACKEND_AVX512VNNI, true},
     qb_qu8_qs8_qs32_dwconv2d__avx512vnni},
    {{"qb_qu8_qs8_qs32_dwconv2d__avx2", QB_BACKEND_AVX2, true}, qb_qu8_qs8_qs32_dwconv2d__avx2},
    {{"qb_qu8_qs8_qs32_dwconv2d__sse41", QB_BACKEND_SSE41, true}, qb_qu8_qs8_qs32_dwconv2d__sse41},
#endif
#if defined(__aarch64__)
    {{"qb_qu8_qs8_qs32_dwconv2d__neon", QB_BACKEND_NEON, true}, qb_qu8_qs8_qs32_dwconv2d__neon},
#endif
    {{"qb_qu8_qs8_qs32_dwconv2d__scalar", QB_BACKEND_SCALAR, true},
     qb_qu8_qs8_qs32_dwconv2d__scalar},
};

const qb_qu8_qs8_qs32_dwconv2d_entry* qb_qu8_qs8_qs32_dwconv2d_entries(size_t* count) {
  *count = QB_COUNT(dwconv_list);
  return dwconv_list;
}

static const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry dwconv_fused_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    {{"qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__avx512vnni", QB_BACKEND_AVX512VNNI, true},
     qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__avx512vnni},
    {{"qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__avx2", QB_BACKEND_AVX2, true},
     qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__avx2},
    {{"qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__sse41", QB_BACKEND_SSE41, true},
     qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__sse41},
#endif
#if defined(__aarch64__)
    {{"qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__neon", QB_BACKEND_NEON, true},
     qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__neon},
#endif
    {{"qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar", QB_BACKEND_SCALAR, true},
     qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar},
};

const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry* qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entries(
    size_t* count) {
  *count = QB_COUNT(dwconv_fused_list);
  return dwconv_fused_list;
}

static const qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entry dwconv_gemmlowp_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    {{"qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__avx512vnni", QB_BACKEND_AVX512VNNI, true},
     qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__avx512vnni},
    {{"qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__avx2", QB_BACKEND_AVX2, true},
     qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__avx2},
    {{"qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__sse41", QB_BACKEND_SSE41, true},
     qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__sse41},
#endif
#if defined(__aarch64__)
    {{"qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__neon", QB_BACKEND_NEON, true},
     qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__neon},
#endif
    {{"qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__scalar", QB_BACKEND_SCALAR, true},
     qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__scalar},
};

const qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entry*
qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entries(size_t* count) {
  *count = QB_COUNT(dwconv_gemmlowp_list);
  return dwconv_gemmlowp_list;
}
