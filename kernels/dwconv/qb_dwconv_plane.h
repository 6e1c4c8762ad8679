/* Depthwise conv over padded "phase planes", shared by the SIMD kernels of both
 * depthwise families (qs32 output and fused fp32 requantization to qu8). Static
 * inline, compiled under each including file's ISA flags.
 *
 * Method (NCHW, one channel at a time; strides 1 or 2, any kernel, dilation, padding):
 *
 * 1. Phase planes. The channel's input, minus the input zero point, is written as
 *    int16 into a zeroed buffer laid out as the padded plane P (pad_top + in_h +
 *    pad_bottom rows, pad_left + in_w + pad_right columns) split by the parity of
 *    its row and column under the stride: S[rp][cp][i][j] = P[sh*i + rp][sw*j + cp]
 *    (one plane for stride 1, four for stride 2 x 2). Padding holds 0, which is
 *    exactly x_zero_point - x_zero_point: padded taps contribute nothing, as in the
 *    reference.
 * 2. Flat outputs. Output (oh, ow) under tap (kh, kw) reads P[sh*oh + kh*dh][sw*ow + kw*dw]
 *    = S[rp][cp][oh + di][ow + dj] with rp = kh*dh mod sh, di = kh*dh div sh (the same
 *    for columns). With the phase planes' common row length Ws, the output index
 *    q = oh*Ws + ow reads element q + off(tap) of the buffer, where
 *    off = plane(rp,cp) + di*Ws + dj does not depend on q. So the whole channel is
 *    one loop over q in steps of DW_LANES with the same offsets for every step: no
 *    edge cases, no per-row setup. Lanes with ow >= out_w are computed and thrown
 *    away (Ws - out_w of every Ws: 2 of 16 for 14x14 with pad 1).
 * 3. Arithmetic. Taps go in pairs (t0,t1), (t2,t3), ... (an odd last tap is paired
 *    with itself under weight 0): per pair, the two int16 input vectors are
 *    interleaved and multiplied-added with the int16 pair (w_t0 - w_zp, w_t1 - w_zp)
 *    into int32 lanes (PMADDWD on x86, two SMLAL on Arm). Products are exact:
 *    |x - x_zp| <= 255 (x_zp in 0..255) and |w - w_zp| <= 32767, so a pair sum is
 *    below 2^24 and a 25-tap sum below 2^29: the int32 sums are the reference's.
 * 4. Epilogue (per DW_LANES outputs): the fp32 requantization or the int32 store,
 *    into a band buffer, then each output row's first out_w values are copied out.
 *
 * Large planes are processed in bands of output rows so the buffers fit on the
 * stack (no kernel allocates). What the method does not cover (stride > 2, more than
 * DW_MAX_TAPS taps, an input zero point outside 0..255, a weight zero point
 * outside the int16-safe range, rows too wide for one band) goes to the scalar
 * reference rule, per call or per channel.
 *
 * The including file defines DW_LANES (int16 lanes per step) and:
 *   dw_acc                 int32 accumulators of DW_LANES outputs (any lane order)
 *   dw_wpair dw_wpair_set(int16_t wa, int16_t wb)
 *   dw_acc dw_acc_zero(void)
 *   dw_acc dw_acc_madd(dw_acc, const int16_t* a, const int16_t* b, dw_wpair)
 *                          acc[l] += a[l]*wa + b[l]*wb for l < DW_LANES (unaligned loads)
 *   dw_rq dw_rq_set(int32_t bias, float scale, int32_t zp, int32_t qmin, int32_t qmax)
 *   void dw_store_u8(uint8_t* y, dw_acc, const dw_rq*)    DW_LANES requantized bytes
 *   void dw_store_s32(int32_t* y, dw_acc)                 DW_LANES int32, in order
 *   void dw_widen(int16_t* d, const uint8_t* s, size_t n, int16_t zp)   d[i] = s[i] - zp
 *   void dw_widen2(int16_t* even, int16_t* odd, const uint8_t* s, size_t n, int16_t zp)
 *                          even[i] = s[2i] - zp, odd[i] = s[2i+1] - zp (over n bytes)
 *                          (these two read exactly the n bytes of s and write exactly)
 *   dw_widen_over, dw_widen2_over   the same, free to read s up to the next multiple
 *                          of 16 bytes and to write up to DW_GAP - 1 values past the end
 *                          of d / even / odd (see dw_fill). */
