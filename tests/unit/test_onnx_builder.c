/* The ONNX builder writes what the reader reads back: a tiny Gemm + Relu model
 * with every attribute kind, initializers of several element types, a dynamic
 * batch dimension and metadata (including a replaced value). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_onnx.h"
#include "qb_onnx_builder.h"
#include "qb_test.h"

static const char* metadata_value(const Onnx__ModelProto* m, const char* key) {
  for (size_t i = 0; i < m->n_metadata_props; i++)
    if (strcmp(m->metadata_props[i]->key, key) == 0) return m->metadata_props[i]->value;
  return NULL;
}

static void build_tiny_model(const char* path, const qb_tensor* w, const qb_tensor* shape) {
  qb_onnx_builder* b = qb_onnx_builder_new("qbench-test", 17);
  QB_CHECK(b != NULL);
  qb_onnx_builder_input(b, "input", QB_F32, 2, (int64_t[]){-1, 3});
  qb_onnx_builder_initializer(b, "fc.weight", w);
  qb_onnx_builder_initializer(b, "reshape.shape", shape);
  qb_onnx_node* fc = qb_onnx_builder_node(b, "Gemm", "fc", 2,
                                          (const char*[]){"input", "fc.weight"}, 1,
                                          (const char*[]){"fc.out"});
  qb_onnx_node_attr_int(fc, "transB", 1);
  qb_onnx_node_attr_float(fc, "alpha", 0.5f);
  qb_onnx_node_attr_ints(fc, "pads", 3, (int64_t[]){1, -2, 3});
  qb_onnx_node_attr_string(fc, "note", "hello");
  qb_onnx_builder_node(b, "Relu", "relu", 1, (const char*[]){"fc.out"}, 1,
                       (const char*[]){"logits"});
  qb_onnx_builder_output(b, "logits", QB_F32, 2, (int64_t[]){-1, 2});
  qb_onnx_builder_metadata(b, "qbench.model", "first");
  qb_onnx_builder_metadata(b, "qbench.dataset", "fashion-mnist");
  qb_onnx_builder_metadata(b, "qbench.model", "tiny"); /* replaces "first" */
  qb_error err;
  QB_CHECK_MSG(qb_onnx_builder_save(b, path, &err) == 0, "%s", err.msg);
  qb_onnx_builder_free(b);
}

