/* Quantized runs of the model runtime on small random models built here (an MLP
 * with Gemm and MatMul, a CNN with a regular and a depthwise Conv):
 *   - integer vs simulated, per quantized layer, within one output quantization
 *     step (static w8/a8, per-channel and per-tensor weights);
 *   - every usable exact backend gives bit-identical integer outputs;
 *   - weight-only and dynamic: integer close to simulated, simulated close to fp32;
 *   - calibration statistics reused with another range strategy;
 *   - export: fp32 -> import gives identical outputs; QDQ -> import, run in fp32,
 *     reproduces the simulation;
 *   - qconfig text round trip and errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_dataset.h"
#include "qb_metrics.h"
#include "qb_model.h"
#include "qb_model_eval.h"
#include "qb_model_export.h"
#include "qb_model_quant.h"
#include "qb_onnx_builder.h"
#include "qb_test.h"
#include "qb_test_model.h"

/* x[N,2,8,8] -> conv1 (2->4, 3x3, pad 1) -> Relu -> dw (`groups` groups: 4 is
 * depthwise, 2 the grouped im2col path; 3x3, stride 2, pad 1) -> Relu -> Flatten
 * -> fc (64->10) */
static int build_cnn(qb_model* m, int groups) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 2, 8, 8});
  qb_test_add_random_initializer(b, "conv1.weight", 4, (size_t[]){4, 2, 3, 3}, 0.3f);
  qb_test_add_random_initializer(b, "conv1.bias", 1, (size_t[]){4}, 0.1f);
  qb_test_add_random_initializer(b, "dw.weight", 4, (size_t[]){4, 4 / (size_t)groups, 3, 3}, 0.4f);
  qb_test_add_random_initializer(b, "dw.bias", 1, (size_t[]){4}, 0.1f);
  qb_test_add_random_initializer(b, "fc.weight", 2, (size_t[]){10, 64}, 0.2f);
  qb_test_add_random_initializer(b, "fc.bias", 1, (size_t[]){10}, 0.1f);
  qb_onnx_node* n = qb_onnx_builder_node(b, "Conv", "conv1", 3, (const char*[]){"x", "conv1.weight", "conv1.bias"},
                                         1, (const char*[]){"c1"});
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
  qb_onnx_builder_node(b, "Relu", "relu1", 1, (const char*[]){"c1"}, 1, (const char*[]){"r1"});
  n = qb_onnx_builder_node(b, "Conv", "dw", 3, (const char*[]){"r1", "dw.weight", "dw.bias"}, 1,
                           (const char*[]){"c2"});
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
  qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
  qb_onnx_node_attr_int(n, "group", groups);
  qb_onnx_builder_node(b, "Relu", "relu2", 1, (const char*[]){"c2"}, 1, (const char*[]){"r2"});
  qb_onnx_builder_node(b, "Flatten", "flatten", 1, (const char*[]){"r2"}, 1, (const char*[]){"f"});
  n = qb_onnx_builder_node(b, "Gemm", "fc", 3, (const char*[]){"f", "fc.weight", "fc.bias"}, 1,
                           (const char*[]){"logits"});
  qb_onnx_node_attr_int(n, "transB", 1);
  qb_onnx_builder_output(b, "logits", QB_F32, 2, (int64_t[]){-1, 10});
  return qb_test_save_and_load(b, m);
}

/* Integer vs simulated per quantized layer, in output steps. */
static void check_int_vs_sim(qb_model* m, const qb_dataset* d, const char* qconfig, const char* what) {
  qb_quant_state* q = qb_test_quantize(m, qconfig, QB_BACKEND_COUNT, d);
  QB_CHECK_MSG(q != NULL, "%s %s", what, qconfig);
  if (!q) return;
  qb_test_capture sim = {{0}, {0}}, in = {{0}, {0}};
  QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_SIMULATED, q, &sim) == 0);
  QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_INTEGER, q, &in) == 0);
  /* The logits (a static layer's hook reports at the layer's node, the folded
   * bias Add included, so take the graph output). */
  const size_t nlogits = qb_model_output(m, 0)->numel;
  float* logits = malloc(nlogits * sizeof *logits);
  memcpy(logits, qb_model_output(m, 0)->data, nlogits * sizeof *logits);
  size_t integer_layers = 0;
  for (size_t k = 0; k < m->nnodes; k++) {
    qb_quant_layer_info li;
    qb_quant_layer(q, k, &li);
    if (!li.quantized || !sim.out[k] || !in.out[k]) continue;
    integer_layers += strncmp(li.kernel, "fp32", 4) != 0;
    QB_CHECK(li.has_out_qparams);
    double worst = 0;
    size_t differ = 0;
    for (size_t i = 0; i < sim.numel[k]; i++) {
      const double steps = fabs((double)sim.out[k][i] - in.out[k][i]) / li.out_scale;
      worst = steps > worst ? steps : worst;
      differ += steps > 0.5;
    }
    printf("  %s %s layer %-4s kernel %-40s max |int - sim| = %.3f steps, %zu of %zu differ\n",
           what, qconfig, m->nodes[k].name, li.kernel, worst, differ, sim.numel[k]);
    QB_CHECK_MSG(worst <= 1.0 + 1e-3, "%s layer %s: %.3f steps", what, m->nodes[k].name, worst);
  }
  QB_CHECK_MSG(integer_layers >= 2, "%s: the integer kernels ran (%zu layers)", what, integer_layers);
  /* And the quantized model is still the model: 8-bit logits close to fp32. */
  qb_test_capture fp = {{0}, {0}};
  QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_FP32, NULL, &fp) == 0);
  qb_error_metrics em;
  qb_error err;
  QB_CHECK(qb_metrics_compute(qb_model_output(m, 0)->data, logits, nlogits, &em, &err) == 0);
  free(logits);
  printf("  %s %s logits integer vs fp32: SQNR %.1f dB\n", what, qconfig, em.sqnr_db);
  QB_CHECK(em.sqnr_db > 20 && em.sqnr_db < 80);
  qb_test_capture_free(&fp);
  qb_test_capture_free(&sim), qb_test_capture_free(&in);
  qb_quant_free(q);
}

