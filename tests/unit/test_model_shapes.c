/* Model runtime: symbolic input dimensions, shape subgraphs evaluated at prepare
 * (PaddleOCR's Shape -> Cast -> Slice -> Cast -> Concat -> Reshape, PyTorch's Shape ->
 * Gather -> Div -> Unsqueeze -> Concat, Range -> Cast), the attribute forms of older
 * opsets (Slice 9, Squeeze / Unsqueeze 11) and opset-18 ReduceMean, and hand-worked
 * Gather, Resize and ConvTranspose; weights held in Constant nodes seen as
 * initializers by the ONNX layer and as layers by the quantizer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_model.h"
#include "qb_model_quant.h"
#include "qb_onnx.h"
#include "qb_onnx_builder.h"
#include "qb_test.h"
#include "qb_test_model.h"

static qb_tensor f32(int ndim, const size_t* dims, const float* v) {
  qb_tensor t;
  qb_tensor_alloc(&t, QB_F32, ndim, dims, NULL);
  if (v) memcpy(t.data, v, qb_tensor_bytes(&t));
  return t;
}

static qb_tensor i64(int ndim, size_t n, const int64_t* v) {
  qb_tensor t;
  qb_tensor_alloc(&t, QB_I64, ndim, (size_t[]){n}, NULL);
  memcpy(t.data, v, n * sizeof *v);
  return t;
}

static void add_init(qb_onnx_builder* b, const char* name, qb_tensor t) {
  qb_onnx_builder_initializer(b, name, &t);
  qb_tensor_free(&t);
}

/* A Constant node holding t (Paddle2ONNX keeps every weight in one). */
static void add_constant_node(qb_onnx_builder* b, const char* name, qb_tensor t) {
  char node[128];
  snprintf(node, sizeof node, "const_%s", name);
  qb_onnx_node* n = qb_onnx_builder_node(b, "Constant", node, 0, NULL, 1, (const char*[]){name});
  qb_onnx_node_attr_tensor(n, "value", &t);
  qb_tensor_free(&t);
}

static const float* run1(qb_model* m, size_t batch, const float* x) {
  qb_error err;
  if (qb_model_prepare(m, batch, &err) || qb_model_run(m, &x, NULL, &err)) {
    fprintf(stderr, "run: %s\n", err.msg);
    return NULL;
  }
  return qb_model_output(m, 0)->data;
}

/* PaddleOCR's chain (opset 9): x[N, 3, H, W] with H, W symbolic; Shape -> Cast(int32)
 * -> Slice(attributes: [0:1]) -> Cast(int64) -> Concat with a Constant node [-1] ->
 * Reshape(x) = [N, 3*H*W]. Nothing runs until the shape is given; then the chain
 * folds to a constant and is recomputed for another shape. */
