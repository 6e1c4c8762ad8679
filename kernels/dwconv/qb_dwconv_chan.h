/* Depthwise conv with 16 channels in the vector lanes, for the fused family's small
 * planes (dwnet's 14x14 and 7x7, MobileNet's late layers), where the phase-plane
 * method (dwconv/qb_dwconv_plane.h) spends more on per-channel setup (weights, row
 * conversion, row copies) than on the taps: a 7x7 stride-2 channel has 16 outputs.
 * Static inline, compiled under each including file's ISA flags.
 *
 * Method (NCHW in and out, channel multiplier 1, any kernel up to DW_MAX_TAPS taps,
 * stride, dilation and padding; input and output planes up to DC_PIX pixels):
 * 1. Channels-last buffer. 16 channels' planes, minus the input zero point, become
 *    int16 buf[PH][PW][16] over the padded plane (PH = pad_top + in_h + pad_bottom,
 *    PW likewise): 16 x 16 byte transposes of 16 channels x 16 consecutive pixels
 *    (im2col/qb_u8_transpose16.h), each pixel's 16 bytes widened into its padded
 *    place. Padding holds 0 = x_zp - x_zp, as in the reference; it is written once
 *    per call (every group rewrites the same interior).
 * 2. Taps. Output (oh, ow) under tap (kh, kw) reads the 16 int16 at
 *    buf[oh*sh + kh*dh][ow*sw + kw*dw]: one base per output plus one offset per tap.
 *    Taps go in pairs as in the phase-plane method (an odd last tap paired with itself
 *    under weight 0): the two 16-channel vectors are interleaved and multiplied-added
 *    with the channels' (w_t0 - w_zp, w_t1 - w_zp) pairs into int32 lanes (PMADDWD, or
 *    SMLAL on Arm). Exact for the same reasons (|x - x_zp| <= 255, |w - w_zp| <= 32767,
 *    a pair below 2^24, 64 taps below 2^30).
 * 3. Epilogue. Per output pixel, the 16 channels' fp32 requantization with per-lane
 *    bias and scale, into a pixels x 16 byte tile, transposed back 16 pixels at a time
 *    into the channels' planes (exact-length stores: no byte outside [c0, c1)).
 * Lanes of a last group of fewer than 16 channels compute with weight 0 and are not
 * stored.
 *
 * The including file defines (after dwconv/qb_dwconv_plane.h's operations):
 *   dc_acc, dc_wpair, dc_rq       16 channels' accumulators, tap-pair weights, constants
 *   dc_wpair dc_wpair_load(const int16_t a[16], const int16_t b[16])   weights of two taps
 *   dc_acc dc_acc_zero(void)
 *   dc_acc dc_madd(dc_acc, const int16_t* a, const int16_t* b, const dc_wpair*)
 *                          acc[l] += a[l]*wa[l] + b[l]*wb[l], l < 16 (unaligned loads)
 *   dc_rq dc_rq_load(const int32_t bias[16], const float scale[16], zp, qmin, qmax)
 *   void dc_store_u8(uint8_t y[16], dc_acc, const dc_rq*)   the reference fp32 rule
 *   void dc_widen16(int16_t d[16], const uint8_t s[16], int16_t zp)   d[l] = s[l] - zp */
#ifndef QB_DWCONV_CHAN_H
#define QB_DWCONV_CHAN_H

#include "dwconv/qb_dwconv_plane.h"
#include "im2col/qb_u8_transpose16.h"

enum {
  DC_CH = 16,    /* channels per group: the lanes */
  DC_PIX = 1024, /* largest padded input plane and output plane (rounded up to 16) */
};

typedef struct {
  const qb_conv2d_shape* s;
  size_t ph, pw, oh_n, ow_n, taps, pairs;
  ptrdiff_t off[DW_MAX_TAPS + 1]; /* tap offsets in buf, in int16 */
} dc_geom;

