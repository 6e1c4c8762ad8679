/* Convolution benchmarks (depthwise families, im2col). See qb_bench_conv.h. */
#include "qb_bench_conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qb_dwconv_threaded.h"
#include "qb_gbench.h"
#include "qb_im2col_threaded.h"
#include "qb_thread_pool.h"

typedef enum { CONV_FUSED, CONV_GEMMLOWP, CONV_S32, CONV_IM2COL } conv_kind;

typedef struct {
  size_t C, H, W, k, stride;
} conv_layer;

static const conv_layer k_depthwise[] = {
    {16, 14, 14, 3, 1}, {32, 14, 14, 3, 2}, {64, 7, 7, 3, 1},
    {128, 7, 7, 3, 2},  {128, 14, 14, 3, 1}, {72, 28, 28, 5, 2},
};
static const conv_layer k_im2col[] = {
    {1, 28, 28, 3, 1}, {16, 14, 14, 3, 1}, {1, 28, 28, 3, 2}, {64, 7, 7, 1, 1},
};

typedef struct {
  conv_kind kind;
  const void* entry;
  const char* backend;
  qb_conv2d_shape shape;
  int threads;
  double peak_gops;
  char error[1024];
} conv_case;

static conv_case** g_cases;
static size_t g_ncases, g_cap;

void qb_bench_conv_release(void) {
  for (size_t i = 0; i < g_ncases; i++) free(g_cases[i]);
  free(g_cases);
  g_cases = NULL;
  g_ncases = g_cap = 0;
}

/* Buffers of one benchmark, alive during its function call. */
typedef struct {
  const conv_case* c;
  qb_thread_pool* pool;
  uint8_t *x, *y8, *cols;
  int8_t* w;
  int32_t *wzp, *bias, *y32;
  float* scale;
  qb_fixedpoint_multiplier* mult;
} conv_state;

static void state_free(conv_state* s) {
  qb_thread_pool_destroy(s->pool);
  free(s->x), free(s->y8), free(s->cols), free(s->w), free(s->wzp), free(s->bias), free(s->y32);
  free(s->scale), free(s->mult);
}

static int state_init(conv_state* s, const conv_case* c, qb_error* err) {
  memset(s, 0, sizeof *s);
  s->c = c;
  const qb_conv2d_shape* sh = &c->shape;
  const size_t C = sh->out_channels, taps = sh->kernel_h * sh->kernel_w;
  const size_t in = sh->in_channels * sh->in_h * sh->in_w;
  const size_t P = qb_conv2d_out_h(sh) * qb_conv2d_out_w(sh);
  s->x = malloc(in);
  s->w = malloc(C * taps);
  s->wzp = calloc(C, sizeof *s->wzp);
  s->bias = malloc(C * sizeof *s->bias);
  s->scale = malloc(C * sizeof *s->scale);
  s->mult = malloc(C * sizeof *s->mult);
  s->y8 = malloc(C * P);
  s->y32 = malloc(C * P * sizeof *s->y32);
  s->cols = malloc(P * sh->in_channels / sh->groups * taps);
  if (!s->x || !s->w || !s->wzp || !s->bias || !s->scale || !s->mult || !s->y8 || !s->y32 || !s->cols) {
    state_free(s);
    return qb_fail(err, "conv benchmark: out of memory");
  }
  uint32_t r = 7u;
  for (size_t i = 0; i < in; i++) s->x[i] = (uint8_t)((r = r * 1664525u + 1013904223u) >> 24);
  for (size_t i = 0; i < C * taps; i++) s->w[i] = (int8_t)((r = r * 1664525u + 1013904223u) >> 24);
  for (size_t i = 0; i < C; i++) s->bias[i] = (int32_t)(i * 37) - 500, s->scale[i] = 1.0f / 512.0f,
    s->mult[i] = qb_fixedpoint_multiplier_from_double(1.0 / 512.0);
  s->pool = qb_thread_pool_create((size_t)c->threads, true, err);
  if (!s->pool) {
    state_free(s);
    return -1;
  }
  return 0;
}

/* The int32 family has no channel range: task t runs it on a shape restricted to its
 * channels (depthwise, multiplier 1), at their offsets. */
static void s32_task(void* ctx, size_t task, size_t thread) {
  (void)thread;
  const conv_state* s = ctx;
  const qb_conv2d_shape* sh = &s->c->shape;
  const size_t T = (size_t)s->c->threads, C = sh->out_channels;
  const size_t c0 = task * C / T, c1 = (task + 1) * C / T;
  if (c0 >= c1) return;
  qb_conv2d_shape part = *sh;
  part.in_channels = part.out_channels = part.groups = c1 - c0;
  const size_t taps = sh->kernel_h * sh->kernel_w;
  const size_t P = qb_conv2d_out_h(sh) * qb_conv2d_out_w(sh);
  const qb_qu8_qs8_qs32_dwconv2d_entry* e = s->c->entry;
  e->run(&part, s->x + c0 * sh->in_h * sh->in_w, 128, s->w + c0 * taps, s->wzp + c0,
         s->y32 + c0 * P);
}

