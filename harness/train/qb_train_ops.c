/* Operator forward / backward passes. See qb_train_ops.h for conventions.
 * The math of each backward pass is written next to it. */
#include "qb_train_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_dispatch.h"
#include "qb_f32_rows.h"
#include "qb_sgemm.h"

/* ------------------------------------------------------------------ dense */

int qb_train_dense_forward(size_t n, size_t in, size_t out, const float* x, const float* W,
                     const float* b, float* y) {
  if (qb_sgemm(0, 1, n, out, in, x, W, y, 0) != 0) return -1;
  if (b)
    for (size_t i = 0; i < n; i++)
      for (size_t o = 0; o < out; o++) y[i * out + o] += b[o];
  return 0;
}

/* dW += dy^T x, db += sum_i dy_i, dx = dy W. */
int qb_train_dense_backward(size_t n, size_t in, size_t out, const float* x, const float* W,
                      const float* dy, float* dx, float* dW, float* db) {
  if (dW && qb_sgemm(1, 0, out, in, n, dy, x, dW, 1) != 0) return -1;
  if (db)
    for (size_t i = 0; i < n; i++)
      for (size_t o = 0; o < out; o++) db[o] += dy[i * out + o];
  if (dx && qb_sgemm(0, 0, n, in, out, dy, W, dx, 0) != 0) return -1;
  return 0;
}

/* ------------------------------------------------------------ convolution */

int qb_train_conv_shape_init(qb_train_conv_shape* s) {
  if (s->stride == 0 || s->kh == 0 || s->kw == 0 || s->h + 2 * s->pad < s->kh ||
      s->w + 2 * s->pad < s->kw)
    return -1;
  if (!(s->groups == 1 || (s->groups == s->cin && s->cin == s->cout))) return -1;
  s->ho = (s->h + 2 * s->pad - s->kh) / s->stride + 1;
  s->wo = (s->w + 2 * s->pad - s->kw) / s->stride + 1;
  return 0;
}

/* col[(c*kh + i)*kw + j][oy*wo + ox] = x[c][oy*stride - pad + i][ox*stride - pad + j]
 * (0 outside the image). */
static void im2col(const qb_train_conv_shape* s, const float* x, float* col) {
  const size_t hw_out = s->ho * s->wo;
  for (size_t c = 0; c < s->cin; c++)
    for (size_t i = 0; i < s->kh; i++)
      for (size_t j = 0; j < s->kw; j++) {
        float* row = col + ((c * s->kh + i) * s->kw + j) * hw_out;
        for (size_t oy = 0; oy < s->ho; oy++) {
          const long iy = (long)(oy * s->stride + i) - (long)s->pad;
          for (size_t ox = 0; ox < s->wo; ox++) {
            const long ix = (long)(ox * s->stride + j) - (long)s->pad;
            row[oy * s->wo + ox] = (iy < 0 || ix < 0 || iy >= (long)s->h || ix >= (long)s->w)
                                       ? 0.0f
                                       : x[(c * s->h + (size_t)iy) * s->w + (size_t)ix];
          }
        }
      }
}

/* The adjoint of im2col: dx[c][iy][ix] += dcol[...] (dx zeroed first). */
static void col2im(const qb_train_conv_shape* s, const float* col, float* x) {
  const size_t hw_out = s->ho * s->wo;
  memset(x, 0, s->cin * s->h * s->w * sizeof *x);
  for (size_t c = 0; c < s->cin; c++)
    for (size_t i = 0; i < s->kh; i++)
      for (size_t j = 0; j < s->kw; j++) {
        const float* row = col + ((c * s->kh + i) * s->kw + j) * hw_out;
        for (size_t oy = 0; oy < s->ho; oy++) {
          const long iy = (long)(oy * s->stride + i) - (long)s->pad;
          if (iy < 0 || iy >= (long)s->h) continue;
          for (size_t ox = 0; ox < s->wo; ox++) {
            const long ix = (long)(ox * s->stride + j) - (long)s->pad;
            if (ix < 0 || ix >= (long)s->w) continue;
            x[(c * s->h + (size_t)iy) * s->w + (size_t)ix] += row[oy * s->wo + ox];
          }
        }
      }
}

