/* The regression gate: Mann-Whitney U against hand-computed p-values, and qbench
 * compare's core on synthetic runs (a known regression is found, noise is not). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb_compare.h"
#include "qb_mann_whitney.h"
#include "qb_predictions.h"
#include "qb_results_files.h"
#include "qb_test.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

static void test_mann_whitney_exact(void) {
  qb_mw_result r;
  /* A = {1,2,3}, B = {4,5,6}: no pair has a > b, U_A = 0. Of the C(6,3) = 20 equally
   * likely splits only one has U = 0, so P(U <= 0) = 1/20 and p = 2/20 = 0.1. */
  const double a1[] = {1, 2, 3}, b1[] = {4, 5, 6};
  QB_CHECK(qb_mann_whitney(a1, 3, b1, 3, &r) == 0);
  QB_CHECK(r.method == QB_MW_EXACT);
  QB_CHECK(r.u_a == 0);
  QB_CHECK_MSG(NEAR(r.p, 0.1, 1e-12), "p = %.17g", r.p);
  /* Swapping the samples gives U = nA nB = 9 and the same two-sided p. */
  QB_CHECK(qb_mann_whitney(b1, 3, a1, 3, &r) == 0);
  QB_CHECK(r.u_a == 9);
  QB_CHECK(NEAR(r.p, 0.1, 1e-12));
  /* 5 vs 5 fully separated: C(10,5) = 252, p = 2/252 = 0.0079365079... */
  const double a2[] = {1, 2, 3, 4, 5}, b2[] = {6, 7, 8, 9, 10};
  QB_CHECK(qb_mann_whitney(a2, 5, b2, 5, &r) == 0);
  QB_CHECK_MSG(NEAR(r.p, 2.0 / 252, 1e-12), "p = %.17g", r.p);
  /* A = {1,3,5}, B = {2,4,6}: pairs a > b: 3>2, 5>2, 5>4 -> U_A = 3. The counts of U
   * = 0..9 for 3 vs 3 are 1,1,2,3,3,3,3,2,1,1 (sum 20); P(U <= 3) = 7/20, p = 0.7. */
  const double a3[] = {5, 1, 3}, b3[] = {6, 2, 4};
  QB_CHECK(qb_mann_whitney(a3, 3, b3, 3, &r) == 0);
  QB_CHECK(r.u_a == 3);
  QB_CHECK_MSG(NEAR(r.p, 0.7, 1e-12), "p = %.17g", r.p);
  /* Unequal sizes: A = {1}, B = {2,3,4}: U = 0, 4 splits, P(U <= 0) = 1/4, p = 0.5. */
  const double a4[] = {1}, b4[] = {2, 3, 4};
  QB_CHECK(qb_mann_whitney(a4, 1, b4, 3, &r) == 0);
  QB_CHECK(NEAR(r.p, 0.5, 1e-12));
}

static bool close_rel(double a, double b) { return fabs(a - b) <= 1e-12 * fabs(b); }

/* The smallest p a pair of sample sizes allows: 2 / C(na + nb, na). */
static void test_mann_whitney_min_p(void) {
  QB_CHECK(close_rel(qb_mann_whitney_min_p(3, 3), 0.1));
  QB_CHECK(close_rel(qb_mann_whitney_min_p(4, 4), 2.0 / 70));
  QB_CHECK(close_rel(qb_mann_whitney_min_p(9, 9), 2.0 / 48620));
  QB_CHECK(close_rel(qb_mann_whitney_min_p(1, 1), 1.0));
  QB_CHECK(close_rel(qb_mann_whitney_min_p(0, 5), 1.0));
  /* ... and it is what the exact test gives fully separated samples. */
  const double a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
  qb_mw_result mw;
  QB_CHECK(qb_mann_whitney(a, 4, b, 4, &mw) == 0);
  QB_CHECK(close_rel(mw.p, qb_mann_whitney_min_p(4, 4)));
}

