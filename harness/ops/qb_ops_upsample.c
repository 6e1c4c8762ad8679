/* fp32 ops that enlarge feature maps: Resize (nearest on any dims, linear on the
 * last two) and ConvTranspose (2-D, groups, dilation, output_padding,
 * output_shape / auto_pad). Shape inference and computation, ONNX semantics;
 * float arithmetic ordered as onnxruntime's CPU kernels order it where it matters
 * (Resize's coordinate transforms are computed in float, as there). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_internal.h"

static int fail_node(qb_error* err, const qb_node* n, const char* what) {
  char where[320];
  return qb_fail(err, "%s: %s", qb_node_str(n, where, sizeof where), what);
}

/* ---------------------------------------------------------------- Resize */

typedef struct {
  size_t out[QB_MAX_DIMS];
  float scale[QB_MAX_DIMS];
  float len[QB_MAX_DIMS]; /* the resized length align_corners divides by: in * scale
                           * when scales are given (not floored, as the ONNX reference), the size
                           * when sizes are */
} resize_plan;

/* Output sizes and scales from the constant scales (input 2) or sizes (input 3):
 * out = floor(in * scale), or scale = out / in. roi (input 1) matters only for
 * tf_crop_and_resize, which is not supported. */
static int resize_resolve(const qb_model* m, const qb_node* n, resize_plan* p, qb_error* err) {
  const qb_value *x = qb_in(m, n, 0), *sc = qb_in(m, n, 2), *sz = qb_in(m, n, 3);
  const bool has_scales = sc && sc->numel > 0, has_sizes = sz && sz->numel > 0;
  if (has_scales == has_sizes) return fail_node(err, n, "exactly one of scales and sizes must be given");
  const qb_value* c = has_scales ? sc : sz;
  if (c->kind != QB_VALUE_CONST) return fail_node(err, n, "scales / sizes must be constants");
  if (c->numel != (size_t)x->ndim) return fail_node(err, n, "scales / sizes must have one value per dimension");
  for (int d = 0; d < x->ndim; d++) {
    if (has_scales) {
      const float s = c->data[d];
      if (!(s > 0) || !(s < 65536)) return fail_node(err, n, "a scale is not positive and finite");
      p->scale[d] = s;
      p->out[d] = (size_t)floor((double)x->dims[d] * (double)s);
      p->len[d] = (float)x->dims[d] * s;
    } else {
      if (c->constant.dtype != QB_I64) return fail_node(err, n, "sizes must be int64");
      const int64_t v = ((const int64_t*)c->constant.data)[d];
      if (v < 1 || v > QB_MODEL_MAX_ELEMENTS) return fail_node(err, n, "a size is out of range");
      p->out[d] = (size_t)v;
      p->len[d] = (float)v;
      p->scale[d] = x->dims[d] ? (float)v / (float)x->dims[d] : 1.0f;
    }
  }
  if (n->a.resize_mode == 1)
    for (int d = 0; d + 2 < x->ndim; d++)
      if (p->out[d] != x->dims[d])
        return fail_node(err, n, "linear mode resizes only the last two dimensions here");
  return 0;
}

static int infer_resize(qb_model* m, qb_node* n, qb_error* err) {
  if (qb_in(m, n, 0)->ndim < 1) return fail_node(err, n, "the input must have a dimension");
  resize_plan p;
  if (resize_resolve(m, n, &p, err)) return -1;
  return qb_value_set_shape(qb_out(m, n, 0), qb_in(m, n, 0)->ndim, p.out, n, err);
}

/* The input coordinate of output coordinate o along one dimension. */
static float resize_coord(int mode, size_t o, size_t in_len, float out_len, float scale) {
  const float x = (float)o;
  switch (mode) {
    case QB_RESIZE_HALF_PIXEL: return (x + 0.5f) / scale - 0.5f;
    case QB_RESIZE_PYTORCH_HALF_PIXEL: return out_len > 1.0f ? (x + 0.5f) / scale - 0.5f : 0.0f;
    case QB_RESIZE_ALIGN_CORNERS:
      return out_len == 1.0f ? 0.0f : x * (float)(in_len - 1) / (out_len - 1.0f);
    case QB_RESIZE_ASYMMETRIC: return x / scale;
    default: return (x + 0.5f) / scale; /* tf_half_pixel_for_nn */
  }
}

