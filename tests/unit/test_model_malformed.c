/* Malformed models never crash the runtime, and every rejection says what is
 * wrong: truncated and bit-flipped files, random bytes, undefined inputs,
 * cycles, unsupported ops, wrong attribute types, shape errors, huge shapes.
 * (Run under ASan/UBSan in the sanitizer build.) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_model.h"
#include "qb_onnx_builder.h"
#include "qb_test.h"

static char path[64];

static void add_f32(qb_onnx_builder* b, const char* name, int ndim, const size_t* dims) {
  qb_tensor t;
  qb_tensor_alloc(&t, QB_F32, ndim, dims, NULL);
  for (size_t i = 0; i < qb_tensor_numel(&t); i++) ((float*)t.data)[i] = 0.01f * (float)i;
  qb_onnx_builder_initializer(b, name, &t);
  qb_tensor_free(&t);
}

static void add_i64(qb_onnx_builder* b, const char* name, size_t n, const int64_t* v) {
  qb_tensor t;
  qb_tensor_alloc(&t, QB_I64, 1, (size_t[]){n}, NULL);
  memcpy(t.data, v, n * sizeof *v);
  qb_onnx_builder_initializer(b, name, &t);
  qb_tensor_free(&t);
}

static void save(qb_onnx_builder* b) {
  qb_error err;
  close(mkstemp(strcpy(path, "/tmp/qb_model_bad_XXXXXX")));
  QB_CHECK(qb_onnx_builder_save(b, path, &err) == 0);
  qb_onnx_builder_free(b);
}

/* Loads (and prepares for batch 2) the saved model; returns the error text or
 * NULL on success. */
static const char* try_load(qb_error* err) {
  qb_model m;
  int rc = qb_model_load_onnx(path, &m, err);
  if (!rc) {
    rc = qb_model_prepare(&m, 2, err);
    qb_model_free(&m);
  }
  unlink(path);
  return rc ? err->msg : NULL;
}

static void expect_error(const char* what, const char* needle1, const char* needle2) {
  qb_error err = {{0}};
  const char* msg = try_load(&err);
  printf("  %-22s -> %s\n", what, msg ? msg : "(accepted)");
  QB_CHECK_MSG(msg != NULL, "%s accepted", what);
  if (msg) {
    QB_CHECK_MSG(strstr(msg, needle1) != NULL, "%s: '%s' not in: %s", what, needle1, msg);
    if (needle2) QB_CHECK_MSG(strstr(msg, needle2) != NULL, "%s: '%s' not in: %s", what, needle2, msg);
  }
}

static void expect_ok_and_free(const char* what) {
  qb_error err = {{0}};
  const char* msg = try_load(&err);
  QB_CHECK_MSG(msg == NULL, "%s rejected: %s", what, msg);
}

static qb_onnx_builder* base(void) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 2, (int64_t[]){-1, 4});
  return b;
}