/* Integer outputs are bit-identical on every usable exact backend. */
static void check_backends(qb_model* m, const qb_dataset* d, const char* what) {
  float* ref = NULL;
  size_t numel = 0, compared = 0, expected = 0;
  for (qb_backend be = QB_BACKEND_SCALAR; be < QB_BACKEND_COUNT; be++) {
    if (!qb_backend_describe(be)->exact || !qb_isa_usable(be)) continue;
    if (be != QB_BACKEND_SCALAR) expected++;
    qb_quant_state* q = qb_test_quantize(m, "w8-sym-channel/a8-aff/static", be, d);
    QB_CHECK(q != NULL);
    if (!q) continue;
    qb_test_capture c = {{0}, {0}};
    QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_INTEGER, q, &c) == 0);
    const qb_value* y = qb_model_output(m, 0);
    if (!ref) {
      numel = y->numel;
      ref = malloc(numel * sizeof *ref);
      memcpy(ref, y->data, numel * sizeof *ref);
    } else {
      QB_CHECK_MSG(memcmp(ref, y->data, numel * sizeof *ref) == 0, "%s: backend %s differs from scalar",
                   what, qb_backend_name(be));
      compared++;
    }
    qb_test_capture_free(&c);
    qb_quant_free(q);
  }
  /* Every usable exact backend took part (none but scalar on a scalar-only host). */
  QB_CHECK_MSG(compared == expected, "%s: %zu backends compared, %zu usable", what, compared, expected);
  printf("  %s: %zu backends bit-identical to scalar\n", what, compared);
  free(ref);
}

static double max_abs_diff(const float* a, const float* b, size_t n) {
  double w = 0;
  for (size_t i = 0; i < n; i++) w = fmax(w, fabs((double)a[i] - b[i]));
  return w;
}

static void check_workflows(qb_model* m, const qb_dataset* d, const char* what) {
  qb_test_capture fp = {{0}, {0}}, a = {{0}, {0}}, b = {{0}, {0}};
  QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_FP32, NULL, &fp) == 0);
  const size_t last = m->nnodes - 1, n = fp.numel[last];
  /* Weight-only: Gemm layers run W4A32 (fp32 sums in another order: within float
   * noise of the simulation), Conv layers the simulated path itself. */
  qb_quant_state* q = qb_test_quantize(m, "w4-sym-channel-mse/weight-only", QB_BACKEND_COUNT, d);
  QB_CHECK(q != NULL);
  if (q) {
    QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_SIMULATED, q, &a) == 0);
    QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_INTEGER, q, &b) == 0);
    double largest = 0;
    for (size_t i = 0; i < n; i++) largest = fmax(largest, fabs((double)a.out[last][i]));
    QB_CHECK(max_abs_diff(a.out[last], b.out[last], n) <= 1e-5 * largest);
    QB_CHECK(max_abs_diff(a.out[last], fp.out[last], n) > 0); /* 4-bit weights change something */
    qb_quant_free(q);
  }
  /* Dynamic 8-bit: integer close to simulated (same grid, float sums differ). */
  q = qb_test_quantize(m, "w8/a8/dynamic", QB_BACKEND_COUNT, d);
  QB_CHECK(q != NULL);
  if (q) {
    QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_SIMULATED, q, &a) == 0);
    QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_INTEGER, q, &b) == 0);
    const double d_int = max_abs_diff(a.out[last], b.out[last], n);
    const double d_fp = max_abs_diff(a.out[last], fp.out[last], n);
    printf("  %s dynamic: |int - sim| %.3g, |sim - fp32| %.3g\n", what, d_int, d_fp);
    QB_CHECK(d_int < 1e-3);
    QB_CHECK(d_fp > 0 && d_fp < 0.5);
    qb_quant_free(q);
  }
  qb_test_capture_free(&fp), qb_test_capture_free(&a), qb_test_capture_free(&b);
}

