/* Integer forms of the ops between quantized layers (static workflow), on u8
 * values with per-tensor qparams (qb_model_qplan.c decides which nodes run here):
 *   MaxPool, Flatten, Reshape, Transpose, Identity   the output keeps the input's
 *       qparams: max commutes with the monotone dequantization, reshapes move bytes;
 *   AveragePool, GlobalAveragePool   int32 sum of (q - zp_in) over the window, then
 *       round(sum * (s_in / (count * s_out))) + zp_out (the fp32-scale rule);
 *   Add   QLinearAdd: y = quantize_out((a - za) * sa + (b - zb) * sb), the two
 *       dequantized terms and their sum in fp32, then the output grid's quantize;
 *   Concat   each input requantized onto the output grid (a copy when the grids agree).
 * Add and Concat compute exactly the fp32 expressions the simulation computes, so
 * they match it bit for bit; the pools differ from it only by fp32 rounding. */
#include <math.h>
#include <string.h>

#include "qb_model_quant_internal.h"
#include "qb_multiversion.h"

const char* qb_qops_kernel(qb_qnode_run run) {
  switch (run) {
    case QB_QNODE_PASS: return "qu8-passthrough";
    case QB_QNODE_POOL: return "qu8-avgpool-fp32";
    case QB_QNODE_ADD: return "qu8-add-fp32";
    case QB_QNODE_CONCAT: return "qu8-concat-requantize";
    default: return "fp32";
  }
}

static qb_conv2d_shape pool_shape(const qb_model* m, const qb_node* n) {
  const qb_value* x = qb_in(m, n, 0);
  qb_conv2d_shape s;
  memset(&s, 0, sizeof s);
  s.batch = x->dims[0], s.in_channels = s.out_channels = x->dims[1];
  s.in_h = x->dims[2], s.in_w = x->dims[3];
  s.kernel_h = (size_t)n->a.kernel[0], s.kernel_w = (size_t)n->a.kernel[1];
  s.stride_h = (size_t)n->a.strides[0], s.stride_w = (size_t)n->a.strides[1];
  s.dilation_h = (size_t)n->a.dilations[0], s.dilation_w = (size_t)n->a.dilations[1];
  s.pad_top = (size_t)n->a.pads[0], s.pad_left = (size_t)n->a.pads[1];
  s.pad_bottom = (size_t)n->a.pads[2], s.pad_right = (size_t)n->a.pads[3];
  s.groups = 1;
  return s;
}

/* One output of a window that lies inside the input (no padding, the common case):
 * max or int32 sum of (q - zp) without bounds checks. */
static int32_t window_inside(const uint8_t* xp, size_t in_w, const qb_conv2d_shape* s, bool is_max,
                             int32_t zp) {
  int32_t acc = 0; /* u8 values are >= 0: a valid start for the max too */
  for (size_t ky = 0; ky < s->kernel_h; ky++) {
    const uint8_t* row = xp + ky * s->dilation_h * in_w;
    for (size_t kx = 0; kx < s->kernel_w; kx++) {
      const int32_t v = row[kx * s->dilation_w];
      if (is_max) acc = v > acc ? v : acc;
      else acc += v - zp;
    }
  }
  return acc;
}

static uint8_t max_u8(uint8_t a, uint8_t b) { return a > b ? a : b; }

/* MaxPool whose windows all lie inside the plane (qb_pool_windows_inside): a max per
 * window without bounds checks; 2x2 stride 2, the common case, as two row pairs the
 * compiler vectorizes. */
static void maxpool_u8_inside(const qb_conv2d_shape* s, const uint8_t* x, size_t oh, size_t ow,
                              uint8_t* y) {
  const bool k2s2 = s->kernel_h == 2 && s->kernel_w == 2 && s->stride_h == 2 && s->stride_w == 2;
  for (size_t oy = 0; oy < oh; oy++) {
    const uint8_t* r0 = x + oy * s->stride_h * s->in_w;
    uint8_t* yr = y + oy * ow;
    if (k2s2) {
      const uint8_t* r1 = r0 + s->in_w;
      for (size_t ox = 0; ox < ow; ox++)
        yr[ox] = max_u8(max_u8(r0[2 * ox], r0[2 * ox + 1]), max_u8(r1[2 * ox], r1[2 * ox + 1]));
      continue;
    }
    for (size_t ox = 0; ox < ow; ox++) {
      const uint8_t* w = r0 + ox * s->stride_w;
      uint8_t m = 0;
      for (size_t ky = 0; ky < s->kernel_h; ky++)
        for (size_t kx = 0; kx < s->kernel_w; kx++) m = max_u8(m, w[ky * s->in_w + kx]);
      yr[ox] = m;
    }
  }
}

/* MaxPool and AveragePool over u8 planes, with the fp32 op's window rules (padding
 * never wins a max; count_include_pad counts explicit padding, not the ceil_mode
 * overhang). */
