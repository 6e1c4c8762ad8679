/* fp32 ops that move data or reduce along axes: Flatten, Reshape, Transpose,
 * Concat, Slice, Softmax, LayerNormalization, ReduceMean (axes as an attribute, or
 * as a constant input from opset 18). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_f32_rows.h"
#include "qb_model_internal.h"
#include "qb_multiversion.h"

static int fail_node(qb_error* err, const qb_node* n, const char* what) {
  char where[320];
  return qb_fail(err, "%s: %s", qb_node_str(n, where, sizeof where), what);
}

/* Normalizes a possibly negative axis for rank r (allow_end: r itself is valid). */
static int norm_axis(int64_t axis, int r, bool allow_end, int* out) {
  const int64_t hi = allow_end ? r : r - 1;
  if (axis < 0) axis += r;
  if (axis < 0 || axis > hi) return -1;
  *out = (int)axis;
  return 0;
}

int qb_node_const_ints(const qb_model* m, const qb_node* n, int i, const int64_t** v, size_t* len,
                       qb_error* err) {
  const qb_value* c = qb_in(m, n, i);
  *v = NULL, *len = 0;
  if (!c) return 0;
  if (c->kind != QB_VALUE_CONST || c->constant.dtype != QB_I64 || c->constant.ndim > 1) {
    char msg[200];
    snprintf(msg, sizeof msg, "input %d ('%.100s') must be a constant 1-D integer tensor", i, c->name);
    return fail_node(err, n, msg);
  }
  *v = c->constant.data, *len = qb_tensor_numel(&c->constant);
  if (*len > QB_MAX_DIMS) return fail_node(err, n, "too many values in a shape / axes input");
  return 0;
}

/* ------------------------------------------------------- Flatten / Reshape */

static int infer_flatten(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  int axis = 0;
  if (norm_axis(n->a.axis, x->ndim, true, &axis)) return fail_node(err, n, "axis out of range");
  const size_t dims[2] = {qb_dims_prod(x->dims, 0, axis), qb_dims_prod(x->dims, axis, x->ndim)};
  return qb_value_set_shape(qb_out(m, n, 0), 2, dims, n, err);
}

static int infer_reshape(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  const int64_t* s;
  size_t len;
  if (qb_node_const_ints(m, n, 1, &s, &len, err)) return -1;
  size_t dims[QB_MAX_DIMS], known = 1;
  int infer_at = -1;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == -1) {
      if (infer_at >= 0) return fail_node(err, n, "more than one -1 in the shape");
      infer_at = (int)i;
      dims[i] = 1;
      continue;
    }
    if (s[i] < -1) return fail_node(err, n, "negative dimension in the shape");
    if (s[i] == 0 && !n->a.allowzero) {
      if ((int)i >= x->ndim) return fail_node(err, n, "0 (copy) refers past the input's rank");
      dims[i] = x->dims[i];
    } else {
      if (s[i] > QB_MODEL_MAX_ELEMENTS) return fail_node(err, n, "dimension too large");
      dims[i] = (size_t)s[i];
    }
    known *= dims[i];
    if (known > (size_t)QB_MODEL_MAX_ELEMENTS) return fail_node(err, n, "shape too large");
  }
  if (infer_at >= 0) {
    if (known == 0 || x->numel % known) return fail_node(err, n, "-1 cannot be inferred");
    dims[infer_at] = x->numel / known;
    known *= dims[infer_at];
  }
  if (known != x->numel) {
    char msg[160];
    snprintf(msg, sizeof msg, "cannot reshape %zu elements into %zu", x->numel, known);
    return fail_node(err, n, msg);
  }
  return qb_value_set_shape(qb_out(m, n, 0), (int)len, dims, n, err);
}

static void run_copy(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value* y = &m->values[n->out[0]];
  if (y->numel && y->data != in[0]) memcpy(y->data, in[0], y->numel * sizeof(float));
}

/* ------------------------------------------------------------- Transpose */

static void transpose_perm(const qb_node* n, int r, int64_t* perm) {
  for (int i = 0; i < r; i++) perm[i] = n->a.nperm ? n->a.perm[i] : r - 1 - i;
}

