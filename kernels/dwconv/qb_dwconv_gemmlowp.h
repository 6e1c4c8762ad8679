/* Depthwise conv with the gemmlowp requantization fused
 * (qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__scalar semantics): the accumulation of
 * the two depthwise methods (channels in lanes, dwconv/qb_dwconv_chan.h, for small
 * planes; phase planes, dwconv/qb_dwconv_plane.h, for the rest), each block of
 * int32 accumulators requantized while it is in L1 by the backend's gemmlowp
 * requantize kernel (kernels/requantize: SaturatingRoundingDoublingHighMul, then
 * RoundingDivideByPOT, bit for bit the reference's, tested there), as the GEMM's
 * fused epilogue does. Static inline, compiled under each including file's ISA flags.
 *
 * The requantize kernels take per-column constants (bias, multiplier):
 * - channels in lanes: the block is pixels x 16 channels, the columns are the
 *   group's channels, so the constants are the group's 16 (padded with zeros past a
 *   channel tail: those lanes are not stored); the u8 tile is then transposed into
 *   the planes as in the fp32 rule. Blocks of DG_PIX pixels keep the int32 tile at
 *   4 KiB.
 * - phase planes: one channel's band of n = rows * ws accumulators is requantized as
 *   an (n / 8) x 8 block whose 8 columns all hold the channel's constants, plus a
 *   short last row; the band's out_w of every ws values per row are then copied out
 *   (dw_copy_rows), as in the fp32 rule.
 * An ISA header may offer the channels-in-lanes epilogue in registers instead
 * (DC_GEMMLOWP_IN_REGISTERS: dc_glrq, dc_glrq_load, dc_store_u8_gl; AVX2, shared by
 * AVX-512, and NEON), under the conditions the AVX2 one states (checked per group);
 * other groups, and SSE4.1 (no per-lane shifts), take the block route.
 * Calls the methods do not cover (stride > 2, an input zero point outside 0..255, a
 * weight zero point that is not int16-safe) take the scalar reference, per call or
 * per channel.
 *
 * The including file includes its ISA's dwconv/qb_dwconv_<isa>.h and
 * dwconv/qb_dwconv_chan_<isa>.h (which add, to the operations their headers list,
 *   void dc_store_s32(int32_t y[16], dc_acc)     the 16 channels' sums, in order)
 * and defines DW_REQUANT_GEMMLOWP as its backend's
 * qb_qs32_qu8_requantize_gemmlowp__<isa> before including this file. */
#ifndef QB_DWCONV_GEMMLOWP_H
#define QB_DWCONV_GEMMLOWP_H

#include "dwconv/qb_dwconv_chan.h"
#include "dwconv/qb_dwconv_plane.h"

#ifndef DW_REQUANT_GEMMLOWP
#error "define DW_REQUANT_GEMMLOWP (the backend's qs32 -> qu8 gemmlowp requantize kernel)"
#endif

enum {
  DG_COLS = 8,  /* columns of a phase-plane band's requantization block */
  DG_PIX = 64,  /* pixels per int32 tile of the channels-in-lanes method */
};

/* Requantization constants of one call. */
typedef struct {
  const int32_t* bias; /* per channel, or NULL */
  const qb_fixedpoint_multiplier* mult;
  int32_t zp, qmin, qmax;
} dg_rule;

/* ------------------------------------------------------------ phase planes */

/* One channel (plane, taps, w_zp) with its constants in every column of b8 / m8. */
static inline void dg_channel(const dw_geom* g, int16_t* buf, const uint8_t* plane, int32_t x_zp,
                              const int8_t* wk, int32_t w_zp, const int32_t* b8,
                              const qb_fixedpoint_multiplier* m8, const dg_rule* r, uint8_t* y) {
  int32_t acc[DW_OUT_ELEMS];
  uint8_t out[DW_OUT_ELEMS];
  dw_wpair wp[(DW_MAX_TAPS + 1) / 2];
  dw_weights(g, wk, w_zp, wp);
  for (size_t oh0 = 0; oh0 < g->oh_n; oh0 += g->band) {
    const size_t rows = g->oh_n - oh0 < g->band ? g->oh_n - oh0 : g->band;
    if (g->nrows)
      for (size_t i = 0; i < g->nrows; i++) dw_fill_row(g, plane, (int16_t)x_zp, buf, &g->row[i]);
    else
      dw_fill(g, plane, (int16_t)x_zp, oh0, rows, buf);
    const size_t n = rows * g->ws, full = n / DG_COLS * DG_COLS;
    if (g->pairs == 5)
      dw_band(g, buf, wp, 5, n, NULL, NULL, acc);
    else if (g->pairs == 13)
      dw_band(g, buf, wp, 13, n, NULL, NULL, acc);
    else
      dw_band(g, buf, wp, g->pairs, n, NULL, NULL, acc);
    if (full)
      DW_REQUANT_GEMMLOWP(full / DG_COLS, DG_COLS, acc, DG_COLS, b8, m8, r->zp, r->qmin, r->qmax,
                          out, DG_COLS);
    if (n > full)
      DW_REQUANT_GEMMLOWP(1, n - full, acc + full, n - full, b8, m8, r->zp, r->qmin, r->qmax,
                          out + full, n - full);
    dw_copy_rows(y + oh0 * g->ow_n, out, rows, g->ow_n, g->ws);
  }
}

