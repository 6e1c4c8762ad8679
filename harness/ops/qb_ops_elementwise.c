/* fp32 element-wise ops: unary (Relu, Clip, Sigmoid, HardSigmoid, HardSwish, Erf,
 * Sqrt, Identity) and binary with numpy (multidirectional) broadcasting (Add, Sub,
 * Mul, Div, Pow). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "qb_f32_rows.h"
#include "qb_multiversion.h"
#include "qb_ops_f32.h" /* qb_f32_relu / qb_f32_clip: the fused Conv / Gemm epilogue's too */

static int fail_node(qb_error* err, const qb_node* n, const char* what) {
  char where[320];
  return qb_fail(err, "%s: %s", qb_node_str(n, where, sizeof where), what);
}

/* A Clip limit given as an input (opset >= 11): a float scalar, read at run time
 * (an empty input name keeps the default). */
static int clip_limit(const qb_model* m, const qb_node* n, int i, qb_error* err) {
  const qb_value* v = qb_in(m, n, i);
  if (v && v->numel != 1) return fail_node(err, n, "min / max must be scalars");
  return 0;
}

static int infer_unary(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  if (n->op == QB_OP_CLIP && (clip_limit(m, n, 1, err) || clip_limit(m, n, 2, err)))
    return -1;
  return qb_value_set_shape(qb_out(m, n, 0), x->ndim, x->dims, n, err);
}

static void run_unary(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value* y = &m->values[n->out[0]];
  const float* x = in[0];
  float* o = y->data;
  const size_t len = y->numel;
  switch (n->op) {
    case QB_OP_RELU:
      for (size_t i = 0; i < len; i++) o[i] = qb_f32_relu(x[i]);
      break;
    case QB_OP_CLIP: {
      const float lo = in[1] ? in[1][0] : n->a.clip_min, hi = in[2] ? in[2][0] : n->a.clip_max;
      for (size_t i = 0; i < len; i++) o[i] = qb_f32_clip(x[i], lo, hi);
      break;
    }
    case QB_OP_SIGMOID:
      for (size_t i = 0; i < len; i++) o[i] = 1.0f / (1.0f + expf(-x[i]));
      break;
    case QB_OP_HARDSIGMOID:
      for (size_t i = 0; i < len; i++) o[i] = fmaxf(0.0f, fminf(1.0f, n->a.alpha * x[i] + n->a.beta));
      break;
    case QB_OP_HARDSWISH: /* x * HardSigmoid(x) with alpha = 1/6, beta = 0.5 */
      for (size_t i = 0; i < len; i++) o[i] = x[i] * fmaxf(0.0f, fminf(1.0f, x[i] / 6.0f + 0.5f));
      break;
    case QB_OP_ERF:
      qb_f32_erf(o, x, len);
      break;
    case QB_OP_SQRT:
      for (size_t i = 0; i < len; i++) o[i] = sqrtf(x[i]);
      break;
    default: /* Identity */
      if (len && o != x) memcpy(o, x, len * sizeof *o);
      break;
  }
}

/* -------------------------------------------------------------- binary */

/* Output dims of numpy broadcasting; -1 if incompatible. */
static int broadcast_dims(const qb_value* a, const qb_value* b, int* nd, size_t* dims) {
  const int n = a->ndim > b->ndim ? a->ndim : b->ndim;
  for (int i = 0; i < n; i++) {
    const int ia = i - (n - a->ndim), ib = i - (n - b->ndim);
    const size_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) return -1;
    dims[i] = da == 1 ? db : da;
  }
  *nd = n;
  return 0;
}

static int infer_binary(qb_model* m, qb_node* n, qb_error* err) {
  int nd;
  size_t dims[QB_MAX_DIMS];
  const qb_value *a = qb_in(m, n, 0), *b = qb_in(m, n, 1);
  if (broadcast_dims(a, b, &nd, dims)) {
    char sa[96], sb[96], msg[256];
    qb_tensor ta = {.ndim = a->ndim}, tb = {.ndim = b->ndim};
    memcpy(ta.dims, a->dims, sizeof ta.dims), memcpy(tb.dims, b->dims, sizeof tb.dims);
    snprintf(msg, sizeof msg, "shapes %s and %s do not broadcast",
             qb_tensor_shape_str(&ta, sa, sizeof sa), qb_tensor_shape_str(&tb, sb, sizeof sb));
    return fail_node(err, n, msg);
  }
  return qb_value_set_shape(qb_out(m, n, 0), nd, dims, n, err);
}

