/* ONNX node conformance for the quantization operators, run through the SCALAR
 * REFERENCE KERNELS (kernels/ref), compared EXACTLY with ONNX's expected outputs
 * (integers equal, floats bit-equal). No tolerance anywhere: a difference is either
 * a bug or a documented convention mismatch to be named, never absorbed.
 *
 * For each case under QB_ONNX_TESTDATA/node/<case>/: model.onnx holds one node; every
 * test_data_set_<k>/input_N.pb is matched to a node input by name (the graph input at
 * position N when the file carries no name), the node is evaluated here with the
 * reference kernels, and every output_N.pb is compared with the node output of the
 * same name. One line per data set: PASS, or FAIL with the first mismatch.
 *
 * How each operator maps onto the reference kernels (the mapping is the point of
 * this test; the ONNX reader itself knows no operator):
 *   QuantizeLinear       qb_f32_q{u,s}8_quantize__scalar, QB_ROUND_DIV: ONNX rounds
 *                        x / y_scale (float32 division) half to even. Per-axis
 *                        scale / zero point (attribute axis, default 1) loop over
 *                        the axis.
 *   DequantizeLinear     qb_q{u,s}8_f32_dequantize__scalar / qs32 (same blocking).
 *   DynamicQuantizeLinear qb_qparams_from_range with affine unsigned 8-bit full range
 *                        (ONNX: min/max widened to include 0, scale = (max - min) /
 *                        255 in float32, zero point = round(-min / scale) clamped),
 *                        then the quantize kernel with QB_ROUND_DIV.
 *   MatMulInteger        q{u,s}8_q{u,s}8_qs32_gemm: ONNX B is K x N, the kernels take
 *                        B as N x K, so B is transposed; leading (batch) dimensions
 *                        loop over the batch (equal batch shapes, or one 2-D side
 *                        broadcast). b_zero_point may be per column.
 *   QLinearMatMul        the GEMM above, then qb_qs32_q{u,s}8_requantize_fp32__scalar
 *                        with scale[n] = (a_scale * b_scale[n]) / y_scale computed in
 *                        float32 (ONNX Runtime's convention).
 *   ConvInteger          q{u,s}8_qs32_conv2d_im2col (NCHW, pads, strides,
 *                        dilations, group, auto_pad), per-channel w_zero_point.
 *   QLinearConv          the conv above, then requantize_fp32 per output channel with
 *                        scale[oc] = (x_scale * w_scale[oc]) / y_scale in float32 and
 *                        the optional int32 bias B.
 *
 * Not run: the test_dynamicquantizelinear*_expanded cases. They are the same
 * computation written as a graph of primitive ops (ReduceMin, Div, Cast, Clip, ...),
 * not a quantization node; they belong to a graph runtime test, not here. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qb_kernels.h"
#include "qb_onnx.h"
#include "qb_qparams.h"
#include "qb_test.h"

#define MAX_IO 16

static const char* const cases[] = {
    "test_quantizelinear",
    "test_quantizelinear_axis",
    "test_dequantizelinear",
    "test_dequantizelinear_axis",
    "test_dynamicquantizelinear",
    "test_dynamicquantizelinear_max_adjusted",
    "test_dynamicquantizelinear_min_adjusted",
    "test_qlinearmatmul_2D",
    "test_qlinearmatmul_3D",
    "test_matmulinteger",
    "test_qlinearconv",
    "test_basic_convinteger",
    "test_convinteger_with_padding",
    "test_convinteger_without_padding",
};

/* One node evaluation: inputs in node-input order (NULL for an omitted optional
 * input), outputs allocated by the op in node-output order. */
typedef struct {
  const Onnx__NodeProto* node;
  const qb_tensor* in[MAX_IO];
  size_t n_in;
  qb_tensor out[MAX_IO];
  size_t n_out;
} op_call;

static const qb_tensor* input(const op_call* c, size_t i) { return i < c->n_in ? c->in[i] : NULL; }

/* ------------------------------------------------------- parameter helpers */

/* malloc sizes: never 0 (malloc(0) may return NULL). */
static size_t nz(size_t n) { return n ? n : 1; }

static int is_int_dtype(qb_dtype t) { return t != QB_F32 && t != QB_F64; }

static int64_t int_at(const qb_tensor* t, size_t i) {
  switch (t->dtype) {
    case QB_I8: return ((const int8_t*)t->data)[i];
    case QB_U8: return ((const uint8_t*)t->data)[i];
    case QB_I16: return ((const int16_t*)t->data)[i];
    case QB_U16: return ((const uint16_t*)t->data)[i];
    case QB_I32: return ((const int32_t*)t->data)[i];
    case QB_I64: return ((const int64_t*)t->data)[i];
    default: return 0;
  }
}

/* A scale / zero-point input is a scalar (per tensor) or 1-D (per axis). Returns its
 * element count, or 0 after filling err. */
static size_t param_count(const qb_tensor* t, const char* what, qb_error* err) {
  if (t->ndim > 1) {
    qb_fail(err, "%s must be a scalar or 1-D (has %d dimensions)", what, t->ndim);
    return 0;
  }
  const size_t n = qb_tensor_numel(t);
  if (n == 0) qb_fail(err, "%s is empty", what);
  return n;
}

