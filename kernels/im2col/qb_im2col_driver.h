/* im2col driver shared by the x86 and Arm files (static inline, compiled under each
 * file's ISA flags). The including file defines
 *   im_load_even16(const uint8_t* p, uint8_t out[16])                out[l] = p[2l], reads p[0..31]
 *   im_load_shifted16(const uint8_t* p, int delta, int lo, int hi, uint8_t pad, uint8_t out[16])
 *                      out[l] = p[l + delta] for lo <= l < hi, else pad; reads p[0..15]
 *   QB_IM2COL_KERNEL   the kernel's name.
 * Method: im2col/qb_im2col.h. */
#ifndef QB_IM2COL_DRIVER_H
#define QB_IM2COL_DRIVER_H

#include <stdbool.h>
#include <string.h>

#include "im2col/qb_im2col.h"
#include "im2col/qb_u8_transpose16.h"

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
  } else if (s->stride_w == 1 && iw0 > -16 && iw0 < W &&
             (W >= 16 || (size_t)ih * s->in_w + 16 <= s->in_h * s->in_w)) {
    /* Part of the segment is in the row: the 16 bytes nearest to it (from the row's
     * start if it is shorter than 16: the following rows of the plane), shifted
     * into place, pad_value in the lanes outside [0, W). */
    const ptrdiff_t start = iw0 < 0 || W < 16 ? 0 : W - 16;
    const int lo = iw0 < 0 ? (int)-iw0 : 0, hi = iw0 + 16 > W ? (int)(W - iw0) : 16;
    im_load_shifted16(row + start, (int)(iw0 - start), lo, hi, pad, out);
  } else if (s->stride_w == 2 && iw0 >= 0 && iw0 + 32 <= W) {
    im_load_even16(row + iw0, out);
  } else {
    for (size_t l = 0; l < 16; l++) {
      const ptrdiff_t iw = iw0 + (ptrdiff_t)(l * s->stride_w);
      out[l] = (iw < 0 || iw >= W) ? pad : row[iw];
    }
  }
}

/* 1x1, stride 1, no padding: the column matrix is the transpose of the group's
 * cg x HW image, taken 16 pixels x 16 channels at a time (exact-length copies in and
 * out: rows [p0, p1) and nothing else are written). */
static inline bool im_is_pointwise(const qb_conv2d_shape* s) {
  return s->kernel_h == 1 && s->kernel_w == 1 && s->stride_h == 1 && s->stride_w == 1 &&
         s->pad_top == 0 && s->pad_left == 0 && s->pad_bottom == 0 && s->pad_right == 0;
}

static inline void im_pointwise(const qb_conv2d_shape* s, const uint8_t* planes, size_t K,
                                size_t p0, size_t p1, uint8_t* columns) {
  const size_t HW = s->in_h * s->in_w;
  for (size_t p = p0; p < p1; p += 16) {
    const size_t np = p1 - p < 16 ? p1 - p : 16;
    for (size_t k0 = 0; k0 < K; k0 += 16) {
      const size_t nk = K - k0 < 16 ? K - k0 : 16;
      uint8_t in[16][16], out[16][16];
      if (nk < 16) memset(in, 0, sizeof in); /* rows nk.. land in columns never copied */
      for (size_t i = 0; i < nk; i++) memcpy(in[i], planes + (k0 + i) * HW + p, np);
      qb_u8_transpose16((const uint8_t(*)[16])in, out);
      for (size_t l = 0; l < np; l++) memcpy(columns + (p + l) * K + k0, out[l], nk);
    }
  }
}

/* Padded copy: the group's planes with their padding (pad_value) and IM_SPARE more
 * columns per row, so that every segment of stride 1 or 2 is one 16-byte load or the
 * even bytes of one 32-byte load, with no edge case (lanes past the block's pixels
 * read padding or spare bytes, and are never stored). Made once per call when it
 * fits IM_PADDED bytes; false otherwise (stride > 2 or large planes: im_segment). */
enum { IM_PADDED = 16384, IM_SPARE = 32 };
typedef struct {
  size_t ph, pw; /* padded rows, row length */
} im_padded_geom;

static inline bool im_padded_fill(const qb_conv2d_shape* s, const uint8_t* planes, size_t cg,
                                  uint8_t pad, uint8_t* buf, im_padded_geom* g) {
  g->ph = s->pad_top + s->in_h + s->pad_bottom;
  g->pw = s->pad_left + s->in_w + s->pad_right + IM_SPARE;
  if (s->stride_w > 2 || cg * g->ph * g->pw > IM_PADDED) return false;
  memset(buf, pad, cg * g->ph * g->pw);
  for (size_t c = 0; c < cg; c++)
    for (size_t ih = 0; ih < s->in_h; ih++)
      memcpy(buf + (c * g->ph + s->pad_top + ih) * g->pw + s->pad_left,
             planes + (c * s->in_h + ih) * s->in_w, s->in_w);
  return true;
}