/* Depthwise: y[c][oy][ox] = b[c] + sum_{i,j} W[c][i][j] x[c][oy*s-p+i][ox*s-p+j], by the
 * runtime's fp32 depthwise kernel (kernels/f32-dwconv, the best usable backend's). */
static void depthwise_forward(const qb_train_conv_shape* s, const float* x, const float* W,
                              const float* b, float* y) {
  const qb_conv2d_shape cs = {.batch = 1, .in_channels = s->cin, .in_h = s->h, .in_w = s->w,
                              .out_channels = s->cout, .kernel_h = s->kh, .kernel_w = s->kw,
                              .stride_h = s->stride, .stride_w = s->stride,
                              .dilation_h = 1, .dilation_w = 1,
                              .pad_top = s->pad, .pad_left = s->pad, .pad_bottom = s->pad,
                              .pad_right = s->pad, .groups = s->cin};
  qb_dispatch_best()->f32_dwconv2d->run(&cs, 0, s->cin, x, W, y);
  const size_t P = s->ho * s->wo;
  if (b)
    for (size_t c = 0; c < s->cin; c++)
      for (size_t p = 0; p < P; p++) y[c * P + p] += b[c];
}

/* dW[c][i][j] += dy * x at the tap, dx[tap] += dy * W[c][i][j] (dx zeroed first). */
static void depthwise_backward(const qb_train_conv_shape* s, const float* x, const float* W,
                               const float* dy, float* dx, float* dW, float* db) {
  if (dx) memset(dx, 0, s->cin * s->h * s->w * sizeof *dx);
  for (size_t c = 0; c < s->cin; c++) {
    const float* xc = x + c * s->h * s->w;
    const float* wc = W + c * s->kh * s->kw;
    float* dwc = dW ? dW + c * s->kh * s->kw : NULL;
    float* dxc = dx ? dx + c * s->h * s->w : NULL;
    for (size_t oy = 0; oy < s->ho; oy++)
      for (size_t ox = 0; ox < s->wo; ox++) {
        const float g = dy[(c * s->ho + oy) * s->wo + ox];
        if (db) db[c] += g;
        for (size_t i = 0; i < s->kh; i++) {
          const long iy = (long)(oy * s->stride + i) - (long)s->pad;
          if (iy < 0 || iy >= (long)s->h) continue;
          for (size_t j = 0; j < s->kw; j++) {
            const long ix = (long)(ox * s->stride + j) - (long)s->pad;
            if (ix < 0 || ix >= (long)s->w) continue;
            const size_t at = (size_t)iy * s->w + (size_t)ix;
            if (dwc) dwc[i * s->kw + j] += g * xc[at];
            if (dxc) dxc[at] += g * wc[i * s->kw + j];
          }
        }
      }
  }
}

static size_t conv_col_size(const qb_train_conv_shape* s) {
  return s->cin * s->kh * s->kw * s->ho * s->wo;
}

int qb_train_conv2d_forward(const qb_train_conv_shape* s, size_t n, const float* x, const float* W,
                      const float* b, float* y) {
  const size_t in_size = s->cin * s->h * s->w, hw_out = s->ho * s->wo;
  const size_t out_size = s->cout * hw_out, ckk = s->cin * s->kh * s->kw;
  if (s->groups != 1) {
    for (size_t i = 0; i < n; i++) depthwise_forward(s, x + i * in_size, W, b, y + i * out_size);
    return 0;
  }
  float* col = malloc(conv_col_size(s) * sizeof *col);
  if (!col) return -1;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    float* yi = y + i * out_size;
    im2col(s, x + i * in_size, col);
    rc = qb_sgemm(0, 0, s->cout, hw_out, ckk, W, col, yi, 0);
    if (b)
      for (size_t o = 0; o < s->cout; o++)
        for (size_t p = 0; p < hw_out; p++) yi[o * hw_out + p] += b[o];
  }
  free(col);
  return rc;
}