static size_t nearest_index(int mode, float x, size_t len) {
  float r;
  switch (mode) {
    case QB_RESIZE_ROUND_PREFER_FLOOR: r = x == floorf(x) + 0.5f ? floorf(x) : roundf(x); break;
    case QB_RESIZE_ROUND_PREFER_CEIL: r = x == floorf(x) + 0.5f ? ceilf(x) : roundf(x); break;
    case QB_RESIZE_FLOOR: r = floorf(x); break;
    default: r = ceilf(x); break;
  }
  if (r < 0) return 0;
  return r > (float)(len - 1) ? len - 1 : (size_t)r;
}

/* Per output dimension, the source index of each output coordinate; elements of
 * `esize` bytes (4: fp32, 1: the u8 values of an integer run, which keep their
 * qparams: nearest only selects). */
void qb_resize_nearest_gather(const qb_model* m, const qb_node* n, const void* x, void* y,
                              size_t esize) {
  resize_plan pl;
  const resize_plan* p = &pl;
  resize_resolve(m, n, &pl, NULL);
  const qb_value* xv = qb_in(m, n, 0);
  const int r = xv->ndim;
  size_t* map[QB_MAX_DIMS];
  size_t xs[QB_MAX_DIMS], idx[QB_MAX_DIMS] = {0}, s = 1;
  size_t* buf = (size_t*)m->op_scratch; /* sum of output dims, sized at prepare */
  for (int d = 0; d < r; d++) {
    map[d] = buf;
    for (size_t o = 0; o < p->out[d]; o++)
      buf[o] = nearest_index(n->a.nearest_mode,
                             resize_coord(n->a.coord_mode, o, xv->dims[d], p->len[d], p->scale[d]),
                             xv->dims[d]);
    buf += p->out[d];
  }
  for (int d = r - 1; d >= 0; d--) xs[d] = s, s *= xv->dims[d];
  /* Row by row along the last dimension: its map is a gather, the others a base. */
  const size_t ow = p->out[r - 1], rows = ow ? m->values[n->out[0]].numel / ow : 0;
  for (size_t row = 0; row < rows; row++) {
    size_t base = 0;
    for (int d = 0; d + 1 < r; d++) base += map[d][idx[d]] * xs[d];
    const size_t* mw = map[r - 1];
    if (esize == 1) {
      const uint8_t* xb = (const uint8_t*)x + base;
      uint8_t* yr = (uint8_t*)y + row * ow;
      for (size_t o = 0; o < ow; o++) yr[o] = xb[mw[o]];
    } else {
      const float* xb = (const float*)x + base;
      float* yr = (float*)y + row * ow;
      for (size_t o = 0; o < ow; o++) yr[o] = xb[mw[o]];
    }
    for (int d = r - 2; d >= 0; d--) {
      if (++idx[d] < p->out[d]) break;
      idx[d] = 0;
    }
  }
}

/* Linear along one dimension: the two source indices and their weights, as
 * onnxruntime's upsample computes them (coordinate clamped to [0, len-1]; equal
 * neighbours weigh 0.5 each). */
typedef struct {
  size_t i0, i1;
  float w0, w1;
} lerp_tap;

static lerp_tap lerp_of(int mode, size_t o, size_t in_len, float out_len, float scale) {
  float c = resize_coord(mode, o, in_len, out_len, scale);
  c = fmaxf(0.0f, fminf(c, (float)(in_len - 1)));
  lerp_tap t;
  t.i0 = (size_t)c < in_len - 1 ? (size_t)c : in_len - 1;
  t.i1 = t.i0 + 1 < in_len ? t.i0 + 1 : in_len - 1;
  t.w1 = fabsf(c - (float)t.i0), t.w0 = fabsf(c - (float)t.i1);
  if (t.i0 == t.i1) t.w0 = t.w1 = 0.5f;
  return t;
}

