/* ISA detection and the backend mask.
 *
 * A backend is a set of kernels compiled for one instruction-set level. It is
 *   usable = built (kernel files of that ISA were compiled into this binary)
 *          ∧ detected (the CPU has the instructions and the OS saves their registers)
 *          ∧ allowed (by the mask: QB_ISA_MASK, or qb_isa_set_mask before first use).
 * scalar is always usable. Names are the ones printed in every report.
 *
 * The mask is frozen at its first use (qb_isa_mask / qb_isa_usable / dispatch), so
 * every kernel of a run comes from one consistent decision. */
#ifndef QB_ISA_H
#define QB_ISA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The enum order is the table's row order (qb_backend_describe); fallback chains and
 * the best backend come from the table's rows, not from this order. avx2-sat is the saturating vpmaddubsw variant of avx2, which
 * deployed runtimes use; it is not exact and never chosen as "best". */
typedef enum {
  QB_BACKEND_SCALAR = 0,
  QB_BACKEND_SSE41,
  QB_BACKEND_AVX2,
  QB_BACKEND_AVX2_SAT,
  QB_BACKEND_AVX512VNNI,
  QB_BACKEND_NEON,
  QB_BACKEND_NEONDOT,
  QB_BACKEND_I8MM, /* Arm i8mm (USMMLA) + dotprod */
  QB_BACKEND_COUNT
} qb_backend;

/* A set of backends, one bit each. */
typedef uint32_t qb_backend_set;
#define QB_BACKEND_BIT(b) ((qb_backend_set)1u << (unsigned)(b))
#define QB_BACKEND_SET_ALL ((qb_backend_set)((1u << QB_BACKEND_COUNT) - 1u))

/* "scalar", "sse41", "avx2", "avx2-sat", "avx512vnni", "neon", "neondot", "i8mm";
 * NULL for an out-of-range value. */
const char* qb_backend_name(qb_backend b);
/* Exact, case-sensitive match of the first `len` characters of `name`.
 * Returns 0 and sets *out, or -1 for an unknown name. */
int qb_backend_from_name(const char* name, size_t len, qb_backend* out);

/* Raw CPU features as detected (all false on the other architecture). See qb_isa.c
 * for the CPUID / XGETBV / HWCAP bit behind each flag. */
typedef struct {
  /* x86 */
  char x86_vendor[13];     /* CPUID.0: "GenuineIntel", "AuthenticAMD", ... */
  uint32_t x86_max_leaf;   /* CPUID.0:EAX */
  uint64_t x86_xcr0;       /* XGETBV(0), 0 when OSXSAVE is clear */
  bool x86_sse41, x86_osxsave, x86_avx, x86_fma, x86_f16c, x86_avx2;
  bool x86_os_ymm;         /* XCR0 bits 1,2: XMM and YMM state saved by the OS */
  bool x86_os_zmm;         /* XCR0 bits 5,6,7: opmask, ZMM0-15 high, ZMM16-31 */
  bool x86_avx512f, x86_avx512bw, x86_avx512vl, x86_avx512dq, x86_avx512_vnni;
  bool x86_avx_vnni;       /* VEX-encoded VNNI (information only, no backend yet) */
  /* aarch64 */
  unsigned long arm_hwcap, arm_hwcap2; /* getauxval(AT_HWCAP / AT_HWCAP2) */
  bool arm_asimd, arm_asimddp, arm_i8mm;
} qb_isa_features;

/* ---------------------------------------------------------------- the table
 * One row per backend holds everything the project knows about it; detection
 * (qb_isa_built / qb_isa_detected), dispatch (fallback chains, the best backend),
 * `qbench info`, the bench's roofline map and the tests all derive from it, so a
 * new backend (AVX-VNNI on AVX2-class CPUs, an AVX-512 tier without VNNI, AMX) is an
 * enum value, a row, its kernel files and list entries: a change inside kernels/. */
typedef enum { QB_ARCH_ANY = 0, QB_ARCH_X86, QB_ARCH_ARM64 } qb_arch;

typedef struct {
  qb_backend id;
  const char* name;    /* as printed in reports, accepted by --isa and QB_ISA_MASK */
  const char* summary; /* the instructions its kernels rely on, for people */
  qb_arch arch;
  /* kernels/CMakeLists.txt defines QB_BUILT_ISA_<isa_token> when a kernel file of the
   * token was compiled (avx2-sat kernels carry the avx2 token). */
  const char* isa_token;
  /* CPU and OS support, from the raw features (kernels/isa/qb_isa.c names the bits). */
  bool (*detected)(const qb_isa_features* f);
  /* Where a kernel family with no kernel of this backend looks next; every chain
   * ends at scalar (qb_dispatch_fallback_chain follows the links). */
  qb_backend fallback;
  /* qb_dispatch_best_backend takes the usable backend of highest rank; 0 = never
   * chosen as best (scalar, and inexact backends, which must be asked for). */
  unsigned best_rank;
  bool exact; /* integer outputs bit-exact with the scalar reference */
  /* Roofline ceilings (kernels/roofline/qb_roofline_probes.c) this backend's int8 and
   * fp32 kernels are measured against (pct_of_peak); NULL: no ceiling. */
  const char* roof_int8;
  const char* roof_fp32;
} qb_backend_desc;

/* The row of b; NULL for an out-of-range value. */
const qb_backend_desc* qb_backend_describe(qb_backend b);

/* The backend of `set` with the highest best_rank; scalar if none ranks. */
qb_backend qb_backend_best_of(qb_backend_set set);

/* Detected once (thread-safe), then cached. */
const qb_isa_features* qb_isa_features_get(void);

qb_backend_set qb_isa_built(void);    /* compiled into this binary */
qb_backend_set qb_isa_detected(void); /* CPU + OS support, from qb_isa_features_get */

/* Parses a comma-separated list of backend names ("scalar,sse41"; spaces around
 * names are ignored; an empty list allows scalar only). Unknown names allow
 * nothing: *mask gets the known names (plus scalar) and -1 is returned with a
 * message in err (if err_size > 0) naming the first unknown name and the valid
 * ones. Returns 0 when every name is known. */
int qb_isa_mask_parse(const char* text, qb_backend_set* mask, char* err, size_t err_size);

/* Sets the mask programmatically (e.g. from a --isa flag). Must be called before
 * the mask is first used; returns 0, or -1 (and changes nothing) once frozen.
 * scalar is always added. */
int qb_isa_set_mask(qb_backend_set mask);

/* The mask in force; freezes it. Unless set by qb_isa_set_mask, it comes from
 * QB_ISA_MASK (unset = all backends). An invalid QB_ISA_MASK prints one error line
 * to stderr ("qbench: QB_ISA_MASK: ...") and keeps only its known names: a typo
 * never enables more than was asked for. */
qb_backend_set qb_isa_mask(void);

/* built ∧ detected ∧ mask, always including scalar. */
qb_backend_set qb_isa_usable_set(void);
bool qb_isa_usable(qb_backend b);

#ifdef __cplusplus
}
#endif
#endif /* QB_ISA_H */
