/* The static integer pipeline (harness/qruntime/qb_model_q*.c):
 *   - hand-worked integer Add (QLinearAdd), MaxPool, GlobalAveragePool (ties to
 *     even) and Concat (requantized) on grids chosen here;
 *   - a small CNN with Conv+Clip / Conv+Relu folded, MaxPool, a residual Add,
 *     depthwise Conv, AveragePool, Concat, two Transposes, GlobalAveragePool,
 *     Flatten, MatMul with a folded bias Add and a Softmax island: the kernel of every node, the folded
 *     clamps (outputs inside the activation's bounds, on the grid), integer vs
 *     simulated within one step everywhere, and bit-identical outputs on every
 *     usable exact backend for 1 and 2 threads, with both requantization rules;
 *   - the QDQ export of that pipeline, imported and run in fp32, gives the simulated
 *     probabilities exactly (and the integer ones within the tie rate);
 *   - non-finite activations are an error naming the node;
 *   - dynamic: per-sample activation ranges, so a batch of 100 gives each sample
 *     exactly what a batch of 1 gives (integer and simulated). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_model_export.h"

#include "qb_model_probe.h"
#include "qb_test.h"
#include "qb_test_model.h"

static void add_tensor(qb_onnx_builder* b, const char* name, int ndim, const size_t* dims,
                       const float* v) {
  qb_tensor t;
  if (qb_tensor_alloc(&t, QB_F32, ndim, dims, NULL)) return;
  memcpy(t.data, v, qb_tensor_numel(&t) * sizeof(float));
  qb_onnx_builder_initializer(b, name, &t);
  qb_tensor_free(&t);
}

static qb_onnx_node* node(qb_onnx_builder* b, const char* op, const char* name, size_t nin,
                          const char** in, const char* out) {
  return qb_onnx_builder_node(b, op, name, nin, in, 1, (const char*[]){out});
}

/* ------------------------------------------------------------ hand-worked */

/* x[1,2,1,2] -> two identity 1x1 Convs a, b -> s = Add(a, b);
 * m = MaxPool(a, 1x2), g = GlobalAveragePool(b), c = Concat(m, g). */
static int build_hand(qb_model* m) {
  qb_onnx_builder* b = qb_onnx_builder_new("hand", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 2, 1, 2});
  const float eye[4] = {1, 0, 0, 1};
  add_tensor(b, "wa", 4, (size_t[]){2, 2, 1, 1}, eye);
  add_tensor(b, "wb", 4, (size_t[]){2, 2, 1, 1}, eye);
  node(b, "Conv", "conv_a", 2, (const char*[]){"x", "wa"}, "a");
  node(b, "Conv", "conv_b", 2, (const char*[]){"x", "wb"}, "b");
  node(b, "Add", "add", 2, (const char*[]){"a", "b"}, "s");
  qb_onnx_node* n = node(b, "MaxPool", "max", 1, (const char*[]){"a"}, "m");
  qb_onnx_node_attr_ints(n, "kernel_shape", 2, (int64_t[]){1, 2});
  node(b, "GlobalAveragePool", "gap", 1, (const char*[]){"b"}, "g");
  n = node(b, "Concat", "cat", 2, (const char*[]){"m", "g"}, "c");
  qb_onnx_node_attr_int(n, "axis", 1);
  qb_onnx_builder_output(b, "s", QB_F32, 4, (int64_t[]){-1, 2, 1, 2});
  qb_onnx_builder_output(b, "c", QB_F32, 4, (int64_t[]){-1, 4, 1, 1});
  return qb_test_save_and_load(b, m);
}

static void set_qp(qb_model* m, qb_qparams* qp, bool* has, const char* name, float s, int32_t zp) {
  const int v = qb_model_find_value(m, name);
  QB_CHECK_MSG(v >= 0, "value %s", name);
  if (v < 0) return;
  qp[v] = (qb_qparams){s, zp};
  has[v] = true;
}

