/* The fp32 path of Gemm / MatMul / Conv (harness/ops/qb_ops_f32.c on the
 * harness/parallel/qb_f32_gemm_threaded driver):
 *  1. the threaded driver, for every usable entry, on 1, 2 and 3 threads (both the
 *     row and the column split, K across several KC blocks, N and M off the tile),
 *     bit-identical to the reference qb_f32_gemm__scalar; ldc > N gaps untouched;
 *  2. on each reference model present (harness/models/reference): every Gemm,
 *     MatMul and Conv output against the naive mul + add implementation the ops
 *     used before, recomputed from the node's own inputs, within the bound of
 *     tests/kernels/test_f32_gemm_exact.c (2 gamma_K sum|a b|, plus one rounding of
 *     the bias add on each side);
 *  3. the same models on 1, 2 and 3 threads give bit-identical outputs at every
 *     node, and image 0 alone (batch 1) gives the bits of row 0 of a batch of 3. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f32-gemm/qb_f32_gemm.h"
#include "qb_f32_gemm_threaded.h"
#include "qb_model_internal.h"
#include "qb_test.h"
#include "qb_test_model.h"

/* ---------------------------------------------------------------- driver */

typedef struct {
  size_t M, N, K;
} shape;

static const shape k_shapes[] = {{1, 1000, 200}, {130, 20, 300}, {64, 97, 513},
                                 {7, 33, 257},   {33, 65, 1},    {200, 200, 64}};

static void check_driver(const qb_f32_gemm_entry* e, const shape* s, qb_thread_pool* pools[3]) {
  const size_t M = s->M, N = s->N, K = s->K, lda = K + 2, ldc = N + 3;
  float* A = malloc(M * lda * sizeof *A);
  float* B = malloc(N * K * sizeof *B);
  float* ref = malloc(M * ldc * sizeof *ref);
  float* C = malloc(M * ldc * sizeof *C);
  for (size_t i = 0; i < M * lda; i++) A[i] = qb_rand_normal();
  for (size_t i = 0; i < N * K; i++) B[i] = qb_rand_normal();
  /* B stored N x K (transposed, as Gemm transB weights are). */
  qb_f32_gemm__scalar(M, N, K, A, lda, 1, B, 1, K, ref, ldc);
  qb_f32_packed_b pb;
  qb_error err;
  QB_CHECK(qb_f32_packed_b_make(e, N, K, B, 1, K, &pb, &err) == 0);
  float* scratch = aligned_alloc(64, qb_f32_gemm_scratch_floats(e, N, K) * sizeof(float));
  for (int t = 0; t < 3; t++) {
    for (int per_call = 0; per_call < 2; per_call++) {
      memset(C, 0xA5, M * ldc * sizeof *C);
      const float* packed = pb.packed;
      if (per_call) {
        qb_f32_gemm_pack_threaded(e, pools[t], N, K, B, 1, K, scratch);
        packed = scratch;
      }
      qb_f32_gemm_threaded_run(e, pools[t], M, N, K, A, lda, packed, C, ldc);
      size_t bad = 0, gap = 0;
      for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) bad += memcmp(&C[i * ldc + j], &ref[i * ldc + j], 4) != 0;
        for (size_t j = N; j < ldc; j++) {
          uint32_t bits;
          memcpy(&bits, &C[i * ldc + j], 4);
          gap += bits != 0xA5A5A5A5u;
        }
      }
      QB_CHECK_MSG(bad == 0 && gap == 0, "%s M=%zu N=%zu K=%zu threads=%d per_call=%d: %zu differ, "
                   "%zu gap values written", e->info.name, M, N, K, t + 1, per_call, bad, gap);
    }
  }
  qb_f32_packed_b_free(&pb);
  free(A), free(B), free(ref), free(C), free(scratch);
}

/* ------------------------------------------------------ models vs naive */

static const double U = 1.0 / 16777216.0; /* 2^-24 */

typedef struct {
  size_t checked_nodes, bad;
} naive_ctx;

/* Naive C = A x B in the old order (product rounded, then the add), and
 * sum |a b| per element in double. */
static void naive_gemm(size_t M, size_t N, size_t K, const float* A, size_t sa_i, size_t sa_k,
                       const float* B, size_t sb_k, size_t sb_j, float* C, double* mag) {
  for (size_t i = 0; i < M; i++)
    for (size_t j = 0; j < N; j++) {
      float acc = 0.0f;
      double g = 0;
      for (size_t k = 0; k < K; k++) {
        const float a = A[i * sa_i + k * sa_k], b = B[k * sb_k + j * sb_j];
        const float p = a * b;
        acc = acc + p;
        g += fabs((double)a * (double)b);
      }
      C[i * N + j] = acc, mag[i * N + j] = g;
    }
}

/* |y - naive| within 2 gamma_K mag (both orders obey gamma_K mag) plus one rounding
 * of a bias add on each side and subnormal slack. */