/* y[j] = a[j * sa] OP b[j * sb] for j < n, strides 0 (broadcast) or 1 specialised so
 * the compiler vectorizes them: the same IEEE operation per element either way. */
#define QB_BINARY_LOOP(EXPR)                                                     \
  do {                                                                           \
    if (sa == 1 && sb == 1)                                                      \
      for (size_t j = 0; j < n; j++) { const float x = a[j], z = b[j]; y[j] = EXPR; } \
    else if (sa == 1 && sb == 0)                                                 \
      for (size_t j = 0; j < n; j++) { const float x = a[j], z = b[0]; y[j] = EXPR; } \
    else if (sa == 0 && sb == 1)                                                 \
      for (size_t j = 0; j < n; j++) { const float x = a[0], z = b[j]; y[j] = EXPR; } \
    else                                                                         \
      for (size_t j = 0; j < n; j++) { const float x = a[j * sa], z = b[j * sb]; y[j] = EXPR; } \
  } while (0)

QB_MULTIVERSION static void binary_row(qb_op op, size_t n, const float* a, size_t sa, const float* b, size_t sb,
                       float* y) {
  switch (op) {
    case QB_OP_ADD: QB_BINARY_LOOP(x + z); break;
    case QB_OP_SUB: QB_BINARY_LOOP(x - z); break;
    case QB_OP_MUL: QB_BINARY_LOOP(x * z); break;
    case QB_OP_DIV: QB_BINARY_LOOP(x / z); break;
    default: QB_BINARY_LOOP(powf(x, z)); break;
  }
}
#undef QB_BINARY_LOOP

static void run_binary(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value *a = qb_in(m, n, 0), *b = qb_in(m, n, 1), *y = &m->values[n->out[0]];
  const int nd = y->ndim;
  size_t sa[QB_MAX_DIMS], sb[QB_MAX_DIMS], idx[QB_MAX_DIMS] = {0};
  /* Element strides of a and b in output coordinates (0 along broadcast dims). */
  size_t ra = 1, rb = 1;
  for (int i = nd - 1; i >= 0; i--) {
    const int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
    const size_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    sa[i] = da == 1 ? 0 : ra, sb[i] = db == 1 ? 0 : rb;
    ra *= da, rb *= db;
  }
  if (y->numel == 0) return;
  const size_t inner = nd ? y->dims[nd - 1] : 1;
  const size_t ia_in = nd ? sa[nd - 1] : 0, ib_in = nd ? sb[nd - 1] : 0;
  size_t oa = 0, ob = 0;
  for (size_t o = 0; o < y->numel; o += inner) {
    binary_row(n->op, inner, in[0] + oa, ia_in, in[1] + ob, ib_in, y->data + o);
    /* Odometer over the outer dimensions. */
    for (int i = nd - 2; i >= 0; i--) {
      oa += sa[i], ob += sb[i];
      if (++idx[i] < y->dims[i]) break;
      oa -= sa[i] * y->dims[i], ob -= sb[i] * y->dims[i];
      idx[i] = 0;
    }
  }
}

/* ------------------------------------------------ QuantizeLinear / Dequantize */

/* Per-tensor (scalar scale) or per-axis (1-D scale along `axis`). */
static int qdq_geometry(const qb_model* m, const qb_node* n, size_t* outer, size_t* len,
                        size_t* inner) {
  const qb_value *x = qb_in(m, n, 0), *s = qb_in(m, n, 1), *z = qb_in(m, n, 2);
  *outer = 1, *len = 1, *inner = x->numel;
  if (z && z->numel != s->numel) return -1;
  if (s->numel == 1) return 0;
  int64_t axis = n->a.axis < 0 ? n->a.axis + x->ndim : n->a.axis;
  if (s->ndim != 1 || axis < 0 || axis >= x->ndim || x->dims[axis] != s->numel) return -1;
  *len = s->numel;
  *inner = 1;
  for (int i = (int)axis + 1; i < x->ndim; i++) *inner *= x->dims[i];
  *outer = (*len * *inner) > 0 ? x->numel / (*len * *inner) : 0;
  return 0;
}