/* False if the method does not apply (see above). */
static inline bool dc_geom_init(dc_geom* g, const qb_conv2d_shape* s, int32_t x_zero_point) {
  g->s = s;
  g->ph = s->pad_top + s->in_h + s->pad_bottom;
  g->pw = s->pad_left + s->in_w + s->pad_right;
  g->oh_n = qb_conv2d_out_h(s);
  g->ow_n = qb_conv2d_out_w(s);
  g->taps = s->kernel_h * s->kernel_w;
  g->pairs = (g->taps + 1) / 2;
  if (s->out_channels != s->in_channels || g->taps == 0 || g->taps > DW_MAX_TAPS ||
      x_zero_point < 0 || x_zero_point > 255 || g->ph * g->pw > DC_PIX ||
      (g->oh_n * g->ow_n + 15) / 16 * 16 > DC_PIX)
    return false;
  for (size_t kh = 0, t = 0; kh < s->kernel_h; kh++)
    for (size_t kw = 0; kw < s->kernel_w; kw++, t++)
      g->off[t] = (ptrdiff_t)((kh * s->dilation_h * g->pw + kw * s->dilation_w) * DC_CH);
  g->off[g->taps] = g->off[g->taps - 1];
  return true;
}

/* True if the planned method is the faster one for this shape: output planes up to
 * 16x16 (measured: qbench bench --conv, dwnet's layers; larger planes keep the
 * phase planes, whose per-channel setup is then small beside the taps). */
static inline bool dc_preferred(const dc_geom* g) { return g->oh_n * g->ow_n <= 256; }

/* Channels [c, c + nc) of one image (planes of in_h x in_w at x) into buf's interior. */
static inline void dc_fill(const dc_geom* g, const uint8_t* x, size_t nc, int16_t zp,
                           int16_t* buf) {
  const qb_conv2d_shape* s = g->s;
  const size_t W = s->in_w, HW = s->in_h * W;
  size_t ih = 0, iw = 0;
  for (size_t f0 = 0; f0 < HW; f0 += 16) {
    uint8_t seg[16][16], rows[16][16];
    const size_t n = HW - f0 < 16 ? HW - f0 : 16;
    for (size_t l = 0; l < DC_CH; l++) {
      if (l >= nc) memset(seg[l], 0, 16);
      else if (n == 16) memcpy(seg[l], x + l * HW + f0, 16);
      else memcpy(seg[l], x + l * HW + f0, n); /* the rest: never read back */
    }
    qb_u8_transpose16((const uint8_t(*)[16])seg, rows);
    for (size_t p = 0; p < n; p++) {
      dc_widen16(buf + ((ih + s->pad_top) * g->pw + iw + s->pad_left) * DC_CH, rows[p], zp);
      if (++iw == W) iw = 0, ih++;
    }
  }
}

/* Every output pixel of the group: PAIRS is a constant for 3x3 (5) and 5x5 (13). */
static inline __attribute__((always_inline)) void dc_taps(const dc_geom* g, const int16_t* buf,
                                                          const dc_wpair* wp, size_t pairs,
                                                          const dc_rq* rq, uint8_t* tile) {
  const qb_conv2d_shape* s = g->s;
  for (size_t oh = 0; oh < g->oh_n; oh++) {
    const int16_t* row = buf + oh * s->stride_h * g->pw * DC_CH;
    for (size_t ow = 0; ow < g->ow_n; ow++, tile += DC_CH) {
      const int16_t* base = row + ow * s->stride_w * DC_CH;
      dc_acc acc = dc_acc_zero();
      for (size_t p = 0; p < pairs; p++)
        acc = dc_madd(acc, base + g->off[2 * p], base + g->off[2 * p + 1], &wp[p]);
      dc_store_u8(tile, acc, rq);
    }
  }
}

/* The tile (pixels x 16 bytes) into the planes of channels [0, nc) at y. */
static inline void dc_store_planes(const dc_geom* g, const uint8_t* tile, size_t nc, uint8_t* y) {
  const size_t P = g->oh_n * g->ow_n;
  for (size_t p0 = 0; p0 < P; p0 += 16) {
    uint8_t rows[16][16];
    qb_u8_transpose16((const uint8_t(*)[16])(const void*)(tile + p0 * DC_CH), rows);
    if (P - p0 >= 16)
      for (size_t l = 0; l < nc; l++) memcpy(y + l * P + p0, rows[l], 16);
    else
      for (size_t l = 0; l < nc; l++) memcpy(y + l * P + p0, rows[l], P - p0);
  }
}

/* The tap pairs of channels [c, c + nc) in lanes, w - w_zp as int16 (lanes past nc
 * and the odd tap's partner zero). */
