/* Depthwise conv driver shared by the x86 and Arm files (static inline, compiled under each
 * file's ISA flags). The including file defines DW_LANES, dw_vi, and
 *   dw_zero(), dw_set1(v), dw_load_u8(const uint8_t*) (DW_LANES bytes -> int32),
 *   dw_madd(acc, x_minus_zp, w_minus_zp), dw_sub(a, b), dw_store(int32_t*, v)
 *   QB_DWCONV_KERNEL   the kernel's name.
 * Method: dwconv/qb_dwconv.h. */
#ifndef QB_DWCONV_DRIVER_H
#define QB_DWCONV_DRIVER_H

#include "dwconv/qb_dwconv.h"

typedef struct {
  const qb_conv2d_shape* s;
  const uint8_t* plane; /* this channel's input plane */
  const int8_t* wk;     /* this channel's kernel_h x kernel_w taps */
  int32_t x_zp, w_zp;
} dw_channel;

/* Input row of tap kh for output row oh, or -1 in the padding (the reference's tap()). */
static inline ptrdiff_t dw_in_row(const qb_conv2d_shape* s, size_t oh, size_t kh) {
  const ptrdiff_t i = (ptrdiff_t)(oh * s->stride_h + kh * s->dilation_h) - (ptrdiff_t)s->pad_top;
  return (i < 0 || i >= (ptrdiff_t)s->in_h) ? -1 : i;
}

/* One output, exactly as the reference computes it. */
static inline int32_t dw_one(const dw_channel* c, size_t oh, size_t ow) {
  const qb_conv2d_shape* s = c->s;
  int32_t acc = 0;
  for (size_t kh = 0; kh < s->kernel_h; kh++) {
    const ptrdiff_t ih = dw_in_row(s, oh, kh);
    if (ih < 0) continue;
    for (size_t kw = 0; kw < s->kernel_w; kw++) {
      const ptrdiff_t iw = (ptrdiff_t)(ow * s->stride_w + kw * s->dilation_w) - (ptrdiff_t)s->pad_left;
      if (iw < 0 || iw >= (ptrdiff_t)s->in_w) continue;
      acc += ((int32_t)c->plane[(size_t)ih * s->in_w + (size_t)iw] - c->x_zp) *
             ((int32_t)c->wk[kh * s->kernel_w + kw] - c->w_zp);
    }
  }
  return acc;
}

/* DW_LANES outputs ow0.. of row oh whose taps all lie inside the row (stride_w 1). */
static inline void dw_block(const dw_channel* c, size_t oh, size_t ow0, int32_t* out) {
  const qb_conv2d_shape* s = c->s;
  const dw_vi x_zp = dw_set1(c->x_zp);
  dw_vi acc = dw_zero();
  for (size_t kh = 0; kh < s->kernel_h; kh++) {
    const ptrdiff_t ih = dw_in_row(s, oh, kh);
    if (ih < 0) continue;
    const uint8_t* row = c->plane + (size_t)ih * s->in_w + ow0 - s->pad_left;
    for (size_t kw = 0; kw < s->kernel_w; kw++) {
      const dw_vi xv = dw_sub(dw_load_u8(row + kw * s->dilation_w), x_zp);
      acc = dw_madd(acc, xv, dw_set1((int32_t)c->wk[kh * s->kernel_w + kw] - c->w_zp));
    }
  }
  dw_store(out, acc);
}

void QB_DWCONV_KERNEL(const qb_conv2d_shape* s, const uint8_t* x, int32_t x_zero_point,
                      const int8_t* w, const int32_t* w_zero_point, int32_t* out) {
  if (s->stride_w != 1) {
    qb_qu8_qs8_qs32_dwconv2d__scalar(s, x, x_zero_point, w, w_zero_point, out);
    return;
  }
  const size_t oh_n = qb_conv2d_out_h(s), ow_n = qb_conv2d_out_w(s);
  const size_t multiplier = s->out_channels / s->in_channels;
  const size_t taps = s->kernel_h * s->kernel_w;
  /* Columns [lo, hi) have every tap inside the row: ow >= pad_left and
   * ow - pad_left + (kernel_w - 1) * dilation_w <= in_w - 1. */
  const ptrdiff_t span = (ptrdiff_t)((s->kernel_w - 1) * s->dilation_w);
  const size_t lo = s->pad_left < ow_n ? s->pad_left : ow_n;
  const ptrdiff_t hi_raw = (ptrdiff_t)s->in_w + (ptrdiff_t)s->pad_left - span;
  const size_t hi = hi_raw < (ptrdiff_t)lo ? lo : ((size_t)hi_raw < ow_n ? (size_t)hi_raw : ow_n);
  for (size_t b = 0; b < s->batch; b++)
    for (size_t oc = 0; oc < s->out_channels; oc++) {
      const dw_channel c = {s, x + (b * s->in_channels + oc / multiplier) * s->in_h * s->in_w,
                            w + oc * taps, x_zero_point, w_zero_point[oc]};
      int32_t* plane_out = out + (b * s->out_channels + oc) * oh_n * ow_n;
      for (size_t oh = 0; oh < oh_n; oh++) {
        int32_t* o = plane_out + oh * ow_n;
        size_t ow = 0;
        for (; ow < lo; ow++) o[ow] = dw_one(&c, oh, ow);
        for (; ow + DW_LANES <= hi; ow += DW_LANES) dw_block(&c, oh, ow, o + ow);
        for (; ow < ow_n; ow++) o[ow] = dw_one(&c, oh, ow);
      }
    }
}

#endif /* QB_DWCONV_DRIVER_H */
