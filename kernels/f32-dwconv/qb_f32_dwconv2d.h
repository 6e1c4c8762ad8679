/* fp32 depthwise 2-D convolution (kernels/f32-dwconv): one input and one output
 * channel per group, NCHW, one image, channels [c0, c1), no bias:
 *   out[c][y][x] = sum over taps (ky, kx) in row-major order, taps in the padding
 *                  skipped: acc = acc + w[c][ky][kx] * in[c][iy][ix], acc from +0,
 * a multiply then an add per tap (the build forbids FMA contraction), which is the
 * order of the im2col + naive GEMM this replaced. Every backend compiles the same
 * C (qb_f32_dwconv2d_channels below) with its own vector width; the per-element
 * order does not depend on it, so every backend gives the reference's bits
 * (tests/kernels/test_f32_dwconv_exact.c). */
#ifndef QB_F32_DWCONV2D_H
#define QB_F32_DWCONV2D_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "qb_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

void qb_f32_dwconv2d__scalar(const qb_conv2d_shape* s, size_t c0, size_t c1, const float* x,
                             const float* w, float* y);
void qb_f32_dwconv2d__avx2(const qb_conv2d_shape* s, size_t c0, size_t c1, const float* x,
                           const float* w, float* y);
void qb_f32_dwconv2d__sse41(const qb_conv2d_shape* s, size_t c0, size_t c1, const float* x,
                            const float* w, float* y);
void qb_f32_dwconv2d__avx512vnni(const qb_conv2d_shape* s, size_t c0, size_t c1, const float* x,
                                 const float* w, float* y);
void qb_f32_dwconv2d__neon(const qb_conv2d_shape* s, size_t c0, size_t c1, const float* x,
                           const float* w, float* y);

/* First output column whose input column x*sw + off is >= 0, and one past the last
 * whose column is < in_w. */
static inline void qb_f32_dwconv2d_valid_x(const qb_conv2d_shape* s, ptrdiff_t off, size_t ow,
                                           size_t* lo, size_t* hi) {
  const ptrdiff_t sw = (ptrdiff_t)s->stride_w;
  const ptrdiff_t first = off >= 0 ? 0 : (-off + sw - 1) / sw;
  const ptrdiff_t last = (ptrdiff_t)s->in_w - 1 - off; /* x*sw <= last */
  *lo = (size_t)first;
  *hi = last < 0 ? 0 : (size_t)(last / sw + 1);
  if (*hi > ow) *hi = ow;
  if (*lo > *hi) *lo = *hi;
}

/* Planes up to QB_F32_DWCONV_PADDED floats: the channel is copied into a
 * zero-padded plane (ph x pw, the padding included) split into sw column phases
 * (phase q holds columns q, q + sw, ...; pws = ceil(pw / sw) wide), so that with
 * the output kept at row stride sh*pws every tap is ONE contiguous multiply-add:
 *   acc[y*sh*pws + x] += w[ky][kx] * phase[(kx*dw) % sw][(sh*y + ky*dh)*pws + x + (kx*dw)/sw]
 * a long loop instead of one short loop per output row (the columns x >= ow of acc
 * are computed and dropped). Padding taps add w*0 = +-0: an accumulator that starts
 * at +0 is never -0 (+0 + -0 = +0), and adding a zero changes no other value, so
 * this gives the bits of skipping them. */
enum { QB_F32_DWCONV_PADDED = 4096 };

/* acc[i] += w * src[i]: a separate, not inlined function with restrict pointers, so
 * the compiler vectorizes it along i (inlined, GCC jammed consecutive taps into one
 * scalar loop instead). */
__attribute__((noinline)) static void qb_f32_dwconv2d_axpy(float* restrict acc, const float* restrict src, float w,
                                        size_t n) {
  for (size_t i = 0; i < n; i++) acc[i] += w * src[i];
}

