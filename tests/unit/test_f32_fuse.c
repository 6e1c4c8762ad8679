/* The fp32 run's Conv / Gemm + Relu / Clip fusion (qb_model_run_nodes_f32,
 * qb_node.f32_fuse_act), on small graphs x -> producer -> activation -> z:
 *  1. the fused run is bit-identical to the unfused one (qb_model_set_f32_fusion off:
 *     every node runs apart, the separate Relu / Clip ops being the spec) on every
 *     path that applies the activation: the virtual-column compaction (3x3 stride 1),
 *     the in-place bias pass (pointwise, stride 2, no bias), depthwise, Gemm (transB,
 *     alpha, C); Relu, Clip(0, 6), Clip(-1.5, 0.5), Clip by attributes (opset 10) and
 *     with an omitted min; batch 1 and 3, 1 and 2 threads;
 *  2. -0 and NaN: inputs with a band of zeros and smallest subnormals make the
 *     producer output -0 (an fma chain rounding a negative product below half the
 *     smallest subnormal; checked to occur), which Relu turns into +0 and Clip(0, 6)
 *     keeps; NaN inputs give NaN outputs, which Relu turns into +0 and Clip passes;
 *  3. the fusion happens where it should (qb_model_f32_fused_act, the "conv+act"
 *     row name, one timing-hook call per pair at the producer's index with the
 *     activation's output) and NOT when the producer's output has another reader,
 *     is a graph output, or the Clip bound is not a constant;
 *  4. the arena: the activation's output never overlaps the producer's inputs (it is
 *     written while they are read);
 *  5. the reference models (when present): fused vs unfused bit-identical. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model.h"
#include "qb_model_quant.h"
#include "qb_onnx_builder.h"
#include "qb_test.h"
#include "qb_test_model.h"

typedef enum { P_CONV, P_GEMM } producer_kind;
typedef enum { A_RELU, A_CLIP_INPUTS, A_CLIP_ATTRS, A_CLIP_NO_MIN, A_CLIP_VAR_MAX } act_kind;
typedef enum { USE_ONLY, USE_ALSO_ADD, USE_GRAPH_OUTPUT } use_kind;

typedef struct {
  const char* what;
  producer_kind p;
  /* Conv: cin x h x w -> cout, k x k, stride s, pad, groups; Gemm: [h, cin] x [cin, cout] */
  size_t cin, h, w, cout, k, s, pad, groups;
  bool bias;
  act_kind act;
  float lo, hi;
  use_kind use;
  bool expect_fused;
} fuse_case;

