/* Kernel list of the fp32 GEMM family (best first, scalar last; rules in
 * qb_dispatch.h). sse41 has no entry (no FMA: it takes the scalar kernel);
 * avx2-sat takes avx2's. */
#include "f32-gemm/qb_f32_gemm.h"
#include "qb_dispatch.h"

#define QB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define QB_F32_PACKED_SIZE(NR)                                           \
  static size_t packed_size_##NR(size_t N, size_t K) {                   \
    return qb_f32_gemm_packed_floats(NR, N, K) * sizeof(float);          \
  }
QB_F32_PACKED_SIZE(8)
#if defined(__x86_64__) || defined(__i386__)
QB_F32_PACKED_SIZE(16)
QB_F32_PACKED_SIZE(32)
#endif

static const qb_f32_gemm_entry f32_gemm_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    {{"qb_f32_gemm_8x32__avx512vnni", QB_BACKEND_AVX512VNNI, 8, 32, 1, true, packed_size_32},
     qb_f32_gemm_ukernel_8x32__avx512vnni, NULL, 0},
    {{"qb_f32_gemm_6x16__avx2", QB_BACKEND_AVX2, 6, 16, 1, true, packed_size_16},
     qb_f32_gemm_ukernel_6x16__avx2, qb_f32_gemv_ukernel_1x64__avx2, 4},
#endif
#if defined(__aarch64__)
    {{"qb_f32_gemm_6x8__neon", QB_BACKEND_NEON, 6, 8, 1, true, packed_size_8},
     qb_f32_gemm_ukernel_6x8__neon, NULL, 0},
#endif
    {{"qb_f32_gemm_4x8__scalar", QB_BACKEND_SCALAR, 4, 8, 1, true, packed_size_8},
     qb_f32_gemm_ukernel_4x8__scalar, NULL, 0},
};

const qb_f32_gemm_entry* qb_f32_gemm_entries(size_t* count) {
  *count = QB_COUNT(f32_gemm_list);
  return f32_gemm_list;
}