static inline void dc_weights(const dc_geom* g, const int8_t* w, const int32_t* w_zp, size_t c,
                              size_t nc, dc_wpair* wp) {
  for (size_t p = 0; p < g->pairs; p++) {
    int16_t a[DC_CH] = {0}, b[DC_CH] = {0};
    for (size_t l = 0; l < nc; l++) {
      const int8_t* wk = w + (c + l) * g->taps;
      a[l] = (int16_t)(wk[2 * p] - w_zp[c + l]);
      if (2 * p + 1 < g->taps) b[l] = (int16_t)(wk[2 * p + 1] - w_zp[c + l]);
    }
    wp[p] = dc_wpair_load(a, b);
  }
}

/* Channels [c, c + nc) of one image, every w_zp of them int16-safe (dw_wzp_ok). */
static inline void dc_group(const dc_geom* g, int16_t* buf, uint8_t* tile, const uint8_t* x,
                            int32_t x_zp, const int8_t* w, const int32_t* w_zp,
                            const int32_t* bias, const float* scale, int32_t y_zp, int32_t qmin,
                            int32_t qmax, size_t c, size_t nc, uint8_t* y) {
  const qb_conv2d_shape* s = g->s;
  dc_wpair wp[(DW_MAX_TAPS + 1) / 2];
  dc_weights(g, w, w_zp, c, nc, wp);
  int32_t bq[DC_CH] = {0};
  float sc[DC_CH] = {0};
  for (size_t l = 0; l < nc; l++) bq[l] = bias ? bias[c + l] : 0, sc[l] = scale[c + l];
  const dc_rq rq = dc_rq_load(bq, sc, y_zp, qmin, qmax);
  const size_t in_plane = s->in_h * s->in_w, out_plane = g->oh_n * g->ow_n;
  dc_fill(g, x + c * in_plane, nc, (int16_t)x_zp, buf);
  if (g->pairs == 5)
    dc_taps(g, buf, wp, 5, &rq, tile);
  else if (g->pairs == 13)
    dc_taps(g, buf, wp, 13, &rq, tile);
  else
    dc_taps(g, buf, wp, g->pairs, &rq, tile);
  dc_store_planes(g, tile, nc, y + c * out_plane);
}

/* The fused family's entry when it includes this method: channels [c0, c1) of every
 * image in groups of 16 where the method applies and is preferred, else the phase
 * planes (dw_run_qu8; per group when a weight zero point is not int16-safe). */
static inline void dc_run_qu8(const qb_conv2d_shape* s, size_t c0, size_t c1, const uint8_t* x,
                              int32_t x_zp, const int8_t* w, const int32_t* w_zp,
                              const int32_t* bias, const float* scale, int32_t y_zp, int32_t qmin,
                              int32_t qmax, uint8_t* y) {
  dc_geom g;
  if (!dc_geom_init(&g, s, x_zp) || !dc_preferred(&g)) {
    dw_run_qu8(s, c0, c1, x, x_zp, w, w_zp, bias, scale, y_zp, qmin, qmax, y);
    return;
  }
  int16_t buf[DC_PIX * DC_CH];
  uint8_t tile[DC_PIX * DC_CH];
  memset(buf, 0, g.ph * g.pw * DC_CH * sizeof *buf);
  qb_conv2d_shape one = *s;
  one.batch = 1;
  const size_t C = s->out_channels;
  const size_t in_image = C * s->in_h * s->in_w, out_image = C * g.oh_n * g.ow_n;
  for (size_t b = 0; b < s->batch; b++)
    for (size_t c = c0; c < c1; c += DC_CH) {
      const size_t nc = c1 - c < DC_CH ? c1 - c : DC_CH;
      bool ok = true;
      for (size_t l = 0; l < nc; l++) ok = ok && dw_wzp_ok(w_zp[c + l]);
      const uint8_t* xb = x + b * in_image;
      uint8_t* yb = y + b * out_image;
      if (ok)
        dc_group(&g, buf, tile, xb, x_zp, w, w_zp, bias, scale, y_zp, qmin, qmax, c, nc, yb);
      else
        dw_run_qu8(&one, c, c + nc, xb, x_zp, w, w_zp, bias, scale, y_zp, qmin, qmax, yb);
    }
}

#endif /* QB_DWCONV_CHAN_H */
