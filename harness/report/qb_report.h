/* qbench report: RUN/report.md, a complete reading of one run for a person.
 *
 * Sections: the run (machine, build, backends); a summary with the findings
 * computed from the rows (best qconfig per model within 1 pp, effect of bits,
 * granularity, range strategy and backend, each with its numbers); per model the
 * fp32 accuracy, a table of qconfigs (drop, latency per backend, packed weight
 * bytes, effective bits) with the Pareto plots, the per-layer SQNR heatmap and the
 * most sensitive layers; kernel benchmarks from gbench.json with the roofline and
 * the backend comparison per kernel family (vs scalar and the peers); and
 * "Worth a look": anything suspicious (latency CV above 5 %, range strategies giving
 * identical results, clipping/saturation counts, accuracy differing between
 * backends of one qconfig, missing fp32 accuracy).
 * Plots go to RUN/plots/ (see qb_report_plots.h). */
#ifndef QB_REPORT_H
#define QB_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "qb_error.h"
#include "qb_run_data.h"

typedef struct {
  bool plots;           /* render PNG/SVG with gnuplot (data files are always written) */
  const char* roofline; /* roofline JSON (NULL: RUN/roofline.json, else the machine cache) */
  FILE* log;            /* progress/warnings; NULL = quiet */
} qb_report_options;

typedef struct {
  char path[1100];  /* the report.md written */
  int plots;        /* images rendered (each as .png and .svg) */
  int findings;
  int warnings;     /* "worth a look" items */
} qb_report_summary;

/* Writes OUT_DIR/report.md (OUT_DIR: usually the run folder) and OUT_DIR/plots/. */
int qb_report_write(const qb_run_data* run, const char* out_dir, const qb_report_options* opt,
                    qb_report_summary* summary, qb_error* err);

/* Formats a duration in ns as "12.3 µs" / "1.23 ms" ("—" for NaN). */
void qb_format_ns(double ns, char* buf, size_t size);

#endif
