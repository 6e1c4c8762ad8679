/* W4A8 int4-weight GEMM/GEMV, ARMv8.0 Advanced SIMD: 4 output channels per block, 32
 * products per row per step as SMULL + SMLAL (two s8 x s8 products per int16 lane,
 * at most 2 * 15 * 128: never overflows) then SADALP into int32.
 * Method and exactness argument: wgemm/qb_w4a8_driver_neon.h.
 *
 * Also the row quantization of the Arm W4A8 entries: amax by FABS + FMAXNM (max is
 * exact and order-free; FMAXNM skips a quiet NaN like fmaxf), then qb_f32_qs8_quantize__neon with scale amax / 127,
 * QB_ROUND_DIV, -127..127 (exactly the reference's steps). */
#include <arm_neon.h>
#include <math.h>

#include "quantize/qb_quantize.h"

static inline int32x4_t w4a8_dot16(int32x4_t acc, int8x16_t w, int8x16_t x) {
  int16x8_t p = vmull_s8(vget_low_s8(w), vget_low_s8(x));
  p = vmlal_s8(p, vget_high_s8(w), vget_high_s8(x));
  return vpadalq_s16(acc, p);
}

#define QB_W4A8_WGEMM qb_qs8_q4_f32_wgemm_1x4__neon
#include "wgemm/qb_w4a8_driver_neon.h"

/* max_k |x[k]|. */
static float row_amax(const float* x, size_t K) {
  float32x4_t vmax = vdupq_n_f32(0.0f);
  size_t k = 0;
  for (; k + 4 <= K; k += 4) vmax = vmaxnmq_f32(vmax, vabsq_f32(vld1q_f32(x + k)));
  float amax = vmaxnmvq_f32(vmax);
  for (; k < K; k++) amax = fmaxf(amax, fabsf(x[k]));
  return amax;
}

void qb_f32_qs8_rowquantize__neon(size_t M, size_t K, const float* x, size_t ldx, int8_t* xq,
                                  float* sx) {
  for (size_t m = 0; m < M; m++) {
    const float amax = row_amax(x + m * ldx, K);
    const float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
    sx[m] = scale;
    qb_f32_qs8_quantize__neon(K, x + m * ldx, scale, 0, -127, 127, QB_ROUND_DIV, xq + m * K);
  }
}
