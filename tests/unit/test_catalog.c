/* `qbench info` prints every family of the dispatch table through the list in
 * harness/catalog/qb_catalog.c. This test fails when qb_dispatch_table gains a
 * member the list lacks (the table is the backend followed by one entry pointer per
 * family), and checks that each listed family's kernel, for every usable backend,
 * is named after its family and belongs to a usable backend on the fallback chain. */
#include <stddef.h>
#include <string.h>

#include "qb_catalog.h"
#include "qb_test.h"

int main(void) {
  size_t n;
  const qb_catalog_family* fam = qb_catalog_families(&n);
  const size_t pointers = (sizeof(qb_dispatch_table) - offsetof(qb_dispatch_table,
                                                                qu8_qs8_qs32_gemm)) /
                          sizeof(void*);
  QB_CHECK_MSG(pointers == n,
               "qb_dispatch_table has %zu families, qb_catalog_families lists %zu: add the new "
               "family to harness/catalog/qb_catalog.c", pointers, n);
  for (int b = 0; b < QB_BACKEND_COUNT; b++) {
    const qb_dispatch_table* t = qb_dispatch_get((qb_backend)b);
    if (!t) continue;
    qb_backend chain[QB_BACKEND_COUNT];
    const size_t nc = qb_dispatch_fallback_chain((qb_backend)b, chain);
    for (size_t i = 0; i < n; i++) {
      const qb_catalog_kernel k = fam[i].chosen(t);
      char stem[96];
      snprintf(stem, sizeof stem, "qb_%.*s", (int)(strstr(fam[i].name, "gemm")
                                                       ? strstr(fam[i].name, "gemm") - fam[i].name
                                                       : (ptrdiff_t)strlen(fam[i].name)),
               fam[i].name);
      QB_CHECK_MSG(strncmp(k.name, stem, strlen(stem)) == 0, "%s: kernel %s is not named %s*",
                   fam[i].name, k.name, stem);
      QB_CHECK(qb_isa_usable(k.backend));
      bool on_chain = false;
      for (size_t c = 0; c < nc; c++) on_chain |= chain[c] == k.backend;
      QB_CHECK_MSG(on_chain, "%s on %s: %s is off the fallback chain", fam[i].name,
                   qb_backend_name((qb_backend)b), k.name);
    }
  }
  return qb_test_finish("test_catalog");
}