static void test_mann_whitney_normal(void) {
  qb_mw_result r;
  /* Ties force the normal approximation. A = {1,2,2,3}, B = {3,4,4,5}; pooled ranks:
   * 1 -> 1, 2,2 -> 2.5, 3,3 -> 4.5, 4,4 -> 6.5, 5 -> 8. R_A = 1 + 2.5 + 2.5 + 4.5 = 10.5,
   * U_A = 10.5 - 4*5/2 = 0.5, mu = 8. Three tie groups of 2: sum (t^3 - t) = 18.
   * sigma^2 = 16/12 * (9 - 18/56) = 11.571428..., sigma = 3.4016803;
   * z = (7.5 - 0.5)/sigma = 2.0578066; p = erfc(z/sqrt 2) = 0.0396087046. */
  const double a[] = {1, 2, 2, 3}, b[] = {3, 4, 4, 5};
  QB_CHECK(qb_mann_whitney(a, 4, b, 4, &r) == 0);
  QB_CHECK(r.method == QB_MW_NORMAL);
  QB_CHECK(r.u_a == 0.5);
  QB_CHECK_MSG(NEAR(r.z, -2.0578065752724592, 1e-9), "z = %.17g", r.z);
  QB_CHECK_MSG(NEAR(r.p, 0.03960870463975983, 1e-9), "p = %.17g", r.p);
  /* Every value tied: nothing to tell apart, p = 1. */
  const double c[] = {7, 7, 7};
  QB_CHECK(qb_mann_whitney(c, 3, c, 3, &r) == 0);
  QB_CHECK(r.p == 1);
  /* Bad input. */
  const double bad[] = {1, NAN};
  QB_CHECK(qb_mann_whitney(bad, 2, a, 4, &r) == -1);
  QB_CHECK(qb_mann_whitney(a, 0, b, 4, &r) == -1);
  /* Helpers: median and CV. */
  const double m[] = {4, 1, 3, 2};
  QB_CHECK(qb_median(m, 4) == 2.5);
  QB_CHECK(qb_median(m, 3) == 3);
  QB_CHECK(NEAR(qb_cv(m, 4), sqrt(5.0 / 3) / 2.5, 1e-12));
}

/* ---- synthetic runs ---------------------------------------------------------------- */

typedef struct {
  double latency_scale; /* multiplies every latency sample */
  double accuracy;      /* end-to-end accuracy (%) */
  double sqnr;          /* fc1 SQNR (dB) */
  const char* fingerprint;
  double rel_scale;     /* > 0: latency_rel_sample rows, 0.5 x rel_scale (item / fp32) */
} synth;

static void identity(qb_result_row* r, const char* run_id) {
  memset(r, 0, sizeof *r);
  snprintf(r->run_id, sizeof r->run_id, "%s", run_id);
  snprintf(r->item_id, sizeof r->item_id, "mlp/static/w8/a8/avx2");
  snprintf(r->model, sizeof r->model, "mlp");
  snprintf(r->backend, sizeof r->backend, "avx2");
  snprintf(r->workflow, sizeof r->workflow, "static");
  r->w_bits = r->a_bits = 8;
  snprintf(r->w_scheme, sizeof r->w_scheme, "symmetric");
  snprintf(r->a_scheme, sizeof r->a_scheme, "affine");
  snprintf(r->w_granularity, sizeof r->w_granularity, "channel");
  snprintf(r->a_granularity, sizeof r->a_granularity, "tensor");
  snprintf(r->w_range, sizeof r->w_range, "minmax");
  snprintf(r->a_range, sizeof r->a_range, "minmax");
}

/* Writes DIR/results.csv and DIR/run.json; latencies are 1000 ns x scale with
 * +-3 % uniform noise from the seeded PRNG, 10 repetitions, of which the first
 * `quiet` take 1000 ns exactly (a run caught in a slow machine state but for those). */
