/* The history readers: runs written through the results DB come back through
 * qb_results_db_select / qb_history_query_db (filters, one median point per run,
 * ordered by run start) and load as runs by id for qbench compare.
 *
 * `test_history --write-db FILE` only writes the synthetic history (for the CLI test). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_history.h"
#include "qb_results_db.h"
#include "qb_run_data.h"
#include "qb_test.h"

/* Three nightly runs on machine "m1" (the third is 20 % slower) and one on "m2".
 * Latency samples of run k: 1000, 1010, 1020 ns x scale (median 1010 x scale). */
static const struct {
  const char* id;
  const char* started;
  const char* machine;
  double scale, accuracy;
} kRuns[] = {
    {"nightly-20261128T020000Z", "2026-11-28T02:00:00Z", "m1", 1.0, 85.0},
    {"nightly-20261129T020000Z", "2026-11-29T02:00:00Z", "m1", 1.0, 85.1},
    {"nightly-20261130T020000Z", "2026-11-30T02:00:00Z", "m1", 1.2, 84.9},
    {"other-20261130T030000Z", "2026-11-30T03:00:00Z", "m2", 0.5, 85.0},
};

static int write_db(const char* path) {
  unlink(path);
  qb_results_db* db;
  qb_error err;
  if (qb_results_db_open(path, &db, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return -1;
  }
  int rc = 0;
  /* Insert out of time order: the reader must sort by start time. */
  static const int kOrder[] = {2, 0, 3, 1};
  for (int k = 0; k < 4 && !rc; k++) {
    const int i = kOrder[k];
    const qb_run_record rec = {kRuns[i].id, kRuns[i].started, "nightly", "configs/nightly.yaml", "",
                               kRuns[i].machine, "rev", "gcc", "-O2", "Release"};
    rc = qb_results_db_add_run(db, &rec, &err);
    qb_result_rows rows;
    qb_result_rows_init(&rows);
    qb_result_row* id = &rows.identity;
    snprintf(id->run_id, sizeof id->run_id, "%s", kRuns[i].id);
    snprintf(id->item_id, sizeof id->item_id, "mlp/static/avx2");
    snprintf(id->model, sizeof id->model, "mlp");
    snprintf(id->backend, sizeof id->backend, "avx2");
    snprintf(id->workflow, sizeof id->workflow, "static");
    id->w_bits = id->a_bits = 8;
    snprintf(id->w_scheme, sizeof id->w_scheme, "symmetric");
    snprintf(id->w_granularity, sizeof id->w_granularity, "channel");
    snprintf(id->w_range, sizeof id->w_range, "minmax");
    snprintf(id->a_scheme, sizeof id->a_scheme, "affine");
    snprintf(id->a_granularity, sizeof id->a_granularity, "tensor");
    snprintf(id->a_range, sizeof id->a_range, "minmax");
    id->threads = 1;
    for (int s = 0; s < 3; s++)
      qb_result_rows_add(&rows, "mlp", "k", 1, "latency_sample", (1000 + 10 * s) * kRuns[i].scale, "ns");
    qb_result_rows_add(&rows, "mlp", "", 1, "accuracy", kRuns[i].accuracy, "%");
    qb_result_rows_add(&rows, "fc1", "", 1, "sqnr", 30, "dB");
    if (!rc) rc = qb_results_db_commit_item(db, kRuns[i].id, "mlp/static/avx2", rows.rows, rows.count, NULL, &err);
    qb_result_rows_free(&rows);
  }
  if (rc) fprintf(stderr, "%s\n", err.msg);
  qb_results_db_close(db);
  return rc;
}

int main(int argc, char** argv) {
  if (argc == 3 && !strcmp(argv[1], "--write-db")) return write_db(argv[2]) ? 1 : 0;
  char path[] = "/tmp/qb_test_history_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return 1;
  close(fd);
  QB_CHECK(write_db(path) == 0);
  qb_error err;

  qb_history_query q = {path, "latency_sample", "mlp", NULL, NULL, NULL, "m1"};
  qb_history h;
  QB_CHECK_MSG(qb_history_query_db(&q, &h, &err) == 0, "%s", err.msg);
  QB_CHECK_EQ_INT(h.nseries, 1);
  if (h.nseries == 1) {
    const qb_history_series* s = &h.series[0];
    QB_CHECK(strstr(s->label, "mlp avx2 w8-sym-channel-minmax/a8-aff-tensor-minmax/static") == s->label);
    QB_CHECK_EQ_INT(s->npoints, 3);
    if (s->npoints == 3) {
      /* ordered by start time although inserted 2, 0, 1; medians 1010, 1010, 1212 */
      QB_CHECK(!strcmp(s->points[0].run_id, kRuns[0].id) && !strcmp(s->points[2].run_id, kRuns[2].id));
      QB_CHECK(s->points[0].value == 1010 && s->points[0].n == 3);
      QB_CHECK(fabs(s->points[2].value - 1212) < 1e-9);
    }
  }
  qb_history_free(&h);
  /* No machine filter: one series per machine (3 + 1 points); a per-layer metric
   * needs --layer. */
  q.machine = NULL;
  QB_CHECK(qb_history_query_db(&q, &h, &err) == 0 && h.nseries == 2 && h.series[0].npoints == 3 &&
           h.series[1].npoints == 1 && strstr(h.series[1].label, "[machine m2]"));
  qb_history_free(&h);
  q.metric = "sqnr";
  QB_CHECK(qb_history_query_db(&q, &h, &err) == 0 && h.nseries == 0);
  qb_history_free(&h);
  q.layer = "fc1";
  q.qconfig = "w8-sym-channel-minmax/a8-aff-tensor-minmax/static";
  q.machine = "m1";
  QB_CHECK(qb_history_query_db(&q, &h, &err) == 0 && h.nseries == 1 && h.series[0].npoints == 3);
  qb_history_free(&h);
  q.qconfig = "w4-sym-channel-minmax/a8-aff-tensor-minmax/static";
  QB_CHECK(qb_history_query_db(&q, &h, &err) == 0 && h.nseries == 0);
  qb_history_free(&h);

  /* A run loads by id from the DB, with its machine fingerprint. */
  qb_run_data run;
  QB_CHECK_MSG(qb_run_data_load(kRuns[2].id, path, &run, &err) == 0, "%s", err.msg);
  QB_CHECK_EQ_INT(run.rows.count, 5);
  QB_CHECK(!strcmp(run.fingerprint, "m1") && !strcmp(run.started_utc, kRuns[2].started));
  qb_run_data_free(&run);
  QB_CHECK(qb_run_data_load("no-such-run", path, &run, &err) == -1 && strstr(err.msg, "no-such-run"));
  qb_run_data_free(&run);
  qb_history_query missing = {"/nonexistent/q.db", "accuracy", NULL, NULL, NULL, NULL, NULL};
  QB_CHECK(qb_history_query_db(&missing, &h, &err) == -1 && strstr(err.msg, "/nonexistent/q.db"));
  unlink(path);
  char wal[64];
  snprintf(wal, sizeof wal, "%s-wal", path);
  unlink(wal);
  snprintf(wal, sizeof wal, "%s-shm", path);
  unlink(wal);
  return qb_test_finish("test_history");
}