/* Scales: float32, n values (1 broadcast to n). */
static int scales(const qb_tensor* t, const char* what, size_t n, float* out, qb_error* err) {
  if (!t) return qb_fail(err, "%s is missing", what);
  if (t->dtype != QB_F32) return qb_fail(err, "%s must be float32, is %s", what, qb_dtype_name(t->dtype));
  const size_t k = param_count(t, what, err);
  if (!k) return -1;
  if (k != 1 && k != n) return qb_fail(err, "%s has %zu values, expected 1 or %zu", what, k, n);
  for (size_t i = 0; i < n; i++) out[i] = ((const float*)t->data)[k == 1 ? 0 : i];
  return 0;
}

/* Zero points: any integer type, n values (1 broadcast to n); absent = 0. */
static int zero_points(const qb_tensor* t, const char* what, size_t n, int32_t* out,
                       qb_error* err) {
  if (!t) {
    for (size_t i = 0; i < n; i++) out[i] = 0;
    return 0;
  }
  if (!is_int_dtype(t->dtype))
    return qb_fail(err, "%s must be an integer tensor, is %s", what, qb_dtype_name(t->dtype));
  const size_t k = param_count(t, what, err);
  if (!k) return -1;
  if (k != 1 && k != n) return qb_fail(err, "%s has %zu values, expected 1 or %zu", what, k, n);
  for (size_t i = 0; i < n; i++) out[i] = (int32_t)int_at(t, k == 1 ? 0 : i);
  return 0;
}

/* The number of per-axis parameters a scale input carries (1 = per tensor). */
static int param_len(const qb_tensor* scale, size_t* n, qb_error* err) {
  if (!scale) return qb_fail(err, "scale input is missing");
  *n = param_count(scale, "scale", err);
  return *n ? 0 : -1;
}

/* Splits x into outer x channels x inner around `axis` for per-axis parameters; a
 * per-tensor parameter (count 1) makes one channel of all elements. */
static int axis_blocks(const op_call* c, const qb_tensor* x, size_t count, size_t* outer,
                       size_t* channels, size_t* inner, qb_error* err) {
  const size_t numel = qb_tensor_numel(x);
  if (count == 1) {
    *outer = 1, *channels = 1, *inner = numel;
    return 0;
  }
  int64_t axis;
  if (qb_onnx_attr_int(c->node, "axis", 1, &axis, err)) return -1;
  if (axis < 0) axis += x->ndim;
  if (axis < 0 || axis >= x->ndim)
    return qb_fail(err, "axis %lld is out of range for a %d-D input", (long long)axis, x->ndim);
  if (x->dims[axis] != count)
    return qb_fail(err, "per-axis parameters have %zu values but axis %lld has size %zu", count,
                   (long long)axis, x->dims[axis]);
  *outer = 1, *inner = 1, *channels = count;
  for (int i = 0; i < axis; i++) *outer *= x->dims[i];
  for (int i = (int)axis + 1; i < x->ndim; i++) *inner *= x->dims[i];
  return 0;
}

static int qrange(qb_dtype t, int32_t* qmin, int32_t* qmax, qb_error* err) {
  if (t == QB_U8) *qmin = 0, *qmax = 255;
  else if (t == QB_I8) *qmin = -128, *qmax = 127;
  else return qb_fail(err, "quantized type %s is not 8-bit", qb_dtype_name(t));
  return 0;
}

/* ------------------------------------------------------------ operators */

/* QuantizeLinear(x, y_scale, y_zero_point?) -> y (type of y_zero_point, uint8 if absent) */
static int op_quantize_linear(op_call* c, qb_error* err) {
  const qb_tensor *x = input(c, 0), *s = input(c, 1), *z = input(c, 2);
  if (!x || x->dtype != QB_F32) return qb_fail(err, "x must be float32");
  size_t count = 0, outer = 0, ch = 0, inner = 0;
  if (param_len(s, &count, err) || axis_blocks(c, x, count, &outer, &ch, &inner, err)) return -1;
  const qb_dtype yt = z ? z->dtype : QB_U8;
  int32_t qmin = 0, qmax = 0;
  if (qrange(yt, &qmin, &qmax, err)) return -1;
  float* sc = malloc(count * sizeof *sc);
  int32_t* zp = malloc(count * sizeof *zp);
  int rc = -1;
  if (scales(s, "y_scale", count, sc, err) || zero_points(z, "y_zero_point", count, zp, err) ||
      qb_tensor_alloc(&c->out[0], yt, x->ndim, x->dims, err))
    goto done;
  c->n_out = 1;
  for (size_t o = 0; o < outer; o++)
    for (size_t k = 0; k < ch; k++) {
      const size_t at = (o * ch + k) * inner;
      const float* xs = (const float*)x->data + at;
      if (yt == QB_U8)
        qb_f32_qu8_quantize__scalar(inner, xs, sc[k], zp[k], qmin, qmax, QB_ROUND_DIV,
                                    (uint8_t*)c->out[0].data + at);
      else
        qb_f32_qs8_quantize__scalar(inner, xs, sc[k], zp[k], qmin, qmax, QB_ROUND_DIV,
                                    (int8_t*)c->out[0].data + at);
    }
  rc = 0;
done:
  free(sc);
  free(zp);
  return rc;
}