static inline bool qb_f32_dwconv2d_channel_padded(const qb_conv2d_shape* s, const float* plane,
                                                  const float* w, float* o) {
  const size_t sh = s->stride_h, sw = s->stride_w;
  const size_t ph = s->in_h + s->pad_top + s->pad_bottom, pw = s->in_w + s->pad_left + s->pad_right;
  const size_t pws = (pw + sw - 1) / sw, oh = qb_conv2d_out_h(s), ow = qb_conv2d_out_w(s);
  const size_t len = (oh - 1) * sh * pws + ow;
  if (sw * ph * pws > QB_F32_DWCONV_PADDED || len > QB_F32_DWCONV_PADDED) return false;
  float phase[QB_F32_DWCONV_PADDED], acc[QB_F32_DWCONV_PADDED];
  memset(phase, 0, sw * ph * pws * sizeof *phase);
  for (size_t iy = 0; iy < s->in_h; iy++) {
    const float* src = plane + iy * s->in_w;
    float* row = phase + (iy + s->pad_top) * pws;
    if (sw == 1) {
      memcpy(row + s->pad_left, src, s->in_w * sizeof *row);
      continue;
    }
    /* Padded column pad_left + ix is phase (pad_left + ix) % sw, index / sw. */
    size_t q = s->pad_left % sw, j = s->pad_left / sw;
    for (size_t ix = 0; ix < s->in_w; ix++) {
      row[q * ph * pws + j] = src[ix];
      if (++q == sw) q = 0, j++;
    }
  }
  memset(acc, 0, len * sizeof *acc);
  for (size_t ky = 0; ky < s->kernel_h; ky++)
    for (size_t kx = 0; kx < s->kernel_w; kx++) {
      const float wv = w[ky * s->kernel_w + kx];
      const size_t cx = kx * s->dilation_w;
      const float* src = phase + (cx % sw) * ph * pws + ky * s->dilation_h * pws + cx / sw;
      qb_f32_dwconv2d_axpy(acc, src, wv, len);
    }
  for (size_t oy = 0; oy < oh; oy++) memcpy(o + oy * ow, acc + oy * sh * pws, ow * sizeof *o);
  return true;
}

/* Eight channels at once, for padded planes up to QB_F32_DWCONV_BLOCK_PLANE floats:
 * the channels are transposed into one zero-padded plane of 8-float pixels
 *   buf[(py*pw + px)*8 + l] = channel c + l at padded (py, px)
 * and each output pixel is 8 accumulators (one per channel, a vector on every
 * backend) taking the taps in (ky, kx) order; padding taps add w*0 = +-0, which
 * changes no accumulator (see above). Small planes (MobileNet's later layers: 7x7,
 * 4x4 outputs) are thus vectorized across channels instead of along short rows. */
enum { QB_F32_DWCONV_LANES = 8, QB_F32_DWCONV_BLOCK_PLANE = 1024 };
/* GCC / Clang vector extension: one ymm on AVX2, two xmm on SSE, scalars elsewhere;
 * element-wise IEEE operations on any target. */
typedef float qb_f32x8 __attribute__((vector_size(32)));

