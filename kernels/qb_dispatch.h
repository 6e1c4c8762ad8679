/* Kernel dispatch: one table of kernels per backend, built once.
 *
 * Each kernel family has ONE list of entries, best first (qb_*_gemm_entries()).
 * Dispatch, the exactness tests and the benchmarks all read these lists, so a new
 * kernel is added in one place (kernels/dispatch/qb_dispatch.c).
 *
 * The table of backend b holds, for each family, the first entry of the list whose
 * backend is the first usable one along b's fallback chain:
 *   scalar     : scalar
 *   sse41      : sse41, scalar
 *   avx2       : avx2, sse41, scalar
 *   avx2-sat   : avx2-sat, avx2, sse41, scalar
 *   avx512vnni : avx512vnni, avx2, sse41, scalar       (never avx2-sat: not exact)
 *   neon       : neon, scalar
 *   neondot    : neondot, neon, scalar
 * "usable" (qb_isa.h) includes the mask, so a masked-out backend's kernels are
 * never picked, not even as a fallback. Every family has a scalar entry, so every
 * usable backend's table is complete. A kernel and its packing routine are one
 * entry: always pack with the entry you run.
 *
 * qb_dispatch_best() is the best usable EXACT backend: avx512vnni > avx2 > sse41 >
 * scalar on x86, neondot > neon > scalar on Arm. avx2-sat is only ever used when
 * asked for by qb_dispatch_get(QB_BACKEND_AVX2_SAT). */
#ifndef QB_DISPATCH_H
#define QB_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isa/qb_isa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What every entry has, whatever its family. */
typedef struct {
  const char* name;     /* full kernel name, e.g. "qb_qu8_qs8_qs32_gemm_8x32c4__avx512vnni" */
  qb_backend backend;
  uint8_t mr, nr, kr;   /* tile (1x1c1 for the scalar reference) */
  bool exact;           /* bit-identical to the scalar reference for every input */
  size_t (*packed_size)(size_t N, size_t K);
} qb_gemm_info;

/* int8 GEMM, C = sum_k (A - a_zero_point) * (B - b_zero_point[n]), int32 output;
 * A: M x K (lda), B: N x K (ldb), C: M x N (ldc). See kernels/q8-gemm/qb_q8_gemm.h. */
typedef struct {
  qb_gemm_info info;
  void (*pack)(size_t N, size_t K, const int8_t* B, size_t ldb, const int32_t* b_zero_point,
               int32_t a_zero_point, void* packed);
  void (*run)(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda, int32_t a_zero_point,
              const void* packed, int32_t* C, size_t ldc);
  /* Non-exact kernels only (else NULL): how many internal saturations this A, B
   * incurs (raw values, unpacked B). */
  uint64_t (*saturations)(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda,
                          const int8_t* B, size_t ldb);
} qb_qu8_qs8_qs32_gemm_entry;

typedef struct {
  qb_gemm_info info;
  void (*pack)(size_t N, size_t K, const int8_t* B, size_t ldb, const int32_t* b_zero_point,
               int32_t a_zero_point, void* packed);
  void (*run)(size_t M, size_t N, size_t K, const int8_t* A, size_t lda, int32_t a_zero_point,
              const void* packed, int32_t* C, size_t ldc);
} qb_qs8_qs8_qs32_gemm_entry;

typedef struct {
  qb_gemm_info info;
  void (*pack)(size_t N, size_t K, const uint8_t* B, size_t ldb, const int32_t* b_zero_point,
               int32_t a_zero_point, void* packed);
  void (*run)(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda, int32_t a_zero_point,
              const void* packed, int32_t* C, size_t ldc);
} qb_qu8_qu8_qs32_gemm_entry;

/* The family lists (best first; every entry compiled into this binary, usable or
 * not: check qb_isa_usable(entry->info.backend) before running one). */
const qb_qu8_qs8_qs32_gemm_entry* qb_qu8_qs8_qs32_gemm_entries(size_t* count);
const qb_qs8_qs8_qs32_gemm_entry* qb_qs8_qs8_qs32_gemm_entries(size_t* count);
const qb_qu8_qu8_qs32_gemm_entry* qb_qu8_qu8_qs32_gemm_entries(size_t* count);

/* One table per backend. */
typedef struct {
  qb_backend backend;
  const qb_qu8_qs8_qs32_gemm_entry* qu8_qs8_qs32_gemm;
  const qb_qs8_qs8_qs32_gemm_entry* qs8_qs8_qs32_gemm;
  const qb_qu8_qu8_qs32_gemm_entry* qu8_qu8_qs32_gemm;
} qb_dispatch_table;

/* Tables are built on first call (thread-safe; freezes the ISA mask). */
const qb_dispatch_table* qb_dispatch_get(qb_backend b); /* NULL if b is not usable */
const qb_dispatch_table* qb_dispatch_best(void);

/* The pure rules behind the tables, for tests and tools:
 * b's fallback chain (b first, scalar last); returns its length. */
size_t qb_dispatch_fallback_chain(qb_backend b, qb_backend chain[QB_BACKEND_COUNT]);
/* Index of the entry the table of `target` takes from a list of `count` entries
 * whose backends are entry_backend(i), given the usable set; -1 if target is not
 * in `usable` or nothing along the chain matches. */
ptrdiff_t qb_dispatch_select(qb_backend target, qb_backend_set usable, const qb_gemm_info* first,
                             size_t count, size_t stride);
/* The table a backend would get under `usable` (the real tables use
 * qb_isa_usable_set()); false if target is not in usable. */
bool qb_dispatch_build(qb_backend target, qb_backend_set usable, qb_dispatch_table* table);
/* Best exact backend in `usable`. */
qb_backend qb_dispatch_best_backend(qb_backend_set usable);

#ifdef __cplusplus
}
#endif
#endif /* QB_DISPATCH_H */
