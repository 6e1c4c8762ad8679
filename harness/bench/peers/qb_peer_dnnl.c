/* Peer: oneDNN int8 matmul, dst (M x N, s32) = src (M x K, u8) x weights (K x N, s8),
 * no zero points. The primitive is created once per benchmark with the weights'
 * format left to oneDNN (`any`); our N x K weights (oneDNN tag `ba` for K x N) are
 * reordered into that layout once, outside the timed loop, into every weight copy.
 * Debian's oneDNN threads with OpenMP: omp_set_num_threads(T) before each call.
 * (Its OpenMP threads are not bound by qbench; OMP_PROC_BIND / OMP_PLACES apply.) */
#include "qb_peers.h"

#ifdef QB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#include <stdlib.h>
#include <string.h>
#ifdef QB_HAVE_OPENMP
#include <omp.h>
#endif

typedef struct {
  int threads;
  size_t copies;
  dnnl_engine_t engine;
  dnnl_stream_t stream;
  dnnl_primitive_t matmul;
  dnnl_memory_t src, dst;
  dnnl_memory_t* weights; /* copies, in the primitive's layout */
} dnnl_state;

static size_t dnnl_weight_bytes(const qb_bench_impl* impl, size_t N, size_t K) {
  (void)impl;
  return N * K; /* s8; oneDNN's blocked layout pads a little, not counted */
}

static void dnnl_destroy(void* p) {
  dnnl_state* s = p;
  if (!s) return;
  if (s->weights)
    for (size_t i = 0; i < s->copies; i++) dnnl_memory_destroy(s->weights[i]);
  free(s->weights);
  if (s->src) dnnl_memory_destroy(s->src);
  if (s->dst) dnnl_memory_destroy(s->dst);
  if (s->matmul) dnnl_primitive_destroy(s->matmul);
  if (s->stream) dnnl_stream_destroy(s->stream);
  if (s->engine) dnnl_engine_destroy(s->engine);
  free(s);
}

#define DNNL_TRY(call)                                                                  \
  do {                                                                                  \
    const dnnl_status_t st_ = (call);                                                   \
    if (st_ != dnnl_success) {                                                          \
      qb_fail(err, "oneDNN: %s failed (status %d) for M=%zu N=%zu K=%zu", #call,         \
              (int)st_, sh->M, sh->N, sh->K);                                           \
      goto fail;                                                                        \
    }                                                                                   \
  } while (0)