static void test_graph_errors(void) {
  qb_onnx_builder* b = base();
  qb_onnx_node* n = qb_onnx_builder_node(b, "Gemm", "fc", 2, (const char*[]){"x", "missing_w"}, 1,
                                         (const char*[]){"y"});
  qb_onnx_node_attr_int(n, "transB", 1);
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 3});
  save(b);
  expect_error("missing initializer", "missing_w", "'fc'");

  b = base();
  qb_onnx_builder_node(b, "Add", "a", 2, (const char*[]){"x", "c"}, 1, (const char*[]){"b_out"});
  qb_onnx_builder_node(b, "Relu", "c_node", 1, (const char*[]){"b_out"}, 1, (const char*[]){"c"});
  qb_onnx_builder_output(b, "c", QB_F32, 2, (int64_t[]){-1, 4});
  save(b);
  expect_error("cycle", "cycle", NULL);

  b = base();
  qb_onnx_builder_node(b, "Frobnicate", "frob1", 1, (const char*[]){"x"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 4});
  save(b);
  expect_error("unsupported op", "Frobnicate", "frob1");

  b = base();
  add_f32(b, "w", 2, (size_t[]){3, 4});
  n = qb_onnx_builder_node(b, "Gemm", "fc", 2, (const char*[]){"x", "w"}, 1, (const char*[]){"y"});
  qb_onnx_node_attr_float(n, "transB", 1.0f);
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 3});
  save(b);
  expect_error("attribute type", "transB", "FLOAT");

  b = base();
  add_f32(b, "w", 2, (size_t[]){3, 5});
  n = qb_onnx_builder_node(b, "Gemm", "fc", 2, (const char*[]){"x", "w"}, 1, (const char*[]){"y"});
  qb_onnx_node_attr_int(n, "transB", 1);
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 3});
  save(b);
  expect_error("shape mismatch", "'fc'", "inner dimensions");

  b = base();
  add_i64(b, "shape", 4, (int64_t[]){1 << 20, 1 << 20, 1 << 20, -1});
  qb_onnx_builder_node(b, "Reshape", "rs", 2, (const char*[]){"x", "shape"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 1, (int64_t[]){-1});
  save(b);
  expect_error("huge reshape", "'rs'", NULL);

  b = base();
  add_f32(b, "w", 4, (size_t[]){2, 3, 3, 3});
  qb_onnx_builder_node(b, "Conv", "conv", 2, (const char*[]){"x", "w"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 4, (int64_t[]){-1, 2, 1, 1});
  save(b);
  expect_error("conv on 2-D input", "'conv'", "2-D convolution");

  b = base();
  qb_onnx_builder_output(b, "nowhere", QB_F32, 2, (int64_t[]){-1, 4});
  save(b);
  expect_error("undefined output", "nowhere", NULL);

  b = qb_onnx_builder_new("test", 5);
  qb_onnx_builder_input(b, "x", QB_F32, 2, (int64_t[]){-1, 4});
  qb_onnx_builder_node(b, "Relu", "r", 1, (const char*[]){"x"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 4});
  save(b);
  expect_error("old opset", "opset 5", NULL);
}

static bool fits(const qb_model* m) {
  return m->ninputs <= 1 && (m->ninputs == 0 || m->values[m->inputs[0]].numel <= (1 << 16));
}

/* A valid model's bytes: truncated at every length, and with random bytes
 * changed; plus pure noise. Nothing may crash; what loads must also run. */
static void test_corrupted_bytes(void) {
  qb_onnx_builder* b = base();
  add_f32(b, "w", 2, (size_t[]){3, 4});
  add_f32(b, "bias", 1, (size_t[]){3});
  qb_onnx_node* n = qb_onnx_builder_node(b, "Gemm", "fc", 3, (const char*[]){"x", "w", "bias"}, 1,
                                         (const char*[]){"h"});
  qb_onnx_node_attr_int(n, "transB", 1);
  qb_onnx_builder_node(b, "Relu", "relu", 1, (const char*[]){"h"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 3});
  save(b);
  FILE* f = fopen(path, "rb");
  unsigned char buf[4096];
  const size_t size = f ? fread(buf, 1, sizeof buf, f) : 0;
  if (f) fclose(f);
  unlink(path);
  QB_CHECK(size > 50 && size < sizeof buf);
  static float x[1 << 16]; /* inputs a corrupted header may have resized */
  for (int i = 0; i < 8; i++) x[i] = (float)i;
  const float* xs = x;
  size_t loaded = 0, rejected = 0;
  unsigned char copy[4096];
  for (size_t len = 0; len <= size; len++) {
    qb_model m;
    qb_error err;
    if (qb_model_parse_onnx(buf, len, "<truncated>", &m, &err) == 0) {
      if (qb_model_prepare(&m, 2, &err) == 0 && fits(&m)) qb_model_run_f32(&m, &xs, NULL, NULL, &err);
      qb_model_free(&m);
      loaded++;
    } else {
      QB_CHECK(err.msg[0] != 0);
      rejected++;
    }
  }
  printf("  truncations: %zu rejected, %zu loaded (incl. the whole file)\n", rejected, loaded);
  QB_CHECK(loaded >= 1 && rejected > size / 2);
  for (int trial = 0; trial < 2000; trial++) {
    memcpy(copy, buf, size);
    const int flips = 1 + (int)qb_rand_below(4);
    for (int k = 0; k < flips; k++) copy[qb_rand_below((uint32_t)size)] = (unsigned char)qb_rand_below(256);
    qb_model m;
    qb_error err;
    if (qb_model_parse_onnx(copy, size, "<flipped>", &m, &err) == 0) {
      if (qb_model_prepare(&m, 2, &err) == 0 && fits(&m)) qb_model_run_f32(&m, &xs, NULL, NULL, &err);
      qb_model_free(&m);
    }
  }
  for (int trial = 0; trial < 200; trial++) {
    const size_t len = 1 + qb_rand_below(512);
    for (size_t k = 0; k < len; k++) copy[k] = (unsigned char)qb_rand_below(256);
    qb_model m;
    qb_error err;
    const int rc = qb_model_parse_onnx(copy, len, "<noise>", &m, &err);
    if (rc == 0) qb_model_free(&m);
    QB_CHECK(rc != 0);
  }
}

/* Loads the saved model and prepares it for `batch`; NULL model pointer on error. */
static bool load_prepared(qb_model* m, size_t batch, qb_error* err) {
  int rc = qb_model_load_onnx(path, m, err);
  if (!rc && (rc = qb_model_prepare(m, batch, err))) qb_model_free(m);
  unlink(path);
  return rc == 0;
}

static void add_pool(const char* op, int64_t kernel, int64_t pad) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 1, 28, 28});
  qb_onnx_node* n = qb_onnx_builder_node(b, op, "pool", 1, (const char*[]){"x"}, 1, (const char*[]){"y"});
  qb_onnx_node_attr_ints(n, "kernel_shape", 2, (int64_t[]){kernel, kernel});
  qb_onnx_node_attr_ints(n, "pads", 4, (int64_t[]){pad, pad, pad, pad});
  qb_onnx_builder_output(b, "y", QB_F32, 4, (int64_t[]){-1, 1, -1, -1});
  save(b);
}