static void test_paddle_shape_chain(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 9);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 3, -1, -1});
  add_constant_node(b, "minus1", i64(1, 1, (int64_t[]){-1}));
  qb_onnx_builder_node(b, "Shape", "shape", 1, (const char*[]){"x"}, 1, (const char*[]){"s"});
  qb_onnx_node* c = qb_onnx_builder_node(b, "Cast", "c32", 1, (const char*[]){"s"}, 1, (const char*[]){"s32"});
  qb_onnx_node_attr_int(c, "to", 6);
  qb_onnx_node* sl = qb_onnx_builder_node(b, "Slice", "slice", 1, (const char*[]){"s32"}, 1,
                                          (const char*[]){"n32"});
  qb_onnx_node_attr_ints(sl, "axes", 1, (int64_t[]){0});
  qb_onnx_node_attr_ints(sl, "starts", 1, (int64_t[]){0});
  qb_onnx_node_attr_ints(sl, "ends", 1, (int64_t[]){1});
  c = qb_onnx_builder_node(b, "Cast", "c64", 1, (const char*[]){"n32"}, 1, (const char*[]){"n"});
  qb_onnx_node_attr_int(c, "to", 7);
  qb_onnx_node* cc = qb_onnx_builder_node(b, "Concat", "cat", 2, (const char*[]){"n", "minus1"}, 1,
                                          (const char*[]){"target"});
  qb_onnx_node_attr_int(cc, "axis", 0);
  qb_onnx_builder_node(b, "Reshape", "reshape", 2, (const char*[]){"x", "target"}, 1,
                       (const char*[]){"flat"});
  qb_onnx_builder_node(b, "Relu", "relu", 1, (const char*[]){"flat"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, -1});
  qb_model m;
  QB_CHECK(qb_test_save_and_load(b, &m) == 0);
  qb_error err = {{0}};
  QB_CHECK(qb_model_needs_input_shape(&m));
  QB_CHECK(qb_model_prepare(&m, 1, &err) == -1 && strstr(err.msg, "dimension 2 is symbolic"));
  /* The data's sample shape gives H and W; a sample of another channel count is refused. */
  QB_CHECK(qb_model_fit_input(&m, 3, (size_t[]){4, 2, 5}, &err) == -1 && strstr(err.msg, "dimension 1 is 3"));
  QB_CHECK_MSG(qb_model_fit_input(&m, 3, (size_t[]){3, 2, 5}, &err) == 0, "%s", err.msg);
  QB_CHECK(!qb_model_needs_input_shape(&m));
  float x[2 * 3 * 4 * 6];
  for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = (float)i - 20.0f;
  const float* y = run1(&m, 2, x);
  QB_CHECK(y != NULL);
  const qb_value* out = qb_model_output(&m, 0);
  QB_CHECK_EQ_INT(out->ndim, 2);
  QB_CHECK_EQ_INT(out->dims[0], 2);
  QB_CHECK_EQ_INT(out->dims[1], 30);
  QB_CHECK_EQ_INT(m.nshape_nodes, 5); /* Shape, Cast, Slice, Cast, Concat */
  QB_CHECK_EQ_INT(m.nnodes, 2);       /* Reshape, Relu */
  if (y) QB_CHECK(y[0] == 0.0f && y[59] == 39.0f);
  /* Another shape: the chain is evaluated again. */
  QB_CHECK(qb_model_set_input_shape(&m, 0, 4, (size_t[]){1, 3, 4, 6}, &err) == 0);
  y = run1(&m, 2, x);
  QB_CHECK(y && qb_model_output(&m, 0)->dims[1] == 72 && y[143] == 123.0f);
  qb_model_free(&m);
}

/* PyTorch's chain (opset 13): x[N, 4, W] -> Reshape to [Gather(shape, 0), -1,
 * Gather(shape, 2) / 2] (scalar Gather indices, Unsqueeze with an axes input, int64
 * Div), plus Cast(Range(0, W/2, 1), float) added along the last axis. */
