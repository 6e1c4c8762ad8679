#include "qb_sweep_run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qb_json_scan.h"
#include "qb_predictions.h"
#include "qb_results_db.h"
#include "qb_results_files.h"
#include "qb_run_info.h"

/* ---- stop requests ---------------------------------------------------------------- */

static volatile sig_atomic_t g_stop;

void qb_sweep_request_stop(void) { g_stop = 1; }

static void on_signal(int sig) {
  g_stop = 1;
  signal(sig, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

void qb_sweep_install_signal_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/* ---- paths ---------------------------------------------------------------------- */

void qb_sweep_new_run_dir(const qb_sweep_config* cfg, char* buf, size_t size) {
  char stamp[32];
  qb_utc_stamp(stamp, sizeof stamp);
  snprintf(buf, size, "%s/%s-%s", cfg->output, cfg->name, stamp);
}

static bool file_exists(const char* path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* The run id is the run folder's name. */
static void run_id_of(const char* run_dir, char* buf, size_t size) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", run_dir);
  size_t n = strlen(tmp);
  while (n > 1 && tmp[n - 1] == '/') tmp[--n] = '\0';
  const char* base = strrchr(tmp, '/');
  snprintf(buf, size, "%s", base ? base + 1 : tmp);
}

/* ---- completion state --------------------------------------------------------------- */

typedef struct {
  char* id;
  long db_rows;  /* committed in the DB */
  long csv_rows; /* found in results.csv */
  bool has_gbench; /* gbench.json holds entries of it */
  bool no_gbench;  /* latency_sample rows, but its gbench.json entries were lost: redo */
} done_item;

typedef struct {
  done_item* items;
  size_t count, cap;
  bool oom;
} done_set;

static void done_add(const char* id, long nrows, void* user) {
  done_set* s = user;
  if (s->count == s->cap) {
    const size_t cap = s->cap ? 2 * s->cap : 64;
    done_item* items = realloc(s->items, cap * sizeof *items);
    if (!items) {
      s->oom = true;
      return;
    }
    s->items = items;
    s->cap = cap;
  }
  char* copy = strdup(id);
  if (!copy) {
    s->oom = true;
    return;
  }
  s->items[s->count++] = (done_item){copy, nrows, 0, false, false};
}

static int cmp_done(const void* a, const void* b) {
  return strcmp(((const done_item*)a)->id, ((const done_item*)b)->id);
}

static done_item* done_find(const done_set* s, const char* id) {
  if (!s->count) return NULL;
  done_item key = {(char*)id, 0, 0, false, false};
  return bsearch(&key, s->items, s->count, sizeof *s->items, cmp_done);
}

static bool done_complete(const done_set* s, const char* id) {
  const done_item* d = done_find(s, id);
  return d && d->csv_rows == d->db_rows && !d->no_gbench;
}

static void done_free(done_set* s) {
  for (size_t i = 0; i < s->count; i++) free(s->items[i].id);
  free(s->items);
  memset(s, 0, sizeof *s);
}

/* ---- the run -------------------------------------------------------------------- */

typedef struct {
  const qb_sweep_config* cfg;
  const qb_sweep_options* opt;
  char run_id[96];
  char csv[1100], json[1100], runjson[1100];
  qb_results_db* db;
  qb_result_rows all;  /* every recorded row of the run, in CSV order (for results.json) */
  qb_result_rows item; /* the rows of the item being evaluated */
  done_set done;
  double json_written_at; /* CLOCK_MONOTONIC seconds */
  bool json_stale;        /* rows recorded since results.json was last written */
  int lock_fd;            /* RUN_DIR/.lock, or -1 */
  char last_error[1024];
  size_t repeats; /* items that failed with last_error after it was printed */
} sweep;

/* ---- gbench.json on resume ------------------------------------------------------ */

/* The item id of a sweep's latency benchmark ("model/<item id>/threads:T/..."); false
 * for other entries (kernel benchmarks of `qbench bench --json RUN/gbench.json`). */
static bool gbench_item_id(const char* name, char* buf, size_t size) {
  if (strncmp(name, "model/", 6)) return false;
  const char* end = strstr(name + 6, "/threads:");
  if (!end) return false;
  snprintf(buf, size, "%.*s", (int)(end - name - 6), name + 6);
  return true;
}

/* Calls fn for each entry of the "benchmarks" array; returns the offset just past the
 * array's '[' (0 if the text has no such array). */
static size_t gbench_each(const char* text, size_t len,
                          void (*fn)(void* ctx, const char* id, size_t start, size_t end),
                          void* ctx) {
  const char* key = strstr(text, "\"benchmarks\"");
  const char* open = key ? strchr(key, '[') : NULL;
  if (!open) return 0;
  size_t pos = (size_t)(open - text) + 1, start, end;
  while (fn && qb_json_next_object(text, len, &pos, &start, &end)) {
    char name[512], id[QB_PLAN_ID_MAX];
    if (!qb_json_scan_string(text + start, end - start, "run_name", name, sizeof name) &&
        !qb_json_scan_string(text + start, end - start, "name", name, sizeof name))
      name[0] = '\0';
    fn(ctx, gbench_item_id(name, id, sizeof id) ? id : NULL, start, end);
  }
  return (size_t)(open - text) + 1;
}

static void gbench_seen(void* ctx, const char* id, size_t start, size_t end) {
  done_item* d = id ? done_find(ctx, id) : NULL;
  if (d) d->has_gbench = true;
  (void)start, (void)end;
}

typedef struct {
  const done_set* done;
  const char* text;
  char* out;
  size_t used;
} gbench_filter;

static void gbench_keep(void* ctx, const char* id, size_t start, size_t end) {
  gbench_filter* f = ctx;
  if (id && !done_complete(f->done, id)) return; /* redone: its entries come again */
  memcpy(f->out + f->used, f->used ? ",\n  " : "\n  ", f->used ? 4 : 3);
  f->used += f->used ? 4 : 3;
  memcpy(f->out + f->used, f->text + start, end - start);
  f->used += end - start;
}

/* Resume: gbench.json is written by the benchmark shim at most every 2 s, so a kill
 * can lose the entries of items that results.csv and the DB hold as complete, and
 * keeps those of the item it interrupted. An item with latency_sample rows but no
 * entries is therefore redone (like an item whose rows are incomplete: reconcile),
 * and the file is rewritten with the entries of complete items only, so that no
 * series appears twice after the redo; a stale gbench.json.tmp is removed. */
static int rewrite_gbench(sweep* s, const char* path, const char* text, size_t len,
                          qb_error* err) {
  const size_t head = gbench_each(text, len, NULL, NULL);
  if (!head) return 0; /* not Google Benchmark JSON: left for the readers to reject */
  gbench_filter f = {&s->done, text, malloc(len + 16), 0};
  char* doc = malloc(len + 16);
  int rc = f.out && doc ? 0 : qb_fail(err, "out of memory");
  if (!rc) {
    gbench_each(text, len, gbench_keep, &f);
    memcpy(doc, text, head);
    memcpy(doc + head, f.out, f.used);
    memcpy(doc + head + f.used, "\n  ]\n}\n", 7);
    rc = qb_write_file_atomic(path, doc, head + f.used + 7, err);
  }
  free(f.out);
  free(doc);
  return rc;
}

/* Resume: make results.csv, the DB and gbench.json agree on which items are complete. */
static int reconcile(sweep* s, qb_sweep_summary* sum, qb_error* err) {
  if (qb_results_db_items(s->db, s->run_id, done_add, &s->done, err)) return -1;
  if (s->done.oom) return qb_fail(err, "out of memory");
  if (s->done.count) qsort(s->done.items, s->done.count, sizeof *s->done.items, cmp_done);
  char gbench[1100], gbench_tmp[1200];
  snprintf(gbench, sizeof gbench, "%s/gbench.json", s->opt->run_dir);
  snprintf(gbench_tmp, sizeof gbench_tmp, "%s.tmp", gbench);
  if (unlink(gbench_tmp) && errno != ENOENT)
    return qb_fail(err, "%s: cannot remove: %s", gbench_tmp, strerror(errno));
  size_t gbench_len = 0;
  char* gbench_text = file_exists(gbench) ? qb_read_text_file(gbench, &gbench_len) : NULL;
  if (gbench_text) gbench_each(gbench_text, gbench_len, gbench_seen, &s->done);
  bool torn;
  if (qb_results_csv_read(s->csv, &s->all, &torn, err)) return free(gbench_text), -1;
  for (size_t i = 0; i < s->all.count; i++) {
    done_item* d = done_find(&s->done, s->all.rows[i].item_id);
    if (d) d->csv_rows++;
    if (d && !d->has_gbench && !strcmp(s->all.rows[i].metric, "latency_sample")) d->no_gbench = true;
  }
  const int grc = gbench_text ? rewrite_gbench(s, gbench, gbench_text, gbench_len, err) : 0;
  free(gbench_text);
  if (grc) return -1;
  size_t kept = 0;
  for (size_t i = 0; i < s->all.count; i++)
    if (done_complete(&s->done, s->all.rows[i].item_id)) s->all.rows[kept++] = s->all.rows[i];
  sum->dropped_csv_rows = s->all.count - kept;
  if (kept != s->all.count || torn) {
    s->all.count = kept;
    if (qb_results_csv_rewrite(s->csv, s->all.rows, s->all.count, err)) return -1;
  }
  for (size_t i = 0; i < s->done.count; i++)
    if (!done_complete(&s->done, s->done.items[i].id) &&
        qb_results_db_forget_item(s->db, s->run_id, s->done.items[i].id, err))
      return -1;
  return 0;
}

/* One sweep per run folder at a time: an exclusive lock on RUN_DIR/.lock, held until
 * the run ends (the kernel drops it if the process dies). */
static int lock_run_dir(sweep* s, qb_error* err) {
  char path[1100];
  snprintf(path, sizeof path, "%s/.lock", s->opt->run_dir);
  s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->lock_fd < 0) return qb_fail(err, "%s: cannot create: %s", path, strerror(errno));
  if (flock(s->lock_fd, LOCK_EX | LOCK_NB))
    return qb_fail(err, "%s: another qbench sweep is using this run folder", s->opt->run_dir);
  return 0;
}

/* Resuming with another config is allowed (items match by id) but worth a word. */
static void warn_if_config_changed(sweep* s) {
  char* before = qb_results_db_run_config(s->db, s->run_id);
  if (s->opt->log && before && strcmp(before, s->cfg->text ? s->cfg->text : ""))
    fprintf(s->opt->log,
            "warning: %s differs from the config %s was started with; items are matched by id\n",
            s->cfg->file, s->opt->run_dir);
  free(before);
}

static int start_run(sweep* s, const qb_plan* plan, qb_sweep_summary* sum, qb_error* err) {
  const qb_sweep_options* opt = s->opt;
  if (opt->resume) {
    if (!file_exists(s->runjson))
      return qb_fail(err, "%s: not a run folder (no run.json) to resume", opt->run_dir);
  } else if (file_exists(s->csv) || file_exists(s->runjson)) {
    return qb_fail(err, "%s: already holds a run (resume it with --resume)", opt->run_dir);
  }
  if (qb_mkdir_p(opt->run_dir, err) || lock_run_dir(s, err)) return -1;
  if (qb_results_db_open(opt->db_path, &s->db, err)) return -1;
  if (opt->resume) warn_if_config_changed(s);
  qb_run_info* info = malloc(sizeof *info);
  if (!info) return qb_fail(err, "out of memory");
  int rc = qb_run_info_collect(info, s->run_id, opt->describe_machine, err);
  if (!rc && !opt->resume)
    rc = qb_run_info_write_json(s->runjson, info, s->cfg->file, s->cfg->text, plan->nitems,
                                plan->nskips, err);
  if (!rc) {
    const qb_run_record rec = {s->run_id,        info->started_utc,  s->cfg->name,
                               s->cfg->file,     s->cfg->text,       qb_run_info_fingerprint(info),
                               info->git_revision, info->compiler,   info->c_flags,
                               info->build_type};
    rc = qb_results_db_add_run(s->db, &rec, err);
  }
  free(info);
  if (!rc && opt->resume) rc = reconcile(s, sum, err);
  return rc;
}

static void set_identity(sweep* s, const qb_plan_item* it) {
  qb_result_row* r = &s->item.identity;
  memset(r, 0, sizeof *r);
  snprintf(r->run_id, sizeof r->run_id, "%s", s->run_id);
  snprintf(r->item_id, sizeof r->item_id, "%s", it->id);
  snprintf(r->model, sizeof r->model, "%s", s->cfg->models[it->model].name);
  snprintf(r->backend, sizeof r->backend, "%s", qb_backend_name(it->backend));
  snprintf(r->workflow, sizeof r->workflow, "%s", qb_workflow_name(it->workflow));
  r->w_bits = it->weights.bits;
  qb_tensor_choice_scheme_str(&it->weights, 'w', r->w_scheme, sizeof r->w_scheme);
  qb_tensor_choice_granularity_str(&it->weights, r->w_granularity, sizeof r->w_granularity);
  qb_tensor_choice_range_str(&it->weights, r->w_range, sizeof r->w_range);
  r->a_bits = it->activations.bits;
  qb_tensor_choice_scheme_str(&it->activations, 'a', r->a_scheme, sizeof r->a_scheme);
  qb_tensor_choice_granularity_str(&it->activations, r->a_granularity, sizeof r->a_granularity);
  qb_tensor_choice_range_str(&it->activations, r->a_range, sizeof r->a_range);
  r->threads = 1;
}

/* Prints an item's error once; identical errors of later items are counted. */
static void report_failure(sweep* s, const qb_plan_item* it, const char* msg) {
  FILE* log = s->opt->log;
  if (!log) return;
  if (!strcmp(msg, s->last_error)) {
    s->repeats++;
    return;
  }
  if (s->repeats) fprintf(log, "  (%zu more items failed with the same error)\n", s->repeats);
  s->repeats = 0;
  fprintf(log, "%s: error: %s\n", it->id, msg);
  snprintf(s->last_error, sizeof s->last_error, "%s", msg);
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int write_json(sweep* s, qb_error* err) {
  if (qb_results_json_write(s->json, s->all.rows, s->all.count, err)) return -1;
  s->json_written_at = now_seconds();
  s->json_stale = false;
  return 0;
}

/* Steps 2-4 of the header: CSV, DB, JSON. */
static int record_item(sweep* s, const qb_plan_item* it, qb_error* err) {
  /* Predictions first: an item the CSV and DB record always has its file. */
  if (qb_predictions_save_item(s->opt->run_dir, s->cfg->models[it->model].name, it->id,
                               &s->item.predictions, err))
    return -1;
  if (qb_results_csv_append(s->csv, s->item.rows, s->item.count, err)) return -1;
  if (qb_results_db_commit_item(s->db, s->run_id, it->id, s->item.rows, s->item.count,
                                &s->item.predictions, err))
    return -1;
  for (size_t i = 0; i < s->item.count; i++) {
    qb_result_row* r = qb_result_rows_add(&s->all, "", "", 0, "", 0.0, "");
    if (!r) return qb_fail(err, "out of memory");
    *r = s->item.rows[i];
  }
  s->json_stale = true;
  return now_seconds() - s->json_written_at >= QB_SWEEP_JSON_INTERVAL ? write_json(s, err) : 0;
}

static int run_items(sweep* s, const qb_plan* plan, qb_sweep_summary* sum, qb_error* err) {
  for (size_t i = 0; i < plan->nitems; i++) {
    const qb_plan_item* it = &plan->items[i];
    if (done_complete(&s->done, it->id)) {
      sum->already_done++;
      continue;
    }
    if (g_stop) {
      sum->interrupted = true;
      break;
    }
    set_identity(s, it);
    qb_result_rows_clear(&s->item);
    qb_error eval_err = {{0}};
    if (s->opt->eval(s->opt->eval_ctx, s->cfg, it, &s->item, &eval_err)) {
      sum->failed++;
      report_failure(s, it, eval_err.msg);
      continue;
    }
    if (record_item(s, it, err)) return -1;
    sum->done++;
    sum->rows += s->item.count;
  }
  if (s->opt->log && s->repeats)
    fprintf(s->opt->log, "  (%zu more items failed with the same error)\n", s->repeats);
  return s->json_stale ? write_json(s, err) : 0;
}

int qb_sweep_run(const qb_sweep_config* cfg, const qb_plan* plan, const qb_sweep_options* opt,
                 qb_sweep_summary* summary, qb_error* err) {
  memset(summary, 0, sizeof *summary);
  sweep* s = calloc(1, sizeof *s);
  if (!s) return qb_fail(err, "out of memory");
  s->cfg = cfg;
  s->opt = opt;
  s->lock_fd = -1;
  g_stop = 0;
  run_id_of(opt->run_dir, s->run_id, sizeof s->run_id);
  snprintf(s->csv, sizeof s->csv, "%s/results.csv", opt->run_dir);
  snprintf(s->json, sizeof s->json, "%s/results.json", opt->run_dir);
  snprintf(s->runjson, sizeof s->runjson, "%s/run.json", opt->run_dir);
  qb_result_rows_init(&s->all);
  qb_result_rows_init(&s->item);
  int rc = start_run(s, plan, summary, err);
  /* results.json always reflects the CSV after a (re)start, even if nothing runs. */
  if (!rc) rc = write_json(s, err);
  if (!rc) rc = run_items(s, plan, summary, err);
  qb_results_db_close(s->db);
  if (s->lock_fd >= 0) close(s->lock_fd);
  qb_result_rows_free(&s->all);
  qb_result_rows_free(&s->item);
  done_free(&s->done);
  free(s);
  return rc;
}

/* ---- the evaluator shipped until the model runtime plugs in -------------------------- */

int qb_sweep_eval_unavailable(void* ctx, const qb_sweep_config* cfg, const qb_plan_item* item,
                              qb_result_rows* rows, qb_error* err) {
  const qb_sweep_model* m = &cfg->models[item->model];
  if (!file_exists(m->path))
    return qb_fail(err, "%s:%d:%d: model %s not found%s", cfg->file, m->mark.line, m->mark.column,
                   m->path,
                   m->reference ? " (train the reference models first, or set QB_MODELS_DIR "
                                  "to the folder that holds them)"
                                : "");
  if (strcmp(m->data, "fashion-mnist") && !file_exists(m->data))
    return qb_fail(err, "%s:%d:%d: data file %s not found", cfg->file, m->mark.line,
                   m->mark.column, m->data);
  return qb_fail(err, "model evaluation is not available in this build (qb_sweep_eval_fn not "
                      "plugged in)");
}