/* DequantizeLinear(x, x_scale, x_zero_point?) -> y float32 */
static int op_dequantize_linear(op_call* c, qb_error* err) {
  const qb_tensor *x = input(c, 0), *s = input(c, 1), *z = input(c, 2);
  if (!x || (x->dtype != QB_U8 && x->dtype != QB_I8 && x->dtype != QB_I32))
    return qb_fail(err, "x must be uint8, int8 or int32");
  size_t count = 0, outer = 0, ch = 0, inner = 0;
  if (param_len(s, &count, err) || axis_blocks(c, x, count, &outer, &ch, &inner, err)) return -1;
  float* sc = malloc(count * sizeof *sc);
  int32_t* zp = malloc(count * sizeof *zp);
  int rc = -1;
  if (scales(s, "x_scale", count, sc, err) || zero_points(z, "x_zero_point", count, zp, err) ||
      qb_tensor_alloc(&c->out[0], QB_F32, x->ndim, x->dims, err))
    goto done;
  c->n_out = 1;
  for (size_t o = 0; o < outer; o++)
    for (size_t k = 0; k < ch; k++) {
      const size_t at = (o * ch + k) * inner;
      float* y = (float*)c->out[0].data + at;
      if (x->dtype == QB_U8)
        qb_qu8_f32_dequantize__scalar(inner, (const uint8_t*)x->data + at, sc[k], zp[k], y);
      else if (x->dtype == QB_I8)
        qb_qs8_f32_dequantize__scalar(inner, (const int8_t*)x->data + at, sc[k], zp[k], y);
      else
        qb_qs32_f32_dequantize__scalar(inner, (const int32_t*)x->data + at, sc[k], zp[k], y);
    }
  rc = 0;
done:
  free(sc);
  free(zp);
  return rc;
}

/* DynamicQuantizeLinear(x) -> y uint8, y_scale float32 scalar, y_zero_point uint8 scalar */
static int op_dynamic_quantize_linear(op_call* c, qb_error* err) {
  const qb_tensor* x = input(c, 0);
  if (!x || x->dtype != QB_F32) return qb_fail(err, "x must be float32");
  const size_t n = qb_tensor_numel(x);
  if (!n) return qb_fail(err, "x is empty");
  const float* xs = x->data;
  float lo = xs[0], hi = xs[0];
  for (size_t i = 1; i < n; i++) {
    lo = xs[i] < lo ? xs[i] : lo;
    hi = xs[i] > hi ? xs[i] : hi;
  }
  const qb_qscheme scheme = {8, false, false, QB_AFFINE, QB_ROUND_DIV};
  qb_qparams p;
  if (qb_qparams_from_range(&scheme, lo, hi, &p, err)) return -1;
  if (qb_tensor_alloc(&c->out[0], QB_U8, x->ndim, x->dims, err)) return -1;
  c->n_out = 1;
  if (qb_tensor_alloc(&c->out[1], QB_F32, 0, NULL, err)) return -1;
  c->n_out = 2;
  if (qb_tensor_alloc(&c->out[2], QB_U8, 0, NULL, err)) return -1;
  c->n_out = 3;
  qb_f32_qu8_quantize__scalar(n, xs, p.scale, p.zero_point, 0, 255, scheme.rounding,
                              c->out[0].data);
  *(float*)c->out[1].data = p.scale;
  *(uint8_t*)c->out[2].data = (uint8_t)p.zero_point;
  return 0;
}

/* Integer GEMM of one batch entry: C (M x N) from A (M x K) and ONNX B (K x N), which
 * is transposed into bt (N x K) for the kernels. */
static int gemm_one(qb_dtype at, qb_dtype bt_type, size_t M, size_t N, size_t K, const void* A,
                    const void* B, int32_t a_zp, const int32_t* b_zp, void* bt, int32_t* C,
                    qb_error* err) {
  const size_t es = 1;
  for (size_t k = 0; k < K; k++)
    for (size_t n = 0; n < N; n++)
      memcpy((uint8_t*)bt + (n * K + k) * es, (const uint8_t*)B + (k * N + n) * es, es);
  if (at == QB_U8 && bt_type == QB_U8)
    qb_qu8_qu8_qs32_gemm__scalar(M, N, K, A, K, a_zp, bt, K, b_zp, C, N);
  else if (at == QB_U8 && bt_type == QB_I8)
    qb_qu8_qs8_qs32_gemm__scalar(M, N, K, A, K, a_zp, bt, K, b_zp, C, N);
  else if (at == QB_I8 && bt_type == QB_I8)
    qb_qs8_qs8_qs32_gemm__scalar(M, N, K, A, K, a_zp, bt, K, b_zp, C, N);
  else
    return qb_fail(err, "no reference GEMM for A %s x B %s (have u8 x u8, u8 x s8, s8 x s8)",
                   qb_dtype_name(at), qb_dtype_name(bt_type));
  return 0;
}