static void test_pytorch_shape_chain(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 13);
  qb_onnx_builder_input(b, "x", QB_F32, 3, (int64_t[]){-1, 4, -1});
  add_init(b, "i0", i64(0, 1, (int64_t[]){0}));
  add_init(b, "i2", i64(0, 1, (int64_t[]){2}));
  add_init(b, "two", i64(0, 1, (int64_t[]){2}));
  add_init(b, "one", i64(0, 1, (int64_t[]){1}));
  add_init(b, "axes0", i64(1, 1, (int64_t[]){0}));
  add_init(b, "minus1", i64(1, 1, (int64_t[]){-1}));
  qb_onnx_builder_node(b, "Shape", "shape", 1, (const char*[]){"x"}, 1, (const char*[]){"s"});
  qb_onnx_builder_node(b, "Gather", "g0", 2, (const char*[]){"s", "i0"}, 1, (const char*[]){"n"});
  qb_onnx_builder_node(b, "Gather", "g2", 2, (const char*[]){"s", "i2"}, 1, (const char*[]){"w"});
  qb_onnx_builder_node(b, "Div", "half", 2, (const char*[]){"w", "two"}, 1, (const char*[]){"w2"});
  qb_onnx_builder_node(b, "Unsqueeze", "un", 2, (const char*[]){"n", "axes0"}, 1, (const char*[]){"n1"});
  qb_onnx_builder_node(b, "Unsqueeze", "uw", 2, (const char*[]){"w2", "axes0"}, 1, (const char*[]){"w21"});
  qb_onnx_node* cc = qb_onnx_builder_node(b, "Concat", "cat", 3, (const char*[]){"n1", "minus1", "w21"},
                                          1, (const char*[]){"target"});
  qb_onnx_node_attr_int(cc, "axis", 0);
  qb_onnx_builder_node(b, "Reshape", "reshape", 2, (const char*[]){"x", "target"}, 1,
                       (const char*[]){"r"});
  qb_onnx_builder_node(b, "Range", "range", 3, (const char*[]){"i0", "w2", "one"}, 1,
                       (const char*[]){"pos"});
  qb_onnx_node* c = qb_onnx_builder_node(b, "Cast", "posf", 1, (const char*[]){"pos"}, 1,
                                         (const char*[]){"posf"});
  qb_onnx_node_attr_int(c, "to", 1);
  qb_onnx_builder_node(b, "Add", "add", 2, (const char*[]){"r", "posf"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 3, (int64_t[]){-1, 8, -1});
  qb_model m;
  QB_CHECK(qb_test_save_and_load(b, &m) == 0);
  qb_error err = {{0}};
  QB_CHECK_MSG(qb_model_fit_input(&m, 2, (size_t[]){4, 6}, &err) == 0, "%s", err.msg);
  float x[24];
  for (int i = 0; i < 24; i++) x[i] = (float)(i * 10);
  const float* y = run1(&m, 1, x);
  QB_CHECK(y != NULL);
  const qb_value* out = qb_model_output(&m, 0);
  QB_CHECK(out->ndim == 3 && out->dims[0] == 1 && out->dims[1] == 8 && out->dims[2] == 3);
  /* y[0, r, c] = x[3r + c] + c */
  if (y) QB_CHECK(y[0] == 0.0f && y[1] == 11.0f && y[2] == 22.0f && y[23] == 232.0f);
  QB_CHECK_EQ_INT(m.nnodes, 2); /* Reshape, Add: the rest folded */
  qb_model_free(&m);
}

/* Older attribute forms on activations: Slice (opset 9) and Squeeze / Unsqueeze
 * (opset < 13), as in PaddleOCR's rec attention (Slice [0:1] then Squeeze axis 0). */
static void test_attribute_forms(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 9);
  qb_onnx_builder_input(b, "x", QB_F32, 3, (int64_t[]){-1, 3, 2});
  qb_onnx_node* sl = qb_onnx_builder_node(b, "Slice", "slice", 1, (const char*[]){"x"}, 1, (const char*[]){"s"});
  qb_onnx_node_attr_ints(sl, "axes", 1, (int64_t[]){1});
  qb_onnx_node_attr_ints(sl, "starts", 1, (int64_t[]){1});
  qb_onnx_node_attr_ints(sl, "ends", 1, (int64_t[]){2});
  qb_onnx_node* sq = qb_onnx_builder_node(b, "Squeeze", "squeeze", 1, (const char*[]){"s"}, 1,
                                          (const char*[]){"q"});
  qb_onnx_node_attr_ints(sq, "axes", 1, (int64_t[]){1});
  qb_onnx_node* us = qb_onnx_builder_node(b, "Unsqueeze", "unsqueeze", 1, (const char*[]){"q"}, 1,
                                          (const char*[]){"y"});
  qb_onnx_node_attr_ints(us, "axes", 2, (int64_t[]){-1, 1});
  qb_onnx_builder_output(b, "y", QB_F32, 4, (int64_t[]){-1, 1, 2, 1});
  qb_model m;
  QB_CHECK(qb_test_save_and_load(b, &m) == 0);
  /* x[N=2, 3, 2]: x[:, 1:2, :] = 2, 3, 8, 9; squeezed [2, 2]; unsqueezed [2, 1, 2, 1]. */
  const float x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const float* y = run1(&m, 2, x);
  const qb_value* out = qb_model_output(&m, 0);
  QB_CHECK(y && out->ndim == 4 && out->dims[0] == 2 && out->dims[1] == 1 && out->dims[2] == 2 &&
           out->dims[3] == 1);
  if (y) QB_CHECK(y[0] == 2 && y[1] == 3 && y[2] == 8 && y[3] == 9);
  qb_model_free(&m);
}

