/* Depthwise conv qu8 x qs8 -> qs32, AVX-512: the phase-plane driver of the fused
 * family (dwconv/qb_dwconv_plane.h, vector operations in dwconv/qb_dwconv_avx512vnni.h)
 * with an int32 store instead of the requantization. */
#include "dwconv/qb_dwconv.h"
#include "dwconv/qb_dwconv_avx512vnni.h"
#include "dwconv/qb_dwconv_plane.h"

void qb_qu8_qs8_qs32_dwconv2d__avx512vnni(const qb_conv2d_shape* s, const uint8_t* x,
                                   int32_t x_zero_point, const int8_t* w,
                                   const int32_t* w_zero_point, int32_t* out) {
  dw_run_qs32(s, x, x_zero_point, w, w_zero_point, out);
}
