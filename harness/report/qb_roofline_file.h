/* The measured roofline of a run's machine, as the readers need it: the JSON text
 * written by the roofline probe (harness/bench/qb_roofline.h), found as
 * RUN/roofline.json (copied there, e.g. for runs from other machines) or else in
 * this host's per-fingerprint cache ($XDG_CACHE_HOME/qbench or ~/.cache/qbench). */
#ifndef QB_ROOFLINE_FILE_H
#define QB_ROOFLINE_FILE_H

#include "qb_run_data.h"

/* malloc'd JSON text, or NULL when the run's machine has no roofline here. */
char* qb_run_roofline_json(const qb_run_data* run);

/* The best 1-thread int8 ceiling (GOPS) and the DRAM read bandwidth (GB/s) of a
 * roofline JSON text; NaN where absent (or json NULL). */
void qb_roofline_peaks(const char* json, double* int8_gops, double* dram_gbs);

#endif
