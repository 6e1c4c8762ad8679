/* Speed and memory of one item.
 *
 * Latency is measured at batch 1 (one image, the deployment case) by Google Benchmark
 * through the shim (harness/bench/qb_gbench.h): one benchmark per item and thread
 * count, `model/<item id>/threads:<T>`, real time, `repetitions` repetitions of at
 * least GBENCH_MIN_TIME_S each (Google Benchmark sizes the iteration count on the
 * first repetition, which also warms up, and reuses it). Each repetition's wall time
 * per inference is a latency_sample; its JSON goes to the run's gbench.json.
 * Per-layer times are the intervals between consecutive node hooks, summed over the
 * iterations of a repetition and divided by their count (a layer's time includes the
 * hook's clock read, ~20 ns). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qb_gbench.h"
#include "qb_model_probe.h"
#include "qb_peak_rss.h"
#include "qb_mann_whitney.h" /* qb_median, qb_cv */
#include "qb_sweep_eval_internal.h"

enum { CV_WARNINGS = 5 };
/* Short: the quick sweep times ~550 items; 5 ms is ~50 runs of a small model. */
static const double GBENCH_MIN_TIME_S = 0.005;

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return 1e9 * (double)t.tv_sec + (double)t.tv_nsec;
}

/* One benchmark (item x thread count, or the fp32 model x thread count) while Google
 * Benchmark runs it. */
typedef struct {
  qb_eval_item* it;
  bool fp32;       /* the fp32 model (no quantization state) */
  size_t nn, reps;
  double last;     /* clock at the previous hook */
  double* node_ns; /* per node, summed over the current call's iterations */
  double* layer;   /* [node][slot]: per-iteration node time of the last `reps` calls */
  size_t calls;    /* calls of the benchmark function (sizing runs + repetitions) */
  double* e2e;     /* per repetition, from Google Benchmark */
  size_t ne2e;
  bool failed;
  qb_error run_err;
} bench;

static void time_hook(void* ctx, const qb_model* m, size_t k, const qb_value* out) {
  bench* b = ctx;
  (void)m, (void)out;
  const double now = now_ns();
  b->node_ns[k] += now - b->last;
  b->last = now;
}

static int run_once(bench* b, qb_error* err) {
  const qb_model_exec exec = {b->fp32 ? QB_EXEC_FP32 : QB_EXEC_INTEGER, b->fp32 ? NULL : b->it->q,
                              time_hook, b, true};
  const float* x = b->it->em->test.x;
  b->last = now_ns();
  return qb_model_run(&b->it->em->m, &x, &exec, err);
}

/* The benchmark function. Google Benchmark reports the last call of each repetition
 * (the first repetition's earlier calls size the iteration count), so the node times
 * of the last `reps` calls, kept in a ring, are those of the reported repetitions. */
static void bm_model(qb_gbench_state* st, void* user) {
  bench* b = user;
  memset(b->node_ns, 0, b->nn * sizeof *b->node_ns);
  while (qb_gbench_keep_running(st))
    if (run_once(b, &b->run_err)) {
      b->failed = true;
      qb_gbench_skip_with_error(st, b->run_err.msg);
      break;
    }
  const int64_t n = qb_gbench_iterations(st);
  const size_t slot = b->calls++ % b->reps;
  for (size_t k = 0; k < b->nn; k++)
    b->layer[k * b->reps + slot] = n > 0 ? b->node_ns[k] / (double)n : 0.0;
}