static int infer_transpose(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  if (n->a.nperm && n->a.nperm != x->ndim) return fail_node(err, n, "perm length differs from the input rank");
  int64_t perm[QB_MAX_DIMS];
  transpose_perm(n, x->ndim, perm);
  size_t dims[QB_MAX_DIMS];
  bool seen[QB_MAX_DIMS] = {false};
  for (int i = 0; i < x->ndim; i++) {
    if (perm[i] < 0 || perm[i] >= x->ndim || seen[perm[i]]) return fail_node(err, n, "perm is not a permutation");
    seen[perm[i]] = true;
    dims[i] = x->dims[perm[i]];
  }
  return qb_value_set_shape(qb_out(m, n, 0), x->ndim, dims, n, err);
}

/* Strided gathers along the last output dim of esize-byte elements; the odometer
 * runs over the others (the fp32 op, and the integer run's u8 Transpose). */
void qb_transpose_gather(const qb_model* m, const qb_node* n, const void* x, void* y,
                         size_t esize) {
  const qb_value *xv = qb_in(m, n, 0), *yv = &m->values[n->out[0]];
  const int r = xv->ndim;
  int64_t perm[QB_MAX_DIMS];
  transpose_perm(n, r, perm);
  size_t xs[QB_MAX_DIMS], st[QB_MAX_DIMS], idx[QB_MAX_DIMS] = {0};
  size_t s = 1;
  for (int i = r - 1; i >= 0; i--) xs[i] = s, s *= xv->dims[i];
  for (int i = 0; i < r; i++) st[i] = xs[perm[i]];
  if (yv->numel == 0) return;
  const size_t inner = r ? yv->dims[r - 1] : 1, step = r ? st[r - 1] : 0;
  const unsigned char* xb = x;
  unsigned char* yb = y;
  size_t src = 0;
  for (size_t o = 0; o < yv->numel; o += inner) {
    if (step == 1) {
      memcpy(yb + o * esize, xb + src * esize, inner * esize);
    } else if (esize == sizeof(float)) {
      const float* x0 = (const float*)x + src;
      float* y0 = (float*)y + o;
      for (size_t j = 0; j < inner; j++) y0[j] = x0[j * step];
    } else if (esize == 1) {
      const unsigned char* x0 = xb + src;
      for (size_t j = 0; j < inner; j++) yb[o + j] = x0[j * step];
    } else {
      for (size_t j = 0; j < inner; j++)
        memcpy(yb + (o + j) * esize, xb + (src + j * step) * esize, esize);
    }
    for (int i = r - 2; i >= 0; i--) {
      src += st[i];
      if (++idx[i] < yv->dims[i]) break;
      src -= st[i] * yv->dims[i];
      idx[i] = 0;
    }
  }
}

/* ---------------------------------------------------------------- Concat */

static int infer_concat(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value* x0 = qb_in(m, n, 0);
  int axis = 0;
  if (norm_axis(n->a.axis, x0->ndim, false, &axis)) return fail_node(err, n, "axis out of range");
  size_t dims[QB_MAX_DIMS];
  memcpy(dims, x0->dims, sizeof dims);
  dims[axis] = 0;
  for (int i = 0; i < n->nin; i++) {
    const qb_value* x = qb_in(m, n, i);
    if (!x) return fail_node(err, n, "empty input");
    if (x->ndim != x0->ndim) return fail_node(err, n, "inputs differ in rank");
    for (int d = 0; d < x->ndim; d++)
      if (d != axis && x->dims[d] != x0->dims[d]) return fail_node(err, n, "inputs differ outside the axis");
    dims[axis] += x->dims[axis];
  }
  return qb_value_set_shape(qb_out(m, n, 0), x0->ndim, dims, n, err);
}