static void set_threads(int threads) {
#ifdef QB_HAVE_OPENMP
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

static void* dnnl_create(const qb_bench_impl* impl, const qb_bench_shape* sh, int threads,
                         size_t copies, qb_error* err) {
  (void)impl;
  dnnl_state* s = calloc(1, sizeof *s);
  dnnl_primitive_desc_t pd = NULL, rpd = NULL;
  dnnl_primitive_t reorder = NULL;
  dnnl_memory_t plain = NULL;
  if (!s || !(s->weights = calloc(copies, sizeof *s->weights))) {
    qb_fail(err, "oneDNN: out of memory");
    goto fail;
  }
  s->threads = threads;
  set_threads(threads);
  const dnnl_dims_t src_dims = {(dnnl_dim_t)sh->M, (dnnl_dim_t)sh->K};
  const dnnl_dims_t w_dims = {(dnnl_dim_t)sh->K, (dnnl_dim_t)sh->N};
  const dnnl_dims_t dst_dims = {(dnnl_dim_t)sh->M, (dnnl_dim_t)sh->N};
  dnnl_memory_desc_t src_md, w_any_md, w_plain_md, dst_md;
  DNNL_TRY(dnnl_memory_desc_init_by_tag(&src_md, 2, src_dims, dnnl_u8, dnnl_ab));
  DNNL_TRY(dnnl_memory_desc_init_by_tag(&w_any_md, 2, w_dims, dnnl_s8, dnnl_format_tag_any));
  DNNL_TRY(dnnl_memory_desc_init_by_tag(&w_plain_md, 2, w_dims, dnnl_s8, dnnl_ba));
  DNNL_TRY(dnnl_memory_desc_init_by_tag(&dst_md, 2, dst_dims, dnnl_s32, dnnl_ab));
  DNNL_TRY(dnnl_engine_create(&s->engine, dnnl_cpu, 0));
  DNNL_TRY(dnnl_stream_create(&s->stream, s->engine, dnnl_stream_default_flags));
  dnnl_matmul_desc_t desc;
  DNNL_TRY(dnnl_matmul_desc_init(&desc, &src_md, &w_any_md, NULL, &dst_md));
  DNNL_TRY(dnnl_primitive_desc_create(&pd, &desc, NULL, s->engine, NULL));
  const dnnl_memory_desc_t* w_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  DNNL_TRY(dnnl_primitive_create(&s->matmul, pd));
  DNNL_TRY(dnnl_memory_create(&s->src, &src_md, s->engine, DNNL_MEMORY_ALLOCATE));
  DNNL_TRY(dnnl_memory_create(&s->dst, &dst_md, s->engine, DNNL_MEMORY_ALLOCATE));
  DNNL_TRY(dnnl_memory_create(&plain, &w_plain_md, s->engine, DNNL_MEMORY_ALLOCATE));
  void* h;
  uint32_t x = 4242u;
  DNNL_TRY(dnnl_memory_get_data_handle(s->src, &h));
  for (size_t i = 0; i < sh->M * sh->K; i++)
    ((uint8_t*)h)[i] = (uint8_t)((x = x * 1664525u + 1013904223u) >> 24);
  DNNL_TRY(dnnl_memory_get_data_handle(plain, &h));
  for (size_t i = 0; i < sh->N * sh->K; i++)
    ((int8_t*)h)[i] = (int8_t)((x = x * 1664525u + 1013904223u) >> 24);
  DNNL_TRY(dnnl_reorder_primitive_desc_create(&rpd, &w_plain_md, s->engine, w_md, s->engine,
                                              NULL));
  DNNL_TRY(dnnl_primitive_create(&reorder, rpd));
  for (; s->copies < copies; s->copies++) {
    DNNL_TRY(dnnl_memory_create(&s->weights[s->copies], w_md, s->engine, DNNL_MEMORY_ALLOCATE));
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, plain}, {DNNL_ARG_TO, s->weights[s->copies]}};
    DNNL_TRY(dnnl_primitive_execute(reorder, s->stream, 2, args));
  }
  DNNL_TRY(dnnl_stream_wait(s->stream));
  dnnl_primitive_destroy(reorder);
  dnnl_primitive_desc_destroy(rpd);
  dnnl_primitive_desc_destroy(pd); /* the primitive keeps what it needs */
  dnnl_memory_destroy(plain);
  return s;
fail:
  if (reorder) dnnl_primitive_destroy(reorder);
  if (rpd) dnnl_primitive_desc_destroy(rpd);
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (plain) dnnl_memory_destroy(plain);
  dnnl_destroy(s);
  return NULL;
}

static void dnnl_run(void* p, size_t copy) {
  dnnl_state* s = p;
  set_threads(s->threads);
  dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, s->src},
                             {DNNL_ARG_WEIGHTS, s->weights[copy]},
                             {DNNL_ARG_DST, s->dst}};
  dnnl_primitive_execute(s->matmul, s->stream, 3, args);
  dnnl_stream_wait(s->stream);
}

const qb_bench_impl qb_peer_dnnl = {.name = "onednn_u8s8s32_matmul",
                                    .backend = "avx512vnni",
                                    .weight_bytes = dnnl_weight_bytes,
                                    .create = dnnl_create,
                                    .run = dnnl_run,
                                    .destroy = dnnl_destroy};
#endif
