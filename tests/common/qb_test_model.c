#include "qb_test_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_test.h"

void qb_test_add_random_initializer(qb_onnx_builder* b, const char* name, int ndim,
                                    const size_t* dims, float scale) {
  qb_tensor t;
  qb_tensor_alloc(&t, QB_F32, ndim, dims, NULL);
  float* v = t.data;
  for (size_t i = 0; i < qb_tensor_numel(&t); i++) v[i] = scale * qb_rand_normal();
  qb_onnx_builder_initializer(b, name, &t);
  qb_tensor_free(&t);
}

int qb_test_save_and_load(qb_onnx_builder* b, qb_model* m) {
  char path[64];
  qb_error err;
  const int fd = mkstemp(strcpy(path, "/tmp/qb_test_model_XXXXXX"));
  if (fd >= 0) close(fd);
  int rc = fd < 0 ? -1 : qb_onnx_builder_save(b, path, &err);
  qb_onnx_builder_free(b);
  if (!rc) rc = qb_model_load_onnx(path, m, &err);
  if (rc) fprintf(stderr, "save and load: %s\n", fd < 0 ? "no temporary file" : err.msg);
  unlink(path);
  return rc;
}

int qb_test_build_mlp(qb_model* m, size_t in, size_t hidden) {
  qb_onnx_builder* b = qb_onnx_builder_new("test", 17);
  qb_onnx_builder_input(b, "x", QB_F32, 2, (int64_t[]){-1, (int64_t)in});
  qb_test_add_random_initializer(b, "fc1.weight", 2, (size_t[]){hidden, in}, 0.3f);
  qb_test_add_random_initializer(b, "fc1.bias", 1, (size_t[]){hidden}, 0.1f);
  qb_test_add_random_initializer(b, "fc2.weight", 2, (size_t[]){hidden, 10}, 0.3f);
  qb_test_add_random_initializer(b, "fc2.bias", 1, (size_t[]){10}, 0.1f);
  qb_onnx_node* n = qb_onnx_builder_node(b, "Gemm", "fc1", 3,
                                         (const char*[]){"x", "fc1.weight", "fc1.bias"}, 1,
                                         (const char*[]){"h"});
  qb_onnx_node_attr_int(n, "transB", 1);
  qb_onnx_builder_node(b, "Relu", "relu1", 1, (const char*[]){"h"}, 1, (const char*[]){"r"});
  qb_onnx_builder_node(b, "MatMul", "fc2", 2, (const char*[]){"r", "fc2.weight"}, 1,
                       (const char*[]){"mm"});
  qb_onnx_builder_node(b, "Add", "fc2.bias_add", 2, (const char*[]){"mm", "fc2.bias"}, 1,
                       (const char*[]){"logits"});
  qb_onnx_builder_output(b, "logits", QB_F32, 2, (int64_t[]){-1, 10});
  return qb_test_save_and_load(b, m);
}
