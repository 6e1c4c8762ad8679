/* The integer run uses every kernel family of the backend's dispatch table, and
 * that changes no output bit:
 *   - a CNN with a depthwise Conv (multiplier 2, 9x9 maps: SIMD tails), static w8/a8:
 *     the depthwise layer names the table's dwconv kernel;
 *   - an MLP (Gemm transB + MatMul, K = 20 and 37: short last groups, odd K) with
 *     <= 4-bit weights: weight-only runs W4A32 (qb_f32_q4_f32_wgemm), dynamic runs
 *     W4A8 (qb_qs8_q4_f32_wgemm), per channel and per group, symmetric and affine;
 * For each: logits bit-identical on every usable exact backend and for 1, 2 and 3
 * threads; integer vs simulated within one output step per layer (static) or
 * within fp32 summation-order noise (the W4 paths, which have no output grid). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_dataset.h"
#include "qb_model.h"
#include "qb_model_eval.h"
#include "qb_model_quant.h"
#include "qb_onnx_builder.h"
#include "qb_test.h"
#include "qb_test_model.h"

enum { BATCH = 32 };

/* x[N,3,9,9] -> conv1 (3->8, 3x3, pad 1) -> Relu -> dw (8 groups, 8->16, 3x3, pad 1)
 * -> Relu -> Flatten -> fc (1296->10) */
static int build_cnn(qb_model* m) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 3, 9, 9});
  qb_test_add_random_initializer(b, "conv1.weight", 4, (size_t[]){8, 3, 3, 3}, 0.3f);
  qb_test_add_random_initializer(b, "conv1.bias", 1, (size_t[]){8}, 0.1f);
  qb_test_add_random_initializer(b, "dw.weight", 4, (size_t[]){16, 1, 3, 3}, 0.4f);
  qb_test_add_random_initializer(b, "dw.bias", 1, (size_t[]){16}, 0.1f);
  qb_test_add_random_initializer(b, "fc.weight", 2, (size_t[]){10, 1296}, 0.05f);
  qb_test_add_random_initializer(b, "fc.bias", 1, (size_t[]){10}, 0.1f);
  qb_onnx_node* n = qb_onnx_builder_node(b, "Conv", "conv1", 3,
                                         (const char*[]){"x", "conv1.weight", "conv1.bias"}, 1,
                                         (const char*[]){"c1"});
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
  qb_onnx_builder_node(b, "Relu", "relu1", 1, (const char*[]){"c1"}, 1, (const char*[]){"r1"});
  n = qb_onnx_builder_node(b, "Conv", "dw", 3, (const char*[]){"r1", "dw.weight", "dw.bias"}, 1,
                           (const char*[]){"c2"});
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
  qb_onnx_node_attr_int(n, "group", 8);
  qb_onnx_builder_node(b, "Relu", "relu2", 1, (const char*[]){"c2"}, 1, (const char*[]){"r2"});
  n = qb_onnx_builder_node(b, "Flatten", "flat", 1, (const char*[]){"r2"}, 1, (const char*[]){"f"});
  qb_onnx_node_attr_int(n, "axis", 1);
  n = qb_onnx_builder_node(b, "Gemm", "fc", 3, (const char*[]){"f", "fc.weight", "fc.bias"}, 1,
                           (const char*[]){"logits"});
  qb_onnx_node_attr_int(n, "transB", 1);
  qb_onnx_builder_output(b, "logits", QB_F32, 2, (int64_t[]){-1, 10});
  return qb_test_save_and_load(b, m);
}