static const fuse_case k_cases[] = {
    {"conv 3x3 + relu (compaction)", P_CONV, 2, 9, 11, 5, 3, 1, 1, 1, false, A_RELU, 0, 0, USE_ONLY, true},
    {"conv 3x3 + clip(0,6)", P_CONV, 2, 9, 11, 5, 3, 1, 1, 1, false, A_CLIP_INPUTS, 0, 6, USE_ONLY, true},
    {"conv 3x3 bias + clip(-1.5,0.5)", P_CONV, 3, 8, 7, 4, 3, 1, 1, 1, true, A_CLIP_INPUTS, -1.5f, 0.5f, USE_ONLY, true},
    {"pointwise + relu (in place)", P_CONV, 4, 5, 7, 6, 1, 1, 0, 1, true, A_RELU, 0, 0, USE_ONLY, true},
    {"pointwise no bias + clip(0,6)", P_CONV, 4, 5, 7, 6, 1, 1, 0, 1, false, A_CLIP_INPUTS, 0, 6, USE_ONLY, true},
    {"conv stride 2 + clip(-1.5,0.5)", P_CONV, 2, 11, 10, 3, 3, 2, 1, 1, true, A_CLIP_INPUTS, -1.5f, 0.5f, USE_ONLY, true},
    {"depthwise + clip(0,6)", P_CONV, 6, 9, 9, 6, 3, 1, 1, 6, true, A_CLIP_INPUTS, 0, 6, USE_ONLY, true},
    {"depthwise no bias + relu", P_CONV, 6, 9, 9, 6, 3, 1, 1, 6, false, A_RELU, 0, 0, USE_ONLY, true},
    {"depthwise s2 + clip attrs(-0.25,0.75)", P_CONV, 5, 10, 9, 5, 3, 2, 1, 5, true, A_CLIP_ATTRS, -0.25f, 0.75f, USE_ONLY, true},
    {"conv + clip(max 0.5 only)", P_CONV, 2, 7, 7, 3, 3, 1, 1, 1, false, A_CLIP_NO_MIN, 0, 0.5f, USE_ONLY, true},
    {"gemm + relu", P_GEMM, 37, 1, 0, 21, 0, 0, 0, 0, true, A_RELU, 0, 0, USE_ONLY, true},
    {"gemm no C + relu", P_GEMM, 37, 1, 0, 21, 0, 0, 0, 0, false, A_RELU, 0, 0, USE_ONLY, true},
    {"gemm M=5 + clip(-1.5,0.5)", P_GEMM, 19, 5, 0, 33, 0, 0, 0, 0, true, A_CLIP_INPUTS, -1.5f, 0.5f, USE_ONLY, true},
    /* Not fused: */
    {"conv output also read by an Add", P_CONV, 2, 9, 11, 5, 3, 1, 1, 1, true, A_RELU, 0, 0, USE_ALSO_ADD, false},
    {"gemm output also read by an Add", P_GEMM, 37, 1, 0, 21, 0, 0, 0, 0, true, A_CLIP_INPUTS, 0, 6, USE_ALSO_ADD, false},
    {"conv output is a graph output", P_CONV, 2, 9, 11, 5, 3, 1, 1, 1, true, A_RELU, 0, 0, USE_GRAPH_OUTPUT, false},
    {"clip max from a graph input", P_CONV, 2, 9, 11, 5, 3, 1, 1, 1, true, A_CLIP_VAR_MAX, 0, 6, USE_ONLY, false},
};

static void add_tensor(qb_onnx_builder* b, const char* name, int ndim, const size_t* dims,
                       float lo, float hi) {
  qb_tensor t;
  qb_tensor_alloc(&t, QB_F32, ndim, dims, NULL);
  float* v = t.data;
  for (size_t i = 0; i < qb_tensor_numel(&t); i++) v[i] = qb_rand_uniform(lo, hi);
  qb_onnx_builder_initializer(b, name, &t);
  qb_tensor_free(&t);
}

static void add_scalar(qb_onnx_builder* b, const char* name, float v) {
  qb_tensor t;
  qb_tensor_alloc(&t, QB_F32, 0, NULL, NULL);
  ((float*)t.data)[0] = v;
  qb_onnx_builder_initializer(b, name, &t);
  qb_tensor_free(&t);
}


