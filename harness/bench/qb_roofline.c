/* Roofline probe: runs the loops of kernels/roofline on 1 and N bound threads,
 * takes medians, caches the result per machine. See qb_roofline.h. */
#include "qb_roofline.h"

#include "qb_results_files.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qb_affinity.h"
#include "isa/qb_isa.h"


static volatile uint64_t g_sink; /* every loop's checksum lands here */

static double thread_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* built ∧ detected (CPUID + XGETBV, kernels/isa). The QB_ISA_MASK mask is not
 * applied on purpose: the roofline is a property of the machine and is cached per
 * machine, so a masked run must not produce (or cache) a smaller table. */
static bool backend_usable(qb_backend b) {
  return ((qb_isa_built() & qb_isa_detected()) & QB_BACKEND_BIT(b)) != 0;
}

typedef qb_roofline_probe ceiling_def;

static const char* kind_name(qb_roofline_kind k) {
  return k == QB_ROOF_INT8 ? "int8" : k == QB_ROOF_FP32 ? "fp32" : "read";
}
static const char* kind_unit(qb_roofline_kind k) {
  return k == QB_ROOF_INT8 ? "GOPS" : k == QB_ROOF_FP32 ? "GFLOPS" : "GB/s";
}

/* ---- running a loop on T bound threads ----------------------------------------- */

typedef struct {
  const ceiling_def* def;
  int threads;
  int runs;             /* 1 warm-up + repetitions */
  size_t bytes;         /* read ceilings: buffer per thread */
  uint64_t count;       /* iterations / passes per thread per run; 0: calibrate in the
                           warm-up run (single-threaded jobs only) */
  double target;        /* seconds per run, for calibration */
  pthread_barrier_t barrier;
  double* start;        /* [run * threads + t]: wall clock */
  double* end;
  double* cpu;          /* [run * threads + t]: the thread's CPU time during the run */
  int* bound;           /* per thread */
  int* failed;          /* per thread: buffer allocation failed */
} job;

typedef struct {
  job* j;
  int t;
} worker_arg;

/* Iterations (compute) or passes (read) for one run of about `target` seconds on
 * one thread, found by doubling from a small count. Doubles as the warm-up. */
static uint64_t calibrate(const ceiling_def* d, const void* buf, size_t bytes, double target) {
  uint64_t c = d->compute ? 1024 : 1;
  double el = 0;
  for (;;) {
    double t0 = now_s();
    g_sink = d->compute ? d->compute(c) : d->read(buf, bytes, c);
    el = now_s() - t0;
    if (el >= 0.25 * target || c >= (UINT64_C(1) << 40)) break;
    c *= el > 0 && el < 0.01 * target ? 8 : 2;
  }
  double scaled = el > 0 ? (double)c * target / el : (double)c;
  return scaled < 1 ? 1 : (uint64_t)scaled;
}

static uint64_t run_once(const job* j, const void* buf, uint64_t count) {
  if (j->def->compute) return j->def->compute(count);
  return j->def->read(buf, j->bytes, count);
}

