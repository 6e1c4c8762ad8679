/* Registration and the timed loop shared by every GEMM benchmark (ours and peers).
 * See qb_bench_gemm.h for what is measured and how. */
#include "qb_bench_gemm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isa/qb_isa.h"
#include "qb_gbench.h"

enum { QB_BENCH_MAX_COPIES = 64 };
#define QB_BENCH_MAX_COPY_BYTES (1024.0 * 1024.0 * 1024.0)

typedef struct {
  qb_bench_impl impl;
  qb_bench_shape shape;
  int threads;
  size_t copies;
  double bytes_per_call; /* one weight copy + A (u8 or f32) + C (s32 or f32) */
  double peak_gops, dram_gbs;
  void* state; /* alive while this benchmark is the current one */
  char error[1024];
} gemm_case;

static gemm_case* g_live; /* the case whose state is allocated */
static gemm_case** g_cases; /* every registered case, freed by qb_bench_gemm_release */
static size_t g_ncases, g_cases_cap;

static void release_live(void) {
  if (g_live && g_live->state) g_live->impl.destroy(g_live->state);
  if (g_live) g_live->state = NULL;
  g_live = NULL;
}

void qb_bench_gemm_release(void) {
  release_live();
  for (size_t i = 0; i < g_ncases; i++) free(g_cases[i]);
  free(g_cases);
  g_cases = NULL;
  g_ncases = g_cases_cap = 0;
}

static int remember(gemm_case* c) {
  if (g_ncases == g_cases_cap) {
    const size_t cap = g_cases_cap ? 2 * g_cases_cap : 64;
    gemm_case** grown = realloc(g_cases, cap * sizeof *grown);
    if (!grown) return -1;
    g_cases = grown;
    g_cases_cap = cap;
  }
  g_cases[g_ncases++] = c;
  return 0;
}

static const qb_roofline_entry* roof_entry(const qb_roofline* r, const char* name) {
  const qb_roofline_entry* e = r ? qb_roofline_find(r, name) : NULL;
  return e && e->measured ? e : NULL;
}

/* Linear in the thread count between the 1-thread and the N-thread figure. */
static double at_threads(const qb_roofline* r, const qb_roofline_entry* e, int threads) {
  if (!e) return 0.0;
  if (threads <= 1 || r->threads <= 1) return e->t1;
  if (threads >= r->threads) return e->tn;
  return e->t1 + (e->tn - e->t1) * (double)(threads - 1) / (double)(r->threads - 1);
}

/* The ceiling that matches how each backend's kernel multiplies (the backend table's
 * roof_int8 / roof_fp32: VNNI for avx512vnni, exact int16 vpmaddwd for avx2 and
 * sse41, the saturating vpmaddubsw chain for avx2-sat). Scalar has no SIMD ceiling. */
double qb_bench_peak_gops(const qb_roofline* r, const qb_bench_impl* impl, int threads) {
  qb_backend b;
  if (!r || qb_backend_from_name(impl->backend, strlen(impl->backend), &b) != 0) return 0.0;
  const qb_backend_desc* d = qb_backend_describe(b);
  const char* name = impl->fp32 ? d->roof_fp32 : d->roof_int8;
  return name ? at_threads(r, roof_entry(r, name), threads) : 0.0;
}

