/* Threaded convolution drivers (harness/parallel): for every usable fused depthwise
 * entry (fp32 and gemmlowp rules) and every usable im2col entry, the result on 1, 2 and 3 threads (and on the
 * calling thread, NULL pool) is bit-identical to the scalar reference, on shapes
 * with fewer channels / rows than threads, channel multipliers, batch 2, strides
 * 1-2 and pads. Outputs are 0xA5-filled first and compared whole. */
#include <stdlib.h>
#include <string.h>

#include "qb_dispatch.h"
#include "qb_dwconv_threaded.h"
#include "qb_im2col_threaded.h"
#include "qb_kernels.h"
#include "qb_test.h"

static qb_conv2d_shape dw_geom(size_t batch, size_t ch, size_t mult, size_t h, size_t w, size_t k,
                               size_t stride, size_t pad) {
  qb_conv2d_shape s = {batch, ch, h, w, ch * mult, k, k, stride, stride, 1, 1,
                       pad, pad, pad, pad, ch};
  return s;
}

/* e (fp32 rule) or g (gemmlowp rule). */
static void dwconv_case(const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry* e,
                        const qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entry* g,
                        const qb_conv2d_shape* s, qb_thread_pool* pools[4]) {
  const size_t C = s->out_channels, taps = s->kernel_h * s->kernel_w;
  const size_t in = s->batch * s->in_channels * s->in_h * s->in_w;
  const size_t out = s->batch * C * qb_conv2d_out_h(s) * qb_conv2d_out_w(s);
  uint8_t* x = malloc(in + 1);
  int8_t* w = malloc(C * taps);
  int32_t* wzp = malloc(C * sizeof(int32_t));
  int32_t* bias = malloc(C * sizeof(int32_t));
  float* scale = malloc(C * sizeof(float));
  qb_fixedpoint_multiplier* mult = malloc(C * sizeof *mult);
  uint8_t* ref = malloc(out + 1);
  uint8_t* y = malloc(out + 1);
  for (size_t i = 0; i < in; i++) x[i] = (uint8_t)qb_rand_below(256);
  for (size_t i = 0; i < C * taps; i++) w[i] = (int8_t)qb_rand_range(-128, 127);
  for (size_t c = 0; c < C; c++) {
    wzp[c] = qb_rand_range(-5, 5);
    bias[c] = qb_rand_range(-3000, 3000);
    scale[c] = 1.0f / 256.0f;
    mult[c] = qb_fixedpoint_multiplier_from_double(1.0 / (200 + (double)c));
  }
  const qb_dwconv_args a = {s, x, 128, w, wzp, bias, scale, mult, 3, 3, 200, y};
  memset(ref, 0xA5, out + 1);
  if (e)
    qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar(s, 0, C, x, 128, w, wzp, bias, scale, 3, 3, 200,
                                                ref);
  else
    qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__scalar(s, 0, C, x, 128, w, wzp, bias, mult, 3, 3,
                                                    200, ref);
  for (int t = 0; t < 4; t++) {
    memset(y, 0xA5, out + 1);
    if (e)
      qb_dwconv_threaded_run(e, pools[t], &a);
    else
      qb_dwconv_threaded_run_gemmlowp(g, pools[t], &a);
    QB_CHECK_MSG(memcmp(y, ref, out + 1) == 0, "%s: %d threads, C=%zu %zux%zu k%zu s%zu",
                 e ? e->info.name : g->info.name, t, C, s->in_h, s->in_w, s->kernel_h,
                 s->stride_h);
  }
  free(y), free(ref), free(mult), free(scale), free(bias), free(wzp), free(w), free(x);
}

static void im2col_case(const qb_qu8_im2col_entry* e, const qb_conv2d_shape* s,
                        qb_thread_pool* pools[4]) {
  const size_t in = s->in_channels * s->in_h * s->in_w;
  const size_t bytes = qb_conv2d_out_h(s) * qb_conv2d_out_w(s) * s->in_channels / s->groups *
                       s->kernel_h * s->kernel_w;
  uint8_t* x = malloc(in + 1);
  uint8_t* ref = malloc(bytes + 1);
  uint8_t* cols = malloc(bytes + 1);
  for (size_t i = 0; i < in; i++) x[i] = (uint8_t)qb_rand_below(256);
  const size_t group = s->groups - 1;
  memset(ref, 0xA5, bytes + 1);
  qb_qu8_im2col__scalar(s, x, group, 77, ref);
  for (int t = 0; t < 4; t++) {
    memset(cols, 0xA5, bytes + 1);
    qb_im2col_threaded_run(e, pools[t], s, x, group, 77, cols);
    QB_CHECK_MSG(memcmp(cols, ref, bytes + 1) == 0, "%s: %d threads, %zux%zu k%zu s%zu",
                 e->info.name, t, s->in_h, s->in_w, s->kernel_h, s->stride_h);
  }
  free(cols), free(ref), free(x);
}

int main(void) {
  qb_test_seed(20261203);
  qb_error err;
  qb_thread_pool* pools[4] = {NULL, NULL, NULL, NULL}; /* [t]: t threads; [0]: calling thread */
  for (size_t t = 1; t <= 3; t++) {
    pools[t] = qb_thread_pool_create(t, false, &err);
    if (!pools[t]) {
      fprintf(stderr, "thread pool: %s\n", err.msg);
      return 1;
    }
  }
  const qb_conv2d_shape dw[] = {dw_geom(1, 1, 1, 5, 7, 3, 1, 1),   dw_geom(1, 2, 1, 14, 14, 3, 2, 1),
                                dw_geom(2, 5, 2, 9, 17, 5, 1, 2),  dw_geom(1, 128, 1, 7, 7, 3, 1, 1),
                                dw_geom(1, 7, 1, 28, 28, 5, 2, 2)};
  size_t n;
  const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry* dl = qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entries(&n);
  for (size_t i = 0; i < n; i++)
    if (qb_isa_usable(dl[i].info.backend))
      for (size_t k = 0; k < sizeof dw / sizeof dw[0]; k++) dwconv_case(&dl[i], NULL, &dw[k], pools);
  const qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entry* gl =
      qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entries(&n);
  for (size_t i = 0; i < n; i++)
    if (qb_isa_usable(gl[i].info.backend))
      for (size_t k = 0; k < sizeof dw / sizeof dw[0]; k++) dwconv_case(NULL, &gl[i], &dw[k], pools);
  const qb_conv2d_shape ic[] = {
      {1, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 8, 28, 28, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2},
      {1, 64, 7, 7, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},
      {1, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},
  };
  const qb_qu8_im2col_entry* il = qb_qu8_im2col_entries(&n);
  for (size_t i = 0; i < n; i++)
    if (qb_isa_usable(il[i].info.backend))
      for (size_t k = 0; k < sizeof ic / sizeof ic[0]; k++) im2col_case(&il[i], &ic[k], pools);
  for (int t = 1; t <= 3; t++) qb_thread_pool_destroy(pools[t]);
  return qb_test_finish("test_conv_threaded");
}