static void write_run_quiet(const char* dir, const synth* s, int quiet) {
  mkdir(dir, 0755);
  char path[512];
  snprintf(path, sizeof path, "%s/results.csv", dir);
  unlink(path);
  const char* id = strrchr(dir, '/') + 1;
  qb_result_rows rows;
  qb_result_rows_init(&rows);
  identity(&rows.identity, id);
  for (int i = 0; i < 10; i++)
    qb_result_rows_add(&rows, "mlp", "k", 1, "latency_sample",
                       i < quiet ? 1000 : 1000 * s->latency_scale * (1 + qb_rand_uniform(-0.03f, 0.03f)),
                       "ns");
  for (int i = 0; i < 10 && s->rel_scale > 0; i++)
    qb_result_rows_add(&rows, "mlp", "", 1, "latency_rel_sample",
                       0.5 * s->rel_scale * (1 + qb_rand_uniform(-0.03f, 0.03f)), "");
  qb_result_rows_add(&rows, "mlp", "", 1, "accuracy", s->accuracy, "%");
  qb_result_rows_add(&rows, "fc1", "", 1, "sqnr", s->sqnr, "dB");
  qb_result_rows_add(&rows, "mlp", "", 1, "bytes_weights", 1000, "bytes");
  qb_result_rows_add(&rows, "mlp", "", 1, "kl", 0.01, ""); /* not gated */
  qb_error err;
  QB_CHECK_MSG(qb_results_csv_append(path, rows.rows, rows.count, &err) == 0, "%s", err.msg);
  qb_result_rows_free(&rows);
  snprintf(path, sizeof path, "%s/run.json", dir);
  FILE* f = fopen(path, "w");
  fprintf(f, "{\n  \"run_id\": \"%s\",\n  \"git_revision\": \"abc\",\n  \"machine\": {\"fingerprint\": \"%s\"}\n}\n",
          id, s->fingerprint);
  fclose(f);
}

static void write_run(const char* dir, const synth* s) { write_run_quiet(dir, s, 0); }

static qb_compare_result compare_dirs(const char* a, const char* b, const qb_compare_options* o) {
  qb_run_data base, cur;
  qb_error err;
  qb_compare_result r;
  memset(&r, 0, sizeof r);
  QB_CHECK_MSG(qb_run_data_load(a, NULL, &base, &err) == 0, "%s", err.msg);
  QB_CHECK_MSG(qb_run_data_load(b, NULL, &cur, &err) == 0, "%s", err.msg);
  QB_CHECK(qb_compare_runs(&base, &cur, o, &r, &err) == 0);
  qb_run_data_free(&base);
  qb_run_data_free(&cur);
  return r;
}

static const qb_compare_entry* find(const qb_compare_result* r, const char* metric) {
  for (size_t i = 0; i < r->count; i++)
    if (!strcmp(r->entries[i].metric, metric)) return &r->entries[i];
  return NULL;
}

