/* Model runtime (harness/graph, harness/ops): ops against hand-computed values, BatchNorm
 * folding, shape inference with a dynamic batch, and the arena plan. Models are
 * built with the ONNX builder, saved to a temporary file and loaded back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx/onnx.pb-c.h"
#include "qb_model.h"
#include "qb_onnx_builder.h"
#include "qb_test.h"
#include "qb_test_model.h"


static qb_tensor f32(int ndim, const size_t* dims, const float* v) {
  qb_tensor t;
  qb_tensor_alloc(&t, QB_F32, ndim, dims, NULL);
  memcpy(t.data, v, qb_tensor_bytes(&t));
  return t;
}

static qb_tensor i64(size_t n, const int64_t* v) {
  qb_tensor t;
  qb_tensor_alloc(&t, QB_I64, 1, (size_t[]){n}, NULL);
  memcpy(t.data, v, n * sizeof *v);
  return t;
}

static void add_init(qb_onnx_builder* b, const char* name, qb_tensor t) {
  qb_onnx_builder_initializer(b, name, &t);
  qb_tensor_free(&t);
}

static const float* run1(qb_model* m, size_t batch, const float* x) {
  qb_error err;
  if (qb_model_prepare(m, batch, &err) || qb_model_run_f32(m, &x, NULL, NULL, &err)) {
    fprintf(stderr, "run: %s\n", err.msg);
    return NULL;
  }
  return qb_model_output(m, 0)->data;
}

#define NEAR(a, b) (fabsf((a) - (b)) <= 1e-5f * fabsf(b) + 1e-6f)

/* y = x W^T + b, then Relu. */
static void test_gemm_relu(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 2, (int64_t[]){-1, 3});
  add_init(b, "w", f32(2, (size_t[]){2, 3}, (float[]){1, 2, 3, -1, 0, 1}));
  add_init(b, "bias", f32(1, (size_t[]){2}, (float[]){0.5f, -10}));
  qb_onnx_node* n = qb_onnx_builder_node(b, "Gemm", "fc", 3, (const char*[]){"x", "w", "bias"}, 1,
                                         (const char*[]){"h"});
  qb_onnx_node_attr_int(n, "transB", 1);
  qb_onnx_builder_node(b, "Relu", "relu", 1, (const char*[]){"h"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 2});
  qb_model m;
  QB_CHECK(qb_test_save_and_load(b, &m) == 0);
  const float x[6] = {1, 1, 1, 2, -1, 4};
  const float* y = run1(&m, 2, x);
  QB_CHECK(y != NULL);
  if (y) {
    /* row 0: 1+2+3+.5 = 6.5, -1+0+1-10 = -10 -> 0; row 1: 2-2+12+.5 = 12.5, -2+4-10 -> 0 */
    QB_CHECK_EQ_F32(y[0], 6.5f); QB_CHECK_EQ_F32(y[1], 0.0f);
    QB_CHECK_EQ_F32(y[2], 12.5f); QB_CHECK_EQ_F32(y[3], 0.0f);
  }
  QB_CHECK_EQ_INT(qb_model_output(&m, 0)->dims[0], 2);
  /* Dynamic batch: prepare again for 1. */
  y = run1(&m, 1, x + 3);
  QB_CHECK(y && y[0] == 12.5f && qb_model_output(&m, 0)->dims[0] == 1);
  qb_model_free(&m);
}

