/* Depthwise conv qu8 x qs8 -> qu8 with the gemmlowp requantization fused,
 * ARMv8.0 Advanced SIMD (the fp32 rule's accumulation: SMLAL per tap).
 * Method and exactness: dwconv/qb_dwconv_gemmlowp.h; the requantization is
 * qb_qs32_qu8_requantize_gemmlowp__neon on blocks of accumulators in L1. */
#include "dwconv/qb_dwconv.h"
#include "dwconv/qb_dwconv_neon.h"
#include "dwconv/qb_dwconv_plane.h"
#include "dwconv/qb_dwconv_chan_neon.h"
#include "requantize/qb_requantize.h"
#define DW_REQUANT_GEMMLOWP qb_qs32_qu8_requantize_gemmlowp__neon
#include "dwconv/qb_dwconv_gemmlowp.h"

void qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__neon(QB_DWCONV_GEMMLOWP_ARGS) {
  dg_run_qu8(s, c0, c1, x, x_zero_point, w, w_zero_point, bias, multiplier, y_zero_point, qmin,
             qmax, y);
}
