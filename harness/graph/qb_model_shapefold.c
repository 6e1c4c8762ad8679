/* Shape subgraphs evaluated at prepare.
 *
 * Exporters compute shapes inside the graph: PaddleOCR's Shape -> Cast -> Slice ->
 * Cast -> Concat -> Reshape, PyTorch's Shape -> Gather -> Unsqueeze -> Concat, with
 * Range and integer arithmetic on the way. Activations in this runtime are fp32, and
 * these values are integers that depend only on shapes: so they are computed once per
 * prepare, for the concrete input shape, and become constants.
 *
 * A node is a shape node when it is Shape, or when every input is a constant or the
 * output of a shape node and its op can compute on such values: Cast, Range, the
 * data-movement ops (Gather, Slice, Concat, Squeeze, Unsqueeze, Reshape, Flatten,
 * Transpose, Identity) on int64 or float constants, and Add / Sub / Mul / Div when
 * every input is int64 (float arithmetic on constants stays a runtime node). Which
 * nodes qualify does not depend on the shapes, so the split is made once, at the
 * first prepare: shape nodes move to m->shape_nodes, each remembering the runtime
 * node it precedes (fold_at), and their outputs become constants
 * (qb_value.computed) that every later prepare recomputes. Everything downstream —
 * Reshape's shape, quantization, export — sees plain constants.
 *
 * Int64 values travel through the data-movement ops as exact floats (the fp32 op
 * implementations are reused), so they must stay within +-2^24; larger ones (a
 * dimension of 16 M) are an error, never a silent rounding. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_internal.h"

static int fail_node(qb_error* err, const qb_node* n, const char* what) {
  char where[320];
  return qb_fail(err, "%s: %s", qb_node_str(n, where, sizeof where), what);
}

static bool is_float_type(int64_t onnx_type) {
  return onnx_type == 1 || onnx_type == 10 || onnx_type == 11 || onnx_type == 16; /* FLOAT, FLOAT16, DOUBLE, BFLOAT16 */
}

static bool moves_data(qb_op op) {
  switch (op) {
    case QB_OP_GATHER: case QB_OP_SLICE: case QB_OP_CONCAT: case QB_OP_SQUEEZE:
    case QB_OP_UNSQUEEZE: case QB_OP_RESHAPE: case QB_OP_FLATTEN: case QB_OP_TRANSPOSE:
    case QB_OP_IDENTITY:
      return true;
    default:
      return false;
  }
}

static bool is_int_arith(qb_op op) {
  return op == QB_OP_ADD || op == QB_OP_SUB || op == QB_OP_MUL || op == QB_OP_DIV;
}

/* Element type of each value while partitioning (QB_F32 / QB_I64), -1 = activation. */
static int output_type(const qb_node* n, const int* type) {
  switch (n->op) {
    case QB_OP_SHAPE: return QB_I64;
    case QB_OP_CAST: return is_float_type(n->a.to) ? QB_F32 : QB_I64;
    default: return type[n->in[0]];
  }
}

static bool is_shape_node(const qb_node* n, const int* type) {
  if (n->op == QB_OP_SHAPE) return true;
  bool all_const = true, all_int = true;
  for (int i = 0; i < n->nin; i++) {
    if (n->in[i] < 0) continue;
    all_const &= type[n->in[i]] >= 0;
    all_int &= type[n->in[i]] == QB_I64;
  }
  if (!all_const) return false;
  return n->op == QB_OP_CAST || n->op == QB_OP_RANGE || moves_data(n->op) ||
         (is_int_arith(n->op) && all_int);
}

int qb_model_partition_shape_nodes(qb_model* m, qb_error* err) {
  int* type = malloc((m->nvalues ? m->nvalues : 1) * sizeof *type);
  qb_node* shape = calloc(m->nnodes ? m->nnodes : 1, sizeof *shape);
  if (!type || !shape) {
    free(type), free(shape);
    return qb_fail(err, "out of memory");
  }
  for (size_t v = 0; v < m->nvalues; v++)
    type[v] = m->values[v].kind == QB_VALUE_CONST ? (int)m->values[v].constant.dtype : -1;
  size_t kept = 0, ns = 0;
  for (size_t k = 0; k < m->nnodes; k++) {
    qb_node n = m->nodes[k];
    if (!is_shape_node(&n, type)) {
      m->nodes[kept++] = n;
      continue;
    }
    const int t = output_type(&n, type);
    for (int o = 0; o < n.nout; o++) {
      if (n.out[o] < 0) continue;
      qb_value* v = &m->values[n.out[o]];
      v->kind = QB_VALUE_CONST, v->computed = true, v->source_dtype = (qb_dtype)t;
      type[n.out[o]] = t;
    }
    n.fold_at = kept;
    shape[ns++] = n;
  }
  free(type);
  m->nnodes = kept;
  m->shape_nodes = shape;
  m->nshape_nodes = ns;
  m->partitioned = true;
  return 0;
}