double qb_bench_dram_gbs(const qb_roofline* r, int threads) {
  return r ? at_threads(r, roof_entry(r, "read_dram"), threads) : 0.0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void bm_gemm(qb_gbench_state* st, void* user) {
  gemm_case* c = user;
  if (g_live != c) {
    release_live();
    qb_error err;
    c->state = c->impl.create(&c->impl, &c->shape, c->threads, c->copies, &err);
    if (!c->state) {
      snprintf(c->error, sizeof c->error, "%s", err.msg);
      qb_gbench_skip_with_error(st, c->error);
      return;
    }
    g_live = c;
    c->impl.run(c->state, 0); /* warm-up: first-touch, thread start, lazy init */
  }
  size_t copy = 0;
  const double t0 = now_s();
  while (qb_gbench_keep_running(st)) {
    c->impl.run(c->state, copy);
    if (++copy == c->copies) copy = 0;
  }
  const double wall = now_s() - t0;
  const double iters = (double)qb_gbench_iterations(st);
  const double ops = 2.0 * (double)c->shape.M * (double)c->shape.N * (double)c->shape.K;
  qb_gbench_set_rate_counter_per_iteration(st, "OPS", ops);
  qb_gbench_set_bytes_processed(st, (int64_t)(c->bytes_per_call * iters));
  qb_gbench_set_counter(st, "bytes_per_call", c->bytes_per_call);
  qb_gbench_set_counter(st, "weight_copies", (double)c->copies);
  if (wall > 0 && iters > 0) {
    if (c->peak_gops > 0)
      qb_gbench_set_counter(st, "pct_of_peak", 100.0 * ops * iters / wall / (c->peak_gops * 1e9));
    if (c->shape.M == 1 && c->dram_gbs > 0)
      qb_gbench_set_counter(st, "pct_of_dram_bw",
                            100.0 * c->bytes_per_call * iters / wall / (c->dram_gbs * 1e9));
  }
  qb_gbench_set_label(st, c->impl.backend[0] ? c->impl.backend : "-");
}

/* Memory-bound (intensity below the ridge point) shapes rotate weight copies
 * totalling more than twice the LLC. */
static size_t weight_copies(const qb_bench_setup* s, double weight_bytes, double int8_bytes,
                            double ops, double peak_gops, double dram_gbs) {
  if (s->llc_bytes <= 0 || weight_bytes <= 0) return 1;
  const double ridge = peak_gops > 0 && dram_gbs > 0 ? peak_gops / dram_gbs
                                                     : 8.0; /* no roofline: 8 ops/byte */
  const bool memory_bound = ops / int8_bytes < ridge;
  if (!memory_bound) return 1;
  double n = ceil(2.0 * (double)s->llc_bytes / weight_bytes) + 1.0;
  /* Weights so small that even QB_BENCH_MAX_COPIES copies stay in the LLC are
   * cache-resident in any real run too: measure them so, with one copy. */
  if (n > QB_BENCH_MAX_COPIES) return 1;
  const double cap = floor(QB_BENCH_MAX_COPY_BYTES / weight_bytes);
  if (n > cap) n = cap;
  return n < 1 ? 1 : (size_t)n;
}

int qb_bench_register_gemm(const qb_bench_setup* setup, const qb_bench_impl* impl,
                           const qb_bench_shape* shape, int threads) {
  gemm_case* c = calloc(1, sizeof *c);
  if (!c) return -1;
  c->impl = *impl;
  c->shape = *shape;
  c->threads = threads;
  const double M = (double)shape->M, N = (double)shape->N, K = (double)shape->K;
  const double elem = impl->fp32 ? 4.0 : 1.0, out = impl->out_bytes > 0 ? impl->out_bytes : 4.0;
  const double wbytes = (double)impl->weight_bytes(impl, shape->N, shape->K);
  c->bytes_per_call = wbytes + M * K * elem + M * N * out;
  c->peak_gops = qb_bench_peak_gops(setup->roofline, impl, threads);
  c->dram_gbs = qb_bench_dram_gbs(setup->roofline, threads);
  /* Memory-bound or not is a property of the shape, decided once for every
   * implementation and thread count: int8 bytes (N*K + M*K + 4*M*N) against the
   * 1-thread ridge point of the best int8 backend. Only the number of copies
   * depends on how large the implementation stores its weights. */
  const qb_bench_impl best = {
      .backend = qb_backend_name(qb_backend_best_of(qb_isa_built() & qb_isa_detected()))};
  const double ridge_peak = qb_bench_peak_gops(setup->roofline, &best, 1);
  c->copies = weight_copies(setup, wbytes, N * K + M * K + 4.0 * M * N, 2.0 * M * N * K,
                            ridge_peak, qb_bench_dram_gbs(setup->roofline, 1));
  char name[256];
  snprintf(name, sizeof name, "%s/%s%s%s/M:%zu/N:%zu/K:%zu/threads:%d",
           impl->family ? impl->family : "gemm", impl->name, impl->variant ? "/" : "",
           impl->variant ? impl->variant : "", shape->M, shape->N, shape->K, threads);
  qb_gbench_options o = qb_gbench_default_options();
  o.use_real_time = true;
  o.threads = threads;
  o.unit = QB_GBENCH_UNIT_US;
  if (remember(c) != 0) {
    free(c);
    return -1;
  }
  return qb_gbench_register(name, bm_gemm, c, &o);
}
