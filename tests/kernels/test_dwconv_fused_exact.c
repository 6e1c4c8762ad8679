/* Exactness of every fused depthwise conv kernel (qu8 x qs8 -> qu8, NCHW; the fp32
 * requantization family and the gemmlowp one) in the dispatch lists against the
 * scalar references, bit for bit: widths 1..17 and wider, odd heights, 3x3 / 5x5 and other kernels, strides
 * 1 and 2 in each direction (3 for the fallback), pads 0..2 asymmetric, dilation
 * 1-2, channel multipliers 1-2, batch 1-2, input zero points {0, 18, 128, 255} (and
 * out-of-range ones, which take the reference rule), per-channel weight zero
 * points, all-extreme values, power-of-two scales that put many results on
 * rounding ties (for gemmlowp: multiplier 2^30, so both of its roundings see ties;
 * also left shifts, real multipliers >= 1, and zero multipliers), biases that wrap int32, ReLU / ReLU6-like clamps, channel ranges
 * [c0, c1) that leave channels untouched (the whole output, pre-filled with 0xA5,
 * must match), planes large enough to be cut into bands and too wide for the
 * SIMD buffers, many channels on small planes (the channels-in-lanes method, with
 * channel tails and sub-ranges). The input ends at an inaccessible page; outputs have 0xA5 guards. */
#include <math.h>
#include <stdio.h>

#include "qb_exact_util.h"
#include "qb_kernels.h"

static int printed = 0;

/* One entry of either family (exactly one of fp32 / gemmlowp set). */
typedef struct {
  const qb_kernel_info* info;
  const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry* fp32;
  const qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entry* gemmlowp;
} fused_kernel;

typedef struct {
  int32_t x_zp, y_zp, qmin, qmax;
  bool extreme, ties, wild_wzp, min_mult;
  size_t c0, c1;
} fused_case;

