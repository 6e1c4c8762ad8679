/* Running a sweep plan: evaluate each item through a callback, record its rows in
 * results.csv, the SQLite history and results.json, and resume an interrupted run.
 *
 * Items run in groups (one item each unless opt.speed is set: then up to opt.group
 * consecutive pending items of one model, so that their speed measurements can
 * interleave, qb_sweep_group_fn). Per item, in this order:
 *   1. eval(item) fills a row set in memory (nothing is written yet); after the
 *      group's eval calls, speed(group) adds the speed rows;
 *   2. the rows are appended to results.csv in one write() + fsync;
 *   3. one SQLite transaction inserts the rows and the item's completion marker;
 *   4. results.json is replaced atomically with every row of the run so far, at most
 *      once per QB_SWEEP_JSON_INTERVAL seconds and always when the run ends or stops
 *      (rewriting a growing file after every fast item would cost O(items^2) bytes;
 *      results.csv and the DB are the records, results.json is rebuilt from the CSV
 *      on resume).
 * An item is complete when it is committed in the DB AND results.csv holds exactly
 * the DB's row count for it. A crash between 2 and 3 leaves rows in the CSV only; a
 * crash inside 2 leaves a torn last line. --resume repairs both: it drops the CSV
 * rows of incomplete items (and a torn line), forgets DB items whose CSV rows are
 * missing, and runs every incomplete item again. So no row is ever half-written,
 * duplicated or lost.
 *
 * A run folder is locked (flock on RUN_DIR/.lock) while a sweep writes to it, so two
 * resumes of one run cannot interleave; resuming with a config whose text differs
 * from the run's first config prints a warning (items are matched by id).
 *
 * SIGINT/SIGTERM (qb_sweep_install_signal_handlers) only set a flag: the item being
 * evaluated finishes and is recorded, then the run stops (a second signal kills the
 * process at once; the item in flight is then unrecorded and resume redoes it). */
#ifndef QB_SWEEP_RUN_H
#define QB_SWEEP_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "qb_result.h"
#include "qb_sweep_plan.h"

/* The evaluation of one plan item: append its rows with qb_result_rows_add (the
 * identity columns - run, item, model, backend, qconfig - are already set in
 * rows->identity). Return 0, or -1 with err filled: the item is then recorded as
 * failed for this run (nothing written) and the sweep goes on. */
typedef int (*qb_sweep_eval_fn)(void* ctx, const qb_sweep_config* cfg, const qb_plan_item* item,
                                qb_result_rows* rows, qb_error* err);

/* Speed of a group of items that eval has just evaluated (in plan order, only those it
 * did not fail), timed together so that their repetitions interleave: appends each
 * item's speed rows to rows[k]. Returning -1 (err filled) fails the group's items. */
typedef int (*qb_sweep_group_fn)(void* ctx, const qb_sweep_config* cfg,
                                 const qb_plan_item* const* items, qb_result_rows* const* rows,
                                 size_t n, qb_error* err);

/* Items evaluated together as one speed group, at most: consecutive pending items of
 * one model (of one fine-tuned model for qat items). */
enum { QB_SWEEP_GROUP_MAX = QB_SWEEP_MAX_INTERLEAVE };

enum { QB_SWEEP_JSON_INTERVAL = 2 }; /* seconds */

typedef struct {
  const char* run_dir;    /* the run folder; created (with parents) if missing */
  const char* db_path;    /* the SQLite history */
  bool resume;            /* run_dir holds an earlier run of this config: skip its complete items */
  bool describe_machine;  /* run.json with libcpuid/hwloc (false in tests: faster) */
  qb_sweep_eval_fn eval;
  void* eval_ctx;
  FILE* log;              /* progress and per-item errors; NULL = quiet */
  /* NULL: eval measures everything itself, one item at a time. Else eval leaves speed to
   * it, and items are run in groups of up to `group` (1..QB_SWEEP_GROUP_MAX). */
  qb_sweep_group_fn speed;
  size_t group;
} qb_sweep_options;

typedef struct {
  size_t already_done; /* complete before this invocation (resume) */
  size_t done;         /* completed now */
  size_t failed;       /* eval returned an error */
  size_t rows;         /* rows recorded by this invocation */
  size_t dropped_csv_rows; /* resume: CSV rows of incomplete items removed */
  bool interrupted;    /* stopped by a signal / qb_sweep_request_stop */
} qb_sweep_summary;

/* Runs the plan. Returns 0 when the sweep ran to its end or stopped on request (see
 * summary: failed items do not make it fail), -1 on an I/O or database error. */
int qb_sweep_run(const qb_sweep_config* cfg, const qb_plan* plan, const qb_sweep_options* opt,
                 qb_sweep_summary* summary, qb_error* err);

/* Ask the running sweep to stop after the current item (async-signal-safe). */
void qb_sweep_request_stop(void);
/* SIGINT/SIGTERM -> qb_sweep_request_stop, once; the second signal is fatal. */
void qb_sweep_install_signal_handlers(void);

/* The run folder of a new run: <output>/<name>-<UTC stamp>. */
void qb_sweep_new_run_dir(const qb_sweep_config* cfg, char* buf, size_t size);

/* The evaluator shipped until the model runtime is plugged in: checks that the
 * item's model and data files exist (error "model FILE not found ...") and otherwise
 * fails with "model evaluation is not available in this build". */
int qb_sweep_eval_unavailable(void* ctx, const qb_sweep_config* cfg, const qb_plan_item* item,
                              qb_result_rows* rows, qb_error* err);

#endif
