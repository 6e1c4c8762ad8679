/* Scalar reference quantized convolution (kernels/ref/conv__scalar.c), NCHW, ONNX
 * ConvInteger semantics:
 *
 *   out[b][oc][oh][ow] = sum_{c,kh,kw} (x[b][g*Cg + c][ih][iw] - x_zp) * (w[oc][c][kh][kw] - w_zp[oc])
 *   ih = oh*stride_h - pad_top + kh*dilation_h,  iw = ow*stride_w - pad_left + kw*dilation_w
 *   taps outside the image contribute zero.
 *
 * Checks qb_conv2d_out_h/w on hand-worked geometry (incl. 0 when the kernel span
 * exceeds the padded input), a hand-worked padded strided conv, and both im2col convs
 * and the depthwise conv against a direct 7-loop definition computed here in int64,
 * over random shapes (groups > 1, asymmetric pads, stride 2, dilation 2, 1x1
 * kernels, batch 2, per-channel weight zero points). Outputs and the im2col scratch
 * live in guarded buffers sized exactly as documented. */
#include <stdlib.h>
#include <string.h>

#include "qb_kernels.h"
#include "qb_test.h"

static const int32_t u8_zps[] = {0, 18, 75, 128, 157, 231, 255};
static const int32_t s8_zps[] = {-128, -110, -53, 0, 29, 103, 127};

static qb_conv2d_shape geom(size_t in_h, size_t in_w, size_t kh, size_t kw, size_t sh, size_t sw,
                            size_t dh, size_t dw, size_t pt, size_t pl, size_t pb, size_t pr) {
  qb_conv2d_shape s;
  memset(&s, 0, sizeof s);
  s.batch = s.in_channels = s.out_channels = s.groups = 1;
  s.in_h = in_h;
  s.in_w = in_w;
  s.kernel_h = kh;
  s.kernel_w = kw;
  s.stride_h = sh;
  s.stride_w = sw;
  s.dilation_h = dh;
  s.dilation_w = dw;
  s.pad_top = pt;
  s.pad_left = pl;
  s.pad_bottom = pb;
  s.pad_right = pr;
  return s;
}

static void test_out_size(void) {
  /* out = floor((in + pad_a + pad_b - (dilation*(k-1) + 1)) / stride) + 1, or 0 when
   * the span exceeds the padded input. The h and w fields get different cases in
   * one struct, so each function must read its own fields. */
  qb_conv2d_shape s;
  /* h: in 5, k 3 -> 3.  w: in 5, k 3, pads 1/1 -> 5 */
  s = geom(5, 5, 3, 3, 1, 1, 1, 1, 0, 1, 0, 1);
  QB_CHECK_EQ_INT(qb_conv2d_out_h(&s), 3);
  QB_CHECK_EQ_INT(qb_conv2d_out_w(&s), 5);
  /* h: in 7, k 3, pads 1/1, stride 2 -> (9 - 3)/2 + 1 = 4.  w: in 7, k 3, dilation 2
   * -> span 5 -> (7 - 5) + 1 = 3 */
  s = geom(7, 7, 3, 3, 2, 1, 1, 2, 1, 0, 1, 0);
  QB_CHECK_EQ_INT(qb_conv2d_out_h(&s), 4);
  QB_CHECK_EQ_INT(qb_conv2d_out_w(&s), 3);
  /* h: in 2, k 5, pads 1/1: padded 4 < 5 -> 0.  w: in 3, k 5, pads 1/1: 5 - 5 -> 1 */
  s = geom(2, 3, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1);
  QB_CHECK_EQ_INT(qb_conv2d_out_h(&s), 0);
  QB_CHECK_EQ_INT(qb_conv2d_out_w(&s), 1);
  /* h: in 4, k 2, pad top 0 bottom 1, stride 2: (5 - 2)/2 + 1 = 2.
   * w: in 8, k 3, dilation 3, stride 3, pads 2/1: span 7, (11 - 7)/3 + 1 = 2 */
  s = geom(4, 8, 2, 3, 2, 3, 1, 3, 0, 2, 1, 1);
  QB_CHECK_EQ_INT(qb_conv2d_out_h(&s), 2);
  QB_CHECK_EQ_INT(qb_conv2d_out_w(&s), 2);
  /* h: in 6, k 3, stride 2 -> floor(3/2) + 1 = 2.  w: in 1, k 1 -> 1 */
  s = geom(6, 1, 3, 1, 2, 1, 1, 1, 0, 0, 0, 0);
  QB_CHECK_EQ_INT(qb_conv2d_out_h(&s), 2);
  QB_CHECK_EQ_INT(qb_conv2d_out_w(&s), 1);
  /* h: in 3, k 3, dilation 2 (span 5) -> 0 without padding; w: in 1, k 3, pads 1/1 -> 1 */
  s = geom(3, 1, 3, 3, 1, 1, 2, 1, 0, 1, 0, 1);
  QB_CHECK_EQ_INT(qb_conv2d_out_h(&s), 0);
  QB_CHECK_EQ_INT(qb_conv2d_out_w(&s), 1);
  /* h: only padding is big enough: in 1, k 4, pads 2/1 -> 1; pads 3/3 -> (7-4)/1 + 1 = 4 */
  s = geom(1, 1, 4, 4, 1, 1, 1, 1, 2, 3, 1, 3);
  QB_CHECK_EQ_INT(qb_conv2d_out_h(&s), 1);
  QB_CHECK_EQ_INT(qb_conv2d_out_w(&s), 4);
}

