/* The results history: one SQLite file (default results/qbench.db) shared by every
 * run on this machine, in WAL mode so readers (reports, compare) never block a sweep.
 *
 * Schema (created if missing):
 *   runs(run_id PRIMARY KEY, started_utc, config_name, config_file, config_text,
 *        machine_fingerprint, git_revision, compiler, c_flags, build_type)
 *        index on (machine_fingerprint, git_revision): "the same machine, another
 *        revision" is the question regressions ask.
 *   items(run_id, item_id, nrows, finished_utc, PRIMARY KEY(run_id, item_id))
 *        one row per finished plan item: the completion marker used by resume.
 *   results(seq INTEGER PRIMARY KEY, <the columns of qb_result.h>)
 *        index on (run_id, item_id).
 *   predictions(run_id, item_id, n, data BLOB, PRIMARY KEY(run_id, item_id))
 *        per-sample predictions of an item (item_id = its id) and, once per model,
 *        the fp32 model's ("<model>/fp32") and the labels ("<model>/labels"); the
 *        blob format is in harness/results/qb_predictions.h. A history made before
 *        this table gets it (empty) the first time it is opened.
 * Each finished plan item is one transaction (its rows + its items row), so an
 * interrupted sweep leaves whole items or nothing. */
#ifndef QB_RESULTS_DB_H
#define QB_RESULTS_DB_H

#include <stddef.h>
#include <stdint.h>

#include "qb_result.h"

typedef struct qb_results_db qb_results_db;

typedef struct {
  const char* run_id;
  const char* started_utc;
  const char* config_name;
  const char* config_file;
  const char* config_text;
  const char* machine_fingerprint;
  const char* git_revision;
  const char* compiler;
  const char* c_flags;
  const char* build_type;
} qb_run_record;

/* PRAGMA application_id of a qbench history ("qbhi"). */
#define QB_RESULTS_DB_APPLICATION_ID 0x71626869

/* Opens (creating if needed) a history. A file that is an SQLite database but not a
 * qbench history (other tables, another application_id) is refused untouched. */
int qb_results_db_open(const char* path, qb_results_db** out, qb_error* err);
void qb_results_db_close(qb_results_db* db);

/* Records the run (a resumed run keeps its first record). */
int qb_results_db_add_run(qb_results_db* db, const qb_run_record* run, qb_error* err);

/* One transaction: the item's rows, its predictions (pred NULL or empty: none; the
 * model's reference, rows[0].model, is inserted with the first) and its completion
 * marker. */
int qb_results_db_commit_item(qb_results_db* db, const char* run_id, const char* item_id,
                              const qb_result_row* rows, size_t count,
                              const qb_item_predictions* pred, qb_error* err);

/* The predictions stored under key (an item id, "<model>/fp32", "<model>/labels"):
 * 1 found (*v malloc'd, *n values), 0 none, -1 error. */
int qb_results_db_predictions(qb_results_db* db, const char* run_id, const char* key,
                              uint16_t** v, size_t* n, qb_error* err);

/* Calls fn for every finished item of a run. */
typedef void (*qb_results_db_item_fn)(const char* item_id, long nrows, void* user);
int qb_results_db_items(qb_results_db* db, const char* run_id, qb_results_db_item_fn fn,
                        void* user, qb_error* err);

/* Removes an item's rows, predictions and marker (resume: the CSV disagrees with the DB). */
int qb_results_db_forget_item(qb_results_db* db, const char* run_id, const char* item_id,
                              qb_error* err);

/* The config text a run was started with (malloc'd; NULL if the run is unknown). */
char* qb_results_db_run_config(qb_results_db* db, const char* run_id);

/* Number of result rows of a run (tests, summaries); -1 on error. */
long qb_results_db_count_rows(qb_results_db* db, const char* run_id, qb_error* err);

/* ---- readers (compare, history, report) ---- */

/* Calls fn for every result row whose run_id and metric match (NULL = any), with its
 * run's record (fields as stored; config_text is not loaded and reads ""), ordered by
 * the run's start time, then by insertion. */
typedef void (*qb_results_db_row_fn)(const qb_result_row* row, const qb_run_record* run,
                                     void* user);
int qb_results_db_select(qb_results_db* db, const char* run_id, const char* metric,
                         qb_results_db_row_fn fn, void* user, qb_error* err);

/* One text field of a run's record (field: a column of the runs table, e.g.
 * "machine_fingerprint"). Returns 1 and fills buf, 0 if the run is unknown, -1 on a
 * database error or a field that is not a runs column. */
int qb_results_db_run_field(qb_results_db* db, const char* run_id, const char* field, char* buf,
                            size_t size, qb_error* err);

#endif