static void check_fused(const fused_kernel* e,
                        const qb_conv2d_shape* s, const fused_case* k) {
  const size_t in_elems = s->batch * s->in_channels * s->in_h * s->in_w;
  const size_t taps = s->kernel_h * s->kernel_w, C = s->out_channels;
  const size_t out_elems = s->batch * C * qb_conv2d_out_h(s) * qb_conv2d_out_w(s);
  qb_tail_buf tb;
  uint8_t* x = qb_tail_alloc(&tb, in_elems);
  for (size_t i = 0; i < in_elems; i++)
    x[i] = k->extreme ? (qb_rand_below(2) ? 255 : 0) : (uint8_t)qb_rand_below(256);
  int8_t* w = malloc(C * taps + 1);
  int32_t* wzp = malloc((C + 1) * sizeof(int32_t));
  int32_t* bias = malloc((C + 1) * sizeof(int32_t));
  float* scale = malloc((C + 1) * sizeof(float));
  qb_fixedpoint_multiplier* mult = malloc((C + 1) * sizeof *mult);
  for (size_t i = 0; i < C * taps; i++)
    w[i] = k->extreme ? (int8_t)(qb_rand_below(2) ? 127 : -128) : (int8_t)qb_rand_range(-128, 127);
  for (size_t c = 0; c < C; c++) {
    wzp[c] = k->extreme ? (c % 2 ? 127 : -128) : qb_rand_range(-128, 127);
    if (k->wild_wzp && c % 3 == 1) wzp[c] = c % 2 ? 40000 : -33000; /* beyond int16 */
    if (k->wild_wzp && c % 3 == 2) wzp[c] = 0;
    bias[c] = qb_rand_below(8) == 0 ? INT32_MAX - qb_rand_range(0, 100000)
                                    : qb_rand_range(-60000, 60000);
    /* 2^-k: acc * scale is exact, and every acc = 2^(k-1) mod 2^k is a tie. */
    scale[c] = k->ties ? ldexpf(1.0f, -(int)(4 + qb_rand_below(9)))
                       : qb_rand_uniform(1e-5f, 4e-3f);
    /* gemmlowp: the same real multiplier (2^-k encodes as 2^30 x 2^(1-k)), some
     * at or above 1 (left shifts, wrapping products), some zero. */
    mult[c] = qb_fixedpoint_multiplier_from_double(c % 7 == 3 ? 1.0 + qb_rand_below(7) * 0.75
                                                              : (double)scale[c]);
    if (c % 11 == 5) mult[c] = (qb_fixedpoint_multiplier){0, 0};
    /* Not an encoded multiplier, but defined by the reference: SRDHM's one
     * overflow (INT32_MIN x INT32_MIN) needs INT32_MIN inputs too (acc + bias). */
    if (k->min_mult && c % 5 == 4) { /* with bias INT32_MIN: padding-only outputs hit it */
      mult[c] = (qb_fixedpoint_multiplier){INT32_MIN, 0};
      bias[c] = INT32_MIN;
    }
  }
  uint8_t* ref = qb_guard_alloc(out_elems);
  uint8_t* got = qb_guard_alloc(out_elems);
  const int32_t* b = qb_rand_below(6) == 0 ? NULL : bias;
  if (e->fp32) {
    qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar(s, k->c0, k->c1, x, k->x_zp, w, wzp, b, scale,
                                                k->y_zp, k->qmin, k->qmax, ref);
    e->fp32->run(s, k->c0, k->c1, x, k->x_zp, w, wzp, b, scale, k->y_zp, k->qmin, k->qmax, got);
  } else {
    qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__scalar(s, k->c0, k->c1, x, k->x_zp, w, wzp, b, mult,
                                                    k->y_zp, k->qmin, k->qmax, ref);
    e->gemmlowp->run(s, k->c0, k->c1, x, k->x_zp, w, wzp, b, mult, k->y_zp, k->qmin, k->qmax,
                     got);
  }
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < out_elems; i++)
    if (got[i] != ref[i] && bad++ == 0) first = i;
  QB_CHECK_MSG(bad == 0,
               "%s b=%zu c=%zu->%zu [%zu,%zu) in=%zux%zu k=%zux%zu stride=%zu,%zu dil=%zu,%zu "
               "pad=%zu,%zu,%zu,%zu x_zp=%d y_zp=%d q=%d..%d: %zu of %zu differ, first [%zu] "
               "got %d expected %d",
               e->info->name, s->batch, s->in_channels, C, k->c0, k->c1, s->in_h, s->in_w,
               s->kernel_h, s->kernel_w, s->stride_h, s->stride_w, s->dilation_h, s->dilation_w,
               s->pad_top, s->pad_left, s->pad_bottom, s->pad_right, k->x_zp, k->y_zp, k->qmin,
               k->qmax, bad, out_elems, first, bad ? got[first] : 0, bad ? ref[first] : 0);
  qb_guard_check(got, out_elems, "fused dwconv output");
  if (bad && ++printed > 20) exit(qb_test_finish("test_dwconv_fused_exact"));
  qb_guard_free(got);
  qb_guard_free(ref);
  free(mult);
  free(scale);
  free(bias);
  free(wzp);
  free(w);
  qb_tail_free(&tb);
}

static const int32_t x_zps[] = {0, 18, 128, 255};

/* A random case for s: zero points, clamp, channel range. */
static fused_case random_case(const qb_conv2d_shape* s, size_t sweep) {
  fused_case k = {.x_zp = x_zps[sweep % 4], .y_zp = qb_rand_range(0, 255), .qmin = 0,
                  .qmax = 255, .extreme = sweep % 11 == 10, .ties = sweep % 3 != 2,
                  .wild_wzp = sweep % 13 == 12,
                  .min_mult = sweep % 13 == 6, .c0 = 0, .c1 = s->out_channels};
  switch (sweep % 5) {
    case 1: k.qmin = k.y_zp; break;                                 /* ReLU */
    case 2: k.qmin = k.y_zp, k.qmax = k.y_zp + 60 > 255 ? 255 : k.y_zp + 60; break; /* ReLU6 */
    case 3: k.qmin = 3, k.qmax = 200; break;
    default: break;
  }
  if (sweep % 17 == 16) /* far zero points: every output on a bound */
    k.y_zp = sweep % 2 ? 70000 : -70000;
  if (sweep % 4 == 3 && s->out_channels > 1) { /* a strict sub-range of channels */
    k.c0 = qb_rand_below((uint32_t)s->out_channels);
    k.c1 = k.c0 + qb_rand_below((uint32_t)(s->out_channels - k.c0)) + 1;
    if (k.c0 == 0 && k.c1 == s->out_channels) k.c1--;
  }
  return k;
}

