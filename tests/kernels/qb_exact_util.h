/* Helpers shared by the exactness tests of the non-GEMM kernel families
 * (tests/kernels/test_*_exact.c): page-tail buffers and the checks every family
 * list must pass. Header-only (static), included by test files only. */
#ifndef QB_EXACT_UTIL_H
#define QB_EXACT_UTIL_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qb_dispatch.h"
#include "qb_test.h"

/* `bytes` bytes whose end is the start of a PROT_NONE page: a kernel reading one
 * byte past its input faults. */
typedef struct {
  void* map;
  size_t len;
  uint8_t* p;
} qb_tail_buf;

static inline void* qb_tail_alloc(qb_tail_buf* t, size_t bytes) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  t->len = (bytes + page - 1) / page * page + page;
  t->map = mmap(NULL, t->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (t->map == MAP_FAILED) abort();
  if (mprotect((uint8_t*)t->map + t->len - page, page, PROT_NONE) != 0) abort();
  t->p = (uint8_t*)t->map + t->len - page - bytes;
  return t->p;
}
static inline void qb_tail_free(qb_tail_buf* t) { munmap(t->map, t->len); }

/* A family list: names "qb_..<family>..__<backend>", exact, scalar last and only
 * last, no duplicates; and each usable backend's table takes the entry of its own
 * backend when the list has one. `table_entry(t)` returns the table's entry. */
static inline void qb_check_family_list(const char* family, const void* list, size_t count,
                                        size_t stride,
                                        const qb_kernel_info* (*table_entry)(const qb_dispatch_table*)) {
  QB_CHECK(count >= 1);
  for (size_t i = 0; i < count; i++) {
    const qb_kernel_info* e = (const qb_kernel_info*)((const char*)list + i * stride);
    const char* tok = strstr(e->name, "__");
    QB_CHECK_MSG(strncmp(e->name, "qb_", 3) == 0 && strstr(e->name, family) != NULL, "%s", e->name);
    QB_CHECK_MSG(tok && strcmp(tok + 2, qb_backend_name(e->backend)) == 0, "%s vs %s", e->name,
                 qb_backend_name(e->backend));
    QB_CHECK_MSG(e->exact, "%s", e->name);
    QB_CHECK_MSG((e->backend == QB_BACKEND_SCALAR) == (i + 1 == count), "%s: scalar last", e->name);
    for (size_t j = 0; j < i; j++)
      QB_CHECK(strcmp(e->name, ((const qb_kernel_info*)((const char*)list + j * stride))->name) != 0);
  }
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    const qb_dispatch_table* t = qb_dispatch_get((qb_backend)b);
    if (!t) continue;
    const qb_kernel_info* chosen = table_entry(t);
    QB_CHECK(qb_isa_usable(chosen->backend));
    for (size_t i = 0; i < count; i++) {
      const qb_kernel_info* e = (const qb_kernel_info*)((const char*)list + i * stride);
      if (e->backend == (qb_backend)b) {
        QB_CHECK_MSG(chosen == e, "table %s took %s", qb_backend_name((qb_backend)b), chosen->name);
        break;
      }
    }
  }
}

/* Prints the list and returns whether entry i is usable here. */
static inline bool qb_entry_usable(const qb_kernel_info* e) {
  const bool usable = qb_isa_usable(e->backend);
  printf("  %-44s %-10s %s\n", e->name, qb_backend_name(e->backend),
         usable ? "tested" : "skipped (not usable here)");
  return usable;
}

static const size_t qb_tail_sizes[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 15, 16, 17,
                                       31, 32, 33, 47, 48, 49, 63, 64, 65, 127, 128, 129, 1000};
#define QB_TAIL_SIZES_COUNT (sizeof qb_tail_sizes / sizeof qb_tail_sizes[0])

/* A depthwise conv shape: ch input channels, `mult` outputs per channel (groups = ch),
 * kernel kh x kw, strides, dilations, pads top/left/bottom/right. */
static inline qb_conv2d_shape qb_dw_shape(size_t batch, size_t ch, size_t mult, size_t h, size_t w,
                                          size_t kh, size_t kw, size_t sh, size_t sw, size_t dh,
                                          size_t dw, size_t pt, size_t pl, size_t pb, size_t pr) {
  qb_conv2d_shape s = {batch, ch, h, w, ch * mult, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, ch};
  return s;
}

#endif /* QB_EXACT_UTIL_H */
