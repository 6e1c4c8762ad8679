/* The regression gate: what changed between a BASE run and a CURRENT run.
 *
 * Rows are matched on their identity (model, layer, backend, kernel, workflow, the
 * weight and activation qconfig, threads) and metric; Google Benchmark series (from
 * gbench.json) are matched on their name. Per match, by kind:
 *
 *  speed     latency: the repetitions of both runs (metric latency_sample, one row per
 *            repetition, or the gbench iterations) are compared with the two-sided
 *            Mann-Whitney U test (harness/stats). A regression needs both: p < alpha
 *            (the difference is real) AND median(current)/median(base) - 1 >
 *            speed_threshold (the difference matters). Improvements mirror that.
 *            With fewer than 2 samples on a side (only latency_median recorded) the
 *            change is shown but never gates ("not tested").
 *            Speed is compared only when both runs were measured on the same machine
 *            (same fingerprint in run.json / the runs table), unless any_machine.
 *            relative: the series are latency_rel_sample instead (each repetition of
 *            an item divided by the fp32 model's time in the same round), and raw
 *            times (latency rows, gbench.json) are not judged: a machine whose speed
 *            drifts for seconds moves both the item and its fp32 round-mate, so the
 *            ratio holds still, while a slower int8 kernel moves only the item. A
 *            slower fp32 path then reads as every int8 item getting faster.
 *  accuracy  accuracy, agreement (%, higher is better) and drop (%, lower is better),
 *            judged on the item's per-sample predictions (harness/results/
 *            qb_predictions.h) when both runs stored them for the same samples: per
 *            sample, did it score in base and in current (accuracy, drop: the true
 *            class; agreement: the fp32 model's class)? lost = scored in base only,
 *            gained = in current only; a regression needs both: the exact McNemar
 *            p-value of (lost, gained) < alpha AND worse by more than accuracy_pp
 *            percentage points. Predictions identical in both runs are counted and
 *            marked. Runs without predictions: worse by more than accuracy_pp.
 *  sqnr      sqnr, shadow_sqnr (dB, higher is better): worse by more than sqnr_db.
 *  bytes     bytes_weights, bytes_arena: deterministic, any growth is a regression.
 * Other metrics are not gated. Rows present on one side only are listed. */
#ifndef QB_COMPARE_H
#define QB_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "qb_error.h"
#include "qb_run_data.h"

typedef struct {
  double alpha;           /* significance level of Mann-Whitney and McNemar (default 0.05) */
  double speed_threshold; /* relative slowdown that matters (default 0.05 = 5 %) */
  double accuracy_pp;     /* percentage points (default 0.5) */
  double sqnr_db;         /* dB (default 1.0) */
  bool any_machine;       /* compare speed across machine fingerprints */
  bool relative;          /* speed: judge latency_rel_sample (item / fp32, same round) */
} qb_compare_options;

void qb_compare_options_default(qb_compare_options* o);

typedef enum {
  QB_CMP_SAME,        /* within thresholds */
  QB_CMP_IMPROVED,
  QB_CMP_REGRESSED,
  QB_CMP_NOT_TESTED,  /* speed with < 2 samples on a side */
  QB_CMP_ONLY_BASE,
  QB_CMP_ONLY_CURRENT,
  QB_CMP_OTHER_MACHINE /* speed on different machines, not compared */
} qb_compare_status;

const char* qb_compare_status_name(qb_compare_status s);

typedef struct {
  char what[512];   /* readable identity: model layer backend qconfig threads, or the benchmark */
  char metric[48];
  char unit[16];
  char kind[12];    /* speed, accuracy, sqnr, bytes */
  double base, current; /* medians */
  double change;    /* speed: relative (current/base - 1); others: current - base */
  double min_change; /* speed: relative change of the fastest repetition (NaN: not speed) */
  double p;         /* speed: Mann-Whitney p; accuracy: exact McNemar p (NaN if not tested) */
  double cv_base, cv_current; /* speed: coefficient of variation of each series (NaN: n < 2) */
  size_t n_base, n_current;
  bool paired;      /* accuracy judged on per-sample predictions */
  size_t lost, gained; /* paired: samples scored in base only / in current only */
  bool identical;   /* paired: the predictions are bit-identical in both runs */
  qb_compare_status status;
} qb_compare_entry;

typedef struct {
  qb_compare_entry* entries;
  size_t count;
  size_t regressions, improvements, compared, one_sided;
  size_t identical; /* accuracy entries whose predictions are bit-identical */
  bool same_machine;
  /* Speed series pairs too short for the U test to reach alpha (their smallest
   * possible p >= alpha): the gate refuses to judge them (qbench compare exits 2).
   * The first one: its sizes and smallest p. */
  size_t too_short;
  size_t short_n_base, short_n_current;
  double short_min_p;
  char short_what[512];
} qb_compare_result;

int qb_compare_runs(const qb_run_data* base, const qb_run_data* current,
                    const qb_compare_options* opt, qb_compare_result* out, qb_error* err);
void qb_compare_result_free(qb_compare_result* r);

/* Markdown: a summary line, the regressions, the improvements, then every compared
 * entry (all_entries) or only the changed ones. */
void qb_compare_write_markdown(FILE* f, const qb_compare_result* r, const qb_run_data* base,
                               const qb_run_data* current, const qb_compare_options* opt,
                               bool all_entries);
void qb_compare_write_json(FILE* f, const qb_compare_result* r, const qb_run_data* base,
                           const qb_run_data* current, const qb_compare_options* opt);

#endif
