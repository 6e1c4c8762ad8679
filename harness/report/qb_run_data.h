/* A run as the readers (compare, report, recommend, hardware) see it: its result rows,
 * what run.json says about the machine and build, and Google Benchmark samples from
 * gbench.json when `qbench bench --json RUN/gbench.json` left one there.
 *
 * A folder holding only gbench.json is a run too: the benchmark's context (written by
 * qbench bench) then names the machine (fingerprint, brand) and build.
 *
 * A run is named either by its folder (results.csv, run.json, optional gbench.json)
 * or by its run id in the SQLite history (rows and the runs record from the DB;
 * gbench.json is then not available). */
#ifndef QB_RUN_DATA_H
#define QB_RUN_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"
#include "qb_result.h"

/* One Google Benchmark series: the repetitions of one benchmark (run_type
 * "iteration"), real time per iteration in ns, plus its OPS rate (ops/s, median). */
typedef struct {
  char name[256]; /* run_name, e.g. gemm/<kernel>/M:1/N:64/K:64/threads:1/real_time */
  double* ns;
  size_t count, cap;
  double ops_per_s; /* NaN if the benchmark has no OPS counter */
  double bytes_per_s; /* NaN if absent */
  double pct_of_peak; /* NaN if absent */
  double pct_of_dram_bw; /* NaN if absent (M = 1 GEMMs, DRAM-sized elementwise kernels) */
  char label[32];   /* the backend the benchmark ran on (its label), "" if none */
} qb_gbench_series;

typedef struct {
  char source[1024];   /* the folder, or "db:<run id>" */
  char db_path[1024];  /* the history a "db:" run was read from */
  struct qb_results_db** history; /* "db:" runs: the history, opened by the first
                                     qb_run_data_predictions and kept until free */
  char run_id[96];
  char started_utc[32];
  char fingerprint[32]; /* "unknown" when the run did not record it */
  char vendor[32], brand[96], os[128];
  char git_revision[96], compiler[128], build_type[32];
  char backends_usable[160]; /* comma-separated */
  int cores, pus;
  double l2_bytes, l3_bytes;
  qb_result_rows rows;
  qb_gbench_series* gbench;
  size_t ngbench;
} qb_run_data;

/* Loads a run folder, or (when `arg` is not a folder and db_path names an existing
 * database) the run with that id from the history. Errors name the path and what was
 * expected ("RUN: not a run folder (no results.csv) and no run of that id in DB"). */
int qb_run_data_load(const char* arg, const char* db_path, qb_run_data* run, qb_error* err);
void qb_run_data_free(qb_run_data* run);

/* Per-sample predictions of the run (harness/results/qb_predictions.h; key: an item
 * id, "<model>/fp32", "<model>/labels"), from RUN/predictions/ or the history's
 * predictions table: 1 found (*v malloc'd), 0 none (a run made before predictions were
 * stored), -1 error. */
int qb_run_data_predictions(const qb_run_data* run, const char* key, uint16_t** v, size_t* n,
                            qb_error* err);

/* Parses Google Benchmark JSON text into series (appended to run->gbench). */
int qb_run_data_parse_gbench(const char* path, const char* text, size_t len, qb_run_data* run,
                             qb_error* err);

/* Human label of a row's quantization config, e.g.
 * "static w8 symmetric/channel/minmax a8 affine/tensor/minmax"; weight-only rows read
 * "weight-only w4 symmetric/group:32/mse a-float". */
void qb_qconfig_label(const qb_result_row* r, char* buf, size_t size);
/* Compact label for plots: "st w8s.ch.minmax a8a.t.minmax" (st/dyn/wo = static,
 * dynamic, weight-only; s/a = symmetric/affine; t/ch/gG = tensor/channel/group). */
void qb_qconfig_short(const qb_result_row* r, char* buf, size_t size);
/* True when two rows share model, workflow and the full weight+activation qconfig. */
bool qb_same_qconfig(const qb_result_row* a, const qb_result_row* b);

#endif