static int build(const fuse_case* c, qb_model* m) {
  const bool attrs = c->act == A_CLIP_ATTRS;
  qb_onnx_builder* b = qb_onnx_builder_new("test", attrs ? 10 : 17);
  if (c->p == P_CONV) {
    qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, (int64_t)c->cin, (int64_t)c->h, (int64_t)c->w});
    /* Weights within +-0.4: a weight times the smallest subnormal rounds to +-0. */
    add_tensor(b, "w", 4, (size_t[]){c->cout, c->cin / c->groups, c->k, c->k}, -0.4f, 0.4f);
    if (c->bias) add_tensor(b, "b", 1, (size_t[]){c->cout}, -0.5f, 0.5f);
    qb_onnx_node* n = qb_onnx_builder_node(b, "Conv", "conv", c->bias ? 3 : 2,
                                           (const char*[]){"x", "w", "b"}, 1, (const char*[]){"y"});
    qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){(int64_t)c->s, (int64_t)c->s});
    const int64_t p = (int64_t)c->pad;
    qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){p, p, p, p});
    qb_onnx_node_attr_int(n, "group", (int64_t)c->groups);
  } else {
    qb_onnx_builder_input(b, "x", QB_F32, 2, (int64_t[]){-1, (int64_t)c->cin});
    add_tensor(b, "w", 2, (size_t[]){c->cout, c->cin}, -0.4f, 0.4f);
    if (c->bias) add_tensor(b, "b", 1, (size_t[]){c->cout}, -0.5f, 0.5f);
    qb_onnx_node* n = qb_onnx_builder_node(b, "Gemm", "fc", c->bias ? 3 : 2,
                                           (const char*[]){"x", "w", "b"}, 1, (const char*[]){"y"});
    qb_onnx_node_attr_int(n, "transB", 1);
    qb_onnx_node_attr_float(n, "alpha", 1.25f);
  }
  if (c->act == A_CLIP_VAR_MAX) qb_onnx_builder_input(b, "hi", QB_F32, 0, NULL);
  switch (c->act) {
    case A_RELU:
      qb_onnx_builder_node(b, "Relu", "act", 1, (const char*[]){"y"}, 1, (const char*[]){"z"});
      break;
    case A_CLIP_INPUTS:
      add_scalar(b, "lo", c->lo), add_scalar(b, "hi", c->hi);
      qb_onnx_builder_node(b, "Clip", "act", 3, (const char*[]){"y", "lo", "hi"}, 1, (const char*[]){"z"});
      break;
    case A_CLIP_NO_MIN: /* min omitted (empty name): -FLT_MAX, as the op reads it */
      add_scalar(b, "hi", c->hi);
      qb_onnx_builder_node(b, "Clip", "act", 3, (const char*[]){"y", "", "hi"}, 1, (const char*[]){"z"});
      break;
    case A_CLIP_VAR_MAX:
      add_scalar(b, "lo", c->lo);
      qb_onnx_builder_node(b, "Clip", "act", 3, (const char*[]){"y", "lo", "hi"}, 1, (const char*[]){"z"});
      break;
    case A_CLIP_ATTRS: {
      qb_onnx_node* n = qb_onnx_builder_node(b, "Clip", "act", 1, (const char*[]){"y"}, 1, (const char*[]){"z"});
      qb_onnx_node_attr_float(n, "min", c->lo), qb_onnx_node_attr_float(n, "max", c->hi);
      break;
    }
  }
  const char* out = "z";
  if (c->use == USE_ALSO_ADD) {
    qb_onnx_builder_node(b, "Add", "sum", 2, (const char*[]){"y", "z"}, 1, (const char*[]){"s"});
    out = "s";
  }
  if (c->p == P_CONV) {
    const int64_t od[4] = {-1, (int64_t)c->cout, -1, -1};
    qb_onnx_builder_output(b, out, QB_F32, 4, od);
    if (c->use == USE_GRAPH_OUTPUT) qb_onnx_builder_output(b, "y", QB_F32, 4, od);
  } else {
    const int64_t od[2] = {-1, (int64_t)c->cout};
    qb_onnx_builder_output(b, out, QB_F32, 2, od);
    if (c->use == USE_GRAPH_OUTPUT) qb_onnx_builder_output(b, "y", QB_F32, 2, od);
  }
  return qb_test_save_and_load(b, m);
}

/* Inputs: a band of zeros and +-smallest subnormals (the first third of each channel
 * plane; Gemm: every third row), where the producer's fma chains (weights within
 * +-0.4) round every partial sum to +-0, the sign of its last nonzero product: -0
 * about half the time when nothing is added after the chain (a bias turns it +0;
 * depthwise multiplies then adds from +0, which never gives -0). The rest uniform, a
 * NaN every nan_every values. */