static void check_hand_worked(qb_backend be) {
  qb_model m;
  QB_CHECK(build_hand(&m) == 0);
  /* x on its grid (s 0.5, zp 10): channel 0 = {1.0, 2.5}, channel 1 = {-0.5, 3.0}. */
  const float x[4] = {1.0f, 2.5f, -0.5f, 3.0f};
  qb_dataset d = {0};
  qb_test_random_dataset(&d, 16, 4);
  qb_quant_state* q = qb_test_quantize(&m, "w8-sym-channel/a8-aff/static", be, &d);
  QB_CHECK(q != NULL);
  if (!q) {
    qb_dataset_free(&d), qb_model_free(&m);
    return;
  }
  const size_t nv = qb_probe_nvalues(q);
  qb_qparams* qp = calloc(nv, sizeof *qp);
  bool* has = calloc(nv, sizeof *has);
  qb_probe_get_act_qparams(q, qp, has);
  set_qp(&m, qp, has, "x", 0.5f, 10);
  set_qp(&m, qp, has, "a", 0.5f, 10);   /* a = x */
  set_qp(&m, qp, has, "b", 0.25f, 20);  /* b = x on a finer grid */
  set_qp(&m, qp, has, "s", 0.75f, 5);
  set_qp(&m, qp, has, "g", 0.5f, 0);
  set_qp(&m, qp, has, "c", 0.3f, 3);
  qb_error err;
  QB_CHECK_MSG(qb_probe_set_act_qparams(q, qp, has, &err) == 0, "%s", err.msg);
  qb_test_capture c = {{0}, {0}};
  QB_CHECK(qb_test_run_capture(&m, x, 1, QB_EXEC_INTEGER, q, &c) == 0);
  const char* want_kernel[] = {NULL, NULL, "qu8-add-fp32", "qu8-passthrough", "qu8-avgpool-fp32",
                               "qu8-concat-requantize"};
  for (size_t k = 2; k < m.nnodes && k < 6; k++) {
    qb_quant_layer_info li;
    qb_quant_layer(q, k, &li);
    QB_CHECK_MSG(!strcmp(li.kernel, want_kernel[k]), "%s: kernel %s", m.nodes[k].name, li.kernel);
  }
  /* Add: a + b = 2x = {2, 5, -1, 6}; on (0.75, 5): 2.667 -> 3, 6.667 -> 7, -1.333 -> -1,
   * 8 -> 8 steps: {2.25, 5.25, -0.75, 6}. */
  const float want_s[4] = {2.25f, 5.25f, -0.75f, 6.0f};
  /* Concat of max(a) = {2.5, 3.0} (a's grid) and mean(b) = {1.75, 1.25} on (0.5, 0):
   * int32 sums 14 and 10 times 0.25 = 3.5 and 2.5, ties to even: 4 and 2 -> {2, 1};
   * then onto (0.3, 3): 8.33 -> 8, 10 -> 10, 6.67 -> 7, 3.33 -> 3 steps. */
  const float want_c[4] = {8 * 0.3f, 10 * 0.3f, 7 * 0.3f, 3 * 0.3f};
  const qb_value *s = qb_model_output(&m, 0), *cv = qb_model_output(&m, 1);
  for (int i = 0; i < 4; i++) {
    QB_CHECK_MSG(fabsf(s->data[i] - want_s[i]) < 1e-6f, "%s add[%d] = %g, want %g",
                 qb_backend_name(be), i, s->data[i], want_s[i]);
    QB_CHECK_MSG(fabsf(cv->data[i] - want_c[i]) < 1e-6f, "%s concat[%d] = %g, want %g",
                 qb_backend_name(be), i, cv->data[i], want_c[i]);
  }
  /* The simulation computes the same. */
  float s_int[4], c_int[4];
  memcpy(s_int, s->data, sizeof s_int), memcpy(c_int, cv->data, sizeof c_int);
  qb_test_capture sim = {{0}, {0}};
  QB_CHECK(qb_test_run_capture(&m, x, 1, QB_EXEC_SIMULATED, q, &sim) == 0);
  QB_CHECK(memcmp(s_int, s->data, sizeof s_int) == 0 && memcmp(c_int, cv->data, sizeof c_int) == 0);
  qb_test_capture_free(&c), qb_test_capture_free(&sim);
  free(qp), free(has);
  qb_quant_free(q);
  qb_dataset_free(&d);
  qb_model_free(&m);
}

/* ------------------------------------------------------------ small CNN */

