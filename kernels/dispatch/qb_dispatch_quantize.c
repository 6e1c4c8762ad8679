/* Kernel lists of the quantize and dequantize families (best first, scalar last;
 * rules in qb_dispatch.h). The scalar entries are the reference functions. */
#include "qb_dispatch.h"
#include "quantize/qb_quantize.h"

#define QB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define QB_QUANTIZE_ENTRY(ISA, BACKEND) \
  {{"qb_f32_q8_quantize__" #ISA, BACKEND, true}, qb_f32_qs8_quantize__##ISA, qb_f32_qu8_quantize__##ISA}
#define QB_DEQUANTIZE_ENTRY(ISA, BACKEND)                                         \
  {{"qb_q8_f32_dequantize__" #ISA, BACKEND, true}, qb_qs8_f32_dequantize__##ISA, \
   qb_qu8_f32_dequantize__##ISA}

static const qb_f32_q8_quantize_entry quantize_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    QB_QUANTIZE_ENTRY(avx512vnni, QB_BACKEND_AVX512VNNI),
    QB_QUANTIZE_ENTRY(avx2, QB_BACKEND_AVX2),
    QB_QUANTIZE_ENTRY(sse41, QB_BACKEND_SSE41),
#endif
#if defined(__aarch64__)
    QB_QUANTIZE_ENTRY(neon, QB_BACKEND_NEON),
#endif
    QB_QUANTIZE_ENTRY(scalar, QB_BACKEND_SCALAR),
};

static const qb_q8_f32_dequantize_entry dequantize_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    QB_DEQUANTIZE_ENTRY(avx512vnni, QB_BACKEND_AVX512VNNI),
    QB_DEQUANTIZE_ENTRY(avx2, QB_BACKEND_AVX2),
    QB_DEQUANTIZE_ENTRY(sse41, QB_BACKEND_SSE41),
#endif
#if defined(__aarch64__)
    QB_DEQUANTIZE_ENTRY(neon, QB_BACKEND_NEON),
#endif
    QB_DEQUANTIZE_ENTRY(scalar, QB_BACKEND_SCALAR),
};

const qb_f32_q8_quantize_entry* qb_f32_q8_quantize_entries(size_t* count) {
  *count = QB_COUNT(quantize_list);
  return quantize_list;
}

const qb_q8_f32_dequantize_entry* qb_q8_f32_dequantize_entries(size_t* count) {
  *count = QB_COUNT(dequantize_list);
  return dequantize_list;
}