static void fill_input(const fuse_case* c, float* x, size_t images, size_t nan_every) {
  const float tiny = 1.4e-45f; /* the smallest subnormal */
  const size_t rows = c->p == P_GEMM ? images * c->h : images * c->cin;
  const size_t row = c->p == P_GEMM ? c->cin : c->h * c->w; /* a Gemm row / a Conv plane */
  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < row; j++) {
      float* v = &x[i * row + j];
      const bool band = c->p == P_GEMM ? i % 3 == 0 : j < row / 3;
      if (band) {
        const uint32_t r = qb_rand_below(3);
        *v = r == 0 ? 0.0f : r == 1 ? tiny : -tiny;
      } else {
        *v = qb_rand_uniform(-2.0f, 2.0f);
      }
      if (nan_every && (i * row + j) % nan_every == nan_every - 1) *v = NAN;
    }
}

typedef struct {
  size_t calls, node[8];
  const float* data[8];
} hook_log;

static void timing_hook(void* ctx, const qb_model* m, size_t k, const qb_value* out) {
  hook_log* h = ctx;
  (void)m;
  if (h->calls < 8) h->node[h->calls] = k, h->data[h->calls] = out->data;
  h->calls++;
}

static bool overlaps(const qb_value* a, const qb_value* b) {
  const char *pa = (const char*)a->data, *pb = (const char*)b->data;
  return pa < pb + b->numel * sizeof(float) && pb < pa + a->numel * sizeof(float);
}

static void check_case(const fuse_case* c) {
  qb_model m;
  if (build(c, &m)) {
    QB_CHECK_MSG(0, "%s: build", c->what);
    return;
  }
  const size_t per = c->p == P_CONV ? c->cin * c->h * c->w : c->h * c->cin;
  const size_t images = 3;
  float* x = malloc(images * per * sizeof *x);
  const float var_hi = 6.0f;
  const float* xs[2] = {x, &var_hi};
  const struct { size_t batch, threads, nan_every; } runs[] = {{1, 1, 0}, {3, 1, 17}, {3, 2, 0}, {1, 2, 23}};
  qb_error err;
  size_t neg_zero = 0;
  for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
    /* Gemm: the batch is M (h rows per image). */
    const size_t batch = c->p == P_GEMM ? runs[r].batch * c->h : runs[r].batch;
    fill_input(c, x, runs[r].batch, runs[r].nan_every);
    if (qb_model_set_threads(&m, runs[r].threads, &err) || qb_model_prepare(&m, batch, &err)) {
      QB_CHECK_MSG(0, "%s: prepare: %s", c->what, err.msg);
      break;
    }
    const int conv = qb_model_find_value(&m, "y"), act_out = qb_model_find_value(&m, "z");
    const qb_value *y = &m.values[conv], *z = &m.values[act_out];
    const qb_value* out = qb_model_output(&m, 0);
    /* Unfused: the spec. */
    qb_model_set_f32_fusion(&m, false);
    QB_CHECK(qb_model_f32_fused_act(&m, 0) == -1);
    if (qb_model_run_f32(&m, xs, NULL, NULL, &err)) {
      QB_CHECK_MSG(0, "%s: run: %s", c->what, err.msg);
      break;
    }
    for (size_t i = 0; i < y->numel; i++) neg_zero += y->data[i] == 0.0f && signbit(y->data[i]);
    const size_t n = out->numel;
    float* want = malloc(n * sizeof *want);
    memcpy(want, out->data, n * sizeof *want);
    /* Fused, no hook. */
    qb_model_set_f32_fusion(&m, true);
    const bool fused = qb_model_f32_fused_act(&m, 0) == 1;
    QB_CHECK_MSG(fused == c->expect_fused, "%s: fused %d, expected %d", c->what, fused, c->expect_fused);
    memset(out->data, 0xA5, n * sizeof(float)); /* the run must write every element */
    QB_CHECK(qb_model_run_f32(&m, xs, NULL, NULL, &err) == 0);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += memcmp(&want[i], &out->data[i], sizeof(float)) != 0;
    QB_CHECK_MSG(bad == 0, "%s, batch %zu, %zu threads: %zu of %zu fused outputs differ from "
                 "the unfused run", c->what, runs[r].batch, runs[r].threads, bad, n);
    /* A timing hook: the same bits; one call per fused pair, at the producer. */
    qb_model_exec exec = {QB_EXEC_FP32, NULL, timing_hook, NULL, true};
    hook_log log = {0};
    exec.hook_ctx = &log;
    memset(out->data, 0xA5, n * sizeof(float));
    QB_CHECK(qb_model_run(&m, xs, &exec, &err) == 0);
    bad = 0;
    for (size_t i = 0; i < n; i++) bad += memcmp(&want[i], &out->data[i], sizeof(float)) != 0;
    QB_CHECK_MSG(bad == 0, "%s: timing-hook run differs in %zu outputs", c->what, bad);
    char name[64];
    qb_model_f32_node_name(&m, 0, name, sizeof name);
    if (c->expect_fused) {
      QB_CHECK_MSG(log.calls == m.nnodes - 1 && log.node[0] == 0 && log.data[0] == z->data,
                   "%s: %zu hook calls, first at node %zu", c->what, log.calls, log.node[0]);
      QB_CHECK_MSG(!strcmp(name, c->p == P_CONV ? "conv+act" : "fc+act"), "%s: row name '%s'",
                   c->what, name);
      for (int i = 0; i < m.nodes[0].nin; i++)
        if (m.nodes[0].in[i] >= 0)
          QB_CHECK_MSG(!overlaps(&m.values[m.nodes[0].in[i]], z),
                       "%s: the activation's output overlaps input %d of the producer", c->what, i);
    } else {
      QB_CHECK_MSG(log.calls == m.nnodes, "%s: %zu hook calls for %zu nodes", c->what, log.calls, m.nnodes);
      QB_CHECK(!strcmp(name, c->p == P_CONV ? "conv" : "fc"));
    }
    free(want);
  }
  /* The -0 hunt must have found some where the producer can output -0. */
  if (!c->bias && c->groups <= 1)
    QB_CHECK_MSG(neg_zero > 0, "%s: the producer never output -0", c->what);
  free(x);
  qb_model_free(&m);
}