/* Offset in the padded copy of column k = (c, kh, kw)'s byte for output pixel (0, 0):
 * made once per call, so a segment's address is one add (every offset is below
 * IM_PADDED, and K < IM_PADDED whenever the copy fits: taps < ph * pw). */
static inline void im_padded_offsets(const qb_conv2d_shape* s, const im_padded_geom* g, size_t K,
                                     uint16_t* off) {
  size_t c = 0, kh = 0, kw = 0;
  for (size_t k = 0; k < K; k++) {
    off[k] = (uint16_t)((c * g->ph + kh * s->dilation_h) * g->pw + kw * s->dilation_w);
    if (++kw == s->kernel_w) {
      kw = 0;
      if (++kh == s->kernel_h) kh = 0, c++;
    }
  }
}

/* The kn segments of columns [kb, kb + kn) for the block's pixels, `at` = the padded
 * copy at output pixel (oh, ow0)'s origin. */
static inline void im_segments_padded(const uint8_t* at, const uint16_t* off, size_t kn,
                                      size_t stride_w, uint8_t seg[16][16]) {
  if (stride_w == 1)
    for (size_t i = 0; i < kn; i++) memcpy(seg[i], at + off[i], 16);
  else
    for (size_t i = 0; i < kn; i++) im_load_even16(at + off[i], seg[i]);
}

static inline void im_segments(const qb_conv2d_shape* s, const uint8_t* planes, size_t kb,
                               size_t kn, size_t oh, size_t ow0, uint8_t pad,
                               uint8_t seg[16][16]) {
  const size_t taps = s->kernel_h * s->kernel_w;
  /* Column kb = (c, kh, kw), then counted up without divisions. */
  size_t c = kb / taps, kh = kb % taps / s->kernel_w, kw = kb % s->kernel_w;
  for (size_t i = 0; i < kn; i++) {
    im_segment(s, planes + c * s->in_h * s->in_w, kh, kw, oh, ow0, pad, seg[i]);
    if (++kw == s->kernel_w) {
      kw = 0;
      if (++kh == s->kernel_h) kh = 0, c++;
    }
  }
}

void QB_IM2COL_KERNEL(const qb_conv2d_shape* s, const uint8_t* image, size_t group,
                      uint8_t pad_value, size_t p0, size_t p1, uint8_t* columns) {
  const size_t ow_n = qb_conv2d_out_w(s);
  const size_t cg = s->in_channels / s->groups, taps = s->kernel_h * s->kernel_w;
  const size_t K = cg * taps;
  const uint8_t* planes = image + group * cg * s->in_h * s->in_w;
  if (im_is_pointwise(s)) {
    im_pointwise(s, planes, K, p0, p1, columns);
    return;
  }
  uint8_t padded_buf[IM_PADDED];
  uint16_t off[IM_PADDED];
  im_padded_geom pg;
  const bool padded = im_padded_fill(s, planes, cg, pad_value, padded_buf, &pg);
  if (padded) im_padded_offsets(s, &pg, K, off);
  for (size_t p = p0; p < p1;) {
    const size_t oh = p / ow_n, ow0 = p % ow_n;
    size_t n = ow_n - ow0 < 16 ? ow_n - ow0 : 16;
    if (n > p1 - p) n = p1 - p;
    const uint8_t* at = padded ? padded_buf + oh * s->stride_h * pg.pw + ow0 * s->stride_w : NULL;
    /* Column blocks last to first: a row's 16-byte store of a short last block
     * spills into the next row's first bytes, which are written afterwards (kb = 0
     * comes last; the next row of this block or the next block's first row), never
     * past row p1 - 1 (end of this call's rows): there the store is exact. */
    for (size_t kb = (K - 1) / 16 * 16;; kb -= 16) {
      const size_t kn = K - kb < 16 ? K - kb : 16;
      uint8_t seg[16][16], rows[16][16];
      if (kn < 16) memset(seg, pad_value, sizeof seg);
      if (padded)
        im_segments_padded(at, off + kb, kn, s->stride_w, seg);
      else
        im_segments(s, planes, kb, kn, oh, ow0, pad_value, seg);
      qb_u8_transpose16(seg, rows); /* im2col/qb_u8_transpose16.h */
      for (size_t l = 0; l < n; l++) {
        uint8_t* dst = columns + (p + l) * K + kb;
        if ((p + l) * K + kb + 16 <= p1 * K)
          memcpy(dst, rows[l], 16);
        else
          memcpy(dst, rows[l], kn);
      }
      if (kb == 0) break;
    }
    p += n;
  }
}

#endif /* QB_IM2COL_DRIVER_H */
