/* Reference quantized 2-D convolution, NCHW, ONNX ConvInteger semantics:
 *
 *   out[b][oc][oh][ow] = sum_{c,kh,kw} (x[b][g*Cg + c][ih][iw] - x_zp) * (w[oc][c][kh][kw] - w_zp[oc])
 *   ih = oh*stride_h - pad_top + kh*dilation_h,  iw = ow*stride_w - pad_left + kw*dilation_w
 *
 * g = oc / (out_channels / groups), Cg = in_channels / groups. Taps outside the image
 * read x_zp (so they contribute exactly zero), which is what im2col's pad value is for.
 * Two references with one definition: im2col (+ the GEMM inner product) and direct
 * depthwise. */
#include "qb_kernels.h"

size_t qb_conv2d_out_h(const qb_conv2d_shape* s) {
  const size_t span = s->dilation_h * (s->kernel_h - 1) + 1;
  const size_t padded = s->in_h + s->pad_top + s->pad_bottom;
  return padded < span ? 0 : (padded - span) / s->stride_h + 1;
}

size_t qb_conv2d_out_w(const qb_conv2d_shape* s) {
  const size_t span = s->dilation_w * (s->kernel_w - 1) + 1;
  const size_t padded = s->in_w + s->pad_left + s->pad_right;
  return padded < span ? 0 : (padded - span) / s->stride_w + 1;
}

/* Input coordinate of a tap, or -1 when it falls into the padding. */
static ptrdiff_t tap(size_t o, size_t stride, size_t pad, size_t k, size_t dilation, size_t in) {
  const ptrdiff_t i = (ptrdiff_t)(o * stride + k * dilation) - (ptrdiff_t)pad;
  return (i < 0 || i >= (ptrdiff_t)in) ? -1 : i;
}

void qb_qu8_im2col_rows__scalar(const qb_conv2d_shape* s, const uint8_t* image, size_t group,
                                uint8_t pad_value, size_t p0, size_t p1, uint8_t* columns) {
  const size_t ow_n = qb_conv2d_out_w(s);
  const size_t cg = s->in_channels / s->groups;
  const size_t kc = cg * s->kernel_h * s->kernel_w;
  for (size_t p = p0; p < p1; p++) {
    const size_t oh = p / ow_n, ow = p % ow_n;
    uint8_t* col = columns + p * kc;
    for (size_t c = 0; c < cg; c++) {
      const uint8_t* plane = image + (group * cg + c) * s->in_h * s->in_w;
      for (size_t kh = 0; kh < s->kernel_h; kh++) {
        const ptrdiff_t ih = tap(oh, s->stride_h, s->pad_top, kh, s->dilation_h, s->in_h);
        for (size_t kw = 0; kw < s->kernel_w; kw++) {
          const ptrdiff_t iw = tap(ow, s->stride_w, s->pad_left, kw, s->dilation_w, s->in_w);
          *col++ = (ih < 0 || iw < 0) ? pad_value : plane[(size_t)ih * s->in_w + (size_t)iw];
        }
      }
    }
  }
}

void qb_qu8_im2col__scalar(const qb_conv2d_shape* s, const uint8_t* image, size_t group,
                           uint8_t pad_value, uint8_t* columns) {
  qb_qu8_im2col_rows__scalar(s, image, group, pad_value, 0,
                             qb_conv2d_out_h(s) * qb_conv2d_out_w(s), columns);
}

#define QB_DEFINE_CONV_IM2COL(NAME, W_T)                                                    \
  void NAME(const qb_conv2d_shape* s, const uint8_t* x, int32_t x_zero_point, const W_T* w, \
            const int32_t* w_zero_point, int32_t* out, uint8_t* scratch) {                  \
    const size_t ohw = qb_conv2d_out_h(s) * qb_conv2d_out_w(s);                             \
    const size_t kc = s->in_channels / s->groups * s->kernel_h * s->kernel_w;               \
    const size_t ocg = s->out_channels / s->groups;                                         \
    for (size_t b = 0; b < s->batch; b++)                                                   \
      for (size_t g = 0; g < s->groups; g++) {                                              \
        qb_qu8_im2col__scalar(s, x + b * s->in_channels * s->in_h * s->in_w, g,             \
                              (uint8_t)x_zero_point, scratch);                              \
        for (size_t o = 0; o < ocg; o++) {                                                  \
          const size_t oc = g * ocg + o;                                                    \
          const W_T* wrow = w + oc * kc;                                                    \
          int32_t* plane = out + (b * s->out_channels + oc) * ohw;                          \
          for (size_t p = 0; p < ohw; p++) {                                                \
            int32_t acc = 0;                                                                \
            for (size_t k = 0; k < kc; k++)                                                 \
              acc += ((int32_t)scratch[p * kc + k] - x_zero_point) *                        \
                     ((int32_t)wrow[k] - w_zero_point[oc]);                                 \
            plane[p] = acc;                                                                 \
          }                                                                                 \
        }                                                                                   \
      }                                                                                     \
  }

QB_DEFINE_CONV_IM2COL(qb_qu8_qs8_qs32_conv2d_im2col__scalar, int8_t)
QB_DEFINE_CONV_IM2COL(qb_qu8_qu8_qs32_conv2d_im2col__scalar, uint8_t)