/* 1x1x3x3 input, 2x2 kernel, pad 1 on top/left only, stride 2. */
static void test_conv_pool(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 1, 3, 3});
  add_init(b, "w", f32(4, (size_t[]){1, 1, 2, 2}, (float[]){1, 2, 3, 4}));
  qb_onnx_node* n = qb_onnx_builder_node(b, "Conv", "conv", 2, (const char*[]){"x", "w"}, 1,
                                         (const char*[]){"c"});
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){1, 1, 0, 0});
  qb_onnx_node_attr_ints(n, "strides", 2, (int64_t[]){2, 2});
  n = qb_onnx_builder_node(b, "MaxPool", "pool", 1, (const char*[]){"c"}, 1, (const char*[]){"p"});
  qb_onnx_node_attr_ints(n, "kernel_shape", 2, (int64_t[]){2, 2});
  qb_onnx_builder_node(b, "GlobalAveragePool", "gap", 1, (const char*[]){"c"}, 1, (const char*[]){"g"});
  qb_onnx_builder_output(b, "c", QB_F32, 4, (int64_t[]){-1, 1, 2, 2});
  qb_onnx_builder_output(b, "p", QB_F32, 4, (int64_t[]){-1, 1, 1, 1});
  qb_onnx_builder_output(b, "g", QB_F32, 4, (int64_t[]){-1, 1, 1, 1});
  qb_model m;
  QB_CHECK(qb_test_save_and_load(b, &m) == 0);
  const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const float* c = run1(&m, 1, x);
  QB_CHECK(c != NULL);
  if (!c) return;
  /* Padded input rows: [0 0 0 0; 0 1 2 3; 0 4 5 6; 0 7 8 9], windows at (0,0),(0,2),(2,0),(2,2):
   * (0,0): 0*1+0*2+0*3+1*4 = 4;  (0,2): 0+0+2*3+3*4 = 18;
   * (2,0): 0+4*2+0+7*4 = 36;     (2,2): 5+6*2+8*3+9*4 = 77. */
  QB_CHECK_EQ_F32(c[0], 4); QB_CHECK_EQ_F32(c[1], 18); QB_CHECK_EQ_F32(c[2], 36); QB_CHECK_EQ_F32(c[3], 77);
  QB_CHECK_EQ_F32(qb_model_output(&m, 1)->data[0], 77);
  QB_CHECK_EQ_F32(qb_model_output(&m, 2)->data[0], (4 + 18 + 36 + 77) / 4.0f);
  qb_model_free(&m);
}

/* Softmax, LayerNormalization, Reshape, Transpose, Concat, Slice, Erf-Gelu. */
static void test_tensor_ops(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 2, (int64_t[]){-1, 4});
  add_init(b, "shape", i64(3, (int64_t[]){-1, 2, 2}));
  add_init(b, "gamma", f32(1, (size_t[]){4}, (float[]){1, 1, 1, 1}));
  add_init(b, "beta", f32(1, (size_t[]){4}, (float[]){0, 0, 0, 1}));
  add_init(b, "starts", i64(1, (int64_t[]){1}));
  add_init(b, "ends", i64(1, (int64_t[]){3}));
  add_init(b, "axes", i64(1, (int64_t[]){1}));
  qb_onnx_builder_node(b, "Softmax", "sm", 1, (const char*[]){"x"}, 1, (const char*[]){"s"});
  qb_onnx_builder_node(b, "LayerNormalization", "ln", 3, (const char*[]){"x", "gamma", "beta"}, 1,
                       (const char*[]){"l"});
  qb_onnx_builder_node(b, "Reshape", "rs", 2, (const char*[]){"x", "shape"}, 1, (const char*[]){"r"});
  qb_onnx_node* n = qb_onnx_builder_node(b, "Transpose", "tr", 1, (const char*[]){"r"}, 1, (const char*[]){"t"});
  qb_onnx_node_attr_ints(n, "perm", 3, (int64_t[]){0, 2, 1});
  n = qb_onnx_builder_node(b, "Concat", "cat", 2, (const char*[]){"x", "x"}, 1, (const char*[]){"c"});
  qb_onnx_node_attr_int(n, "axis", 1);
  qb_onnx_builder_node(b, "Slice", "sl", 4, (const char*[]){"x", "starts", "ends", "axes"}, 1,
                       (const char*[]){"sl_out"});
  const char* outs[] = {"s", "l", "t", "c", "sl_out"};
  for (int i = 0; i < 5; i++) qb_onnx_builder_output(b, outs[i], QB_F32, 0, NULL);
  qb_model m;
  QB_CHECK(qb_test_save_and_load(b, &m) == 0);
  const float x[4] = {1, 2, 3, 4};
  QB_CHECK(run1(&m, 1, x) != NULL);
  const float* s = qb_model_output(&m, 0)->data;
  const double z = exp(1) + exp(2) + exp(3) + exp(4);
  for (int i = 0; i < 4; i++) QB_CHECK(NEAR(s[i], (float)(exp(i + 1) / z)));
  /* mean 2.5, var 1.25: (x - 2.5) / sqrt(1.25 + 1e-5) */
  const float* l = qb_model_output(&m, 1)->data;
  for (int i = 0; i < 4; i++)
    QB_CHECK(NEAR(l[i], (float)((i + 1 - 2.5) / sqrt(1.25 + 1e-5)) + (i == 3 ? 1.0f : 0.0f)));
  const qb_value* t = qb_model_output(&m, 2);
  QB_CHECK(t->ndim == 3 && t->dims[0] == 1 && t->dims[1] == 2 && t->dims[2] == 2);
  QB_CHECK(t->data[0] == 1 && t->data[1] == 3 && t->data[2] == 2 && t->data[3] == 4);
  const qb_value* c = qb_model_output(&m, 3);
  QB_CHECK(c->dims[1] == 8 && c->data[4] == 1 && c->data[7] == 4);
  const qb_value* sl = qb_model_output(&m, 4);
  QB_CHECK(sl->dims[1] == 2 && sl->data[0] == 2 && sl->data[1] == 3);
  qb_model_free(&m);
}