static void run_concat(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value* y = &m->values[n->out[0]];
  int axis = 0;
  norm_axis(n->a.axis, y->ndim, false, &axis);
  const size_t outer = qb_dims_prod(y->dims, 0, axis), inner = qb_dims_prod(y->dims, axis + 1, y->ndim);
  size_t off = 0;
  for (int i = 0; i < n->nin; i++) {
    const size_t len = qb_in(m, n, i)->dims[axis] * inner;
    for (size_t o = 0; o < outer && len; o++)
      memcpy(y->data + o * y->dims[axis] * inner + off, in[i] + o * len, len * sizeof(float));
    off += len;
  }
}

/* ----------------------------------------------------------------- Slice */

typedef struct {
  int64_t start[QB_MAX_DIMS], step[QB_MAX_DIMS];
} slice_plan;

static int slice_resolve(const qb_model* m, const qb_node* n, size_t* dims, slice_plan* p,
                         qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  const int64_t *st, *en, *ax, *sp;
  size_t ns, ne, na, np;
  if (qb_node_const_ints(m, n, 1, &st, &ns, err) || qb_node_const_ints(m, n, 2, &en, &ne, err) ||
      qb_node_const_ints(m, n, 3, &ax, &na, err) || qb_node_const_ints(m, n, 4, &sp, &np, err))
    return -1;
  if (ns != ne || (ax && na != ns) || (sp && np != ns))
    return fail_node(err, n, "starts, ends, axes and steps differ in length");
  for (int d = 0; d < x->ndim; d++) dims[d] = x->dims[d], p->start[d] = 0, p->step[d] = 1;
  bool seen[QB_MAX_DIMS] = {false};
  for (size_t i = 0; i < ns; i++) {
    int a;
    if (norm_axis(ax ? ax[i] : (int64_t)i, x->ndim, false, &a) || seen[a])
      return fail_node(err, n, "axes out of range or repeated");
    seen[a] = true;
    const int64_t len = (int64_t)x->dims[a];
    int64_t step = sp ? sp[i] : 1;
    if (step == 0) return fail_node(err, n, "a step is 0");
    /* A step longer than the axis takes at most one element, as a step of exactly the
     * axis length does: clamping keeps -step and step * stride from overflowing
     * (step may be INT64_MIN). */
    const int64_t most = len > 1 ? len : 1;
    if (step > most) step = most;
    if (step < -most) step = -most;
    int64_t s = st[i], e = en[i];
    if (s < 0) s += len;
    if (e < 0) e += len;
    /* Clamp as ONNX: [0, len] for positive steps, [-1, len-1] for negative. */
    if (step > 0) {
      s = s < 0 ? 0 : (s > len ? len : s);
      e = e < 0 ? 0 : (e > len ? len : e);
    } else {
      s = s < -1 ? -1 : (s > len - 1 ? len - 1 : s);
      e = e < -1 ? -1 : (e > len - 1 ? len - 1 : e);
    }
    int64_t count = step > 0 ? (e - s + step - 1) / step : (s - e + (-step) - 1) / (-step);
    if (count < 0) count = 0;
    dims[a] = (size_t)count, p->start[a] = s, p->step[a] = step;
  }
  return 0;
}

static int infer_slice(qb_model* m, qb_node* n, qb_error* err) {
  size_t dims[QB_MAX_DIMS];
  slice_plan p;
  if (slice_resolve(m, n, dims, &p, err)) return -1;
  return qb_value_set_shape(qb_out(m, n, 0), qb_in(m, n, 0)->ndim, dims, n, err);
}

static void run_slice(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value *x = qb_in(m, n, 0), *y = &m->values[n->out[0]];
  size_t dims[QB_MAX_DIMS], xs[QB_MAX_DIMS], idx[QB_MAX_DIMS] = {0};
  slice_plan p;
  slice_resolve(m, n, dims, &p, NULL);
  const int r = x->ndim;
  size_t s = 1;
  for (int i = r - 1; i >= 0; i--) xs[i] = s, s *= x->dims[i];
  ptrdiff_t src = 0;
  for (int i = 0; i < r; i++) src += (ptrdiff_t)(p.start[i] * (int64_t)xs[i]);
  for (size_t o = 0; o < y->numel; o++) {
    y->data[o] = in[0][src];
    for (int i = r - 1; i >= 0; i--) {
      src += (ptrdiff_t)(p.step[i] * (int64_t)xs[i]);
      if (++idx[i] < y->dims[i]) break;
      src -= (ptrdiff_t)(p.step[i] * (int64_t)xs[i] * (int64_t)y->dims[i]);
      idx[i] = 0;
    }
  }
}