static int build_cnn(qb_model* m) {
  qb_onnx_builder* b = qb_onnx_builder_new("pipeline", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 3, 9, 9});
  qb_test_add_random_initializer(b, "w1", 4, (size_t[]){8, 3, 3, 3}, 0.4f);
  qb_test_add_random_initializer(b, "b1", 1, (size_t[]){8}, 0.2f);
  qb_test_add_random_initializer(b, "w2", 4, (size_t[]){8, 8, 3, 3}, 0.2f);
  qb_test_add_random_initializer(b, "b2", 1, (size_t[]){8}, 0.2f);
  qb_test_add_random_initializer(b, "wd", 4, (size_t[]){8, 1, 3, 3}, 0.4f);
  qb_test_add_random_initializer(b, "bd", 1, (size_t[]){8}, 0.2f);
  qb_test_add_random_initializer(b, "wf", 2, (size_t[]){16, 10}, 0.3f);
  qb_test_add_random_initializer(b, "bf", 1, (size_t[]){10}, 0.1f);
  qb_onnx_node* n = node(b, "Conv", "conv1", 3, (const char*[]){"x", "w1", "b1"}, "c1");
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
  n = node(b, "Clip", "relu6", 1, (const char*[]){"c1"}, "r1");
  qb_onnx_node_attr_float(n, "min", 0.0f);
  qb_onnx_node_attr_float(n, "max", 6.0f);
  n = node(b, "MaxPool", "pool", 1, (const char*[]){"r1"}, "p1");
  qb_onnx_node_attr_ints(n, "kernel_shape", 2, (int64_t[]){2, 2});
  qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
  n = node(b, "Conv", "conv2", 3, (const char*[]){"p1", "w2", "b2"}, "c2");
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
  node(b, "Relu", "relu2", 1, (const char*[]){"c2"}, "r2");
  node(b, "Add", "residual", 2, (const char*[]){"r2", "p1"}, "a");
  n = node(b, "Conv", "dw", 3, (const char*[]){"a", "wd", "bd"}, "d");
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
  qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
  qb_onnx_node_attr_int(n, "group", 8);
  node(b, "Relu", "dw.relu", 1, (const char*[]){"d"}, "r3");
  n = node(b, "AveragePool", "avg", 1, (const char*[]){"a"}, "ap");
  qb_onnx_node_attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3});
  qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
  n = node(b, "Concat", "cat", 2, (const char*[]){"r3", "ap"}, "cat");
  qb_onnx_node_attr_int(n, "axis", 1);
  n = node(b, "Transpose", "swap_hw", 1, (const char*[]){"cat"}, "t");
  qb_onnx_node_attr_ints(n, "perm", 4, (int64_t[]){0, 3, 2, 1});
  n = node(b, "Transpose", "swap_back", 1, (const char*[]){"t"}, "tb");
  qb_onnx_node_attr_ints(n, "perm", 4, (int64_t[]){0, 3, 2, 1});
  node(b, "GlobalAveragePool", "gap", 1, (const char*[]){"tb"}, "g");
  node(b, "Flatten", "flatten", 1, (const char*[]){"g"}, "f");
  node(b, "MatMul", "fc", 2, (const char*[]){"f", "wf"}, "mm");
  node(b, "Add", "fc.bias", 2, (const char*[]){"mm", "bf"}, "logits");
  n = node(b, "Softmax", "softmax", 1, (const char*[]){"logits"}, "prob");
  qb_onnx_node_attr_int(n, "axis", 1);
  qb_onnx_builder_output(b, "prob", QB_F32, 2, (int64_t[]){-1, 10});
  return qb_test_save_and_load(b, m);
}

static const struct {
  const char* node;
  const char* name;   /* per-layer row name, NULL: not a layer */
  const char* kernel; /* prefix of the kernel name */
} kPlan[] = {
    {"conv1", "conv1+relu6", "qb_qu8_qs8_qs32_gemm"}, {"relu6", NULL, "folded"},
    {"pool", NULL, "qu8-passthrough"},                {"conv2", "conv2+relu2", "qb_qu8_qs8_qs32_gemm"},
    {"relu2", NULL, "folded"},                        {"residual", NULL, "qu8-add-fp32"},
    {"dw", "dw+dw.relu", "qb_qu8_qs8_q"},             {"dw.relu", NULL, "folded"},
    {"avg", NULL, "qu8-avgpool-fp32"},                {"cat", NULL, "qu8-concat-requantize"},
    {"swap_hw", NULL, "qu8-passthrough"},             {"swap_back", NULL, "qu8-passthrough"},
    {"gap", NULL, "qu8-avgpool-fp32"},                {"flatten", NULL, "qu8-passthrough"},
    {"fc", "fc+fc.bias", "qb_qu8_qs8_qs32_gemm"},     {"fc.bias", NULL, "folded"},
    {"softmax", NULL, "fp32-islanded"},
};

