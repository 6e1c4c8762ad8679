/* The roofline probes of this architecture (see qb_roofline_kernels.h): generic C,
 * a table of the per-ISA loops. The backend table (kernels/isa/qb_backend_table.c)
 * names, per backend, which of these ceilings its kernels are measured against. */
#include "qb_roofline_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
static const qb_roofline_probe probes[] = {
    {"int8_vnni_zmm", QB_BACKEND_AVX512VNNI, QB_ROOF_INT8, "vpdpbusd zmm",
     qb_peak_int8_vnni_zmm__avx512vnni, QB_PEAK_INT8_VNNI_ZMM_MACS, NULL, QB_ROOF_WS_L1},
    {"int8_vnni_ymm", QB_BACKEND_AVX512VNNI, QB_ROOF_INT8, "vpdpbusd ymm",
     qb_peak_int8_vnni_ymm__avx512vnni, QB_PEAK_INT8_VNNI_YMM_MACS, NULL, QB_ROOF_WS_L1},
    {"int8_maddubs_ymm", QB_BACKEND_AVX2, QB_ROOF_INT8,
     "vpmaddubsw+vpmaddwd+vpaddd ymm (int16 sat.)", qb_peak_int8_maddubs_ymm__avx2,
     QB_PEAK_INT8_MADDUBS_YMM_MACS, NULL, QB_ROOF_WS_L1},
    {"int8_maddwd_ymm", QB_BACKEND_AVX2, QB_ROOF_INT8, "vpmaddwd+vpaddd ymm on int16 (exact)",
     qb_peak_int8_maddwd_ymm__avx2, QB_PEAK_INT8_MADDWD_YMM_MACS, NULL, QB_ROOF_WS_L1},
    {"int8_maddubs_xmm", QB_BACKEND_SSE41, QB_ROOF_INT8,
     "pmaddubsw+pmaddwd+paddd xmm (int16 sat.)", qb_peak_int8_maddubs_xmm__sse41,
     QB_PEAK_INT8_MADDUBS_XMM_MACS, NULL, QB_ROOF_WS_L1},
    {"int8_maddwd_xmm", QB_BACKEND_SSE41, QB_ROOF_INT8, "pmaddwd+paddd xmm on int16 (exact)",
     qb_peak_int8_maddwd_xmm__sse41, QB_PEAK_INT8_MADDWD_XMM_MACS, NULL, QB_ROOF_WS_L1},
    {"fp32_fma_zmm", QB_BACKEND_AVX512VNNI, QB_ROOF_FP32, "vfmadd231ps zmm",
     qb_peak_fp32_fma_zmm__avx512vnni, QB_PEAK_FP32_FMA_ZMM_FLOPS, NULL, QB_ROOF_WS_L1},
    {"fp32_fma_ymm", QB_BACKEND_AVX2, QB_ROOF_FP32, "vfmadd231ps ymm", qb_peak_fp32_fma_ymm__avx2,
     QB_PEAK_FP32_FMA_YMM_FLOPS, NULL, QB_ROOF_WS_L1},
    {"read_l1", QB_BACKEND_AVX2, QB_ROOF_READ, "half of L1d per thread", NULL, 0,
     qb_read_bw__avx2, QB_ROOF_WS_L1},
    {"read_l2", QB_BACKEND_AVX2, QB_ROOF_READ, "half of L2 per thread", NULL, 0,
     qb_read_bw__avx2, QB_ROOF_WS_L2},
    {"read_l3", QB_BACKEND_AVX2, QB_ROOF_READ, "min(L3/2, sqrt(L2s x L3)), split across threads",
     NULL, 0, qb_read_bw__avx2, QB_ROOF_WS_L3},
    {"read_dram", QB_BACKEND_AVX2, QB_ROOF_READ, "8 x LLC (capped), split across threads", NULL,
     0, qb_read_bw__avx2, QB_ROOF_WS_DRAM},
};
const qb_roofline_probe* qb_roofline_probes(size_t* count) {
  *count = sizeof probes / sizeof probes[0];
  return probes;
}
#else
const qb_roofline_probe* qb_roofline_probes(size_t* count) {
  *count = 0;
  return NULL;
}
#endif
