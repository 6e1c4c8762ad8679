/* fp32 layers: Gemm, MatMul, Conv (2-D, groups, dilation), MaxPool / AveragePool
 * (2-D), GlobalAveragePool, BatchNormalization (inference). Shape inference and
 * computation, ONNX semantics. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_ops_f32.h"

static int fail_node(qb_error* err, const qb_node* n, const char* what) {
  char where[320];
  return qb_fail(err, "%s: %s", qb_node_str(n, where, sizeof where), what);
}

/* ------------------------------------------------------------------ GEMM */

static int infer_gemm(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value *a = qb_in(m, n, 0), *b = qb_in(m, n, 1), *c = qb_in(m, n, 2);
  if (a->ndim != 2 || b->ndim != 2) return fail_node(err, n, "A and B must be 2-D");
  const size_t M = n->a.trans_a ? a->dims[1] : a->dims[0];
  const size_t K = n->a.trans_a ? a->dims[0] : a->dims[1];
  const size_t Kb = n->a.trans_b ? b->dims[1] : b->dims[0];
  const size_t N = n->a.trans_b ? b->dims[0] : b->dims[1];
  if (K != Kb) {
    char msg[160];
    snprintf(msg, sizeof msg, "inner dimensions differ (A gives K=%zu, B gives K=%zu)", K, Kb);
    return fail_node(err, n, msg);
  }
  if (c) {
    /* C broadcasts unidirectionally to [M, N]. */
    const size_t cm = c->ndim == 2 ? c->dims[0] : 1;
    const size_t cn = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
    if (c->ndim > 2 || (cm != 1 && cm != M) || (cn != 1 && cn != N))
      return fail_node(err, n, "C does not broadcast to [M, N]");
  }
  const size_t dims[2] = {M, N};
  return qb_value_set_shape(qb_out(m, n, 0), 2, dims, n, err);
}

/* act: a fused Relu / Clip (NULL: none), applied to each value in the alpha / C pass
 * once it is final; out: node n's output, or the fused activation's. */