/* Per sample: dW += dy col^T, db += row sums of dy, dcol = W^T dy, dx = col2im(dcol). */
int qb_train_conv2d_backward(const qb_train_conv_shape* s, size_t n, const float* x, const float* W,
                       const float* dy, float* dx, float* dW, float* db) {
  const size_t in_size = s->cin * s->h * s->w, hw_out = s->ho * s->wo;
  const size_t out_size = s->cout * hw_out, ckk = s->cin * s->kh * s->kw;
  if (s->groups != 1) {
    for (size_t i = 0; i < n; i++)
      depthwise_backward(s, x + i * in_size, W, dy + i * out_size, dx ? dx + i * in_size : NULL,
                         dW, db);
    return 0;
  }
  float* col = malloc(conv_col_size(s) * sizeof *col);
  float* dcol = dx ? malloc(conv_col_size(s) * sizeof *dcol) : NULL;
  if (!col || (dx && !dcol)) {
    free(col), free(dcol);
    return -1;
  }
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const float* dyi = dy + i * out_size;
    if (db)
      for (size_t o = 0; o < s->cout; o++)
        for (size_t p = 0; p < hw_out; p++) db[o] += dyi[o * hw_out + p];
    if (dW) {
      im2col(s, x + i * in_size, col);
      rc = qb_sgemm(0, 1, s->cout, ckk, hw_out, dyi, col, dW, 1);
    }
    if (dx && rc == 0) {
      rc = qb_sgemm(1, 0, ckk, hw_out, s->cout, W, dyi, dcol, 0);
      col2im(s, dcol, dx + i * in_size);
    }
  }
  free(col);
  free(dcol);
  return rc;
}

/* ------------------------------------------------------------ activations */