/* Conv + BatchNormalization: folded at load, same result as BN applied by hand. */
static void test_batchnorm_fold(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 1, 2, 2});
  add_init(b, "w", f32(4, (size_t[]){2, 1, 1, 1}, (float[]){2, -1}));
  add_init(b, "cb", f32(1, (size_t[]){2}, (float[]){1, 0}));
  add_init(b, "gamma", f32(1, (size_t[]){2}, (float[]){0.5f, 2}));
  add_init(b, "beta", f32(1, (size_t[]){2}, (float[]){0.25f, -1}));
  add_init(b, "mean", f32(1, (size_t[]){2}, (float[]){1, 3}));
  add_init(b, "var", f32(1, (size_t[]){2}, (float[]){4, 0.25f}));
  qb_onnx_builder_node(b, "Conv", "conv", 3, (const char*[]){"x", "w", "cb"}, 1, (const char*[]){"c"});
  qb_onnx_node* n = qb_onnx_builder_node(b, "BatchNormalization", "bn", 5,
                                         (const char*[]){"c", "gamma", "beta", "mean", "var"}, 1,
                                         (const char*[]){"y"});
  qb_onnx_node_attr_float(n, "epsilon", 0.0f);
  qb_onnx_builder_output(b, "y", QB_F32, 4, (int64_t[]){-1, 2, 2, 2});
  qb_model m;
  QB_CHECK(qb_test_save_and_load(b, &m) == 0);
  QB_CHECK_EQ_INT(m.folded_batchnorms, 1);
  QB_CHECK_EQ_INT(m.nnodes, 1);
  const float x[4] = {1, 2, -3, 0.5f};
  const float* y = run1(&m, 1, x);
  QB_CHECK(y != NULL);
  for (int i = 0; y && i < 4; i++) {
    const float c0 = 2 * x[i] + 1, c1 = -x[i];
    QB_CHECK(NEAR(y[i], (c0 - 1) * 0.5f / 2 + 0.25f));
    QB_CHECK(NEAR(y[4 + i], (c1 - 3) * 2 / 0.5f - 1));
  }
  qb_model_free(&m);
}

/* A chain of 6 Relus: at most two activations are alive at once, so the arena
 * holds 2 buffers while one buffer per tensor would need 7; live values never
 * overlap. */
static void test_arena(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "v0", QB_F32, 2, (int64_t[]){-1, 64});
  char in[8], out[8];
  for (int i = 0; i < 6; i++) {
    snprintf(in, sizeof in, "v%d", i), snprintf(out, sizeof out, "v%d", i + 1);
    qb_onnx_builder_node(b, i % 2 ? "Relu" : "Sigmoid", out, 1, (const char*[]){in}, 1, (const char*[]){out});
  }
  qb_onnx_builder_output(b, "v6", QB_F32, 2, (int64_t[]){-1, 64});
  qb_model m;
  QB_CHECK(qb_test_save_and_load(b, &m) == 0);
  float x[128];
  for (int i = 0; i < 128; i++) x[i] = (float)i - 64;
  const float* y = run1(&m, 2, x);
  QB_CHECK(y != NULL);
  QB_CHECK_EQ_INT(m.naive_bytes, 7 * 2 * 64 * 4);
  QB_CHECK_EQ_INT(m.arena_bytes, 2 * 2 * 64 * 4);
  /* sigmoid(relu(sigmoid(...))) stays in (0, 1) */
  for (int i = 0; y && i < 128; i++) QB_CHECK(y[i] > 0 && y[i] < 1);
  qb_model_free(&m);
}