static size_t compare(const float* y, size_t y_rs, size_t y_cs, const float* naive,
                      const double* mag, size_t M, size_t N, size_t K, const float* bias_row,
                      const float* bias_col) {
  const double gamma = K * U / (1 - K * U);
  size_t bad = 0;
  for (size_t i = 0; i < M; i++)
    for (size_t j = 0; j < N; j++) {
      float ref = naive[i * N + j];
      if (bias_row) ref = ref + bias_row[i];
      if (bias_col) ref = ref + bias_col[j];
      const double got = y[i * y_rs + j * y_cs];
      const double bound = 2.02 * gamma * mag[i * N + j] + 2 * U * fabs((double)ref) +
                           (double)(2 * K + 2) * ldexp(1.0, -149);
      bad += !(fabs(got - (double)ref) <= bound);
    }
  return bad;
}

static void naive_conv(const qb_model* m, const qb_node* n, const float* y, naive_ctx* c) {
  qb_conv2d_shape s;
  qb_node_conv_shape(m, n, &s);
  const float *x = qb_in(m, n, 0)->data, *w = qb_in(m, n, 1)->data;
  const qb_value* bv = qb_in(m, n, 2);
  const size_t oh = qb_conv2d_out_h(&s), ow = qb_conv2d_out_w(&s), P = oh * ow;
  const size_t cg = s.in_channels / s.groups, og = s.out_channels / s.groups;
  const size_t K = cg * s.kernel_h * s.kernel_w;
  float* cols = calloc(K * P, sizeof *cols);
  float* out = malloc(og * P * sizeof *out);
  double* mag = malloc(og * P * sizeof *mag);
  for (size_t b = 0; b < s.batch; b++)
    for (size_t g = 0; g < s.groups; g++) {
      size_t r = 0;
      for (size_t ci = 0; ci < cg; ci++)
        for (size_t ky = 0; ky < s.kernel_h; ky++)
          for (size_t kx = 0; kx < s.kernel_w; kx++, r++)
            for (size_t oy = 0; oy < oh; oy++)
              for (size_t ox = 0; ox < ow; ox++) {
                const ptrdiff_t iy = (ptrdiff_t)(oy * s.stride_h + ky * s.dilation_h) - (ptrdiff_t)s.pad_top;
                const ptrdiff_t ix = (ptrdiff_t)(ox * s.stride_w + kx * s.dilation_w) - (ptrdiff_t)s.pad_left;
                const bool in = iy >= 0 && iy < (ptrdiff_t)s.in_h && ix >= 0 && ix < (ptrdiff_t)s.in_w;
                cols[r * P + oy * ow + ox] =
                    in ? x[((b * s.in_channels + g * cg + ci) * s.in_h + (size_t)iy) * s.in_w + (size_t)ix] : 0.0f;
              }
      naive_gemm(og, P, K, w + g * og * K, K, 1, cols, P, 1, out, mag);
      c->bad += compare(y + (b * s.out_channels + g * og) * P, P, 1, out, mag, og, P, K,
                        bv ? bv->data + g * og : NULL, NULL);
    }
  free(cols), free(out), free(mag);
}

static void naive_gemm_node(const qb_model* m, const qb_node* n, const float* y, naive_ctx* c) {
  const qb_value *a = qb_in(m, n, 0), *b = qb_in(m, n, 1), *bias = qb_in(m, n, 2);
  const size_t M = n->a.trans_a ? a->dims[1] : a->dims[0], K = n->a.trans_a ? a->dims[0] : a->dims[1];
  const size_t N = n->a.trans_b ? b->dims[0] : b->dims[1];
  float* out = malloc(M * N * sizeof *out);
  double* mag = malloc(M * N * sizeof *mag);
  naive_gemm(M, N, K, a->data, n->a.trans_a ? 1 : K, n->a.trans_a ? M : 1, b->data,
             n->a.trans_b ? 1 : N, n->a.trans_b ? K : 1, out, mag);
  /* The reference models' Gemm biases are per column ([N]); alpha = beta = 1. */
  QB_CHECK(n->a.alpha == 1.0f && n->a.beta == 1.0f && (!bias || bias->numel == N));
  c->bad += compare(y, N, 1, out, mag, M, N, K, NULL, bias ? bias->data : NULL);
  free(out), free(mag);
}

static void naive_matmul(const qb_model* m, const qb_node* n, const float* y, naive_ctx* c) {
  const qb_value *a = qb_in(m, n, 0), *b = qb_in(m, n, 1);
  const size_t K = a->dims[a->ndim - 1], M = a->ndim > 1 ? a->dims[a->ndim - 2] : 1;
  const size_t N = b->dims[b->ndim - 1];
  const size_t na = a->numel / (M * K), nb = b->numel / (K * N), batches = na > nb ? na : nb;
  QB_CHECK(na == batches && (nb == 1 || nb == batches));
  float* out = malloc(M * N * sizeof *out);
  double* mag = malloc(M * N * sizeof *mag);
  for (size_t i = 0; i < batches; i++) {
    naive_gemm(M, N, K, a->data + i * M * K, K, 1, b->data + (nb == 1 ? 0 : i) * K * N, N, 1, out, mag);
    c->bad += compare(y + i * M * N, N, 1, out, mag, M, N, K, NULL, NULL);
  }
  free(out), free(mag);
}

