/* Kernel lists of the int4 weight-only families (best first, scalar last; rules in
 * qb_dispatch.h). The scalar entries are the reference functions. */
#include "qb_dispatch.h"
#include "wgemm/qb_wgemm.h"

#define QB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const qb_qs8_q4_f32_wgemm_entry w4a8_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    {{"qb_qs8_q4_f32_wgemm_1x16__avx512vnni", QB_BACKEND_AVX512VNNI, true},
     qb_f32_qs8_rowquantize__avx512vnni, qb_qs8_q4_f32_wgemm_1x16__avx512vnni, NULL, NULL, NULL, 0},
    {{"qb_qs8_q4_f32_wgemm_1x8__avx512vnni", QB_BACKEND_AVX512VNNI, true},
     qb_f32_qs8_rowquantize__avx512vnni, qb_qs8_q4_f32_wgemm_1x8__avx512vnni, NULL, NULL, NULL, 0},
    {{"qb_qs8_q4_f32_wgemm_4x8c4__avx2", QB_BACKEND_AVX2, true}, qb_f32_qs8_rowquantize__avx2,
     NULL, qb_qs8_q4_f32_wgemm_packed_size_8c4, qb_qs8_q4_f32_wgemm_pack_8c4,
     qb_qs8_q4_f32_wgemm_4x8c4__avx2, 8},
    {{"qb_qs8_q4_f32_wgemm_1x4__avx2", QB_BACKEND_AVX2, true}, qb_f32_qs8_rowquantize__avx2,
     qb_qs8_q4_f32_wgemm_1x4__avx2, NULL, NULL, NULL, 0},
    {{"qb_qs8_q4_f32_wgemm_2x8c4__sse41", QB_BACKEND_SSE41, true}, qb_f32_qs8_rowquantize__sse41,
     NULL, qb_qs8_q4_f32_wgemm_packed_size_8c4, qb_qs8_q4_f32_wgemm_pack_8c4,
     qb_qs8_q4_f32_wgemm_2x8c4__sse41, 8},
    {{"qb_qs8_q4_f32_wgemm_1x4__sse41", QB_BACKEND_SSE41, true}, qb_f32_qs8_rowquantize__sse41,
     qb_qs8_q4_f32_wgemm_1x4__sse41, NULL, NULL, NULL, 0},
#endif
#if defined(__aarch64__)
    {{"qb_qs8_q4_f32_wgemm_4x8c8__i8mm", QB_BACKEND_I8MM, true}, qb_f32_qs8_rowquantize__neon,
     NULL, qb_qs8_q4_f32_wgemm_packed_size_8c4, qb_qs8_q4_f32_wgemm_pack_8c8,
     qb_qs8_q4_f32_wgemm_4x8c8__i8mm, 8},
    {{"qb_qs8_q4_f32_wgemm_4x8c4__neondot", QB_BACKEND_NEONDOT, true}, qb_f32_qs8_rowquantize__neon,
     NULL, qb_qs8_q4_f32_wgemm_packed_size_8c4, qb_qs8_q4_f32_wgemm_pack_8c4,
     qb_qs8_q4_f32_wgemm_4x8c4__neondot, 8},
    {{"qb_qs8_q4_f32_wgemm_1x4__neondot", QB_BACKEND_NEONDOT, true}, qb_f32_qs8_rowquantize__neon,
     qb_qs8_q4_f32_wgemm_1x4__neondot, NULL, NULL, NULL, 0},
    {{"qb_qs8_q4_f32_wgemm_2x8c4__neon", QB_BACKEND_NEON, true}, qb_f32_qs8_rowquantize__neon,
     NULL, qb_qs8_q4_f32_wgemm_packed_size_8c4, qb_qs8_q4_f32_wgemm_pack_8c4,
     qb_qs8_q4_f32_wgemm_2x8c4__neon, 8},
    {{"qb_qs8_q4_f32_wgemm_1x4__neon", QB_BACKEND_NEON, true}, qb_f32_qs8_rowquantize__neon,
     qb_qs8_q4_f32_wgemm_1x4__neon, NULL, NULL, NULL, 0},
#endif
    {{"qb_qs8_q4_f32_wgemm__scalar", QB_BACKEND_SCALAR, true}, qb_f32_qs8_rowquantize__scalar,
     qb_qs8_q4_f32_wgemm__scalar, NULL, NULL, NULL, 0},
};

static const qb_f32_q4_f32_wgemm_entry w4a32_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    {{"qb_f32_q4_f32_wgemm_1x16__avx512vnni", QB_BACKEND_AVX512VNNI, true},
     qb_f32_q4_f32_wgemm_1x16__avx512vnni},
    {{"qb_f32_q4_f32_wgemm_6x16__avx2", QB_BACKEND_AVX2, true}, qb_f32_q4_f32_wgemm_6x16__avx2},
    {{"qb_f32_q4_f32_wgemm_1x32__avx2", QB_BACKEND_AVX2, true}, qb_f32_q4_f32_wgemm_1x32__avx2},
#endif
#if defined(__aarch64__)
    {{"qb_f32_q4_f32_wgemm_4x16__neon", QB_BACKEND_NEON, true}, qb_f32_q4_f32_wgemm_4x16__neon},
    {{"qb_f32_q4_f32_wgemm_1x4__neon", QB_BACKEND_NEON, true}, qb_f32_q4_f32_wgemm_1x4__neon},
#endif
    {{"qb_f32_q4_f32_wgemm__scalar", QB_BACKEND_SCALAR, true}, qb_f32_q4_f32_wgemm__scalar},
};

const qb_f32_q4_f32_wgemm_entry* qb_f32_q4_f32_wgemm_entries(size_t* count) {
  *count = QB_COUNT(w4a32_list);
  return w4a32_list;
}

const qb_qs8_q4_f32_wgemm_entry* qb_qs8_q4_f32_wgemm_entries(size_t* count) {
  *count = QB_COUNT(w4a8_list);
  return w4a8_list;
}