static void run_once(conv_state* s) {
  const conv_case* c = s->c;
  if (c->kind == CONV_FUSED || c->kind == CONV_GEMMLOWP) {
    const qb_dwconv_args a = {&c->shape, s->x, 128, s->w, s->wzp, s->bias, s->scale, s->mult,
                              0, 0, 255, s->y8};
    if (c->kind == CONV_FUSED)
      qb_dwconv_threaded_run(c->entry, s->pool, &a);
    else
      qb_dwconv_threaded_run_gemmlowp(c->entry, s->pool, &a);
  } else if (c->kind == CONV_S32) {
    qb_thread_pool_run(s->pool, (size_t)c->threads, s32_task, s);
  } else {
    qb_im2col_threaded_run(c->entry, s->pool, &c->shape, s->x, 0, 128, s->cols);
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void bm_conv(qb_gbench_state* st, void* user) {
  conv_case* c = user;
  conv_state s;
  qb_error err;
  if (state_init(&s, c, &err) != 0) {
    snprintf(c->error, sizeof c->error, "%s", err.msg);
    qb_gbench_skip_with_error(st, c->error);
    return;
  }
  run_once(&s); /* warm-up */
  const double t0 = now_s();
  while (qb_gbench_keep_running(st)) run_once(&s);
  const double wall = now_s() - t0, iters = (double)qb_gbench_iterations(st);
  const qb_conv2d_shape* sh = &c->shape;
  const double P = (double)(qb_conv2d_out_h(sh) * qb_conv2d_out_w(sh));
  const double taps = (double)(sh->kernel_h * sh->kernel_w);
  if (c->kind == CONV_IM2COL) {
    const double bytes = P * (double)(sh->in_channels / sh->groups) * taps;
    qb_gbench_set_bytes_processed(st, (int64_t)(bytes * iters));
    qb_gbench_set_counter(st, "bytes_per_call", bytes);
  } else {
    const double ops = 2.0 * taps * P * (double)sh->out_channels;
    qb_gbench_set_rate_counter_per_iteration(st, "OPS", ops);
    if (c->peak_gops > 0 && wall > 0 && iters > 0)
      qb_gbench_set_counter(st, "pct_of_peak", 100.0 * ops * iters / wall / (c->peak_gops * 1e9));
  }
  qb_gbench_set_label(st, c->backend);
  state_free(&s);
}

static int add_case(const qb_bench_setup* setup, conv_kind kind, const char* kernel,
                    const void* entry, qb_backend backend, const conv_layer* l, int threads) {
  conv_case* c = calloc(1, sizeof *c);
  if (!c) return -1;
  if (g_ncases == g_cap) {
    const size_t cap = g_cap ? 2 * g_cap : 64;
    conv_case** grown = realloc(g_cases, cap * sizeof *grown);
    if (!grown) {
      free(c);
      return -1;
    }
    g_cases = grown;
    g_cap = cap;
  }
  g_cases[g_ncases++] = c;
  const size_t pad = l->k / 2;
  const bool dw = kind != CONV_IM2COL;
  c->shape = (qb_conv2d_shape){1, l->C, l->H, l->W, dw ? l->C : 2 * l->C, l->k, l->k,
                               l->stride, l->stride, 1, 1, pad, pad, pad, pad, dw ? l->C : 1};
  c->kind = kind;
  c->entry = entry;
  c->backend = qb_backend_name(backend);
  c->threads = threads;
  const qb_bench_impl impl = {.backend = backend == QB_BACKEND_SCALAR ? "" : c->backend};
  c->peak_gops = qb_bench_peak_gops(setup->roofline, &impl, threads);
  char name[256];
  snprintf(name, sizeof name, "%s/%s/C:%zu/H:%zu/W:%zu/k:%zu/s:%zu/threads:%d",
           dw ? "dwconv" : "im2col", kernel, l->C, l->H, l->W, l->k, l->stride, threads);
  qb_gbench_options o = qb_gbench_default_options();
  o.use_real_time = true;
  o.threads = threads;
  o.unit = QB_GBENCH_UNIT_US;
  return qb_gbench_register(name, bm_conv, c, &o);
}

size_t qb_bench_register_conv(const qb_bench_setup* setup, const int* threads, size_t nthreads) {
  size_t n = 0, count;
  const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry* fused =
      qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entries(&count);
  const size_t nfused = count;
  const qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entry* gl =
      qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entries(&count);
  const size_t ngl = count;
  const qb_qu8_qs8_qs32_dwconv2d_entry* s32 = qb_qu8_qs8_qs32_dwconv2d_entries(&count);
  const size_t ns32 = count;
  const qb_qu8_im2col_entry* im = qb_qu8_im2col_entries(&count);
  const size_t nim = count;
  for (size_t t = 0; t < nthreads; t++) {
    for (size_t l = 0; l < sizeof k_depthwise / sizeof k_depthwise[0]; l++) {
      for (size_t i = 0; i < nfused; i++)
        if (qb_isa_usable(fused[i].info.backend))
          n += add_case(setup, CONV_FUSED, fused[i].info.name, &fused[i], fused[i].info.backend,
                        &k_depthwise[l], threads[t]) == 0;
      for (size_t i = 0; i < ngl; i++)
        if (qb_isa_usable(gl[i].info.backend))
          n += add_case(setup, CONV_GEMMLOWP, gl[i].info.name, &gl[i], gl[i].info.backend,
                        &k_depthwise[l], threads[t]) == 0;
      for (size_t i = 0; i < ns32; i++)
        if (qb_isa_usable(s32[i].info.backend))
          n += add_case(setup, CONV_S32, s32[i].info.name, &s32[i], s32[i].info.backend,
                        &k_depthwise[l], threads[t]) == 0;
    }
    for (size_t l = 0; l < sizeof k_im2col / sizeof k_im2col[0]; l++)
      for (size_t i = 0; i < nim; i++)
        if (qb_isa_usable(im[i].info.backend))
          n += add_case(setup, CONV_IM2COL, im[i].info.name, &im[i], im[i].info.backend,
                        &k_im2col[l], threads[t]) == 0;
  }
  return n;
}