static void on_repetition(const qb_gbench_repetition* rep, void* user) {
  bench* b = user;
  if (rep->error) b->failed = true;
  if (b->ne2e < b->reps) b->e2e[b->ne2e++] = rep->real_ns_per_iteration;
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

/* Rotates the ring of bm_model so that [node][r] is repetition r. */
static void order_layers(bench* b) {
  const size_t first = b->calls % b->reps; /* slot of the oldest kept call */
  double* tmp = malloc(b->reps * sizeof *tmp);
  if (!tmp) return;
  for (size_t k = 0; k < b->nn; k++) {
    double* row = b->layer + k * b->reps;
    for (size_t r = 0; r < b->reps; r++) tmp[r] = row[(first + r) % b->reps];
    memcpy(row, tmp, b->reps * sizeof *tmp);
  }
  free(tmp);
}

/* Registers and runs the item's benchmark on `threads` threads. */
static int run_benchmark(bench* b, int threads, qb_error* err) {
  char name[QB_PLAN_ID_MAX + 64];
  if (b->fp32) snprintf(name, sizeof name, "model-fp32/%s/threads:%d", b->it->model_name, threads);
  else snprintf(name, sizeof name, "model/%s/threads:%d", b->it->item->id, threads);
  qb_gbench_options o = qb_gbench_default_options();
  o.min_time_s = GBENCH_MIN_TIME_S;
  o.repetitions = (int)b->reps;
  o.use_real_time = true;
  o.threads = threads;
  if (qb_gbench_register(name, bm_model, b, &o)) return qb_fail(err, "%s: cannot register", name);
  if (qb_gbench_run_collect(b->it->gbench_json, on_repetition, b) < 0)
    return qb_fail(err, "%s: cannot write %s", name, b->it->gbench_json);
  if (b->failed)
    return qb_fail(err, "%s: %s", name, b->run_err.msg[0] ? b->run_err.msg : "benchmark failed");
  if (b->ne2e != b->reps || b->calls < b->reps)
    return qb_fail(err, "%s: %zu of %zu repetitions reported", name, b->ne2e, b->reps);
  order_layers(b);
  return 0;
}

static bench bench_new(qb_eval_item* it, bool fp32, size_t nn, size_t reps) {
  return (bench){.it = it,
                 .fp32 = fp32,
                 .nn = nn,
                 .reps = reps,
                 .node_ns = calloc(nn ? nn : 1, sizeof(double)),
                 .layer = calloc((nn ? nn : 1) * reps, sizeof(double)),
                 .e2e = calloc(reps, sizeof(double))};
}

/* The fp32 model's batch-1 latency on `threads` threads (median of the repetitions),
 * timed the first time a model and count are asked for: the baseline of the
 * item's "speedup_over_fp32", measured at the item's own thread count. */
static int fp32_latency(qb_eval_item* it, int threads, double* median, qb_error* err) {
  qb_eval_model* em = it->em;
  for (size_t i = 0; i < em->nfp32_latency; i++)
    if (em->fp32_latency_threads[i] == threads) {
      *median = em->fp32_latency_ns[i];
      return 0;
    }
  const size_t nn = em->m.nnodes, reps = (size_t)(it->cfg->repetitions > 0 ? it->cfg->repetitions : 1);
  bench b = bench_new(it, true, nn, reps);
  int rc = -1;
  if (!b.node_ns || !b.layer || !b.e2e) qb_fail(err, "out of memory");
  else if (run_benchmark(&b, threads, err) == 0) rc = 0;
  if (!rc) {
    *median = qb_median(b.e2e, reps);
    if (em->nfp32_latency < QB_SWEEP_MAX_THREADS) {
      em->fp32_latency_threads[em->nfp32_latency] = threads;
      em->fp32_latency_ns[em->nfp32_latency++] = *median;
    }
  }
  free(b.node_ns), free(b.layer), free(b.e2e);
  return rc;
}

/* Batch-1 latency of the integer run on `threads` threads: the int8 GEMM and int4
 * kernels and the fp32 ops (layers left in fp32, weight-only layers) all get the
 * same count, so an fp32 item and an int8 item at T threads compare like with like.
 * Results are identical for any count, only time changes. */
static int eval_speed_threads(qb_eval_item* it, int threads, qb_error* err) {
  qb_model* m = &it->em->m;
  if (qb_quant_set_threads(it->q, (size_t)threads, err) ||
      qb_model_set_threads(m, (size_t)threads, err))
    return -1;
  if (m->batch != 1 && qb_model_prepare(m, 1, err)) return -1;
  const size_t nn = m->nnodes, reps = (size_t)(it->cfg->repetitions > 0 ? it->cfg->repetitions : 1);
  bench b = bench_new(it, false, nn, reps);
  int rc = -1;
  double fp32_ns;
  if (!b.node_ns || !b.layer || !b.e2e) {
    qb_fail(err, "out of memory");
    goto done;
  }
  if (run_benchmark(&b, threads, err) || fp32_latency(it, threads, &fp32_ns, err)) goto done;
  rc = latency_rows(it, it->model_name, "", threads, b.e2e, reps, err);
  if (!rc)
    rc = qb_eval_row(it, it->model_name, qb_model_f32_gemm_name(), threads, "latency_fp32_median",
                     fp32_ns, "ns", err) ||
                 qb_eval_row(it, it->model_name, "", threads, "speedup_over_fp32",
                             fp32_ns / qb_median(b.e2e, reps), "", err)
             ? -1
             : 0;
  for (size_t k = 0; !rc && k < nn; k++) {
    if (!qb_probe_is_layer(it->q, k)) continue;
    qb_quant_layer_info li;
    qb_quant_layer(it->q, k, &li);
    rc = latency_rows(it, li.name ? li.name : m->nodes[k].name, li.kernel, threads,
                      b.layer + k * reps, reps, err);
  }
done:
  free(b.node_ns), free(b.layer), free(b.e2e);
  return rc;
}

int qb_eval_speed(qb_eval_item* it, qb_error* err) {
  const size_t n = it->cfg->nthreads ? it->cfg->nthreads : 1;
  for (size_t i = 0; i < n; i++)
    if (eval_speed_threads(it, it->cfg->nthreads ? it->cfg->threads[i] : 1, err)) return -1;
  return qb_quant_set_threads(it->q, 1, err) || qb_model_set_threads(&it->em->m, 1, err) ? -1 : 0;
}

int qb_eval_memory(qb_eval_item* it, qb_error* err) {
  qb_model* m = &it->em->m;
  if (m->batch != 1 && qb_model_prepare(m, 1, err)) return -1;
  size_t bytes = 0, params = 0, fp32_bytes = 0;
  for (size_t k = 0; k < m->nnodes; k++) {
    qb_quant_layer_info li;
    qb_quant_layer(it->q, k, &li);
    if (!li.quantized) continue;
    bytes += li.weight_bytes, params += li.weight_numel;
    fp32_bytes += li.weight_numel * sizeof(float);
    if (qb_eval_row(it, li.name ? li.name : m->nodes[k].name, li.kernel, 1, "bytes_weights", (double)li.weight_bytes,
                    "bytes", err))
      return -1;
  }
  /* peak_rss: the item's resident high-water mark (reset when the item began, see
   * qb_peak_rss.h); where the kernel cannot reset it, the figure the item needs by
   * construction: activation arena + packed weights + the fp32 weights they come from. */
  size_t peak = 0;
  if (!it->rss_reset || !qb_peak_rss_read(&peak)) peak = m->arena_bytes + bytes + fp32_bytes;
  const char* name = it->model_name;
  return qb_eval_row(it, name, "", 1, "bytes_weights", (double)bytes, "bytes", err) ||
                 qb_eval_row(it, name, "", 1, "effective_bits",
                             params ? 8.0 * (double)bytes / (double)params : NAN, "", err) ||
                 qb_eval_row(it, name, "", 1, "bytes_arena", (double)m->arena_bytes, "bytes", err) ||
                 qb_eval_row(it, name, "", 1, "peak_rss", (double)peak, "bytes", err)
             ? -1
             : 0;
}
