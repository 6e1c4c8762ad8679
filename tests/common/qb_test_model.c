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

void qb_test_random_dataset(qb_dataset* d, size_t count, size_t per) {
  memset(d, 0, sizeof *d);
  d->count = count, d->sample_numel = per, d->num_classes = 10;
  d->x = malloc(count * per * sizeof *d->x);
  d->labels = malloc(count * sizeof *d->labels);
  for (size_t i = 0; i < count * per; i++) d->x[i] = qb_rand_uniform(-1.0f, 2.0f);
  for (size_t i = 0; i < count; i++) d->labels[i] = (int32_t)qb_rand_below(10);
}

static void capture_hook(void* ctx, const qb_model* m, size_t node, const qb_value* out) {
  (void)m;
  qb_test_capture* c = ctx;
  if (node >= QB_TEST_MAX_NODES) return;
  free(c->out[node]);
  c->out[node] = malloc((out->numel ? out->numel : 1) * sizeof(float));
  memcpy(c->out[node], out->data, out->numel * sizeof(float));
  c->numel[node] = out->numel;
}

void qb_test_capture_free(qb_test_capture* c) {
  for (int i = 0; i < QB_TEST_MAX_NODES; i++) free(c->out[i]), c->out[i] = NULL;
}

int qb_test_run_capture(qb_model* m, const float* x, size_t batch, qb_exec_mode mode,
                        qb_quant_state* q, qb_test_capture* c) {
  qb_error err;
  const qb_model_exec e = {mode, q, capture_hook, c, false};
  if (qb_model_prepare(m, batch, &err) || qb_model_run(m, &x, &e, &err)) {
    fprintf(stderr, "run: %s\n", err.msg);
    return -1;
  }
  return 0;
}

qb_quant_state* qb_test_quantize(qb_model* m, const char* qconfig, qb_backend backend,
                                 const qb_dataset* calib) {
  qb_qconfig cfg;
  qb_error err;
  qb_quant_state* q = NULL;
  if (qb_qconfig_parse(qconfig, &cfg, &err) || qb_model_prepare(m, 8, &err) ||
      qb_quant_create(m, &cfg, backend, &q, &err) ||
      (cfg.workflow == QB_WORKFLOW_STATIC && qb_model_calibrate(m, q, calib, 0, 16, &err))) {
    fprintf(stderr, "%s: %s\n", qconfig, err.msg);
    qb_quant_free(q);
    return NULL;
  }
  return q;
}
