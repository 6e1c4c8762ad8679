/* The backend table (see qb_isa.h): one row per backend, in enum order. */
#include "qb_isa.h"

static bool always(const qb_isa_features* f) {
  (void)f;
  return true;
}
static bool has_sse41(const qb_isa_features* f) { return f->x86_sse41; }
/* AVX2 kernels are compiled with -mavx2 -mfma -mf16c, and need the OS to save YMM.
 * SSE4.1 too: avx2 falls back to sse41 kernels (every AVX2 CPU has it, but a
 * hypervisor may hide a flag). */
static bool has_avx2(const qb_isa_features* f) {
  return has_sse41(f) && f->x86_avx2 && f->x86_avx && f->x86_fma && f->x86_f16c && f->x86_osxsave &&
         f->x86_os_ymm;
}
static bool has_avx512vnni(const qb_isa_features* f) {
  return has_avx2(f) && f->x86_avx512f && f->x86_avx512bw && f->x86_avx512vl &&
         f->x86_avx512dq && f->x86_os_zmm && f->x86_avx512_vnni;
}
static bool has_neon(const qb_isa_features* f) { return f->arm_asimd; }
static bool has_neondot(const qb_isa_features* f) { return f->arm_asimd && f->arm_asimddp; }
/* Built +dotprod+i8mm, so it needs both. */
static bool has_i8mm(const qb_isa_features* f) { return has_neondot(f) && f->arm_i8mm; }

static const qb_backend_desc table[QB_BACKEND_COUNT] = {
    {QB_BACKEND_SCALAR, "scalar", "portable C, the reference of every kernel", QB_ARCH_ANY, NULL,
     always, QB_BACKEND_SCALAR, 0, true, NULL, NULL},
    {QB_BACKEND_SSE41, "sse41", "SSE4.1: pmaddwd on int16-widened int8 (exact)", QB_ARCH_X86,
     "sse41", has_sse41, QB_BACKEND_SCALAR, 4, true, "int8_maddwd_xmm", NULL},
    {QB_BACKEND_AVX2, "avx2", "AVX2 + FMA: vpmaddwd on int16-widened int8 (exact)", QB_ARCH_X86,
     "avx2", has_avx2, QB_BACKEND_SSE41, 5, true, "int8_maddwd_ymm", "fp32_fma_ymm"},
    {QB_BACKEND_AVX2_SAT, "avx2-sat",
     "AVX2: vpmaddubsw with int16 saturation, as deployed runtimes (not exact)", QB_ARCH_X86,
     "avx2", has_avx2, QB_BACKEND_AVX2, 0, false, "int8_maddubs_ymm", "fp32_fma_ymm"},
    {QB_BACKEND_AVX512VNNI, "avx512vnni", "AVX-512 F/BW/VL/DQ + VNNI: vpdpbusd", QB_ARCH_X86,
     "avx512vnni", has_avx512vnni, QB_BACKEND_AVX2, 6, true, "int8_vnni_zmm", "fp32_fma_zmm"},
    {QB_BACKEND_NEON, "neon", "Armv8 Advanced SIMD: smull / sadalp", QB_ARCH_ARM64, "neon",
     has_neon, QB_BACKEND_SCALAR, 1, true, NULL, NULL},
    {QB_BACKEND_NEONDOT, "neondot", "Armv8.2 dotprod: sdot / udot", QB_ARCH_ARM64, "neondot",
     has_neondot, QB_BACKEND_NEON, 2, true, NULL, NULL},
    {QB_BACKEND_I8MM, "i8mm", "Armv8.6 i8mm: usmmla / smmla (+ dotprod)", QB_ARCH_ARM64, "i8mm",
     has_i8mm, QB_BACKEND_NEONDOT, 3, true, NULL, NULL},
};

const qb_backend_desc* qb_backend_describe(qb_backend b) {
  return (unsigned)b < QB_BACKEND_COUNT ? &table[b] : NULL;
}

qb_backend qb_backend_best_of(qb_backend_set set) {
  qb_backend best = QB_BACKEND_SCALAR;
  unsigned rank = 0;
  for (int b = 0; b < QB_BACKEND_COUNT; b++)
    if ((set & QB_BACKEND_BIT(b)) && table[b].best_rank > rank) {
      best = (qb_backend)b;
      rank = table[b].best_rank;
    }
  return best;
}