/* The reference models: fused vs unfused, bit for bit, batch 3. */
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
  const size_t per = m.values[m.inputs[0]].numel, batch = 3;
  float* x = malloc(batch * per * sizeof *x);
  for (size_t i = 0; i < batch * per; i++) x[i] = qb_rand_uniform(-1.0f, 2.0f);
  const float* xs[1] = {x};
  QB_CHECK(qb_model_prepare(&m, batch, &err) == 0);
  size_t pairs = 0;
  for (size_t k = 0; k < m.nnodes; k++) pairs += qb_model_f32_fused_act(&m, k) >= 0;
  qb_model_set_f32_fusion(&m, false);
  QB_CHECK(qb_model_run_f32(&m, xs, NULL, NULL, &err) == 0);
  const qb_value* out = qb_model_output(&m, 0);
  float* want = malloc(out->numel * sizeof *want);
  memcpy(want, out->data, out->numel * sizeof *want);
  qb_model_set_f32_fusion(&m, true);
  QB_CHECK(qb_model_run_f32(&m, xs, NULL, NULL, &err) == 0);
  QB_CHECK_MSG(!memcmp(want, out->data, out->numel * sizeof *want),
               "%s: fused outputs differ from the unfused run", path);
  printf("%s: %zu fused Conv/Gemm + activation pairs, outputs identical to the unfused run\n",
         path, pairs);
  free(want), free(x);
  qb_model_free(&m);
}

int main(void) {
  qb_test_seed(11);
  for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) check_case(&k_cases[i]);
  qb_test_each_reference_model(check_model);
  return qb_test_finish("test_f32_fuse");
}
