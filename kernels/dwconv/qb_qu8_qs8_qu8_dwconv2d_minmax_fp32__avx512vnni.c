/* Depthwise conv qu8 x qs8 -> qu8 with fused fp32 requantization, AVX-512 (BW):
 * 32 outputs per step, one VPMADDWD zmm per pair of taps and 16 outputs. Method,
 * exactness and the shapes it covers: dwconv/qb_dwconv_plane.h; the requantization
 * is requantize/qb_requantize.h's exact fp32 rule.
 *
 * Lane order: the unpacks work per 128-bit quarter, so lo holds outputs 0-3, 8-11,
 * 16-19, 24-27 and hi 4-7, 12-15, 20-23, 28-31; VPACKSSDW (per quarter) restores
 * the order for the byte output, a two-source qword permutation for the int32 one.
 * Small planes (up to 16x16 outputs, multiplier 1) take the channels-in-lanes method
 * instead: dwconv/qb_dwconv_chan.h. */
#include "dwconv/qb_dwconv.h"
#include "dwconv/qb_dwconv_avx512vnni.h"
#include "dwconv/qb_dwconv_plane.h"
#include "dwconv/qb_dwconv_chan_avx2.h"
#include "dwconv/qb_dwconv_chan.h"

void qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__avx512vnni(const qb_conv2d_shape* s, size_t c0,
                                                     size_t c1, const uint8_t* x,
                                                     int32_t x_zero_point, const int8_t* w,
                                                     const int32_t* w_zero_point,
                                                     const int32_t* bias, const float* scale,
                                                     int32_t y_zero_point, int32_t qmin,
                                                     int32_t qmax, uint8_t* y) {
  dc_run_qu8(s, c0, c1, x, x_zero_point, w, w_zero_point, bias, scale, y_zero_point, qmin, qmax, y);
}
