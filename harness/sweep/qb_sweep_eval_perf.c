/* Speed and memory of one item; speed of a group of items together.
 *
 * Latency is measured at batch 1 (one image, the deployment case) by Google Benchmark
 * through the shim (harness/bench/qb_gbench.h): one benchmark per item and thread
 * count, `model/<item id>/threads:<T>`, real time. Per thread count, the items of a
 * group (qb_sweep_eval_speed_group) are timed together:
 *   1. warm-up: each item's benchmark runs once, unrecorded (caches, branch predictors
 *      and the thread pool warm);
 *   2. `repetitions` rounds; round r times one repetition of every item (Google
 *      Benchmark sizing its iteration count to at least the config's min_time_ms, which warms
 *      that item up again after the others ran) in the order
 *      qb_sweep_interleave_item(n, r, .) (each round starts one item later), so a
 *      burst of machine noise spreads over items instead of landing on one item's
 *      consecutive repetitions.
 * Each repetition's wall time per inference is a latency_sample and one entry of the
 * run's gbench.json (an item's repetitions are its entries of one name). Per-layer
 * times are the intervals between consecutive node hooks, summed over the iterations
 * of a repetition and divided by their count (a layer's time includes the hook's
 * clock read, ~20 ns). The fp32 model is one more benchmark of every group, timed in
 * the same rounds: the baseline of speedup_over_fp32, and the denominator of each
 * repetition's latency_rel_sample (item / fp32 of the same round), which a gate on a
 * machine whose speed drifts for seconds at a time can judge instead of raw times. */
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

size_t qb_sweep_interleave_item(size_t n, size_t round, size_t slot) {
  return n ? (round + slot) % n : 0;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return 1e9 * (double)t.tv_sec + (double)t.tv_nsec;
}

/* One benchmark (item x thread count, or the fp32 model x thread count). */
typedef struct {
  qb_eval_item* it;
  bool fp32;       /* the fp32 model (no quantization state) */
  size_t nn, reps;
  char name[QB_PLAN_ID_MAX + 64];
  long rep;        /* repetition being timed; -1 during the warm-up */
  double last;     /* clock at the previous hook */
  double* node_ns; /* per node, summed over the current call's iterations */
  double* layer;   /* [node][rep]: per-iteration node time */
  double* e2e;     /* per repetition, from Google Benchmark */
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

/* The benchmark function (called once per iteration-count trial; the last call is the
 * repetition Google Benchmark reports). */
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
  if (b->rep < 0) return;
  for (size_t k = 0; k < b->nn; k++)
    b->layer[k * b->reps + (size_t)b->rep] = n > 0 ? b->node_ns[k] / (double)n : 0.0;
}

static void on_repetition(const qb_gbench_repetition* rep, void* user) {
  bench* b = user;
  if (rep->error) b->failed = true;
  if (b->rep >= 0) b->e2e[b->rep] = rep->real_ns_per_iteration;
}

/* Registers and runs b's benchmark once: the warm-up (rep < 0, nothing written) or
 * repetition b->rep (its JSON appended to the run's gbench.json). Google Benchmark
 * sizes the iteration count each time (1, 10, ... calls until min_time_ms) and
 * reports the last call, whose node times bm_model keeps. */
static int run_benchmark(bench* b, int threads, qb_error* err) {
  qb_gbench_options o = qb_gbench_default_options();
  /* No fixed iteration count and no repetition count: either would enter the name
   * (".../iterations:N/repeats:R"), which must stay the same run to run for compare. */
  o.min_time_s = 1e-3 * b->it->cfg->min_time_ms;
  o.use_real_time = true;
  o.threads = threads;
  if (qb_gbench_register(b->name, bm_model, b, &o))
    return qb_fail(err, "%s: cannot register", b->name);
  const char* json = b->rep < 0 ? NULL : b->it->gbench_json;
  const int n = qb_gbench_run_collect(json, on_repetition, b);
  if (n < 0) return qb_fail(err, "%s: cannot write %s", b->name, json);
  if (b->failed)
    return qb_fail(err, "%s: %s", b->name, b->run_err.msg[0] ? b->run_err.msg : "benchmark failed");
  if (n != 1) return qb_fail(err, "%s: no repetition reported", b->name);
  return 0;
}

static int bench_init(bench* b, qb_eval_item* it, bool fp32, int threads, qb_error* err) {
  const size_t nn = it->em->m.nnodes, reps = (size_t)(it->cfg->repetitions > 0 ? it->cfg->repetitions : 1);
  *b = (bench){.it = it,
               .fp32 = fp32,
               .nn = nn,
               .reps = reps,
               .rep = -1,
               .node_ns = calloc(nn ? nn : 1, sizeof(double)),
               .layer = calloc((nn ? nn : 1) * reps, sizeof(double)),
               .e2e = calloc(reps, sizeof(double))};
  if (fp32) snprintf(b->name, sizeof b->name, "model-fp32/%s/threads:%d", it->model_name, threads);
  else snprintf(b->name, sizeof b->name, "model/%s/threads:%d", it->item->id, threads);
  return b->node_ns && b->layer && b->e2e ? 0 : qb_fail(err, "out of memory");
}