static inline bool qb_f32_dwconv2d_block8(const qb_conv2d_shape* s, const float* x, const float* w,
                                          float* y) {
  enum { L = QB_F32_DWCONV_LANES };
  const size_t ph = s->in_h + s->pad_top + s->pad_bottom, pw = s->in_w + s->pad_left + s->pad_right;
  const size_t oh = qb_conv2d_out_h(s), ow = qb_conv2d_out_w(s), taps = s->kernel_h * s->kernel_w;
  if (ph * pw > QB_F32_DWCONV_BLOCK_PLANE || taps > 64) return false;
  float buf[QB_F32_DWCONV_BLOCK_PLANE * L], wt[64 * L];
  memset(buf, 0, ph * pw * L * sizeof *buf);
  for (size_t l = 0; l < L; l++) {
    const float* plane = x + l * s->in_h * s->in_w;
    for (size_t iy = 0; iy < s->in_h; iy++) {
      float* dst = buf + ((iy + s->pad_top) * pw + s->pad_left) * L + l;
      for (size_t ix = 0; ix < s->in_w; ix++) dst[ix * L] = plane[iy * s->in_w + ix];
    }
    for (size_t t = 0; t < taps; t++) wt[t * L + l] = w[l * taps + t];
  }
  /* Four output pixels at a time: four independent add chains hide the add latency. */
  for (size_t oy = 0; oy < oh; oy++)
    for (size_t ox = 0; ox < ow; ox += 4) {
      const size_t n = ow - ox < 4 ? ow - ox : 4, step = (n > 1 ? s->stride_w : 0) * L;
      qb_f32x8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
      const float* px = buf + (oy * s->stride_h * pw + ox * s->stride_w) * L;
      /* Pixels past n repeat pixel 0's position: computed, not stored. */
      const size_t d1 = step, d2 = n > 2 ? 2 * step : 0, d3 = n > 3 ? 3 * step : 0;
      for (size_t ky = 0; ky < s->kernel_h; ky++)
        for (size_t kx = 0; kx < s->kernel_w; kx++) {
          const float* p = px + (ky * s->dilation_h * pw + kx * s->dilation_w) * L;
          qb_f32x8 wv, v0, v1, v2, v3;
          memcpy(&wv, wt + (ky * s->kernel_w + kx) * L, sizeof wv);
          memcpy(&v0, p, sizeof v0), memcpy(&v1, p + d1, sizeof v1);
          memcpy(&v2, p + d2, sizeof v2), memcpy(&v3, p + d3, sizeof v3);
          a0 = a0 + wv * v0, a1 = a1 + wv * v1; /* per lane: a multiply, then an add */
          a2 = a2 + wv * v2, a3 = a3 + wv * v3;
        }
      const qb_f32x8 acc[4] = {a0, a1, a2, a3};
      for (size_t l = 0; l < L; l++)
        for (size_t i = 0; i < n; i++) y[l * oh * ow + oy * ow + ox + i] = acc[i][l];
    }
  return true;
}

/* The implementation every backend compiles: blocks of 8 channels as above when
 * the plane is small, then per channel, the padded plane above
 * when it applies, else taps outer, output rows inner, the valid columns of a row
 * as one contiguous (stride 1) or strided loop the compiler vectorizes along x. */
static inline void qb_f32_dwconv2d_channels(const qb_conv2d_shape* s, size_t c0, size_t c1,
                                            const float* x, const float* w, float* y) {
  const size_t oh = qb_conv2d_out_h(s), ow = qb_conv2d_out_w(s), taps = s->kernel_h * s->kernel_w;
  const size_t plane_in = s->in_h * s->in_w, plane_out = oh * ow;
  while (c1 - c0 >= QB_F32_DWCONV_LANES &&
         qb_f32_dwconv2d_block8(s, x + c0 * plane_in, w + c0 * taps, y + c0 * plane_out))
    c0 += QB_F32_DWCONV_LANES;
  for (size_t c = c0; c < c1; c++) {
    const float* plane = x + c * s->in_h * s->in_w;
    float* o = y + c * oh * ow;
    if (qb_f32_dwconv2d_channel_padded(s, plane, w + c * taps, o)) continue;
    memset(o, 0, oh * ow * sizeof *o);
    for (size_t ky = 0; ky < s->kernel_h; ky++)
      for (size_t kx = 0; kx < s->kernel_w; kx++) {
        const float wv = w[c * taps + ky * s->kernel_w + kx];
        const ptrdiff_t off = (ptrdiff_t)(kx * s->dilation_w) - (ptrdiff_t)s->pad_left;
        size_t lo, hi;
        qb_f32_dwconv2d_valid_x(s, off, ow, &lo, &hi);
        for (size_t oy = 0; oy < oh; oy++) {
          const ptrdiff_t iy = (ptrdiff_t)(oy * s->stride_h + ky * s->dilation_h) - (ptrdiff_t)s->pad_top;
          if (iy < 0 || iy >= (ptrdiff_t)s->in_h || lo == hi) continue;
          /* Column lo*sw + off is the first valid one (>= 0). */
          const float* src = plane + (size_t)iy * s->in_w + (size_t)((ptrdiff_t)(lo * s->stride_w) + off);
          float* dst = o + oy * ow + lo;
          const size_t len = hi - lo, sw = s->stride_w;
          if (sw == 1)
            for (size_t i = 0; i < len; i++) dst[i] += wv * src[i];
          else
            for (size_t i = 0; i < len; i++) dst[i] += wv * src[i * sw];
        }
      }
  }
}

#ifdef __cplusplus
}
#endif
#endif
