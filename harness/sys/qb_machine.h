/* What machine are we measuring on: a description gathered from two libraries, for
 * reports, result history and the roofline probe.
 *
 *  - libcpuid (0.6.2): vendor, brand string, family/model/stepping, cores, caches,
 *    and its own view of a few ISA flags. Its flags are *recorded, never used for
 *    dispatch*: on some CPUs it misreports AVX-512 (all zero on AMD Zen 4) and its
 *    model table is old (the codename can be wrong). Use ext_family/ext_model, the
 *    "display" family/model, not family/model.
 *  - hwloc (2.x): packages, cores, PUs, NUMA nodes, data/unified cache sizes per
 *    level, memory. This is the view the benchmarks use for buffer sizes and thread
 *    binding.
 *
 * The CPUID+XGETBV view that dispatch uses lives in kernels/isa; it is not read
 * here. Whoever has it passes it in with qb_machine_set_cpuid_view(), and the
 * description then lists every flag on which libcpuid and CPUID disagree.
 *
 * The fingerprint is a stable 16-hex-digit name for "this kind of machine" (vendor,
 * brand, display family/model, stepping, cores, PUs, cache sizes) used to key
 * cached measurements and result history; it does not change between runs or
 * reboots, and it ignores clock speed, load, host name and memory size. */
#ifndef QB_MACHINE_H
#define QB_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "qb_error.h"
#include "qb_json.h"

/* One view of the ISA features qbench cares about. */
typedef struct {
  bool sse41;
  bool avx2;
  bool fma;
  bool avx512f;
  bool avx512bw;
  bool avx512vl;
  bool avx512vnni;
} qb_isa_view;

enum { QB_MACHINE_CACHE_LEVELS = 5 }; /* L1..L5 (index 0 = L1) */

typedef struct {
  /* libcpuid's view. cpuid_ok false: the fields below are empty/zero and
   * cpuid_error says why (no CPUID instruction, not x86, ...). */
  bool cpuid_ok;
  char cpuid_error[128];
  char cpuid_version[32];
  char vendor[16];     /* "GenuineIntel", "AuthenticAMD" */
  char brand[64];      /* "Intel(R) Xeon(R) Processor" */
  char codename[64];   /* from libcpuid's table; may be outdated */
  int family, model, stepping;
  int ext_family, ext_model; /* display family/model: use these */
  int cores;                 /* on this processor (package) */
  int logical_cpus;          /* on this processor */
  int total_logical_cpus;    /* in the system (or VM) */
  int64_t l1d_bytes, l2_bytes, l3_bytes; /* 0 if unknown */
  qb_isa_view libcpuid_isa;

  /* hwloc's view. hwloc_ok false: zeros, hwloc_error says why. */
  bool hwloc_ok;
  char hwloc_error[128];
  char hwloc_version[32]; /* API version (hwloc_get_api_version), e.g. 2.8.0 for 2.9.x */
  int packages, hw_cores, pus, numa_nodes;
  /* Data or unified caches per level (instruction caches excluded): size of one
   * instance, line size, and how many instances. 0 where the level is absent. */
  int64_t cache_bytes[QB_MACHINE_CACHE_LEVELS];
  int cache_line[QB_MACHINE_CACHE_LEVELS];
  int cache_count[QB_MACHINE_CACHE_LEVELS];
  int64_t memory_bytes; /* total memory hwloc sees */

  /* The operating system's view. */
  int online_cpus; /* sysconf(_SC_NPROCESSORS_ONLN) */
  char os[128];    /* uname: sysname release machine */

  /* The CPUID view, once set by qb_machine_set_cpuid_view. */
  bool have_cpuid_view;
  qb_isa_view cpuid_isa;

  char fingerprint[17];        /* 16 lowercase hex digits + NUL */
  char fingerprint_source[256]; /* the canonical string that was hashed */
} qb_machine;

/* Fills `m` from libcpuid, hwloc and the OS. A source that fails is recorded in
 * its *_error field and the call still succeeds; it returns -1 (and fills `err`)
 * only if neither libcpuid nor hwloc could describe the machine. */
int qb_machine_describe(qb_machine* m, qb_error* err);

/* Records the CPUID+XGETBV view (from kernels/isa) for comparison. */
void qb_machine_set_cpuid_view(qb_machine* m, const qb_isa_view* cpuid);

/* Writes one sentence per disagreement between libcpuid's and the CPUID view into
 * `buf` (e.g. "libcpuid says no AVX-512 VNNI, CPUID says yes"), separated by "; ".
 * Returns the number of disagreements; 0 (and "") if there is no CPUID view or
 * libcpuid failed. */
int qb_machine_isa_disagreements(const qb_machine* m, char* buf, size_t size);

/* Largest data cache in bytes (the last-level cache), or 0 if unknown. Prefers
 * hwloc, falls back to libcpuid. */
int64_t qb_machine_llc_bytes(const qb_machine* m);
/* Size of one data-cache instance at `level` (1..5), hwloc first, libcpuid next
 * (L1..L3); 0 if unknown. */
int64_t qb_machine_cache_bytes(const qb_machine* m, int level);
/* Physical cores (hwloc, else libcpuid, else online CPUs); at least 1. */
int qb_machine_core_count(const qb_machine* m);

/* The whole description as one JSON object (no trailing newline) and as readable
 * text. The JSON keys: fingerprint, fingerprint_source, os, online_cpus,
 * libcpuid{...}, hwloc{...}, cpuid (object or null), isa_disagreements[]. */
void qb_machine_write_json(const qb_machine* m, FILE* f);
void qb_machine_write_text(const qb_machine* m, FILE* f);


#endif
