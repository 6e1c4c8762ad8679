/* fp32 ops that select or relabel elements: Gather (constant indices, any axis,
 * scalar index), Squeeze / Unsqueeze (axes as a constant input; the opset < 13
 * attribute form is turned into one at import), Cast between float types. Shape
 * inference and computation, ONNX semantics. On shape values (int64 constants)
 * the same ops run at prepare (qb_model_shapefold.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_internal.h"

static int fail_node(qb_error* err, const qb_node* n, const char* what) {
  char where[320];
  return qb_fail(err, "%s: %s", qb_node_str(n, where, sizeof where), what);
}

/* ---------------------------------------------------------------- Gather */

/* out[o, i..., j] = data[o, idx[i...], j] along `axis`; negative indices count
 * from the end. */
static int gather_axis(const qb_node* n, const qb_value* x, int* axis) {
  int64_t a = n->a.axis;
  if (a < 0) a += x->ndim;
  if (a < 0 || a >= x->ndim) return -1;
  *axis = (int)a;
  return 0;
}

static int infer_gather(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value *x = qb_in(m, n, 0), *ind = qb_in(m, n, 1);
  int axis;
  if (gather_axis(n, x, &axis)) return fail_node(err, n, "axis out of range");
  if (ind->kind != QB_VALUE_CONST || ind->constant.dtype != QB_I64)
    return fail_node(err, n, "indices must be a constant integer tensor");
  const int64_t len = (int64_t)x->dims[axis];
  for (size_t i = 0; i < ind->numel; i++) {
    const int64_t v = ((const int64_t*)ind->constant.data)[i];
    if (v < -len || v >= len) return fail_node(err, n, "an index is out of range");
  }
  size_t dims[2 * QB_MAX_DIMS];
  int nd = 0;
  for (int i = 0; i < axis; i++) dims[nd++] = x->dims[i];
  for (int i = 0; i < ind->ndim; i++) dims[nd++] = ind->dims[i];
  for (int i = axis + 1; i < x->ndim; i++) dims[nd++] = x->dims[i];
  if (nd > QB_MAX_DIMS) return fail_node(err, n, "output has too many dimensions");
  return qb_value_set_shape(qb_out(m, n, 0), nd, dims, n, err);
}

static void run_gather(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value *x = qb_in(m, n, 0), *ind = qb_in(m, n, 1);
  int axis = 0;
  gather_axis(n, x, &axis);
  const size_t outer = qb_dims_prod(x->dims, 0, axis), len = x->dims[axis];
  const size_t inner = qb_dims_prod(x->dims, axis + 1, x->ndim);
  const int64_t* idx = ind->constant.data;
  float* y = m->values[n->out[0]].data;
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < ind->numel; i++) {
      const int64_t v = idx[i] < 0 ? idx[i] + (int64_t)len : idx[i];
      memcpy(y + (o * ind->numel + i) * inner, in[0] + (o * len + (size_t)v) * inner,
             inner * sizeof *y);
    }
}

/* ------------------------------------------------------ Squeeze / Unsqueeze */

static int infer_squeeze(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  const int64_t* ax;
  size_t na;
  if (qb_node_const_ints(m, n, 1, &ax, &na, err)) return -1;
  bool drop[QB_MAX_DIMS] = {false};
  for (size_t i = 0; i < na; i++) {
    const int64_t a = ax[i] < 0 ? ax[i] + x->ndim : ax[i];
    if (a < 0 || a >= x->ndim || drop[a]) return fail_node(err, n, "axes out of range or repeated");
    if (x->dims[a] != 1) return fail_node(err, n, "squeezes a dimension that is not 1");
    drop[a] = true;
  }
  size_t dims[QB_MAX_DIMS];
  int nd = 0;
  for (int i = 0; i < x->ndim; i++)
    if (!(na ? drop[i] : x->dims[i] == 1)) dims[nd++] = x->dims[i];
  return qb_value_set_shape(qb_out(m, n, 0), nd, dims, n, err);
}

static int infer_unsqueeze(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  const int64_t* ax;
  size_t na;
  if (qb_node_const_ints(m, n, 1, &ax, &na, err)) return -1;
  if (!ax) return fail_node(err, n, "axes are missing");
  const int r = x->ndim + (int)na;
  if (r > QB_MAX_DIMS) return fail_node(err, n, "output has too many dimensions");
  bool ins[QB_MAX_DIMS] = {false};
  for (size_t i = 0; i < na; i++) {
    const int64_t a = ax[i] < 0 ? ax[i] + r : ax[i];
    if (a < 0 || a >= r || ins[a]) return fail_node(err, n, "axes out of range or repeated");
    ins[a] = true;
  }
  size_t dims[QB_MAX_DIMS];
  for (int i = 0, k = 0; i < r; i++) dims[i] = ins[i] ? 1 : x->dims[k++];
  return qb_value_set_shape(qb_out(m, n, 0), r, dims, n, err);
}

/* ------------------------------------------------------------------ Cast */

/* At run time only float -> float (float32 activations: a copy); casts of shape
 * values to integers run at prepare. */
static int infer_cast(qb_model* m, qb_node* n, qb_error* err) {
  if (n->a.to != 1 && n->a.to != 11)
    return fail_node(err, n, "casts a float activation to a non-float type (only casts of "
                     "shape values and constants, evaluated at prepare, may)");
  const qb_value* x = qb_in(m, n, 0);
  return qb_value_set_shape(qb_out(m, n, 0), x->ndim, x->dims, n, err);
}

static void run_copy(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value* y = &m->values[n->out[0]];
  if (y->numel && y->data != in[0]) memcpy(y->data, in[0], y->numel * sizeof(float));
}

/* ------------------------------------------------------------- dispatch */

int qb_ops_index_infer(qb_model* m, qb_node* n, qb_error* err) {
  switch (n->op) {
    case QB_OP_GATHER: return infer_gather(m, n, err);
    case QB_OP_SQUEEZE: return infer_squeeze(m, n, err);
    case QB_OP_UNSQUEEZE: return infer_unsqueeze(m, n, err);
    case QB_OP_CAST: return infer_cast(m, n, err);
    default: return 1;
  }
}

bool qb_ops_index_run(const qb_model* m, const qb_node* n, const float* const* in) {
  switch (n->op) {
    case QB_OP_GATHER: run_gather(m, n, in); return true;
    case QB_OP_SQUEEZE: case QB_OP_UNSQUEEZE: case QB_OP_CAST: run_copy(m, n, in); return true;
    default: return false;
  }
}
