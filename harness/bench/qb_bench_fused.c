/* The u8 x s8 GEMM with the fused requantizing epilogue, as the integer model run
 * uses it (harness/qruntime/qb_model_qlayer.c, gemm_fused): qb_gemm_threaded_run_fused
 * computes blocks of int32 accumulators into per-thread scratch and the epilogue
 * requantizes each block to u8 while it is cache-hot (acc + bias[n], per-channel
 * scale, output zero point 0..255 clamp), by the table of the GEMM's own backend:
 *   rule:fp32      qs32_q8_requantize_fp32 (float scale, round half to even)
 *   rule:gemmlowp  qs32_q8_requantize_gemmlowp (Q31 multiplier and shift)
 * Names gemm-fused/<gemm kernel>/rule:<rule>/M:<M>/N:<N>/K:<K>/threads:<T>. No
 * M x N int32 matrix is written: bytes per call count u8 outputs (out_bytes = 1). */
#include <stdlib.h>

#include "qb_bench_ours.h"

typedef struct {
  qb_bench_ours_state* g;
  bool gemmlowp;
  const qb_dispatch_table* table; /* of the GEMM entry's backend */
  int32_t* acc;                   /* threads x blk scratch */
  size_t blk;
  int32_t* bias;
  float* scale;
  qb_fixedpoint_multiplier* mult;
  uint8_t* y; /* M x N */
} fused_state;

static void fused_destroy(void* p) {
  fused_state* s = p;
  if (!s) return;
  qb_bench_ours_destroy(s->g);
  free(s->acc), free(s->bias), free(s->scale), free(s->mult), free(s->y);
  free(s);
}

/* Per-channel requantization parameters of a plausible layer (scales ~ 1/2^12). */
static void fill_params(fused_state* s, size_t N) {
  for (size_t n = 0; n < N; n++) {
    s->bias[n] = (int32_t)(n * 37 % 1000) - 500;
    s->scale[n] = (1.0f + (float)(n % 5) / 8.0f) / 4096.0f;
    s->mult[n] = qb_fixedpoint_multiplier_from_double((double)s->scale[n]);
  }
}

static void* fused_create(bool gemmlowp, const qb_bench_impl* impl, const qb_bench_shape* sh,
                          int threads, size_t copies, qb_error* err) {
  fused_state* s = calloc(1, sizeof *s);
  if (!s) return qb_fail(err, "out of memory"), NULL;
  s->gemmlowp = gemmlowp;
  s->table = qb_dispatch_get((qb_backend)impl->kernel_backend);
  if (!s->table) {
    free(s);
    return qb_fail(err, "backend %s is not usable", impl->backend), NULL;
  }
  if (!(s->g = qb_bench_ours_create(impl, sh, threads, copies, err))) {
    free(s);
    return NULL;
  }
  s->blk = qb_gemm_threaded_block_elems(&s->g->w[0]);
  s->acc = malloc((size_t)threads * s->blk * sizeof *s->acc);
  s->bias = malloc(sh->N * sizeof *s->bias);
  s->scale = malloc(sh->N * sizeof *s->scale);
  s->mult = malloc(sh->N * sizeof *s->mult);
  s->y = malloc(sh->M * sh->N);
  if (!s->acc || !s->bias || !s->scale || !s->mult || !s->y) {
    fused_destroy(s);
    return qb_fail(err, "out of memory for M=%zu N=%zu", sh->M, sh->N), NULL;
  }
  fill_params(s, sh->N);
  return s;
}

static void* fp32_create(const qb_bench_impl* impl, const qb_bench_shape* sh, int threads,
                         size_t copies, qb_error* err) {
  return fused_create(false, impl, sh, threads, copies, err);
}

static void* gemmlowp_create(const qb_bench_impl* impl, const qb_bench_shape* sh, int threads,
                             size_t copies, qb_error* err) {
  return fused_create(true, impl, sh, threads, copies, err);
}

/* Rows [m0, m0 + m), columns [n0, n0 + n) of the output, from the block in acc. */
static void epilogue(void* ctx, size_t thread, size_t m0, size_t m, size_t n0, size_t n,
                     const int32_t* acc, size_t ldacc) {
  (void)thread;
  const fused_state* s = ctx;
  const size_t N = s->g->N;
  uint8_t* y = s->y + m0 * N + n0;
  if (s->gemmlowp)
    s->table->qs32_q8_requantize_gemmlowp->qs32_qu8(m, n, acc, ldacc, s->bias + n0, s->mult + n0,
                                                    3, 0, 255, y, N);
  else
    s->table->qs32_q8_requantize_fp32->qs32_qu8(m, n, acc, ldacc, s->bias + n0, s->scale + n0, 3,
                                                0, 255, y, N);
}

static void fused_run(void* p, size_t copy) {
  fused_state* s = p;
  const qb_gemm_epilogue ep = {epilogue, s, s->acc, s->blk};
  qb_gemm_threaded_run_fused(&s->g->w[copy], s->g->pool, s->g->M, s->g->A, s->g->K, 128, &ep);
}

static size_t fused_weight_bytes(const qb_bench_impl* impl, size_t N, size_t K) {
  return ((const qb_qu8_qs8_qs32_gemm_entry*)impl->entry)->info.packed_size(N, K);
}

/* The Fashion-MNIST MLP's first layer (784 -> 256) at batch 1 and 64, and a
 * transformer-sized projection (1024 x 1024 at 128 tokens). */
static const qb_bench_shape k_fused_shapes[] = {{1, 256, 784}, {64, 256, 784}, {128, 1024, 1024}};

size_t qb_bench_fused_shapes(const qb_bench_shape** shapes) {
  *shapes = k_fused_shapes;
  return sizeof k_fused_shapes / sizeof k_fused_shapes[0];
}

size_t qb_bench_fused(qb_bench_impl* out, size_t max) {
  size_t count, n = 0;
  const qb_qu8_qs8_qs32_gemm_entry* list = qb_qu8_qs8_qs32_gemm_entries(&count);
  for (size_t i = 0; i < count; i++)
    for (int rule = 0; rule < 2 && n < max; rule++)
      out[n++] = (qb_bench_impl){.family = "gemm-fused",
                                 .name = list[i].info.name,
                                 .variant = rule ? "rule:gemmlowp" : "rule:fp32",
                                 .out_bytes = 1.0,
                                 .backend = qb_backend_name(list[i].info.backend),
                                 .entry = &list[i],
                                 .kernel_backend = (int)list[i].info.backend,
                                 .weight_bytes = fused_weight_bytes,
                                 .create = rule ? gemmlowp_create : fp32_create,
                                 .run = fused_run,
                                 .destroy = fused_destroy};
  return n;
}
