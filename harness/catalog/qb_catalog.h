/* What this binary can run on this machine, as `qbench info` and `qbench bench`
 * (and reports) show it: the machine description with the CPUID view attached (so
 * libcpuid/CPUID disagreements are listed), the kernel families of the dispatch
 * table with the kernel each backend's table holds, backend-set formatting, and
 * the --isa option. */
#ifndef QB_CATALOG_H
#define QB_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "qb_dispatch.h"
#include "qb_error.h"
#include "qb_machine.h"

/* qb_machine_describe + the CPUID+XGETBV view of kernels/isa. */
int qb_catalog_machine_describe(qb_machine* m, qb_error* err);

/* One family of the dispatch table: its name (the kernel name without the tile and
 * ISA: "qu8_qs8_qs32_gemm") and the entry a backend's table holds for it. A family
 * added to qb_dispatch_table is one line in qb_catalog.c. */
typedef struct {
  const char* name;
  qb_backend backend;
  bool exact;
  unsigned mr, nr, kr; /* GEMM tile; 0 for families without one */
} qb_catalog_kernel;

typedef struct {
  const char* name;
  qb_catalog_kernel (*chosen)(const qb_dispatch_table* table);
} qb_catalog_family;

const qb_catalog_family* qb_catalog_families(size_t* count);

/* "scalar,sse41,avx2" (names in backend order); "" for the empty set. */
void qb_catalog_backend_list(qb_backend_set set, char* buf, size_t size);
/* The same as a JSON array of strings. */
void qb_catalog_backend_json(qb_backend_set set, FILE* f);

/* --isa LIST: sets the ISA mask (must run before any dispatch). Returns 0, or -1
 * with err naming the unknown backend and the valid ones. */
int qb_catalog_set_isa(const char* list, qb_error* err);

#endif