static void* worker(void* p) {
  worker_arg* a = p;
  job* j = a->j;
  int t = a->t;
  j->bound[t] = qb_affinity_bind_thread(t) == 0;
  void* buf = NULL;
  if (j->def->read) {
    buf = aligned_alloc(64, j->bytes);
    if (buf) {
      /* First touch by the bound thread: pages land on its NUMA node. */
      uint64_t* w = buf;
      for (size_t i = 0; i < j->bytes / 8; i++) w[i] = i * 0x9e3779b97f4a7c15u + (uint64_t)t;
    } else {
      j->failed[t] = 1;
    }
  }
  for (int r = 0; r < j->runs; r++) {
    pthread_barrier_wait(&j->barrier);
    if (r == 0 && j->count == 0) { /* threads == 1: nobody else reads count */
      if (!j->def->read || buf) j->count = calibrate(j->def, buf, j->bytes, j->target);
      continue;
    }
    double c0 = thread_cpu_s();
    double t0 = now_s();
    if (!j->def->read || buf) g_sink = run_once(j, buf, j->count);
    double t1 = now_s();
    double c1 = thread_cpu_s();
    j->start[r * j->threads + t] = t0;
    j->end[r * j->threads + t] = t1;
    j->cpu[r * j->threads + t] = c1 - c0;
  }
  free(buf);
  return NULL;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* A run is "clean" when every thread had its core for at least this share of the
 * run's wall time (thread CPU time / wall time). On a shared machine another process
 * scheduled on a probe's core lowers the figure; such runs are left out of the
 * median unless no run was clean. (Time stolen by a hypervisor is invisible here.) */
#define QB_ROOFLINE_MIN_CPU_SHARE 0.9

typedef struct {
  double med, mn, mx; /* work units per second, over the runs used */
  int clean;          /* clean runs (out of the repetitions) */
} job_stats;

/* Runs the job; fills the median/min/max rate over the clean runs (or all runs). */
static int run_job(job* j, double work_per_count, job_stats* st, bool* all_bound,
                   qb_error* err) {
  int T = j->threads;
  size_t n = (size_t)j->runs * (size_t)T;
  j->start = calloc(n, sizeof(double));
  j->end = calloc(n, sizeof(double));
  j->cpu = calloc(n, sizeof(double));
  j->bound = calloc((size_t)T, sizeof(int));
  j->failed = calloc((size_t)T, sizeof(int));
  pthread_t* th = calloc((size_t)T, sizeof(pthread_t));
  worker_arg* args = calloc((size_t)T, sizeof(worker_arg));
  double* rates = calloc((size_t)j->runs, sizeof(double));
  double* clean_rates = calloc((size_t)j->runs, sizeof(double));
  int rc = -1, created = 0;
  if (!clean_rates || !j->cpu || !j->start || !j->end || !j->bound || !j->failed || !th ||
      !args || !rates) {
    qb_fail(err, "roofline: out of memory");
    goto done;
  }
  if (pthread_barrier_init(&j->barrier, NULL, (unsigned)T) != 0) {
    qb_fail(err, "roofline: pthread_barrier_init failed");
    goto done;
  }
  for (int t = 0; t < T; t++) {
    args[t].j = j;
    args[t].t = t;
    if (pthread_create(&th[t], NULL, worker, &args[t]) != 0) break;
    created++;
  }
  if (created < T) {
    /* The barrier can never complete: there is no clean way back. */
    fprintf(stderr, "roofline: could not start %d threads\n", T);
    abort();
  }
  for (int t = 0; t < T; t++) pthread_join(th[t], NULL);
  pthread_barrier_destroy(&j->barrier);
  for (int t = 0; t < T; t++) {
    if (j->failed[t]) {
      qb_fail(err, "roofline: %s: cannot allocate %zu bytes per thread", j->def->name,
              j->bytes);
      goto done;
    }
    if (!j->bound[t]) *all_bound = false;
  }
  int reps = 0, clean = 0;
  for (int r = 1; r < j->runs; r++) { /* run 0 is the warm-up */
    double s = j->start[r * T], e = j->end[r * T];
    double share = 1;
    for (int t = 0; t < T; t++) {
      int i = r * T + t;
      if (j->start[i] < s) s = j->start[i];
      if (j->end[i] > e) e = j->end[i];
      double wall = j->end[i] - j->start[i];
      if (wall > 0 && j->cpu[i] / wall < share) share = j->cpu[i] / wall;
    }
    double span = e - s;
    double rate = span > 0 ? (double)T * (double)j->count * work_per_count / span : 0;
    rates[reps++] = rate;
    if (share >= QB_ROOFLINE_MIN_CPU_SHARE) clean_rates[clean++] = rate;
  }
  double* use = clean > 0 ? clean_rates : rates;
  int nuse = clean > 0 ? clean : reps;
  qsort(use, (size_t)nuse, sizeof(double), cmp_double);
  st->mn = use[0];
  st->mx = use[nuse - 1];
  st->med = nuse % 2 ? use[nuse / 2] : 0.5 * (use[nuse / 2 - 1] + use[nuse / 2]);
  st->clean = clean;
  rc = 0;
done:
  free(j->start);
  free(j->end);
  free(j->cpu);
  free(j->bound);
  free(j->failed);
  free(th);
  free(args);
  free(rates);
  free(clean_rates);
  return rc;
}

static size_t round_ws(int64_t b) {
  if (b < 4096) b = 4096;
  return (size_t)(b / QB_READ_BW_BLOCK * QB_READ_BW_BLOCK);
}

/* Buffer per thread for a read ceiling with T threads. */
static size_t ws_per_thread(const qb_machine* m, qb_roofline_ws rule, int T, int64_t dram_bytes) {
  int64_t l3 = qb_machine_cache_bytes(m, 3);
  int l3_count = m->hwloc_ok && m->cache_count[2] > 0 ? m->cache_count[2] : 1;
  switch (rule) {
    case QB_ROOF_WS_L1: {
      int64_t l1 = qb_machine_cache_bytes(m, 1);
      return round_ws((l1 > 0 ? l1 : 32 * 1024) / 2);
    }
    case QB_ROOF_WS_L2: {
      int64_t l2 = qb_machine_cache_bytes(m, 2);
      return round_ws((l2 > 0 ? l2 : 256 * 1024) / 2);
    }
    case QB_ROOF_WS_L3: {
      if (l3 <= 0) return round_ws(qb_machine_llc_bytes(m) / 2 / T);
      /* Half of the L3, but no more than the geometric mean of all L2 and all L3:
       * a VM (or a CAT partition) reports the host's whole L3 while the guest only
       * gets a slice. Seen here: L3 "260 MiB"; 64 MiB read at L3 speed (27 GB/s),
       * 128 MiB at DRAM speed (13 GB/s). */
      double l3_total = (double)l3 * l3_count;
      double ws = l3_total / 2;
      int64_t l2 = qb_machine_cache_bytes(m, 2);
      int l2_count = m->hwloc_ok && m->cache_count[1] > 0 ? m->cache_count[1] : 1;
      if (l2 > 0) {
        double gm = sqrt((double)l2 * l2_count * l3_total);
        if (gm < ws) ws = gm;
      }
      return round_ws((int64_t)ws / T);
    }
    case QB_ROOF_WS_DRAM: return round_ws(dram_bytes / T);
  }
  return 4096;
}

static int64_t default_dram_bytes(const qb_machine* m) {
  const int64_t MiB = 1024 * 1024;
  int64_t llc = qb_machine_llc_bytes(m);
  int l3_count = m->hwloc_ok && m->cache_count[2] > 0 ? m->cache_count[2] : 1;
  int64_t b = 8 * (llc > 0 ? llc * l3_count : 32 * MiB);
  if (b > 1024 * MiB) b = 1024 * MiB;
  if (m->memory_bytes > 0 && b > m->memory_bytes / 4) b = m->memory_bytes / 4;
  if (b < 64 * MiB) b = 64 * MiB;
  return b;
}

qb_roofline_options qb_roofline_default_options(void) {
  qb_roofline_options o;
  memset(&o, 0, sizeof o);
  return o;
}

static void utc_now(char* buf, size_t size) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int qb_roofline_measure(const qb_machine* m, const qb_roofline_options* opt_in,
                        qb_roofline* out, qb_error* err) {
  qb_roofline_options opt = opt_in ? *opt_in : qb_roofline_default_options();
  int T = opt.threads > 0 ? opt.threads : qb_machine_core_count(m);
  int reps = opt.repetitions > 0 ? opt.repetitions : 5;
  double target = opt.rep_seconds > 0 ? opt.rep_seconds : 0.04;
  int64_t dram = opt.dram_bytes > 0 ? opt.dram_bytes : default_dram_bytes(m);

  memset(out, 0, sizeof *out);
  out->probe_version = QB_ROOFLINE_PROBE_VERSION;
  snprintf(out->fingerprint, sizeof out->fingerprint, "%s", m->fingerprint);
  snprintf(out->brand, sizeof out->brand, "%s", m->cpuid_ok ? m->brand : "");
  out->threads = T;
  out->bound = true;
  out->repetitions = reps;
  utc_now(out->measured_at, sizeof out->measured_at);
  double t_begin = now_s();

  size_t n_ceilings;
  const ceiling_def* ceilings = qb_roofline_probes(&n_ceilings);
  for (size_t i = 0; i < n_ceilings && out->n_entries < QB_ROOFLINE_MAX_ENTRIES; i++) {
    const ceiling_def* d = &ceilings[i];
    qb_roofline_entry* e = &out->entries[out->n_entries++];
    snprintf(e->name, sizeof e->name, "%s", d->name);
    snprintf(e->backend, sizeof e->backend, "%s", qb_backend_name(d->backend));
    snprintf(e->what, sizeof e->what, "%s", d->what);
    snprintf(e->unit, sizeof e->unit, "%s", kind_unit(d->kind));
    e->kind = d->kind;
    if (!backend_usable(d->backend)) continue;

    /* int8: 2 ops per MAC; fp32: FLOPs counted directly; read: bytes. */
    double per_count_scale = d->kind == QB_ROOF_INT8 ? 2.0 * d->work_per_iter
                             : d->kind == QB_ROOF_FP32 ? d->work_per_iter
                                                       : 0;
    size_t b1 = d->read ? ws_per_thread(m, d->ws, 1, dram) : 0;
    uint64_t count = 0; /* found by the 1-thread job, reused by the T-thread job */
    for (int pass = 0; pass < (T > 1 ? 2 : 1); pass++) {
      int threads = pass == 0 ? 1 : T;
      job j;
      memset(&j, 0, sizeof j);
      j.def = d;
      j.threads = threads;
      j.runs = reps + 1;
      j.target = target;
      j.bytes = d->read ? ws_per_thread(m, d->ws, threads, dram) : 0;
      /* Same time per run with smaller per-thread buffers (L3, DRAM): more passes. */
      j.count = count;
      if (pass == 1 && d->read && j.bytes < b1) j.count = count * (b1 / j.bytes);
      double scale = d->read ? (double)j.bytes : per_count_scale;
      /* One more try when no run was clean (another process on a probe core). */
      job_stats st;
      for (int attempt = 0; attempt < 2; attempt++) {
        if (run_job(&j, scale, &st, &out->bound, err) != 0) return -1;
        if (st.clean > 0) break;
      }
      if (pass == 0) count = j.count;
      if (pass == 0) {
        e->t1 = st.med * 1e-9, e->t1_min = st.mn * 1e-9, e->t1_max = st.mx * 1e-9;
        e->ws_t1 = (int64_t)j.bytes;
        e->clean_t1 = st.clean;
      }
      if (pass == 1 || T == 1) {
        e->tn = st.med * 1e-9, e->tn_min = st.mn * 1e-9, e->tn_max = st.mx * 1e-9;
        e->ws_tn = (int64_t)j.bytes * threads;
        e->clean_tn = st.clean;
      }
    }
    e->measured = true;
    if (e->clean_t1 == 0 || e->clean_tn == 0) out->contended = true;
    if (opt.progress)
      fprintf(stderr, "roofline: %-17s %10.1f %-6s (1 thread) %10.1f (%d threads)\n", e->name,
              e->t1, e->unit, e->tn, T);
  }
  out->seconds = now_s() - t_begin;
  return 0;
}

/* ---- JSON out --------------------------------------------------------------------- */

void qb_roofline_write_json(const qb_roofline* r, FILE* f) {
  fprintf(f, "{\n  \"qbench_roofline\": 1,\n  \"probe_version\": %d,\n  \"fingerprint\": ",
          r->probe_version);
  qb_json_string(f, r->fingerprint);
  fputs(",\n  \"brand\": ", f);
  qb_json_string(f, r->brand);
  fputs(",\n  \"measured_at\": ", f);
  qb_json_string(f, r->measured_at);
  fprintf(f,
          ",\n  \"threads\": %d,\n  \"bound\": %s,\n  \"contended\": %s,\n"
          "  \"repetitions\": %d,\n"
          "  \"seconds\": %.3f,\n  \"from_cache\": %s,\n  \"cache_path\": ",
          r->threads, r->bound ? "true" : "false", r->contended ? "true" : "false",
          r->repetitions, r->seconds,
          r->from_cache ? "true" : "false");
  qb_json_string(f, r->cache_path);
  fputs(",\n  \"entries\": [", f);
  for (int i = 0; i < r->n_entries; i++) {
    const qb_roofline_entry* e = &r->entries[i];
    fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
    qb_json_string(f, e->name);
    fputs(", \"backend\": ", f);
    qb_json_string(f, e->backend);
    fprintf(f, ", \"kind\": \"%s\", \"unit\": \"%s\", \"measured\": %s", kind_name(e->kind),
            e->unit, e->measured ? "true" : "false");
    fprintf(f, ", \"ws_t1\": %" PRId64 ", \"ws_tn\": %" PRId64, e->ws_t1, e->ws_tn);
    fprintf(f, ", \"clean_t1\": %d, \"clean_tn\": %d", e->clean_t1, e->clean_tn);
    fprintf(f,
            ", \"t1\": %.6g, \"t1_min\": %.6g, \"t1_max\": %.6g, \"tn\": %.6g, "
            "\"tn_min\": %.6g, \"tn_max\": %.6g, \"what\": ",
            e->t1, e->t1_min, e->t1_max, e->tn, e->tn_min, e->tn_max);
    qb_json_string(f, e->what);
    fputc('}', f);
  }
  fputs("\n  ]\n}\n", f);
}

/* ---- JSON in (only what write_json writes: one key per line, one entry per line) */

/* Position just after `"key": ` in line, or NULL. */
static const char* find_key(const char* line, const char* key) {
  char pat[48];
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  const char* p = strstr(line, pat);
  return p ? p + strlen(pat) : NULL;
}

static bool get_str(const char* line, const char* key, char* buf, size_t size) {
  const char* p = find_key(line, key);
  if (!p || *p != '"') return false;
  size_t n = 0;
  for (p++; *p && *p != '"'; p++) {
    if (*p == '\\' && p[1]) p++; /* we only ever write \" and \\ */
    if (n + 1 < size) buf[n++] = *p;
  }
  buf[n] = '\0';
  return *p == '"';
}

static bool get_num(const char* line, const char* key, double* v) {
  const char* p = find_key(line, key);
  if (!p) return false;
  char* end;
  errno = 0;
  *v = strtod(p, &end);
  return end != p && errno == 0;
}

static bool get_bool(const char* line, const char* key, bool* v) {
  const char* p = find_key(line, key);
  if (!p) return false;
  if (strncmp(p, "true", 4) == 0) return *v = true, true;
  if (strncmp(p, "false", 5) == 0) return *v = false, true;
  return false;
}

int qb_roofline_load(const char* path, qb_roofline* out, qb_error* err) {
  FILE* f = fopen(path, "r");
  if (!f) return qb_fail(err, "%s: %s", path, strerror(errno));
  memset(out, 0, sizeof *out);
  char line[1024];
  int lineno = 0;
  bool magic = false;
  double v;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (find_key(line, "name")) {
      if (out->n_entries >= QB_ROOFLINE_MAX_ENTRIES) break;
      qb_roofline_entry* e = &out->entries[out->n_entries];
      char kind[16] = "";
      bool ok = get_str(line, "name", e->name, sizeof e->name) &&
                get_str(line, "backend", e->backend, sizeof e->backend) &&
                get_str(line, "kind", kind, sizeof kind) &&
                get_str(line, "unit", e->unit, sizeof e->unit) &&
                get_bool(line, "measured", &e->measured) &&
                get_str(line, "what", e->what, sizeof e->what);
      double n[10];
      static const char* keys[10] = {"ws_t1",  "ws_tn", "t1",     "t1_min",   "t1_max",
                                     "tn",     "tn_min", "tn_max", "clean_t1", "clean_tn"};
      for (int k = 0; ok && k < 10; k++) ok = get_num(line, keys[k], &n[k]);
      if (!ok) {
        fclose(f);
        return qb_fail(err, "%s:%d: malformed roofline entry", path, lineno);
      }
      e->kind = strcmp(kind, "int8") == 0   ? QB_ROOF_INT8
                : strcmp(kind, "fp32") == 0 ? QB_ROOF_FP32
                                            : QB_ROOF_READ;
      e->ws_t1 = (int64_t)n[0], e->ws_tn = (int64_t)n[1];
      e->t1 = n[2], e->t1_min = n[3], e->t1_max = n[4];
      e->tn = n[5], e->tn_min = n[6], e->tn_max = n[7];
      e->clean_t1 = (int)n[8], e->clean_tn = (int)n[9];
      out->n_entries++;
      continue;
    }
    if (get_num(line, "qbench_roofline", &v)) magic = true;
    if (get_num(line, "probe_version", &v)) out->probe_version = (int)v;
    get_str(line, "fingerprint", out->fingerprint, sizeof out->fingerprint);
    get_str(line, "brand", out->brand, sizeof out->brand);
    get_str(line, "measured_at", out->measured_at, sizeof out->measured_at);
    if (get_num(line, "threads", &v)) out->threads = (int)v;
    get_bool(line, "bound", &out->bound);
    get_bool(line, "contended", &out->contended);
    if (get_num(line, "repetitions", &v)) out->repetitions = (int)v;
    if (get_num(line, "seconds", &v)) out->seconds = v;
  }
  fclose(f);
  if (!magic || out->n_entries == 0)
    return qb_fail(err, "%s: not a qbench roofline file", path);
  out->from_cache = true;
  snprintf(out->cache_path, sizeof out->cache_path, "%s", path);
  return 0;
}

