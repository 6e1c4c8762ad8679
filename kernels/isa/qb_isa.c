/* ISA detection (generic C: no ISA flags, runs on any CPU of the architecture).
 *
 * x86-64, CPUID leaves and bits read (Intel SDM vol. 2A "CPUID", AMD APM vol. 3):
 *   leaf 0:          EAX = highest standard leaf; EBX,EDX,ECX = vendor string
 *   leaf 1, ECX:     bit 12 FMA, bit 19 SSE4.1, bit 27 OSXSAVE (the OS enabled
 *                    XSETBV/XGETBV), bit 28 AVX, bit 29 F16C
 *   leaf 7/0, EAX:   highest subleaf of leaf 7
 *   leaf 7/0, EBX:   bit 5 AVX2, bit 16 AVX512F, bit 17 AVX512DQ, bit 30 AVX512BW,
 *                    bit 31 AVX512VL
 *   leaf 7/0, ECX:   bit 11 AVX512_VNNI
 *   leaf 7/1, EAX:   bit 4 AVX_VNNI (VEX-encoded VNNI; information only)
 *   XGETBV(ECX=0) = XCR0, only when OSXSAVE is set:
 *                    bit 1 SSE (XMM) state, bit 2 AVX (upper YMM) state
 *                    -> AVX usable iff (XCR0 & 0x6) == 0x6;
 *                    bit 5 opmask k0-k7, bit 6 upper halves of ZMM0-15,
 *                    bit 7 ZMM16-31 -> AVX-512 usable iff (XCR0 & 0xE6) == 0xE6.
 *   SSE state needs no check on x86-64: the ABI requires SSE2 and every x86-64 OS
 *   sets CR4.OSFXSR.
 * Backends (each also requires what its compile flags allow the compiler to emit,
 * see kernels/CMakeLists.txt):
 *   sse41       SSE4.1
 *   avx2        sse41 ∧ AVX2 ∧ AVX ∧ FMA ∧ F16C ∧ OSXSAVE ∧ XCR0 YMM  (-mavx2 -mfma -mf16c)
 *   avx2-sat    same as avx2
 *   avx512vnni  avx2 ∧ AVX512F/BW/VL/DQ ∧ AVX512_VNNI ∧ XCR0 ZMM
 *
 * (the predicates are the table's, kernels/isa/qb_backend_table.c)
 *
 * aarch64, getauxval (Linux <asm/hwcap.h>):
 *   AT_HWCAP  bit 1  HWCAP_ASIMD   (Advanced SIMD)             -> neon
 *   AT_HWCAP  bit 20 HWCAP_ASIMDDP (SDOT/UDOT, ARMv8.2 dotprod) -> neondot (with ASIMD)
 *   AT_HWCAP2 bit 13 HWCAP2_I8MM   (SMMLA/UMMLA/USMMLA, USDOT)  -> i8mm (with ASIMD
 *                                                     and ASIMDDP: built +dotprod+i8mm)
 * The kernel sets these only for features it lets user space use, so no
 * separate OS check is needed. */
#include "qb_isa.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define QB_ISA_X86 1
#elif defined(__aarch64__)
#include <sys/auxv.h>
#define QB_ISA_ARM64 1
#endif

const char* qb_backend_name(qb_backend b) {
  const qb_backend_desc* d = qb_backend_describe(b);
  return d ? d->name : NULL;
}

int qb_backend_from_name(const char* name, size_t len, qb_backend* out) {
  for (int b = 0; b < QB_BACKEND_COUNT; b++)
    if (strlen(qb_backend_name((qb_backend)b)) == len &&
        memcmp(qb_backend_name((qb_backend)b), name, len) == 0) {
      *out = (qb_backend)b;
      return 0;
    }
  return -1;
}

/* ------------------------------------------------------------- detection */
static qb_isa_features features;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;

#ifdef QB_ISA_X86
static uint64_t read_xcr0(void) {
  uint32_t lo, hi;
  /* XGETBV with ECX = 0 reads XCR0 (encoded as bytes: no -mxsave needed). */
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

static void detect_x86(qb_isa_features* f) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return;
  f->x86_max_leaf = eax;
  memcpy(f->x86_vendor + 0, &ebx, 4);
  memcpy(f->x86_vendor + 4, &edx, 4);
  memcpy(f->x86_vendor + 8, &ecx, 4);
  f->x86_vendor[12] = '\0';

  if (f->x86_max_leaf >= 1) {
    __cpuid(1, eax, ebx, ecx, edx);
    f->x86_fma = (ecx >> 12) & 1;
    f->x86_sse41 = (ecx >> 19) & 1;
    f->x86_osxsave = (ecx >> 27) & 1;
    f->x86_avx = (ecx >> 28) & 1;
    f->x86_f16c = (ecx >> 29) & 1;
  }
  if (f->x86_osxsave) {
    f->x86_xcr0 = read_xcr0();
    f->x86_os_ymm = (f->x86_xcr0 & 0x6) == 0x6;
    f->x86_os_zmm = (f->x86_xcr0 & 0xE6) == 0xE6;
  }
  if (f->x86_max_leaf >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    const unsigned max_subleaf = eax;
    f->x86_avx2 = (ebx >> 5) & 1;
    f->x86_avx512f = (ebx >> 16) & 1;
    f->x86_avx512dq = (ebx >> 17) & 1;
    f->x86_avx512bw = (ebx >> 30) & 1;
    f->x86_avx512vl = (ebx >> 31) & 1;
    f->x86_avx512_vnni = (ecx >> 11) & 1;
    if (max_subleaf >= 1) {
      __cpuid_count(7, 1, eax, ebx, ecx, edx);
      f->x86_avx_vnni = (eax >> 4) & 1;
    }
  }
}
#endif

