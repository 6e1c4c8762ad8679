/* Results: CSV/JSON writers and reader, the SQLite history, and the sweep runner's
 * resume contract with a fake evaluator: interrupt after k items, tear the CSV as a
 * crash would, resume, and find every row exactly once. */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb_result.h"
#include "qb_results_db.h"
#include "qb_results_files.h"
#include "qb_sweep_run.h"
#include "qb_test.h"

static char g_tmp[256];

static bool rows_equal(const qb_result_row* a, const qb_result_row* b) {
  size_t n;
  const qb_result_column* cols = qb_result_columns(&n);
  char x[256], y[256];
  for (size_t i = 0; i < n; i++) {
    qb_result_cell(a, &cols[i], x, sizeof x);
    qb_result_cell(b, &cols[i], y, sizeof y);
    if (strcmp(x, y)) return false;
  }
  return true;
}

static size_t count_in_file(const char* path, const char* needle) {
  FILE* f = fopen(path, "rb");
  if (!f) return 0;
  char* line = NULL;
  size_t cap = 0, n = 0;
  while (getline(&line, &cap, f) > 0)
    for (const char* p = line; (p = strstr(p, needle)); p++) n++;
  free(line);
  fclose(f);
  return n;
}

/* ---- files ------------------------------------------------------------------------ */

static void fill_rows(qb_result_rows* r) {
  qb_result_rows_init(r);
  snprintf(r->identity.run_id, sizeof r->identity.run_id, "run-1");
  snprintf(r->identity.item_id, sizeof r->identity.item_id, "mlp/static/w8/a8/avx2");
  snprintf(r->identity.w_granularity, sizeof r->identity.w_granularity, "group:32");
  r->identity.w_bits = 8;
  qb_result_rows_add(r, "<mlp>", "", 1, "accuracy", 85.25, "%");
  qb_result_rows_add(r, "fc,1", "k\"q\"", 2, "sqnr", 1.0 / 3.0, "dB");
  qb_result_rows_add(r, "fc2", "k", 1, "sqnr", NAN, "dB");
  qb_result_rows_add(r, "fc3\nx", "k", 1, "sqnr", INFINITY, "dB");
  qb_result_rows_add(r, "fc4", "k", 1, "mse", -1e-300, "");
}

static void test_csv_json(void) {
  qb_result_rows r, back;
  fill_rows(&r);
  QB_CHECK(!strcmp(r.rows[3].layer, "fc3 x")); /* never a newline inside a row */
  char csv[512], json[512];
  snprintf(csv, sizeof csv, "%s/t.csv", g_tmp);
  snprintf(json, sizeof json, "%s/t.json", g_tmp);
  qb_error err = {{0}};
  QB_CHECK_MSG(qb_results_csv_append(csv, r.rows, 2, &err) == 0, "%s", err.msg);
  QB_CHECK_MSG(qb_results_csv_append(csv, r.rows + 2, 3, &err) == 0, "%s", err.msg);
  QB_CHECK_EQ_INT(count_in_file(csv, "run_id,item_id"), 1); /* one header */
  qb_result_rows_init(&back);
  bool torn = true;
  QB_CHECK_MSG(qb_results_csv_read(csv, &back, &torn, &err) == 0, "%s", err.msg);
  QB_CHECK(!torn);
  QB_CHECK_EQ_INT(back.count, 5);
  for (size_t i = 0; i < 5 && i < back.count; i++)
    QB_CHECK_MSG(rows_equal(&r.rows[i], &back.rows[i]), "row %zu differs after CSV", i);
  QB_CHECK(back.count == 5 && back.rows[1].value == 1.0 / 3.0); /* %.17g round trip */
  QB_CHECK(back.count == 5 && isnan(back.rows[2].value) && isinf(back.rows[3].value));
  QB_CHECK(back.count == 5 && !strcmp(back.rows[1].kernel, "k\"q\""));

  /* A torn last line is reported, not parsed. */
  FILE* f = fopen(csv, "ab");
  fputs("run-1,mlp/x,mlp,<mlp>,av", f);
  fclose(f);
  qb_result_rows_clear(&back);
  QB_CHECK(qb_results_csv_read(csv, &back, &torn, &err) == 0);
  QB_CHECK(torn);
  QB_CHECK_EQ_INT(back.count, 5);

  /* A malformed middle line names file and line. */
  f = fopen(csv, "ab");
  fputs("\nbad,line\n", f); /* completes the torn line 7 with 5 fields */
  fclose(f);
  QB_CHECK(qb_results_csv_read(csv, &back, &torn, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "t.csv:7: expected 19 fields, got 5") != NULL, "%s", err.msg);

  QB_CHECK_MSG(qb_results_json_write(json, r.rows, r.count, &err) == 0, "%s", err.msg);
  QB_CHECK_EQ_INT(count_in_file(json, "\"item_id\": \"mlp/static/w8/a8/avx2\""), 5);
  QB_CHECK_EQ_INT(count_in_file(json, "\"value\": null"), 2); /* NaN and Inf */
  QB_CHECK_EQ_INT(count_in_file(json, "\"kernel\": \"k\\\"q\\\"\""), 1);
  QB_CHECK_EQ_INT(count_in_file(json, "\"w_granularity\": \"group:32\""), 5);
  struct stat st;
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.tmp", json);
  QB_CHECK(stat(tmp, &st) != 0); /* renamed away */
  qb_result_rows_free(&r);
  qb_result_rows_free(&back);
}