/* mkdir -p of the directory part of `path` (qb_mkdir_p, results files). */
static int make_parent_dirs(const char* path, qb_error* err) {
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
    return qb_fail(err, "%s: path too long", path);
  char* slash = strrchr(dir, '/');
  if (!slash || slash == dir) return 0;
  *slash = '\0';
  return qb_mkdir_p(dir, err);
}

int qb_roofline_save(const qb_roofline* r, const char* path, qb_error* err) {
  if (make_parent_dirs(path, err) != 0) return -1;
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
    return qb_fail(err, "%s: path too long", path);
  FILE* f = fopen(tmp, "w");
  if (!f) return qb_fail(err, "%s: %s", tmp, strerror(errno));
  qb_roofline copy = *r;
  copy.from_cache = false;
  snprintf(copy.cache_path, sizeof copy.cache_path, "%s", path);
  qb_roofline_write_json(&copy, f);
  if (fclose(f) != 0) {
    remove(tmp);
    return qb_fail(err, "%s: write failed", tmp);
  }
  if (rename(tmp, path) != 0) {
    int e = errno;
    remove(tmp);
    return qb_fail(err, "%s: %s", path, strerror(e));
  }
  return 0;
}

int qb_roofline_default_cache_path(const char* fingerprint, char* buf, size_t size,
                                   qb_error* err) {
  const char* xdg = getenv("XDG_CACHE_HOME");
  const char* home = getenv("HOME");
  int n;
  if (xdg && xdg[0] == '/')
    n = snprintf(buf, size, "%s/qbench/roofline-%s.json", xdg, fingerprint);
  else if (home && home[0] == '/')
    n = snprintf(buf, size, "%s/.cache/qbench/roofline-%s.json", home, fingerprint);
  else
    return qb_fail(err, "no cache directory: neither XDG_CACHE_HOME nor HOME is set");
  if (n < 0 || (size_t)n >= size) return qb_fail(err, "cache path too long");
  return 0;
}