#ifdef QB_ISA_ARM64
static void detect_arm64(qb_isa_features* f) {
  f->arm_hwcap = getauxval(AT_HWCAP);
  f->arm_hwcap2 = getauxval(AT_HWCAP2);
  f->arm_asimd = (f->arm_hwcap >> 1) & 1;    /* HWCAP_ASIMD */
  f->arm_asimddp = (f->arm_hwcap >> 20) & 1; /* HWCAP_ASIMDDP */
  f->arm_i8mm = (f->arm_hwcap2 >> 13) & 1;   /* HWCAP2_I8MM */
}
#endif

static void detect_once(void) {
#ifdef QB_ISA_X86
  detect_x86(&features);
#endif
#ifdef QB_ISA_ARM64
  detect_arm64(&features);
#endif
}

const qb_isa_features* qb_isa_features_get(void) {
  pthread_once(&features_once, detect_once);
  return &features;
}

qb_backend_set qb_isa_detected(void) {
  const qb_isa_features* f = qb_isa_features_get();
  qb_backend_set s = 0;
  for (int b = 0; b < QB_BACKEND_COUNT; b++)
    if (qb_backend_describe((qb_backend)b)->detected(f)) s |= QB_BACKEND_BIT(b);
  return s;
}

/* kernels/CMakeLists.txt defines QB_BUILT_ISAS, the ISA tokens of which at least one
 * kernel file was compiled, as ",tok1,tok2,"; scalar (no token) is always built. */
#ifndef QB_BUILT_ISAS
#define QB_BUILT_ISAS ","
#endif
static bool token_built(const char* token) {
  if (!token) return true;
  char key[24];
  snprintf(key, sizeof key, ",%s,", token);
  return strstr(QB_BUILT_ISAS, key) != NULL;
}

qb_backend_set qb_isa_built(void) {
  qb_backend_set s = 0;
  for (int b = 0; b < QB_BACKEND_COUNT; b++)
    if (token_built(qb_backend_describe((qb_backend)b)->isa_token)) s |= QB_BACKEND_BIT(b);
  return s;
}

/* ------------------------------------------------------------------ mask */
int qb_isa_mask_parse(const char* text, qb_backend_set* mask, char* err, size_t err_size) {
  qb_backend_set m = QB_BACKEND_BIT(QB_BACKEND_SCALAR);
  int status = 0;
  if (err_size) err[0] = '\0';
  const char* p = text ? text : "";
  while (*p) {
    while (*p == ' ' || *p == '\t') p++;
    const char* start = p;
    while (*p && *p != ',') p++;
    const char* end = p;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (*p == ',') p++;
    if (end == start) continue; /* empty item: "a,,b" or trailing comma */
    qb_backend b;
    if (qb_backend_from_name(start, (size_t)(end - start), &b) == 0) {
      m |= QB_BACKEND_BIT(b);
    } else if (status == 0) {
      status = -1;
      if (err_size) {
        int n = snprintf(err, err_size, "unknown backend '%.*s' (known:", (int)(end - start), start);
        for (int i = 0; i < QB_BACKEND_COUNT && n >= 0 && (size_t)n < err_size; i++)
          n += snprintf(err + n, err_size - (size_t)n, " %s", qb_backend_name((qb_backend)i));
        if (n >= 0 && (size_t)n < err_size) snprintf(err + n, err_size - (size_t)n, ")");
      }
    }
  }
  *mask = m;
  return status;
}

static pthread_mutex_t mask_lock = PTHREAD_MUTEX_INITIALIZER;
static bool mask_frozen = false, mask_given = false;
static qb_backend_set mask_value = QB_BACKEND_SET_ALL;

int qb_isa_set_mask(qb_backend_set mask) {
  pthread_mutex_lock(&mask_lock);
  const int status = mask_frozen ? -1 : 0;
  if (!mask_frozen) {
    mask_value = (mask & QB_BACKEND_SET_ALL) | QB_BACKEND_BIT(QB_BACKEND_SCALAR);
    mask_given = true;
  }
  pthread_mutex_unlock(&mask_lock);
  return status;
}

qb_backend_set qb_isa_mask(void) {
  pthread_mutex_lock(&mask_lock);
  if (!mask_frozen) {
    const char* env = getenv("QB_ISA_MASK");
    if (!mask_given && env != NULL) {
      char err[256];
      if (qb_isa_mask_parse(env, &mask_value, err, sizeof err) != 0)
        fprintf(stderr, "qbench: QB_ISA_MASK=\"%s\": %s; unknown names allow nothing\n", env,
                err);
    }
    mask_frozen = true;
  }
  const qb_backend_set m = mask_value;
  pthread_mutex_unlock(&mask_lock);
  return m;
}

qb_backend_set qb_isa_usable_set(void) {
  return (qb_isa_built() & qb_isa_detected() & qb_isa_mask()) | QB_BACKEND_BIT(QB_BACKEND_SCALAR);
}

bool qb_isa_usable(qb_backend b) {
  return (unsigned)b < QB_BACKEND_COUNT && (qb_isa_usable_set() & QB_BACKEND_BIT(b)) != 0;
}