/* Gather with a scalar index along axis 1 (a ViT's class token x[:, 0]) and a
 * negative index; opset-18 ReduceMean with axes as an input. */
static void test_gather_reducemean18(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 18);
  qb_onnx_builder_input(b, "x", QB_F32, 3, (int64_t[]){-1, 3, 2});
  add_init(b, "first", i64(0, 1, (int64_t[]){0}));
  add_init(b, "last", i64(1, 1, (int64_t[]){-1}));
  add_init(b, "axes", i64(1, 1, (int64_t[]){1}));
  qb_onnx_node* g = qb_onnx_builder_node(b, "Gather", "cls", 2, (const char*[]){"x", "first"}, 1,
                                         (const char*[]){"c"});
  qb_onnx_node_attr_int(g, "axis", 1);
  g = qb_onnx_builder_node(b, "Gather", "tail", 2, (const char*[]){"x", "last"}, 1, (const char*[]){"t"});
  qb_onnx_node_attr_int(g, "axis", -2);
  qb_onnx_node* r = qb_onnx_builder_node(b, "ReduceMean", "mean", 2, (const char*[]){"t", "axes"}, 1,
                                         (const char*[]){"mt"});
  qb_onnx_node_attr_int(r, "keepdims", 0);
  qb_onnx_builder_node(b, "Add", "add", 2, (const char*[]){"c", "mt"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 2});
  qb_model m;
  QB_CHECK(qb_test_save_and_load(b, &m) == 0);
  /* c = x[:, 0, :] = [1, 2]; t = x[:, 2:3, :] = [[5, 6]]; mean over axis 1 = [5, 6]. */
  const float x[6] = {1, 2, 3, 4, 5, 6};
  const float* y = run1(&m, 1, x);
  QB_CHECK(y && qb_model_output(&m, 0)->ndim == 2);
  if (y) QB_CHECK(y[0] == 6.0f && y[1] == 8.0f);
  qb_model_free(&m);
}

/* Resize: PaddleOCR's nearest x2 (asymmetric, floor, scales input), torchvision's
 * bilinear (half_pixel, sizes input). */
static void test_resize(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 11);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 1, 1, 2});
  add_init(b, "roi", f32(1, (size_t[]){0}, NULL));
  add_init(b, "scales", f32(1, (size_t[]){4}, (float[]){1, 1, 2, 2}));
  add_init(b, "sizes", i64(1, 4, (int64_t[]){1, 1, 1, 4}));
  qb_onnx_node* n = qb_onnx_builder_node(b, "Resize", "up", 3, (const char*[]){"x", "roi", "scales"},
                                         1, (const char*[]){"near"});
  qb_onnx_node_attr_string(n, "mode", "nearest");
  qb_onnx_node_attr_string(n, "coordinate_transformation_mode", "asymmetric");
  qb_onnx_node_attr_string(n, "nearest_mode", "floor");
  n = qb_onnx_builder_node(b, "Resize", "lin", 4, (const char*[]){"x", "roi", "", "sizes"}, 1,
                           (const char*[]){"lin"});
  qb_onnx_node_attr_string(n, "mode", "linear");
  qb_onnx_builder_output(b, "near", QB_F32, 4, (int64_t[]){-1, 1, 2, 4});
  qb_onnx_builder_output(b, "lin", QB_F32, 4, (int64_t[]){-1, 1, 1, 4});
  qb_model m;
  QB_CHECK(qb_test_save_and_load(b, &m) == 0);
  const float x[2] = {1, 3};
  const float* y = run1(&m, 1, x);
  QB_CHECK(y != NULL);
  if (y) {
    /* Nearest: every input pixel becomes a 2x2 block. */
    const float want[8] = {1, 1, 3, 3, 1, 1, 3, 3};
    for (int i = 0; i < 8; i++) QB_CHECK_EQ_F32(y[i], want[i]);
    /* Linear, half_pixel, 2 -> 4: source coordinates (o + .5)/2 - .5 = -.25, .25, .75,
     * 1.25, clamped to [0, 1]: 1, 1.5, 2.5, 3. */
    const float* l = qb_model_output(&m, 1)->data;
    const float wl[4] = {1, 1.5f, 2.5f, 3};
    for (int i = 0; i < 4; i++) QB_CHECK_EQ_F32(l[i], wl[i]);
  }
  qb_model_free(&m);
}