static void pool2d(const qb_quant_state* q, const qb_model* m, const qb_node* n, const uint8_t* x,
                   uint8_t* y) {
  const qb_conv2d_shape s = pool_shape(m, n);
  const qb_value* yv = &m->values[n->out[0]];
  const size_t oh = yv->dims[2], ow = yv->dims[3];
  const bool is_max = n->op == QB_OP_MAXPOOL;
  const qb_qparams pi = q->act_qp[n->in[0]], po = q->act_qp[n->out[0]];
  const qb_qscheme* sc = &q->cfg.act.scheme;
  const int32_t qmin = qb_qscheme_qmin(sc), qmax = qb_qscheme_qmax(sc);
  const size_t span_h = (s.kernel_h - 1) * s.dilation_h + 1, span_w = (s.kernel_w - 1) * s.dilation_w + 1;
  const float inside_scale = pi.scale / ((float)(s.kernel_h * s.kernel_w) * po.scale);
  const bool max_inside = is_max && qb_pool_windows_inside(&s, oh, ow);
  for (size_t bc = 0; bc < s.batch * s.in_channels; bc++) {
    const uint8_t* xp = x + bc * s.in_h * s.in_w;
    uint8_t* yp = y + bc * oh * ow;
    if (max_inside) {
      maxpool_u8_inside(&s, xp, oh, ow, yp);
      continue;
    }
    for (size_t oy = 0; oy < oh; oy++)
      for (size_t ox = 0; ox < ow; ox++) {
        const ptrdiff_t y0 = (ptrdiff_t)(oy * s.stride_h) - (ptrdiff_t)s.pad_top;
        const ptrdiff_t x0 = (ptrdiff_t)(ox * s.stride_w) - (ptrdiff_t)s.pad_left;
        int32_t acc = 0;
        float scale = inside_scale;
        if (y0 >= 0 && x0 >= 0 && (size_t)y0 + span_h <= s.in_h && (size_t)x0 + span_w <= s.in_w) {
          acc = window_inside(xp + (size_t)y0 * s.in_w + (size_t)x0, s.in_w, &s, is_max, pi.zero_point);
        } else {
          size_t count = 0, padded = 0;
          for (size_t ky = 0; ky < s.kernel_h; ky++)
            for (size_t kx = 0; kx < s.kernel_w; kx++) {
              const ptrdiff_t iy = y0 + (ptrdiff_t)(ky * s.dilation_h);
              const ptrdiff_t ix = x0 + (ptrdiff_t)(kx * s.dilation_w);
              const bool in_pad = iy >= -(ptrdiff_t)s.pad_top && iy < (ptrdiff_t)(s.in_h + s.pad_bottom) &&
                                  ix >= -(ptrdiff_t)s.pad_left && ix < (ptrdiff_t)(s.in_w + s.pad_right);
              if (iy < 0 || iy >= (ptrdiff_t)s.in_h || ix < 0 || ix >= (ptrdiff_t)s.in_w) {
                padded += in_pad;
                continue;
              }
              const int32_t v = xp[iy * (ptrdiff_t)s.in_w + ix];
              if (is_max) acc = count == 0 || v > acc ? v : acc;
              else acc += v - pi.zero_point;
              count++;
            }
          if (is_max && !count) acc = pi.zero_point;
          const size_t d = n->a.count_include_pad ? count + padded : count;
          scale = d ? pi.scale / ((float)d * po.scale) : 0.0f;
        }
        if (is_max) {
          yp[oy * ow + ox] = (uint8_t)acc;
          continue;
        }
        qb_qs32_qu8_requantize_fp32__scalar(1, 1, &acc, 1, NULL, &scale, po.zero_point, qmin,
                                            qmax, &yp[oy * ow + ox], 1);
      }
  }
}

static void global_avgpool(const qb_quant_state* q, const qb_model* m, const qb_node* n,
                           const uint8_t* x, uint8_t* y) {
  const qb_value* xv = qb_in(m, n, 0);
  const size_t nc = xv->dims[0] * xv->dims[1], hw = nc ? xv->numel / nc : 0;
  const qb_qparams pi = q->act_qp[n->in[0]], po = q->act_qp[n->out[0]];
  const qb_qscheme* sc = &q->cfg.act.scheme;
  const float scale = hw ? pi.scale / ((float)hw * po.scale) : 0.0f;
  for (size_t i = 0; i < nc; i++) {
    int32_t acc = 0;
    for (size_t j = 0; j < hw; j++) acc += (int32_t)x[i * hw + j] - pi.zero_point;
    qb_qs32_qu8_requantize_fp32__scalar(1, 1, &acc, 1, NULL, &scale, po.zero_point,
                                        qb_qscheme_qmin(sc), qb_qscheme_qmax(sc), &y[i], 1);
  }
}

/* Dequantize in fp32 as the dequantize kernels do, combine, quantize onto `po` with
 * the table's quantize kernel (the scalar rule, bit for bit), in chunks. */
enum { CHUNK = 256 };

/* t = dequantized a + dequantized b, c elements (AVX2 and baseline clones: the same
 * fp32 operations, the same bits). */
