#include "qb_run_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qb_json_scan.h"
#include "qb_predictions.h"
#include "qb_results_db.h"
#include "qb_results_files.h"

static bool is_dir(const char* p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char* p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* "backends_usable": ["scalar", "avx2"] -> "scalar,avx2". */
static void read_backends(const char* text, size_t len, char* buf, size_t size) {
  buf[0] = '\0';
  const char* p = strstr(text, "\"backends_usable\"");
  if (!p) return;
  p = strchr(p, '[');
  const char* end = p ? memchr(p, ']', len - (size_t)(p - text)) : NULL;
  if (!end) return;
  size_t n = 0;
  for (p++; p < end && n + 1 < size; p++)
    if (*p != '"' && *p != ' ') buf[n++] = *p;
  buf[n] = '\0';
}

static void read_run_json(const char* dir, qb_run_data* run) {
  char path[1100];
  snprintf(path, sizeof path, "%s/run.json", dir);
  size_t len;
  char* t = qb_read_text_file(path, &len);
  if (!t) return;
  qb_json_scan_string(t, len, "run_id", run->run_id, sizeof run->run_id);
  qb_json_scan_string(t, len, "started_utc", run->started_utc, sizeof run->started_utc);
  qb_json_scan_string(t, len, "git_revision", run->git_revision, sizeof run->git_revision);
  qb_json_scan_string(t, len, "compiler", run->compiler, sizeof run->compiler);
  qb_json_scan_string(t, len, "build_type", run->build_type, sizeof run->build_type);
  read_backends(t, len, run->backends_usable, sizeof run->backends_usable);
  /* The machine object: null in runs made without a machine description. */
  qb_json_scan_string(t, len, "fingerprint", run->fingerprint, sizeof run->fingerprint);
  qb_json_scan_string(t, len, "vendor", run->vendor, sizeof run->vendor);
  qb_json_scan_string(t, len, "brand", run->brand, sizeof run->brand);
  qb_json_scan_string(t, len, "os", run->os, sizeof run->os);
  const char* hw = strstr(t, "\"hwloc\"");
  double v;
  /* Counts outside 0..2^20 (or NaN) are not a machine's: left 0 (unknown), since
   * converting them to int would be undefined. */
  if (hw && qb_json_scan_number(hw, len - (size_t)(hw - t), "cores", &v) && v >= 0 && v <= 1 << 20)
    run->cores = (int)v;
  if (hw && qb_json_scan_number(hw, len - (size_t)(hw - t), "pus", &v) && v >= 0 && v <= 1 << 20)
    run->pus = (int)v;
  if (qb_json_scan_number(t, len, "l2_bytes", &v)) run->l2_bytes = v;
  if (qb_json_scan_number(t, len, "l3_bytes", &v)) run->l3_bytes = v;
  free(t);
}

static double unit_to_ns(const char* unit) {
  if (!strcmp(unit, "us")) return 1e3;
  if (!strcmp(unit, "ms")) return 1e6;
  if (!strcmp(unit, "s")) return 1e9;
  return 1;
}

static qb_gbench_series* series_for(qb_run_data* run, const char* name) {
  for (size_t i = 0; i < run->ngbench; i++)
    if (!strcmp(run->gbench[i].name, name)) return &run->gbench[i];
  qb_gbench_series* g = realloc(run->gbench, (run->ngbench + 1) * sizeof *g);
  if (!g) return NULL;
  run->gbench = g;
  qb_gbench_series* s = &g[run->ngbench++];
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  s->ops_per_s = s->pct_of_peak = s->bytes_per_s = s->pct_of_dram_bw = NAN;
  return s;
}

static int push(qb_gbench_series* s, double ns) {
  if (s->count == s->cap) {
    const size_t cap = s->cap ? 2 * s->cap : 8;
    double* d = realloc(s->ns, cap * sizeof *d);
    if (!d) return -1;
    s->ns = d;
    s->cap = cap;
  }
  s->ns[s->count++] = ns;
  return 0;
}

int qb_run_data_parse_gbench(const char* path, const char* text, size_t len, qb_run_data* run,
                             qb_error* err) {
  const char* b = strstr(text, "\"benchmarks\"");
  if (!b) return qb_fail(err, "%s: expected Google Benchmark JSON (no \"benchmarks\" array)", path);
  size_t pos = (size_t)(b - text) + 12, start, end;
  while (pos < len && text[pos] != '[') pos++;
  pos++;
  while (qb_json_next_object(text, len, &pos, &start, &end)) {
    const char* o = text + start;
    const size_t n = end - start;
    char name[256], type[32] = "iteration", unit[8] = "ns";
    double t;
    if (!qb_json_scan_string(o, n, "run_name", name, sizeof name) &&
        !qb_json_scan_string(o, n, "name", name, sizeof name))
      return qb_fail(err, "%s: a benchmark entry has no name", path);
    qb_json_scan_string(o, n, "run_type", type, sizeof type);
    if (strcmp(type, "iteration")) continue; /* aggregates are recomputed from samples */
    /* A sweep's model latencies: results.csv holds them (latency rows), not a kernel. */
    if (!strncmp(name, "model/", 6)) continue;
    if (!qb_json_scan_number(o, n, "real_time", &t))
      return qb_fail(err, "%s: benchmark %s: expected a number for real_time", path, name);
    qb_json_scan_string(o, n, "time_unit", unit, sizeof unit);
    qb_gbench_series* s = series_for(run, name);
    if (!s || push(s, t * unit_to_ns(unit))) return qb_fail(err, "%s: out of memory", path);
    double v;
    if (qb_json_scan_number(o, n, "OPS", &v)) s->ops_per_s = v;
    if (qb_json_scan_number(o, n, "pct_of_peak", &v)) s->pct_of_peak = v;
    if (qb_json_scan_number(o, n, "bytes_per_second", &v)) s->bytes_per_s = v;
    if (qb_json_scan_number(o, n, "pct_of_dram_bw", &v)) s->pct_of_dram_bw = v;
    qb_json_scan_string(o, n, "label", s->label, sizeof s->label);
  }
  /* The array must close: a file cut short (a crashed bench) is an error, not fewer rows. */
  while (pos < len && text[pos] != ']') pos++;
  if (pos >= len) return qb_fail(err, "%s: truncated (the \"benchmarks\" array does not end)", path);
  return 0;
}

/* A folder with gbench.json but no run.json: the benchmark's context names the machine
 * and build (qbench bench writes machine_fingerprint, cpu_brand, ... there). */
static void fill_from_gbench_context(const char* text, size_t len, qb_run_data* run) {
  const char* b = strstr(text, "\"benchmarks\"");
  const size_t n = b ? (size_t)(b - text) : len;
  if (!strcmp(run->fingerprint, "unknown"))
    qb_json_scan_string(text, n, "machine_fingerprint", run->fingerprint, sizeof run->fingerprint);
  if (!run->brand[0]) qb_json_scan_string(text, n, "cpu_brand", run->brand, sizeof run->brand);
  if (!run->vendor[0]) qb_json_scan_string(text, n, "cpu_vendor", run->vendor, sizeof run->vendor);
  if (!run->git_revision[0])
    qb_json_scan_string(text, n, "git_revision", run->git_revision, sizeof run->git_revision);
  if (!run->compiler[0]) qb_json_scan_string(text, n, "compiler", run->compiler, sizeof run->compiler);
  if (!run->build_type[0])
    qb_json_scan_string(text, n, "build_type", run->build_type, sizeof run->build_type);
  if (!run->backends_usable[0])
    qb_json_scan_string(text, n, "isa_usable", run->backends_usable, sizeof run->backends_usable);
  if (!run->started_utc[0]) qb_json_scan_string(text, n, "date", run->started_utc, sizeof run->started_utc);
}

static int load_folder(const char* dir, qb_run_data* run, qb_error* err) {
  char path[1100];
  snprintf(path, sizeof path, "%s/results.csv", dir);
  char gb[1100];
  snprintf(gb, sizeof gb, "%s/gbench.json", dir);
  if (!is_file(path) && !is_file(gb))
    return qb_fail(err, "%s: not a run folder (expected results.csv or gbench.json in it)", dir);
  bool torn = false;
  if (qb_results_csv_read(path, &run->rows, &torn, err)) return -1;
  if (torn) fprintf(stderr, "warning: %s: last line is incomplete (ignored)\n", path);
  read_run_json(dir, run);
  if (!run->run_id[0]) {
    const char* base = strrchr(dir, '/');
    snprintf(run->run_id, sizeof run->run_id, "%s", base && base[1] ? base + 1 : dir);
  }
  if (is_file(gb)) {
    size_t len;
    char* t = qb_read_text_file(gb, &len);
    if (!t) return qb_fail(err, "%s: cannot read", gb);
    const int rc = qb_run_data_parse_gbench(gb, t, len, run, err);
    if (!rc) fill_from_gbench_context(t, len, run);
    free(t);
    if (rc) return -1;
  }
  return 0;
}

typedef struct {
  qb_run_data* run;
  bool oom;
} db_ctx;

static void db_row(const qb_result_row* row, const qb_run_record* rec, void* user) {
  db_ctx* c = user;
  qb_result_row* r = qb_result_rows_add(&c->run->rows, "", "", 0, "", 0, "");
  if (!r) {
    c->oom = true;
    return;
  }
  *r = *row;
  (void)rec;
}

static int load_db(const char* id, const char* db_path, qb_run_data* run, qb_error* err) {
  qb_results_db* db;
  if (qb_results_db_open(db_path, &db, err)) return -1;
  int rc = qb_results_db_run_field(db, id, "machine_fingerprint", run->fingerprint,
                                   sizeof run->fingerprint, err);
  if (rc == 0)
    rc = qb_fail(err, "%s: not a run folder, and %s has no run of that id", id, db_path);
  if (rc > 0) {
    qb_results_db_run_field(db, id, "started_utc", run->started_utc, sizeof run->started_utc, err);
    qb_results_db_run_field(db, id, "git_revision", run->git_revision, sizeof run->git_revision,
                            err);
    qb_results_db_run_field(db, id, "compiler", run->compiler, sizeof run->compiler, err);
    snprintf(run->run_id, sizeof run->run_id, "%s", id);
    db_ctx c = {run, false};
    rc = qb_results_db_select(db, id, NULL, db_row, &c, err);
    if (!rc && c.oom) rc = qb_fail(err, "out of memory");
  }
  qb_results_db_close(db);
  return rc < 0 ? -1 : 0;
}

int qb_run_data_load(const char* arg, const char* db_path, qb_run_data* run, qb_error* err) {
  memset(run, 0, sizeof *run);
  qb_result_rows_init(&run->rows);
  snprintf(run->fingerprint, sizeof run->fingerprint, "unknown");
  if (is_dir(arg)) {
    snprintf(run->source, sizeof run->source, "%s", arg);
    return load_folder(arg, run, err);
  }
  if (db_path && is_file(db_path)) {
    snprintf(run->source, sizeof run->source, "db:%s", arg);
    snprintf(run->db_path, sizeof run->db_path, "%s", db_path);
    run->history = calloc(1, sizeof *run->history);
    if (!run->history) return qb_fail(err, "out of memory");
    return load_db(arg, db_path, run, err);
  }
  if (db_path) return qb_fail(err, "%s: no such run folder (and no database %s for run ids)", arg, db_path);
  return qb_fail(err, "%s: no such run folder", arg);
}

void qb_run_data_free(qb_run_data* run) {
  if (run->history) qb_results_db_close(*run->history);
  free(run->history);
  run->history = NULL;
  qb_result_rows_free(&run->rows);
  for (size_t i = 0; i < run->ngbench; i++) free(run->gbench[i].ns);
  free(run->gbench);
  run->gbench = NULL;
  run->ngbench = 0;
}

int qb_run_data_predictions(const qb_run_data* run, const char* key, uint16_t** v, size_t* n,
                            qb_error* err) {
  if (strncmp(run->source, "db:", 3)) {
    char path[1400];
    qb_predictions_file(run->source, key, path, sizeof path);
    return qb_predictions_read_file(path, v, n, err);
  }
  *v = NULL, *n = 0;
  if (!run->history) return qb_fail(err, "%s: no history to read predictions from", run->source);
  if (!*run->history && qb_results_db_open(run->db_path, run->history, err)) return -1;
  return qb_results_db_predictions(*run->history, run->run_id, key, v, n, err);
}

/* ---- labels ---------------------------------------------------------------------- */

static const char* gran_short(const char* g, char* buf, size_t size) {
  if (!strcmp(g, "tensor")) return "t";
  if (!strcmp(g, "channel")) return "ch";
  if (!strncmp(g, "group:", 6)) {
    snprintf(buf, size, "g%s", g + 6);
    return buf;
  }
  return g;
}

void qb_qconfig_label(const qb_result_row* r, char* buf, size_t size) {
  if (r->a_bits == 0)
    snprintf(buf, size, "%s w%d %s/%s/%s a-float", r->workflow, r->w_bits, r->w_scheme,
             r->w_granularity, r->w_range);
  else
    snprintf(buf, size, "%s w%d %s/%s/%s a%d %s/%s/%s", r->workflow, r->w_bits, r->w_scheme,
             r->w_granularity, r->w_range, r->a_bits, r->a_scheme, r->a_granularity, r->a_range);
}

static const char* workflow_short(const char* w) {
  if (!strcmp(w, "weight-only")) return "wo";
  if (!strcmp(w, "dynamic")) return "dyn";
  if (!strcmp(w, "static")) return "st";
  return w;
}

/* "s" / "a" for the scheme column, then its qualifiers shortened: "s-u-r-mr" for
 * symmetric-unsigned-restricted-mulrecip ("-s" signed). */
static const char* scheme_short(const char* column, char* buf, size_t size) {
  size_t n = (size_t)snprintf(buf, size, "%c", column[0] ? column[0] : '?');
  for (const char* q = strchr(column, '-'); q && n < size; q = strchr(q + 1, '-')) {
    const char* t = !strncmp(q, "-unsigned", 9) ? "-u" : !strncmp(q, "-signed", 7) ? "-s"
                    : !strncmp(q, "-restricted", 11) ? "-r" : !strncmp(q, "-mulrecip", 9) ? "-mr" : "";
    n += (size_t)snprintf(buf + n, size - n, "%s", t);
  }
  return buf;
}

void qb_qconfig_short(const qb_result_row* r, char* buf, size_t size) {
  char g1[16], g2[16], s1[24], s2[24];
  if (r->a_bits == 0)
    snprintf(buf, size, "%s w%d%s.%s.%s", workflow_short(r->workflow), r->w_bits,
             scheme_short(r->w_scheme, s1, sizeof s1), gran_short(r->w_granularity, g1, sizeof g1),
             r->w_range);
  else
    snprintf(buf, size, "%s w%d%s.%s.%s a%d%s.%s.%s", workflow_short(r->workflow), r->w_bits,
             scheme_short(r->w_scheme, s1, sizeof s1), gran_short(r->w_granularity, g1, sizeof g1),
             r->w_range, r->a_bits, scheme_short(r->a_scheme, s2, sizeof s2),
             gran_short(r->a_granularity, g2, sizeof g2), r->a_range);
}

bool qb_same_qconfig(const qb_result_row* a, const qb_result_row* b) {
  return !strcmp(a->model, b->model) && !strcmp(a->workflow, b->workflow) &&
         a->w_bits == b->w_bits && !strcmp(a->w_scheme, b->w_scheme) &&
         !strcmp(a->w_granularity, b->w_granularity) && !strcmp(a->w_range, b->w_range) &&
         a->a_bits == b->a_bits && !strcmp(a->a_scheme, b->a_scheme) &&
         !strcmp(a->a_granularity, b->a_granularity) && !strcmp(a->a_range, b->a_range);
}