static void test_compare_runs(const char* tmp) {
  char base[256], noise[256], slow[256], worse[256], other[256];
  snprintf(base, sizeof base, "%s/base", tmp);
  snprintf(noise, sizeof noise, "%s/noise", tmp);
  snprintf(slow, sizeof slow, "%s/slow", tmp);
  snprintf(worse, sizeof worse, "%s/worse", tmp);
  snprintf(other, sizeof other, "%s/other", tmp);
  write_run(base, &(synth){1.0, 85.0, 30.0, "aaaa", 0});
  write_run(noise, &(synth){1.0, 84.8, 29.5, "aaaa", 0});  /* within every threshold */
  write_run(slow, &(synth){1.25, 85.0, 30.0, "aaaa", 0});  /* 25 % slower */
  write_run(worse, &(synth){1.0, 83.0, 27.0, "aaaa", 0});  /* -2 pp, -3 dB */
  write_run(other, &(synth){1.25, 85.0, 30.0, "bbbb", 0}); /* slower, other machine */
  qb_compare_options o;
  qb_compare_options_default(&o);

  qb_compare_result r = compare_dirs(base, noise, &o);
  QB_CHECK_EQ_INT(r.regressions, 0);
  QB_CHECK_EQ_INT(r.compared, 4); /* latency, accuracy, sqnr, bytes; kl is not gated */
  const qb_compare_entry* e = find(&r, "latency");
  QB_CHECK(e && e->n_base == 10 && e->n_current == 10 && e->status == QB_CMP_SAME);
  QB_CHECK(r.same_machine);
  qb_compare_result_free(&r);

  r = compare_dirs(base, slow, &o);
  QB_CHECK_EQ_INT(r.regressions, 1);
  e = find(&r, "latency");
  /* 10 vs 10 fully separated: exact p = 2/C(20,10) = 1.08e-5. */
  QB_CHECK(e && e->status == QB_CMP_REGRESSED && e->p < 1e-4);
  QB_CHECK(e && NEAR(e->change, 0.25, 0.05));
  /* The same slowdown below a 30 % threshold does not gate. */
  qb_compare_options loose = o;
  loose.speed_threshold = 0.30;
  qb_compare_result_free(&r);
  r = compare_dirs(base, slow, &loose);
  QB_CHECK_EQ_INT(r.regressions, 0);
  qb_compare_result_free(&r);
  /* A slow machine state: 7 of 10 repetitions 60 % slower (U test p < 0.05), the three
   * in quiet moments as fast as base's: the fastest repetition did not move, no
   * regression. A real 25 % slowdown moves it (above). */
  char state[256];
  snprintf(state, sizeof state, "%s/state", tmp);
  write_run_quiet(state, &(synth){1.6, 85.0, 30.0, "aaaa", 0}, 3);
  r = compare_dirs(base, state, &o);
  e = find(&r, "latency");
  QB_CHECK(e && e->p < 0.05 && e->change > 0.5 && fabs(e->min_change) < 0.05);
  QB_CHECK(e && e->status == QB_CMP_SAME);
  QB_CHECK_EQ_INT(r.regressions, 0);
  qb_compare_result_free(&r);
  r = compare_dirs(base, slow, &o);
  e = find(&r, "latency");
  QB_CHECK(e && e->min_change > 0.15);
  qb_compare_result_free(&r);
  /* Reversed: an improvement, not a regression. */
  r = compare_dirs(slow, base, &o);
  QB_CHECK_EQ_INT(r.regressions, 0);
  QB_CHECK_EQ_INT(r.improvements, 1);
  qb_compare_result_free(&r);

  r = compare_dirs(base, worse, &o);
  QB_CHECK_EQ_INT(r.regressions, 2);
  e = find(&r, "accuracy");
  QB_CHECK(e && e->status == QB_CMP_REGRESSED && NEAR(e->change, -2.0, 1e-9));
  e = find(&r, "sqnr");
  QB_CHECK(e && e->status == QB_CMP_REGRESSED);
  qb_compare_result_free(&r);

  /* Other machine: speed is not compared unless asked. */
  r = compare_dirs(base, other, &o);
  QB_CHECK(!r.same_machine);
  QB_CHECK_EQ_INT(r.regressions, 0);
  e = find(&r, "latency");
  QB_CHECK(e && e->status == QB_CMP_OTHER_MACHINE);
  qb_compare_result_free(&r);
  qb_compare_options any = o;
  any.any_machine = true;
  r = compare_dirs(base, other, &any);
  QB_CHECK_EQ_INT(r.regressions, 1);
  /* Markdown and JSON name the regression. */
  char path[512];
  snprintf(path, sizeof path, "%s/cmp.md", tmp);
  FILE* f = fopen(path, "w+");
  qb_run_data b, c;
  qb_error err;
  qb_run_data_load(base, NULL, &b, &err);
  qb_run_data_load(other, NULL, &c, &err);
  qb_compare_write_markdown(f, &r, &b, &c, &any, false);
  qb_compare_write_json(f, &r, &b, &c, &any);
  rewind(f);
  char text[8192];
  const size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  QB_CHECK(strstr(text, "**REGRESSION**: 1 regression") != NULL);
  QB_CHECK(strstr(text, "| mlp (end to end) avx2 static w8 symmetric/channel/minmax a8 affine/tensor/minmax | latency |") != NULL);
  QB_CHECK(strstr(text, "\"status\": \"regressed\"") != NULL);
  qb_run_data_free(&b);
  qb_run_data_free(&c);
  qb_compare_result_free(&r);

  /* --relative: a machine 60 % slower for the whole current run moves the raw times
   * (every repetition: a regression by the default gate) but not the ratios to the
   * fp32 model of the same rounds; a 10 % slower int8 kernel moves the ratios. */
  char rbase[256], drift[256], kernel[256];
  snprintf(rbase, sizeof rbase, "%s/rbase", tmp);
  snprintf(drift, sizeof drift, "%s/drift", tmp);
  snprintf(kernel, sizeof kernel, "%s/kernel", tmp);
  write_run(rbase, &(synth){1.0, 85.0, 30.0, "aaaa", 1.0});
  write_run(drift, &(synth){1.6, 85.0, 30.0, "aaaa", 1.0});
  write_run(kernel, &(synth){1.1, 85.0, 30.0, "aaaa", 1.1});
  r = compare_dirs(rbase, drift, &o);
  QB_CHECK_EQ_INT(r.regressions, 1);
  qb_compare_result_free(&r);
  qb_compare_options rel = o;
  rel.relative = true;
  r = compare_dirs(rbase, drift, &rel);
  e = find(&r, "latency");
  QB_CHECK(e && e->status == QB_CMP_SAME && e->n_base == 10 && fabs(e->change) < 0.03);
  QB_CHECK_EQ_INT(r.regressions, 0);
  QB_CHECK_EQ_INT(r.compared, 4); /* one latency series: the ratios, not the raw times */
  qb_compare_result_free(&r);
  r = compare_dirs(rbase, kernel, &rel);
  e = find(&r, "latency");
  QB_CHECK(e && e->status == QB_CMP_REGRESSED && NEAR(e->change, 0.10, 0.04));
  qb_compare_result_free(&r);
  /* A run with samples but no ratios cannot be judged relatively: an error, not a pass. */
  {
    qb_run_data old_run, new_run;
    qb_error rerr;
    QB_CHECK(qb_run_data_load(base, NULL, &old_run, &rerr) == 0);
    QB_CHECK(qb_run_data_load(rbase, NULL, &new_run, &rerr) == 0);
    QB_CHECK(qb_compare_runs(&old_run, &new_run, &rel, &r, &rerr) == -1);
    QB_CHECK(strstr(rerr.msg, "no latency_rel_sample rows") != NULL);
    qb_run_data_free(&old_run);
    qb_run_data_free(&new_run);
  }

  /* A folder that is not a run: a clear error. */
  qb_run_data bad;
  QB_CHECK(qb_run_data_load(tmp, NULL, &bad, &err) == -1);
  QB_CHECK(strstr(err.msg, "not a run folder") != NULL);
  qb_run_data_free(&bad);
}