/* ------------------------------------------------------------ evaluation */

static int set_result(qb_value* y, qb_tensor* t, qb_error* err) {
  qb_tensor_free(&y->constant);
  y->constant = *t;
  memset(t, 0, sizeof *t);
  return qb_value_const_view(y, err);
}

static int fold_shape(const qb_model* m, const qb_node* n, qb_value* y, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  const int64_t r = x->ndim;
  int64_t s = n->a.start, e = n->a.end;
  if (s < 0) s += r;
  if (e < 0) e += r;
  s = s < 0 ? 0 : s > r ? r : s;
  e = e < 0 ? 0 : e > r ? r : e;
  const size_t len = e > s ? (size_t)(e - s) : 0;
  qb_tensor t;
  if (qb_tensor_alloc(&t, QB_I64, 1, (size_t[]){len}, err)) return -1;
  for (size_t i = 0; i < len; i++) ((int64_t*)t.data)[i] = (int64_t)x->dims[s + (int64_t)i];
  return set_result(y, &t, err);
}

/* Cast between the runtime's two constant types: float -> int truncates toward 0
 * (ONNX / C semantics), int -> float rounds to nearest; int32 / int8 / ... targets
 * wrap like a C conversion of the truncated value. */
static int fold_cast(const qb_model* m, const qb_node* n, qb_value* y, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  const qb_tensor* c = &x->constant;
  const bool to_float = is_float_type(n->a.to);
  qb_tensor t;
  if (qb_tensor_alloc(&t, to_float ? QB_F32 : QB_I64, c->ndim, c->dims, err)) return -1;
  const size_t len = qb_tensor_numel(c);
  for (size_t i = 0; i < len; i++) {
    if (to_float) {
      ((float*)t.data)[i] = c->dtype == QB_F32 ? ((const float*)c->data)[i]
                                               : (float)((const int64_t*)c->data)[i];
      continue;
    }
    int64_t v;
    if (c->dtype == QB_I64) {
      v = ((const int64_t*)c->data)[i];
    } else {
      const float f = ((const float*)c->data)[i];
      if (!(fabsf(f) < 9.2e18f)) {
        qb_tensor_free(&t);
        return fail_node(err, n, "casts a non-finite or huge float to an integer");
      }
      v = (int64_t)f;
    }
    switch (n->a.to) {
      case 2: v = (uint8_t)v; break;   /* UINT8 */
      case 3: v = (int8_t)v; break;    /* INT8 */
      case 4: v = (uint16_t)v; break;  /* UINT16 */
      case 5: v = (int16_t)v; break;   /* INT16 */
      case 6: v = (int32_t)v; break;   /* INT32 */
      case 9: v = v != 0; break;       /* BOOL */
      case 12: v = (uint32_t)v; break; /* UINT32 */
      default: break;                  /* INT64, UINT64 */
    }
    ((int64_t*)t.data)[i] = v;
  }
  return set_result(y, &t, err);
}

/* Scalar (or one-element) constant input i as a double. */
static double scalar_of(const qb_value* v) {
  return v->constant.dtype == QB_I64 ? (double)((const int64_t*)v->constant.data)[0]
                                     : (double)((const float*)v->constant.data)[0];
}

static int fold_range(const qb_model* m, const qb_node* n, qb_value* y, qb_error* err) {
  const qb_value *a = qb_in(m, n, 0), *b = qb_in(m, n, 1), *d = qb_in(m, n, 2);
  if (a->numel != 1 || b->numel != 1 || d->numel != 1)
    return fail_node(err, n, "start, limit and delta must be scalars");
  const bool is_int = a->constant.dtype == QB_I64;
  const double start = scalar_of(a), limit = scalar_of(b), delta = scalar_of(d);
  if (delta == 0) return fail_node(err, n, "delta is 0");
  const double count = ceil((limit - start) / delta);
  const size_t len = count > 0 ? (size_t)count : 0;
  if (count > (double)QB_MODEL_MAX_ELEMENTS) return fail_node(err, n, "more than 2^31 elements");
  qb_tensor t;
  if (qb_tensor_alloc(&t, is_int ? QB_I64 : QB_F32, 1, (size_t[]){len}, err)) return -1;
  for (size_t i = 0; i < len; i++) {
    if (is_int) {
      ((int64_t*)t.data)[i] = ((const int64_t*)a->constant.data)[0] +
                              (int64_t)i * ((const int64_t*)d->constant.data)[0];
    } else {
      ((float*)t.data)[i] = (float)start + (float)i * (float)delta;
    }
  }
  return set_result(y, &t, err);
}