static void run_resize_linear(const qb_model* m, const qb_node* n, const float* x,
                              const resize_plan* p, float* y) {
  const qb_value* xv = qb_in(m, n, 0);
  const int r = xv->ndim;
  const size_t H = r >= 2 ? xv->dims[r - 2] : 1, W = xv->dims[r - 1];
  const size_t OH = r >= 2 ? p->out[r - 2] : 1, OW = p->out[r - 1];
  const float sh = r >= 2 ? p->scale[r - 2] : 1.0f, sw = p->scale[r - 1];
  const float lh = r >= 2 ? p->len[r - 2] : 1.0f, lw = p->len[r - 1];
  size_t planes = 1;
  for (int d = 0; d + 2 < r; d++) planes *= xv->dims[d];
  lerp_tap* tx = (lerp_tap*)m->op_scratch; /* OW taps, sized at prepare */
  for (size_t ox = 0; ox < OW; ox++) tx[ox] = lerp_of(n->a.coord_mode, ox, W, lw, sw);
  for (size_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * H * W;
    float* yp = y + pl * OH * OW;
    for (size_t oy = 0; oy < OH; oy++) {
      const lerp_tap ty = lerp_of(n->a.coord_mode, oy, H, lh, sh);
      const float *r0 = xp + ty.i0 * W, *r1 = xp + ty.i1 * W;
      for (size_t ox = 0; ox < OW; ox++) {
        const lerp_tap t = tx[ox];
        yp[oy * OW + ox] = t.w0 * ty.w0 * r0[t.i0] + t.w1 * ty.w0 * r0[t.i1] +
                           t.w0 * ty.w1 * r1[t.i0] + t.w1 * ty.w1 * r1[t.i1];
      }
    }
  }
}

static void run_resize(const qb_model* m, const qb_node* n, const float* const* in) {
  float* y = m->values[n->out[0]].data;
  if (n->a.resize_mode == 0) {
    qb_resize_nearest_gather(m, n, in[0], y, sizeof(float));
    return;
  }
  resize_plan p;
  resize_resolve(m, n, &p, NULL);
  run_resize_linear(m, n, in[0], &p, y);
}

size_t qb_resize_scratch_bytes(const qb_model* m, const qb_node* n) {
  const qb_value* y = &m->values[n->out[0]];
  size_t b = 0;
  for (int d = 0; d < y->ndim; d++) b += y->dims[d];
  b *= sizeof(size_t);
  const size_t lin = (y->ndim ? y->dims[y->ndim - 1] : 1) * sizeof(lerp_tap);
  return b > lin ? b : lin;
}

/* --------------------------------------------------------- ConvTranspose */

/* y[n, g*Cog + oc, iy*s - pad + ky*d, ix*s - pad + kx*d] += x[n, g*Cig + ic, iy, ix] *
 * w[g*Cig + ic, oc, ky, kx]; output size s*(in-1) + output_padding + (k-1)*d + 1 -
 * pad_begin - pad_end; with output_shape or auto_pad SAME_* the total padding
 * follows from the wanted size (SAME_UPPER puts the odd one at the end). */