static void check_plan(const qb_model* m, const qb_quant_state* q, bool gemmlowp) {
  QB_CHECK_EQ_INT((int)m->nnodes, (int)(sizeof kPlan / sizeof *kPlan));
  for (size_t k = 0; k < m->nnodes && k < sizeof kPlan / sizeof *kPlan; k++) {
    qb_quant_layer_info li;
    qb_quant_layer(q, k, &li);
    QB_CHECK_MSG(!strcmp(m->nodes[k].name, kPlan[k].node), "node %zu is %s", k, m->nodes[k].name);
    QB_CHECK_MSG(!strncmp(li.kernel, kPlan[k].kernel, strlen(kPlan[k].kernel)), "%s: kernel %s",
                 kPlan[k].node, li.kernel);
    /* Depthwise: the fused kernel (fp32 rule), else int32 then requantize. */
    const char* dw = gemmlowp ? "qb_qu8_qs8_qs32_dwconv2d" : "qb_qu8_qs8_qu8_dwconv2d_minmax_fp32";
    if (!strcmp(kPlan[k].node, "dw"))
      QB_CHECK_MSG(!strncmp(li.kernel, dw, strlen(dw)), "dw: kernel %s", li.kernel);
    if (kPlan[k].name)
      QB_CHECK_MSG(li.name && !strcmp(li.name, kPlan[k].name), "%s: row name %s", kPlan[k].node,
                   li.name ? li.name : "(none)");
  }
}

/* Integer vs simulated at every node the hook reports, in output steps; the
 * folded clamps hold (conv1+relu6 in [0, 6], relu'd layers >= 0). */
static void check_int_vs_sim(qb_model* m, const qb_dataset* d, qb_quant_state* q, const char* what) {
  qb_test_capture sim = {{0}, {0}}, in = {{0}, {0}};
  QB_CHECK(qb_test_run_capture(m, d->x, 16, QB_EXEC_SIMULATED, q, &sim) == 0);
  QB_CHECK(qb_test_run_capture(m, d->x, 16, QB_EXEC_INTEGER, q, &in) == 0);
  size_t compared = 0, differ = 0, total = 0;
  for (size_t k = 0; k < m->nnodes; k++) {
    if (!sim.out[k] || !in.out[k]) continue;
    qb_quant_layer_info li;
    qb_quant_layer(q, k, &li);
    if (!li.has_out_qparams) continue;
    compared++;
    double worst = 0;
    for (size_t i = 0; i < sim.numel[k]; i++) {
      const double steps = fabs((double)sim.out[k][i] - in.out[k][i]) / li.out_scale;
      worst = steps > worst ? steps : worst;
      differ += steps > 0.5, total++;
    }
    QB_CHECK_MSG(worst <= 1.0 + 1e-3, "%s %s: %.3f steps", what, m->nodes[k].name, worst);
    if (k == 0 || k == 3 || k == 6) { /* conv1+relu6, conv2+relu2, dw+dw.relu */
      float lo = INFINITY, hi = -INFINITY;
      for (size_t i = 0; i < in.numel[k]; i++) lo = fminf(lo, in.out[k][i]), hi = fmaxf(hi, in.out[k][i]);
      QB_CHECK_MSG(lo >= 0.0f, "%s %s: min %g below the folded Relu", what, m->nodes[k].name, lo);
      if (k == 0) QB_CHECK_MSG(hi <= 6.0f + 0.5f * li.out_scale, "%s conv1+relu6: max %g", what, hi);
    }
  }
  printf("  %s: %zu integer nodes vs simulated, %zu of %zu outputs one step apart\n", what,
         compared, differ, total);
  QB_CHECK(compared >= 10);
  QB_CHECK_MSG(differ * 100 <= total, "%s: %zu of %zu differ (ties only expected)", what, differ, total);
  qb_test_capture_free(&sim), qb_test_capture_free(&in);
}