/* One depthwise output: channel plane `plane`, taps `wk`, weight zero point w_zp. */
static int32_t dwconv_one(const qb_conv2d_shape* s, const uint8_t* plane, int32_t x_zero_point,
                          const int8_t* wk, int32_t w_zp, size_t oh, size_t ow) {
  int32_t acc = 0;
  for (size_t kh = 0; kh < s->kernel_h; kh++) {
    const ptrdiff_t ih = tap(oh, s->stride_h, s->pad_top, kh, s->dilation_h, s->in_h);
    if (ih < 0) continue;
    for (size_t kw = 0; kw < s->kernel_w; kw++) {
      const ptrdiff_t iw = tap(ow, s->stride_w, s->pad_left, kw, s->dilation_w, s->in_w);
      if (iw < 0) continue;
      acc += ((int32_t)plane[(size_t)ih * s->in_w + (size_t)iw] - x_zero_point) *
             ((int32_t)wk[kh * s->kernel_w + kw] - w_zp);
    }
  }
  return acc;
}

void qb_qu8_qs8_qs32_dwconv2d__scalar(const qb_conv2d_shape* s, const uint8_t* x,
                                      int32_t x_zero_point, const int8_t* w,
                                      const int32_t* w_zero_point, int32_t* out) {
  const size_t oh_n = qb_conv2d_out_h(s), ow_n = qb_conv2d_out_w(s);
  const size_t multiplier = s->out_channels / s->in_channels;
  const size_t taps = s->kernel_h * s->kernel_w;
  for (size_t b = 0; b < s->batch; b++)
    for (size_t oc = 0; oc < s->out_channels; oc++) {
      const uint8_t* plane = x + (b * s->in_channels + oc / multiplier) * s->in_h * s->in_w;
      for (size_t oh = 0; oh < oh_n; oh++)
        for (size_t ow = 0; ow < ow_n; ow++)
          out[((b * s->out_channels + oc) * oh_n + oh) * ow_n + ow] =
              dwconv_one(s, plane, x_zero_point, w + oc * taps, w_zero_point[oc], oh, ow);
    }
}

/* The fused kernel is, by definition, the composition of the two references:
 * each output's accumulator is the int32 depthwise reference's (dwconv_one, the
 * function that kernel uses), and it is requantized by calling the fp32
 * requantization reference on that one value (a 1 x 1 matrix whose column is
 * channel oc: bias[oc], scale[oc]). Nothing is re-derived here. */
void qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar(const qb_conv2d_shape* s, size_t c0, size_t c1,
                                                 const uint8_t* x, int32_t x_zero_point,
                                                 const int8_t* w, const int32_t* w_zero_point,
                                                 const int32_t* bias, const float* scale,
                                                 int32_t y_zero_point, int32_t qmin, int32_t qmax,
                                                 uint8_t* y) {
  const size_t oh_n = qb_conv2d_out_h(s), ow_n = qb_conv2d_out_w(s);
  const size_t multiplier = s->out_channels / s->in_channels;
  const size_t taps = s->kernel_h * s->kernel_w;
  for (size_t b = 0; b < s->batch; b++)
    for (size_t oc = c0; oc < c1; oc++) {
      const uint8_t* plane = x + (b * s->in_channels + oc / multiplier) * s->in_h * s->in_w;
      uint8_t* y_plane = y + (b * s->out_channels + oc) * oh_n * ow_n;
      for (size_t oh = 0; oh < oh_n; oh++)
        for (size_t ow = 0; ow < ow_n; ow++) {
          const int32_t acc =
              dwconv_one(s, plane, x_zero_point, w + oc * taps, w_zero_point[oc], oh, ow);
          qb_qs32_qu8_requantize_fp32__scalar(1, 1, &acc, 1, bias ? &bias[oc] : NULL, &scale[oc],
                                              y_zero_point, qmin, qmax, &y_plane[oh * ow_n + ow],
                                              1);
        }
    }
}

/* The gemmlowp-rule fused kernel, by the same definition: dwconv_one's accumulator
 * requantized by the gemmlowp requantization reference (SaturatingRoundingDoubling-
 * HighMul, then RoundingDivideByPOT, kernels/ref/qb_ref_math.h) as a 1 x 1 matrix
 * whose column is channel oc. */
void qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__scalar(
    const qb_conv2d_shape* s, size_t c0, size_t c1, const uint8_t* x, int32_t x_zero_point,
    const int8_t* w, const int32_t* w_zero_point, const int32_t* bias,
    const qb_fixedpoint_multiplier* multiplier, int32_t y_zero_point, int32_t qmin, int32_t qmax,
    uint8_t* y) {
  const size_t oh_n = qb_conv2d_out_h(s), ow_n = qb_conv2d_out_w(s);
  const size_t mult = s->out_channels / s->in_channels;
  const size_t taps = s->kernel_h * s->kernel_w;
  for (size_t b = 0; b < s->batch; b++)
    for (size_t oc = c0; oc < c1; oc++) {
      const uint8_t* plane = x + (b * s->in_channels + oc / mult) * s->in_h * s->in_w;
      uint8_t* y_plane = y + (b * s->out_channels + oc) * oh_n * ow_n;
      for (size_t oh = 0; oh < oh_n; oh++)
        for (size_t ow = 0; ow < ow_n; ow++) {
          const int32_t acc =
              dwconv_one(s, plane, x_zero_point, w + oc * taps, w_zero_point[oc], oh, ow);
          qb_qs32_qu8_requantize_gemmlowp__scalar(1, 1, &acc, 1, bias ? &bias[oc] : NULL,
                                                  &multiplier[oc], y_zero_point, qmin, qmax,
                                                  &y_plane[oh * ow_n + ow], 1);
        }
    }
}