/* ConvTranspose (weights in a Constant node, as Paddle2ONNX writes them): a 2x2 input
 * and a 2x2 kernel of ones; stride 1 overlaps the taps, stride 2 (PaddleOCR det's
 * head) tiles them; the bias is added once. */
static void test_convtranspose(void) {
  for (int stride = 1; stride <= 2; stride++) {
    qb_onnx_builder* b = qb_onnx_builder_new("test", 11);
    qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 1, 2, 2});
    add_constant_node(b, "w", f32(4, (size_t[]){1, 2, 2, 2}, (float[]){1, 1, 1, 1, 1, 0, 0, 0}));
    add_init(b, "bias", f32(1, (size_t[]){2}, (float[]){0, 100}));
    qb_onnx_node* n = qb_onnx_builder_node(b, "ConvTranspose", "up", 3, (const char*[]){"x", "w", "bias"},
                                           1, (const char*[]){"y"});
    qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){stride, stride});
    qb_onnx_builder_output(b, "y", QB_F32, 4, (int64_t[]){-1, 2, -1, -1});
    qb_model m;
    QB_CHECK(qb_test_save_and_load(b, &m) == 0);
    const float x[4] = {1, 2, 3, 4};
    const float* y = run1(&m, 1, x);
    QB_CHECK(y != NULL);
    const qb_value* out = qb_model_output(&m, 0);
    if (!y) {
      qb_model_free(&m);
      continue;
    }
    if (stride == 1) {
      QB_CHECK(out->dims[1] == 2 && out->dims[2] == 3 && out->dims[3] == 3);
      const float want[9] = {1, 3, 2, 4, 10, 6, 3, 7, 4};
      for (int i = 0; i < 9; i++) QB_CHECK_EQ_F32(y[i], want[i]);
      /* Channel 1: only tap (0, 0) is set: the input shifted into the top-left, + 100. */
      const float want1[9] = {101, 102, 100, 103, 104, 100, 100, 100, 100};
      for (int i = 0; i < 9; i++) QB_CHECK_EQ_F32(y[9 + i], want1[i]);
    } else {
      QB_CHECK(out->dims[2] == 4 && out->dims[3] == 4);
      const float want[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
      for (int i = 0; i < 16; i++) QB_CHECK_EQ_F32(y[i], want[i]);
    }
    qb_model_free(&m);
  }
}

/* A quantized ConvTranspose: weight [Cin, Cout, kh, kw] is quantized per output
 * channel (axis 1; with two input channels, rows of the [Cout, Cin*kh*kw] view are
 * not contiguous). Channels 1000x apart in magnitude show a wrong view at once: a
 * scale shared across them would zero the small channel. Weight-only w8 per channel
 * must stay within 1 % of fp32 on both channels; the layer runs simulated. */
