/* Paired accuracy statistics (harness/stats/qb_paired.h) against hand-worked exact
 * binomial sums, and the storage of per-sample predictions (run folder .npy files,
 * SQLite blobs, an older history without the predictions table). */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb_paired.h"
#include "qb_predictions.h"
#include "qb_results_db.h"
#include "qb_test.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

static void test_binomial_and_mcnemar(void) {
  /* P(X <= 1), X ~ Bin(3, 0.2) = 0.8^3 + 3 * 0.2 * 0.8^2 = 0.512 + 0.384. */
  QB_CHECK(NEAR(qb_binom_cdf(1, 3, 0.2), 0.896, 1e-14));
  QB_CHECK(qb_binom_cdf(3, 3, 0.2) == 1.0);
  /* b = 10 lost, c = 2 gained: m = 12, P(X <= 2 | 1/2) = (1 + 12 + 66) / 4096,
   * p = 2 * 79 / 4096 = 0.03857421875. */
  QB_CHECK_MSG(NEAR(qb_mcnemar_exact_p(10, 2), 0.03857421875, 1e-14), "p = %.17g",
               qb_mcnemar_exact_p(10, 2));
  QB_CHECK(NEAR(qb_mcnemar_exact_p(2, 10), 0.03857421875, 1e-14)); /* symmetric */
  /* 7 vs 3: P(X <= 3 | 10) = (1 + 10 + 45 + 120) / 1024 = 176/1024, p = 0.34375. */
  QB_CHECK(NEAR(qb_mcnemar_exact_p(7, 3), 0.34375, 1e-14));
  /* 5 vs 0: 2 / 32 = 0.0625 (not significant: five images never are); 6 vs 0: 2/64. */
  QB_CHECK(NEAR(qb_mcnemar_exact_p(5, 0), 0.0625, 1e-15));
  QB_CHECK(NEAR(qb_mcnemar_exact_p(6, 0), 0.03125, 1e-15));
  /* 3 vs 3: 2 * 42/64 > 1, capped; nothing discordant: 1. */
  QB_CHECK(qb_mcnemar_exact_p(3, 3) == 1.0);
  QB_CHECK(qb_mcnemar_exact_p(0, 0) == 1.0);
  /* 30 vs 10: 2 * sum_{i<=10} C(40,i) / 2^40 = 0.0022214337732293643 (exact sum). */
  QB_CHECK_MSG(NEAR(qb_mcnemar_exact_p(30, 10), 0.0022214337732293643, 1e-14), "p = %.17g",
               qb_mcnemar_exact_p(30, 10));
  /* 40 vs 0: 2^-39; the log-space sum keeps tiny tails. */
  QB_CHECK(NEAR(qb_mcnemar_exact_p(40, 0), 1.8189894035458565e-12, 1e-24));
  /* Large m (a 10,000-image evaluation) stays finite and symmetric. */
  const double big = qb_mcnemar_exact_p(2600, 2400);
  QB_CHECK_MSG(big > 0.004 && big < 0.006, "p = %g", big); /* z = 200/sqrt(5000) = 2.83 */
  QB_CHECK(qb_mcnemar_exact_p(2400, 2600) == big);
}

static void test_clopper_pearson(void) {
  double lo, hi;
  /* Closed forms: k = 0 of 5: hi = 1 - 0.025^(1/5); k = m: lo = 0.025^(1/5);
   * 1 of 2: 1 - (1 - lo)^2 = 0.025 and 1 - hi^2 = 0.025. */
  qb_clopper_pearson(0, 5, 0.05, &lo, &hi);
  QB_CHECK(lo == 0 && NEAR(hi, 1 - pow(0.025, 0.2), 1e-12));
  qb_clopper_pearson(5, 5, 0.05, &lo, &hi);
  QB_CHECK(hi == 1 && NEAR(lo, pow(0.025, 0.2), 1e-12));
  qb_clopper_pearson(1, 2, 0.05, &lo, &hi);
  QB_CHECK(NEAR(lo, 1 - sqrt(0.975), 1e-12) && NEAR(hi, sqrt(0.975), 1e-12));
  /* 7 of 10: (0.3475471499, 0.9332604888), as R's binom.test; 30 of 40 and 10 of 12
   * by bisection on exact rational binomial sums. */
  qb_clopper_pearson(7, 10, 0.05, &lo, &hi);
  QB_CHECK_MSG(NEAR(lo, 0.3475471499400027, 1e-10) && NEAR(hi, 0.9332604888222655, 1e-10),
               "[%.16g, %.16g]", lo, hi);
  qb_clopper_pearson(30, 40, 0.05, &lo, &hi);
  QB_CHECK(NEAR(lo, 0.5880380198485702, 1e-10) && NEAR(hi, 0.873085201067155, 1e-10));
  qb_clopper_pearson(10, 12, 0.05, &lo, &hi);
  QB_CHECK(NEAR(lo, 0.5158622513140327, 1e-10) && NEAR(hi, 0.9791374745399075, 1e-10));
}