static int infer_qdq(qb_model* m, qb_node* n, qb_error* err) {
  size_t o, l, i;
  if (qdq_geometry(m, n, &o, &l, &i))
    return fail_node(err, n, "scale / zero_point must be scalars or 1-D along the axis");
  /* Zero points become int32: a constant of integers exact in float (|zp| <= 2^24). */
  const qb_value* z = qb_in(m, n, 2);
  if (z && (z->kind != QB_VALUE_CONST || !z->data)) return fail_node(err, n, "zero_point must be a constant");
  for (size_t k = 0; z && k < z->numel; k++)
    if (!(fabsf(z->data[k]) <= 16777216.0f) || z->data[k] != nearbyintf(z->data[k]))
      return fail_node(err, n, "zero_point must hold integers of magnitude at most 2^24");
  const qb_value* x = qb_in(m, n, 0);
  return qb_value_set_shape(qb_out(m, n, 0), x->ndim, x->dims, n, err);
}

/* Integer grid of a QuantizeLinear: the zero point's type (uint8 if absent). */
static void q_range(const qb_model* m, const qb_node* n, int32_t* qmin, int32_t* qmax) {
  const qb_value* z = qb_in(m, n, 2);
  const bool is_signed = z && z->kind == QB_VALUE_CONST && z->source_dtype == QB_I8;
  *qmin = is_signed ? -128 : 0, *qmax = is_signed ? 127 : 255;
}

static void run_qdq(const qb_model* m, const qb_node* n, const float* const* in) {
  size_t outer, len, inner;
  qdq_geometry(m, n, &outer, &len, &inner);
  float* y = m->values[n->out[0]].data;
  int32_t qmin, qmax, tmp[256];
  q_range(m, n, &qmin, &qmax);
  for (size_t o = 0; o < outer; o++)
    for (size_t a = 0; a < len; a++) {
      const float scale = in[1][a];
      const int32_t zp = in[2] ? (int32_t)in[2][a] : 0;
      const size_t base = (o * len + a) * inner;
      if (n->op == QB_OP_DEQUANTIZE) {
        /* (float)(q - zp) * scale for integer q; in double so that a float input that
         * is not an int32 (a fuzzed graph's NaN or 1e30) converts without UB. */
        for (size_t i = 0; i < inner; i++)
          y[base + i] = (float)((double)in[0][base + i] - (double)zp) * scale;
        continue;
      }
      for (size_t i = 0; i < inner; i += 256) { /* the reference quantize kernel, x / scale */
        const size_t c = inner - i < 256 ? inner - i : 256;
        qb_f32_qs32_quantize__scalar(c, in[0] + base + i, scale, zp, qmin, qmax, QB_ROUND_DIV, tmp);
        for (size_t k = 0; k < c; k++) y[base + i + k] = (float)tmp[k];
      }
    }
}

int qb_ops_elementwise_infer(qb_model* m, qb_node* n, qb_error* err) {
  switch (n->op) {
    case QB_OP_RELU: case QB_OP_CLIP: case QB_OP_SIGMOID: case QB_OP_HARDSIGMOID:
    case QB_OP_HARDSWISH: case QB_OP_ERF: case QB_OP_SQRT: case QB_OP_IDENTITY:
      return infer_unary(m, n, err);
    case QB_OP_ADD: case QB_OP_SUB: case QB_OP_MUL: case QB_OP_DIV: case QB_OP_POW:
      return infer_binary(m, n, err);
    case QB_OP_QUANTIZE: case QB_OP_DEQUANTIZE:
      return infer_qdq(m, n, err);
    default: return 1;
  }
}

bool qb_ops_elementwise_run(const qb_model* m, const qb_node* n, const float* const* in) {
  switch (n->op) {
    case QB_OP_RELU: case QB_OP_CLIP: case QB_OP_SIGMOID: case QB_OP_HARDSIGMOID:
    case QB_OP_HARDSWISH: case QB_OP_ERF: case QB_OP_SQRT: case QB_OP_IDENTITY:
      run_unary(m, n, in);
      return true;
    case QB_OP_ADD: case QB_OP_SUB: case QB_OP_MUL: case QB_OP_DIV: case QB_OP_POW:
      run_binary(m, n, in);
      return true;
    case QB_OP_QUANTIZE: case QB_OP_DEQUANTIZE:
      run_qdq(m, n, in);
      return true;
    default: return false;
  }
}