static void test_convtranspose_quantized(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 11);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 2, 2, 2});
  add_init(b, "w", f32(4, (size_t[]){2, 2, 2, 2},
                       (float[]){100, 50, -100, 25, 0.01f, 0.02f, -0.01f, 0.005f,
                                 -80, 60, 10, 90, 0.03f, -0.02f, 0.01f, 0.004f}));
  qb_onnx_node* n = qb_onnx_builder_node(b, "ConvTranspose", "up", 2, (const char*[]){"x", "w"}, 1,
                                         (const char*[]){"y"});
  qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
  qb_onnx_builder_output(b, "y", QB_F32, 4, (int64_t[]){-1, 2, 4, 4});
  qb_model m;
  QB_CHECK(qb_test_save_and_load(b, &m) == 0);
  const float x[8] = {1, -2, 0.5f, 3, 2, 1, -1, 0.25f};
  const float* y = run1(&m, 1, x);
  float ref[32];
  QB_CHECK(y != NULL);
  if (!y) {
    qb_model_free(&m);
    return;
  }
  memcpy(ref, y, sizeof ref);
  qb_error err = {{0}};
  qb_qconfig qc;
  qb_quant_state* q = NULL;
  QB_CHECK(qb_qconfig_parse("w8-sym-channel-minmax/weight-only", &qc, &err) == 0);
  QB_CHECK_MSG(qb_quant_create(&m, &qc, QB_BACKEND_SCALAR, &q, &err) == 0, "%s", err.msg);
  if (q) {
    qb_quant_layer_info li;
    qb_quant_layer(q, 0, &li);
    QB_CHECK(li.quantized && !strcmp(li.kernel, "fp32-dequantized-weights"));
    const qb_model_exec e = {QB_EXEC_INTEGER, q, NULL, NULL, false};
    QB_CHECK_MSG(qb_model_run(&m, (const float* const[]){x}, &e, &err) == 0, "%s", err.msg);
    const float* yq = qb_model_output(&m, 0)->data;
    for (int c = 0; c < 2; c++) {
      double worst = 0, amax = 0;
      for (int i = 0; i < 16; i++) {
        worst = fmax(worst, fabs(yq[c * 16 + i] - ref[c * 16 + i]));
        amax = fmax(amax, fabs(ref[c * 16 + i]));
      }
      QB_CHECK_MSG(worst <= 0.01 * amax, "channel %d: error %g of %g", c, worst, amax);
    }
    qb_quant_free(q);
  }
  qb_model_free(&m);
}

/* A Conv whose weight is a Constant node: the ONNX layer finds it as an initializer
 * (qbench tensor MODEL.onnx:NAME) and the quantizer makes it an integer layer. */
static void test_constant_node_weights(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 9);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 2, 4, 4});
  float w[3 * 2 * 3 * 3];
  for (int i = 0; i < 54; i++) w[i] = (float)((i * 7) % 11 - 5) / 10.0f;
  add_constant_node(b, "conv2d_0.w_0", f32(4, (size_t[]){3, 2, 3, 3}, w));
  qb_onnx_node* n = qb_onnx_builder_node(b, "Conv", "conv", 2, (const char*[]){"x", "conv2d_0.w_0"},
                                         1, (const char*[]){"y"});
  qb_onnx_node_attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3});
  qb_onnx_builder_output(b, "y", QB_F32, 4, (int64_t[]){-1, 3, 2, 2});
  char path[] = "/tmp/qb_constw_XXXXXX";
  const int fd = mkstemp(path);
  QB_CHECK(fd >= 0);
  if (fd < 0) {
    qb_onnx_builder_free(b);
    return;
  }
  close(fd);
  qb_error err = {{0}};
  QB_CHECK(qb_onnx_builder_save(b, path, &err) == 0);
  qb_onnx_builder_free(b);
  qb_onnx_model om;
  QB_CHECK_MSG(qb_onnx_model_read(path, &om, &err) == 0, "%s", err.msg);
  qb_tensor t;
  QB_CHECK_MSG(qb_onnx_initializer(om.graph, "conv2d_0.w_0", &t, &err) == 0, "%s", err.msg);
  QB_CHECK(t.ndim == 4 && t.dims[0] == 3 && ((float*)t.data)[5] == w[5]);
  qb_tensor_free(&t);
  qb_onnx_model_free(&om);
  qb_model m;
  QB_CHECK_MSG(qb_model_load_onnx(path, &m, &err) == 0, "%s", err.msg);
  remove(path);
  qb_qconfig qc = qb_qconfig_default();
  qc.workflow = QB_WORKFLOW_STATIC;
  qb_quant_state* q = NULL;
  QB_CHECK_MSG(qb_quant_create(&m, &qc, QB_BACKEND_SCALAR, &q, &err) == 0, "%s", err.msg);
  if (q) {
    qb_quant_layer_info li;
    qb_quant_layer(q, 0, &li);
    QB_CHECK(li.quantized);
    qb_quant_free(q);
  }
  qb_model_free(&m);
}

int main(void) {
  test_paddle_shape_chain();
  test_pytorch_shape_chain();
  test_attribute_forms();
  test_gather_reducemean18();
  test_resize();
  test_convtranspose();
  test_convtranspose_quantized();
  test_constant_node_weights();
  return qb_test_finish("test_model_shapes");
}
