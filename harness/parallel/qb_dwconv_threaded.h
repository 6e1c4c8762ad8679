/* Multi-threaded fused depthwise conv (u8 -> u8, fp32 or gemmlowp requantization) over
 * any entry of its family's dispatch list (kernels/qb_dispatch.h), run on a
 * qb_thread_pool.
 *
 * Split: the output channels are cut into T contiguous ranges, of whole groups of 16
 * channels (the SIMD kernels' channels-in-lanes block) when there are at least T
 * groups, else [t*C/T, (t+1)*C/T), and task t runs the entry on its range for every image (the
 * entry's [c0, c1) arguments). Channels are independent planes, so every output byte
 * is computed by exactly one call with the same arithmetic: the result is
 * bit-identical for any thread count (tests/unit/test_conv_threaded.c checks 1-3
 * threads against the scalar reference). With fewer channels than threads, the
 * extra tasks get empty ranges. */
#ifndef QB_DWCONV_THREADED_H
#define QB_DWCONV_THREADED_H

#include <stddef.h>
#include <stdint.h>

#include "qb_dispatch.h"
#include "qb_thread_pool.h"

/* Arguments of one fused depthwise conv call (the entry's, minus the channel range). */
typedef struct {
  const qb_conv2d_shape* shape;
  const uint8_t* x;
  int32_t x_zero_point;
  const int8_t* w;             /* out_channels x kernel_h x kernel_w */
  const int32_t* w_zero_point; /* per output channel */
  const int32_t* bias;         /* per output channel, or NULL */
  const float* scale;          /* per output channel (fp32 rule) */
  const qb_fixedpoint_multiplier* multiplier; /* per output channel (gemmlowp rule) */
  int32_t y_zero_point, qmin, qmax;
  uint8_t* y;
} qb_dwconv_args;

/* Runs `entry` on every channel, split over the pool's threads (NULL pool: the
 * calling thread). */
void qb_dwconv_threaded_run(const qb_qu8_qs8_qu8_dwconv2d_minmax_fp32_entry* entry,
                            qb_thread_pool* pool, const qb_dwconv_args* a);

/* The same for the gemmlowp family (a->multiplier instead of a->scale). */
void qb_dwconv_threaded_run_gemmlowp(const qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp_entry* entry,
                                     qb_thread_pool* pool, const qb_dwconv_args* a);

#endif