int qb_roofline_get(const qb_machine* m, const qb_roofline_options* opt_in, qb_roofline* out,
                    qb_error* err) {
  qb_roofline_options opt = opt_in ? *opt_in : qb_roofline_default_options();
  char path[512] = "";
  if (!opt.cache_path) {
    qb_error ignored;
    if (qb_roofline_default_cache_path(m->fingerprint, path, sizeof path, &ignored) != 0)
      path[0] = '\0';
  } else {
    snprintf(path, sizeof path, "%s", opt.cache_path);
  }
  int want_threads = opt.threads > 0 ? opt.threads : qb_machine_core_count(m);
  if (path[0] && !opt.force && access(path, R_OK) == 0) {
    qb_error lerr;
    if (qb_roofline_load(path, out, &lerr) == 0 &&
        out->probe_version == QB_ROOFLINE_PROBE_VERSION &&
        strcmp(out->fingerprint, m->fingerprint) == 0 && out->threads == want_threads &&
        !out->contended)
      return 0;
  }
  if (qb_roofline_measure(m, &opt, out, err) != 0) return -1;
  if (path[0]) {
    qb_error serr;
    if (qb_roofline_save(out, path, &serr) == 0)
      snprintf(out->cache_path, sizeof out->cache_path, "%s", path);
    else if (opt.progress)
      fprintf(stderr, "roofline: not cached: %s\n", serr.msg);
  }
  return 0;
}

