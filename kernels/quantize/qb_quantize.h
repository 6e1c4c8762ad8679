/* SIMD quantize / dequantize kernels (kernels/quantize). Prototypes and semantics are
 * the scalar reference's (qb_kernels.h, kernels/ref/quantize__scalar.c), bit for bit:
 *   quantize    q = clamp(round_half_even(x / scale) + zero_point, qmin, qmax)
 *               (x * (1/scale) with QB_ROUND_MUL_RECIP), narrowed to 8 bits by
 *               truncation like the reference's cast (so qs8 and qu8 share one body)
 *   dequantize  y = (float)(q - zero_point) * scale
 *
 * How each step stays exact:
 *   - the quotient is one IEEE div (or mul by the same float 1/scale), per lane;
 *   - clamping to [qmin - zp, qmax - zp] in float BEFORE rounding equals the
 *     reference's clamp after rounding (integer bounds, monotone rounding) and keeps
 *     huge quotients away from the int conversion's overflow value;
 *   - CVTPS2DQ rounds with MXCSR (to nearest even by default), as nearbyintf does;
 *     on Arm FCVTNS (vcvtnq_s32_f32) always rounds to nearest even;
 *   - int32 -> float conversion of q - zp rounds the same way as the C cast. */
#ifndef QB_QUANTIZE_H
#define QB_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "qb_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QB_QUANTIZE_DECLARE(ISA)                                                            \
  void qb_f32_qs8_quantize__##ISA(size_t n, const float* x, float scale, int32_t zero_point,  \
                                  int32_t qmin, int32_t qmax, qb_round_mode mode, int8_t* y); \
  void qb_f32_qu8_quantize__##ISA(size_t n, const float* x, float scale, int32_t zero_point,  \
                                  int32_t qmin, int32_t qmax, qb_round_mode mode, uint8_t* y); \
  void qb_qs8_f32_dequantize__##ISA(size_t n, const int8_t* q, float scale,                  \
                                    int32_t zero_point, float* y);                           \
  void qb_qu8_f32_dequantize__##ISA(size_t n, const uint8_t* q, float scale,                 \
                                    int32_t zero_point, float* y);

#if defined(__x86_64__) || defined(__i386__)
QB_QUANTIZE_DECLARE(sse41)
QB_QUANTIZE_DECLARE(avx2)
QB_QUANTIZE_DECLARE(avx512vnni)
#endif
#if defined(__aarch64__)
QB_QUANTIZE_DECLARE(neon)
#endif

#ifdef __cplusplus
}
#endif
#endif /* QB_QUANTIZE_H */
