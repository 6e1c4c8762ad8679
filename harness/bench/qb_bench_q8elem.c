/* Quantize, dequantize and requantize benchmarks. See qb_bench_q8elem.h. */
#include "qb_bench_q8elem.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "qb_gbench.h"
#include "qb_thread_pool.h"

typedef enum { EL_QUANTIZE, EL_DEQUANTIZE, EL_REQ_FP32, EL_REQ_GEMMLOWP } elem_kind;

enum { SMALL_N = 16384, CHANNELS = 256 };

typedef struct {
  elem_kind kind;
  const void* entry;
  const char* backend;
  size_t n;
  int threads;
  bool dram;       /* the DRAM-sized case: report pct_of_dram_bw */
  double dram_gbs; /* DRAM read bandwidth on this many threads; 0: unknown */
  char error[1024];
} elem_case;

/* Buffers of the case that ran last, kept while Google Benchmark calls it again. */
typedef struct {
  const elem_case* c;
  qb_thread_pool* pool;
  float* f;    /* n: quantize input, dequantize output */
  uint8_t* u8; /* n: quantize / requantize output, dequantize input */
  int32_t* acc; /* n: requantize input */
  int32_t bias[CHANNELS];
  float scale[CHANNELS];
  qb_fixedpoint_multiplier mult[CHANNELS];
} elem_state;

static elem_case** g_cases;
static size_t g_ncases, g_cap;
static elem_state g_live;

static void live_free(void) {
  qb_thread_pool_destroy(g_live.pool);
  free(g_live.f), free(g_live.u8), free(g_live.acc);
  g_live = (elem_state){0};
}

void qb_bench_q8elem_release(void) {
  live_free();
  for (size_t i = 0; i < g_ncases; i++) free(g_cases[i]);
  free(g_cases);
  g_cases = NULL;
  g_ncases = g_cap = 0;
}

static bool is_requantize(elem_kind k) { return k == EL_REQ_FP32 || k == EL_REQ_GEMMLOWP; }

/* Inputs that exercise every path: floats over [-3, 3) with scale 1/64 (some clamp),
 * accumulators over +-2^17 (products of a K ~ 1000 layer). */
static void fill(elem_state* s, size_t n) {
  uint32_t x = 99u;
  for (size_t i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    if (s->f) s->f[i] = (float)(x >> 8) / (float)(1u << 24) * 6.0f - 3.0f;
    if (s->u8) s->u8[i] = (uint8_t)(x >> 24);
    if (s->acc) s->acc[i] = (int32_t)(x >> 14) - (1 << 17);
  }
  for (size_t c = 0; c < CHANNELS; c++) {
    s->bias[c] = (int32_t)(c * 37 % 1000) - 500;
    s->scale[c] = (1.0f + (float)(c % 5) / 8.0f) / 2048.0f;
    s->mult[c] = qb_fixedpoint_multiplier_from_double((double)s->scale[c]);
  }
}

static int live_make(const elem_case* c, qb_error* err) {
  live_free();
  const bool req = is_requantize(c->kind);
  g_live.c = c;
  g_live.f = req ? NULL : malloc(c->n * sizeof *g_live.f);
  g_live.u8 = malloc(c->n);
  g_live.acc = req ? malloc(c->n * sizeof *g_live.acc) : NULL;
  if (!g_live.u8 || (req ? !g_live.acc : !g_live.f)) {
    live_free();
    return qb_fail(err, "out of memory for n=%zu", c->n);
  }
  fill(&g_live, c->n);
  if (!(g_live.pool = qb_thread_pool_create((size_t)c->threads, true, err))) {
    live_free();
    return -1;
  }
  return 0;
}

/* Task t: elements [t*n/T, (t+1)*n/T) in whole 64-element blocks (requantize: rows). */
static void elem_task(void* ctx, size_t t, size_t thread) {
  (void)thread;
  const elem_state* s = ctx;
  const elem_case* c = s->c;
  const size_t T = (size_t)c->threads;
  if (is_requantize(c->kind)) {
    const size_t rows = c->n / CHANNELS, r0 = t * rows / T, r1 = (t + 1) * rows / T;
    const int32_t* acc = s->acc + r0 * CHANNELS;
    uint8_t* y = s->u8 + r0 * CHANNELS;
    if (c->kind == EL_REQ_FP32)
      ((const qb_qs32_q8_requantize_fp32_entry*)c->entry)
          ->qs32_qu8(r1 - r0, CHANNELS, acc, CHANNELS, s->bias, s->scale, 3, 0, 255, y, CHANNELS);
    else
      ((const qb_qs32_q8_requantize_gemmlowp_entry*)c->entry)
          ->qs32_qu8(r1 - r0, CHANNELS, acc, CHANNELS, s->bias, s->mult, 3, 0, 255, y, CHANNELS);
    return;
  }
  const size_t blocks = c->n / 64, i0 = t * blocks / T * 64, i1 = (t + 1) * blocks / T * 64;
  if (c->kind == EL_QUANTIZE)
    ((const qb_f32_q8_quantize_entry*)c->entry)
        ->f32_qu8(i1 - i0, s->f + i0, 1.0f / 64.0f, 128, 0, 255, QB_ROUND_DIV, s->u8 + i0);
  else
    ((const qb_q8_f32_dequantize_entry*)c->entry)
        ->qu8_f32(i1 - i0, s->u8 + i0, 1.0f / 64.0f, 128, s->f + i0);
}