static void test_paired_stats(void) {
  qb_paired_result r;
  /* 200 images, 10 lost, 2 gained: drop 4 pp; interval (12/200)(2 pi - 1) * 100 with
   * pi in [0.51586, 0.97914]: [0.1903, 5.7496] pp; p = 0.0386. */
  qb_paired_stats(200, 10, 2, 0.05, &r);
  QB_CHECK(NEAR(r.drop, 4.0, 1e-12));
  QB_CHECK_MSG(NEAR(r.ci_low, 0.19034701576839286, 1e-8) && NEAR(r.ci_high, 5.74964969447889, 1e-8),
               "[%.16g, %.16g]", r.ci_low, r.ci_high);
  QB_CHECK(NEAR(r.p, 0.03857421875, 1e-14));
  QB_CHECK(r.b == 10 && r.c == 2 && r.n == 200);
  /* Three images gained, none lost: -1.5 pp, not distinguishable from fp32. */
  qb_paired_stats(200, 0, 3, 0.05, &r);
  QB_CHECK_MSG(NEAR(r.drop, -1.5, 1e-12) && NEAR(r.p, 0.25, 1e-15) && r.ci_low < 0 && r.ci_high > 0,
               "%g [%g, %g] p %.17g", r.drop, r.ci_low, r.ci_high, r.p);
  /* Nothing discordant: exactly the same samples right. */
  qb_paired_stats(200, 0, 0, 0.05, &r);
  QB_CHECK(r.drop == 0 && r.ci_low == 0 && r.ci_high == 0 && r.p == 1);
  /* The interval excludes 0 exactly when p <= alpha (both invert the same binomial
   * tails), for every split of up to 60 discordant samples. */
  int mismatches = 0;
  for (size_t m = 1; m <= 60; m++)
    for (size_t b = 0; b <= m; b++) {
      qb_paired_stats(1000, b, m - b, 0.05, &r);
      const int excludes = r.ci_low > 0 || r.ci_high < 0;
      mismatches += excludes != (r.p <= 0.05);
      mismatches += !(r.ci_low <= r.drop && r.drop <= r.ci_high);
    }
  QB_CHECK_EQ_INT(mismatches, 0);
  /* Counting: labels 0..4; ref right on 0,1,2; cur right on 0,3 -> b = 2 (1, 2), c = 1 (3). */
  const uint16_t labels[] = {0, 1, 2, 3, 4}, ref[] = {0, 1, 2, 0, 0}, cur[] = {0, 2, 0, 3, 1};
  size_t b, c;
  qb_paired_count(ref, cur, labels, 5, &b, &c);
  QB_CHECK(b == 2 && c == 1);
}

static long file_size(const char* path) {
  struct stat st;
  return stat(path, &st) ? -1 : (long)st.st_size;
}

static void test_predictions_files(const char* tmp) {
  qb_error err;
  char path[512];
  uint16_t narrow[1000], wide[7] = {0, 9, 255, 256, 1000, 65534, QB_LABEL_NONE};
  for (int i = 0; i < 1000; i++) narrow[i] = (uint16_t)(i * 7 % 10);
  snprintf(path, sizeof path, "%s/narrow.npy", tmp);
  QB_CHECK_MSG(qb_predictions_write_file(path, narrow, 1000, &err) == 0, "%s", err.msg);
  /* uint8: 128-byte header + one byte a sample (README's storage figures). */
  QB_CHECK_EQ_INT(file_size(path), 1128);
  uint16_t* v = NULL;
  size_t n = 0;
  QB_CHECK(qb_predictions_read_file(path, &v, &n, &err) == 1);
  QB_CHECK(n == 1000 && v && !memcmp(v, narrow, sizeof narrow));
  free(v);
  snprintf(path, sizeof path, "%s/wide.npy", tmp);
  QB_CHECK(qb_predictions_write_file(path, wide, 7, &err) == 0);
  QB_CHECK(qb_predictions_read_file(path, &v, &n, &err) == 1);
  QB_CHECK(n == 7 && v && !memcmp(v, wide, sizeof wide));
  free(v);
  snprintf(path, sizeof path, "%s/missing.npy", tmp);
  QB_CHECK(qb_predictions_read_file(path, &v, &n, &err) == 0 && !v && n == 0);
  /* Keys map to files: '/' becomes '+'. */
  qb_predictions_file("RUN", "mlp/static/w8/a8/avx2", path, sizeof path);
  QB_CHECK(!strcmp(path, "RUN/predictions/mlp+static+w8+a8+avx2.npy"));
  /* Blobs: width byte, then the values. */
  unsigned char blob[1 + 2 * 7];
  QB_CHECK_EQ_INT(qb_predictions_encode(wide, 7, blob), 15);
  QB_CHECK(blob[0] == 2 && blob[9] == 0xE8 && blob[10] == 0x03); /* 1000 little-endian */
  QB_CHECK(qb_predictions_decode(blob, 15, &v, &n) == 0 && n == 7 && !memcmp(v, wide, sizeof wide));
  free(v);
  QB_CHECK(qb_predictions_decode(blob, 14, &v, &n) == -1); /* half a value */
  const uint16_t small[3] = {3, 0, 9};
  QB_CHECK_EQ_INT(qb_predictions_encode(small, 3, blob), 4);
  QB_CHECK(blob[0] == 1 && qb_predictions_decode(blob, 4, &v, &n) == 0 && n == 3 &&
           !memcmp(v, small, sizeof small));
  free(v);
}