static void count_item(const char* id, long nrows, void* user) {
  long* acc = user;
  acc[0]++;
  acc[1] += nrows;
}

static void test_db(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/h.db", g_tmp);
  qb_results_db* db;
  qb_error err = {{0}};
  QB_CHECK_MSG(qb_results_db_open(path, &db, &err) == 0, "%s", err.msg);
  if (!db) return;
  qb_result_rows r;
  fill_rows(&r);
  const qb_run_record run = {"run-1", "2026-01-01T00:00:00Z", "t", "t.yaml", "x: 1", "fp", "rev",
                             "gcc", "-O2", "Release"};
  QB_CHECK(qb_results_db_add_run(db, &run, &err) == 0);
  QB_CHECK(qb_results_db_add_run(db, &run, &err) == 0); /* resumed: kept */
  for (size_t i = 0; i < r.count; i++) snprintf(r.rows[i].item_id, 8, "%s", i < 3 ? "a" : "b");
  QB_CHECK(qb_results_db_commit_item(db, "run-1", "a", r.rows, 3, NULL, &err) == 0);
  QB_CHECK(qb_results_db_commit_item(db, "run-1", "b", r.rows + 3, 2, NULL, &err) == 0);
  /* The same item twice violates the key: the transaction rolls back whole. */
  QB_CHECK(qb_results_db_commit_item(db, "run-1", "b", r.rows + 3, 2, NULL, &err) == -1);
  QB_CHECK_EQ_INT(qb_results_db_count_rows(db, "run-1", &err), 5);
  long acc[2] = {0, 0};
  QB_CHECK(qb_results_db_items(db, "run-1", count_item, acc, &err) == 0);
  QB_CHECK_EQ_INT(acc[0], 2);
  QB_CHECK_EQ_INT(acc[1], 5);
  QB_CHECK(qb_results_db_forget_item(db, "run-1", "a", &err) == 0);
  QB_CHECK_EQ_INT(qb_results_db_count_rows(db, "run-1", &err), 2);
  QB_CHECK_EQ_INT(qb_results_db_count_rows(db, "run-2", &err), 0);
  qb_results_db_close(db);
  qb_result_rows_free(&r);
  QB_CHECK(qb_results_db_open("/nonexistent/dir/h.db", &db, &err) == -1);
  QB_CHECK(strstr(err.msg, "/nonexistent/dir/h.db") != NULL);
}

/* ---- the runner ------------------------------------------------------------------- */

typedef struct {
  size_t calls;
  size_t stop_after; /* request a stop during the k-th call (0 = never) */
  const char* fail_substring; /* items whose id contains it fail */
} fake_eval;

