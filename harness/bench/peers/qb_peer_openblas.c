/* Peer: OpenBLAS fp32 GEMM (cblas_sgemm), C = A * B^T with B stored N x K as our
 * weights are, on openblas_set_num_threads(T) threads. The fp32 reference point
 * for "what does int8 buy": same shapes, 4-byte weights, fp32 FMA ceiling. */
#include "qb_peers.h"

#ifdef QB_HAVE_OPENBLAS
#include <cblas.h>
#include <stdlib.h>

typedef struct {
  size_t M, N, K, copies;
  int threads;
  float *A, *C;
  float** B;
} sgemm_state;

static size_t sgemm_weight_bytes(const qb_bench_impl* impl, size_t N, size_t K) {
  (void)impl;
  return N * K * sizeof(float);
}

static void sgemm_destroy(void* p) {
  sgemm_state* s = p;
  if (!s) return;
  if (s->B)
    for (size_t i = 0; i < s->copies; i++) free(s->B[i]);
  free(s->B);
  free(s->A);
  free(s->C);
  free(s);
}

static void* sgemm_create(const qb_bench_impl* impl, const qb_bench_shape* sh, int threads,
                          size_t copies, qb_error* err) {
  (void)impl;
  sgemm_state* s = calloc(1, sizeof *s);
  if (!s) goto oom;
  s->M = sh->M, s->N = sh->N, s->K = sh->K, s->threads = threads;
  s->A = malloc(sh->M * sh->K * sizeof(float));
  s->C = malloc(sh->M * sh->N * sizeof(float));
  s->B = calloc(copies, sizeof *s->B);
  if (!s->A || !s->C || !s->B) goto oom;
  uint32_t x = 777u;
  for (size_t i = 0; i < sh->M * sh->K; i++)
    s->A[i] = (float)((x = x * 1664525u + 1013904223u) >> 24) / 256.0f;
  for (; s->copies < copies; s->copies++) {
    float* b = malloc(sh->N * sh->K * sizeof(float));
    if (!b) goto oom;
    for (size_t i = 0; i < sh->N * sh->K; i++)
      b[i] = (float)((x = x * 1664525u + 1013904223u) >> 24) / 128.0f - 1.0f;
    s->B[s->copies] = b;
  }
  return s;
oom:
  sgemm_destroy(s);
  qb_fail(err, "openblas sgemm: out of memory for M=%zu N=%zu K=%zu", sh->M, sh->N, sh->K);
  return NULL;
}

static void sgemm_run(void* p, size_t copy) {
  sgemm_state* s = p;
  /* Set on every call: another benchmark may have changed it (cheap). */
  openblas_set_num_threads(s->threads);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)s->M, (blasint)s->N,
              (blasint)s->K, 1.0f, s->A, (blasint)s->K, s->B[copy], (blasint)s->K, 0.0f, s->C,
              (blasint)s->N);
}

const qb_bench_impl qb_peer_openblas = {.name = "openblas_sgemm",
                                        .backend = "avx512vnni",
                                        .fp32 = true,
                                        .weight_bytes = sgemm_weight_bytes,
                                        .create = sgemm_create,
                                        .run = sgemm_run,
                                        .destroy = sgemm_destroy};
#endif
