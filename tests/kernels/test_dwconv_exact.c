/* Exactness of every depthwise convolution kernel (qu8 x qs8 -> qs32, NCHW) in the
 * dispatch list against the scalar reference, bit for bit: input widths and heights
 * over tail sizes (1..10, 15-17, 31-33, 63-65), kernels 1x1 / 3x3 / 5x5 / 3x1 / 1x7,
 * dilations 1-3, asymmetric padding up to wider than the kernel, vertical and
 * horizontal strides 1-2, channel multipliers 1-2, batch 1-2, input zero-point sweeps,
 * per-channel weight zero points, all-extreme values, random geometries from a
 * printed seed. The input ends at an inaccessible page; outputs have 0xA5 guard bytes. */
#include <stdio.h>

#include "qb_exact_util.h"
#include "qb_kernels.h"

static int printed = 0;

static void check_conv(const qb_qu8_qs8_qs32_dwconv2d_entry* e, const qb_conv2d_shape* s,
                       int32_t x_zp, bool extreme) {
  const size_t in_elems = s->batch * s->in_channels * s->in_h * s->in_w;
  const size_t taps = s->kernel_h * s->kernel_w;
  const size_t out_elems = s->batch * s->out_channels * qb_conv2d_out_h(s) * qb_conv2d_out_w(s);
  qb_tail_buf tb;
  uint8_t* x = qb_tail_alloc(&tb, in_elems);
  for (size_t i = 0; i < in_elems; i++) x[i] = extreme ? (qb_rand_below(2) ? 255 : 0) : (uint8_t)qb_rand_below(256);
  int8_t* w = malloc(s->out_channels * taps + 1);
  int32_t* wzp = malloc((s->out_channels + 1) * sizeof(int32_t));
  for (size_t i = 0; i < s->out_channels * taps; i++)
    w[i] = extreme ? (int8_t)(qb_rand_below(2) ? 127 : -128) : (int8_t)qb_rand_range(-128, 127);
  for (size_t oc = 0; oc < s->out_channels; oc++) wzp[oc] = extreme ? (oc % 2 ? 127 : -128) : qb_rand_range(-128, 127);
  int32_t* ref = malloc((out_elems + 1) * sizeof(int32_t));
  int32_t* got = qb_guard_alloc(out_elems * sizeof(int32_t));
  qb_qu8_qs8_qs32_dwconv2d__scalar(s, x, x_zp, w, wzp, ref);
  e->run(s, x, x_zp, w, wzp, got);
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < out_elems; i++)
    if (got[i] != ref[i] && bad++ == 0) first = i;
  QB_CHECK_MSG(bad == 0, "%s b=%zu c=%zu->%zu in=%zux%zu k=%zux%zu stride=%zu,%zu dil=%zu,%zu "
               "pad=%zu,%zu,%zu,%zu x_zp=%d: %zu of %zu differ, first [%zu] got %d expected %d",
               e->info.name, s->batch, s->in_channels, s->out_channels, s->in_h, s->in_w,
               s->kernel_h, s->kernel_w, s->stride_h, s->stride_w, s->dilation_h, s->dilation_w,
               s->pad_top, s->pad_left, s->pad_bottom, s->pad_right, x_zp, bad, out_elems, first,
               bad ? got[first] : 0, bad ? ref[first] : 0);
  qb_guard_check(got, out_elems * sizeof(int32_t), "dwconv output");
  if (bad && ++printed > 20) exit(qb_test_finish("test_dwconv_exact"));
  qb_guard_free(got);
  free(ref);
  free(wzp);
  free(w);
  qb_tail_free(&tb);
}

static const size_t widths[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 63, 64, 65};
static const int32_t x_zps[] = {0, 18, 75, 128, 157, 231, 255};

static void run_entry(const qb_qu8_qs8_qs32_dwconv2d_entry* e) {
  static const size_t kernels[][2] = {{1, 1}, {3, 3}, {5, 5}, {3, 1}, {1, 7}};
  size_t sweep = 0;
  for (size_t iw = 0; iw < sizeof widths / sizeof widths[0]; iw++)
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++)
      for (size_t pad = 0; pad < 4; pad++, sweep++) {
        const size_t W = widths[iw], H = 1 + (sweep % 6), dil = 1 + sweep % 3 / 2;
        const size_t sh = 1 + (sweep % 4 == 3), sw = 1 + (sweep % 9 == 8);
        qb_conv2d_shape s = qb_dw_shape(1 + sweep % 2, 1 + sweep % 3, 1 + (sweep % 5 == 4), H, W,
                                 kernels[k][0], kernels[k][1], sh, sw, dil, dil, pad,
                                 pad, (pad + sweep) % 4, (pad * 3 + sweep) % 5);
        if (qb_conv2d_out_h(&s) == 0 || qb_conv2d_out_w(&s) == 0) continue;
        check_conv(e, &s, x_zps[sweep % 7], sweep % 11 == 10);
      }
  /* Typical MobileNet layers and a wide image. */
  qb_conv2d_shape m1 = qb_dw_shape(1, 32, 1, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
  qb_conv2d_shape m2 = qb_dw_shape(1, 16, 1, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1);
  qb_conv2d_shape m3 = qb_dw_shape(2, 3, 2, 9, 130, 5, 5, 1, 1, 2, 3, 4, 6, 0, 2);
  check_conv(e, &m1, 128, false);
  check_conv(e, &m2, 3, false);
  check_conv(e, &m3, 255, true);
  /* Zero batch / channels. */
  qb_conv2d_shape z = qb_dw_shape(0, 4, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
  check_conv(e, &z, 0, false);
  /* Random geometries. */
  for (int r = 0; r < 120; r++) {
    const size_t kh = 1 + qb_rand_below(5), kw = 1 + qb_rand_below(5);
    qb_conv2d_shape s = qb_dw_shape(1 + qb_rand_below(2), 1 + qb_rand_below(4), 1 + qb_rand_below(2),
                             1 + qb_rand_below(40), 1 + qb_rand_below(70), kh, kw,
                             1 + qb_rand_below(2), qb_rand_below(4) ? 1 : 2, 1 + qb_rand_below(2),
                             1 + qb_rand_below(3), qb_rand_below(4), qb_rand_below(5),
                             qb_rand_below(4), qb_rand_below(5));
    if (qb_conv2d_out_h(&s) == 0 || qb_conv2d_out_w(&s) == 0) continue;
    check_conv(e, &s, qb_rand_range(-300, 600), qb_rand_below(8) == 0);
  }
}

static const qb_kernel_info* table_dwconv(const qb_dispatch_table* t) { return &t->qu8_qs8_qs32_dwconv2d->info; }

int main(void) {
  qb_test_seed(20261204);
  size_t n, simd = 0;
  const qb_qu8_qs8_qs32_dwconv2d_entry* list = qb_qu8_qs8_qs32_dwconv2d_entries(&n);
  qb_check_family_list("qu8_qs8_qs32_dwconv2d", list, n, sizeof list[0], table_dwconv);
  for (size_t i = 0; i < n; i++)
    if (qb_entry_usable(&list[i].info)) {
      run_entry(&list[i]);
      simd += list[i].info.backend != QB_BACKEND_SCALAR;
    }
  const int status = qb_test_finish("test_dwconv_exact");
  if (status == 0 && simd == 0) qb_test_skip("no SIMD backend usable: only the scalar entries ran");
  return status;
}
