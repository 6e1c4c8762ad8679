/* ONNX export of the reference models (the runtime helper's import contract):
 *  - every model reads back with one input "input" [N,1,28,28] and one output "logits",
 *    opset 17, the agreed metadata, node names unique, only the agreed operators;
 *  - dwnet's batch norms are folded (no BatchNormalization node, a bias per conv);
 *  - a QAT export has QuantizeLinear/DequantizeLinear pairs: int8 weight codes within
 *    the bit width with per-axis scales (axis 0), and a u8 zero point per input;
 *  - below 8 bits the exported input QDQ is followed by a Clip to the b-bit grid:
 *    re-imported into the runtime, conv1's quantized input equals the QAT
 *    simulation's fake-quantized input to the bit (a4 and a2), and every layer input
 *    takes at most 2^b distinct values. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_model.h"
#include "qb_fakequant.h"
#include "qb_onnx.h"
#include "qb_qat.h"
#include "qb_reference_models.h"
#include "qb_test.h"
#include "qb_test_model.h"

static const char* const allowed_ops[] = {
    "Gemm", "MatMul", "Conv", "Relu", "Clip", "MaxPool", "GlobalAveragePool", "Flatten",
    "Reshape", "Transpose", "Add", "Mul", "Div", "Softmax", "LayerNormalization", "Erf",
    "Concat", "Slice", "BatchNormalization", "QuantizeLinear", "DequantizeLinear", NULL};

static int allowed(const char* op) {
  for (int i = 0; allowed_ops[i]; i++)
    if (strcmp(op, allowed_ops[i]) == 0) return 1;
  return 0;
}

static const char* meta(const Onnx__ModelProto* m, const char* key) {
  for (size_t i = 0; i < m->n_metadata_props; i++)
    if (strcmp(m->metadata_props[i]->key, key) == 0) return m->metadata_props[i]->value;
  return NULL;
}

static size_t count_op(const Onnx__GraphProto* g, const char* op) {
  size_t n = 0;
  for (size_t i = 0; i < g->n_node; i++) n += strcmp(g->node[i]->op_type, op) == 0;
  return n;
}

static void check_common(const qb_onnx_model* m, const char* name) {
  const Onnx__GraphProto* g = m->graph;
  QB_CHECK_EQ_INT(qb_onnx_model_opset(m, ""), 17);
  QB_CHECK(g->n_input == 1 && strcmp(g->input[0]->name, "input") == 0);
  QB_CHECK(g->n_output == 1 && strcmp(g->output[0]->name, "logits") == 0);
  const char* model = meta(m->proto, "qbench.model");
  QB_CHECK(model && strcmp(model, name) == 0);
  const char* pre = meta(m->proto, "qbench.preprocess");
  QB_CHECK(pre && strcmp(pre, "scale=0.00392156862745098;mean=0.2860;std=0.3530;layout=NCHW") == 0);
  const char* ds = meta(m->proto, "qbench.dataset");
  QB_CHECK(ds && strcmp(ds, "fashion-mnist") == 0);
  int last_is_logits = 0;
  for (size_t i = 0; i < g->n_node; i++) {
    QB_CHECK_MSG(allowed(g->node[i]->op_type), "%s: op %s", name, g->node[i]->op_type);
    QB_CHECK(g->node[i]->name && g->node[i]->name[0]);
    for (size_t j = 0; j < i; j++)
      QB_CHECK_MSG(strcmp(g->node[i]->name, g->node[j]->name) != 0, "%s: node name %s twice",
                   name, g->node[i]->name);
    last_is_logits |= strcmp(qb_onnx_node_output(g->node[i], 0), "logits") == 0;
  }
  QB_CHECK(last_is_logits);
}

static void test_fp32_exports(const char* dir) {
  for (int i = 0; i < QB_REFERENCE_MODEL_COUNT; i++) {
    const char* name = qb_reference_model_names[i];
    qb_error err;
    qb_net* net = qb_reference_model_build(name, 4, 1, &err);
    QB_CHECK(net != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    QB_CHECK_MSG(qb_net_export_onnx(net, path, 0, NULL, &err) == 0, "%s", err.msg);
    qb_onnx_model m;
    QB_CHECK_MSG(qb_onnx_model_read(path, &m, &err) == 0, "%s", err.msg);
    if (m.graph) {
      check_common(&m, name);
      if (strcmp(name, "dwnet") == 0) {
        QB_CHECK_EQ_INT(count_op(m.graph, "BatchNormalization"), 0);
        QB_CHECK_EQ_INT(count_op(m.graph, "Conv"), 9);
        QB_CHECK_EQ_INT(count_op(m.graph, "Clip"), 9);
        QB_CHECK(qb_onnx_find_initializer(m.graph, "block4.pw.bias") != NULL);
      }
      if (strcmp(name, "vit") == 0) {
        QB_CHECK_EQ_INT(count_op(m.graph, "Softmax"), 2);
        QB_CHECK_EQ_INT(count_op(m.graph, "Erf"), 2);
        QB_CHECK_EQ_INT(count_op(m.graph, "LayerNormalization"), 5);
      }
      if (strcmp(name, "cnn") == 0) {
        QB_CHECK_EQ_INT(count_op(m.graph, "Conv"), 2);
        QB_CHECK_EQ_INT(count_op(m.graph, "MaxPool"), 2);
        QB_CHECK_EQ_INT(count_op(m.graph, "Gemm"), 2);
      }
    }
    qb_onnx_model_free(&m);
    qb_net_free(net);
  }
}

static void test_qdq_export(const char* dir) {
  qb_error err;
  qb_net* net = qb_reference_model_build("cnn", 8, 1, &err);
  QB_CHECK(net != NULL);
  qb_qconfig qc;
  QB_CHECK(qb_qconfig_parse("w4-sym-channel-restricted/a8", &qc, &err) == 0);
  QB_CHECK(qb_qat_attach(net, &qc, &err) == 0);
  float* x = malloc(8 * 784 * sizeof *x);
  for (int i = 0; i < 8 * 784; i++) x[i] = qb_rand_normal();
  QB_CHECK(qb_qat_calibrate(net, x, 8, &err) == 0);
  char path[512];
  snprintf(path, sizeof path, "%s/cnn_qdq.onnx", dir);
  QB_CHECK_MSG(qb_net_export_onnx(net, path, 1, NULL, &err) == 0, "%s", err.msg);
  qb_onnx_model m;
  QB_CHECK_MSG(qb_onnx_model_read(path, &m, &err) == 0, "%s", err.msg);
  if (m.graph) {
    check_common(&m, "cnn");
    QB_CHECK_EQ_INT(count_op(m.graph, "QuantizeLinear"), 4);   /* one per Conv/Gemm input */
    QB_CHECK_EQ_INT(count_op(m.graph, "DequantizeLinear"), 8); /* inputs + weights */
    qb_tensor codes, scales;
    QB_CHECK(qb_onnx_initializer(m.graph, "conv2.weight_quantized", &codes, &err) == 0);
    QB_CHECK(qb_onnx_initializer(m.graph, "conv2.weight_scale", &scales, &err) == 0);
    QB_CHECK(codes.dtype == QB_I8 && codes.ndim == 4 && codes.dims[0] == 32);
    QB_CHECK(scales.dtype == QB_F32 && scales.ndim == 1 && scales.dims[0] == 32);
    int lo = 0, hi = 0;
    for (size_t i = 0; codes.data && i < qb_tensor_numel(&codes); i++) {
      const int v = ((int8_t*)codes.data)[i];
      lo = v < lo ? v : lo, hi = v > hi ? v : hi;
    }
    QB_CHECK(lo == -7 || hi == 7); /* each channel's extreme sits on the grid's edge */
    QB_CHECK(lo >= -7 && hi <= 7);
    qb_tensor_free(&codes);
    qb_tensor_free(&scales);
    for (size_t i = 0; i < m.graph->n_node; i++) {
      const Onnx__NodeProto* n = m.graph->node[i];
      if (strcmp(n->op_type, "DequantizeLinear") == 0 && strstr(n->name, "weight")) {
        int64_t axis = -1;
        QB_CHECK(qb_onnx_attr_int(n, "axis", -1, &axis, &err) == 0 && axis == 0);
      }
    }
    const Onnx__TensorProto* zp = qb_onnx_find_initializer(m.graph, "fc1.input_zero_point");
    QB_CHECK(zp && zp->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT8 && zp->n_dims == 0);
  }
  qb_onnx_model_free(&m);
  /* A model written by train loads back for QAT with the same weights. */
  qb_net* back = qb_net_load_onnx(path, 4, &err);
  QB_CHECK(back == NULL); /* QDQ weights are codes, not the fp32 layout */
  snprintf(path, sizeof path, "%s/cnn.onnx", dir);
  back = qb_net_load_onnx(path, 4, &err);
  QB_CHECK_MSG(back != NULL, "%s", err.msg);
  qb_net* ref = qb_reference_model_build("cnn", 4, 1, &err);
  if (back && ref) QB_CHECK(qb_net_weights_hash(back) == qb_net_weights_hash(ref));
  qb_net_free(back);
  qb_net_free(ref);
  snprintf(path, sizeof path, "%s/vit.onnx", dir);
  QB_CHECK(qb_net_load_onnx(path, 4, &err) == NULL);
  QB_CHECK(strstr(err.msg, "QAT supports mlp and cnn") != NULL);
  free(x);
  qb_net_free(net);
}

