/* im2col driver shared by the x86 and Arm files (static inline, compiled under each
 * file's ISA flags). The including file defines
 *   im_transpose16(const uint8_t in[16][16], uint8_t out[16][16])   out[j][i] = in[i][j]
 *   im_load_even16(const uint8_t* p, uint8_t out[16])                out[l] = p[2l], reads p[0..31]
 *   QB_IM2COL_KERNEL   the kernel's name.
 * Method: im2col/qb_im2col.h. */
#ifndef QB_IM2COL_DRIVER_H
#define QB_IM2COL_DRIVER_H

#include <string.h>

#include "im2col/qb_im2col.h"

/* Column segment: the bytes of tap (kh, kw) of `plane` for pixels (oh, ow0 + l), l < 16. */
static inline void im_segment(const qb_conv2d_shape* s, const uint8_t* plane, size_t kh,
                              size_t kw, size_t oh, size_t ow0, uint8_t pad, uint8_t out[16]) {
  const ptrdiff_t ih = (ptrdiff_t)(oh * s->stride_h + kh * s->dilation_h) - (ptrdiff_t)s->pad_top;
  if (ih < 0 || ih >= (ptrdiff_t)s->in_h) {
    memset(out, pad, 16);
    return;
  }
  const uint8_t* row = plane + (size_t)ih * s->in_w;
  const ptrdiff_t iw0 =
      (ptrdiff_t)(ow0 * s->stride_w + kw * s->dilation_w) - (ptrdiff_t)s->pad_left;
  const ptrdiff_t W = (ptrdiff_t)s->in_w;
  if (s->stride_w == 1 && iw0 >= 0 && iw0 + 16 <= W) {
    memcpy(out, row + iw0, 16);
  } else if (s->stride_w == 2 && iw0 >= 0 && iw0 + 32 <= W) {
    im_load_even16(row + iw0, out);
  } else {
    for (size_t l = 0; l < 16; l++) {
      const ptrdiff_t iw = iw0 + (ptrdiff_t)(l * s->stride_w);
      out[l] = (iw < 0 || iw >= W) ? pad : row[iw];
    }
  }
}

void QB_IM2COL_KERNEL(const qb_conv2d_shape* s, const uint8_t* image, size_t group,
                      uint8_t pad_value, size_t p0, size_t p1, uint8_t* columns) {
  const size_t ow_n = qb_conv2d_out_w(s);
  const size_t cg = s->in_channels / s->groups, taps = s->kernel_h * s->kernel_w;
  const size_t K = cg * taps;
  const uint8_t* planes = image + group * cg * s->in_h * s->in_w;
  for (size_t p = p0; p < p1;) {
    const size_t oh = p / ow_n, ow0 = p % ow_n;
    size_t n = ow_n - ow0 < 16 ? ow_n - ow0 : 16;
    if (n > p1 - p) n = p1 - p;
    for (size_t kb = 0; kb < K; kb += 16) {
      const size_t kn = K - kb < 16 ? K - kb : 16;
      uint8_t seg[16][16], rows[16][16];
      if (kn < 16) memset(seg, pad_value, sizeof seg);
      for (size_t i = 0; i < kn; i++) {
        const size_t k = kb + i, c = k / taps, t = k % taps;
        im_segment(s, planes + c * s->in_h * s->in_w, t / s->kernel_w, t % s->kernel_w, oh, ow0,
                   pad_value, seg[i]);
      }
      im_transpose16(seg, rows);
      for (size_t l = 0; l < n; l++) memcpy(columns + (p + l) * K + kb, rows[l], kn);
    }
    p += n;
  }
}

#endif /* QB_IM2COL_DRIVER_H */