void qb_train_relu_forward(size_t count, const float* x, float* y) {
  for (size_t i = 0; i < count; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void qb_train_relu_backward(size_t count, const float* x, const float* dy, float* dx) {
  for (size_t i = 0; i < count; i++) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

void qb_train_relu6_forward(size_t count, const float* x, float* y) {
  for (size_t i = 0; i < count; i++) y[i] = x[i] < 0.0f ? 0.0f : (x[i] > 6.0f ? 6.0f : x[i]);
}

void qb_train_relu6_backward(size_t count, const float* x, const float* dy, float* dx) {
  for (size_t i = 0; i < count; i++) dx[i] = (x[i] > 0.0f && x[i] < 6.0f) ? dy[i] : 0.0f;
}

/* erf(x / sqrt 2) of x[0..n) into e, with the runtime's Erf (harness/ops/qb_f32_rows.h):
 * the GELU a model trains with is the one its exported graph is evaluated with. */
enum { GELU_CHUNK = 256 };
static void erf_scaled(const float* x, size_t n, float* e) {
  float t[GELU_CHUNK];
  for (size_t i = 0; i < n; i++) t[i] = x[i] * (float)M_SQRT1_2;
  qb_f32_erf(e, t, n);
}

/* In chunks: y may be x. */
void qb_train_gelu_forward(size_t count, const float* x, float* y) {
  float e[GELU_CHUNK];
  for (size_t i0 = 0; i0 < count; i0 += GELU_CHUNK) {
    const size_t n = count - i0 < GELU_CHUNK ? count - i0 : GELU_CHUNK;
    erf_scaled(x + i0, n, e);
    for (size_t i = 0; i < n; i++) y[i0 + i] = 0.5f * x[i0 + i] * (1.0f + e[i]);
  }
}

/* d/dx [0.5 x (1 + erf(x/sqrt2))] = 0.5 (1 + erf(x/sqrt2)) + x phi(x),
 * phi(x) = exp(-x^2/2) / sqrt(2 pi). */
void qb_train_gelu_backward(size_t count, const float* x, const float* dy, float* dx) {
  const float inv_sqrt_2pi = 0.3989422804014327f;
  float e[GELU_CHUNK];
  for (size_t i0 = 0; i0 < count; i0 += GELU_CHUNK) {
    const size_t n = count - i0 < GELU_CHUNK ? count - i0 : GELU_CHUNK;
    erf_scaled(x + i0, n, e);
    for (size_t i = i0; i < i0 + n; i++) {
      const float cdf = 0.5f * (1.0f + e[i - i0]);
      const float pdf = inv_sqrt_2pi * expf(-0.5f * x[i] * x[i]);
      dx[i] = dy[i] * (cdf + x[i] * pdf);
    }
  }
}

/* ---------------------------------------------------------------- pooling */

void qb_train_maxpool2x2_forward(size_t n, size_t c, size_t h, size_t w, const float* x, float* y,
                           uint32_t* argmax) {
  const size_t ho = h / 2, wo = w / 2;
  for (size_t p = 0; p < n * c; p++) {
    const float* xp = x + p * h * w;
    for (size_t oy = 0; oy < ho; oy++)
      for (size_t ox = 0; ox < wo; ox++) {
        uint32_t best = (uint32_t)(2 * oy * w + 2 * ox);
        const uint32_t taps[3] = {best + 1, best + (uint32_t)w, best + (uint32_t)w + 1};
        for (int t = 0; t < 3; t++)
          if (xp[taps[t]] > xp[best]) best = taps[t];
        const size_t o = (p * ho + oy) * wo + ox;
        y[o] = xp[best];
        argmax[o] = best;
      }
  }
}

void qb_train_maxpool2x2_backward(size_t n, size_t c, size_t h, size_t w, const uint32_t* argmax,
                            const float* dy, float* dx) {
  const size_t ho = h / 2, wo = w / 2;
  memset(dx, 0, n * c * h * w * sizeof *dx);
  for (size_t p = 0; p < n * c; p++)
    for (size_t o = 0; o < ho * wo; o++)
      dx[p * h * w + argmax[p * ho * wo + o]] += dy[p * ho * wo + o];
}

void qb_train_gap_forward(size_t n, size_t c, size_t hw, const float* x, float* y) {
  for (size_t p = 0; p < n * c; p++) {
    float acc = 0.0f;
    for (size_t i = 0; i < hw; i++) acc += x[p * hw + i];
    y[p] = acc / (float)hw;
  }
}

void qb_train_gap_backward(size_t n, size_t c, size_t hw, const float* dy, float* dx) {
  for (size_t p = 0; p < n * c; p++) {
    const float g = dy[p] / (float)hw;
    for (size_t i = 0; i < hw; i++) dx[p * hw + i] = g;
  }
}

/* ---------------------------------------------------------- normalization */

int qb_train_batchnorm_train_forward(size_t n, size_t c, size_t hw, const float* x,
                               const float* gamma, const float* beta, float eps,
                               float momentum, float* running_mean, float* running_var,
                               float* y, float* xhat, float* inv_std) {
  const size_t m = n * hw;
  for (size_t ch = 0; ch < c; ch++) {
    /* Two passes in double: mean, then the centred sum of squares (no cancellation). */
    double sum = 0.0, sq = 0.0;
    for (size_t i = 0; i < n; i++)
      for (size_t p = 0; p < hw; p++) sum += x[(i * c + ch) * hw + p];
    const double mean = sum / (double)m;
    for (size_t i = 0; i < n; i++)
      for (size_t p = 0; p < hw; p++) {
        const double d = x[(i * c + ch) * hw + p] - mean;
        sq += d * d;
      }
    const double var = sq / (double)m;
    const float istd = (float)(1.0 / sqrt(var + eps));
    inv_std[ch] = istd;
    for (size_t i = 0; i < n; i++)
      for (size_t p = 0; p < hw; p++) {
        const size_t at = (i * c + ch) * hw + p;
        xhat[at] = (x[at] - (float)mean) * istd;
        y[at] = gamma[ch] * xhat[at] + beta[ch];
      }
    const double unbiased = m > 1 ? sq / (double)(m - 1) : var;
    running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * (float)mean;
    running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * (float)unbiased;
  }
  return 0;
}

void qb_train_batchnorm_eval_forward(size_t n, size_t c, size_t hw, const float* x,
                               const float* gamma, const float* beta, float eps,
                               const float* running_mean, const float* running_var, float* y) {
  for (size_t ch = 0; ch < c; ch++) {
    const float scale = gamma[ch] / sqrtf(running_var[ch] + eps);
    const float shift = beta[ch] - running_mean[ch] * scale;
    for (size_t i = 0; i < n; i++)
      for (size_t p = 0; p < hw; p++) {
        const size_t at = (i * c + ch) * hw + p;
        y[at] = x[at] * scale + shift;
      }
  }
}

/* With M values per channel, y = gamma xhat + beta:
 * dx = gamma inv_std / M (M dy - sum dy - xhat sum(dy xhat)). */
void qb_train_batchnorm_backward(size_t n, size_t c, size_t hw, const float* gamma, const float* xhat,
                           const float* inv_std, const float* dy, float* dx, float* dgamma,
                           float* dbeta) {
  const size_t m = n * hw;
  for (size_t ch = 0; ch < c; ch++) {
    float sum_dy = 0.0f, sum_dy_xhat = 0.0f;
    for (size_t i = 0; i < n; i++)
      for (size_t p = 0; p < hw; p++) {
        const size_t at = (i * c + ch) * hw + p;
        sum_dy += dy[at];
        sum_dy_xhat += dy[at] * xhat[at];
      }
    dgamma[ch] += sum_dy_xhat;
    dbeta[ch] += sum_dy;
    const float k = gamma[ch] * inv_std[ch] / (float)m;
    for (size_t i = 0; i < n; i++)
      for (size_t p = 0; p < hw; p++) {
        const size_t at = (i * c + ch) * hw + p;
        dx[at] = k * ((float)m * dy[at] - sum_dy - xhat[at] * sum_dy_xhat);
      }
  }
}

/* The runtime's LayerNormalization row (harness/ops/qb_f32_rows.h), then xhat for the
 * backward pass from the same mean and 1/std. */
void qb_train_layernorm_forward(size_t rows, size_t d, const float* x, const float* gamma,
                                const float* beta, float eps, float* y, float* xhat, float* inv_std) {
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * d;
    float mean;
    qb_f32_layernorm_row(y + r * d, xr, gamma, beta, d, eps, &mean, &inv_std[r]);
    for (size_t i = 0; i < d; i++) xhat[r * d + i] = (xr[i] - mean) * inv_std[r];
  }
}

/* Per row, with g = dy * gamma: dx = inv_std / d (d g - sum g - xhat sum(g xhat)). */
void qb_train_layernorm_backward(size_t rows, size_t d, const float* gamma, const float* xhat,
                           const float* inv_std, const float* dy, float* dx, float* dgamma,
                           float* dbeta) {
  for (size_t r = 0; r < rows; r++) {
    const float* xr = xhat + r * d;
    const float* dyr = dy + r * d;
    float sum_g = 0.0f, sum_g_xhat = 0.0f;
    for (size_t i = 0; i < d; i++) {
      const float g = dyr[i] * gamma[i];
      sum_g += g;
      sum_g_xhat += g * xr[i];
      dgamma[i] += dyr[i] * xr[i];
      dbeta[i] += dyr[i];
    }
    const float k = inv_std[r] / (float)d;
    for (size_t i = 0; i < d; i++)
      dx[r * d + i] = k * ((float)d * dyr[i] * gamma[i] - sum_g - xr[i] * sum_g_xhat);
  }
}

/* ---------------------------------------------------------------- softmax */

void qb_train_softmax_forward(size_t rows, size_t d, const float* x, float* y) {
  for (size_t r = 0; r < rows; r++) qb_f32_softmax_row(y + r * d, x + r * d, d);
}

/* dx = y (dy - sum(dy y)). */
void qb_train_softmax_backward(size_t rows, size_t d, const float* y, const float* dy, float* dx) {
  for (size_t r = 0; r < rows; r++) {
    float dot = 0.0f;
    for (size_t i = 0; i < d; i++) dot += dy[r * d + i] * y[r * d + i];
    for (size_t i = 0; i < d; i++) dx[r * d + i] = y[r * d + i] * (dy[r * d + i] - dot);
  }
}

/* -------------------------------------------------------------- attention */

int qb_train_attention_forward(size_t n, size_t t, size_t d, size_t heads, const float* q,
                               const float* k, const float* v, float* o, float* probs) {
  const size_t dh = d / heads;
  const float scale = 1.0f / sqrtf((float)dh);
  float* scores = malloc((t * t > 0 ? t * t : 1) * sizeof *scores);
  if (!scores) return -1;
  for (size_t s = 0; s < n; s++)
    for (size_t h = 0; h < heads; h++) {
      const size_t base = s * t * d + h * dh;
      float* p = probs + (s * heads + h) * t * t;
      for (size_t i = 0; i < t; i++)
        for (size_t j = 0; j < t; j++) {
          float acc = 0.0f;
          for (size_t e = 0; e < dh; e++) acc += q[base + i * d + e] * k[base + j * d + e];
          scores[i * t + j] = acc * scale;
        }
      qb_train_softmax_forward(t, t, scores, p);
      for (size_t i = 0; i < t; i++)
        for (size_t e = 0; e < dh; e++) {
          float acc = 0.0f;
          for (size_t j = 0; j < t; j++) acc += p[i * t + j] * v[base + j * d + e];
          o[base + i * d + e] = acc;
        }
    }
  free(scores);
  return 0;
}

/* With S = q k^T scale, P = softmax(S), O = P v:
 * dP = dO v^T, dv = P^T dO, dS = softmax_backward(P, dP), dq = dS k scale,
 * dk = dS^T q scale. */
int qb_train_attention_backward(size_t n, size_t t, size_t d, size_t heads, const float* q,
                           const float* k, const float* v, const float* probs, const float* dout,
                           float* dq, float* dk, float* dv) {
  const size_t dh = d / heads;
  const float scale = 1.0f / sqrtf((float)dh);
  float* ds = malloc(t * t * sizeof *ds);
  if (!ds) return -1;
  for (size_t s = 0; s < n; s++)
    for (size_t h = 0; h < heads; h++) {
      const size_t base = s * t * d + h * dh;
      const float* p = probs + (s * heads + h) * t * t;
      for (size_t i = 0; i < t; i++)
        for (size_t j = 0; j < t; j++) {
          float acc = 0.0f;
          for (size_t e = 0; e < dh; e++) acc += dout[base + i * d + e] * v[base + j * d + e];
          ds[i * t + j] = acc;
        }
      for (size_t j = 0; j < t; j++)
        for (size_t e = 0; e < dh; e++) {
          float acc = 0.0f;
          for (size_t i = 0; i < t; i++) acc += p[i * t + j] * dout[base + i * d + e];
          dv[base + j * d + e] = acc;
        }
      qb_train_softmax_backward(t, t, p, ds, ds);
      for (size_t i = 0; i < t; i++)
        for (size_t e = 0; e < dh; e++) {
          float acc = 0.0f;
          for (size_t j = 0; j < t; j++) acc += ds[i * t + j] * k[base + j * d + e];
          dq[base + i * d + e] = acc * scale;
        }
      for (size_t j = 0; j < t; j++)
        for (size_t e = 0; e < dh; e++) {
          float acc = 0.0f;
          for (size_t i = 0; i < t; i++) acc += ds[i * t + j] * q[base + i * d + e];
          dk[base + j * d + e] = acc * scale;
        }
    }
  free(ds);
  return 0;
}

/* ----------------------------------------------------------------- loss */

float qb_train_softmax_xent(size_t n, size_t classes, const float* logits, const uint8_t* labels,
                      float* dlogits) {
  double loss = 0.0;
  for (size_t i = 0; i < n; i++) {
    const float* l = logits + i * classes;
    float mx = l[0];
    for (size_t c = 1; c < classes; c++) mx = l[c] > mx ? l[c] : mx;
    float sum = 0.0f;
    for (size_t c = 0; c < classes; c++) sum += expf(l[c] - mx);
    const float log_sum = logf(sum);
    loss += (double)(log_sum + mx - l[labels[i]]);
    if (dlogits)
      for (size_t c = 0; c < classes; c++)
        dlogits[i * classes + c] =
            (expf(l[c] - mx - log_sum) - (c == labels[i] ? 1.0f : 0.0f)) / (float)n;
  }
  return (float)(loss / (double)n);
}