/* Calibration statistics reused with another strategy: percentile clips, so the
 * input scale of the first layer shrinks (uniform data: the tails are cut). */
static void check_recalibration(qb_model* m, const qb_dataset* d) {
  qb_quant_state* q = qb_test_quantize(m, "w8/a8-minmax/static", QB_BACKEND_COUNT, d);
  QB_CHECK(q != NULL);
  if (!q) return;
  qb_quant_layer_info before, after;
  qb_quant_layer(q, 0, &before);
  qb_range_strategy p;
  qb_error err;
  QB_CHECK(qb_range_parse("percentile:90", &p, &err) == 0);
  QB_CHECK(qb_quant_finish_calibration(q, &p, &err) == 0);
  qb_quant_layer(q, 0, &after);
  QB_CHECK(after.in_scale < before.in_scale);
  qb_quant_free(q);
}

static void check_export(qb_model* m, const qb_dataset* d, const char* what) {
  char path[64];
  qb_error err;
  close(mkstemp(strcpy(path, "/tmp/qb_model_export_XXXXXX")));
  qb_test_capture fp = {{0}, {0}}, again = {{0}, {0}};
  QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_FP32, NULL, &fp) == 0);
  const size_t last = m->nnodes - 1, n = fp.numel[last];
  qb_model m2;
  QB_CHECK(qb_model_export_onnx(m, path, &err) == 0);
  QB_CHECK(qb_model_load_onnx(path, &m2, &err) == 0);
  QB_CHECK(qb_test_run_capture(&m2, d->x, 32, QB_EXEC_FP32, NULL, &again) == 0);
  QB_CHECK_MSG(memcmp(fp.out[last], again.out[m2.nnodes - 1], n * sizeof(float)) == 0,
               "%s: fp32 export round trip changes outputs", what);
  qb_model_free(&m2);
  qb_test_capture_free(&again);
  /* QDQ: the exported graph run in fp32 reproduces the simulation, below 8 bits too
   * (percentile ranges clip, so the b-bit clamp is exercised: an export clamping to
   * the 8-bit range instead differs). */
  static const char* const qdq_configs[] = {
      "w8-sym-channel/a8-aff/static", "w8-sym-channel/a4-aff-percentile:99/static",
      "w8-sym-channel/a2-aff-percentile:99/static", "w4-sym-channel/a4-sym-percentile:99/static"};
  for (size_t c = 0; c < sizeof qdq_configs / sizeof *qdq_configs; c++) {
  qb_quant_state* q = qb_test_quantize(m, qdq_configs[c], QB_BACKEND_COUNT, d);
  QB_CHECK(q != NULL);
  if (q) {
    qb_test_capture sim = {{0}, {0}};
    QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_SIMULATED, q, &sim) == 0);
    /* The simulated logits: the graph output (the last layer's hook reports at the
     * layer's node when an Add is folded into it). */
    float* logits = malloc(n * sizeof *logits);
    memcpy(logits, qb_model_output(m, 0)->data, n * sizeof *logits);
    QB_CHECK(qb_model_export_qdq(m, q, path, &err) == 0);
    QB_CHECK(qb_model_load_onnx(path, &m2, &err) == 0);
    QB_CHECK(qb_test_run_capture(&m2, d->x, 32, QB_EXEC_FP32, NULL, &again) == 0);
    const double diff = max_abs_diff(logits, qb_model_output(&m2, 0)->data, n);
    free(logits);
    printf("  %s QDQ export %s: %zu nodes, max |qdq - simulated| = %.3g\n", what,
           qdq_configs[c], m2.nnodes, diff);
    QB_CHECK(m2.nnodes > m->nnodes);
    QB_CHECK_MSG(diff == 0, "%s %s", what, qdq_configs[c]);
    qb_model_free(&m2);
    qb_test_capture_free(&sim), qb_test_capture_free(&again);
    qb_quant_free(q);
  }
  }
  qb_test_capture_free(&fp);
  unlink(path);
}

/* Static quantization requantizes every quantized layer's output, per-group weights
 * included (they keep an fp32 bias: there is no one scale per output channel for an
 * int32 bias): each output value sits on the layer's calibrated output grid. */