/* The definition, seven loops (b, oc, oh, ow, c, kh, kw), int64 accumulators. */
static void direct_conv(const qb_conv2d_shape* s, const uint8_t* x, int32_t xzp, const int32_t* w,
                        const int32_t* wzp, int64_t* out) {
  const size_t OH = qb_conv2d_out_h(s), OW = qb_conv2d_out_w(s);
  const size_t cg = s->in_channels / s->groups, ocg = s->out_channels / s->groups;
  for (size_t b = 0; b < s->batch; b++)
    for (size_t oc = 0; oc < s->out_channels; oc++)
      for (size_t oh = 0; oh < OH; oh++)
        for (size_t ow = 0; ow < OW; ow++) {
          int64_t acc = 0;
          const size_t g = oc / ocg;
          for (size_t c = 0; c < cg; c++)
            for (size_t kh = 0; kh < s->kernel_h; kh++)
              for (size_t kw = 0; kw < s->kernel_w; kw++) {
                const long ih = (long)(oh * s->stride_h + kh * s->dilation_h) - (long)s->pad_top;
                const long iw = (long)(ow * s->stride_w + kw * s->dilation_w) - (long)s->pad_left;
                int32_t xv = xzp;
                if (ih >= 0 && ih < (long)s->in_h && iw >= 0 && iw < (long)s->in_w)
                  xv = x[((b * s->in_channels + g * cg + c) * s->in_h + (size_t)ih) * s->in_w + (size_t)iw];
                const int32_t wv = w[((oc * cg + c) * s->kernel_h + kh) * s->kernel_w + kw];
                acc += (int64_t)(xv - xzp) * (wv - wzp[oc]);
              }
          out[((b * s->out_channels + oc) * OH + oh) * OW + ow] = acc;
        }
}