/* --------------------------------------------------------------- Softmax */

/* Softmax along `axis` (opset >= 13), or over the flattened dims[axis:] (opset < 13). */
static int softmax_geometry(const qb_model* m, const qb_node* n, size_t* outer, size_t* len,
                            size_t* inner) {
  const qb_value* x = qb_in(m, n, 0);
  int axis = 0;
  if (norm_axis(n->a.axis, x->ndim, false, &axis)) return -1;
  *outer = qb_dims_prod(x->dims, 0, axis);
  if (m->opset >= 13) *len = x->dims[axis], *inner = qb_dims_prod(x->dims, axis + 1, x->ndim);
  else *len = qb_dims_prod(x->dims, axis, x->ndim), *inner = 1;
  return 0;
}

static int infer_softmax(qb_model* m, qb_node* n, qb_error* err) {
  size_t o, l, i;
  const qb_value* x = qb_in(m, n, 0);
  if (softmax_geometry(m, n, &o, &l, &i)) return fail_node(err, n, "axis out of range");
  return qb_value_set_shape(qb_out(m, n, 0), x->ndim, x->dims, n, err);
}

static void run_softmax(const qb_model* m, const qb_node* n, const float* const* in) {
  size_t outer, len, inner;
  softmax_geometry(m, n, &outer, &len, &inner);
  float* y = m->values[n->out[0]].data;
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++) {
      const float* x = in[0] + o * len * inner + i;
      float* yo = y + o * len * inner + i;
      if (inner == 1) qb_f32_softmax_row(yo, x, len);
      else qb_f32_softmax_strided(yo, x, len, inner);
    }
}

/* ------------------------------------------------------------- LayerNorm */

static int infer_layernorm(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value *x = qb_in(m, n, 0), *sc = qb_in(m, n, 1), *b = qb_in(m, n, 2);
  int axis = 0;
  if (norm_axis(n->a.axis, x->ndim, false, &axis)) return fail_node(err, n, "axis out of range");
  const size_t len = qb_dims_prod(x->dims, axis, x->ndim);
  if (sc->numel != len || (b && b->numel != len))
    return fail_node(err, n, "Scale and B must hold one value per normalized element");
  if (qb_value_set_shape(qb_out(m, n, 0), x->ndim, x->dims, n, err)) return -1;
  size_t sd[QB_MAX_DIMS];
  for (int i = 0; i < x->ndim; i++) sd[i] = i < axis ? x->dims[i] : 1;
  for (int o = 1; o < 3; o++)
    if (qb_out(m, n, o) && qb_value_set_shape(qb_out(m, n, o), x->ndim, sd, n, err)) return -1;
  return 0;
}

static void run_layernorm(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value* x = qb_in(m, n, 0);
  int axis = 0;
  norm_axis(n->a.axis, x->ndim, false, &axis);
  const size_t outer = qb_dims_prod(x->dims, 0, axis), len = qb_dims_prod(x->dims, axis, x->ndim);
  float* y = m->values[n->out[0]].data;
  float* mean_out = qb_in(m, n, 0) && n->nout > 1 && n->out[1] >= 0 ? m->values[n->out[1]].data : NULL;
  float* inv_out = n->nout > 2 && n->out[2] >= 0 ? m->values[n->out[2]].data : NULL;
  for (size_t o = 0; o < outer; o++)
    qb_f32_layernorm_row(y + o * len, in[0] + o * len, in[1], in[2], len, n->a.epsilon,
                  mean_out ? mean_out + o : NULL, inv_out ? inv_out + o : NULL);
}

/* ------------------------------------------------------------ ReduceMean */

