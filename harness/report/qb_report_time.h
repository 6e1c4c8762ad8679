/* "Where the time goes": the per-node latency rows of one item split into the int8
 * layers, the integer ops between them and the fp32 islands (qb_report.c, per model). */
#ifndef QB_REPORT_TIME_H
#define QB_REPORT_TIME_H

#include <stdbool.h>
#include <stdio.h>

#include "qb_run_data.h"

/* The fastest static item of `model` at 1 thread: its end-to-end latency and the sum
 * of its per-node medians by part, plus its slowest nodes, as Markdown. Returns
 * false (nothing written) when the run has no per-node speed rows for the model. */
bool qb_report_time_breakdown(FILE* f, const qb_run_data* run, const char* model);

#endif