/* External data: the Gemm weight moved out of the model file into a side file
 * (location relative to the model, offset, length); the result is unchanged. A
 * location escaping the folder is refused. */
static void test_external_data(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 2, (int64_t[]){-1, 2});
  add_init(b, "w", f32(2, (size_t[]){2, 2}, (float[]){1, 2, 3, 4}));
  qb_onnx_node* n = qb_onnx_builder_node(b, "Gemm", "fc", 2, (const char*[]){"x", "w"}, 1, (const char*[]){"y"});
  qb_onnx_node_attr_int(n, "transB", 1);
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 2});
  qb_error err;
  char dir[] = "/tmp/qb_extdata_XXXXXX", model[128], data[128];
  QB_CHECK(mkdtemp(dir) != NULL);
  snprintf(model, sizeof model, "%s/m.onnx", dir);
  snprintf(data, sizeof data, "%s/weights.bin", dir);
  QB_CHECK(qb_onnx_builder_save(b, model, &err) == 0);
  qb_onnx_builder_free(b);
  /* Rewrite: payload to weights.bin at offset 8. */
  FILE* f = fopen(model, "rb");
  uint8_t buf[4096];
  const size_t size = f ? fread(buf, 1, sizeof buf, f) : 0;
  if (f) fclose(f);
  Onnx__ModelProto* mp = onnx__model_proto__unpack(NULL, size, buf);
  QB_CHECK(mp && mp->graph && mp->graph->n_initializer == 1);
  if (!mp) return;
  Onnx__TensorProto* t = mp->graph->initializer[0];
  f = fopen(data, "wb");
  fwrite("padding!", 1, 8, f);
  fwrite(t->raw_data.data, 1, t->raw_data.len, f);
  fclose(f);
  char length[32];
  snprintf(length, sizeof length, "%zu", t->raw_data.len);
  Onnx__StringStringEntryProto e[3], *ep[3] = {&e[0], &e[1], &e[2]};
  const char* kv[3][2] = {{"location", "weights.bin"}, {"offset", "8"}, {"length", length}};
  for (int i = 0; i < 3; i++) {
    onnx__string_string_entry_proto__init(&e[i]);
    e[i].key = (char*)kv[i][0], e[i].value = (char*)kv[i][1];
  }
  const ProtobufCBinaryData raw = t->raw_data;
  t->has_raw_data = 0, t->raw_data.len = 0;
  t->n_external_data = 3, t->external_data = ep;
  t->has_data_location = 1, t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  const size_t packed = onnx__model_proto__pack(mp, buf);
  f = fopen(model, "wb");
  fwrite(buf, 1, packed, f);
  fclose(f);
  qb_model m;
  QB_CHECK(qb_model_load_onnx(model, &m, &err) == 0);
  const float x[2] = {1, 1};
  const float* y = m.nvalues ? run1(&m, 1, x) : NULL;
  QB_CHECK(y && y[0] == 3 && y[1] == 7);
  qb_model_free(&m);
  /* Escaping the folder is refused. */
  e[0].value = (char*)"../weights.bin";
  f = fopen(model, "wb");
  fwrite(buf, 1, onnx__model_proto__pack(mp, buf), f);
  fclose(f);
  QB_CHECK(qb_model_load_onnx(model, &m, &err) != 0 && strstr(err.msg, "relative path"));
  t->n_external_data = 0, t->external_data = NULL, t->raw_data = raw;
  onnx__model_proto__free_unpacked(mp, NULL);
  unlink(model), unlink(data), rmdir(dir);
}

int main(void) {
  test_gemm_relu();
  test_conv_pool();
  test_tensor_ops();
  test_batchnorm_fold();
  test_arena();
  test_external_data();
  return qb_test_finish("test_model_ops");
}
