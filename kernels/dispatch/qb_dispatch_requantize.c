/* Kernel lists of the requantization families, fp32 and gemmlowp (best first,
 * scalar last; rules in qb_dispatch.h). The scalar entries are the reference functions. */
#include "qb_dispatch.h"
#include "requantize/qb_requantize.h"

#define QB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define QB_REQUANTIZE_ENTRY(PATH, ISA, BACKEND)                                          \
  {{"qb_qs32_q8_requantize_" #PATH "__" #ISA, BACKEND, true},                            \
   qb_qs32_qs8_requantize_##PATH##__##ISA, qb_qs32_qu8_requantize_##PATH##__##ISA}

static const qb_qs32_q8_requantize_fp32_entry fp32_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    QB_REQUANTIZE_ENTRY(fp32, avx512vnni, QB_BACKEND_AVX512VNNI),
    QB_REQUANTIZE_ENTRY(fp32, avx2, QB_BACKEND_AVX2),
    QB_REQUANTIZE_ENTRY(fp32, sse41, QB_BACKEND_SSE41),
#endif
#if defined(__aarch64__)
    QB_REQUANTIZE_ENTRY(fp32, neon, QB_BACKEND_NEON),
#endif
    QB_REQUANTIZE_ENTRY(fp32, scalar, QB_BACKEND_SCALAR),
};

static const qb_qs32_q8_requantize_gemmlowp_entry gemmlowp_list[] = {
#if defined(__x86_64__) || defined(__i386__)
    QB_REQUANTIZE_ENTRY(gemmlowp, avx512vnni, QB_BACKEND_AVX512VNNI),
    QB_REQUANTIZE_ENTRY(gemmlowp, avx2, QB_BACKEND_AVX2),
    QB_REQUANTIZE_ENTRY(gemmlowp, sse41, QB_BACKEND_SSE41),
#endif
#if defined(__aarch64__)
    QB_REQUANTIZE_ENTRY(gemmlowp, neon, QB_BACKEND_NEON),
#endif
    QB_REQUANTIZE_ENTRY(gemmlowp, scalar, QB_BACKEND_SCALAR),
};

const qb_qs32_q8_requantize_fp32_entry* qb_qs32_q8_requantize_fp32_entries(size_t* count) {
  *count = QB_COUNT(fp32_list);
  return fp32_list;
}

const qb_qs32_q8_requantize_gemmlowp_entry* qb_qs32_q8_requantize_gemmlowp_entries(size_t* count) {
  *count = QB_COUNT(gemmlowp_list);
  return gemmlowp_list;
}
