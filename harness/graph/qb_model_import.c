/* ONNX -> qb_model. Checks everything the runtime later relies on, so running a
 * model that loaded cannot crash:
 *   - default domain, opset 9..18 (QB_MODEL_OPSET_MIN..MAX): the forms every
 *     supported op has in that range (Slice with attributes before 10, Squeeze /
 *     Unsqueeze axes as attributes before 13, ReduceMean axes as an input from 18);
 *     the attribute forms become constant inputs here, so later code sees one form;
 *   - every node's op is supported and its attributes have the right types and
 *     sane values; unsupported ops / attributes name the op type, the node and
 *     what is missing;
 *   - every input of every node is defined (graph input, initializer, Constant
 *     node or another node's output), every value is produced once;
 *   - nodes are sorted topologically (Kahn); a cycle is an error naming a node on it;
 *   - initializers: float types become F32, integer types I64; external data is
 *     read from files next to the model (relative paths without "..").
 * BatchNormalization after a Conv/Gemm with constant weights is folded into it
 * (qb_model_fold.c). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model.h"
#include "qb_model_internal.h"
#include "qb_onnx.h"

static const char* const op_names[QB_OP_COUNT] = {
    [QB_OP_GEMM] = "Gemm", [QB_OP_MATMUL] = "MatMul", [QB_OP_CONV] = "Conv",
    [QB_OP_BATCHNORM] = "BatchNormalization", [QB_OP_MAXPOOL] = "MaxPool",
    [QB_OP_AVGPOOL] = "AveragePool", [QB_OP_GLOBALAVGPOOL] = "GlobalAveragePool",
    [QB_OP_RELU] = "Relu", [QB_OP_CLIP] = "Clip", [QB_OP_SIGMOID] = "Sigmoid",
    [QB_OP_HARDSIGMOID] = "HardSigmoid", [QB_OP_HARDSWISH] = "HardSwish", [QB_OP_ERF] = "Erf",
    [QB_OP_SQRT] = "Sqrt", [QB_OP_IDENTITY] = "Identity", [QB_OP_ADD] = "Add",
    [QB_OP_SUB] = "Sub", [QB_OP_MUL] = "Mul", [QB_OP_DIV] = "Div", [QB_OP_POW] = "Pow",
    [QB_OP_SOFTMAX] = "Softmax", [QB_OP_LAYERNORM] = "LayerNormalization",
    [QB_OP_REDUCEMEAN] = "ReduceMean", [QB_OP_FLATTEN] = "Flatten", [QB_OP_RESHAPE] = "Reshape",
    [QB_OP_TRANSPOSE] = "Transpose", [QB_OP_CONCAT] = "Concat", [QB_OP_SLICE] = "Slice",
    [QB_OP_QUANTIZE] = "QuantizeLinear", [QB_OP_DEQUANTIZE] = "DequantizeLinear",
    [QB_OP_SHAPE] = "Shape", [QB_OP_CAST] = "Cast", [QB_OP_RANGE] = "Range",
    [QB_OP_GATHER] = "Gather", [QB_OP_SQUEEZE] = "Squeeze", [QB_OP_UNSQUEEZE] = "Unsqueeze",
    [QB_OP_RESIZE] = "Resize", [QB_OP_CONVTRANSPOSE] = "ConvTranspose",
};

const char* qb_op_name(qb_op op) { return (unsigned)op < QB_OP_COUNT ? op_names[op] : "?"; }

int qb_op_from_name(const char* op_type) {
  if (!op_type) return -1;
  for (int i = 0; i < QB_OP_COUNT; i++)
    if (strcmp(op_names[i], op_type) == 0) return i;
  return -1;
}

/* ------------------------------------------------------------------ values */

int qb_model_find_value(const qb_model* m, const char* name) {
  for (size_t i = 0; i < m->nvalues; i++)
    if (strcmp(m->values[i].name, name) == 0) return (int)i;
  return -1;
}

int qb_model_add_value(qb_model* m, const char* name, qb_value_kind kind, qb_error* err) {
  if (m->nvalues == m->values_cap) {
    const size_t cap = m->values_cap ? 2 * m->values_cap : 64;
    qb_value* v = realloc(m->values, cap * sizeof *v);
    if (!v) return qb_fail(err, "out of memory");
    m->values = v;
    m->values_cap = cap;
  }
  qb_value* v = &m->values[m->nvalues];
  memset(v, 0, sizeof *v);
  v->name = strdup(name);
  if (!v->name) return qb_fail(err, "out of memory");
  v->kind = kind;
  v->producer = -1;
  return (int)m->nvalues++;
}

