/* Malformed models never crash the runtime, and every rejection says what is
 * wrong: truncated and bit-flipped files, random bytes, undefined inputs,
 * cycles, unsupported ops, wrong attribute types, shape errors, huge shapes.
 * (Run under ASan/UBSan in the sanitizer build.) */
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
      if (qb_model_prepare(&m, 2, &err) == 0 && fits(&m)) qb_model_run(&m, &xs, NULL, &err);
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
      if (qb_model_prepare(&m, 2, &err) == 0 && fits(&m)) qb_model_run(&m, &xs, NULL, &err);
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

int main(void) {
  qb_test_seed(77);
  test_graph_errors();
  test_corrupted_bytes();
  return qb_test_finish("test_model_malformed");
}