#ifndef QB_DWCONV_PLANE_H
#define QB_DWCONV_PLANE_H

#include <stdbool.h>
#include <string.h>

#include "qb_kernels.h"

enum {
  DW_MAX_TAPS = 64,
  DW_BUF_ELEMS = 12288, /* int16 phase-plane buffer (24 KiB) */
  DW_OUT_ELEMS = 4096,  /* band of outputs before the row copy */
  DW_GAP = 8,           /* zeros after each phase plane: row over-runs land there */
  DW_ROWTAB = 256,      /* input rows of a one-band call kept in a table */
};

/* Where one input row goes in the phase planes (dw_fill). */
typedef struct {
  uint32_t src;     /* offset of the row in the channel's input plane */
  uint32_t d0, d1;  /* buffer offsets: the row (stride 1), its even / odd halves (stride 2) */
  uint32_t over;    /* may read up to 15 bytes past the row (still inside the plane) */
} dw_row;

/* Per call: geometry of the phase planes and the tap offsets. */
typedef struct {
  const qb_conv2d_shape* s;
  size_t oh_n, ow_n, sh, sw;
  size_t ws;          /* row length of every phase plane */
  size_t max_di;      /* extra plane rows a band reads below its last output row */
  size_t band;        /* output rows per band */
  size_t plane_elems; /* (band + max_di) * ws + DW_GAP: distance between phase planes */
  size_t buf_elems;   /* used part of the buffer, incl. the tail the last step reads */
  size_t taps, pairs;
  ptrdiff_t off[DW_MAX_TAPS + 1];
  /* One band (the usual case): the filled rows are the same for every channel, so
   * they are listed once, and the buffer's zeros (padding) are written once per call
   * (every write past a row is zeroed again by the row's fill). 0: per band. */
  size_t nrows;
  dw_row row[DW_ROWTAB];
} dw_geom;

static inline size_t dw_div_up(size_t a, size_t b) { return (a + b - 1) / b; }

static inline void dw_rows_list(dw_geom* g);

/* False if the phase-plane method does not apply to this call. */
static inline bool dw_geom_init(dw_geom* g, const qb_conv2d_shape* s, int32_t x_zero_point) {
  g->s = s;
  g->oh_n = qb_conv2d_out_h(s);
  g->ow_n = qb_conv2d_out_w(s);
  g->sh = s->stride_h;
  g->sw = s->stride_w;
  g->taps = s->kernel_h * s->kernel_w;
  g->pairs = (g->taps + 1) / 2;
  if (g->sh < 1 || g->sh > 2 || g->sw < 1 || g->sw > 2 || g->taps > DW_MAX_TAPS ||
      x_zero_point < 0 || x_zero_point > 255)
    return false;
  g->ws = dw_div_up(s->pad_left + s->in_w + s->pad_right, g->sw);
  g->max_di = (s->kernel_h - 1) * s->dilation_h / g->sh;
  const size_t max_dj = (s->kernel_w - 1) * s->dilation_w / g->sw;
  const size_t planes = g->sh * g->sw, tail = DW_LANES + max_dj;
  /* Largest band whose planes and outputs fit. */
  size_t band = g->oh_n;
  if (band * g->ws + DW_LANES > DW_OUT_ELEMS) band = (DW_OUT_ELEMS - DW_LANES) / g->ws;
  const size_t per_plane = DW_BUF_ELEMS > tail ? (DW_BUF_ELEMS - tail) / planes : 0;
  const size_t fit_rows = per_plane > DW_GAP ? (per_plane - DW_GAP) / g->ws : 0;
  if (band + g->max_di > fit_rows) band = fit_rows > g->max_di ? fit_rows - g->max_di : 0;
  if (band == 0) return false;
  g->band = band;
  g->plane_elems = (band + g->max_di) * g->ws + DW_GAP;
  g->buf_elems = planes * g->plane_elems + tail;
  for (size_t kh = 0, t = 0; kh < s->kernel_h; kh++)
    for (size_t kw = 0; kw < s->kernel_w; kw++, t++) {
      const size_t r = kh * s->dilation_h, c = kw * s->dilation_w;
      g->off[t] = (ptrdiff_t)(((r % g->sh) * g->sw + c % g->sw) * g->plane_elems +
                              r / g->sh * g->ws + c / g->sw);
    }
  g->off[g->taps] = g->off[g->taps - 1]; /* partner of an odd last tap (weight 0) */
  dw_rows_list(g);
  return true;
}