static void bench_free(bench* b) { free(b->node_ns), free(b->layer), free(b->e2e); }

/* Warm-up of every benchmark, then the interleaved rounds (see the header). */
static int time_interleaved(bench* b, size_t n, int threads, qb_error* err) {
  for (size_t k = 0; k < n; k++)
    if (run_benchmark(&b[k], threads, err)) return -1;
  const size_t reps = n ? b[0].reps : 0;
  for (size_t r = 0; r < reps; r++)
    for (size_t slot = 0; slot < n; slot++) {
      bench* x = &b[qb_sweep_interleave_item(n, r, slot)];
      x->rep = (long)r;
      if (run_benchmark(x, threads, err)) return -1;
    }
  return 0;
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

/* The rows of one timed item: end to end, relative to the fp32 model timed in the
 * same rounds (one latency_rel_sample per round: the machine's slow and fast states,
 * which last seconds here, cancel in the ratio), the fp32 baseline, and per node. */
static int speed_rows(bench* b, int threads, const bench* fp32, qb_error* err) {
  qb_eval_item* it = b->it;
  const qb_model* m = &it->em->m;
  const size_t reps = b->reps;
  const double fp32_ns = qb_median(fp32->e2e, fp32->reps);
  int rc = latency_rows(it, it->model_name, "", threads, b->e2e, reps, err);
  for (size_t r = 0; !rc && r < reps; r++)
    rc = qb_eval_row(it, it->model_name, "", threads, "latency_rel_sample",
                     b->e2e[r] / fp32->e2e[r], "", err);
  if (!rc)
    rc = qb_eval_row(it, it->model_name, qb_model_f32_gemm_name(), threads, "latency_fp32_median",
                     fp32_ns, "ns", err) ||
                 qb_eval_row(it, it->model_name, "", threads, "speedup_over_fp32",
                             fp32_ns / qb_median(b->e2e, reps), "", err)
             ? -1
             : 0;
  for (size_t k = 0; !rc && k < b->nn; k++) {
    const char* path = qb_probe_node_path(it->q, k);
    if (path) { /* one median row: too short to gate on, there to show where time goes */
      char kernel[64];
      snprintf(kernel, sizeof kernel, "%s %s", path, qb_op_name(m->nodes[k].op));
      rc = qb_eval_row(it, m->nodes[k].name, kernel, threads, "latency_median",
                       qb_median(b->layer + k * reps, reps), "ns", err);
      continue;
    }
    if (!qb_probe_is_layer(it->q, k)) continue;
    qb_quant_layer_info li;
    qb_quant_layer(it->q, k, &li);
    rc = latency_rows(it, li.name ? li.name : m->nodes[k].name, li.kernel, threads,
                      b->layer + k * reps, reps, err);
  }
  return rc;
}

/* Batch-1 latency of n items on `threads` threads: the int8 GEMM and int4 kernels and
 * the fp32 ops (layers left in fp32, weight-only layers) all get the same count, so an
 * fp32 item and an int8 item at T threads compare like with like. Results are
 * identical for any count, only time changes. The items share one model. */
static int speed_threads(qb_eval_item* const* items, size_t n, int threads, qb_error* err) {
  qb_model* m = &items[0]->em->m;
  if (qb_model_set_threads(m, (size_t)threads, err)) return -1;
  if (m->batch != 1 && qb_model_prepare(m, 1, err)) return -1;
  /* b[n]: the fp32 model, timed in the same rounds as the items. */
  bench* b = calloc(n + 1, sizeof *b);
  if (!b) return qb_fail(err, "out of memory");
  int rc = 0;
  size_t ready = 0;
  for (; !rc && ready < n; ready++)
    rc = qb_quant_set_threads(items[ready]->q, (size_t)threads, err) ||
         bench_init(&b[ready], items[ready], false, threads, err);
  if (!rc) {
    ready = n + 1; /* b[n] is freed below whatever bench_init left in it */
    rc = bench_init(&b[n], items[0], true, threads, err);
  }
  if (!rc) rc = time_interleaved(b, n + 1, threads, err);
  for (size_t k = 0; !rc && k < n; k++) rc = speed_rows(&b[k], threads, &b[n], err);
  for (size_t k = 0; k < ready; k++) bench_free(&b[k]);
  free(b);
  return rc;
}

int qb_eval_speed_group(qb_eval_item* const* items, size_t n, qb_error* err) {
  if (!n) return 0;
  const qb_sweep_config* cfg = items[0]->cfg;
  const size_t nt = cfg->nthreads ? cfg->nthreads : 1;
  for (size_t i = 0; i < nt; i++)
    if (speed_threads(items, n, cfg->nthreads ? cfg->threads[i] : 1, err)) return -1;
  for (size_t k = 0; k < n; k++)
    if (qb_quant_set_threads(items[k]->q, 1, err)) return -1;
  return qb_model_set_threads(&items[0]->em->m, 1, err);
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