static void run_gemm(const qb_model* m, const qb_node* n, const float* const* in,
                     const qb_f32_act* act, float* out) {
  const qb_value *a = qb_in(m, n, 0), *b = qb_in(m, n, 1), *c = qb_in(m, n, 2);
  const qb_value* y = &m->values[n->out[0]];
  const size_t M = y->dims[0], N = y->dims[1];
  const size_t K = n->a.trans_a ? a->dims[0] : a->dims[1];
  const size_t sa_i = n->a.trans_a ? 1 : a->dims[1], sa_k = n->a.trans_a ? a->dims[1] : 1;
  const size_t sb_k = n->a.trans_b ? 1 : b->dims[1], sb_j = n->a.trans_b ? b->dims[1] : 1;
  qb_f32_node_gemm(m, (size_t)(n - m->nodes), M, N, K, in[0], sa_i, sa_k, in[1], sb_k, sb_j, out,
                   N);
  const float alpha = n->a.alpha, beta = n->a.beta;
  const size_t cm = c && c->ndim == 2 ? c->dims[0] : 1;
  const size_t cn = c && c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
  for (size_t i = 0; i < M; i++) {
    for (size_t j = 0; j < N; j++) {
      float v = out[i * N + j];
      if (alpha != 1.0f) v *= alpha;
      if (c) {
        const float cv = in[2][(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
        v += beta == 1.0f ? cv : beta * cv;
      }
      if (act) v = act->op == QB_OP_RELU ? qb_f32_relu(v) : qb_f32_clip(v, act->lo, act->hi);
      out[i * N + j] = v;
    }
  }
}

/* ---------------------------------------------------------------- MatMul */

/* numpy matmul: 1-D A is [1, K] (then dropped), 1-D B is [K, 1] (then dropped);
 * batch dimensions broadcast. */
typedef struct {
  size_t M, K, N;
  int nb;                     /* batch rank of the output */
  size_t bdims[QB_MAX_DIMS];  /* output batch dims */
  size_t astr[QB_MAX_DIMS], bstr[QB_MAX_DIMS]; /* batch strides in matrices (0: broadcast) */
} matmul_geom;

static int matmul_geometry(const qb_value* a, const qb_value* b, matmul_geom* g, int* ndim,
                           size_t* dims) {
  if (a->ndim < 1 || b->ndim < 1) return -1;
  const size_t M = a->ndim == 1 ? 1 : a->dims[a->ndim - 2];
  const size_t K = a->dims[a->ndim - 1];
  const size_t Kb = b->ndim == 1 ? b->dims[0] : b->dims[b->ndim - 2];
  const size_t N = b->ndim == 1 ? 1 : b->dims[b->ndim - 1];
  if (K != Kb) return -1;
  const int ra = a->ndim > 2 ? a->ndim - 2 : 0, rb = b->ndim > 2 ? b->ndim - 2 : 0;
  const int nb = ra > rb ? ra : rb;
  g->M = M, g->K = K, g->N = N, g->nb = nb;
  size_t sa = 1, sb = 1;
  for (int i = nb - 1; i >= 0; i--) {
    const int ia = i - (nb - ra), ib = i - (nb - rb);
    const size_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) return -1;
    g->bdims[i] = da > db ? da : db;
    g->astr[i] = da == 1 ? 0 : sa;
    g->bstr[i] = db == 1 ? 0 : sb;
    sa *= da, sb *= db;
  }
  int nd = 0;
  for (int i = 0; i < nb; i++) dims[nd++] = g->bdims[i];
  if (a->ndim > 1) dims[nd++] = M;
  if (b->ndim > 1) dims[nd++] = N;
  *ndim = nd;
  return 0;
}

static int infer_matmul(qb_model* m, qb_node* n, qb_error* err) {
  matmul_geom g;
  int nd;
  size_t dims[QB_MAX_DIMS + 2];
  if (matmul_geometry(qb_in(m, n, 0), qb_in(m, n, 1), &g, &nd, dims))
    return fail_node(err, n, "shapes are not compatible for matrix multiplication");
  return qb_value_set_shape(qb_out(m, n, 0), nd, dims, n, err);
}

static void run_matmul(const qb_model* m, const qb_node* n, const float* const* in) {
  matmul_geom g;
  int nd;
  size_t dims[QB_MAX_DIMS + 2];
  matmul_geometry(qb_in(m, n, 0), qb_in(m, n, 1), &g, &nd, dims);
  size_t nbatch = 1;
  for (int i = 0; i < g.nb; i++) nbatch *= g.bdims[i];
  float* y = m->values[n->out[0]].data;
  const size_t k = (size_t)(n - m->nodes);
  bool b_shared = true; /* one B for every batch: the batches are rows of one GEMM */
  for (int i = 0; i < g.nb; i++) b_shared = b_shared && g.bstr[i] == 0;
  if (b_shared) {
    qb_f32_node_gemm(m, k, nbatch * g.M, g.N, g.K, in[0], g.K, 1, in[1], g.N, 1, y, g.N);
    return;
  }
  for (size_t bi = 0; bi < nbatch; bi++) {
    size_t rem = bi, ia = 0, ib = 0;
    for (int i = g.nb - 1; i >= 0; i--) {
      const size_t c = rem % g.bdims[i];
      rem /= g.bdims[i];
      ia += c * g.astr[i], ib += c * g.bstr[i];
    }
    qb_f32_node_gemm(m, k, g.M, g.N, g.K, in[0] + ia * g.M * g.K, g.K, 1, in[1] + ib * g.K * g.N,
                     g.N, 1, y + bi * g.M * g.N, g.N);
  }
}

/* ------------------------------------------------------------ Conv / pool */

/* Output size along one axis; resolves SAME padding into pads[begin], pads[end]. */
static int64_t spatial_out(int64_t in, int64_t k, int64_t s, int64_t d, int auto_pad,
                           int64_t* pb, int64_t* pe, bool ceil_mode) {
  const int64_t ek = (k - 1) * d + 1;
  if (auto_pad) {
    const int64_t out = (in + s - 1) / s;
    int64_t total = (out - 1) * s + ek - in;
    if (total < 0) total = 0;
    *pb = auto_pad == 1 ? total / 2 : total - total / 2;
    *pe = total - *pb;
    return out;
  }
  const int64_t span = in + *pb + *pe - ek;
  if (span < 0) return -1;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  /* The last window must start inside the input or the begin padding. */
  if (ceil_mode && (out - 1) * s >= in + *pb) out--;
  return out;
}

/* Fills a conv shape from an NCHW input and the node's resolved attributes. */
static void conv_shape_of(const qb_value* x, const qb_node* n, size_t cout, size_t kh, size_t kw,
                          qb_conv2d_shape* s) {
  memset(s, 0, sizeof *s);
  s->batch = x->dims[0], s->in_channels = x->dims[1], s->in_h = x->dims[2], s->in_w = x->dims[3];
  s->out_channels = cout, s->kernel_h = kh, s->kernel_w = kw;
  s->stride_h = (size_t)n->a.strides[0], s->stride_w = (size_t)n->a.strides[1];
  s->dilation_h = (size_t)n->a.dilations[0], s->dilation_w = (size_t)n->a.dilations[1];
  s->pad_top = (size_t)n->a.pads[0], s->pad_left = (size_t)n->a.pads[1];
  s->pad_bottom = (size_t)n->a.pads[2], s->pad_right = (size_t)n->a.pads[3];
  s->groups = n->op == QB_OP_CONV ? (size_t)n->a.group : 1;
}

void qb_node_conv_shape(const qb_model* m, const qb_node* n, qb_conv2d_shape* s) {
  const qb_value *x = qb_in(m, n, 0), *w = qb_in(m, n, 1);
  conv_shape_of(x, n, w->dims[0], w->dims[2], w->dims[3], s);
}

/* `window` = multiply-adds (or compares) per output element: kh * kw, times the
 * group's input channels for Conv. A node may do at most QB_MODEL_MAX_NODE_WORK of
 * them per sample: a 152-byte model must not ask for a 2000x2000 pool over a padded
 * 28x28 input (10^13 operations) and hang the run. */
static int infer_spatial(qb_model* m, qb_node* n, size_t cout, size_t window, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  size_t dims[4] = {x->dims[0], cout, 0, 0};
  for (int i = 0; i < 2; i++) {
    const int64_t o = spatial_out((int64_t)x->dims[2 + i], n->a.kernel[i], n->a.strides[i],
                                  n->a.dilations[i], n->a.auto_pad, &n->a.pads[i],
                                  &n->a.pads[2 + i], n->a.ceil_mode != 0);
    if (o < 1) return fail_node(err, n, "the kernel is larger than the padded input");
    dims[2 + i] = (size_t)o;
  }
  const double work = (double)cout * (double)dims[2] * (double)dims[3] * (double)window;
  if (work > (double)QB_MODEL_MAX_NODE_WORK) {
    char msg[160];
    snprintf(msg, sizeof msg, "%.3g operations per sample exceed the limit of 2^30 (kernel, "
             "padding or input too large)", work);
    return fail_node(err, n, msg);
  }
  return qb_value_set_shape(qb_out(m, n, 0), 4, dims, n, err);
}

static int infer_conv(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value *x = qb_in(m, n, 0), *w = qb_in(m, n, 1), *b = qb_in(m, n, 2);
  if (x->ndim != 4 || w->ndim != 4) return fail_node(err, n, "only 2-D convolution (NCHW input, 4-D weight) is supported");
  const size_t g = (size_t)n->a.group;
  if (x->dims[1] % g || w->dims[0] % g || w->dims[1] * g != x->dims[1])
    return fail_node(err, n, "channels do not match: weight dims[1] * group must equal input channels and group must divide output channels");
  if ((n->a.kernel[0] && (size_t)n->a.kernel[0] != w->dims[2]) ||
      (n->a.kernel[1] && (size_t)n->a.kernel[1] != w->dims[3]))
    return fail_node(err, n, "kernel_shape does not match the weight");
  n->a.kernel[0] = (int64_t)w->dims[2], n->a.kernel[1] = (int64_t)w->dims[3];
  if (b && (b->ndim != 1 || b->dims[0] != w->dims[0]))
    return fail_node(err, n, "bias must be 1-D with one value per output channel");
  return infer_spatial(m, n, w->dims[0], w->dims[1] * w->dims[2] * w->dims[3], err);
}

static void run_conv(const qb_model* m, const qb_node* n, const float* const* in,
                     const qb_f32_act* act, float* out) {
  qb_conv2d_shape s;
  qb_node_conv_shape(m, n, &s);
  qb_f32_conv(m, &s, in[0], in[1], in[2], act, out);
}

static int infer_pool(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  if (x->ndim != 4) return fail_node(err, n, "only 2-D pooling (NCHW input) is supported");
  /* As the ONNX spec and onnxruntime: a window made only of padding has no value. */
  for (int i = 0; i < 2; i++)
    if (n->a.pads[i] >= n->a.kernel[i] || n->a.pads[2 + i] >= n->a.kernel[i])
      return fail_node(err, n, "pads must be smaller than kernel_shape");
  return infer_spatial(m, n, x->dims[1], (size_t)(n->a.kernel[0] * n->a.kernel[1]), err);
}

/* Taps k of one axis whose input index o*stride + k*dilation - pad lies inside the
 * input: [*lo, *hi) (the index grows with k, so they are contiguous); *in_pad: how
 * many lie inside the input or its explicit padding [-pad, in + pad_end). */
static void tap_range(size_t o, size_t stride, size_t dilation, size_t pad, size_t pad_end,
                      size_t in, size_t k, size_t* lo, size_t* hi, size_t* in_pad) {
  *lo = k, *hi = k, *in_pad = 0;
  for (size_t t = 0; t < k; t++) {
    const ptrdiff_t i = (ptrdiff_t)(o * stride + t * dilation) - (ptrdiff_t)pad;
    *in_pad += i >= -(ptrdiff_t)pad && i < (ptrdiff_t)(in + pad_end);
    if (i < 0 || i >= (ptrdiff_t)in) continue;
    if (*lo == k) *lo = t;
    *hi = t + 1;
  }
}

/* Each window visits its taps inside the input in (ky, kx) order, as ONNX does;
 * the tap ranges per output row / column are found once, not per tap. */
/* MaxPool with every window inside the input (qb_pool_windows_inside): no tap
 * clipping per output; the general loop's comparison order and form, so the same
 * results. */
/* 2x2 stride 2, the pool of most CNNs: the general loop's four comparisons in the
 * same order, unrolled (one output row as one loop the compiler vectorizes). */
static void maxpool_2x2s2(const float* restrict r0, const float* restrict r1, size_t ow,
                          float* restrict y) {
  for (size_t ox = 0; ox < ow; ox++) {
    float acc = -INFINITY;
    acc = r0[2 * ox] > acc ? r0[2 * ox] : acc;
    acc = r0[2 * ox + 1] > acc ? r0[2 * ox + 1] : acc;
    acc = r1[2 * ox] > acc ? r1[2 * ox] : acc;
    acc = r1[2 * ox + 1] > acc ? r1[2 * ox + 1] : acc;
    y[ox] = acc;
  }
}

static void maxpool_inside(const qb_conv2d_shape* s, const float* x, size_t oh, size_t ow,
                           float* y) {
  if (s->kernel_h == 2 && s->kernel_w == 2 && s->stride_h == 2 && s->stride_w == 2 &&
      s->dilation_h == 1 && s->dilation_w == 1) {
    for (size_t oy = 0; oy < oh; oy++)
      maxpool_2x2s2(x + 2 * oy * s->in_w, x + (2 * oy + 1) * s->in_w, ow, y + oy * ow);
    return;
  }
  for (size_t oy = 0; oy < oh; oy++)
    for (size_t ox = 0; ox < ow; ox++) {
      const float* w = x + oy * s->stride_h * s->in_w + ox * s->stride_w;
      float acc = -INFINITY;
      for (size_t ky = 0; ky < s->kernel_h; ky++)
        for (size_t kx = 0; kx < s->kernel_w; kx++) {
          const float v = w[ky * s->in_w + kx];
          acc = v > acc ? v : acc;
        }
      y[oy * ow + ox] = acc;
    }
}

static void run_pool(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value* xv = qb_in(m, n, 0);
  const qb_value* yv = &m->values[n->out[0]];
  qb_conv2d_shape s;
  conv_shape_of(xv, n, xv->dims[1], (size_t)n->a.kernel[0], (size_t)n->a.kernel[1], &s);
  const size_t oh = yv->dims[2], ow = yv->dims[3];
  const bool is_max = n->op == QB_OP_MAXPOOL;
  const bool inside = is_max && qb_pool_windows_inside(&s, oh, ow);
  for (size_t bc = 0; bc < s.batch * s.in_channels; bc++) {
    const float* x = in[0] + bc * s.in_h * s.in_w;
    float* y = yv->data + bc * oh * ow;
    if (inside) {
      maxpool_inside(&s, x, oh, ow, y);
      continue;
    }
    for (size_t oy = 0; oy < oh; oy++) {
      size_t ky0, ky1, ny_pad;
      tap_range(oy, s.stride_h, s.dilation_h, s.pad_top, s.pad_bottom, s.in_h, s.kernel_h, &ky0,
                &ky1, &ny_pad);
      for (size_t ox = 0; ox < ow; ox++) {
        size_t kx0 = 0, kx1 = s.kernel_w, nx_pad = s.kernel_w;
        const size_t first = ox * s.stride_w, last = first + (s.kernel_w - 1) * s.dilation_w;
        if (first < s.pad_left || last >= s.in_w + s.pad_left) /* not the whole window inside */
          tap_range(ox, s.stride_w, s.dilation_w, s.pad_left, s.pad_right, s.in_w, s.kernel_w, &kx0,
                    &kx1, &nx_pad);
        /* First input column of the window inside the input (>= 0 when there is one). */
        const size_t ix = (size_t)((ptrdiff_t)(ox * s.stride_w + kx0 * s.dilation_w) - (ptrdiff_t)s.pad_left);
        float acc = is_max ? -INFINITY : 0.0f;
        for (size_t ky = ky0; kx0 < kx1 && ky < ky1; ky++) {
          const size_t iy = (size_t)((ptrdiff_t)(oy * s.stride_h + ky * s.dilation_h) - (ptrdiff_t)s.pad_top);
          const float* row = x + iy * s.in_w + ix;
          for (size_t kx = 0; kx < kx1 - kx0; kx++) {
            const float v = row[kx * s.dilation_w];
            if (is_max) acc = v > acc ? v : acc;
            else acc += v;
          }
        }
        if (!is_max) {
          /* Positions in the explicit padding count for count_include_pad;
           * positions past it (ceil_mode overhang) never do. */
          const size_t count = (ky1 - ky0) * (kx1 - kx0);
          const size_t d = n->a.count_include_pad ? ny_pad * nx_pad : count;
          acc = d ? acc / (float)d : 0.0f;
        }
        y[oy * ow + ox] = acc;
      }
    }
  }
}

static int infer_gap(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  if (x->ndim < 3) return fail_node(err, n, "input must have at least 3 dimensions (N, C, ...)");
  size_t dims[QB_MAX_DIMS];
  for (int i = 0; i < x->ndim; i++) dims[i] = i < 2 ? x->dims[i] : 1;
  return qb_value_set_shape(qb_out(m, n, 0), x->ndim, dims, n, err);
}

static void run_gap(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value* x = qb_in(m, n, 0);
  const size_t nc = x->dims[0] * x->dims[1], hw = nc ? x->numel / nc : 0;
  float* y = m->values[n->out[0]].data;
  /* Each channel's sum is one chain of double adds in j order; GAP_LANES channels'
   * chains run side by side (a lone chain waits on every add's latency: small planes,
   * e.g. dwnet's 128 x 4 x 4, spent most of their time there). Same order per
   * channel, so the same sums. */
  enum { GAP_LANES = 8 };
  size_t i = 0;
  for (; i + GAP_LANES <= nc; i += GAP_LANES) {
    double s[GAP_LANES] = {0};
    for (size_t j = 0; j < hw; j++)
      for (size_t c = 0; c < GAP_LANES; c++) s[c] += in[0][(i + c) * hw + j];
    for (size_t c = 0; c < GAP_LANES; c++) y[i + c] = (float)(s[c] / (double)hw);
  }
  for (; i < nc; i++) {
    double s = 0;
    for (size_t j = 0; j < hw; j++) s += in[0][i * hw + j];
    y[i] = (float)(s / (double)hw);
  }
}

/* ------------------------------------------------------------ BatchNorm */

static int infer_bn(qb_model* m, qb_node* n, qb_error* err) {
  const qb_value* x = qb_in(m, n, 0);
  if (x->ndim < 2) return fail_node(err, n, "input must have at least 2 dimensions (N, C)");
  for (int i = 1; i < 5; i++) {
    const qb_value* p = qb_in(m, n, i);
    if (p->numel != x->dims[1])
      return fail_node(err, n, "scale, B, mean and var must have one value per channel");
  }
  return qb_value_set_shape(qb_out(m, n, 0), x->ndim, x->dims, n, err);
}

static void run_bn(const qb_model* m, const qb_node* n, const float* const* in) {
  const qb_value* x = qb_in(m, n, 0);
  const size_t C = x->dims[1], N = x->dims[0], inner = N * C > 0 ? x->numel / (N * C) : 0;
  float* y = m->values[n->out[0]].data;
  for (size_t b = 0; b < N; b++)
    for (size_t c = 0; c < C; c++) {
      const float scale = in[1][c] / sqrtf(in[4][c] + n->a.epsilon);
      const float* xi = in[0] + (b * C + c) * inner;
      float* yi = y + (b * C + c) * inner;
      for (size_t j = 0; j < inner; j++) yi[j] = (xi[j] - in[3][c]) * scale + in[2][c];
    }
}

/* ------------------------------------------------------------- dispatch */

int qb_ops_nn_infer(qb_model* m, qb_node* n, qb_error* err) {
  switch (n->op) {
    case QB_OP_GEMM: return infer_gemm(m, n, err);
    case QB_OP_MATMUL: return infer_matmul(m, n, err);
    case QB_OP_CONV: return infer_conv(m, n, err);
    case QB_OP_MAXPOOL: case QB_OP_AVGPOOL: return infer_pool(m, n, err);
    case QB_OP_GLOBALAVGPOOL: return infer_gap(m, n, err);
    case QB_OP_BATCHNORM: return infer_bn(m, n, err);
    default: return 1; /* not an nn op */
  }
}

bool qb_ops_nn_run(const qb_model* m, const qb_node* n, const float* const* in) {
  switch (n->op) {
    case QB_OP_GEMM: run_gemm(m, n, in, NULL, m->values[n->out[0]].data); return true;
    case QB_OP_MATMUL: run_matmul(m, n, in); return true;
    case QB_OP_CONV: run_conv(m, n, in, NULL, m->values[n->out[0]].data); return true;
    case QB_OP_MAXPOOL: case QB_OP_AVGPOOL: run_pool(m, n, in); return true;
    case QB_OP_GLOBALAVGPOOL: run_gap(m, n, in); return true;
    case QB_OP_BATCHNORM: run_bn(m, n, in); return true;
    default: return false;
  }
}

void qb_ops_nn_run_fused(const qb_model* m, const qb_node* n, const float* const* in,
                         const qb_node* a) {
  qb_f32_act act = {a->op, 0.0f, INFINITY};
  qb_node_clamp_bounds(m, a, &act.lo, &act.hi); /* true: mark_fusion checked it */
  float* out = m->values[a->out[0]].data;
  if (n->op == QB_OP_GEMM) run_gemm(m, n, in, &act, out);
  else run_conv(m, n, in, &act, out);
}
