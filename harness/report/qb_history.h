/* qbench history: one metric over time from the SQLite history (results/qbench.db).
 *
 * Rows of the metric are filtered (model, layer - end to end by default -, backend,
 * qconfig in `qbench eval --qconfig` text, machine fingerprint) and grouped into
 * series = (model, layer, backend, qconfig, threads, machine fingerprint). Each run
 * contributes one point per series: the median of its values (latency_sample rows
 * hold one value per repetition). Points are ordered by the run's start time. */
#ifndef QB_HISTORY_H
#define QB_HISTORY_H

#include <stddef.h>
#include <stdio.h>

#include "qb_error.h"

typedef struct {
  const char* db_path;
  const char* metric;  /* required */
  const char* model;   /* NULL = any */
  const char* layer;   /* NULL = end to end */
  const char* backend; /* NULL = any */
  const char* qconfig; /* NULL = any; eval text form */
  const char* machine; /* fingerprint; NULL = any */
} qb_history_query;

typedef struct {
  char started_utc[32];
  char run_id[96];
  char git_revision[96];
  char fingerprint[32];
  double value;
  size_t n; /* values folded into the median */
} qb_history_point;

typedef struct {
  char label[448]; /* model layer backend qconfig [threads] [machine FP] */
  char unit[16];
  qb_history_point* points;
  size_t npoints, cap;
} qb_history_series;

typedef struct {
  qb_history_series* series;
  size_t nseries;
} qb_history;

int qb_history_query_db(const qb_history_query* q, qb_history* out, qb_error* err);
void qb_history_free(qb_history* h);
void qb_history_write_text(FILE* f, const qb_history* h, const qb_history_query* q);
/* Data for plots/history.gp: one block per series, its label as the first line,
 * then "time value run" lines (tab-separated). */
int qb_history_write_plot_data(const char* path, const qb_history* h, qb_error* err);

#endif