/* True if every w - w_zero_point of this channel fits int16. */
static inline bool dw_wzp_ok(int32_t w_zp) { return w_zp >= -32640 && w_zp <= 32639; }

static inline void dw_weights(const dw_geom* g, const int8_t* wk, int32_t w_zp, dw_wpair* wp) {
  for (size_t p = 0; p < g->pairs; p++) {
    const int16_t a = (int16_t)(wk[2 * p] - w_zp);
    const int16_t b = 2 * p + 1 < g->taps ? (int16_t)(wk[2 * p + 1] - w_zp) : 0;
    wp[p] = dw_wpair_set(a, b);
  }
}

/* Phase planes of output rows [oh0, oh0 + rows) of one channel plane.
 * Rows are converted with dw_widen_over / dw_widen2_over, which read up to 15 bytes
 * past the row (kept inside this channel's plane, else the exact dw_widen /
 * dw_widen2) and write up to DW_GAP - 1 values past its end; those values are then
 * zeroed again. Rows are filled in increasing order, so what a row's over-run
 * covers is padding (zeroed right after) or a later row's values (written later),
 * and the last row of a plane runs into that plane's DW_GAP zeros. */

/* The descriptor of plane row i of row phase rp in the band starting at oh0; false
 * if that padded row is padding. */
static inline bool dw_row_at(const dw_geom* g, size_t rp, size_t i, size_t oh0, dw_row* d) {
  const qb_conv2d_shape* s = g->s;
  const size_t r = g->sh * (oh0 + i) + rp; /* padded row */
  if (r < s->pad_top || r >= s->pad_top + s->in_h) return false;
  const size_t ih = r - s->pad_top, W = s->in_w, pl = s->pad_left;
  const size_t row = rp * g->sw * g->plane_elems + i * g->ws;
  d->src = (uint32_t)(ih * W);
  d->over = ih * W + (W + 15) / 16 * 16 <= s->in_h * W;
  if (g->sw == 1) {
    d->d0 = (uint32_t)(row + pl);
  } else {
    /* Input column m sits at padded column m + pad_left: even m go to the plane of
     * parity pad_left & 1, odd m to the other, at column (m + pad_left) / 2. */
    d->d0 = (uint32_t)(row + (pl & 1) * g->plane_elems + pl / 2);
    d->d1 = (uint32_t)(row + ((pl + 1) & 1) * g->plane_elems + (pl + 1) / 2);
  }
  return true;
}

static inline void dw_fill_row(const dw_geom* g, const uint8_t* plane, int16_t zp, int16_t* buf,
                               const dw_row* d) {
  static const int16_t zeros[DW_GAP];
  const size_t W = g->s->in_w;
  const uint8_t* src = plane + d->src;
  if (g->sw == 1) {
    if (d->over) {
      dw_widen_over(buf + d->d0, src, W, zp);
      memcpy(buf + d->d0 + W, zeros, sizeof zeros);
    } else {
      dw_widen(buf + d->d0, src, W, zp);
    }
  } else if (d->over) {
    dw_widen2_over(buf + d->d0, buf + d->d1, src, W, zp);
    memcpy(buf + d->d0 + (W + 1) / 2, zeros, sizeof zeros);
    memcpy(buf + d->d1 + W / 2, zeros, sizeof zeros);
  } else {
    dw_widen2(buf + d->d0, buf + d->d1, src, W, zp);
  }
}

