/* W4A8 int4-weight GEMM/GEMV, ARMv8.2 dotprod: 4 output channels per block, 32
 * products per row per step as two SDOTs (16 s8 x s8 products each into 4 int32
 * lanes, no intermediate rounding or saturation). The activations are quantized by
 * the neon entry's qb_f32_qs8_rowquantize__neon (dotprod adds nothing there).
 * Method and exactness argument: wgemm/qb_w4a8_driver_neon.h. */
#include <arm_neon.h>

static inline int32x4_t w4a8_dot16(int32x4_t acc, int8x16_t w, int8x16_t x) {
  return vdotq_s32(acc, w, x);
}

#define QB_W4A8_WGEMM qb_qs8_q4_f32_wgemm_1x4__neondot
#include "wgemm/qb_w4a8_driver_neon.h"