/* ---- the accuracy gate on paired predictions ---------------------------------------------- */

/* A run of one item over n samples (labels i % 10): the fp32 model is right on every
 * sample; the item gets wrong the samples [0, wrong), predicting label + 1 there, or
 * label + 2 when `other_wrong_class` (same correctness, other predictions). Rows:
 * accuracy, drop, agreement, consistent with the predictions. */
static void write_paired_run(const char* dir, size_t n, size_t wrong, bool other_wrong_class,
                             bool with_predictions) {
  mkdir(dir, 0755);
  char path[512];
  snprintf(path, sizeof path, "%s/results.csv", dir);
  unlink(path);
  uint16_t* labels = malloc(n * sizeof *labels);
  uint16_t* pred = malloc(n * sizeof *pred);
  for (size_t i = 0; i < n; i++) {
    labels[i] = (uint16_t)(i % 10);
    pred[i] = i < wrong ? (uint16_t)((labels[i] + (other_wrong_class ? 2 : 1)) % 10) : labels[i];
  }
  qb_result_rows rows;
  qb_result_rows_init(&rows);
  identity(&rows.identity, strrchr(dir, '/') + 1);
  const double acc = 100.0 * (double)(n - wrong) / (double)n;
  qb_result_rows_add(&rows, "mlp", "", 1, "accuracy", acc, "%");
  qb_result_rows_add(&rows, "mlp", "", 1, "drop", 100 - acc, "%");
  qb_result_rows_add(&rows, "mlp", "", 1, "agreement", acc, "%");
  qb_error err;
  QB_CHECK_MSG(qb_results_csv_append(path, rows.rows, rows.count, &err) == 0, "%s", err.msg);
  qb_item_predictions p = {pred, labels, labels, n};
  if (with_predictions)
    QB_CHECK_MSG(qb_predictions_save_item(dir, "mlp", rows.identity.item_id, &p, &err) == 0, "%s",
                 err.msg);
  qb_result_rows_free(&rows);
  free(labels);
  free(pred);
}