const qb_roofline_entry* qb_roofline_find(const qb_roofline* r, const char* name) {
  for (int i = 0; i < r->n_entries; i++)
    if (strcmp(r->entries[i].name, name) == 0) return &r->entries[i];
  return NULL;
}

/* ---- text ------------------------------------------------------------------------- */

static void ws_text(char* buf, size_t size, int64_t b) {
  if (b >= 1024 * 1024)
    snprintf(buf, size, "%.0f MiB", (double)b / (1024.0 * 1024.0));
  else
    snprintf(buf, size, "%.0f KiB", (double)b / 1024.0);
}

void qb_roofline_write_text(const qb_roofline* r, FILE* f) {
  fprintf(f, "roofline of machine %s (%s), %s%s\n", r->fingerprint,
          r->brand[0] ? r->brand : "?", r->from_cache ? "cached, measured " : "measured ",
          r->measured_at);
  fprintf(f, "median of %d runs; %d threads%s; int8 GOPS = 2 x MACs/s\n\n", r->repetitions,
          r->threads, r->bound ? " bound with hwloc (distinct cores first)" : " (not all bound)");
  char tn_head[24];
  snprintf(tn_head, sizeof tn_head, "%d threads", r->threads);
  fprintf(f, "%-17s %-11s %-7s %9s  %9s   %s\n", "ceiling", "backend", "unit", "1 thread",
          tn_head, "what");
  bool contended = false;
  for (int i = 0; i < r->n_entries; i++) {
    const qb_roofline_entry* e = &r->entries[i];
    if (!e->measured) {
      fprintf(f, "%-17s %-11s %-7s %9s  %9s   %s (backend not usable here)\n", e->name,
              e->backend, e->unit, "-", "-", e->what);
      continue;
    }
    char what[160];
    if (e->kind == QB_ROOF_READ) {
      char a[32], b[32];
      ws_text(a, sizeof a, e->ws_t1);
      ws_text(b, sizeof b, e->ws_tn);
      snprintf(what, sizeof what, "%s: %s / %s total, AVX2 loads", e->what, a, b);
    } else {
      snprintf(what, sizeof what, "%s", e->what);
    }
    bool c1 = e->clean_t1 < r->repetitions, cn = e->clean_tn < r->repetitions;
    contended = contended || c1 || cn;
    fprintf(f, "%-17s %-11s %-7s %9.1f%c %9.1f%c  %s\n", e->name, e->backend, e->unit, e->t1,
            c1 ? '*' : ' ', e->tn, cn ? '*' : ' ', what);
  }
  if (contended)
    fprintf(f, "\n* some runs shared a core with other processes (CPU share < %.0f%%) and were\n"
               "  left out of the median (all kept if none was clean); --force re-measures\n",
            100 * QB_ROOFLINE_MIN_CPU_SHARE);
  if (r->contended)
    fprintf(f, "  some figures had no clean run: this result will not be reused\n");
  if (r->cache_path[0])
    fprintf(f, "\n%s %s%s\n", r->from_cache ? "from" : "written to", r->cache_path,
            r->from_cache ? " (--force re-measures)" : "");
}