/* Channels [c0, c1) of every image by the phase planes. */
static inline void dg_run_plane(const qb_conv2d_shape* s, size_t c0, size_t c1, const uint8_t* x,
                                int32_t x_zp, const int8_t* w, const int32_t* w_zp,
                                const dg_rule* r, uint8_t* y) {
  dw_geom g;
  if (!dw_geom_init(&g, s, x_zp)) {
    qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__scalar(s, c0, c1, x, x_zp, w, w_zp, r->bias, r->mult,
                                                    r->zp, r->qmin, r->qmax, y);
    return;
  }
  const size_t mult = s->out_channels / s->in_channels;
  const size_t in_plane = s->in_h * s->in_w, out_plane = g.oh_n * g.ow_n;
  qb_conv2d_shape one = *s;
  one.batch = 1;
  int16_t buf[DW_BUF_ELEMS];
  if (g.nrows) memset(buf, 0, g.buf_elems * sizeof *buf);
  for (size_t oc = c0; oc < c1; oc++) {
    int32_t b8[DG_COLS];
    qb_fixedpoint_multiplier m8[DG_COLS];
    for (size_t j = 0; j < DG_COLS; j++) b8[j] = r->bias ? r->bias[oc] : 0, m8[j] = r->mult[oc];
    const size_t ic = mult == 1 ? oc : oc / mult;
    for (size_t b = 0; b < s->batch; b++) {
      const uint8_t* xb = x + b * s->in_channels * in_plane;
      uint8_t* yb = y + b * s->out_channels * out_plane;
      if (!dw_wzp_ok(w_zp[oc]))
        qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__scalar(&one, oc, oc + 1, xb, x_zp, w, w_zp,
                                                        r->bias, r->mult, r->zp, r->qmin, r->qmax,
                                                        yb);
      else
        dg_channel(&g, buf, xb + ic * in_plane, x_zp, w + oc * g.taps, w_zp[oc], b8, m8, r,
                   yb + oc * out_plane);
    }
  }
}

/* ------------------------------------------------------- channels in lanes */

/* Flat output pixels [p0, p1) of the group into tile (pixels x 16 int32). */
static inline __attribute__((always_inline)) void dg_taps(const dc_geom* g, const int16_t* buf,
                                                          const dc_wpair* wp, size_t pairs,
                                                          size_t p0, size_t p1, int32_t* tile) {
  const qb_conv2d_shape* s = g->s;
  size_t oh = p0 / g->ow_n, ow = p0 % g->ow_n;
  for (size_t p = p0; p < p1; p++, tile += DC_CH) {
    const int16_t* base = buf + (oh * s->stride_h * g->pw + ow * s->stride_w) * DC_CH;
    dc_acc acc = dc_acc_zero();
    for (size_t k = 0; k < pairs; k++)
      acc = dc_madd(acc, base + g->off[2 * k], base + g->off[2 * k + 1], &wp[k]);
    dc_store_s32(tile, acc);
    if (++ow == g->ow_n) ow = 0, oh++;
  }
}

