/* Kernel list of the fp32 depthwise conv family (best first, scalar last; rules in
 * qb_dispatch.h). Every entry compiles the same C at its ISA's vector width. */
#include "f32-dwconv/qb_f32_dwconv2d.h"
#include "qb_dispatch.h"

#define QB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const qb_f32_dwconv2d_entry f32_dwconv_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    {{"qb_f32_dwconv2d__avx512vnni", QB_BACKEND_AVX512VNNI, true}, qb_f32_dwconv2d__avx512vnni},
    {{"qb_f32_dwconv2d__avx2", QB_BACKEND_AVX2, true}, qb_f32_dwconv2d__avx2},
    {{"qb_f32_dwconv2d__sse41", QB_BACKEND_SSE41, true}, qb_f32_dwconv2d__sse41},
#endif
#if defined(__aarch64__)
    {{"qb_f32_dwconv2d__neon", QB_BACKEND_NEON, true}, qb_f32_dwconv2d__neon},
#endif
    {{"qb_f32_dwconv2d__scalar", QB_BACKEND_SCALAR, true}, qb_f32_dwconv2d__scalar},
};

const qb_f32_dwconv2d_entry* qb_f32_dwconv2d_entries(size_t* count) {
  *count = QB_COUNT(f32_dwconv_list);
  return f32_dwconv_list;
}