static void test_predictions_db(const char* tmp) {
  qb_error err;
  char path[512];
  snprintf(path, sizeof path, "%s/history.db", tmp);
  unlink(path);
  /* An older history: made by this code, then its predictions table dropped. */
  qb_results_db* db;
  QB_CHECK(qb_results_db_open(path, &db, &err) == 0);
  qb_results_db_close(db);
  sqlite3* raw;
  QB_CHECK(sqlite3_open(path, &raw) == SQLITE_OK);
  QB_CHECK(sqlite3_exec(raw, "DROP TABLE predictions", NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(raw);
  QB_CHECK_MSG(qb_results_db_open(path, &db, &err) == 0, "%s", err.msg);
  if (!db) return;
  uint16_t* v = NULL;
  size_t n = 0;
  QB_CHECK(qb_results_db_predictions(db, "old-run", "mlp/x", &v, &n, &err) == 0);
  qb_results_db_close(db);
  unlink(path);
  /* A new history: an item's predictions and its model's reference, in its commit. */
  QB_CHECK(qb_results_db_open(path, &db, &err) == 0);
  qb_result_rows rows;
  qb_result_rows_init(&rows);
  snprintf(rows.identity.model, sizeof rows.identity.model, "mlp");
  snprintf(rows.identity.item_id, sizeof rows.identity.item_id, "mlp/a");
  qb_result_rows_add(&rows, "mlp", "", 1, "accuracy", 50, "%");
  const uint16_t pred[4] = {1, 2, 3, 300}, fp32[4] = {1, 2, 0, 0}, labels[4] = {1, 0, 3, QB_LABEL_NONE};
  QB_CHECK(qb_result_rows_set_predictions(&rows, pred, fp32, labels, 4) == 0);
  QB_CHECK_MSG(qb_results_db_commit_item(db, "run-1", "mlp/a", rows.rows, rows.count,
                                         &rows.predictions, &err) == 0, "%s", err.msg);
  QB_CHECK(qb_results_db_predictions(db, "run-1", "mlp/a", &v, &n, &err) == 1);
  QB_CHECK(n == 4 && v && !memcmp(v, pred, sizeof pred));
  free(v);
  QB_CHECK(qb_results_db_predictions(db, "run-1", "mlp/fp32", &v, &n, &err) == 1);
  QB_CHECK(n == 4 && v && !memcmp(v, fp32, sizeof fp32));
  free(v);
  QB_CHECK(qb_results_db_predictions(db, "run-1", "mlp/labels", &v, &n, &err) == 1);
  QB_CHECK(n == 4 && v && !memcmp(v, labels, sizeof labels));
  free(v);
  /* Resume forgets an item: its predictions go with its rows; the reference stays. */
  QB_CHECK(qb_results_db_forget_item(db, "run-1", "mlp/a", &err) == 0);
  QB_CHECK(qb_results_db_predictions(db, "run-1", "mlp/a", &v, &n, &err) == 0);
  QB_CHECK(qb_results_db_predictions(db, "run-1", "mlp/fp32", &v, &n, &err) == 1);
  free(v);
  /* Clearing the row set drops its predictions (the next item starts empty). */
  qb_result_rows_clear(&rows);
  QB_CHECK(rows.predictions.count == 0 && !rows.predictions.predicted);
  qb_result_rows_free(&rows);
  qb_results_db_close(db);
  /* The run folder: the item's file and the model's two reference files. */
  qb_item_predictions p = {(uint16_t*)pred, (uint16_t*)fp32, (uint16_t*)labels, 4};
  char run[512];
  snprintf(run, sizeof run, "%s/run", tmp);
  QB_CHECK_MSG(qb_predictions_save_item(run, "mlp", "mlp/a", &p, &err) == 0, "%s", err.msg);
  qb_predictions_file(run, "mlp/labels", path, sizeof path);
  QB_CHECK(qb_predictions_read_file(path, &v, &n, &err) == 1 && n == 4 && !memcmp(v, labels, sizeof labels));
  free(v);
  qb_predictions_file(run, "mlp/a", path, sizeof path);
  QB_CHECK(qb_predictions_read_file(path, &v, &n, &err) == 1 && n == 4 && !memcmp(v, pred, sizeof pred));
  free(v);
}

int main(void) {
  char tmp[] = "/tmp/qb_test_paired_XXXXXX";
  if (!mkdtemp(tmp)) return 1;
  test_binomial_and_mcnemar();
  test_clopper_pearson();
  test_paired_stats();
  test_predictions_files(tmp);
  test_predictions_db(tmp);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
  if (system(cmd)) fprintf(stderr, "warning: could not remove %s\n", tmp);
  return qb_test_finish("test_paired");
}