#ifdef DC_GEMMLOWP_IN_REGISTERS
/* Every output pixel of the group requantized in registers (dc_store_u8_gl). */
static inline __attribute__((always_inline)) void dg_taps_u8(const dc_geom* g, const int16_t* buf,
                                                             const dc_wpair* wp, size_t pairs,
                                                             const dc_glrq* rq, uint8_t* tile) {
  const qb_conv2d_shape* s = g->s;
  for (size_t oh = 0; oh < g->oh_n; oh++) {
    const int16_t* row = buf + oh * s->stride_h * g->pw * DC_CH;
    for (size_t ow = 0; ow < g->ow_n; ow++, tile += DC_CH) {
      const int16_t* base = row + ow * s->stride_w * DC_CH;
      dc_acc acc = dc_acc_zero();
      for (size_t k = 0; k < pairs; k++)
        acc = dc_madd(acc, base + g->off[2 * k], base + g->off[2 * k + 1], &wp[k]);
      dc_store_u8_gl(tile, acc, rq);
    }
  }
}
#endif

/* Channels [c, c + nc) of one image, every w_zp of them int16-safe. */
static inline void dg_group(const dc_geom* g, int16_t* buf, uint8_t* tile, const uint8_t* x,
                            int32_t x_zp, const int8_t* w, const int32_t* w_zp, const dg_rule* r,
                            size_t c, size_t nc, uint8_t* y) {
  const qb_conv2d_shape* s = g->s;
  dc_wpair wp[(DW_MAX_TAPS + 1) / 2];
  dc_weights(g, w, w_zp, c, nc, wp);
  int32_t bq[DC_CH] = {0};
  qb_fixedpoint_multiplier mq[DC_CH] = {{0, 0}};
  for (size_t l = 0; l < nc; l++) bq[l] = r->bias ? r->bias[c + l] : 0, mq[l] = r->mult[c + l];
  const size_t in_plane = s->in_h * s->in_w, P = g->oh_n * g->ow_n;
  dc_fill(g, x + c * in_plane, nc, (int16_t)x_zp, buf);
#ifdef DC_GEMMLOWP_IN_REGISTERS
  /* The ISA's in-register epilogue when its conditions hold (see its header). */
  bool in_registers = r->zp >= -65536 && r->zp <= 65536;
  for (size_t l = 0; l < DC_CH; l++) in_registers = in_registers && mq[l].multiplier != INT32_MIN;
  if (in_registers) {
    const dc_glrq rq = dc_glrq_load(bq, mq, r->zp, r->qmin, r->qmax);
    if (g->pairs == 5)
      dg_taps_u8(g, buf, wp, 5, &rq, tile);
    else if (g->pairs == 13)
      dg_taps_u8(g, buf, wp, 13, &rq, tile);
    else
      dg_taps_u8(g, buf, wp, g->pairs, &rq, tile);
    dc_store_planes(g, tile, nc, y + c * P);
    return;
  }
#endif
  int32_t acc[DG_PIX * DC_CH];
  for (size_t p0 = 0; p0 < P; p0 += DG_PIX) {
    const size_t p1 = P - p0 < DG_PIX ? P : p0 + DG_PIX;
    if (g->pairs == 5)
      dg_taps(g, buf, wp, 5, p0, p1, acc);
    else if (g->pairs == 13)
      dg_taps(g, buf, wp, 13, p0, p1, acc);
    else
      dg_taps(g, buf, wp, g->pairs, p0, p1, acc);
    DW_REQUANT_GEMMLOWP(p1 - p0, DC_CH, acc, DC_CH, bq, mq, r->zp, r->qmin, r->qmax,
                        tile + p0 * DC_CH, DC_CH);
  }
  dc_store_planes(g, tile, nc, y + c * P);
}

/* The family's entry: channels [c0, c1) of every image, in groups of 16 by the
 * channels in lanes where that method applies and is preferred, else by the phase
 * planes (per group when a weight zero point is not int16-safe). */
static inline void dg_run_qu8(const qb_conv2d_shape* s, size_t c0, size_t c1, const uint8_t* x,
                              int32_t x_zp, const int8_t* w, const int32_t* w_zp,
                              const int32_t* bias, const qb_fixedpoint_multiplier* mult,
                              int32_t y_zp, int32_t qmin, int32_t qmax, uint8_t* y) {
  const dg_rule r = {bias, mult, y_zp, qmin, qmax};
  dc_geom g;
  if (!dc_geom_init(&g, s, x_zp) || !dc_preferred(&g)) {
    dg_run_plane(s, c0, c1, x, x_zp, w, w_zp, &r, y);
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
        dg_group(&g, buf, tile, xb, x_zp, w, w_zp, &r, c, nc, yb);
      else
        dg_run_plane(&one, c, c + nc, xb, x_zp, w, w_zp, &r, yb);
    }
}

#endif /* QB_DWCONV_GEMMLOWP_H */