static void check_backends(qb_model* m, const qb_dataset* d, const char* qconfig) {
  float* ref = NULL;
  size_t numel = 0, compared = 0;
  for (qb_backend be = QB_BACKEND_SCALAR; be < QB_BACKEND_COUNT; be++) {
    if (!qb_backend_describe(be)->exact || !qb_isa_usable(be)) continue;
    qb_quant_state* q = qb_test_quantize(m, qconfig, be, d);
    QB_CHECK(q != NULL);
    if (!q) continue;
    if (be == QB_BACKEND_SCALAR) {
      check_plan(m, q, strstr(qconfig, "gemmlowp") != NULL);
      check_int_vs_sim(m, d, q, qconfig);
    }
    for (size_t threads = 1; threads <= 2; threads++) {
      qb_error err;
      QB_CHECK(qb_quant_set_threads(q, threads, &err) == 0);
      qb_test_capture c = {{0}, {0}};
      QB_CHECK(qb_test_run_capture(m, d->x, 16, QB_EXEC_INTEGER, q, &c) == 0);
      const qb_value* y = qb_model_output(m, 0);
      if (!ref) {
        numel = y->numel;
        ref = malloc(numel * sizeof *ref);
        memcpy(ref, y->data, numel * sizeof *ref);
      } else {
        QB_CHECK_MSG(memcmp(ref, y->data, numel * sizeof *ref) == 0, "%s: %s, %zu threads differs",
                     qconfig, qb_backend_name(be), threads);
        compared++;
      }
      qb_test_capture_free(&c);
    }
    qb_quant_free(q);
  }
  printf("  %s: %zu (backend, threads) runs bit-identical to scalar\n", qconfig, compared);
  QB_CHECK(compared >= 1);
  free(ref);
}

/* A static integer run refuses non-finite activations (an error naming the node),
 * rather than running something else under the kernel's name. */
static void check_non_finite(qb_model* m, const qb_dataset* d) {
  qb_quant_state* q = qb_test_quantize(m, "w8/a8", QB_BACKEND_COUNT, d);
  QB_CHECK(q != NULL);
  if (!q) return;
  float* x = malloc(d->sample_numel * sizeof *x);
  memcpy(x, d->x, d->sample_numel * sizeof *x);
  x[5] = NAN;
  qb_error err = {{0}};
  const qb_model_exec e = {QB_EXEC_INTEGER, q, NULL, NULL, false};
  const float* in = x;
  QB_CHECK(qb_model_prepare(m, 1, &err) == 0);
  QB_CHECK(qb_model_run(m, &in, &e, &err) == -1);
  QB_CHECK_MSG(strstr(err.msg, "conv1") && strstr(err.msg, "non-finite"), "message: %s", err.msg);
  free(x);
  qb_quant_free(q);
}

/* QDQ export of the fused pipeline -> import -> fp32 run == the simulation. */
static void check_qdq_export(qb_model* m, const qb_dataset* d) {
  qb_quant_state* q = qb_test_quantize(m, "w8-sym-channel/a8-aff/static", QB_BACKEND_COUNT, d);
  QB_CHECK(q != NULL);
  if (!q) return;
  char path[64];
  close(mkstemp(strcpy(path, "/tmp/qb_pipeline_qdq_XXXXXX")));
  qb_test_capture c = {{0}, {0}};
  QB_CHECK(qb_test_run_capture(m, d->x, 16, QB_EXEC_SIMULATED, q, &c) == 0);
  const size_t n = qb_model_output(m, 0)->numel;
  float* sim = malloc(n * sizeof *sim);
  memcpy(sim, qb_model_output(m, 0)->data, n * sizeof *sim);
  QB_CHECK(qb_test_run_capture(m, d->x, 16, QB_EXEC_INTEGER, q, &c) == 0);
  float* in = malloc(n * sizeof *in);
  memcpy(in, qb_model_output(m, 0)->data, n * sizeof *in);
  qb_error err;
  qb_model m2;
  QB_CHECK_MSG(qb_model_export_qdq(m, q, path, &err) == 0, "%s", err.msg);
  QB_CHECK_MSG(qb_model_load_onnx(path, &m2, &err) == 0, "%s", err.msg);
  QB_CHECK(qb_test_run_capture(&m2, d->x, 16, QB_EXEC_FP32, NULL, &c) == 0);
  const float* y = qb_model_output(&m2, 0)->data;
  double sim_diff = 0, int_diff = 0;
  for (size_t i = 0; i < n; i++) {
    sim_diff = fmax(sim_diff, fabs((double)y[i] - sim[i]));
    int_diff = fmax(int_diff, fabs((double)y[i] - in[i]));
  }
  /* Quantize / dequantize nodes: the layer's weight, input and output, and the
   * integer Add / pools / Concat outputs; none between a Conv and its Relu. */
  size_t qdq = 0;
  for (size_t k = 0; k < m2.nnodes; k++) qdq += m2.nodes[k].op == QB_OP_QUANTIZE;
  printf("  QDQ export: %zu nodes (%zu QuantizeLinear), max |qdq - simulated| = %.3g, "
         "|qdq - integer| = %.3g\n", m2.nnodes, qdq, sim_diff, int_diff);
  QB_CHECK(sim_diff == 0);
  QB_CHECK(int_diff < 0.05);
  for (size_t k = 0; k + 1 < m2.nnodes; k++)
    if (m2.nodes[k].op == QB_OP_CONV)
      QB_CHECK_MSG(m2.nodes[k + 1].op != QB_OP_QUANTIZE, "QDQ after %s", m2.nodes[k].name);
  qb_model_free(&m2);
  qb_test_capture_free(&c);
  free(sim), free(in);
  unlink(path);
  qb_quant_free(q);
}