/* The kernel the table of `be` holds for the family a layer's kernel name belongs to. */
static const char* table_kernel(qb_backend be, const char* kernel) {
  const qb_dispatch_table* t = qb_dispatch_get(be);
  if (!strncmp(kernel, "qb_f32_q4_f32_wgemm", 19)) return t->f32_q4_f32_wgemm->info.name;
  if (!strncmp(kernel, "qb_qs8_q4_f32_wgemm", 19)) return t->qs8_q4_f32_wgemm->info.name;
  if (!strncmp(kernel, "qb_qu8_qs8_qu8_dwconv2d_minmax_fp32", 35))
    return t->qu8_qs8_qu8_dwconv2d_minmax_fp32->info.name;
  if (!strncmp(kernel, "qb_qu8_qs8_qs32_dwconv2d", 24)) return t->qu8_qs8_qs32_dwconv2d->info.name;
  if (!strncmp(kernel, "qb_qu8_qs8_qs32_gemm", 20)) return t->qu8_qs8_qs32_gemm->info.name;
  return "";
}

/* Integer vs simulated, per quantized layer: static layers within one output step;
 * W4 layers within fp32 rounding noise of the layer's largest output. Every
 * quantized layer must run a kernel of `family` or the int8 GEMM family. */
static void check_int_vs_sim(qb_model* m, qb_quant_state* q, const float* x, const char* what,
                             const char* family, size_t want_family_layers) {
  qb_test_capture sim = {{0}, {0}}, in = {{0}, {0}};
  QB_CHECK(qb_test_run_capture(m, x, BATCH, QB_EXEC_SIMULATED, q, &sim) == 0);
  QB_CHECK(qb_test_run_capture(m, x, BATCH, QB_EXEC_INTEGER, q, &in) == 0);
  size_t family_layers = 0;
  for (size_t k = 0; k < m->nnodes && k < QB_TEST_MAX_NODES; k++) {
    qb_quant_layer_info li;
    qb_quant_layer(q, k, &li);
    if (!li.quantized) continue;
    QB_CHECK_MSG(strncmp(li.kernel, "fp32", 4) != 0, "%s: layer %s runs %s", what,
                 m->nodes[k].name, li.kernel);
    family_layers += strstr(li.kernel, family) != NULL;
    double worst = 0, largest = 0;
    for (size_t i = 0; i < sim.numel[k]; i++) {
      worst = fmax(worst, fabs((double)sim.out[k][i] - in.out[k][i]));
      largest = fmax(largest, fabs((double)sim.out[k][i]));
    }
    const double bound = li.has_out_qparams ? li.out_scale * (1.0 + 1e-3) : 1e-5 * largest;
    printf("  %s layer %-4s %-42s max |int - sim| = %.3g (bound %.3g)\n", what, m->nodes[k].name,
           li.kernel, worst, bound);
    QB_CHECK_MSG(worst <= bound, "%s layer %s: |int - sim| = %.3g > %.3g", what, m->nodes[k].name,
                 worst, bound);
    QB_CHECK_MSG(largest > 0, "%s layer %s: all-zero output", what, m->nodes[k].name);
  }
  QB_CHECK_MSG(family_layers == want_family_layers, "%s: %zu layers of %s, want %zu", what,
               family_layers, family, want_family_layers);
  qb_test_capture_free(&sim), qb_test_capture_free(&in);
}