static void run_entry(const fused_kernel* e) {
  static const size_t kernels[][2] = {{3, 3}, {5, 5}, {1, 1}, {3, 1}, {1, 7}, {2, 2}};
  static const size_t strides[][2] = {{1, 1}, {2, 2}, {1, 2}, {2, 1}, {3, 3}};
  size_t sweep = 0;
  for (size_t W = 1; W <= 17; W++)
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++)
      for (size_t st = 0; st < sizeof strides / sizeof strides[0]; st++, sweep++) {
        if (st == 4 && W % 4) continue;
        const size_t H = 1 + (sweep * 7) % 9, pad = sweep % 3, dil = 1 + (sweep % 7 == 6);
        qb_conv2d_shape s = qb_dw_shape(1 + (sweep % 5 == 4), 1 + sweep % 4, 1 + (sweep % 6 == 5), H, W,
                                 kernels[k][0], kernels[k][1], strides[st][0], strides[st][1],
                                 dil, dil, pad, (pad + sweep) % 3, (pad * 2 + sweep) % 3,
                                 (sweep / 3) % 3);
        if (qb_conv2d_out_h(&s) == 0 || qb_conv2d_out_w(&s) == 0) continue;
        const fused_case c = random_case(&s, sweep);
        check_fused(e, &s, &c);
      }
  /* dwnet / MobileNet layers, banded planes, rows too wide for the SIMD buffers. */
  const qb_conv2d_shape big[] = {
      qb_dw_shape(1, 16, 1, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
      qb_dw_shape(1, 32, 1, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
      qb_dw_shape(1, 8, 1, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
      qb_dw_shape(1, 64, 1, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
      qb_dw_shape(2, 128, 1, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
      qb_dw_shape(1, 72, 1, 28, 28, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2),
      qb_dw_shape(1, 20, 1, 30, 30, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
      qb_dw_shape(1, 4, 1, 28, 28, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2),
      qb_dw_shape(1, 3, 1, 130, 131, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
      qb_dw_shape(2, 2, 2, 67, 129, 5, 5, 2, 2, 1, 1, 2, 1, 2, 2),
      qb_dw_shape(1, 1, 1, 3, 3000, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
      qb_dw_shape(1, 1, 1, 2, 9000, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
      qb_dw_shape(1, 2, 1, 9, 40, 7, 7, 1, 1, 1, 1, 3, 3, 3, 3),
      qb_dw_shape(1, 2, 1, 4, 9, 9, 9, 1, 1, 1, 1, 4, 4, 4, 4),
  };
  for (size_t i = 0; i < sizeof big / sizeof big[0]; i++, sweep++) {
    const fused_case c = random_case(&big[i], sweep);
    check_fused(e, &big[i], &c);
  }
  /* Many channels on small planes (the channels-in-lanes method: groups of 16, a
   * last group of 1..15, sub-ranges [c0, c1) starting inside a group, wild weight
   * zero points sending one group to the phase planes), every kernel and stride. */
  static const size_t many[] = {16, 17, 31, 32, 40, 64, 128};
  for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++)
      for (size_t st = 0; st < 4; st++, sweep++) {
        const size_t H = 1 + (sweep * 5) % 16, W = 1 + (sweep * 3) % 17, pad = sweep % 3;
        const size_t dil = 1 + (sweep % 5 == 4);
        qb_conv2d_shape s = qb_dw_shape(1 + (sweep % 7 == 6), many[i], 1, H, W, kernels[k][0],
                                        kernels[k][1], strides[st][0], strides[st][1], dil, dil,
                                        pad, (pad + sweep) % 3, (pad * 2 + sweep) % 3,
                                        (sweep / 3) % 3);
        if (qb_conv2d_out_h(&s) == 0 || qb_conv2d_out_w(&s) == 0) continue;
        const fused_case c = random_case(&s, sweep);
        check_fused(e, &s, &c);
      }
  /* Input zero points outside 0..255 (reference rule inside the kernel). */
  for (int32_t zp = -3; zp <= 300; zp += 303) {
    qb_conv2d_shape s = qb_dw_shape(1, 3, 1, 6, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    fused_case c = random_case(&s, sweep++);
    c.x_zp = zp;
    check_fused(e, &s, &c);
  }
  /* Zero batch, empty channel range. */
  qb_conv2d_shape z = qb_dw_shape(0, 4, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
  fused_case cz = random_case(&z, 0);
  check_fused(e, &z, &cz);
  qb_conv2d_shape one = qb_dw_shape(1, 4, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
  fused_case ce = random_case(&one, 0);
  ce.c0 = ce.c1 = 2;
  check_fused(e, &one, &ce);
  /* Random geometries. */
  for (int r = 0; r < 150; r++, sweep++) {
    const size_t kh = 1 + qb_rand_below(5), kw = 1 + qb_rand_below(5);
    qb_conv2d_shape s = qb_dw_shape(1 + qb_rand_below(2), 1 + qb_rand_below(4), 1 + qb_rand_below(2),
                             1 + qb_rand_below(30), 1 + qb_rand_below(70), kh, kw,
                             1 + qb_rand_below(2), 1 + qb_rand_below(2), 1 + qb_rand_below(2),
                             1 + qb_rand_below(2), qb_rand_below(3), qb_rand_below(3),
                             qb_rand_below(3), qb_rand_below(3));
    if (qb_conv2d_out_h(&s) == 0 || qb_conv2d_out_w(&s) == 0) continue;
    const fused_case c = random_case(&s, sweep);
    check_fused(e, &s, &c);
  }
}

static const qb_kernel_info* table_fused(const qb_dispatch_table* t) {
  return &t->qu8_qs8_qu8_dwconv2d_minmax_fp32->info;
}
static const qb_kernel_info* table_gemmlowp(const qb_dispatch_table* t) {
  return &t->qu8_qs8_qu8_dwconv2d_minmax_gemmlowp->info;
}

int main(void) {
  qb_test_seed(20261201);
  size_t n, simd = 0;
  const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry* list =
      qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entries(&n);
  qb_check_family_list("qu8_qs8_qu8_dwconv2d_minmax_fp32", list, n, sizeof list[0], table_fused);
  for (size_t i = 0; i < n; i++)
    if (qb_entry_usable(&list[i].info)) {
      const fused_kernel k = {&list[i].info, &list[i], NULL};
      run_entry(&k);
      simd += list[i].info.backend != QB_BACKEND_SCALAR;
    }
  const qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entry* gl =
      qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entries(&n);
  qb_check_family_list("qu8_qs8_qu8_dwconv2d_minmax_gemmlowp", gl, n, sizeof gl[0],
                       table_gemmlowp);
  for (size_t i = 0; i < n; i++)
    if (qb_entry_usable(&gl[i].info)) {
      const fused_kernel k = {&gl[i].info, NULL, &gl[i]};
      run_entry(&k);
      simd += gl[i].info.backend != QB_BACKEND_SCALAR;
    }
  const int status = qb_test_finish("test_dwconv_fused_exact");
  if (status == 0 && simd == 0) qb_test_skip("no SIMD backend usable: only the scalar entries ran");
  return status;
}