static int reduce_mask(const qb_node* n, int r, bool* reduce) {
  for (int i = 0; i < r; i++) reduce[i] = n->a.naxes == 0 && !n->a.noop_with_empty_axes;
  for (int i = 0; i < n->a.naxes; i++) {
    int a;
    if (norm_axis(n->a.axes[i], r, false, &a)) return -1;
    reduce[a] = true;
  }
  return 0;
}

static int infer_reducemean(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  if (qb_in(m, n, 1)) { /* opset 18: axes as a constant input */
    const int64_t* ax;
    size_t na;
    if (qb_node_const_ints(m, n, 1, &ax, &na, err)) return -1;
    memcpy(n->a.axes, ax, na * sizeof *ax);
    n->a.naxes = (int)na;
  }
  bool red[QB_MAX_DIMS];
  if (reduce_mask(n, x->ndim, red)) return fail_node(err, n, "axes out of range");
  size_t dims[QB_MAX_DIMS];
  int nd = 0;
  for (int i = 0; i < x->ndim; i++) {
    if (!red[i]) dims[nd++] = x->dims[i];
    else if (n->a.keepdims) dims[nd++] = 1;
  }
  return qb_value_set_shape(qb_out(m, n, 0), nd, dims, n, err);
}

static void run_reducemean(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value *x = qb_in(m, n, 0), *y = &m->values[n->out[0]];
  bool red[QB_MAX_DIMS];
  reduce_mask(n, x->ndim, red);
  /* Output stride of each input dim (0 along reduced dims). */
  size_t os[QB_MAX_DIMS], idx[QB_MAX_DIMS] = {0}, s = 1;
  for (int i = x->ndim - 1; i >= 0; i--) {
    os[i] = red[i] ? 0 : s;
    if (!red[i]) s *= x->dims[i];
  }
  /* Sums in double, so the result does not depend on the summation order. */
  double* acc = m->op_scratch; /* y->numel doubles, sized at prepare */
  memset(acc, 0, y->numel * sizeof *acc);
  const size_t count = y->numel ? x->numel / y->numel : 0;
  size_t dst = 0;
  for (size_t i = 0; i < x->numel; i++) {
    acc[dst] += in[0][i];
    for (int d = x->ndim - 1; d >= 0; d--) {
      dst += os[d];
      if (++idx[d] < x->dims[d]) break;
      dst -= os[d] * x->dims[d];
      idx[d] = 0;
    }
  }
  for (size_t o = 0; o < y->numel; o++) y->data[o] = (float)(acc[o] / (double)count);
}

/* ------------------------------------------------------------- dispatch */

int qb_ops_shape_infer(qb_model* m, qb_node* n, qb_error* err) {
  switch (n->op) {
    case QB_OP_FLATTEN: return infer_flatten(m, n, err);
    case QB_OP_RESHAPE: return infer_reshape(m, n, err);
    case QB_OP_TRANSPOSE: return infer_transpose(m, n, err);
    case QB_OP_CONCAT: return infer_concat(m, n, err);
    case QB_OP_SLICE: return infer_slice(m, n, err);
    case QB_OP_SOFTMAX: return infer_softmax(m, n, err);
    case QB_OP_LAYERNORM: return infer_layernorm(m, n, err);
    case QB_OP_REDUCEMEAN: return infer_reducemean(m, n, err);
    default: return 1;
  }
}

bool qb_ops_shape_run(const qb_model* m, const qb_node* n, const float* const* in) {
  switch (n->op) {
    case QB_OP_FLATTEN: case QB_OP_RESHAPE: run_copy(m, n, in); return true;
    case QB_OP_TRANSPOSE: qb_transpose_gather(m, n, in[0], m->values[n->out[0]].data, sizeof(float)); return true;
    case QB_OP_CONCAT: run_concat(m, n, in); return true;
    case QB_OP_SLICE: run_slice(m, n, in); return true;
    case QB_OP_SOFTMAX: run_softmax(m, n, in); return true;
    case QB_OP_LAYERNORM: run_layernorm(m, n, in); return true;
    case QB_OP_REDUCEMEAN: run_reducemean(m, n, in); return true;
    default: return false;
  }
}
