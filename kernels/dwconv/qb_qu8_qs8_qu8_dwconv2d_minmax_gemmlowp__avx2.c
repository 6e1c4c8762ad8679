/* Depthwise conv qu8 x qs8 -> qu8 with the gemmlowp requantization fused,
 * AVX2 (the fp32 rule's accumulation: 16 outputs or 16 channels per step, VPMADDWD tap pairs).
 * Method and exactness: dwconv/qb_dwconv_gemmlowp.h; the requantization is
 * qb_qs32_qu8_requantize_gemmlowp__avx2 on blocks of accumulators in L1. */
#include "dwconv/qb_dwconv.h"
#include "dwconv/qb_dwconv_avx2.h"
#include "dwconv/qb_dwconv_plane.h"
#include "dwconv/qb_dwconv_chan_avx2.h"
#include "requantize/qb_requantize.h"
#define DW_REQUANT_GEMMLOWP qb_qs32_qu8_requantize_gemmlowp__avx2
#include "dwconv/qb_dwconv_gemmlowp.h"

void qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__avx2(QB_DWCONV_GEMMLOWP_ARGS) {
  dg_run_qu8(s, c0, c1, x, x_zero_point, w, w_zero_point, bias, multiplier, y_zero_point, qmin,
             qmax, y);
}
