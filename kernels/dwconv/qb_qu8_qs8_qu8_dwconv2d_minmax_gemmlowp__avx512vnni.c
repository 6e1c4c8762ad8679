/* Depthwise conv qu8 x qs8 -> qu8 with the gemmlowp requantization fused,
 * AVX-512 (phase planes in zmm, channels in lanes with the AVX2 file's ymm operations: no logic of its own).
 * Method and exactness: dwconv/qb_dwconv_gemmlowp.h; the requantization is
 * qb_qs32_qu8_requantize_gemmlowp__avx512vnni on blocks of accumulators in L1. */
#include "dwconv/qb_dwconv.h"
#include "dwconv/qb_dwconv_avx512vnni.h"
#include "dwconv/qb_dwconv_plane.h"
#include "dwconv/qb_dwconv_chan_avx2.h"
#include "requantize/qb_requantize.h"
#define DW_REQUANT_GEMMLOWP qb_qs32_qu8_requantize_gemmlowp__avx512vnni
#include "dwconv/qb_dwconv_gemmlowp.h"

void qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__avx512vnni(QB_DWCONV_GEMMLOWP_ARGS) {
  dg_run_qu8(s, c0, c1, x, x_zero_point, w, w_zero_point, bias, multiplier, y_zero_point, qmin,
             qmax, y);
}