QB_MULTIVERSION static void dequant_add(size_t c, const uint8_t* restrict a, qb_qparams pa,
                                        const uint8_t* restrict b, qb_qparams pb,
                                        float* restrict t) {
  for (size_t j = 0; j < c; j++)
    t[j] = (float)((int32_t)a[j] - pa.zero_point) * pa.scale +
           (float)((int32_t)b[j] - pb.zero_point) * pb.scale;
}

QB_MULTIVERSION static void dequant(size_t c, const uint8_t* restrict x, qb_qparams p,
                                    float* restrict t) {
  for (size_t j = 0; j < c; j++) t[j] = (float)((int32_t)x[j] - p.zero_point) * p.scale;
}

static void add_u8(const qb_quant_state* q, size_t len, const uint8_t* a, qb_qparams pa,
                   const uint8_t* b, qb_qparams pb, qb_qparams po, uint8_t* y) {
  const qb_qscheme* sc = &q->cfg.act.scheme;
  float t[CHUNK];
  for (size_t i = 0; i < len; i += CHUNK) {
    const size_t c = len - i < CHUNK ? len - i : CHUNK;
    dequant_add(c, a + i, pa, b + i, pb, t);
    q->table->f32_q8_quantize->f32_qu8(c, t, po.scale, po.zero_point, qb_qscheme_qmin(sc),
                                       qb_qscheme_qmax(sc), sc->rounding, y + i);
  }
}

static void requantize_u8(const qb_quant_state* q, size_t len, const uint8_t* x, qb_qparams pi,
                          qb_qparams po, uint8_t* y) {
  if (pi.scale == po.scale && pi.zero_point == po.zero_point) {
    memcpy(y, x, len);
    return;
  }
  const qb_qscheme* sc = &q->cfg.act.scheme;
  float t[CHUNK];
  for (size_t i = 0; i < len; i += CHUNK) {
    const size_t c = len - i < CHUNK ? len - i : CHUNK;
    dequant(c, x + i, pi, t);
    q->table->f32_q8_quantize->f32_qu8(c, t, po.scale, po.zero_point, qb_qscheme_qmin(sc),
                                       qb_qscheme_qmax(sc), sc->rounding, y + i);
  }
}

static int concat_u8(qb_quant_state* q, const qb_model* m, const qb_node* n, uint8_t* y,
                     qb_error* err) {
  const qb_value* yv = &m->values[n->out[0]];
  int axis = (int)n->a.axis;
  if (axis < 0) axis += yv->ndim;
  const size_t outer = qb_dims_prod(yv->dims, 0, axis), inner = qb_dims_prod(yv->dims, axis + 1, yv->ndim);
  const qb_qparams po = q->act_qp[n->out[0]];
  size_t off = 0;
  for (int i = 0; i < n->nin; i++) {
    const uint8_t* x = qb_quant_value_u8(q, m, n->in[i], err);
    if (!x) return -1;
    const size_t len = m->values[n->in[i]].dims[axis] * inner;
    for (size_t o = 0; o < outer && len; o++)
      requantize_u8(q, len, x + o * len, q->act_qp[n->in[i]], po,
                    y + o * yv->dims[axis] * inner + off);
    off += len;
  }
  return 0;
}

int qb_qops_run(qb_quant_state* q, const qb_model* m, size_t k, qb_error* err) {
  const qb_node* n = &m->nodes[k];
  const qb_value* yv = &m->values[n->out[0]];
  /* Read the inputs first: quantizing one may write its u8 form. */
  const uint8_t* x = qb_quant_value_u8(q, m, n->in[0], err);
  const uint8_t* b = NULL;
  if (!x) return -1;
  if (q->run[k] == QB_QNODE_ADD && !(b = qb_quant_value_u8(q, m, n->in[1], err))) return -1;
  uint8_t* y = qb_quant_value_u8_out(q, m, n->out[0], err);
  if (!y) return -1;
  switch (q->run[k]) {
    case QB_QNODE_PASS:
      if (n->op == QB_OP_MAXPOOL) pool2d(q, m, n, x, y);
      else if (n->op == QB_OP_TRANSPOSE) qb_transpose_gather(m, n, x, y, 1);
      else if (n->op == QB_OP_RESIZE) qb_resize_nearest_gather(m, n, x, y, 1);
      else memcpy(y, x, yv->numel);
      return 0;
    case QB_QNODE_POOL:
      if (n->op == QB_OP_GLOBALAVGPOOL) global_avgpool(q, m, n, x, y);
      else pool2d(q, m, n, x, y);
      return 0;
    case QB_QNODE_ADD:
      add_u8(q, yv->numel, x, q->act_qp[n->in[0]], b, q->act_qp[n->in[1]], q->act_qp[n->out[0]], y);
      return 0;
    case QB_QNODE_CONCAT:
      return concat_u8(q, m, n, y, err);
    default:
      return qb_fail(err, "node %zu has no integer form", k);
  }
}
