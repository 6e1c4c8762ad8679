/* The list of peers compiled into this binary. Their ceiling (pct_of_peak) is the
 * best backend the CPU has: a peer dispatches on its own, ignoring qbench's mask. */
#include "qb_peers.h"

#include "isa/qb_isa.h"

size_t qb_bench_peers(qb_bench_impl* out, size_t max) {
  const qb_backend best_backend = qb_backend_best_of(qb_isa_detected());
  const char* best = best_backend == QB_BACKEND_SCALAR ? "" : qb_backend_name(best_backend);
  size_t n = 0;
#ifdef QB_HAVE_DNNL
  if (n < max) {
    out[n] = qb_peer_dnnl;
    out[n].kernel_backend = -1;
    out[n++].backend = best;
  }
#endif
#ifdef QB_HAVE_OPENBLAS
  if (n < max) {
    out[n] = qb_peer_openblas;
    out[n].kernel_backend = -1;
    out[n++].backend = best;
  }
#endif
  if (n < max) out[n++] = qb_peer_read;
  (void)best;
  return n;
}
