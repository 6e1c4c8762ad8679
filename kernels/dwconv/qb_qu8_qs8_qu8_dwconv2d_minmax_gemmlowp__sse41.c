/* Depthwise conv qu8 x qs8 -> qu8 with the gemmlowp requantization fused,
 * SSE4.1 (the fp32 rule's accumulation: 8 outputs or 16 channels per step, PMADDWD tap pairs).
 * Method and exactness: dwconv/qb_dwconv_gemmlowp.h; the requantization is
 * qb_qs32_qu8_requantize_gemmlowp__sse41 on blocks of accumulators in L1. */
#include "dwconv/qb_dwconv.h"
#include "dwconv/qb_dwconv_sse41.h"
#include "dwconv/qb_dwconv_plane.h"
#include "dwconv/qb_dwconv_chan_sse41.h"
#include "requantize/qb_requantize.h"
#define DW_REQUANT_GEMMLOWP qb_qs32_qu8_requantize_gemmlowp__sse41
#include "dwconv/qb_dwconv_gemmlowp.h"

void qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__sse41(QB_DWCONV_GEMMLOWP_ARGS) {
  dg_run_qu8(s, c0, c1, x, x_zero_point, w, w_zero_point, bias, multiplier, y_zero_point, qmin,
             qmax, y);
}