static void test_hand(void) {
  /* One 3x3 image, x_zp = 1, values 2..10 (so x - x_zp = 1..9):
   *   x - zp = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
   * 2x2 kernel w - w_zp = [[1, 2], [3, 4]], pads 1 all round, stride 2 -> 2x2 output.
   * Padded taps read x_zp and contribute 0 (padding with 0 instead would add
   * (0 - 1) * w terms).
   *   out[0][0]: ih -1..0, iw -1..0: only (0,0) = 1 under w[1][1] = 4        -> 4
   *   out[0][1]: ih -1..0, iw 1..2: (0,1) = 2 * w[1][0] = 3, (0,2) = 3 * 4   -> 18
   *   out[1][0]: ih 1..2, iw -1..0: (1,0) = 4 * w[0][1] = 2, (2,0) = 7 * 4   -> 36
   *   out[1][1]: ih 1..2, iw 1..2: 5*1 + 6*2 + 8*3 + 9*4                     -> 77 */
  qb_conv2d_shape s = geom(3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1);
  const uint8_t x[9] = {2, 3, 4, 5, 6, 7, 8, 9, 10};
  const int8_t ws[4] = {-4, -3, -2, -1}; /* w_zp = -5 */
  const uint8_t wu[4] = {201, 202, 203, 204}; /* w_zp = 200 */
  const int32_t zps = -5, zpu = 200;
  const int32_t want[4] = {4, 18, 36, 77};
  int32_t* out = qb_guard_alloc(4 * sizeof(int32_t));
  uint8_t* scratch = qb_guard_alloc(4 * 4);
  qb_qu8_qs8_qs32_conv2d_im2col__scalar(&s, x, 1, ws, &zps, out, scratch);
  for (int i = 0; i < 4; i++) QB_CHECK_EQ_INT(out[i], want[i]);
  qb_qu8_qu8_qs32_conv2d_im2col__scalar(&s, x, 1, wu, &zpu, out, scratch);
  for (int i = 0; i < 4; i++) QB_CHECK_EQ_INT(out[i], want[i]);
  qb_qu8_qs8_qs32_dwconv2d__scalar(&s, x, 1, ws, &zps, out);
  for (int i = 0; i < 4; i++) QB_CHECK_EQ_INT(out[i], want[i]);
  qb_guard_check(out, 4 * sizeof(int32_t), "hand out");
  qb_guard_check(scratch, 16, "hand scratch");
  /* im2col columns for output (0,0): taps (-1,-1) (-1,0) (0,-1) (0,0) -> pad, pad, pad, x = 2 */
  uint8_t cols[16];
  qb_qu8_im2col__scalar(&s, x, 0, 1, cols);
  QB_CHECK_EQ_INT(cols[0], 1);
  QB_CHECK_EQ_INT(cols[1], 1);
  QB_CHECK_EQ_INT(cols[2], 1);
  QB_CHECK_EQ_INT(cols[3], 2);
  /* output (1,1): taps (1,1) (1,2) (2,1) (2,2) -> 6, 7, 9, 10 */
  QB_CHECK_EQ_INT(cols[12], 6);
  QB_CHECK_EQ_INT(cols[13], 7);
  QB_CHECK_EQ_INT(cols[14], 9);
  QB_CHECK_EQ_INT(cols[15], 10);
  qb_guard_free(out);
  qb_guard_free(scratch);
}

typedef enum { W_QS8, W_QU8, W_DW } which;

/* One problem: random x, weights, zero points; run the kernel(s); compare with the
 * definition. Returns the number of mismatching outputs. */