static int infer_convtranspose(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value *x = qb_in(m, n, 0), *w = qb_in(m, n, 1), *b = qb_in(m, n, 2);
  if (x->ndim != 4 || w->ndim != 4) return fail_node(err, n, "only 2-D (NCHW) ConvTranspose is supported");
  const size_t g = (size_t)n->a.group;
  if (x->dims[1] != w->dims[0] || x->dims[1] % g)
    return fail_node(err, n, "input channels do not match the weight's first dimension and group");
  const size_t cout = w->dims[1] * g;
  if (b && b->numel != cout) return fail_node(err, n, "bias must have one value per output channel");
  size_t out[4] = {x->dims[0], cout, 0, 0};
  for (int i = 0; i < 2; i++) {
    const int64_t k = n->a.kernel[i] ? n->a.kernel[i] : (int64_t)w->dims[2 + i];
    if (k != (int64_t)w->dims[2 + i]) return fail_node(err, n, "kernel_shape differs from the weight");
    const int64_t in = (int64_t)x->dims[2 + i], s = n->a.strides[i], d = n->a.dilations[i];
    const int64_t full = s * (in - 1) + n->a.output_padding[i] + (k - 1) * d + 1;
    if (n->a.output_shape[i] || n->a.auto_pad) {
      const int64_t want = n->a.output_shape[i] ? n->a.output_shape[i] : in * s;
      /* Negative when output_shape asks for more than the full output: the extra
       * rows hold the bias alone (floor division, as the ONNX reference). */
      const int64_t total = full - want;
      const int64_t half = total >= 0 ? total / 2 : -((1 - total) / 2);
      const bool upper = n->a.auto_pad == 1;
      n->a.pads[i] = upper ? half : total - half;
      n->a.pads[i + 2] = upper ? total - half : half;
    }
    const int64_t o = full - n->a.pads[i] - n->a.pads[i + 2];
    if (o < 1) return fail_node(err, n, "output would be empty");
    if (n->a.output_padding[i] < 0 || n->a.output_padding[i] >= (s > d ? s : d))
      return fail_node(err, n, "output_padding must be smaller than the stride or the dilation");
    out[2 + i] = (size_t)o;
  }
  if ((int64_t)(x->dims[1] * w->dims[1] * w->dims[2] * w->dims[3]) * (int64_t)(x->dims[2] * x->dims[3]) >
      QB_MODEL_MAX_NODE_WORK)
    return fail_node(err, n, "too much work per sample");
  return qb_value_set_shape(qb_out(m, n, 0), 4, out, n, err);
}

static void run_convtranspose(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value *x = qb_in(m, n, 0), *w = qb_in(m, n, 1), *yv = &m->values[n->out[0]];
  const size_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
  const size_t g = (size_t)n->a.group, cig = C / g, cog = w->dims[1];
  const size_t KH = w->dims[2], KW = w->dims[3], OC = yv->dims[1], OH = yv->dims[2], OW = yv->dims[3];
  const int64_t sh = n->a.strides[0], sw = n->a.strides[1], dh = n->a.dilations[0], dw = n->a.dilations[1];
  const int64_t pt = n->a.pads[0], pl = n->a.pads[1];
  float* y = yv->data;
  for (size_t b = 0; b < N; b++) {
    float* yb = y + b * OC * OH * OW;
    for (size_t oc = 0; oc < OC; oc++) {
      const float bias = in[2] ? in[2][oc] : 0.0f;
      for (size_t i = 0; i < OH * OW; i++) yb[oc * OH * OW + i] = bias;
    }
    for (size_t c = 0; c < C; c++) {
      const size_t gi = c / cig;
      const float* xc = in[0] + (b * C + c) * H * W;
      for (size_t oc = 0; oc < cog; oc++) {
        const float* wk = in[1] + (c * cog + oc) * KH * KW;
        float* yo = yb + (gi * cog + oc) * OH * OW;
        for (size_t iy = 0; iy < H; iy++)
          for (size_t ky = 0; ky < KH; ky++) {
            const int64_t oy = (int64_t)iy * sh - pt + (int64_t)ky * dh;
            if (oy < 0 || oy >= (int64_t)OH) continue;
            for (size_t ix = 0; ix < W; ix++) {
              const float v = xc[iy * W + ix];
              for (size_t kx = 0; kx < KW; kx++) {
                const int64_t ox = (int64_t)ix * sw - pl + (int64_t)kx * dw;
                if (ox >= 0 && ox < (int64_t)OW) yo[oy * (int64_t)OW + ox] += v * wk[ky * KW + kx];
              }
            }
          }
      }
    }
  }
}

/* ------------------------------------------------------------- dispatch */

int qb_ops_upsample_infer(qb_model* m, qb_node* n, qb_error* err) {
  switch (n->op) {
    case QB_OP_RESIZE: return infer_resize(m, n, err);
    case QB_OP_CONVTRANSPOSE: return infer_convtranspose(m, n, err);
    default: return 1;
  }
}

bool qb_ops_upsample_run(const qb_model* m, const qb_node* n, const float* const* in) {
  switch (n->op) {
    case QB_OP_RESIZE: run_resize(m, n, in); return true;
    case QB_OP_CONVTRANSPOSE: run_convtranspose(m, n, in); return true;
    default: return false;
  }
}