static uint64_t hash(const char* s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* Rows that depend only on the item: a re-run produces identical rows. */
static int fake(void* ctx, const qb_sweep_config* cfg, const qb_plan_item* item,
                qb_result_rows* rows, qb_error* err) {
  fake_eval* f = ctx;
  f->calls++;
  /* A real signal, through the handler qbench sweep installs. */
  if (f->stop_after && f->calls == f->stop_after) raise(SIGTERM);
  if (f->fail_substring && strstr(item->id, f->fail_substring))
    return qb_fail(err, "fake failure for %s", item->id);
  const uint64_t h = hash(item->id);
  qb_result_rows_add(rows, "<mlp>", "", 1, "accuracy", (double)(h % 10000) / 100.0, "%");
  const int layers = 1 + (int)(h % 3);
  for (int l = 0; l < layers; l++) {
    char name[16];
    snprintf(name, sizeof name, "fc%d", l);
    qb_result_rows_add(rows, name, "qb_k,\"x\"", 1, "sqnr", (double)(h >> 20) / (l + 1), "dB");
  }
  return 0;
}

typedef struct {
  qb_sweep_config cfg;
  qb_plan plan;
} fixture;

static int make_fixture(fixture* fx) {
  static const char yaml[] =
      "name: t\nmodels: [{name: mlp}, {name: cnn}]\n"
      "weights: {bits: [8, 4], range: [minmax, mse]}\n"
      "workflow: [weight-only, static]\nbackends: [scalar, avx2]\n";
  qb_error err = {{0}};
  if (qb_sweep_config_parse(yaml, strlen(yaml), "t.yaml", &fx->cfg, &err) ||
      qb_plan_build(&fx->cfg, QB_BACKEND_BIT(QB_BACKEND_SCALAR) | QB_BACKEND_BIT(QB_BACKEND_AVX2),
                    &fx->plan, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return -1;
  }
  return 0;
}

static int run(fixture* fx, const char* dir, const char* db, bool resume, fake_eval* f,
               qb_sweep_summary* sum) {
  qb_sweep_options opt = {dir, db, resume, false, fake, f, NULL};
  qb_error err = {{0}};
  const int rc = qb_sweep_run(&fx->cfg, &fx->plan, &opt, sum, &err);
  if (rc) fprintf(stderr, "sweep: %s\n", err.msg);
  return rc;
}

static size_t read_csv(const char* dir, qb_result_rows* out) {
  char path[600];
  snprintf(path, sizeof path, "%s/results.csv", dir);
  qb_result_rows_init(out);
  bool torn;
  qb_error err;
  if (qb_results_csv_read(path, out, &torn, &err)) fprintf(stderr, "%s\n", err.msg);
  return out->count;
}

static long db_rows(const char* db_path, const char* run_id) {
  qb_results_db* db;
  qb_error err;
  if (qb_results_db_open(db_path, &db, &err)) return -1;
  const long n = qb_results_db_count_rows(db, run_id, &err);
  qb_results_db_close(db);
  return n;
}

/* Row order: item, then layer and metric (unique within an item of the fake). */
static int cmp_rows(const void* a, const void* b) {
  const qb_result_row *x = a, *y = b;
  int c = strcmp(x->item_id, y->item_id);
  if (!c) c = strcmp(x->layer, y->layer);
  if (!c) c = strcmp(x->metric, y->metric);
  return c;
}

/* The CSV of `dir` holds exactly the reference rows: none lost, none twice (items
 * redone by a resume come later in the file, so compare in a canonical order). */
static void check_same_rows(const char* dir, qb_result_rows* ref) {
  qb_result_rows got;
  read_csv(dir, &got);
  qsort(got.rows, got.count, sizeof *got.rows, cmp_rows);
  qsort(ref->rows, ref->count, sizeof *ref->rows, cmp_rows);
  QB_CHECK_EQ_INT(got.count, ref->count);
  for (size_t i = 0; i < got.count && i < ref->count; i++)
    if (!rows_equal(&got.rows[i], &ref->rows[i])) {
      QB_CHECK_MSG(0, "row %zu differs: %s %s vs %s %s", i, got.rows[i].item_id,
                   got.rows[i].layer, ref->rows[i].item_id, ref->rows[i].layer);
      break;
    }
  qb_result_rows_free(&got);
}

static void test_resume(void) {
  fixture fx;
  if (make_fixture(&fx)) {
    QB_CHECK(0);
    return;
  }
  const size_t n = fx.plan.nitems;
  QB_CHECK(n >= 10);
  /* Reference: one uninterrupted run. Both runs use a folder named "run" so that
   * their run ids (and so their rows) are identical. */
  char ref_dir[512], dir[512], ref_db[512], db[512], csv[600], json[600];
  snprintf(ref_dir, sizeof ref_dir, "%s/a/run", g_tmp);
  snprintf(dir, sizeof dir, "%s/b/run", g_tmp);
  snprintf(ref_db, sizeof ref_db, "%s/a.db", g_tmp);
  snprintf(db, sizeof db, "%s/b.db", g_tmp);
  snprintf(csv, sizeof csv, "%s/results.csv", dir);
  snprintf(json, sizeof json, "%s/results.json", dir);
  fake_eval f = {0, 0, NULL};
  qb_sweep_summary sum;
  QB_CHECK(run(&fx, ref_dir, ref_db, false, &f, &sum) == 0);
  QB_CHECK_EQ_INT(sum.done, n);
  QB_CHECK(!sum.interrupted);
  qb_result_rows ref;
  const size_t nref = read_csv(ref_dir, &ref);
  QB_CHECK(nref > 2 * n);
  QB_CHECK_EQ_INT(db_rows(ref_db, "run"), nref);

  /* 1. Interrupted during item k: that item is finished and recorded, then the run stops. */
  const size_t k = 4;
  fake_eval g = {0, k, NULL};
  qb_sweep_install_signal_handlers();
  QB_CHECK(run(&fx, dir, db, false, &g, &sum) == 0);
  QB_CHECK(sum.interrupted);
  QB_CHECK_EQ_INT(sum.done, k);
  QB_CHECK_EQ_INT(g.calls, k);
  qb_result_rows part;
  const size_t npart = read_csv(dir, &part);
  QB_CHECK_EQ_INT(db_rows(db, "run"), npart);
  QB_CHECK_EQ_INT(count_in_file(json, "\"item_id\""), npart);

  /* A new run cannot reuse the folder. */
  qb_sweep_options opt = {dir, db, false, false, fake, &g, NULL};
  qb_error err = {{0}};
  QB_CHECK(qb_sweep_run(&fx.cfg, &fx.plan, &opt, &sum, &err) == -1);
  QB_CHECK(strstr(err.msg, "already holds a run") != NULL);

  /* 2. Crash in the middle of the next item: its rows reached the CSV (one of them
   *    torn) but the DB never committed it. */
  qb_result_rows next;
  qb_result_rows_init(&next);
  next.identity = ref.rows[npart];
  fake(&(fake_eval){0, 0, NULL}, &fx.cfg, &fx.plan.items[k], &next, &err);
  for (size_t i = 0; i < next.count; i++) snprintf(next.rows[i].run_id, 96, "run");
  QB_CHECK(qb_results_csv_append(csv, next.rows, next.count, &err) == 0);
  FILE* fcsv = fopen(csv, "ab");
  fputs("run,cnn/static/w8,cnn,fc0,sca", fcsv);
  fclose(fcsv);

  /* While another sweep holds the run folder, a resume is refused untouched. */
  char lock[600];
  snprintf(lock, sizeof lock, "%s/.lock", dir);
  const int lock_fd = open(lock, O_RDWR);
  QB_CHECK(lock_fd >= 0 && flock(lock_fd, LOCK_EX | LOCK_NB) == 0);
  opt = (qb_sweep_options){dir, db, true, false, fake, &g, NULL};
  QB_CHECK(qb_sweep_run(&fx.cfg, &fx.plan, &opt, &sum, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "another qbench sweep is using this run folder") != NULL, "%s",
               err.msg);
  if (lock_fd >= 0) close(lock_fd);

  /* 3. Resume with one item failing: it is not recorded and stays pending. */
  fake_eval h = {0, 0, "/w4-sym-channel-mse/"};
  QB_CHECK(run(&fx, dir, db, true, &h, &sum) == 0);
  QB_CHECK_EQ_INT(sum.already_done, k);
  QB_CHECK_EQ_INT(sum.dropped_csv_rows, next.count);
  QB_CHECK(sum.failed > 0);
  QB_CHECK_EQ_INT(sum.done + sum.failed, n - k);
  QB_CHECK(!sum.interrupted);
  qb_result_rows mid;
  const size_t nmid = read_csv(dir, &mid);
  QB_CHECK_EQ_INT(db_rows(db, "run"), nmid);
  QB_CHECK(nmid < nref);
  qb_result_rows_free(&mid);

  /* 4. Someone cut the CSV short after a committed item: the DB disagrees, so that
   *    item is forgotten and redone. Cut the last line and leave it torn. */
  FILE* fr = fopen(csv, "rb");
  fseek(fr, 0, SEEK_END);
  const long size = ftell(fr);
  fclose(fr);
  QB_CHECK(truncate(csv, size - 5) == 0);

  /* 5. Resume again, nothing failing: the run completes with every row once. */
  fake_eval ok = {0, 0, NULL};
  QB_CHECK(run(&fx, dir, db, true, &ok, &sum) == 0);
  QB_CHECK_EQ_INT(sum.failed, 0);
  QB_CHECK_EQ_INT(sum.already_done + sum.done, n);
  QB_CHECK(sum.done >= 2); /* the failed item(s) and the cut one */
  check_same_rows(dir, &ref);
  QB_CHECK_EQ_INT(db_rows(db, "run"), nref);
  QB_CHECK_EQ_INT(count_in_file(json, "\"item_id\""), nref);

  /* 6. Resuming a complete run does nothing; a changed config text is pointed out. */
  fake_eval none = {0, 0, NULL};
  char* text = fx.cfg.text;
  char other[] = "name: t2\n";
  fx.cfg.text = other;
  FILE* log = tmpfile();
  opt = (qb_sweep_options){dir, db, true, false, fake, &none, log};
  QB_CHECK(qb_sweep_run(&fx.cfg, &fx.plan, &opt, &sum, &err) == 0);
  fx.cfg.text = text;
  QB_CHECK_EQ_INT(none.calls, 0);
  QB_CHECK_EQ_INT(sum.already_done, n);
  char logbuf[512] = "";
  rewind(log);
  QB_CHECK(fread(logbuf, 1, sizeof logbuf - 1, log) > 0);
  fclose(log);
  QB_CHECK_MSG(strstr(logbuf, "warning: t.yaml differs from the config") != NULL, "%s", logbuf);
  check_same_rows(dir, &ref);

  /* Resuming a folder that is not a run is an error. */
  opt = (qb_sweep_options){g_tmp, db, true, false, fake, &none, NULL};
  QB_CHECK(qb_sweep_run(&fx.cfg, &fx.plan, &opt, &sum, &err) == -1);
  QB_CHECK(strstr(err.msg, "not a run folder") != NULL);

  qb_result_rows_free(&ref);
  qb_result_rows_free(&part);
  qb_result_rows_free(&next);
  qb_plan_free(&fx.plan);
  qb_sweep_config_free(&fx.cfg);
}

/* The shipped evaluator names the missing model and where it came from. */
static void test_eval_unavailable(void) {
  fixture fx;
  if (make_fixture(&fx)) {
    QB_CHECK(0);
    return;
  }
  setenv("QB_MODELS_DIR", "/nonexistent-models", 1);
  qb_sweep_config cfg;
  qb_error err = {{0}};
  const char yaml[] = "models:\n  - {name: vit}\n";
  QB_CHECK(qb_sweep_config_parse(yaml, strlen(yaml), "c.yaml", &cfg, &err) == 0);
  qb_plan plan;
  QB_CHECK(qb_plan_build(&cfg, QB_BACKEND_BIT(QB_BACKEND_SCALAR), &plan, &err) == 0);
  qb_result_rows rows;
  qb_result_rows_init(&rows);
  QB_CHECK(qb_sweep_eval_unavailable(NULL, &cfg, &plan.items[0], &rows, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "c.yaml:2:5: model /nonexistent-models/vit.onnx not found") ==
                   err.msg, "%s", err.msg);
  QB_CHECK_EQ_INT(rows.count, 0);
  unsetenv("QB_MODELS_DIR");
  qb_plan_free(&plan);
  qb_sweep_config_free(&cfg);
  qb_plan_free(&fx.plan);
  qb_sweep_config_free(&fx.cfg);
}

int main(void) {
  snprintf(g_tmp, sizeof g_tmp, "/tmp/qb_test_results_XXXXXX");
  if (!mkdtemp(g_tmp)) {
    perror("mkdtemp");
    return 1;
  }
  test_csv_json();
  test_db();
  test_resume();
  test_eval_unavailable();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
  return qb_test_finish("test_results");
}