static void run_once(void) {
  qb_thread_pool_run(g_live.pool, (size_t)g_live.c->threads, elem_task, &g_live);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double bytes_per_call(const elem_case* c) {
  const double params = is_requantize(c->kind) ? CHANNELS * 8.0 : 0.0;
  return 5.0 * (double)c->n + params;
}

static void bm_elem(qb_gbench_state* st, void* user) {
  elem_case* c = user;
  qb_error err;
  if (g_live.c != c) {
    if (live_make(c, &err) != 0) {
      snprintf(c->error, sizeof c->error, "%s", err.msg);
      qb_gbench_skip_with_error(st, c->error);
      return;
    }
    run_once(); /* warm-up: first touch, thread start */
  }
  const double t0 = now_s();
  while (qb_gbench_keep_running(st)) run_once();
  const double wall = now_s() - t0, iters = (double)qb_gbench_iterations(st);
  const double bytes = bytes_per_call(c);
  qb_gbench_set_bytes_processed(st, (int64_t)(bytes * iters));
  qb_gbench_set_counter(st, "bytes_per_call", bytes);
  qb_gbench_set_rate_counter_per_iteration(st, "OPS", (double)c->n);
  if (c->dram && c->dram_gbs > 0 && wall > 0 && iters > 0)
    qb_gbench_set_counter(st, "pct_of_dram_bw", 100.0 * bytes * iters / wall / (c->dram_gbs * 1e9));
  qb_gbench_set_label(st, c->backend);
}

static int remember(elem_case* c) {
  if (g_ncases == g_cap) {
    const size_t cap = g_cap ? 2 * g_cap : 64;
    elem_case** grown = realloc(g_cases, cap * sizeof *grown);
    if (!grown) return -1;
    g_cases = grown;
    g_cap = cap;
  }
  g_cases[g_ncases++] = c;
  return 0;
}

static const char* const k_op[] = {"quantize", "dequantize", "requantize", "requantize"};
static const char* const k_rule[] = {"", "", "rule:fp32/", "rule:gemmlowp/"};

static int add_case(const qb_bench_setup* setup, elem_kind kind, const qb_kernel_info* info,
                    const void* entry, size_t n, bool dram, int threads) {
  elem_case* c = calloc(1, sizeof *c);
  if (!c || remember(c) != 0) {
    free(c);
    return -1;
  }
  *c = (elem_case){.kind = kind, .entry = entry, .backend = qb_backend_name(info->backend),
                   .n = n, .threads = threads, .dram = dram,
                   .dram_gbs = qb_bench_dram_gbs(setup->roofline, threads)};
  char name[256];
  snprintf(name, sizeof name, "%s/%s/%sn:%zu/threads:%d", k_op[kind], info->name, k_rule[kind], n,
           threads);
  qb_gbench_options o = qb_gbench_default_options();
  o.use_real_time = true;
  o.threads = threads;
  o.unit = QB_GBENCH_UNIT_US;
  return qb_gbench_register(name, bm_elem, c, &o);
}

/* The smallest power of two >= 2^24 elements whose 5 bytes each exceed 2 x LLC. */
static size_t dram_n(const qb_bench_setup* setup) {
  size_t n = (size_t)1 << 24;
  while (5.0 * (double)n < 2.0 * (double)setup->llc_bytes && n < ((size_t)1 << 28)) n <<= 1;
  return n;
}

/* Both sizes of one entry on every thread count. */
static size_t add_entry(const qb_bench_setup* setup, elem_kind kind, const qb_kernel_info* info,
                        const void* entry, const int* threads, size_t nthreads) {
  if (!qb_isa_usable(info->backend)) return 0;
  size_t n = 0;
  for (size_t t = 0; t < nthreads; t++) {
    n += add_case(setup, kind, info, entry, SMALL_N, false, threads[t]) == 0;
    n += add_case(setup, kind, info, entry, dram_n(setup), true, threads[t]) == 0;
  }
  return n;
}

size_t qb_bench_register_q8elem(const qb_bench_setup* setup, const int* threads,
                                size_t nthreads) {
  size_t n = 0, count;
  const qb_f32_q8_quantize_entry* q = qb_f32_q8_quantize_entries(&count);
  for (size_t i = 0; i < count; i++) n += add_entry(setup, EL_QUANTIZE, &q[i].info, &q[i], threads, nthreads);
  const qb_q8_f32_dequantize_entry* d = qb_q8_f32_dequantize_entries(&count);
  for (size_t i = 0; i < count; i++) n += add_entry(setup, EL_DEQUANTIZE, &d[i].info, &d[i], threads, nthreads);
  const qb_qs32_q8_requantize_fp32_entry* rf = qb_qs32_q8_requantize_fp32_entries(&count);
  for (size_t i = 0; i < count; i++) n += add_entry(setup, EL_REQ_FP32, &rf[i].info, &rf[i], threads, nthreads);
  const qb_qs32_q8_requantize_gemmlowp_entry* rg = qb_qs32_q8_requantize_gemmlowp_entries(&count);
  for (size_t i = 0; i < count; i++)
    n += add_entry(setup, EL_REQ_GEMMLOWP, &rg[i].info, &rg[i], threads, nthreads);
  return n;
}