static void check_static_outputs_on_grid(qb_model* m, const qb_dataset* d, const char* qconfig) {
  qb_quant_state* q = qb_test_quantize(m, qconfig, QB_BACKEND_COUNT, d);
  QB_CHECK_MSG(q != NULL, "%s", qconfig);
  if (!q) return;
  qb_test_capture c = {{0}, {0}};
  QB_CHECK(qb_test_run_capture(m, d->x, 32, QB_EXEC_INTEGER, q, &c) == 0);
  size_t layers = 0;
  for (size_t k = 0; k < m->nnodes; k++) {
    qb_quant_layer_info li;
    qb_quant_layer(q, k, &li);
    if (!li.quantized || !c.out[k]) continue;
    layers++;
    QB_CHECK(li.has_out_qparams);
    size_t off = 0;
    for (size_t i = 0; i < c.numel[k]; i++) {
      const double code = (double)c.out[k][i] / li.out_scale + li.out_zero_point;
      off += fabs(code - nearbyint(code)) > 1e-3;
    }
    QB_CHECK_MSG(off == 0, "%s layer %s: %zu of %zu outputs off the grid", qconfig,
                 m->nodes[k].name, off, c.numel[k]);
  }
  QB_CHECK(layers > 0);
  qb_test_capture_free(&c);
  qb_quant_free(q);
}

static void check_qconfig_text(void) {
  const char* good[] = {"w8-sym-channel-minmax/a8-aff-tensor-minmax/static", "w8/a8",
                        "w4-sym-group:32-mse/weight-only", "w8/a8-percentile:99.9/dynamic",
                        "w8-restricted-mulrecip/a8-sym-entropy"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    qb_qconfig a, b;
    qb_error err;
    char s1[400], s2[400];
    QB_CHECK_MSG(qb_qconfig_parse(good[i], &a, &err) == 0, "%s: %s", good[i], err.msg);
    qb_qconfig_str(&a, s1, sizeof s1);
    QB_CHECK_MSG(qb_qconfig_parse(s1, &b, &err) == 0, "%s: %s", s1, err.msg);
    QB_CHECK_MSG(!strcmp(qb_qconfig_str(&b, s2, sizeof s2), s1), "%s != %s", s1, s2);
  }
  const char* bad[] = {"", "a8/w8", "w9/a8", "w8/a8-channel", "w8/a8/sometimes", "w8-foo", "w8/a8/static/x"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    qb_qconfig a;
    qb_error err = {{0}};
    QB_CHECK_MSG(qb_qconfig_parse(bad[i], &a, &err) != 0 && err.msg[0], "'%s' accepted", bad[i]);
  }
}

int main(void) {
  qb_test_seed(20261201);
  check_qconfig_text();
  qb_model mlp, cnn, gcnn;
  QB_CHECK(qb_test_build_mlp(&mlp, 16, 24) == 0);
  QB_CHECK(build_cnn(&cnn, 4) == 0);
  QB_CHECK(build_cnn(&gcnn, 2) == 0);
  qb_dataset dm, dc;
  qb_test_random_dataset(&dm, 64, 16);
  qb_test_random_dataset(&dc, 64, 2 * 8 * 8);
  check_int_vs_sim(&mlp, &dm, "w8-sym-channel-minmax/a8-aff-tensor-minmax/static", "mlp");
  check_int_vs_sim(&mlp, &dm, "w8-sym-tensor-minmax/a8-aff-tensor-mse/static", "mlp");
  check_int_vs_sim(&cnn, &dc, "w8-sym-channel-minmax/a8-aff-tensor-minmax/static", "cnn");
  check_int_vs_sim(&cnn, &dc, "w8-aff-channel-minmax/a8-sym-tensor-minmax/static", "cnn");
  check_int_vs_sim(&gcnn, &dc, "w8-sym-channel-minmax/a8-aff-tensor-minmax/static", "grouped-cnn");
  check_backends(&mlp, &dm, "mlp");
  check_backends(&gcnn, &dc, "grouped-cnn");
  check_backends(&cnn, &dc, "cnn");
  check_workflows(&mlp, &dm, "mlp");
  check_workflows(&cnn, &dc, "cnn");
  check_static_outputs_on_grid(&mlp, &dm, "w4-sym-group:8-minmax/a4-aff-tensor-minmax/static");
  check_static_outputs_on_grid(&mlp, &dm, "w8-sym-channel-minmax/a4-aff-tensor-minmax/static");
  check_static_outputs_on_grid(&cnn, &dc, "w4-sym-group:8-minmax/a8-aff-tensor-minmax/static");
  check_recalibration(&mlp, &dm);
  check_export(&mlp, &dm, "mlp");
  check_export(&cnn, &dc, "cnn");
  qb_dataset_free(&dm), qb_dataset_free(&dc);
  qb_model_free(&mlp), qb_model_free(&cnn), qb_model_free(&gcnn);
  return qb_test_finish("test_model_quant");
}
