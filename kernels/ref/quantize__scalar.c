/* Reference quantize / dequantize: the spec of every quantize kernel.
 *
 *   quantize:   q = clamp(round_half_even(x / scale) + zero_point, qmin, qmax)
 *   dequantize: x' = (float)(q - zero_point) * scale
 *
 * QB_ROUND_MUL_RECIP forms the quotient as x * (1.0f / scale) instead (PyTorch,
 * FBGEMM). The reciprocal is rounded once to float, then the product once more,
 * so on exact ties the two modes may land one step apart; that is intended and
 * is why the mode is an explicit argument everywhere. */
#include "qb_kernels.h"
#include "qb_ref_math.h"

#define QB_DEFINE_QUANTIZE(NAME, OUT_T)                                                   \
  void NAME(size_t n, const float* x, float scale, int32_t zero_point, int32_t qmin,      \
            int32_t qmax, qb_round_mode mode, OUT_T* y) {                                 \
    const float inv_scale = 1.0f / scale;                                                 \
    for (size_t i = 0; i < n; i++)                                                        \
      y[i] = (OUT_T)qb_quantize_one(x[i], scale, inv_scale, zero_point, qmin, qmax, mode); \
  }

QB_DEFINE_QUANTIZE(qb_f32_qs8_quantize__scalar, int8_t)
QB_DEFINE_QUANTIZE(qb_f32_qu8_quantize__scalar, uint8_t)
QB_DEFINE_QUANTIZE(qb_f32_qs16_quantize__scalar, int16_t)
QB_DEFINE_QUANTIZE(qb_f32_qu16_quantize__scalar, uint16_t)
QB_DEFINE_QUANTIZE(qb_f32_qs32_quantize__scalar, int32_t)

#define QB_DEFINE_DEQUANTIZE(NAME, IN_T)                                              \
  void NAME(size_t n, const IN_T* q, float scale, int32_t zero_point, float* y) {     \
    for (size_t i = 0; i < n; i++) y[i] = (float)((int32_t)q[i] - zero_point) * scale; \
  }

QB_DEFINE_DEQUANTIZE(qb_qs8_f32_dequantize__scalar, int8_t)
QB_DEFINE_DEQUANTIZE(qb_qu8_f32_dequantize__scalar, uint8_t)
QB_DEFINE_DEQUANTIZE(qb_qs32_f32_dequantize__scalar, int32_t)