static int check_conv(const qb_conv2d_shape* s, which kind, int extreme, int xzp_pad_only) {
  const size_t OH = qb_conv2d_out_h(s), OW = qb_conv2d_out_w(s);
  const size_t cg = s->in_channels / s->groups;
  const size_t xn = s->batch * s->in_channels * s->in_h * s->in_w;
  const size_t wn = s->out_channels * cg * s->kernel_h * s->kernel_w;
  const size_t on = s->batch * s->out_channels * OH * OW;
  const size_t scratch_n = OH * OW * cg * s->kernel_h * s->kernel_w;
  const int signed_w = kind != W_QU8;
  const int32_t xzp = u8_zps[qb_rand_below(7)];
  uint8_t* x = malloc(xn ? xn : 1);
  int32_t* w = malloc(wn * sizeof(int32_t));
  int32_t* wzp = malloc(s->out_channels * sizeof(int32_t));
  for (size_t i = 0; i < xn; i++)
    x[i] = (uint8_t)(xzp_pad_only ? xzp : (extreme ? (qb_rand_below(2) ? 255 : 0) : qb_rand_range(0, 255)));
  for (size_t i = 0; i < wn; i++)
    w[i] = extreme ? (signed_w ? (qb_rand_below(2) ? -128 : 127) : (qb_rand_below(2) ? 0 : 255))
                   : (signed_w ? qb_rand_range(-128, 127) : qb_rand_range(0, 255));
  for (size_t oc = 0; oc < s->out_channels; oc++)
    wzp[oc] = signed_w ? s8_zps[qb_rand_below(7)] : u8_zps[qb_rand_below(7)];
  /* typed weights in an exactly sized buffer */
  void* wt = malloc(wn ? wn : 1);
  for (size_t i = 0; i < wn; i++) {
    if (signed_w) ((int8_t*)wt)[i] = (int8_t)w[i];
    else ((uint8_t*)wt)[i] = (uint8_t)w[i];
  }
  int64_t* want = malloc((on ? on : 1) * sizeof(int64_t));
  direct_conv(s, x, xzp, w, wzp, want);

  int bad = 0;
  int32_t* out = qb_guard_alloc(on * sizeof(int32_t));
  if (kind == W_DW) {
    qb_qu8_qs8_qs32_dwconv2d__scalar(s, x, xzp, wt, wzp, out);
  } else {
    uint8_t* scratch = qb_guard_alloc(scratch_n);
    if (kind == W_QS8) qb_qu8_qs8_qs32_conv2d_im2col__scalar(s, x, xzp, wt, wzp, out, scratch);
    else qb_qu8_qu8_qs32_conv2d_im2col__scalar(s, x, xzp, wt, wzp, out, scratch);
    if (qb_guard_check(scratch, scratch_n, "im2col scratch")) bad++;
    qb_guard_free(scratch);
  }
  if (qb_guard_check(out, on * sizeof(int32_t), "conv out")) bad++;
  for (size_t i = 0; i < on; i++) {
    if (out[i] != want[i] || (xzp_pad_only && out[i] != 0)) {
      if (bad < 3)
        fprintf(stderr,
                "conv kind=%d b=%zu C=%zu H=%zu W=%zu OC=%zu k=%zux%zu s=%zu,%zu d=%zu,%zu "
                "pads=%zu,%zu,%zu,%zu g=%zu: out[%zu] = %d, want %lld\n",
                (int)kind, s->batch, s->in_channels, s->in_h, s->in_w, s->out_channels,
                s->kernel_h, s->kernel_w, s->stride_h, s->stride_w, s->dilation_h,
                s->dilation_w, s->pad_top, s->pad_left, s->pad_bottom, s->pad_right, s->groups,
                i, out[i], (long long)want[i]);
      bad++;
    }
  }
  /* depthwise shapes also go through the im2col conv (groups = channels) */
  if (kind == W_DW) {
    int32_t* out2 = qb_guard_alloc(on * sizeof(int32_t));
    uint8_t* scratch = qb_guard_alloc(scratch_n);
    qb_qu8_qs8_qs32_conv2d_im2col__scalar(s, x, xzp, wt, wzp, out2, scratch);
    if (on && memcmp(out2, out, on * sizeof(int32_t)) != 0) bad++;
    if (qb_guard_check(scratch, scratch_n, "dw im2col scratch")) bad++;
    if (qb_guard_check(out2, on * sizeof(int32_t), "dw im2col out")) bad++;
    qb_guard_free(scratch);
    qb_guard_free(out2);
  }
  qb_guard_free(out);
  free(want);
  free(wt);
  free(wzp);
  free(w);
  free(x);
  return bad;
}

static qb_conv2d_shape random_shape(int depthwise) {
  qb_conv2d_shape s;
  s.batch = 1 + qb_rand_below(2);
  s.groups = 1 + qb_rand_below(3);
  const size_t cg = depthwise ? 1 : 1 + qb_rand_below(4);
  const size_t ocg = depthwise ? 1 + qb_rand_below(2) : 1 + qb_rand_below(3); /* dw multiplier 1 or 2 */
  if (depthwise) s.groups = 1 + qb_rand_below(5);
  s.in_channels = s.groups * cg;
  s.out_channels = s.groups * ocg;
  s.in_h = 1 + qb_rand_below(9);
  s.in_w = 1 + qb_rand_below(9);
  s.kernel_h = 1 + qb_rand_below(3);
  s.kernel_w = 1 + qb_rand_below(3);
  s.stride_h = 1 + qb_rand_below(2);
  s.stride_w = 1 + qb_rand_below(2);
  s.dilation_h = 1 + qb_rand_below(2);
  s.dilation_w = 1 + qb_rand_below(2);
  s.pad_top = qb_rand_below(3);
  s.pad_left = qb_rand_below(3);
  s.pad_bottom = qb_rand_below(3);
  s.pad_right = qb_rand_below(3);
  return s;
}