/* Integer matmul shared by MatMulInteger and QLinearMatMul: fills acc (int32 tensor of
 * the broadcast output shape) and reports M, N. */
static int matmul_int32(const qb_tensor* a, const qb_tensor* b, const qb_tensor* a_zp_t,
                        const qb_tensor* b_zp_t, qb_tensor* acc, size_t* M_out, size_t* N_out,
                        qb_error* err) {
  if (!a || !b) return qb_fail(err, "A and B are required");
  if (a->ndim < 2 || b->ndim < 2)
    return qb_fail(err, "1-D MatMul operands are not supported here (A is %d-D, B is %d-D)",
                   a->ndim, b->ndim);
  const size_t M = a->dims[a->ndim - 2], K = a->dims[a->ndim - 1];
  const size_t N = b->dims[b->ndim - 1];
  if (b->dims[b->ndim - 2] != K)
    return qb_fail(err, "A is ... x %zu x %zu but B is ... x %zu x %zu", M, K,
                   b->dims[b->ndim - 2], N);
  /* Batch: equal leading shapes, or one side 2-D (broadcast). */
  const qb_tensor* big = a->ndim >= b->ndim ? a : b;
  if (a->ndim > 2 && b->ndim > 2) {
    if (a->ndim != b->ndim) return qb_fail(err, "batch ranks differ (no general broadcasting)");
    for (int i = 0; i < a->ndim - 2; i++)
      if (a->dims[i] != b->dims[i])
        return qb_fail(err, "batch dimension %d differs: %zu vs %zu", i, a->dims[i], b->dims[i]);
  }
  size_t batch = 1, dims[QB_MAX_DIMS];
  for (int i = 0; i < big->ndim - 2; i++) batch *= (dims[i] = big->dims[i]);
  dims[big->ndim - 2] = M;
  dims[big->ndim - 1] = N;
  int32_t a_zp;
  int32_t* b_zp = malloc(nz(N) * sizeof *b_zp);
  void* bt = malloc(nz(N * K));
  int rc = -1;
  if (a_zp_t && qb_tensor_numel(a_zp_t) != 1) {
    qb_fail(err, "per-row a_zero_point is not supported by the reference GEMM");
    goto done;
  }
  if (zero_points(a_zp_t, "a_zero_point", 1, &a_zp, err) ||
      zero_points(b_zp_t, "b_zero_point", N, b_zp, err) ||
      qb_tensor_alloc(acc, QB_I32, big->ndim, dims, err))
    goto done;
  for (size_t i = 0; i < batch; i++) {
    const uint8_t* A = (const uint8_t*)a->data + (a->ndim > 2 ? i * M * K : 0);
    const uint8_t* B = (const uint8_t*)b->data + (b->ndim > 2 ? i * K * N : 0);
    if (gemm_one(a->dtype, b->dtype, M, N, K, A, B, a_zp, b_zp, bt,
                 (int32_t*)acc->data + i * M * N, err))
      goto done;
  }
  *M_out = M;
  *N_out = N;
  rc = 0;
done:
  free(b_zp);
  free(bt);
  return rc;
}

/* MatMulInteger(A, B, a_zero_point?, b_zero_point?) -> Y int32 */
static int op_matmul_integer(op_call* c, qb_error* err) {
  size_t M, N;
  if (matmul_int32(input(c, 0), input(c, 1), input(c, 2), input(c, 3), &c->out[0], &M, &N, err))
    return -1;
  c->n_out = 1;
  return 0;
}

/* Requantizes an int32 tensor viewed as rows x cols with per-column scale / bias
 * into an 8-bit tensor of the same shape: the fp32 reference requantization. */
static void requantize(const qb_tensor* acc, size_t rows, size_t cols, const int32_t* bias,
                       const float* scale, int32_t zp, qb_tensor* y, size_t offset) {
  int32_t qmin = 0, qmax = 255;
  qb_error ignore;
  (void)qrange(y->dtype, &qmin, &qmax, &ignore);
  const int32_t* a = (const int32_t*)acc->data + offset;
  if (y->dtype == QB_U8)
    qb_qs32_qu8_requantize_fp32__scalar(rows, cols, a, cols, bias, scale, zp, qmin, qmax,
                                        (uint8_t*)y->data + offset, cols);
  else
    qb_qs32_qs8_requantize_fp32__scalar(rows, cols, a, cols, bias, scale, zp, qmin, qmax,
                                        (int8_t*)y->data + offset, cols);
}

/* Combined requantization scale, float32: (in_scale * w_scale[i]) / out_scale. */
static void combined_scales(float in_scale, const float* w_scale, float out_scale, size_t n,
                            float* out) {
  for (size_t i = 0; i < n; i++) out[i] = in_scale * w_scale[i] / out_scale;
}

/* QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp) -> y */
static int op_qlinear_matmul(op_call* c, qb_error* err) {
  const qb_tensor* y_zp = input(c, 7);
  qb_tensor acc;
  size_t M, N;
  memset(&acc, 0, sizeof acc);
  if (matmul_int32(input(c, 0), input(c, 3), input(c, 2), input(c, 5), &acc, &M, &N, err))
    return -1;
  float a_s, y_s, *b_s = malloc(nz(N) * sizeof *b_s), *sc = malloc(nz(N) * sizeof *sc);
  int32_t zp, qmin = 0, qmax = 0;
  const qb_dtype yt = y_zp ? y_zp->dtype : QB_U8;
  int rc = -1;
  if (scales(input(c, 1), "a_scale", 1, &a_s, err) || scales(input(c, 4), "b_scale", N, b_s, err) ||
      scales(input(c, 6), "y_scale", 1, &y_s, err) ||
      zero_points(y_zp, "y_zero_point", 1, &zp, err) || qrange(yt, &qmin, &qmax, err) ||
      qb_tensor_alloc(&c->out[0], yt, acc.ndim, acc.dims, err))
    goto done;
  c->n_out = 1;
  combined_scales(a_s, b_s, y_s, N, sc);
  const size_t batch = qb_tensor_numel(&acc) / nz(M * N);
  for (size_t i = 0; i < batch; i++) requantize(&acc, M, N, NULL, sc, zp, &c->out[0], i * M * N);
  rc = 0;
done:
  qb_tensor_free(&acc);
  free(b_s);
  free(sc);
  return rc;
}