/* What fuzzing found (issue 12): models whose prepare or run hung, allocated from a
 * header, or hit undefined behaviour. Each is now an error at prepare or a defined
 * result. */
static void test_hostile_models(void) {
  /* A 152-byte model: 2000x2000 pooling with pads 2000 on 28x28 ran for minutes. */
  add_pool("MaxPool", 2000, 2000);
  expect_error("pool pads >= kernel", "'pool'", "pads must be smaller than kernel_shape");
  add_pool("AveragePool", 2000, 1999);
  expect_error("pool work", "'pool'", "exceed the limit of 2^30");
  add_pool("MaxPool", 3, 1);
  expect_ok_and_free("small pool");

  /* An input of [1, 2^31 - 1] asked for a 16 GB arena. */
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 2, (int64_t[]){1, ((int64_t)1 << 31) - 1});
  qb_onnx_builder_node(b, "Relu", "r", 1, (const char*[]){"x"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){1, -1});
  save(b);
  expect_error("huge input", "activation arena", "limit of 1024 MiB");

  /* Every activation empty: the arena is still a real allocation (no NULL + 0). */
  b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 2, (int64_t[]){-1, 0});
  qb_onnx_builder_node(b, "Relu", "r", 1, (const char*[]){"x"}, 1, (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 0});
  save(b);
  qb_model m;
  qb_error err = {{0}};
  bool ok = load_prepared(&m, 2, &err);
  QB_CHECK_MSG(ok, "%s", err.msg);
  if (ok) {
    QB_CHECK(m.arena != NULL && qb_model_output(&m, 0)->data != NULL);
    const float* none[1] = {m.values[m.inputs[0]].data};
    QB_CHECK(qb_model_run_f32(&m, none, NULL, NULL, &err) == 0);
    qb_model_free(&m);
  }

  /* Slice with step INT64_MIN (was negated): takes one element, the start. */
  b = base();
  add_i64(b, "st", 1, (int64_t[]){3});
  add_i64(b, "en", 1, (int64_t[]){-100});
  add_i64(b, "ax", 1, (int64_t[]){1});
  add_i64(b, "sp", 1, (int64_t[]){INT64_MIN});
  qb_onnx_builder_node(b, "Slice", "sl", 5, (const char*[]){"x", "st", "en", "ax", "sp"}, 1,
                       (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 1});
  save(b);
  ok = load_prepared(&m, 2, &err);
  QB_CHECK_MSG(ok, "%s", err.msg);
  if (ok) {
    const qb_value* y = qb_model_output(&m, 0);
    QB_CHECK(y->ndim == 2 && y->dims[0] == 2 && y->dims[1] == 1);
    const float x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    const float* xs = x;
    QB_CHECK(qb_model_run_f32(&m, &xs, NULL, NULL, &err) == 0);
    QB_CHECK(y->data[0] == 3.0f && y->data[1] == 7.0f);
    qb_model_free(&m);
  }

  /* QuantizeLinear with scale 0 (x/0: +-inf, and NaN for 0) and of NaN input: NaN
   * quantizes to qmin (was a NaN -> int conversion, garbage in release). */
  b = base();
  qb_tensor scale;
  qb_tensor_alloc(&scale, QB_F32, 0, NULL, NULL);
  qb_onnx_builder_initializer(b, "s", &scale);
  qb_tensor_free(&scale);
  qb_tensor zp;
  qb_tensor_alloc(&zp, QB_U8, 0, NULL, NULL);
  ((uint8_t*)zp.data)[0] = 128;
  qb_onnx_builder_initializer(b, "zp", &zp);
  qb_tensor_free(&zp);
  qb_onnx_builder_node(b, "QuantizeLinear", "q", 3, (const char*[]){"x", "s", "zp"}, 1,
                       (const char*[]){"y"});
  qb_onnx_builder_output(b, "y", QB_U8, 2, (int64_t[]){-1, 4});
  save(b);
  ok = load_prepared(&m, 2, &err);
  QB_CHECK_MSG(ok, "%s", err.msg);
  if (ok) {
    const float x[8] = {1.0f, -1.0f, 0.0f, NAN, 1e30f, -1e30f, INFINITY, -INFINITY};
    const float want[8] = {255, 0, 0, 0, 255, 0, 255, 0};
    const float* xs = x;
    QB_CHECK(qb_model_run_f32(&m, &xs, NULL, NULL, &err) == 0);
    const qb_value* y = qb_model_output(&m, 0);
    for (int i = 0; i < 8; i++)
      QB_CHECK_MSG(y->data[i] == want[i], "x=%g: q=%g, want %g", (double)x[i], (double)y->data[i],
                   (double)want[i]);
    qb_model_free(&m);
  }
}

int main(void) {
  qb_test_seed(77);
  test_graph_errors();
  test_corrupted_bytes();
  test_hostile_models();
  return qb_test_finish("test_model_malformed");
}
