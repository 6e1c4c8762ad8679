/* fp32 depthwise conv, compiled with the avx2 flags (vectorized along x; semantics
 * and bits of the reference, see qb_f32_dwconv2d.h). */
#include "qb_f32_dwconv2d.h"

void qb_f32_dwconv2d__avx2(const qb_conv2d_shape* s, size_t c0, size_t c1, const float* x,
                           const float* w, float* y) {
  qb_f32_dwconv2d_channels(s, c0, c1, x, w, y);
}