/* The band's planes, from scratch (several bands: the padding moves between bands). */
static inline void dw_fill(const dw_geom* g, const uint8_t* plane, int16_t zp, size_t oh0,
                           size_t rows, int16_t* buf) {
  memset(buf, 0, g->buf_elems * sizeof *buf);
  for (size_t rp = 0; rp < g->sh; rp++)
    for (size_t i = 0; i < rows + g->max_di; i++) {
      dw_row d;
      if (dw_row_at(g, rp, i, oh0, &d)) dw_fill_row(g, plane, zp, buf, &d);
    }
}

/* One band: list the rows once (dw_geom.nrows stays 0 if they do not fit). */
static inline void dw_rows_list(dw_geom* g) {
  g->nrows = 0;
  if (g->band < g->oh_n) return;
  size_t n = 0;
  for (size_t rp = 0; rp < g->sh; rp++)
    for (size_t i = 0; i < g->oh_n + g->max_di; i++) {
      dw_row d;
      if (!dw_row_at(g, rp, i, 0, &d)) continue;
      if (n == DW_ROWTAB) return;
      g->row[n++] = d;
    }
  g->nrows = n;
}

/* Outputs q in [0, n) of the band: PAIRS is a constant for the specialized shapes
 * (5 = 3x3, 13 = 5x5), so the tap loop unrolls with the weights in registers. */
static inline __attribute__((always_inline)) void dw_band(const dw_geom* g, const int16_t* buf,
                                                          const dw_wpair* wp, size_t pairs,
                                                          size_t n, const dw_rq* rq,
                                                          uint8_t* y_u8, int32_t* y_s32) {
  for (size_t q = 0; q < n; q += DW_LANES) {
    dw_acc acc = dw_acc_zero();
    for (size_t p = 0; p < pairs; p++)
      acc = dw_acc_madd(acc, buf + q + g->off[2 * p], buf + q + g->off[2 * p + 1], wp[p]);
    if (y_u8)
      dw_store_u8(y_u8 + q, acc, rq);
    else
      dw_store_s32(y_s32 + q, acc);
  }
}

/* rows x n bytes from src (row stride ws >= n) to dst (row stride n), in 16-byte
 * pieces where they stay inside the rows x n destination: a row's last piece may
 * run into the following rows' bytes, which those rows rewrite afterwards. */
static inline void dw_copy_rows(uint8_t* dst, const uint8_t* src, size_t rows, size_t n,
                                size_t ws) {
  const size_t pieces = (n + 15) / 16 * 16;
  for (size_t i = 0; i < rows; i++) {
    if (i * n + pieces <= rows * n)
      for (size_t j = 0; j < n; j += 16) memcpy(dst + i * n + j, src + i * ws + j, 16);
    else
      memcpy(dst + i * n, src + i * ws, n);
  }
}

/* One channel: its input plane, taps and zero point; rq NULL for the int32 output.
 * Writes the out_h x out_w plane at y_u8 or y_s32. buf: the caller's phase-plane
 * buffer, zeroed once per call when g->nrows (one band, rows listed). */
static inline void dw_channel(const dw_geom* g, int16_t* buf, const uint8_t* plane, int32_t x_zp,
                              const int8_t* wk, int32_t w_zp, const dw_rq* rq, uint8_t* y_u8,
                              int32_t* y_s32) {
  union {
    uint8_t u8[DW_OUT_ELEMS];
    int32_t s32[DW_OUT_ELEMS];
  } out;
  dw_wpair wp[(DW_MAX_TAPS + 1) / 2];
  dw_weights(g, wk, w_zp, wp);
  for (size_t oh0 = 0; oh0 < g->oh_n; oh0 += g->band) {
    const size_t rows = g->oh_n - oh0 < g->band ? g->oh_n - oh0 : g->band;
    if (g->nrows)
      for (size_t r = 0; r < g->nrows; r++) dw_fill_row(g, plane, (int16_t)x_zp, buf, &g->row[r]);
    else
      dw_fill(g, plane, (int16_t)x_zp, oh0, rows, buf);
    const size_t n = rows * g->ws;
    uint8_t* o8 = rq ? out.u8 : NULL;
    int32_t* o32 = rq ? NULL : out.s32;
    if (g->pairs == 5)
      dw_band(g, buf, wp, 5, n, rq, o8, o32);
    else if (g->pairs == 13)
      dw_band(g, buf, wp, 13, n, rq, o8, o32);
    else
      dw_band(g, buf, wp, g->pairs, n, rq, o8, o32);
    if (rq)
      dw_copy_rows(y_u8 + oh0 * g->ow_n, out.u8, rows, g->ow_n, g->ws);
    else
      for (size_t i = 0; i < rows; i++)
        memcpy(y_s32 + (oh0 + i) * g->ow_n, out.s32 + i * g->ws, g->ow_n * sizeof(int32_t));
  }
}