/* Conv geometry from a Conv-family node's attributes and the x / w shapes. */
static int conv_shape(const op_call* c, const qb_tensor* x, const qb_tensor* w,
                      qb_conv2d_shape* s, qb_error* err) {
  if (!x || !w) return qb_fail(err, "x and w are required");
  if (x->ndim != 4 || w->ndim != 4)
    return qb_fail(err, "only 2-D convolution (4-D x and w) is supported; x is %d-D, w %d-D",
                   x->ndim, w->ndim);
  int64_t group, v[4];
  size_t n;
  static const int64_t ones[2] = {1, 1}, zeros[4] = {0, 0, 0, 0};
  memset(s, 0, sizeof *s);
  if (qb_onnx_attr_int(c->node, "group", 1, &group, err)) return -1;
  if (group < 1) return qb_fail(err, "group %lld < 1", (long long)group);
  s->batch = x->dims[0], s->in_channels = x->dims[1], s->in_h = x->dims[2], s->in_w = x->dims[3];
  s->out_channels = w->dims[0], s->kernel_h = w->dims[2], s->kernel_w = w->dims[3];
  s->groups = (size_t)group;
  if (s->in_channels % s->groups || s->out_channels % s->groups ||
      w->dims[1] != s->in_channels / s->groups)
    return qb_fail(err, "channels do not fit group %zu: x has %zu, w is [%zu, %zu, ...]",
                   s->groups, s->in_channels, w->dims[0], w->dims[1]);
  if (qb_onnx_attr_ints(c->node, "kernel_shape", NULL, 0, v, 2, &n, err)) return -1;
  if (n && (n != 2 || (size_t)v[0] != s->kernel_h || (size_t)v[1] != s->kernel_w))
    return qb_fail(err, "kernel_shape does not match the weight shape");
  if (qb_onnx_attr_ints(c->node, "strides", ones, 2, v, 2, &n, err)) return -1;
  if (n != 2 || v[0] < 1 || v[1] < 1) return qb_fail(err, "strides must be two values >= 1");
  s->stride_h = (size_t)v[0], s->stride_w = (size_t)v[1];
  if (qb_onnx_attr_ints(c->node, "dilations", ones, 2, v, 2, &n, err)) return -1;
  if (n != 2 || v[0] < 1 || v[1] < 1) return qb_fail(err, "dilations must be two values >= 1");
  s->dilation_h = (size_t)v[0], s->dilation_w = (size_t)v[1];
  char auto_pad[32];
  if (qb_onnx_attr_string(c->node, "auto_pad", "NOTSET", auto_pad, sizeof auto_pad, err))
    return -1;
  if (strcmp(auto_pad, "NOTSET") == 0) {
    if (qb_onnx_attr_ints(c->node, "pads", zeros, 4, v, 4, &n, err)) return -1;
    if (n != 4 || v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
      return qb_fail(err, "pads must be four values >= 0");
    /* ONNX order: x1_begin, x2_begin, x1_end, x2_end. */
    s->pad_top = (size_t)v[0], s->pad_left = (size_t)v[1];
    s->pad_bottom = (size_t)v[2], s->pad_right = (size_t)v[3];
  } else if (strcmp(auto_pad, "SAME_UPPER") == 0 || strcmp(auto_pad, "SAME_LOWER") == 0) {
    /* Output = ceil(in / stride); the odd pad goes at the end (UPPER) or start. */
    const size_t in[2] = {s->in_h, s->in_w}, st[2] = {s->stride_h, s->stride_w};
    const size_t k[2] = {s->kernel_h, s->kernel_w}, d[2] = {s->dilation_h, s->dilation_w};
    size_t begin[2], end[2];
    for (int i = 0; i < 2; i++) {
      const size_t out = (in[i] + st[i] - 1) / st[i], span = (k[i] - 1) * d[i] + 1;
      const size_t need = out ? (out - 1) * st[i] + span : 0;
      const size_t total = need > in[i] ? need - in[i] : 0;
      const size_t small = total / 2, large = total - small;
      begin[i] = auto_pad[5] == 'U' ? small : large;
      end[i] = auto_pad[5] == 'U' ? large : small;
    }
    s->pad_top = begin[0], s->pad_left = begin[1], s->pad_bottom = end[0], s->pad_right = end[1];
  } else if (strcmp(auto_pad, "VALID") != 0) {
    return qb_fail(err, "unknown auto_pad '%s'", auto_pad);
  }
  return 0;
}

/* Integer conv shared by ConvInteger and QLinearConv: acc is [N, OC, OH, OW] int32. */
static int conv_int32(const op_call* c, const qb_tensor* x, const qb_tensor* x_zp_t,
                      const qb_tensor* w, const qb_tensor* w_zp_t, qb_conv2d_shape* s,
                      qb_tensor* acc, qb_error* err) {
  if (conv_shape(c, x, w, s, err)) return -1;
  if (x->dtype != QB_U8) return qb_fail(err, "the reference conv takes uint8 x, not %s",
                                        qb_dtype_name(x->dtype));
  if (w->dtype != QB_U8 && w->dtype != QB_I8)
    return qb_fail(err, "w must be uint8 or int8, is %s", qb_dtype_name(w->dtype));
  if (x_zp_t && qb_tensor_numel(x_zp_t) != 1) return qb_fail(err, "x_zero_point must be per tensor");
  const size_t oh = qb_conv2d_out_h(s), ow = qb_conv2d_out_w(s);
  const size_t kc = s->in_channels / s->groups * s->kernel_h * s->kernel_w;
  const size_t dims[4] = {s->batch, s->out_channels, oh, ow};
  int32_t x_zp;
  int32_t* w_zp = malloc(nz(s->out_channels) * sizeof *w_zp);
  uint8_t* scratch = malloc(nz(oh * ow * kc));
  int rc = -1;
  if (zero_points(x_zp_t, "x_zero_point", 1, &x_zp, err) ||
      zero_points(w_zp_t, "w_zero_point", s->out_channels, w_zp, err) ||
      qb_tensor_alloc(acc, QB_I32, 4, dims, err))
    goto done;
  if (w->dtype == QB_U8)
    qb_qu8_qu8_qs32_conv2d_im2col__scalar(s, x->data, x_zp, w->data, w_zp, acc->data, scratch);
  else
    qb_qu8_qs8_qs32_conv2d_im2col__scalar(s, x->data, x_zp, w->data, w_zp, acc->data, scratch);
  rc = 0;
done:
  free(w_zp);
  free(scratch);
  return rc;
}

/* ConvInteger(x, w, x_zero_point?, w_zero_point?) -> y int32 */
static int op_conv_integer(op_call* c, qb_error* err) {
  qb_conv2d_shape s;
  if (conv_int32(c, input(c, 0), input(c, 2), input(c, 1), input(c, 3), &s, &c->out[0], err))
    return -1;
  c->n_out = 1;
  return 0;
}

/* QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B?) -> y */
static int op_qlinear_conv(op_call* c, qb_error* err) {
  qb_conv2d_shape s;
  qb_tensor acc;
  memset(&acc, 0, sizeof acc);
  if (conv_int32(c, input(c, 0), input(c, 2), input(c, 3), input(c, 5), &s, &acc, err)) return -1;
  const qb_tensor *y_zp = input(c, 7), *b = input(c, 8);
  const size_t oc_n = s.out_channels, ohw = qb_conv2d_out_h(&s) * qb_conv2d_out_w(&s);
  float x_s, y_s, *w_s = malloc(nz(oc_n) * sizeof *w_s);
  float* sc = malloc(nz(oc_n) * sizeof *sc);
  int32_t zp, qmin = 0, qmax = 0;
  const qb_dtype yt = y_zp ? y_zp->dtype : QB_U8;
  int rc = -1;
  if (b && (b->dtype != QB_I32 || b->ndim != 1 || b->dims[0] != oc_n)) {
    qb_fail(err, "B must be int32 of shape [%zu]", oc_n);
    goto done;
  }
  if (scales(input(c, 1), "x_scale", 1, &x_s, err) ||
      scales(input(c, 4), "w_scale", oc_n, w_s, err) ||
      scales(input(c, 6), "y_scale", 1, &y_s, err) ||
      zero_points(y_zp, "y_zero_point", 1, &zp, err) || qrange(yt, &qmin, &qmax, err) ||
      qb_tensor_alloc(&c->out[0], yt, acc.ndim, acc.dims, err))
    goto done;
  c->n_out = 1;
  combined_scales(x_s, w_s, y_s, oc_n, sc);
  /* NCHW: each output-channel plane is ohw rows of one column with its own scale. */
  for (size_t n = 0; n < s.batch; n++)
    for (size_t oc = 0; oc < oc_n; oc++)
      requantize(&acc, ohw, 1, b ? (const int32_t*)b->data + oc : NULL, sc + oc, zp, &c->out[0],
                 (n * oc_n + oc) * ohw);
  rc = 0;
done:
  qb_tensor_free(&acc);
  free(w_s);
  free(sc);
  return rc;
}

static const struct {
  const char* op_type;
  int (*run)(op_call*, qb_error*);
} ops[] = {
    {"QuantizeLinear", op_quantize_linear},
    {"DequantizeLinear", op_dequantize_linear},
    {"DynamicQuantizeLinear", op_dynamic_quantize_linear},
    {"MatMulInteger", op_matmul_integer},
    {"QLinearMatMul", op_qlinear_matmul},
    {"ConvInteger", op_conv_integer},
    {"QLinearConv", op_qlinear_conv},
};

/* -------------------------------------------------------------- comparison */

static const char* value_str(const qb_tensor* t, size_t i, char* buf, size_t len) {
  if (t->dtype == QB_F32) {
    const float f = ((const float*)t->data)[i];
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    snprintf(buf, len, "%.9g (0x%08x)", (double)f, (unsigned)bits);
  } else if (t->dtype == QB_F64) {
    snprintf(buf, len, "%.17g", ((const double*)t->data)[i]);
  } else {
    snprintf(buf, len, "%lld", (long long)int_at(t, i));
  }
  return buf;
}

/* Exact comparison: same type, same shape, same bytes (floats bit-equal). Returns 0
 * when equal, else fills msg with the first difference. */
static int compare(const qb_tensor* expect, const qb_tensor* got, char* msg, size_t len) {
  char a[64], b[64];
  if (expect->dtype != got->dtype) {
    snprintf(msg, len, "type %s, expected %s", qb_dtype_name(got->dtype),
             qb_dtype_name(expect->dtype));
    return -1;
  }
  int same_shape = expect->ndim == got->ndim;
  for (int i = 0; same_shape && i < expect->ndim; i++) same_shape = expect->dims[i] == got->dims[i];
  if (!same_shape) {
    snprintf(msg, len, "shape %s, expected %s", qb_tensor_shape_str(got, a, sizeof a),
             qb_tensor_shape_str(expect, b, sizeof b));
    return -1;
  }
  const size_t n = qb_tensor_numel(expect), es = qb_dtype_size(expect->dtype);
  for (size_t i = 0; i < n; i++)
    if (memcmp((const uint8_t*)expect->data + i * es, (const uint8_t*)got->data + i * es, es)) {
      snprintf(msg, len, "first mismatch at index %zu: got %s, expected %s", i,
               value_str(got, i, a, sizeof a), value_str(expect, i, b, sizeof b));
      return -1;
    }
  return 0;
}

/* --------------------------------------------------------------- the runner */

static int file_exists(const char* path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static int cmp_str(const void* a, const void* b) {
  return strcmp(*(const char* const*)a, *(const char* const*)b);
}

/* Runs one data set; returns 0 on PASS. `line` receives the verdict detail. */
static int run_data_set(const qb_onnx_model* m, const char* set_dir, int (*run)(op_call*, qb_error*),
                        char* line, size_t len) {
  const Onnx__NodeProto* node = m->graph->node[0];
  qb_tensor inputs[MAX_IO], expected[MAX_IO], inits[MAX_IO];
  char in_names[MAX_IO][128], out_names[MAX_IO][128], path[1400];
  size_t n_inputs = 0, n_expected = 0, n_inits = 0;
  op_call call;
  qb_error err;
  int rc = -1;
  memset(&call, 0, sizeof call);
  call.node = node;
  /* input_N.pb: named like the graph input it feeds (graph input N when unnamed). */
  for (; n_inputs < MAX_IO; n_inputs++) {
    snprintf(path, sizeof path, "%s/input_%zu.pb", set_dir, n_inputs);
    if (!file_exists(path)) break;
    if (qb_onnx_tensor_read(path, &inputs[n_inputs], in_names[n_inputs], 128, &err)) {
      snprintf(line, len, "%s", err.msg);
      goto done;
    }
    if (!in_names[n_inputs][0] && n_inputs < m->graph->n_input)
      snprintf(in_names[n_inputs], 128, "%.127s", m->graph->input[n_inputs]->name);
  }
  for (; n_expected < MAX_IO; n_expected++) {
    snprintf(path, sizeof path, "%s/output_%zu.pb", set_dir, n_expected);
    if (!file_exists(path)) break;
    if (qb_onnx_tensor_read(path, &expected[n_expected], out_names[n_expected], 128, &err)) {
      snprintf(line, len, "%s", err.msg);
      goto done;
    }
    if (!out_names[n_expected][0] && n_expected < m->graph->n_output)
      snprintf(out_names[n_expected], 128, "%.127s", m->graph->output[n_expected]->name);
  }
  if (n_expected == 0) {
    snprintf(line, len, "no output_N.pb in %.900s", set_dir);
    goto done;
  }
  /* Node inputs by name: a data set input, else a graph initializer. */
  call.n_in = node->n_input < MAX_IO ? node->n_input : MAX_IO;
  for (size_t i = 0; i < call.n_in; i++) {
    const char* name = qb_onnx_node_input(node, i);
    if (!name) continue; /* omitted optional input */
    for (size_t k = 0; k < n_inputs && !call.in[i]; k++)
      if (strcmp(in_names[k], name) == 0) call.in[i] = &inputs[k];
    if (!call.in[i] && qb_onnx_find_initializer(m->graph, name) && n_inits < MAX_IO) {
      if (qb_onnx_initializer(m->graph, name, &inits[n_inits], &err)) {
        snprintf(line, len, "initializer '%.100s': %s", name, err.msg);
        goto done;
      }
      call.in[i] = &inits[n_inits++];
    }
    if (!call.in[i]) {
      snprintf(line, len, "node input '%.100s' is neither in the data set nor an initializer", name);
      goto done;
    }
  }
  if (run(&call, &err)) {
    snprintf(line, len, "reference evaluation failed: %s", err.msg);
    goto done;
  }
  size_t used = 0;
  for (size_t k = 0; k < n_expected; k++) {
    size_t o = 0;
    while (o < node->n_output && !(qb_onnx_node_output(node, o) &&
                                   strcmp(qb_onnx_node_output(node, o), out_names[k]) == 0))
      o++;
    if (o >= call.n_out) {
      snprintf(line, len, "expected output '%s' is not produced by the node", out_names[k]);
      goto done;
    }
    char msg[256], shape[64];
    if (compare(&expected[k], &call.out[o], msg, sizeof msg)) {
      snprintf(line, len, "output '%s': %s", out_names[k], msg);
      goto done;
    }
    used += (size_t)snprintf(line + used, used < len ? len - used : 0, "%s%s %s %s",
                             k ? ", " : "", out_names[k], qb_dtype_name(expected[k].dtype),
                             qb_tensor_shape_str(&expected[k], shape, sizeof shape));
  }
  rc = 0;
done:
  for (size_t i = 0; i < n_inputs; i++) qb_tensor_free(&inputs[i]);
  for (size_t i = 0; i < n_expected; i++) qb_tensor_free(&expected[i]);
  for (size_t i = 0; i < n_inits; i++) qb_tensor_free(&inits[i]);
  for (size_t i = 0; i < call.n_out; i++) qb_tensor_free(&call.out[i]);
  return rc;
}

static void run_case(const char* root, const char* name) {
  char dir[1024], path[1100], line[2048];
  qb_onnx_model m;
  qb_error err;
  snprintf(dir, sizeof dir, "%s/%s", root, name);
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  if (qb_onnx_model_read(path, &m, &err)) {
    QB_CHECK_MSG(0, "%s", err.msg);
    printf("FAIL %s: %s\n", name, err.msg);
    return;
  }
  int (*run)(op_call*, qb_error*) = NULL;
  const Onnx__NodeProto* node = m.graph->n_node == 1 ? m.graph->node[0] : NULL;
  for (size_t i = 0; node && node->op_type && i < sizeof ops / sizeof *ops; i++)
    if (strcmp(ops[i].op_type, node->op_type) == 0) run = ops[i].run;
  if (!run) {
    QB_CHECK_MSG(0, "%s: expected one quantization node, found %zu nodes (%s)", name,
                 m.graph->n_node, node && node->op_type ? node->op_type : "?");
    printf("FAIL %s: not a single supported node\n", name);
    qb_onnx_model_free(&m);
    return;
  }
  /* test_data_set_* in name order. */
  char* sets[64];
  size_t n_sets = 0;
  DIR* d = opendir(dir);
  for (struct dirent* e; d && (e = readdir(d)) != NULL;)
    if (strncmp(e->d_name, "test_data_set_", 14) == 0 && n_sets < 64) sets[n_sets++] = strdup(e->d_name);
  if (d) closedir(d);
  qsort(sets, n_sets, sizeof *sets, cmp_str);
  QB_CHECK_MSG(n_sets > 0, "%s: no test_data_set_* directories", name);
  for (size_t i = 0; i < n_sets; i++) {
    char set_dir[1300];
    snprintf(set_dir, sizeof set_dir, "%s/%s", dir, sets[i]);
    const int ok = run_data_set(&m, set_dir, run, line, sizeof line) == 0;
    QB_CHECK_MSG(ok, "%s/%s: %s", name, sets[i], line);
    printf("%s %s/%s (%s): %s\n", ok ? "PASS" : "FAIL", name, sets[i], node->op_type, line);
    free(sets[i]);
  }
  qb_onnx_model_free(&m);
}

int main(void) {
  const char* root = QB_ONNX_TESTDATA "/node";
  if (!file_exists(root)) qb_test_skip("ONNX node test data not installed (libonnx-testdata)");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_case(root, cases[i]);
  return qb_test_finish("test_onnx_quant_nodes");
}
