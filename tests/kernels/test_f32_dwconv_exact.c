/* fp32 depthwise conv family (kernels/f32-dwconv): every usable entry bit-identical
 * to the reference qb_f32_dwconv2d__scalar, and the reference equal (==) to the
 * naive order it replaced (im2col + GEMM: a multiply and an add for every tap,
 * padding taps adding w*0; adding a zero never changes an accumulator that starts
 * at +0, so skipping them is exact). Kernels 1x1, 3x3, 5x5, 1x7; strides 1, 2, 3;
 * dilation 1, 2; asymmetric pads; input sizes 1..17 (the 8-channel block path for
 * 8..21 channels, then the padded-plane path for the rest) and 64..71 (larger than
 * both buffers: the row path); channel counts 1..21 and a channel sub-range
 * [c0, c1), which must leave the other channels' 0xA5 fill untouched. */
#include <math.h>
#include <stdio.h>

#include "f32-dwconv/qb_f32_dwconv2d.h"
#include "qb_exact_util.h"

typedef struct {
  size_t k_h, k_w, stride, dilation, pad_t, pad_l, pad_b, pad_r;
} geom;

static const geom k_geoms[] = {
    {3, 3, 1, 1, 1, 1, 1, 1}, {3, 3, 2, 1, 1, 1, 1, 1}, {5, 5, 1, 1, 2, 2, 2, 2},
    {5, 5, 2, 1, 2, 2, 2, 2}, {1, 1, 1, 1, 0, 0, 0, 0}, {1, 7, 1, 1, 0, 3, 0, 3},
    {3, 3, 3, 2, 2, 0, 1, 3}, {3, 3, 1, 2, 0, 1, 2, 0},
};

static float naive_at(const qb_conv2d_shape* s, const float* x, const float* w, size_t c, size_t oy,
                      size_t ox) {
  float acc = 0.0f;
  for (size_t ky = 0; ky < s->kernel_h; ky++)
    for (size_t kx = 0; kx < s->kernel_w; kx++) {
      const ptrdiff_t iy = (ptrdiff_t)(oy * s->stride_h + ky * s->dilation_h) - (ptrdiff_t)s->pad_top;
      const ptrdiff_t ix = (ptrdiff_t)(ox * s->stride_w + kx * s->dilation_w) - (ptrdiff_t)s->pad_left;
      const bool in = iy >= 0 && iy < (ptrdiff_t)s->in_h && ix >= 0 && ix < (ptrdiff_t)s->in_w;
      const float v = in ? x[(c * s->in_h + (size_t)iy) * s->in_w + (size_t)ix] : 0.0f;
      const float p = w[(c * s->kernel_h + ky) * s->kernel_w + kx] * v;
      acc = acc + p;
    }
  return acc;
}

static void check(const qb_f32_dwconv2d_entry* list, size_t count, const geom* g, size_t h, size_t wd,
                  size_t C) {
  qb_conv2d_shape s = {0};
  s.batch = 1, s.in_channels = s.out_channels = s.groups = C, s.in_h = h, s.in_w = wd;
  s.kernel_h = g->k_h, s.kernel_w = g->k_w, s.stride_h = s.stride_w = g->stride;
  s.dilation_h = s.dilation_w = g->dilation;
  s.pad_top = g->pad_t, s.pad_left = g->pad_l, s.pad_bottom = g->pad_b, s.pad_right = g->pad_r;
  if ((h + g->pad_t + g->pad_b) < (g->k_h - 1) * g->dilation + 1 ||
      (wd + g->pad_l + g->pad_r) < (g->k_w - 1) * g->dilation + 1)
    return;
  const size_t oh = qb_conv2d_out_h(&s), ow = qb_conv2d_out_w(&s), n = C * oh * ow;
  qb_tail_buf tx;
  float* x = qb_tail_alloc(&tx, C * h * wd * sizeof(float));
  float* w = malloc(C * g->k_h * g->k_w * sizeof *w);
  for (size_t i = 0; i < C * h * wd; i++) x[i] = qb_rand_normal();
  for (size_t i = 0; i < C * g->k_h * g->k_w; i++) w[i] = qb_rand_normal();
  float* ref = malloc(n * sizeof *ref);
  float* got = malloc(n * sizeof *got);
  qb_f32_dwconv2d__scalar(&s, 0, C, x, w, ref);
  size_t off_naive = 0;
  for (size_t c = 0; c < C; c++)
    for (size_t oy = 0; oy < oh; oy++)
      for (size_t ox = 0; ox < ow; ox++)
        off_naive += !(ref[(c * oh + oy) * ow + ox] == naive_at(&s, x, w, c, oy, ox));
  QB_CHECK_MSG(off_naive == 0, "reference vs naive k=%zux%zu s=%zu d=%zu %zux%zu: %zu differ",
               g->k_h, g->k_w, g->stride, g->dilation, h, wd, off_naive);
  for (size_t i = 0; i < count; i++) {
    if (!qb_isa_usable(list[i].info.backend)) continue;
    /* All channels, then a sub-range over a 0xA5 fill. */
    list[i].run(&s, 0, C, x, w, got);
    QB_CHECK_MSG(memcmp(got, ref, n * sizeof *got) == 0, "%s k=%zux%zu s=%zu d=%zu %zux%zu",
                 list[i].info.name, g->k_h, g->k_w, g->stride, g->dilation, h, wd);
    memset(got, 0xA5, n * sizeof *got);
    const size_t c0 = C / 3, c1 = C - C / 3, plane = oh * ow;
    list[i].run(&s, c0, c1, x, w, got);
    size_t bad = 0;
    for (size_t j = 0; j < n; j++) {
      const size_t c = j / plane;
      uint32_t bits;
      memcpy(&bits, &got[j], 4);
      bad += c >= c0 && c < c1 ? memcmp(&got[j], &ref[j], 4) != 0 : bits != 0xA5A5A5A5u;
    }
    QB_CHECK_MSG(bad == 0, "%s channels [%zu, %zu) of %zu: %zu wrong", list[i].info.name, c0, c1, C, bad);
  }
  qb_tail_free(&tx);
  free(w), free(ref), free(got);
}

int main(void) {
  qb_test_seed(0xD3C0u);
  size_t count;
  const qb_f32_dwconv2d_entry* list = qb_f32_dwconv2d_entries(&count);
  for (size_t i = 0; i < count; i++) {
    const char* tok = strstr(list[i].info.name, "__");
    QB_CHECK_MSG(tok && strcmp(tok + 2, qb_backend_name(list[i].info.backend)) == 0 && list[i].info.exact,
                 "%s", list[i].info.name);
    QB_CHECK((list[i].info.backend == QB_BACKEND_SCALAR) == (i + 1 == count));
  }
  for (size_t g = 0; g < sizeof k_geoms / sizeof k_geoms[0]; g++)
    for (size_t h = 1; h <= 17; h += (h < 9 ? 1 : 4))
      for (size_t w = 1; w <= 17; w += (w < 5 ? 1 : 3))
        check(list, count, &k_geoms[g], h, w, 1 + (h + w) % 5 + 8 * ((h + w) % 3));
  /* Planes larger than the padded path's buffer (QB_F32_DWCONV_PADDED floats). */
  check(list, count, &k_geoms[0], 70, 71, 2);
  check(list, count, &k_geoms[2], 64, 65, 3);
  return qb_test_finish("test_f32_dwconv_exact");
}