static void test_compare_accuracy_gate(const char* tmp) {
  char base[256], same[256], lost20[256], lost3[256], big[256], big40[256], moved[256], old[256];
  snprintf(base, sizeof base, "%s/p-base", tmp);
  snprintf(same, sizeof same, "%s/p-same", tmp);
  snprintf(lost20, sizeof lost20, "%s/p-lost20", tmp);
  snprintf(lost3, sizeof lost3, "%s/p-lost3", tmp);
  snprintf(big, sizeof big, "%s/p-big", tmp);
  snprintf(big40, sizeof big40, "%s/p-big40", tmp);
  snprintf(moved, sizeof moved, "%s/p-moved", tmp);
  /* Each folder is written once: a run's reference files are written by its first item. */
  snprintf(old, sizeof old, "%s/p-old", tmp);
  write_paired_run(base, 1000, 0, false, true);
  write_paired_run(same, 1000, 0, false, true);
  write_paired_run(lost20, 1000, 20, false, true);  /* -2 pp, 20 lost, 0 gained */
  qb_compare_options o;
  qb_compare_options_default(&o);

  /* The same predictions: the same, and said so. */
  qb_compare_result r = compare_dirs(base, same, &o);
  const qb_compare_entry* e = find(&r, "accuracy");
  QB_CHECK(e && e->paired && e->identical && e->status == QB_CMP_SAME && e->p == 1);
  QB_CHECK_EQ_INT(r.identical, 3); /* accuracy, agreement, drop */
  QB_CHECK_EQ_INT(r.regressions, 0);
  qb_compare_result_free(&r);

  /* 20 of 1000 lost, none gained: p = 2 * 2^-20 = 1.9e-6 and -2 pp > 0.5 pp. */
  r = compare_dirs(base, lost20, &o);
  QB_CHECK_EQ_INT(r.regressions, 3);
  e = find(&r, "accuracy");
  QB_CHECK(e && e->status == QB_CMP_REGRESSED && e->lost == 20 && e->gained == 0 && !e->identical);
  QB_CHECK_MSG(e && NEAR(e->p, 2 * pow(2, -20), 1e-15), "p = %g", e ? e->p : NAN);
  e = find(&r, "drop");
  QB_CHECK(e && e->status == QB_CMP_REGRESSED && NEAR(e->change, 2.0, 1e-9));
  /* Markdown and JSON carry the counts. */
  char path[512];
  snprintf(path, sizeof path, "%s/p.md", tmp);
  FILE* f = fopen(path, "w+");
  qb_run_data b, c;
  qb_error err;
  qb_run_data_load(base, NULL, &b, &err);
  qb_run_data_load(lost20, NULL, &c, &err);
  qb_compare_write_markdown(f, &r, &b, &c, &o, false);
  qb_compare_write_json(f, &r, &b, &c, &o);
  rewind(f);
  char text[8192];
  const size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  QB_CHECK(strstr(text, "lost 20, gained 0 | — | regressed") != NULL); /* no CV: not speed */
  QB_CHECK(strstr(text, "\"lost\": 20, \"gained\": 0, \"identical_predictions\": false") != NULL);
  qb_run_data_free(&b);
  qb_run_data_free(&c);
  qb_compare_result_free(&r);
  /* Reversed: an improvement. */
  r = compare_dirs(lost20, base, &o);
  QB_CHECK_EQ_INT(r.regressions, 0);
  QB_CHECK_EQ_INT(r.improvements, 3);
  qb_compare_result_free(&r);

  /* 3 of 200 lost: -1.5 pp, more than 0.5 pp but p = 2/8 = 0.25: noise, no regression
   * (the threshold alone called this a regression). */
  snprintf(base, sizeof base, "%s/p-base200", tmp);
  write_paired_run(base, 200, 0, false, true);
  write_paired_run(lost3, 200, 3, false, true);
  r = compare_dirs(base, lost3, &o);
  e = find(&r, "accuracy");
  QB_CHECK(e && e->status == QB_CMP_SAME && NEAR(e->p, 0.25, 1e-15) && NEAR(e->change, -1.5, 1e-9));
  QB_CHECK_EQ_INT(r.regressions, 0);
  qb_compare_result_free(&r);
  /* Without predictions on one side: the threshold alone. */
  write_paired_run(old, 200, 3, false, false);
  r = compare_dirs(base, old, &o);
  e = find(&r, "accuracy");
  QB_CHECK(e && !e->paired && isnan(e->p) && e->status == QB_CMP_REGRESSED);
  qb_compare_result_free(&r);

  /* 40 of 10,000 lost: p = 2^-39, real, but 0.4 pp is below --accuracy-pp 0.5. */
  write_paired_run(big, 10000, 0, false, true);
  write_paired_run(big40, 10000, 40, false, true);
  r = compare_dirs(big, big40, &o);
  e = find(&r, "accuracy");
  QB_CHECK(e && e->status == QB_CMP_SAME && e->p < 1e-11);
  qb_compare_options strict = o;
  strict.accuracy_pp = 0.3;
  qb_compare_result_free(&r);
  r = compare_dirs(big, big40, &strict);
  QB_CHECK_EQ_INT(r.regressions, 3);
  qb_compare_result_free(&r);

  /* Other wrong classes on the same samples: predictions differ, correctness does not. */
  snprintf(base, sizeof base, "%s/p-base-lost20", tmp);
  write_paired_run(base, 1000, 20, false, true);
  write_paired_run(moved, 1000, 20, true, true);
  r = compare_dirs(base, moved, &o);
  e = find(&r, "accuracy");
  QB_CHECK(e && e->paired && !e->identical && e->lost == 0 && e->gained == 0 && e->p == 1);
  QB_CHECK_EQ_INT(r.identical, 0);
  qb_compare_result_free(&r);
}

