/* SIMD direct depthwise convolution (kernels/dwconv). Prototype and semantics are the
 * scalar reference's (qb_qu8_qs8_qs32_dwconv2d__scalar, kernels/ref/conv__scalar.c),
 * bit for bit (integer sums in int32, like the reference).
 *
 * Lanes are consecutive output columns of one output row of one channel. For
 * stride_w == 1 the inputs of 4 / 8 / 16 neighbouring outputs under one tap are
 * consecutive bytes, so each tap is one widening load, a subtraction of the input
 * zero point and a 32-bit multiply-add by the broadcast (w - w_zero_point). Columns
 * whose taps reach into the left/right padding, and the last partial block, are
 * computed one by one with the reference's rule; rows of taps in the top/bottom
 * padding are skipped for the whole block. Other horizontal strides take the
 * reference path. The NEON kernel (8 lanes) uses the same driver
 * (dwconv/qb_dwconv_driver.h is plain C over the vector operations). */
#ifndef QB_DWCONV_H
#define QB_DWCONV_H

#include "qb_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QB_DWCONV_FUSED_ARGS                                                                \
  const qb_conv2d_shape *s, size_t c0, size_t c1, const uint8_t *x, int32_t x_zero_point,   \
      const int8_t *w, const int32_t *w_zero_point, const int32_t *bias, const float *scale, \
      int32_t y_zero_point, int32_t qmin, int32_t qmax, uint8_t *y

/* Fused depthwise conv + fp32 requantization (qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar
 * semantics), phase-plane method: dwconv/qb_dwconv_plane.h. */
#if defined(__x86_64__) || defined(__i386__)
void qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__sse41(QB_DWCONV_FUSED_ARGS);
void qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__avx2(QB_DWCONV_FUSED_ARGS);
void qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__avx512vnni(QB_DWCONV_FUSED_ARGS);
#endif
#if defined(__aarch64__)
void qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__neon(QB_DWCONV_FUSED_ARGS);
#endif

#if defined(__x86_64__) || defined(__i386__)
void qb_qu8_qs8_qs32_dwconv2d_1x4__sse41(const qb_conv2d_shape* s, const uint8_t* x,
                                         int32_t x_zero_point, const int8_t* w,
                                         const int32_t* w_zero_point, int32_t* out);
void qb_qu8_qs8_qs32_dwconv2d_1x8__avx2(const qb_conv2d_shape* s, const uint8_t* x,
                                        int32_t x_zero_point, const int8_t* w,
                                        const int32_t* w_zero_point, int32_t* out);
void qb_qu8_qs8_qs32_dwconv2d_1x16__avx512vnni(const qb_conv2d_shape* s, const uint8_t* x,
                                               int32_t x_zero_point, const int8_t* w,
                                               const int32_t* w_zero_point, int32_t* out);
#endif
#if defined(__aarch64__)
void qb_qu8_qs8_qs32_dwconv2d_1x8__neon(const qb_conv2d_shape* s, const uint8_t* x,
                                        int32_t x_zero_point, const int8_t* w,
                                        const int32_t* w_zero_point, int32_t* out);
#endif

#ifdef __cplusplus
}
#endif
#endif /* QB_DWCONV_H */
