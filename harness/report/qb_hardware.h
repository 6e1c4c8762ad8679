/* qbench hardware RUN_A RUN_B ...: the same sweep (e.g. configs/hardware.yaml) run on
 * different machines, side by side.
 *
 *  - machines: identity from each run.json (libcpuid brand/vendor, hwloc cores and
 *    threads, caches, fingerprint, the backends usable there) and the machine's
 *    measured roofline (RUN/roofline.json, else this host's cache for that
 *    fingerprint): the best 1-thread int8 compute ceiling and DRAM read bandwidth;
 *  - models: per model and qconfig, the end-to-end latency on each machine's fastest
 *    backend (named), the speed-up over the first run's machine, and that speed-up
 *    normalized by the ratio of the machines' int8 ceilings (1.0 = the machine is
 *    exactly as much faster as its roofline promises; > 1 = it uses its peak better);
 *  - kernels: Google Benchmark series present in several runs (same name): GOPS and
 *    % of that machine's peak (the bench's pct_of_peak counter);
 *  - a plot of the per-model speed-ups (raw and roofline-normalized), geometric mean
 *    over the qconfigs measured on every machine. */
#ifndef QB_HARDWARE_H
#define QB_HARDWARE_H

#include <stdbool.h>
#include <stdio.h>

#include "qb_error.h"
#include "qb_run_data.h"

typedef struct {
  const char* out_dir; /* hardware.md and plots/ go here */
  bool plots;
} qb_hardware_options;

/* Writes OUT_DIR/hardware.md (and prints nothing); path_out gets its path. */
int qb_hardware_compare(const qb_run_data* runs, size_t nruns, const qb_hardware_options* opt,
                        char* path_out, size_t path_size, qb_error* err);

#endif