static void test_gbench_parse(void) {
  /* Two repetitions of one benchmark (us) plus an aggregate, which is skipped. */
  const char* t =
      "{\"context\": {\"caches\": [{\"type\": \"Data\", \"level\": 1}]},\n"
      " \"benchmarks\": [\n"
      "  {\"name\": \"gemm/k/M:1\", \"run_name\": \"gemm/k/M:1\", \"run_type\": \"iteration\",\n"
      "   \"real_time\": 2.5, \"cpu_time\": 2.4, \"time_unit\": \"us\", \"OPS\": 1e9},\n"
      "  {\"name\": \"gemm/k/M:1\", \"run_name\": \"gemm/k/M:1\", \"run_type\": \"iteration\",\n"
      "   \"real_time\": 3.0, \"cpu_time\": 2.9, \"time_unit\": \"us\", \"OPS\": 1.1e9},\n"
      "  {\"name\": \"gemm/k/M:1_median\", \"run_name\": \"gemm/k/M:1\", \"run_type\": \"aggregate\",\n"
      "   \"real_time\": 2.75, \"time_unit\": \"us\"}\n ]\n}\n";
  qb_run_data run;
  memset(&run, 0, sizeof run);
  qb_error err;
  QB_CHECK(qb_run_data_parse_gbench("g.json", t, strlen(t), &run, &err) == 0);
  QB_CHECK_EQ_INT(run.ngbench, 1);
  QB_CHECK(run.ngbench == 1 && run.gbench[0].count == 2 && run.gbench[0].ns[0] == 2500 &&
           run.gbench[0].ns[1] == 3000 && run.gbench[0].ops_per_s == 1.1e9);
  qb_run_data_free(&run);
  /* A folder with only gbench.json: machine and build from the context. */
  char dir[] = "/tmp/qb_test_gbench_XXXXXX";
  if (mkdtemp(dir)) {
    char path[128];
    snprintf(path, sizeof path, "%s/gbench.json", dir);
    FILE* f = fopen(path, "w");
    fprintf(f, "{\"context\": {\"machine_fingerprint\": \"e45ab214bf4fafe0\", \"cpu_brand\": \"AMD EPYC\"},\n%s",
            strstr(t, "\"benchmarks\""));
    fclose(f);
    QB_CHECK_MSG(qb_run_data_load(dir, NULL, &run, &err) == 0, "%s", err.msg);
    QB_CHECK(!strcmp(run.fingerprint, "e45ab214bf4fafe0") && !strcmp(run.brand, "AMD EPYC"));
    QB_CHECK(run.ngbench == 1 && run.rows.count == 0);
    qb_run_data_free(&run);
    unlink(path);
    rmdir(dir);
  }
  QB_CHECK(qb_run_data_parse_gbench("g.json", "{}", 2, &run, &err) == -1);
  QB_CHECK(strstr(err.msg, "g.json") != NULL);
  qb_run_data_free(&run);
}

int main(void) {
  qb_test_seed(20261201);
  char tmp[] = "/tmp/qb_test_compare_XXXXXX";
  if (!mkdtemp(tmp)) return 1;
  test_mann_whitney_exact();
  test_mann_whitney_min_p();
  test_mann_whitney_normal();
  test_compare_runs(tmp);
  test_compare_accuracy_gate(tmp);
  test_gbench_parse();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmp);
  return qb_test_finish("test_compare");
}
