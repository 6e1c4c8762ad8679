/* Speed and memory of one item.
 *
 * Latency is measured at batch 1 (one image, the deployment case) with a plain
 * CLOCK_MONOTONIC loop: each repetition runs the model `inner` times (enough for
 * ~2 ms, so the clock's resolution does not matter) and records the mean time per
 * inference; per-layer times are the intervals between consecutive node hooks (a
 * layer's time includes the hook's clock read, ~20 ns). One warm-up run first. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "qb_model_probe.h"
#include "qb_mann_whitney.h" /* qb_median, qb_cv */
#include "qb_sweep_eval_internal.h"

enum { TARGET_NS_PER_REP = 2000000, MAX_INNER = 1000, CV_WARNINGS = 5 };

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return 1e9 * (double)t.tv_sec + (double)t.tv_nsec;
}

typedef struct {
  double last;
  double* node_ns; /* per node, accumulated over a repetition */
} timing;

static void time_hook(void* ctx, const qb_model* m, size_t k, const qb_value* out) {
  timing* t = ctx;
  (void)m, (void)out;
  const double now = now_ns();
  t->node_ns[k] += now - t->last;
  t->last = now;
}

static int run_once(qb_eval_item* it, timing* t, qb_error* err) {
  const qb_model_exec exec = {QB_EXEC_INTEGER, it->q, time_hook, t};
  const float* x = it->em->test.x;
  t->last = now_ns();
  return qb_model_run(&it->em->m, &x, &exec, err);
}

static int latency_rows(qb_eval_item* it, const char* layer, const char* kernel, int threads,
                        const double* v, size_t n, qb_error* err) {
  for (size_t r = 0; r < n; r++)
    if (qb_eval_row(it, layer, kernel, threads, "latency_sample", v[r], "ns", err)) return -1;
  const double cv = n > 1 ? qb_cv(v, n) : 0.0;
  /* The first few high-CV items by name; the total at the end of the sweep. */
  if (cv > 0.05 && !strcmp(layer, it->model_name) && ++*it->high_cv <= CV_WARNINGS && it->log)
    fprintf(it->log, "%s: warning: end-to-end latency CV %.1f%% over %zu repetitions (noisy "
            "machine?)%s\n", it->item->id, 100 * cv, n,
            *it->high_cv == CV_WARNINGS ? "; further items counted, not listed" : "");
  return qb_eval_row(it, layer, kernel, threads, "latency_median", qb_median(v, n), "ns", err) ||
                 qb_eval_row(it, layer, kernel, threads, "latency_cv", cv, "", err)
             ? -1
             : 0;
}

/* Batch-1 latency of the integer run on `threads` threads (the int8 GEMM and int4
 * kernels are threaded; results are identical for any count, only time changes). */
static int eval_speed_threads(qb_eval_item* it, int threads, qb_error* err) {
  qb_model* m = &it->em->m;
  if (qb_quant_set_threads(it->q, (size_t)threads, err)) return -1;
  if (m->batch != 1 && qb_model_prepare(m, 1, err)) return -1;
  const size_t nn = m->nnodes, reps = (size_t)(it->cfg->repetitions > 0 ? it->cfg->repetitions : 1);
  timing t = {0, calloc(nn ? nn : 1, sizeof(double))};
  double* e2e = calloc(reps, sizeof *e2e);
  double* layer = calloc((nn ? nn : 1) * reps, sizeof *layer); /* [node][rep] */
  int rc = -1;
  if (!t.node_ns || !e2e || !layer) {
    qb_fail(err, "out of memory");
    goto done;
  }
  const double t0 = now_ns();
  if (run_once(it, &t, err)) goto done; /* warm-up, and the inner count */
  const double one = now_ns() - t0;
  size_t inner = one > 0 ? (size_t)(TARGET_NS_PER_REP / one) + 1 : MAX_INNER;
  if (inner > MAX_INNER) inner = MAX_INNER;
  for (size_t r = 0; r < reps; r++) {
    memset(t.node_ns, 0, nn * sizeof *t.node_ns);
    const double start = now_ns();
    for (size_t i = 0; i < inner; i++)
      if (run_once(it, &t, err)) goto done;
    e2e[r] = (now_ns() - start) / (double)inner;
    for (size_t k = 0; k < nn; k++) layer[k * reps + r] = t.node_ns[k] / (double)inner;
  }
  rc = latency_rows(it, it->model_name, "", threads, e2e, reps, err);
  for (size_t k = 0; !rc && k < nn; k++) {
    if (!qb_probe_is_layer(it->q, k)) continue;
    qb_quant_layer_info li;
    qb_quant_layer(it->q, k, &li);
    rc = latency_rows(it, m->nodes[k].name, li.kernel, threads, layer + k * reps, reps, err);
  }
done:
  free(t.node_ns), free(e2e), free(layer);
  return rc;
}

int qb_eval_speed(qb_eval_item* it, qb_error* err) {
  const size_t n = it->cfg->nthreads ? it->cfg->nthreads : 1;
  for (size_t i = 0; i < n; i++)
    if (eval_speed_threads(it, it->cfg->nthreads ? it->cfg->threads[i] : 1, err)) return -1;
  return qb_quant_set_threads(it->q, 1, err);
}

int qb_eval_memory(qb_eval_item* it, qb_error* err) {
  qb_model* m = &it->em->m;
  if (m->batch != 1 && qb_model_prepare(m, 1, err)) return -1;
  size_t bytes = 0, params = 0;
  for (size_t k = 0; k < m->nnodes; k++) {
    qb_quant_layer_info li;
    qb_quant_layer(it->q, k, &li);
    if (!li.quantized) continue;
    bytes += li.weight_bytes, params += li.weight_numel;
    if (qb_eval_row(it, m->nodes[k].name, li.kernel, 1, "bytes_weights", (double)li.weight_bytes,
                    "bytes", err))
      return -1;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const char* name = it->model_name;
  return qb_eval_row(it, name, "", 1, "bytes_weights", (double)bytes, "bytes", err) ||
                 qb_eval_row(it, name, "", 1, "effective_bits",
                             params ? 8.0 * (double)bytes / (double)params : NAN, "", err) ||
                 qb_eval_row(it, name, "", 1, "bytes_arena", (double)m->arena_bytes, "bytes", err) ||
                 qb_eval_row(it, name, "", 1, "peak_rss", 1024.0 * (double)ru.ru_maxrss, "bytes",
                             err)
             ? -1
             : 0;
}
