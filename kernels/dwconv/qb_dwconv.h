/* SIMD direct depthwise convolution (kernels/dwconv), two families sharing one
 * driver (dwconv/qb_dwconv_plane.h: int16 phase planes, PMADDWD tap pairs or SMLAL,
 * strides 1-2, any kernel / padding / dilation, reference rule for the rest) and
 * one header of vector operations per ISA (dwconv/qb_dwconv_<isa>.h):
 *   qu8_qs8_qs32_dwconv2d             int32 output, all channels
 *                                     (qb_qu8_qs8_qs32_dwconv2d__scalar semantics)
 *   qu8_qs8_qu8_dwconv2d_minmax_fp32  fp32 requantization fused, channels [c0, c1)
 *                                     (qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar);
 *                                     small planes: channels in the lanes instead
 *                                     (dwconv/qb_dwconv_chan.h)
 *   qu8_qs8_qu8_dwconv2d_minmax_gemmlowp  the same with the gemmlowp rule
 *                                     (dwconv/qb_dwconv_gemmlowp.h)
 * Bit for bit equal to the scalar references. */
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

#define QB_DWCONV_GEMMLOWP_ARGS                                                        \
  const qb_conv2d_shape *s, size_t c0, size_t c1, const uint8_t *x, int32_t x_zero_point, \
      const int8_t *w, const int32_t *w_zero_point, const int32_t *bias,                   \
      const qb_fixedpoint_multiplier *multiplier, int32_t y_zero_point, int32_t qmin,      \
      int32_t qmax, uint8_t *y

/* Fused depthwise conv + gemmlowp requantization
 * (qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__scalar semantics): the same
 * accumulation, blocks of accumulators requantized by the backend's gemmlowp
 * requantize kernel while in L1 (dwconv/qb_dwconv_gemmlowp.h). */
#if defined(__x86_64__) || defined(__i386__)
void qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__sse41(QB_DWCONV_GEMMLOWP_ARGS);
void qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__avx2(QB_DWCONV_GEMMLOWP_ARGS);
void qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__avx512vnni(QB_DWCONV_GEMMLOWP_ARGS);
#endif
#if defined(__aarch64__)
void qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__neon(QB_DWCONV_GEMMLOWP_ARGS);
#endif

#define QB_DWCONV_S32_ARGS                                                            \
  const qb_conv2d_shape *s, const uint8_t *x, int32_t x_zero_point, const int8_t *w, \
      const int32_t *w_zero_point, int32_t *out
#if defined(__x86_64__) || defined(__i386__)
void qb_qu8_qs8_qs32_dwconv2d__sse41(QB_DWCONV_S32_ARGS);
void qb_qu8_qs8_qs32_dwconv2d__avx2(QB_DWCONV_S32_ARGS);
void qb_qu8_qs8_qs32_dwconv2d__avx512vnni(QB_DWCONV_S32_ARGS);
#endif
#if defined(__aarch64__)
void qb_qu8_qs8_qs32_dwconv2d__neon(QB_DWCONV_S32_ARGS);
#endif

#ifdef __cplusplus
}
#endif
#endif /* QB_DWCONV_H */