/* Logits on every usable exact backend and 1..3 threads, against scalar 1 thread. */
static void check_backends_threads(qb_model* m, const qb_dataset* d, const char* qconfig,
                                   const char* family, size_t family_layers) {
  float* ref = NULL;
  size_t numel = 0, compared = 0;
  char what[200];
  for (qb_backend be = QB_BACKEND_SCALAR; be < QB_BACKEND_COUNT; be++) {
    if (!qb_backend_describe(be)->exact || !qb_isa_usable(be)) continue;
    qb_quant_state* q = qb_test_quantize(m, qconfig, be, d);
    QB_CHECK_MSG(q != NULL, "%s on %s", qconfig, qb_backend_name(be));
    if (!q) continue;
    snprintf(what, sizeof what, "%s %s", qconfig, qb_backend_name(be));
    check_int_vs_sim(m, q, d->x, what, family, family_layers);
    /* The layers name the kernel of this backend's table, not the reference. */
    for (size_t k = 0; k < m->nnodes; k++) {
      qb_quant_layer_info li;
      qb_quant_layer(q, k, &li);
      if (li.quantized)
        QB_CHECK_MSG(!strcmp(li.kernel, table_kernel(be, li.kernel)), "%s: %s is not the table's %s",
                     what, li.kernel, table_kernel(be, li.kernel));
    }
    for (size_t threads = 1; threads <= 3; threads++) {
      qb_error err;
      QB_CHECK(qb_quant_set_threads(q, threads, &err) == 0);
      QB_CHECK(qb_quant_threads(q) == threads);
      qb_test_capture c = {{0}, {0}};
      QB_CHECK(qb_test_run_capture(m, d->x, BATCH, QB_EXEC_INTEGER, q, &c) == 0);
      const qb_value* y = qb_model_output(m, 0);
      if (!ref) {
        numel = y->numel;
        ref = malloc(numel * sizeof *ref);
        memcpy(ref, y->data, numel * sizeof *ref);
      } else {
        QB_CHECK_MSG(numel == y->numel && memcmp(ref, y->data, numel * sizeof *ref) == 0,
                     "%s, %zu threads: logits differ from scalar, 1 thread", what, threads);
        compared++;
      }
      qb_test_capture_free(&c);
    }
    qb_quant_free(q);
  }
  printf("  %s: %zu (backend, threads) runs bit-identical to scalar, 1 thread\n", qconfig, compared);
  QB_CHECK(compared >= 2); /* scalar with 2 and 3 threads at least */
  free(ref);
}

static void check_bad_threads(qb_model* m, const qb_dataset* d) {
  qb_quant_state* q = qb_test_quantize(m, "w4/weight-only", QB_BACKEND_COUNT, d);
  QB_CHECK(q != NULL);
  if (!q) return;
  qb_error err = {{0}};
  QB_CHECK(qb_quant_set_threads(q, 0, &err) != 0 && strstr(err.msg, "threads"));
  QB_CHECK(qb_quant_threads(q) == 1);
  qb_quant_free(q);
}

int main(void) {
  qb_test_seed(20261202);
  qb_model mlp, cnn;
  QB_CHECK(qb_test_build_mlp(&mlp, 20, 37) /* odd K */ == 0);
  QB_CHECK(build_cnn(&cnn) == 0);
  qb_dataset dm, dc;
  qb_test_random_dataset(&dm, 64, 20);
  qb_test_random_dataset(&dc, 64, 3 * 9 * 9);
  check_backends_threads(&cnn, &dc, "w8-sym-channel-minmax/a8-aff-tensor-minmax/static",
                         "qb_qu8_qs8_qu8_dwconv2d_minmax_fp32", 1);
  check_backends_threads(&cnn, &dc, "w8/a8/dynamic", "qb_qu8_qs8_qs32_dwconv2d", 1);
  check_backends_threads(&mlp, &dm, "w4-sym-channel-mse/weight-only", "qb_f32_q4_f32_wgemm", 2);
  check_backends_threads(&mlp, &dm, "w4-sym-group:8-minmax/weight-only", "qb_f32_q4_f32_wgemm", 2);
  check_backends_threads(&mlp, &dm, "w4-aff-group:8-minmax/weight-only", "qb_f32_q4_f32_wgemm", 2);
  check_backends_threads(&mlp, &dm, "w3-sym-tensor-minmax/weight-only", "qb_f32_q4_f32_wgemm", 2);
  check_backends_threads(&mlp, &dm, "w4-sym-channel-minmax/a8/dynamic", "qb_qs8_q4_f32_wgemm", 2);
  check_backends_threads(&mlp, &dm, "w4-aff-group:8-minmax/a8/dynamic", "qb_qs8_q4_f32_wgemm", 2);
  check_bad_threads(&mlp, &dm);
  qb_dataset_free(&dm), qb_dataset_free(&dc);
  qb_model_free(&mlp), qb_model_free(&cnn);
  return qb_test_finish("test_model_kernels");
}