/* Int64 Add / Sub / Mul / Div with numpy broadcasting; Div truncates toward 0. */
static int fold_int_arith(qb_model* m, qb_node* n, qb_value* y, qb_error* err) {
  if (qb_op_infer_shapes(m, n, err)) return -1; /* the broadcast output shape */
  const qb_value *a = qb_in(m, n, 0), *b = qb_in(m, n, 1);
  const int r = y->ndim;
  size_t as[QB_MAX_DIMS], bs[QB_MAX_DIMS], idx[QB_MAX_DIMS] = {0}, sa = 1, sb = 1;
  for (int i = r - 1; i >= 0; i--) {
    const int ia = i - (r - a->ndim), ib = i - (r - b->ndim);
    const size_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    as[i] = da == 1 ? 0 : sa, bs[i] = db == 1 ? 0 : sb;
    sa *= da, sb *= db;
  }
  qb_tensor t;
  if (qb_tensor_alloc(&t, QB_I64, r, y->dims, err)) return -1;
  const int64_t *pa = a->constant.data, *pb = b->constant.data;
  int64_t* out = t.data;
  size_t ia = 0, ib = 0;
  for (size_t o = 0; o < y->numel; o++) {
    const int64_t u = pa[ia], v = pb[ib];
    switch (n->op) {
      case QB_OP_ADD: out[o] = (int64_t)((uint64_t)u + (uint64_t)v); break;
      case QB_OP_SUB: out[o] = (int64_t)((uint64_t)u - (uint64_t)v); break;
      case QB_OP_MUL: out[o] = (int64_t)((uint64_t)u * (uint64_t)v); break;
      default:
        if (v == 0 || (u == INT64_MIN && v == -1)) {
          qb_tensor_free(&t);
          return fail_node(err, n, "integer division by zero (or overflow)");
        }
        out[o] = u / v;
        break;
    }
    for (int d = r - 1; d >= 0; d--) {
      ia += as[d], ib += bs[d];
      if (++idx[d] < y->dims[d]) break;
      ia -= as[d] * y->dims[d], ib -= bs[d] * y->dims[d];
      idx[d] = 0;
    }
  }
  return set_result(y, &t, err);
}

/* Gather / Slice / Concat / ...: the fp32 op on the float view of the inputs. */
static int fold_move(qb_model* m, qb_node* n, qb_value* y, qb_error* err) {
  const float* in[QB_NODE_MAX_INPUTS] = {0};
  for (int i = 0; i < n->nin; i++) {
    const qb_value* v = qb_in(m, n, i);
    if (!v) continue;
    in[i] = v->data;
    if (v->constant.dtype != QB_I64) continue;
    for (size_t k = 0; k < v->numel; k++) {
      const int64_t x = ((const int64_t*)v->constant.data)[k];
      /* Index-like inputs (Gather indices, Slice bounds) are read as int64; data only
       * needs to be exact as a float. */
      if ((i == 0 || n->op == QB_OP_CONCAT) && (x > (1 << 24) || x < -(1 << 24)))
        return fail_node(err, n, "an int64 value beyond +-2^24 in a shape computation");
    }
  }
  if (qb_op_infer_shapes(m, n, err)) return -1;
  const bool is_int = qb_in(m, n, 0)->constant.dtype == QB_I64;
  qb_tensor f, t;
  if (qb_tensor_alloc(&f, QB_F32, y->ndim, y->dims, err)) return -1;
  y->data = f.data;
  qb_op_run_f32(m, n, in);
  if (!is_int) return set_result(y, &f, err);
  if (qb_tensor_alloc(&t, QB_I64, y->ndim, y->dims, err)) {
    qb_tensor_free(&f);
    return -1;
  }
  for (size_t k = 0; k < y->numel; k++) ((int64_t*)t.data)[k] = (int64_t)((const float*)f.data)[k];
  qb_tensor_free(&f);
  return set_result(y, &t, err);
}

int qb_model_fold_shape_node(qb_model* m, qb_node* n, qb_error* err) {
  qb_value* y = qb_out(m, n, 0);
  switch (n->op) {
    case QB_OP_SHAPE: return fold_shape(m, n, y, err);
    case QB_OP_CAST: return fold_cast(m, n, y, err);
    case QB_OP_RANGE: return fold_range(m, n, y, err);
    case QB_OP_ADD: case QB_OP_SUB: case QB_OP_MUL: case QB_OP_DIV:
      return fold_int_arith(m, n, y, err);
    default: return fold_move(m, n, y, err);
  }
}
