/* Exactness of every uint8 im2col kernel in the dispatch list against the scalar
 * reference (qb_qu8_im2col_rows__scalar), byte for byte: widths 1..40 and wide
 * rows (both sides of the 16- and 32-byte fast loads), 1x1 / 3x3 / 5x5 / 3x1 / 1x7
 * kernels, strides 1-3, dilations 1-2, pads 0..2 asymmetric, groups 1-3, channels
 * per group giving K below, at and above multiples of 16, pad values {0, 18, 128,
 * 255}, row ranges [p0, p1) starting and ending mid-row (the rows outside must stay
 * untouched: the whole 0xA5-filled matrix is compared), random geometries from a
 * printed seed. The input ends at an inaccessible page; the matrix has guards. */
#include <stdio.h>

#include "qb_exact_util.h"
#include "qb_kernels.h"

static int printed = 0;

static void check_im2col(const qb_qu8_im2col_entry* e, const qb_conv2d_shape* s, size_t group,
                         uint8_t pad, size_t p0, size_t p1) {
  const size_t in_elems = s->in_channels * s->in_h * s->in_w;
  const size_t P = qb_conv2d_out_h(s) * qb_conv2d_out_w(s);
  const size_t K = s->in_channels / s->groups * s->kernel_h * s->kernel_w;
  qb_tail_buf tb;
  uint8_t* x = qb_tail_alloc(&tb, in_elems);
  for (size_t i = 0; i < in_elems; i++) x[i] = (uint8_t)qb_rand_below(256);
  uint8_t* ref = qb_guard_alloc(P * K);
  uint8_t* got = qb_guard_alloc(P * K);
  qb_qu8_im2col_rows__scalar(s, x, group, pad, p0, p1, ref);
  e->run(s, x, group, pad, p0, p1, got);
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < P * K; i++)
    if (got[i] != ref[i] && bad++ == 0) first = i;
  QB_CHECK_MSG(bad == 0,
               "%s c=%zu g=%zu/%zu in=%zux%zu k=%zux%zu stride=%zu,%zu dil=%zu,%zu "
               "pad=%zu,%zu,%zu,%zu rows [%zu,%zu) of %zu, K=%zu: %zu differ, first [%zu] "
               "got %d expected %d",
               e->info.name, s->in_channels, group, s->groups, s->in_h, s->in_w, s->kernel_h,
               s->kernel_w, s->stride_h, s->stride_w, s->dilation_h, s->dilation_w, s->pad_top,
               s->pad_left, s->pad_bottom, s->pad_right, p0, p1, P, K, bad, first,
               bad ? got[first] : 0, bad ? ref[first] : 0);
  qb_guard_check(got, P * K, "im2col matrix");
  if (bad && ++printed > 20) exit(qb_test_finish("test_im2col_exact"));
  qb_guard_free(got);
  qb_guard_free(ref);
  qb_tail_free(&tb);
}

static qb_conv2d_shape geom(size_t groups, size_t cg, size_t h, size_t w, size_t kh, size_t kw,
                            size_t sh, size_t sw, size_t d, size_t pt, size_t pl, size_t pb,
                            size_t pr) {
  qb_conv2d_shape s = {1, groups * cg, h, w, groups, kh, kw, sh, sw, d, d, pt, pl, pb, pr, groups};
  return s;
}

static const uint8_t pads[] = {0, 18, 128, 255};

/* Full range, and (sometimes) a sub-range starting and ending mid-row. */
static void check_ranges(const qb_qu8_im2col_entry* e, const qb_conv2d_shape* s, size_t sweep) {
  const size_t P = qb_conv2d_out_h(s) * qb_conv2d_out_w(s);
  if (P == 0) return;
  const size_t group = sweep % s->groups;
  check_im2col(e, s, group, pads[sweep % 4], 0, P);
  const size_t p0 = qb_rand_below((uint32_t)P), p1 = p0 + 1 + qb_rand_below((uint32_t)(P - p0));
  check_im2col(e, s, group, pads[(sweep + 1) % 4], p0, p1);
}

static void run_entry(const qb_qu8_im2col_entry* e) {
  static const size_t kernels[][2] = {{1, 1}, {3, 3}, {5, 5}, {3, 1}, {1, 7}};
  static const size_t cgs[] = {1, 3, 5, 16, 17};
  size_t sweep = 0;
  for (size_t W = 1; W <= 40; W++)
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++, sweep++) {
      const size_t pad = sweep % 3, st = 1 + sweep % 3 / 2 + (sweep % 17 == 16);
      qb_conv2d_shape s = geom(1 + sweep % 3, cgs[sweep % 5], 1 + sweep % 7, W, kernels[k][0],
                               kernels[k][1], st, 1 + (sweep + W) % 2 + (sweep % 13 == 12),
                               1 + (sweep % 5 == 4), pad, (pad + sweep) % 3, (sweep / 2) % 3,
                               (sweep / 3) % 3);
      check_ranges(e, &s, sweep);
    }
  /* Layer shapes: 1x1 stride 1 (a transpose), cnn / MobileNet-like 3x3, wide rows. */
  const qb_conv2d_shape layers[] = {
      geom(1, 64, 14, 14, 1, 1, 1, 1, 1, 0, 0, 0, 0),
      geom(1, 32, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      geom(1, 16, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1, 1),
      geom(1, 1, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1, 1),
      geom(2, 8, 9, 100, 3, 3, 1, 2, 1, 0, 2, 1, 0),
      geom(1, 3, 5, 200, 5, 5, 2, 2, 2, 2, 2, 2, 2),
  };
  for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++, sweep++)
    check_ranges(e, &layers[i], sweep);
  for (int r = 0; r < 150; r++, sweep++) {
    qb_conv2d_shape s = geom(1 + qb_rand_below(3), 1 + qb_rand_below(20), 1 + qb_rand_below(20),
                             1 + qb_rand_below(80), 1 + qb_rand_below(5), 1 + qb_rand_below(5),
                             1 + qb_rand_below(3), 1 + qb_rand_below(3), 1 + qb_rand_below(2),
                             qb_rand_below(3), qb_rand_below(3), qb_rand_below(3),
                             qb_rand_below(3));
    check_ranges(e, &s, sweep);
  }
}

static const qb_kernel_info* table_im2col(const qb_dispatch_table* t) { return &t->qu8_im2col->info; }

int main(void) {
  qb_test_seed(20261202);
  size_t n, simd = 0;
  const qb_qu8_im2col_entry* list = qb_qu8_im2col_entries(&n);
  qb_check_family_list("qu8_im2col", list, n, sizeof list[0], table_im2col);
  for (size_t i = 0; i < n; i++)
    if (qb_entry_usable(&list[i].info)) {
      run_entry(&list[i]);
      simd += list[i].info.backend != QB_BACKEND_SCALAR;
    }
  const int status = qb_test_finish("test_im2col_exact");
  if (status == 0 && simd == 0) qb_test_skip("no SIMD backend usable: only the scalar entries ran");
  return status;
}