static void check_value_info(const Onnx__ValueInfoProto* vi, const char* name, int64_t d1) {
  QB_CHECK(strcmp(vi->name, name) == 0);
  QB_CHECK(vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE);
  const Onnx__TypeProto__Tensor* tt = vi->type->tensor_type;
  QB_CHECK_EQ_INT(tt->elem_type, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
  QB_CHECK_EQ_INT(tt->shape->n_dim, 2);
  QB_CHECK(tt->shape->dim[0]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM);
  QB_CHECK(strcmp(tt->shape->dim[0]->dim_param, "N") == 0);
  QB_CHECK(tt->shape->dim[1]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE);
  QB_CHECK_EQ_INT(tt->shape->dim[1]->dim_value, d1);
}

int main(void) {
  char path[] = "/tmp/qb_test_onnx_builder_XXXXXX";
  const int fd = mkstemp(path);
  QB_CHECK(fd >= 0);
  close(fd);

  qb_error err;
  qb_tensor w, shape;
  QB_CHECK(qb_tensor_alloc(&w, QB_F32, 2, (size_t[]){2, 3}, &err) == 0);
  QB_CHECK(qb_tensor_alloc(&shape, QB_I64, 1, (size_t[]){2}, &err) == 0);
  for (int i = 0; i < 6; i++) ((float*)w.data)[i] = (float)i * 0.25f - 0.6f;
  ((int64_t*)shape.data)[0] = -1;
  ((int64_t*)shape.data)[1] = 1234567890123LL;
  build_tiny_model(path, &w, &shape);

  qb_onnx_model m;
  QB_CHECK_MSG(qb_onnx_model_read(path, &m, &err) == 0, "%s", err.msg);
  if (m.graph) {
    const Onnx__GraphProto* g = m.graph;
    QB_CHECK_EQ_INT(qb_onnx_model_opset(&m, ""), 17);
    QB_CHECK(strcmp(m.proto->producer_name, "qbench-test") == 0);
    QB_CHECK(m.proto->has_ir_version && m.proto->ir_version >= 7);
    /* Nodes in order, with inputs, outputs and names. */
    QB_CHECK_EQ_INT(g->n_node, 2);
    const Onnx__NodeProto* fc = g->node[0];
    QB_CHECK(strcmp(fc->op_type, "Gemm") == 0 && strcmp(fc->name, "fc") == 0);
    QB_CHECK(strcmp(qb_onnx_node_input(fc, 1), "fc.weight") == 0);
    QB_CHECK(strcmp(qb_onnx_node_output(fc, 0), "fc.out") == 0);
    QB_CHECK(strcmp(g->node[1]->op_type, "Relu") == 0);
    QB_CHECK(strcmp(qb_onnx_node_output(g->node[1], 0), "logits") == 0);
    /* Attributes of each kind, through the typed getters (which check the type). */
    int64_t i64 = 0;
    float f = 0;
    char s[16];
    int64_t ints[4];
    size_t n = 0;
    QB_CHECK(qb_onnx_attr_int(fc, "transB", 0, &i64, &err) == 0 && i64 == 1);
    QB_CHECK(qb_onnx_attr_float(fc, "alpha", 1, &f, &err) == 0 && f == 0.5f);
    QB_CHECK(qb_onnx_attr_ints(fc, "pads", NULL, 0, ints, 4, &n, &err) == 0);
    QB_CHECK(n == 3 && ints[0] == 1 && ints[1] == -2 && ints[2] == 3);
    QB_CHECK(qb_onnx_attr_string(fc, "note", NULL, s, sizeof s, &err) == 0);
    QB_CHECK(strcmp(s, "hello") == 0);
    QB_CHECK(qb_onnx_attr_int(fc, "alpha", 0, &i64, &err) == -1); /* float, not int */
    /* Initializers round-trip bit for bit. */
    qb_tensor w2, shape2;
    QB_CHECK_MSG(qb_onnx_initializer(g, "fc.weight", &w2, &err) == 0, "%s", err.msg);
    QB_CHECK(w2.dtype == QB_F32 && w2.ndim == 2 && w2.dims[0] == 2 && w2.dims[1] == 3);
    if (w2.data) QB_CHECK(memcmp(w2.data, w.data, 6 * sizeof(float)) == 0);
    QB_CHECK_MSG(qb_onnx_initializer(g, "reshape.shape", &shape2, &err) == 0, "%s", err.msg);
    QB_CHECK(shape2.dtype == QB_I64 && shape2.ndim == 1 && shape2.dims[0] == 2);
    if (shape2.data) {
      QB_CHECK_EQ_INT(((int64_t*)shape2.data)[0], -1);
      QB_CHECK_EQ_INT(((int64_t*)shape2.data)[1], 1234567890123LL);
    }
    qb_tensor_free(&w2);
    qb_tensor_free(&shape2);
    /* Graph inputs / outputs with the dynamic batch. */
    QB_CHECK_EQ_INT(g->n_input, 1);
    QB_CHECK_EQ_INT(g->n_output, 1);
    if (g->n_input == 1) check_value_info(g->input[0], "input", 3);
    if (g->n_output == 1) check_value_info(g->output[0], "logits", 2);
    /* Metadata: two keys, the repeated one replaced. */
    QB_CHECK_EQ_INT(m.proto->n_metadata_props, 2);
    const char* model_name = metadata_value(m.proto, "qbench.model");
    QB_CHECK(model_name && strcmp(model_name, "tiny") == 0);
    const char* dataset = metadata_value(m.proto, "qbench.dataset");
    QB_CHECK(dataset && strcmp(dataset, "fashion-mnist") == 0);
  }
  qb_onnx_model_free(&m);

  /* An unwritable path is an error naming the path. */
  qb_onnx_builder* b = qb_onnx_builder_new("x", 17);
  QB_CHECK(qb_onnx_builder_save(b, "/nonexistent-dir/x.onnx", &err) == -1);
  QB_CHECK(strstr(err.msg, "/nonexistent-dir/x.onnx") != NULL);
  qb_onnx_builder_free(b);

  qb_tensor_free(&w);
  qb_tensor_free(&shape);
  remove(path);
  return qb_test_finish("test_onnx_builder");
}