static int node_index(const qb_model* m, const char* name) {
  for (size_t k = 0; k < m->nnodes; k++)
    if (strcmp(m->nodes[k].name, name) == 0) return (int)k;
  return -1;
}

static size_t distinct_values(const float* v, size_t n) {
  float seen[512];
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (j < count && seen[j] != v[i]) j++;
    if (j == count && count < 512) seen[count++] = v[i];
  }
  return count;
}

/* QAT export below 8 bits, re-imported: the exported grid is the trained one. */
static void test_qdq_export_subbyte(const char* dir, int abits) {
  enum { N = 8 };
  qb_error err;
  qb_net* net = qb_reference_model_build("cnn", N, 1, &err);
  QB_CHECK(net != NULL);
  if (!net) return;
  char qtext[64], path[512];
  snprintf(qtext, sizeof qtext, "w4-sym-channel/a%d-aff", abits);
  qb_qconfig qc;
  QB_CHECK(qb_qconfig_parse(qtext, &qc, &err) == 0);
  QB_CHECK(qb_qat_attach(net, &qc, &err) == 0);
  float* x = malloc(N * 784 * sizeof *x);
  for (int i = 0; i < N * 784; i++) x[i] = qb_rand_normal();
  QB_CHECK(qb_qat_calibrate(net, x, N, &err) == 0);
  /* Evaluated on inputs 3x wider than calibrated: the grid's clamp is exercised. */
  for (int i = 0; i < N * 784; i++) x[i] *= 3.0f;
  QB_CHECK(qb_net_forward(net, N, x, 0) != NULL);
  snprintf(path, sizeof path, "%s/cnn_qdq_a%d.onnx", dir, abits);
  QB_CHECK_MSG(qb_net_export_onnx(net, path, 1, NULL, &err) == 0, "%s", err.msg);
  qb_model m;
  QB_CHECK_MSG(qb_model_load_onnx(path, &m, &err) == 0, "%s", err.msg);
  qb_test_capture c = {{0}, {0}};
  QB_CHECK(qb_test_run_capture(&m, x, N, QB_EXEC_FP32, NULL, &c) == 0);
  const char* layers[] = {"conv1", "conv2", "fc1", "fc2"};
  size_t checked = 0;
  for (int i = 0; i < 4; i++) {
    char clip[96];
    snprintf(clip, sizeof clip, "%s.input_clip_to_grid", layers[i]);
    const int k = node_index(&m, clip);
    QB_CHECK_MSG(k >= 0 && k < QB_TEST_MAX_NODES && c.out[k], "a%d: no %s", abits, clip);
    if (k < 0 || k >= QB_TEST_MAX_NODES || !c.out[k]) continue;
    const size_t d = distinct_values(c.out[k], c.numel[k]);
    QB_CHECK_MSG(d <= ((size_t)1 << abits), "a%d: %s takes %zu values", abits, layers[i], d);
    checked++;
  }
  QB_CHECK_EQ_INT(checked, 4);
  /* conv1 reads the model input: its exported grid values are the fake-quant's. */
  const int k = node_index(&m, "conv1.input_clip_to_grid");
  const qb_layer* conv1 = NULL;
  for (int i = 0; i < net->nlayers; i++)
    if (strcmp(net->layers[i]->name, "conv1") == 0) conv1 = net->layers[i];
  QB_CHECK(conv1 && conv1->aq);
  if (k >= 0 && k < QB_TEST_MAX_NODES && c.out[k] && conv1 && conv1->aq) {
    QB_CHECK_EQ_INT(c.numel[k], N * 784);
    size_t differ = 0;
    for (size_t i = 0; i < c.numel[k]; i++) differ += c.out[k][i] != conv1->aq->out[i];
    QB_CHECK_MSG(differ == 0, "a%d: %zu of %zu conv1 inputs differ from the QAT grid", abits,
                 differ, c.numel[k]);
  }
  qb_test_capture_free(&c);
  qb_model_free(&m);
  remove(path);
  free(x);
  qb_net_free(net);
}

int main(void) {
  qb_test_seed(9);
  char dir[] = "/tmp/qb_test_train_export_XXXXXX";
  QB_CHECK(mkdtemp(dir) != NULL);
  test_fp32_exports(dir);
  test_qdq_export(dir);
  test_qdq_export_subbyte(dir, 4);
  test_qdq_export_subbyte(dir, 2);
  const char* names[] = {"mlp", "cnn", "dwnet", "vit", "cnn_qdq"};
  for (int i = 0; i < 5; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.onnx", dir, names[i]);
    remove(path);
  }
  rmdir(dir);
  return qb_test_finish("test_train_export");
}