static void test_random(void) {
  int bad = 0, empty = 0;
  for (int it = 0; it < 600; it++) {
    const which kind = (which)(it % 3);
    const qb_conv2d_shape s = random_shape(kind == W_DW);
    empty += qb_conv2d_out_h(&s) * qb_conv2d_out_w(&s) == 0;
    bad += check_conv(&s, kind, qb_rand_below(5) == 0, 0);
  }
  QB_CHECK_EQ_INT(bad, 0);
  QB_CHECK(empty > 0); /* some shapes had no output at all, and wrote nothing */
}

/* Named shapes: each feature on its own, plus a larger one. */
static void test_named(void) {
  static const struct {
    size_t b, c, h, w, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, g;
  } shapes[] = {
      {1, 3, 8, 8, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},  /* 1x1 */
      {2, 3, 7, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  /* batch 2, same pad */
      {1, 2, 9, 9, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},  /* stride 2 */
      {1, 2, 9, 8, 2, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},  /* dilation 2 */
      {1, 4, 6, 7, 6, 3, 2, 1, 2, 1, 1, 0, 2, 1, 0, 2},  /* groups 2, asymmetric pads */
      {2, 6, 5, 5, 9, 3, 3, 2, 1, 1, 2, 2, 0, 0, 1, 3},  /* groups 3 */
      {1, 1, 17, 17, 1, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1}, /* larger image */
      {1, 16, 10, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* wide reduction (K = 144) */
      {1, 2, 3, 3, 2, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* kernel > padded input: empty */
      {1, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* 1x1 image, all but centre padded */
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    const qb_conv2d_shape s = {shapes[i].b,  shapes[i].c,  shapes[i].h,  shapes[i].w,
                               shapes[i].oc, shapes[i].kh, shapes[i].kw, shapes[i].sh,
                               shapes[i].sw, shapes[i].dh, shapes[i].dw, shapes[i].pt,
                               shapes[i].pl, shapes[i].pb, shapes[i].pr, shapes[i].g};
    for (int rep = 0; rep < 3; rep++) {
      bad += check_conv(&s, W_QS8, rep == 2, 0);
      bad += check_conv(&s, W_QU8, rep == 2, 0);
    }
  }
  /* depthwise, multiplier 1 and 2, with stride / dilation / asymmetric pads */
  static const struct { size_t c, mult, h, w, k, st, dil, pt, pl, pb, pr; } dw[] = {
      {3, 1, 7, 7, 3, 1, 1, 1, 1, 1, 1}, {4, 2, 8, 6, 3, 2, 1, 1, 0, 0, 1},
      {2, 2, 9, 9, 3, 1, 2, 2, 1, 2, 0}, {5, 1, 5, 4, 1, 1, 1, 0, 0, 0, 0},
      {1, 2, 2, 2, 5, 1, 1, 0, 0, 0, 0}, /* empty output */
  };
  for (size_t i = 0; i < sizeof dw / sizeof dw[0]; i++) {
    qb_conv2d_shape s = geom(dw[i].h, dw[i].w, dw[i].k, dw[i].k, dw[i].st, dw[i].st, dw[i].dil,
                             dw[i].dil, dw[i].pt, dw[i].pl, dw[i].pb, dw[i].pr);
    s.batch = 2;
    s.in_channels = s.groups = dw[i].c;
    s.out_channels = dw[i].c * dw[i].mult;
    for (int rep = 0; rep < 3; rep++) bad += check_conv(&s, W_DW, rep == 2, 0);
  }
  QB_CHECK_EQ_INT(bad, 0);
}

/* Input all equal to the zero point, heavy padding, random weights and weight zero
 * points: every output is exactly 0 (image and padding both contribute zero). */
static void test_padding_contributes_zero(void) {
  int bad = 0;
  for (int it = 0; it < 60; it++) {
    qb_conv2d_shape s = random_shape(it % 3 == 2);
    s.pad_top += 2;
    s.pad_left += 1;
    s.pad_bottom += 3;
    s.pad_right += 2;
    bad += check_conv(&s, (which)(it % 3), 0, 1);
  }
  QB_CHECK_EQ_INT(bad, 0);
}

int main(void) {
  qb_test_seed(8675309);
  test_out_size();
  test_hand();
  test_random();
  test_named();
  test_padding_contributes_zero();
  return qb_test_finish("test_ref_conv");
}