/* Dynamic: a batch of 100 gives every sample what a batch of 1 gives. */
static void check_dynamic_per_sample(qb_model* m, const qb_dataset* d) {
  qb_quant_state* q = qb_test_quantize(m, "w8/a8/dynamic", QB_BACKEND_COUNT, d);
  QB_CHECK(q != NULL);
  if (!q) return;
  const size_t B = 100, per = d->sample_numel;
  for (int mode = QB_EXEC_SIMULATED; mode <= QB_EXEC_INTEGER; mode++) {
    qb_test_capture c = {{0}, {0}};
    QB_CHECK(qb_test_run_capture(m, d->x, B, (qb_exec_mode)mode, q, &c) == 0);
    const qb_value* y = qb_model_output(m, 0);
    const size_t classes = y->numel / B;
    float* batched = malloc(y->numel * sizeof *batched);
    memcpy(batched, y->data, y->numel * sizeof *batched);
    size_t same = 0;
    for (size_t i = 0; i < B; i++) {
      QB_CHECK(qb_test_run_capture(m, d->x + i * per, 1, (qb_exec_mode)mode, q, &c) == 0);
      same += memcmp(qb_model_output(m, 0)->data, batched + i * classes, classes * sizeof(float)) == 0;
    }
    printf("  dynamic %s: %zu of %zu samples identical in batch 1 and batch %zu\n",
           mode == QB_EXEC_INTEGER ? "integer" : "simulated", same, B, B);
    QB_CHECK_EQ_INT((int)same, (int)B);
    free(batched);
    qb_test_capture_free(&c);
  }
  qb_quant_free(q);
}

static void check_qconfig_rule(void) {
  qb_qconfig c;
  qb_error err;
  char buf[256];
  QB_CHECK(qb_qconfig_parse("w8/a8-gemmlowp", &c, &err) == 0);
  QB_CHECK(c.requant == QB_REQUANT_GEMMLOWP);
  QB_CHECK(strstr(qb_qconfig_str(&c, buf, sizeof buf), "-gemmlowp/static") != NULL);
  QB_CHECK(qb_qconfig_parse(buf, &c, &err) == 0 && c.requant == QB_REQUANT_GEMMLOWP);
  QB_CHECK(qb_qconfig_parse("w8/a8", &c, &err) == 0 && c.requant == QB_REQUANT_FP32);
  QB_CHECK(strstr(qb_qconfig_str(&c, buf, sizeof buf), "gemmlowp") == NULL);
  QB_CHECK(qb_qconfig_parse("w8-gemmlowp/a8", &c, &err) != 0); /* activations only */
}

int main(void) {
  qb_test_seed(20261202);
  check_qconfig_rule();
  for (qb_backend be = QB_BACKEND_SCALAR; be < QB_BACKEND_COUNT; be++)
    if (qb_backend_describe(be)->exact && qb_isa_usable(be)) check_hand_worked(be);
  qb_model m;
  QB_CHECK(build_cnn(&m) == 0);
  qb_dataset d;
  qb_test_random_dataset(&d, 128, 3 * 9 * 9);
  check_backends(&m, &d, "w8-sym-channel/a8-aff/static");
  check_backends(&m, &d, "w8-sym-channel/a8-aff-gemmlowp/static");
  check_backends(&m, &d, "w8-sym-tensor/a8-aff-tensor-percentile:99.9/static");
  check_qdq_export(&m, &d);
  check_non_finite(&m, &d);
  check_dynamic_per_sample(&m, &d);
  qb_dataset_free(&d);
  qb_model_free(&m);
  return qb_test_finish("test_model_pipeline");
}