/* The fused family's entry: channels [c0, c1) of every image. */
static inline void dw_run_qu8(const qb_conv2d_shape* s, size_t c0, size_t c1, const uint8_t* x,
                              int32_t x_zp, const int8_t* w, const int32_t* w_zp,
                              const int32_t* bias, const float* scale, int32_t y_zp, int32_t qmin,
                              int32_t qmax, uint8_t* y) {
  dw_geom g;
  if (!dw_geom_init(&g, s, x_zp)) {
    qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar(s, c0, c1, x, x_zp, w, w_zp, bias, scale, y_zp,
                                                qmin, qmax, y);
    return;
  }
  const size_t mult = s->out_channels / s->in_channels;
  const size_t in_plane = s->in_h * s->in_w, out_plane = g.oh_n * g.ow_n;
  qb_conv2d_shape one = *s;
  one.batch = 1;
  int16_t buf[DW_BUF_ELEMS];
  if (g.nrows) memset(buf, 0, g.buf_elems * sizeof *buf);
  for (size_t b = 0; b < s->batch; b++)
    for (size_t oc = c0; oc < c1; oc++) {
      const uint8_t* xb = x + b * s->in_channels * in_plane;
      uint8_t* yb = y + b * s->out_channels * out_plane;
      if (!dw_wzp_ok(w_zp[oc])) {
        qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar(&one, oc, oc + 1, xb, x_zp, w, w_zp, bias,
                                                    scale, y_zp, qmin, qmax, yb);
        continue;
      }
      const dw_rq rq = dw_rq_set(bias ? bias[oc] : 0, scale[oc], y_zp, qmin, qmax);
      const size_t ic = mult == 1 ? oc : oc / mult; /* no division per channel */
      dw_channel(&g, buf, xb + ic * in_plane, x_zp, w + oc * g.taps, w_zp[oc], &rq,
                 yb + oc * out_plane, NULL);
    }
}

/* The int32 family's entry: every channel of every image. */
static inline void dw_run_qs32(const qb_conv2d_shape* s, const uint8_t* x, int32_t x_zp,
                               const int8_t* w, const int32_t* w_zp, int32_t* out) {
  dw_geom g;
  if (!dw_geom_init(&g, s, x_zp)) {
    qb_qu8_qs8_qs32_dwconv2d__scalar(s, x, x_zp, w, w_zp, out);
    return;
  }
  const size_t mult = s->out_channels / s->in_channels;
  const size_t in_plane = s->in_h * s->in_w, out_plane = g.oh_n * g.ow_n;
  for (size_t oc = 0; oc < s->out_channels; oc++)
    if (!dw_wzp_ok(w_zp[oc])) { /* rare: the whole call takes the reference */
      qb_qu8_qs8_qs32_dwconv2d__scalar(s, x, x_zp, w, w_zp, out);
      return;
    }
  int16_t buf[DW_BUF_ELEMS];
  if (g.nrows) memset(buf, 0, g.buf_elems * sizeof *buf);
  for (size_t b = 0; b < s->batch; b++)
    for (size_t oc = 0; oc < s->out_channels; oc++)
      dw_channel(&g, buf, x + (b * s->in_channels + (mult == 1 ? oc : oc / mult)) * in_plane,
                 x_zp, w + oc * g.taps, w_zp[oc], NULL, NULL,
                 out + (b * s->out_channels + oc) * out_plane);
}

#endif /* QB_DWCONV_PLANE_H */
