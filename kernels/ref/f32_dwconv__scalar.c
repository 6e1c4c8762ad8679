/* The fp32 depthwise conv reference (spec in f32-dwconv/qb_f32_dwconv2d.h: one
 * multiply and one add per tap, taps in row-major order, padding skipped), compiled
 * without vectorization as the scalar backend. */
#include "f32-dwconv/qb_f32_dwconv2d.h"

void qb_f32_dwconv2d__scalar(const qb_conv2d_shape* s, size_t c0, size_t c1, const float* x,
                             const float* w, float* y) {
  qb_f32_dwconv2d_channels(s, c0, c1, x, w, y);
}