/* ------------------------------------------------------------------- nodes */

static int node_fail(qb_error* err, const Onnx__NodeProto* n, const char* what) {
  char where[320];
  return qb_fail(err, "%s: %s", qb_onnx_node_str(n, where, sizeof where), what);
}

/* Spatial attributes of Conv / MaxPool / AveragePool (2-D only). */
static int read_spatial(const Onnx__NodeProto* n, qb_node_attrs* a, bool kernel_required,
                        qb_error* err) {
  int64_t v[8];
  size_t c;
  if (qb_onnx_attr_ints(n, "kernel_shape", NULL, 0, v, 8, &c, err)) return -1;
  if (c == 0 && kernel_required) return node_fail(err, n, "attribute 'kernel_shape' is missing");
  if (c != 0 && c != 2)
    return node_fail(err, n, "only 2-D kernels are supported (kernel_shape must have 2 values)");
  a->kernel[0] = c ? v[0] : 0, a->kernel[1] = c ? v[1] : 0;
  const int64_t ones[2] = {1, 1}, zeros[4] = {0, 0, 0, 0};
  if (qb_onnx_attr_ints(n, "strides", ones, 2, a->strides, 2, &c, err)) return -1;
  if (c != 2) return node_fail(err, n, "'strides' must have 2 values (2-D only)");
  if (qb_onnx_attr_ints(n, "dilations", ones, 2, a->dilations, 2, &c, err)) return -1;
  if (c != 2) return node_fail(err, n, "'dilations' must have 2 values (2-D only)");
  int64_t p[4];
  if (qb_onnx_attr_ints(n, "pads", zeros, 4, p, 4, &c, err)) return -1;
  if (c != 4) return node_fail(err, n, "'pads' must have 4 values (2-D only)");
  /* ONNX order: x1_begin, x2_begin, x1_end, x2_end = top, left, bottom, right. */
  memcpy(a->pads, p, sizeof p);
  for (int i = 0; i < 2; i++) {
    if (a->kernel[i] < 0 || a->kernel[i] > 4096 || a->strides[i] < 1 || a->strides[i] > 4096 ||
        a->dilations[i] < 1 || a->dilations[i] > 4096)
      return node_fail(err, n, "kernel_shape, strides and dilations must be in 1..4096");
  }
  for (int i = 0; i < 4; i++)
    if (p[i] < 0 || p[i] > 4096) return node_fail(err, n, "pads must be in 0..4096");
  char ap[32];
  if (qb_onnx_attr_string(n, "auto_pad", "NOTSET", ap, sizeof ap, err)) return -1;
  if (!strcmp(ap, "NOTSET")) a->auto_pad = 0;
  else if (!strcmp(ap, "VALID")) a->auto_pad = 0, memset(a->pads, 0, sizeof a->pads);
  else if (!strcmp(ap, "SAME_UPPER")) a->auto_pad = 1;
  else if (!strcmp(ap, "SAME_LOWER")) a->auto_pad = 2;
  else return node_fail(err, n, "auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  if (qb_onnx_attr_int(n, "ceil_mode", 0, &a->ceil_mode, err)) return -1;
  if (qb_onnx_attr_int(n, "count_include_pad", 0, &a->count_include_pad, err)) return -1;
  return 0;
}

/* Resize: nearest and linear, the coordinate modes PyTorch, TensorFlow and
 * Paddle exporters write; cubic, tf_crop_and_resize, antialias and the opset-18
 * axes / keep_aspect_ratio_policy are rejected by name. */
const char* const qb_resize_coord_names[QB_RESIZE_COORD_COUNT] = {
    "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"};
const char* const qb_resize_nearest_names[QB_RESIZE_NEAREST_COUNT] = {
    "round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

static int read_resize(const Onnx__NodeProto* n, qb_node_attrs* a, qb_error* err) {
  char mode[32], coord[32], nm[32], kar[32];
  int64_t antialias = 0, axes[QB_MAX_DIMS];
  size_t naxes;
  if (qb_onnx_attr_string(n, "mode", "nearest", mode, sizeof mode, err) ||
      qb_onnx_attr_string(n, "coordinate_transformation_mode", "half_pixel", coord, sizeof coord, err) ||
      qb_onnx_attr_string(n, "nearest_mode", "round_prefer_floor", nm, sizeof nm, err) ||
      qb_onnx_attr_string(n, "keep_aspect_ratio_policy", "stretch", kar, sizeof kar, err) ||
      qb_onnx_attr_int(n, "antialias", 0, &antialias, err) ||
      qb_onnx_attr_ints(n, "axes", NULL, 0, axes, QB_MAX_DIMS, &naxes, err))
    return -1;
  if (!strcmp(mode, "nearest")) a->resize_mode = 0;
  else if (!strcmp(mode, "linear")) a->resize_mode = 1;
  else return node_fail(err, n, "mode must be nearest or linear (cubic is not supported)");
  a->coord_mode = -1, a->nearest_mode = -1;
  for (int i = 0; i < QB_RESIZE_COORD_COUNT; i++)
    if (!strcmp(coord, qb_resize_coord_names[i])) a->coord_mode = i;
  for (int i = 0; i < QB_RESIZE_NEAREST_COUNT; i++)
    if (!strcmp(nm, qb_resize_nearest_names[i])) a->nearest_mode = i;
  if (a->coord_mode < 0)
    return node_fail(err, n, "coordinate_transformation_mode must be half_pixel, pytorch_half_pixel, "
                     "align_corners, asymmetric or tf_half_pixel_for_nn");
  if (a->nearest_mode < 0)
    return node_fail(err, n, "nearest_mode must be round_prefer_floor, round_prefer_ceil, floor or ceil");
  if (antialias || naxes || strcmp(kar, "stretch"))
    return node_fail(err, n, "antialias, axes and keep_aspect_ratio_policy (opset 18) are not supported");
  return 0;
}

static int read_attrs(const Onnx__NodeProto* n, qb_op op, int64_t opset, qb_node_attrs* a,
                      qb_error* err) {
  memset(a, 0, sizeof *a);
  size_t c;
  switch (op) {
    case QB_OP_GEMM:
      if (qb_onnx_attr_float(n, "alpha", 1.0f, &a->alpha, err) ||
          qb_onnx_attr_float(n, "beta", 1.0f, &a->beta, err) ||
          qb_onnx_attr_int(n, "transA", 0, &a->trans_a, err) ||
          qb_onnx_attr_int(n, "transB", 0, &a->trans_b, err))
        return -1;
      return 0;
    case QB_OP_CONV:
      if (qb_onnx_attr_int(n, "group", 1, &a->group, err)) return -1;
      if (a->group < 1) return node_fail(err, n, "'group' must be >= 1");
      return read_spatial(n, a, false, err);
    case QB_OP_MAXPOOL:
      if (qb_onnx_attr_int(n, "storage_order", 0, &a->allowzero, err)) return -1;
      if (a->allowzero) return node_fail(err, n, "storage_order=1 is not supported");
      if (n->n_output > 1 && qb_onnx_node_output(n, 1))
        return node_fail(err, n, "the Indices output is not supported");
      return read_spatial(n, a, true, err);
    case QB_OP_AVGPOOL:
      return read_spatial(n, a, true, err);
    case QB_OP_BATCHNORM: {
      int64_t training = 0;
      if (qb_onnx_attr_float(n, "epsilon", 1e-5f, &a->epsilon, err) ||
          qb_onnx_attr_int(n, "training_mode", 0, &training, err))
        return -1;
      if (training || qb_onnx_node_output(n, 1))
        return node_fail(err, n, "training mode (running mean/var outputs) is not supported");
      return 0;
    }
    case QB_OP_HARDSIGMOID:
      if (qb_onnx_attr_float(n, "alpha", 0.2f, &a->alpha, err) ||
          qb_onnx_attr_float(n, "beta", 0.5f, &a->beta, err))
        return -1;
      return 0;
    case QB_OP_CLIP:
      /* Before opset 11 the limits are attributes; later, optional inputs. */
      if (qb_onnx_attr_float(n, "min", -INFINITY, &a->clip_min, err) ||
          qb_onnx_attr_float(n, "max", INFINITY, &a->clip_max, err))
        return -1;
      return 0;
    case QB_OP_SOFTMAX:
      return qb_onnx_attr_int(n, "axis", opset >= 13 ? -1 : 1, &a->axis, err);
    case QB_OP_FLATTEN:
      return qb_onnx_attr_int(n, "axis", 1, &a->axis, err);
    case QB_OP_CONCAT:
      if (!qb_onnx_node_attr(n, "axis")) return node_fail(err, n, "attribute 'axis' is missing");
      return qb_onnx_attr_int(n, "axis", 0, &a->axis, err);
    case QB_OP_LAYERNORM: {
      int64_t stash = 1;
      if (qb_onnx_attr_int(n, "axis", -1, &a->axis, err) ||
          qb_onnx_attr_float(n, "epsilon", 1e-5f, &a->epsilon, err) ||
          qb_onnx_attr_int(n, "stash_type", 1, &stash, err))
        return -1;
      return 0;
    }
    case QB_OP_TRANSPOSE:
      if (qb_onnx_attr_ints(n, "perm", NULL, 0, a->perm, QB_MAX_DIMS, &c, err)) return -1;
      a->nperm = (int)c; /* 0: reverse the dimensions */
      return 0;
    case QB_OP_REDUCEMEAN:
      if (qb_onnx_attr_ints(n, "axes", NULL, 0, a->axes, QB_MAX_DIMS, &c, err) ||
          qb_onnx_attr_int(n, "keepdims", 1, &a->keepdims, err))
        return -1;
      a->naxes = (int)c; /* 0: all axes; opset 18: read from input 1 at prepare */
      return qb_onnx_attr_int(n, "noop_with_empty_axes", 0, &a->noop_with_empty_axes, err);
    case QB_OP_RESHAPE:
      return qb_onnx_attr_int(n, "allowzero", 0, &a->allowzero, err);
    case QB_OP_QUANTIZE: case QB_OP_DEQUANTIZE:
      return qb_onnx_attr_int(n, "axis", 1, &a->axis, err);
    case QB_OP_SLICE: case QB_OP_SQUEEZE: case QB_OP_UNSQUEEZE:
      return 0; /* attribute forms: attrs_to_inputs */
    case QB_OP_GATHER:
      return qb_onnx_attr_int(n, "axis", 0, &a->axis, err);
    case QB_OP_CAST:
      if (!qb_onnx_node_attr(n, "to")) return node_fail(err, n, "attribute 'to' is missing");
      return qb_onnx_attr_int(n, "to", 0, &a->to, err);
    case QB_OP_SHAPE:
      if (qb_onnx_attr_int(n, "start", 0, &a->start, err) ||
          qb_onnx_attr_int(n, "end", INT64_MAX, &a->end, err))
        return -1;
      return 0;
    case QB_OP_CONVTRANSPOSE: {
      if (qb_onnx_attr_int(n, "group", 1, &a->group, err)) return -1;
      if (a->group < 1) return node_fail(err, n, "'group' must be >= 1");
      const int64_t zeros[2] = {0, 0};
      if (qb_onnx_attr_ints(n, "output_padding", zeros, 2, a->output_padding, 2, &c, err) ||
          (c != 2 && node_fail(err, n, "'output_padding' must have 2 values (2-D only)")) ||
          qb_onnx_attr_ints(n, "output_shape", zeros, 2, a->output_shape, 2, &c, err))
        return -1;
      if (c != 2) return node_fail(err, n, "'output_shape' must have 2 values (2-D only)");
      return read_spatial(n, a, false, err);
    }
    case QB_OP_RESIZE:
      return read_resize(n, a, err);
    default:
      return 0;
  }
}

/* Input count limits per op (min, max). */
static void input_limits(qb_op op, int64_t opset, int* lo, int* hi) {
  *lo = 1, *hi = 1;
  switch (op) {
    case QB_OP_GEMM: case QB_OP_CONV: *lo = 2, *hi = 3; break;
    case QB_OP_LAYERNORM: *lo = 2, *hi = 3; break;
    case QB_OP_MATMUL: case QB_OP_ADD: case QB_OP_SUB: case QB_OP_MUL: case QB_OP_DIV:
    case QB_OP_POW: case QB_OP_RESHAPE: *lo = 2, *hi = 2; break;
    case QB_OP_BATCHNORM: *lo = 5, *hi = 5; break;
    case QB_OP_CLIP: *lo = 1, *hi = 3; break;
    case QB_OP_CONCAT: *lo = 1, *hi = QB_NODE_MAX_INPUTS; break;
    case QB_OP_SLICE: *lo = opset < 10 ? 1 : 3, *hi = opset < 10 ? 1 : 5; break;
    case QB_OP_QUANTIZE: case QB_OP_DEQUANTIZE: *lo = 2, *hi = 3; break;
    case QB_OP_SQUEEZE: case QB_OP_UNSQUEEZE: *lo = 1, *hi = opset < 13 ? 1 : 2; break;
    case QB_OP_REDUCEMEAN: *hi = opset < 18 ? 1 : 2; break;
    case QB_OP_GATHER: *lo = *hi = 2; break;
    case QB_OP_RANGE: *lo = *hi = 3; break;
    case QB_OP_CONVTRANSPOSE: *lo = 2, *hi = 3; break;
    case QB_OP_RESIZE: *lo = opset < 11 ? 2 : 1, *hi = opset < 11 ? 2 : 4; break;
    default: break;
  }
}

/* A constant int64 tensor made by the importer (attribute forms turned into inputs). */
static int add_ints_constant(qb_model* m, const char* name, const int64_t* v, size_t n,
                             qb_error* err) {
  if (qb_model_find_value(m, name) >= 0) return qb_fail(err, "value '%.200s' is defined twice", name);
  const int idx = qb_model_add_value(m, name, QB_VALUE_CONST, err);
  if (idx < 0) return -1;
  qb_value* c = &m->values[idx];
  c->source_dtype = QB_I64;
  if (qb_tensor_alloc(&c->constant, QB_I64, 1, (size_t[]){n}, err)) return -1;
  if (n) memcpy(c->constant.data, v, n * sizeof *v);
  return idx;
}

/* Attribute forms of older opsets become the input form of later ones, so the rest
 * of the runtime (and the opset-17 export) sees one form: Slice (< 10) starts /
 * ends / axes, Squeeze / Unsqueeze (< 13) axes -> constant inputs named
 * "<node>.<attribute>"; Resize (10) scales moves to input 2 (roi empty). */
static int attrs_to_inputs(qb_model* m, const Onnx__NodeProto* n, int64_t opset, qb_node* node,
                           qb_error* err) {
  static const char* const slice_attrs[] = {"starts", "ends", "axes"};
  int64_t v[QB_MAX_DIMS];
  size_t c;
  char name[320];
  if (node->op == QB_OP_SLICE && opset < 10) {
    for (int i = 0; i < 3; i++) {
      if (!qb_onnx_node_attr(n, slice_attrs[i])) {
        if (i < 2) return node_fail(err, n, "attributes 'starts' and 'ends' are required (opset < 10)");
        continue;
      }
      if (qb_onnx_attr_ints(n, slice_attrs[i], NULL, 0, v, QB_MAX_DIMS, &c, err)) return -1;
      snprintf(name, sizeof name, "%.200s.%s", node->name, slice_attrs[i]);
      if ((node->in[1 + i] = add_ints_constant(m, name, v, c, err)) < 0) return -1;
      node->nin = 2 + i;
    }
  } else if ((node->op == QB_OP_SQUEEZE || node->op == QB_OP_UNSQUEEZE) && opset < 13) {
    if (qb_onnx_attr_ints(n, "axes", NULL, 0, v, QB_MAX_DIMS, &c, err)) return -1;
    if (c == 0 && node->op == QB_OP_UNSQUEEZE) return node_fail(err, n, "attribute 'axes' is missing");
    if (c) {
      snprintf(name, sizeof name, "%.200s.axes", node->name);
      if ((node->in[1] = add_ints_constant(m, name, v, c, err)) < 0) return -1;
      node->nin = 2;
    }
  } else if (node->op == QB_OP_RESIZE && opset < 11) {
    node->in[2] = node->in[1], node->in[1] = -1, node->nin = 3;
  }
  return 0;
}

/* Constant node: its value becomes a constant value. */
static int import_constant_node(qb_model* m, const Onnx__NodeProto* n, qb_error* err) {
  const char* out = qb_onnx_node_output(n, 0);
  if (!out) return node_fail(err, n, "has no output");
  const Onnx__AttributeProto* a = qb_onnx_node_attr(n, "value");
  if (!a || !a->t) return node_fail(err, n, "only the 'value' (tensor) form of Constant is supported");
  return qb_model_add_constant(m, out, a->t, NULL, err);
}

static int import_node(qb_model* m, const Onnx__NodeProto* n, size_t index, int64_t opset,
                       qb_node* node, qb_error* err) {
  memset(node, 0, sizeof *node);
  if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx"))
    return node_fail(err, n, "operators of domain other than ai.onnx are not supported");
  const int op = qb_op_from_name(n->op_type);
  if (op < 0) return node_fail(err, n, "operator not supported by the qbench runtime");
  node->op = (qb_op)op;
  char buf[96];
  if (n->name && n->name[0]) node->name = strdup(n->name);
  else snprintf(buf, sizeof buf, "%s_%zu", n->op_type, index), node->name = strdup(buf);
  if (!node->name) return qb_fail(err, "out of memory");
  int lo, hi;
  input_limits(node->op, opset, &lo, &hi);
  if (n->n_input < (size_t)lo || n->n_input > (size_t)hi) {
    snprintf(buf, sizeof buf, "has %zu inputs, expected %d..%d", n->n_input, lo, hi);
    return node_fail(err, n, buf);
  }
  node->nin = (int)n->n_input;
  for (size_t i = 0; i < n->n_input; i++) {
    const char* in = qb_onnx_node_input(n, i);
    node->in[i] = -1;
    if (!in) {
      if ((int)i < lo) return node_fail(err, n, "a required input is empty");
      continue;
    }
    node->in[i] = qb_model_find_value(m, in);
    if (node->in[i] < 0) {
      char msg[320];
      snprintf(msg, sizeof msg, "input '%.200s' is not defined (no graph input, initializer "
               "or node output of that name)", in);
      return node_fail(err, n, msg);
    }
  }
  if (n->n_output < 1 || n->n_output > QB_NODE_MAX_OUTPUTS || !qb_onnx_node_output(n, 0))
    return node_fail(err, n, "must have 1..3 outputs, the first one named");
  if (node->op != QB_OP_LAYERNORM && node->op != QB_OP_MAXPOOL && qb_onnx_node_output(n, 1))
    return node_fail(err, n, "has more than one output");
  if (read_attrs(n, node->op, opset, &node->a, err) || attrs_to_inputs(m, n, opset, node, err))
    return -1;
  node->nout = (int)n->n_output;
  for (size_t i = 0; i < n->n_output; i++) {
    const char* out = qb_onnx_node_output(n, i);
    node->out[i] = -1;
    if (!out || (node->op == QB_OP_MAXPOOL && i > 0)) continue;
    if (qb_model_find_value(m, out) >= 0) {
      char msg[320];
      snprintf(msg, sizeof msg, "output '%.200s' is already defined", out);
      return node_fail(err, n, msg);
    }
    node->out[i] = qb_model_add_value(m, out, QB_VALUE_ACT, err);
    if (node->out[i] < 0) return -1;
  }
  return 0;
}

/* ------------------------------------------------------------ topo sort */

/* Orders nodes so every input is produced before use. Values are added while
 * importing in an order that may not be topological, so nodes are imported in
 * passes: a node whose inputs are all known is imported; a pass that imports
 * nothing means a cycle or an undefined input. */
static int import_nodes(qb_model* m, const Onnx__GraphProto* g, int64_t opset, qb_error* err) {
  const size_t n = g->n_node;
  bool* done = calloc(n ? n : 1, sizeof *done);
  m->nodes = calloc(n ? n : 1, sizeof *m->nodes);
  if (!done || !m->nodes) {
    free(done);
    return qb_fail(err, "out of memory");
  }
  size_t remaining = n;
  while (remaining) {
    size_t progress = 0;
    for (size_t i = 0; i < n; i++) {
      if (done[i]) continue;
      const Onnx__NodeProto* np = g->node[i];
      bool ready = true;
      for (size_t k = 0; k < np->n_input && ready; k++) {
        const char* in = qb_onnx_node_input(np, k);
        if (in && qb_model_find_value(m, in) < 0) ready = false;
      }
      if (!ready) continue;
      done[i] = true, remaining--, progress++;
      if (np->op_type && !strcmp(np->op_type, "Constant")) {
        if (import_constant_node(m, np, err)) goto fail;
        continue;
      }
      if (import_node(m, np, i, opset, &m->nodes[m->nnodes], err)) {
        m->nnodes++; /* so qb_model_free releases its name */
        goto fail;
      }
      m->nnodes++;
    }
    if (!progress) {
      /* Name the first stuck node and its missing input. */
      for (size_t i = 0; i < n; i++) {
        if (done[i]) continue;
        const Onnx__NodeProto* np = g->node[i];
        for (size_t k = 0; k < np->n_input; k++) {
          const char* in = qb_onnx_node_input(np, k);
          if (in && qb_model_find_value(m, in) < 0) {
            bool produced = false;
            for (size_t j = 0; j < n && !produced; j++)
              for (size_t o = 0; o < g->node[j]->n_output; o++)
                if (!done[j] && qb_onnx_node_output(g->node[j], o) &&
                    !strcmp(qb_onnx_node_output(g->node[j], o), in))
                  produced = true;
            char msg[400];
            snprintf(msg, sizeof msg, produced
                     ? "input '%.200s' is produced by a node that depends on this node's output "
                       "(the graph has a cycle)"
                     : "input '%.200s' is not defined (no graph input, initializer or node "
                       "output of that name)", in);
            node_fail(err, np, msg);
            goto fail;
          }
        }
      }
      qb_fail(err, "graph cannot be ordered");
      goto fail;
    }
  }
  free(done);
  return 0;
fail:
  free(done);
  return -1;
}

/* --------------------------------------------------------------- graph io */

static int import_inputs(qb_model* m, const Onnx__GraphProto* g, qb_error* err) {
  m->inputs = calloc(g->n_input ? g->n_input : 1, sizeof *m->inputs);
  if (!m->inputs) return qb_fail(err, "out of memory");
  for (size_t i = 0; i < g->n_input; i++) {
    const Onnx__ValueInfoProto* vi = g->input[i];
    if (!vi->name || !vi->name[0]) return qb_fail(err, "graph input %zu has no name", i);
    if (qb_model_find_value(m, vi->name) >= 0) continue; /* an initializer: a constant */
    const Onnx__TypeProto* tp = vi->type;
    if (!tp || !tp->tensor_type)
      return qb_fail(err, "graph input '%.200s' is not a tensor", vi->name);
    const int32_t et = tp->tensor_type->elem_type;
    const bool is_float = et == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    const bool is_int = et == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ||
                        et == ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    if (!is_float && !is_int) {
      const char* tn = qb_onnx_data_type_name(et);
      return qb_fail(err, "graph input '%.200s' has element type %s; only FLOAT inputs (and "
                     "INT64 inputs bound to constants) are supported", vi->name, tn ? tn : "?");
    }
    const int v = qb_model_add_value(m, vi->name, QB_VALUE_INPUT, err);
    if (v < 0) return -1;
    qb_value* val = &m->values[v];
    val->int64_input = is_int;
    const Onnx__TensorShapeProto* sh = tp->tensor_type->shape;
    val->ndecl = -1; /* unknown rank: taken as [batch] x nothing; rejected at prepare */
    if (sh) {
      if (sh->n_dim > QB_MAX_DIMS)
        return qb_fail(err, "graph input '%.200s' has %zu dimensions; at most %d supported",
                       vi->name, sh->n_dim, QB_MAX_DIMS);
      val->ndecl = (int)sh->n_dim;
      for (size_t d = 0; d < sh->n_dim; d++) {
        const Onnx__TensorShapeProto__Dimension* dim = sh->dim[d];
        const bool known = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        val->decl[d] = known ? dim->dim_value : -1;
        if (known && (dim->dim_value < 0 || dim->dim_value > QB_MODEL_MAX_ELEMENTS))
          return qb_fail(err, "graph input '%.200s': dimension %zu is %lld", vi->name, d,
                         (long long)dim->dim_value);
      }
    }
    m->inputs[m->ninputs++] = v;
  }
  return 0;
}

static int import_outputs(qb_model* m, const Onnx__GraphProto* g, qb_error* err) {
  if (g->n_output == 0) return qb_fail(err, "graph has no outputs");
  m->outputs = calloc(g->n_output, sizeof *m->outputs);
  if (!m->outputs) return qb_fail(err, "out of memory");
  for (size_t i = 0; i < g->n_output; i++) {
    const char* name = g->output[i]->name;
    const int v = name ? qb_model_find_value(m, name) : -1;
    if (v < 0 || m->values[v].kind != QB_VALUE_ACT)
      return qb_fail(err, "graph output '%.200s' is not produced by any node",
                     name ? name : "(unnamed)");
    m->values[v].is_output = true;
    m->outputs[m->noutputs++] = v;
  }
  return 0;
}

static void read_metadata(qb_model* m, const Onnx__ModelProto* p) {
  for (size_t i = 0; i < p->n_metadata_props; i++) {
    const Onnx__StringStringEntryProto* e = p->metadata_props[i];
    if (!e->key || !e->value) continue;
    char* dst = NULL;
    size_t len = 0;
    if (!strcmp(e->key, "qbench.model")) dst = m->meta_model, len = sizeof m->meta_model;
    else if (!strcmp(e->key, "qbench.dataset")) dst = m->meta_dataset, len = sizeof m->meta_dataset;
    else if (!strcmp(e->key, "qbench.preprocess"))
      dst = m->meta_preprocess, len = sizeof m->meta_preprocess;
    if (dst) snprintf(dst, len, "%s", e->value);
  }
}

static int from_onnx(const qb_onnx_model* om, const char* dir, qb_model* m, qb_error* err) {
  const Onnx__GraphProto* g = om->graph;
  m->opset = qb_onnx_model_opset(om, "");
  if (m->opset < 0) return qb_fail(err, "model does not import the default ONNX domain");
  if (m->opset < QB_MODEL_OPSET_MIN || m->opset > QB_MODEL_OPSET_MAX)
    return qb_fail(err, "opset %lld is not supported (%d..%d)", (long long)m->opset,
                   QB_MODEL_OPSET_MIN, QB_MODEL_OPSET_MAX);
  read_metadata(m, om->proto);
  for (size_t i = 0; i < g->n_initializer; i++) {
    const Onnx__TensorProto* tp = g->initializer[i];
    if (!tp->name || !tp->name[0]) return qb_fail(err, "initializer %zu has no name", i);
    if (qb_model_add_constant(m, tp->name, tp, dir, err)) return -1;
  }
  if (import_inputs(m, g, err) || import_nodes(m, g, m->opset, err) ||
      import_outputs(m, g, err) || qb_model_fold_batchnorm(m, err))
    return -1;
  /* Shape inference at load (batch 1), so shape errors surface here; skipped while
   * integer inputs or parameters given as inputs still wait for
   * qb_model_bind_constant, or symbolic dimensions for their sizes
   * (qb_model_set_input_shape). */
  for (size_t i = 0; i < m->ninputs; i++)
    if (m->values[m->inputs[i]].int64_input) return 0;
  if (qb_model_needs_input_shape(m) || qb_model_params_unbound(m)) return 0;
  return qb_model_prepare(m, 1, err);
}

static int finish(qb_onnx_model* om, const char* dir, const char* what, qb_model* m,
                  qb_error* err) {
  const int rc = from_onnx(om, dir, m, err);
  qb_onnx_model_free(om);
  if (rc) {
    if (err) {
      char inner[sizeof err->msg];
      memcpy(inner, err->msg, sizeof inner);
      inner[sizeof inner - 1] = 0;
      qb_fail(err, "%s: %s", what, inner);
    }
    qb_model_free(m);
  }
  return rc;
}

int qb_model_load_onnx(const char* path, qb_model* m, qb_error* err) {
  memset(m, 0, sizeof *m);
  qb_onnx_model om;
  if (qb_onnx_model_read(path, &om, err)) return -1;
  char dirbuf[PATH_MAX];
  snprintf(dirbuf, sizeof dirbuf, "%s", path);
  return finish(&om, dirname(dirbuf), path, m, err);
}

int qb_model_parse_onnx(const void* bytes, size_t size, const char* what, qb_model* m,
                        qb_error* err) {
  memset(m, 0, sizeof *m);
  qb_onnx_model om;
  if (qb_onnx_model_parse(bytes, size, what, &om, err)) return -1;
  return finish(&om, ".", what, m, err);
}

void qb_model_free(qb_model* m) {
  if (!m) return;
  for (size_t i = 0; i < m->nvalues; i++) {
    free(m->values[i].name);
    free(m->values[i].int_as_f32);
    qb_tensor_free(&m->values[i].constant);
  }
  for (size_t i = 0; i < m->nnodes; i++) free(m->nodes[i].name);
  for (size_t i = 0; i < m->nshape_nodes; i++) free(m->shape_nodes[i].name);
  qb_f32_runtime_free(m);
  free(m->shape_nodes);
  free(m->values), free(m->nodes), free(m->inputs), free(m->outputs), free(m->arena);
  free(m->op_scratch);
  memset(m, 0, sizeof *m);
}

int qb_model_bind_constant(qb_model* m, const char* name, const qb_tensor* t, qb_error* err) {
  const int v = qb_model_find_value(m, name);
  if (v < 0 || m->values[v].kind != QB_VALUE_INPUT)
    return qb_fail(err, "'%.200s' is not a graph input", name);
  if (m->partitioned)
    return qb_fail(err, "'%.200s': bind constants before the model is first prepared", name);
  qb_value* val = &m->values[v];
  if (qb_model_constant_convert(t, &val->constant, err)) return -1;
  val->kind = QB_VALUE_CONST;
  val->source_dtype = t->dtype;
  size_t k = 0;
  for (size_t i = 0; i < m->ninputs; i++)
    if (m->inputs[i] != v) m->inputs[k++] = m->inputs[i];
  m->ninputs = k;
  m->prepared = false;
  return 0;
}