static void naive_hook(void* ctx, const qb_model* m, size_t k, const qb_value* out) {
  naive_ctx* c = ctx;
  const qb_node* n = &m->nodes[k];
  if (n->op == QB_OP_CONV) naive_conv(m, n, out->data, c);
  else if (n->op == QB_OP_GEMM) naive_gemm_node(m, n, out->data, c);
  else if (n->op == QB_OP_MATMUL) naive_matmul(m, n, out->data, c);
  else return;
  c->checked_nodes++;
}

static bool same_bits(const float* a, const float* b, size_t n) { return !memcmp(a, b, n * 4); }

static void check_model(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return;
  fclose(f);
  qb_model m;
  qb_error err;
  if (qb_model_load_onnx(path, &m, &err)) {
    QB_CHECK_MSG(0, "%s: %s", path, err.msg);
    return;
  }
  const qb_value* in = &m.values[m.inputs[0]];
  const size_t per = in->numel, batch = 3; /* prepared for batch 1 at load */
  float* x = malloc(batch * per * sizeof *x);
  for (size_t i = 0; i < batch * per; i++) x[i] = qb_rand_uniform(-1.0f, 2.0f);
  /* 2: every GEMM-like node against the naive order. */
  naive_ctx nc = {0};
  const float* xs[1] = {x};
  QB_CHECK(qb_model_prepare(&m, batch, &err) == 0 &&
           qb_model_run_f32(&m, xs, naive_hook, &nc, &err) == 0);
  QB_CHECK_MSG(nc.bad == 0 && nc.checked_nodes > 0, "%s: %zu outputs outside the bound over %zu nodes",
               path, nc.bad, nc.checked_nodes);
  printf("%s: %zu Gemm/MatMul/Conv nodes within the bound of the naive order\n", path, nc.checked_nodes);
  /* 3: threads and batch. */
  qb_test_capture cap[3];
  memset(cap, 0, sizeof cap);
  for (size_t t = 0; t < 3; t++) {
    QB_CHECK(qb_model_set_threads(&m, t + 1, &err) == 0);
    QB_CHECK(qb_test_run_capture(&m, x, batch, QB_EXEC_FP32, NULL, &cap[t]) == 0);
  }
  size_t differ = 0;
  for (size_t k = 0; k < m.nnodes && k < QB_TEST_MAX_NODES; k++)
    for (size_t t = 1; t < 3; t++)
      differ += cap[t].numel[k] != cap[0].numel[k] || !same_bits(cap[t].out[k], cap[0].out[k], cap[0].numel[k]);
  QB_CHECK_MSG(differ == 0, "%s: %zu node outputs differ between 1, 2 and 3 threads", path, differ);
  QB_CHECK(qb_model_set_threads(&m, 2, &err) == 0);
  qb_test_capture one;
  memset(&one, 0, sizeof one);
  QB_CHECK(qb_test_run_capture(&m, x, 1, QB_EXEC_FP32, NULL, &one) == 0);
  const size_t last = (m.nnodes < QB_TEST_MAX_NODES ? m.nnodes : QB_TEST_MAX_NODES) - 1;
  QB_CHECK_MSG(one.numel[last] * batch == cap[0].numel[last] &&
                   same_bits(one.out[last], cap[0].out[last], one.numel[last]),
               "%s: batch 1 output differs from row 0 of batch %zu", path, batch);
  qb_test_capture_free(&one);
  for (size_t t = 0; t < 3; t++) qb_test_capture_free(&cap[t]);
  free(x);
  qb_model_free(&m);
}

int main(void) {
  qb_test_seed(0xF32095u);
  qb_error err;
  qb_thread_pool* pools[3] = {NULL, qb_thread_pool_create(2, false, &err),
                              qb_thread_pool_create(3, false, &err)};
  QB_CHECK(pools[1] && pools[2]);
  size_t count;
  const qb_f32_gemm_entry* list = qb_f32_gemm_entries(&count);
  for (size_t i = 0; i < count && pools[1] && pools[2]; i++)
    if (qb_isa_usable(list[i].info.backend))
      for (size_t s = 0; s < sizeof k_shapes / sizeof k_shapes[0]; s++)
        check_driver(&list[i], &k_shapes[s], pools);
  qb_thread_pool_destroy(pools[1]), qb_thread_pool_destroy(pools[2]);

  qb_test_each_reference_model(check_model);
  return qb_test_finish("test_f32_ops");
}
