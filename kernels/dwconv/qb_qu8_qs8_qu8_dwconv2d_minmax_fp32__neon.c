/* Depthwise conv qu8 x qs8 -> qu8 with fused fp32 requantization, ARMv8.0 Advanced
 * SIMD: 8 outputs per step, per tap pair four SMLAL (int16 x int16 -> int32, exact).
 * Method, exactness and the shapes it covers: dwconv/qb_dwconv_plane.h; the
 * requantization is the reference fp32 rule (FCVTNS rounds half to even).
 * Small planes (up to 16x16 outputs, multiplier 1) take the channels-in-lanes method
 * instead: dwconv/qb_dwconv_chan.h. */
#include "dwconv/qb_dwconv.h"
#include "dwconv/qb_dwconv_neon.h"
#include "dwconv/qb_dwconv_plane.h"
#include "dwconv/qb_dwconv_chan_neon.h"
#include "dwconv/qb_dwconv_chan.h"

void qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__neon(const qb_conv2d_shape* s, size_t c0, size_t c1,
                                               const uint8_t* x, int32_t x_zero_point,
                                               const int8_t* w, const int32_t* w_zero_point,
                                               const int32_t* bias, const float* scale,
                                               int32_t y_zero_point, int32_t qmin, int32_t qmax,
                                               uint8_t* y) {
  dc_run_qu8(s, c0, c1, x, x_zero_point, w, w_zero_point, bias, scale, y_zero_point, qmin, qmax, y);
}
