/* f32 -> qs8 / qu8 quantize, ARMv8.0 Advanced SIMD: 16 values per step (4 x 4 lanes),
 * a staged partial step for the tail. Exactness argument: quantize/qb_quantize.h;
 * on Arm the steps are one FDIV (or FMUL by the same float 1/scale) per lane, the
 * float clamp FMAX/FMIN (no NaN can reach it: x is finite and the bounds are
 * finite), FCVTNS (vcvtnq_s32_f32: round to nearest, ties to even, whatever FPCR
 * says, like nearbyintf in the default mode), + zp, then two XTNs keep each int32's
 * low byte: the reference's truncating cast, so qs8 and qu8 share one body. */
#include <arm_neon.h>
#include <stdbool.h>
#include <string.h>

#include "quantize/qb_quantize.h"

typedef struct {
  float32x4_t divisor_or_factor, lo, hi;
  int32x4_t zero_point;
  bool divide;
} quantize_params;

static quantize_params make_params(float scale, int32_t zp, int32_t qmin, int32_t qmax,
                                   qb_round_mode mode) {
  quantize_params p;
  p.divide = mode == QB_ROUND_DIV;
  p.divisor_or_factor = vdupq_n_f32(p.divide ? scale : 1.0f / scale);
  p.lo = vdupq_n_f32((float)(qmin - zp));
  p.hi = vdupq_n_f32((float)(qmax - zp));
  p.zero_point = vdupq_n_s32(zp);
  return p;
}

/* 4 floats -> 4 int32 in [qmin, qmax]. */
static inline int32x4_t quantize4(const quantize_params* p, float32x4_t x) {
  float32x4_t q = p->divide ? vdivq_f32(x, p->divisor_or_factor)
                            : vmulq_f32(x, p->divisor_or_factor);
  q = vminq_f32(vmaxnmq_f32(q, p->lo), p->hi); /* FMAXNM: NaN -> lo, as the reference */
  return vaddq_s32(vcvtnq_s32_f32(q), p->zero_point);
}

/* 16 floats -> 16 bytes, each the low byte of its int32 (XTN truncates). */
static inline uint8x16_t quantize16(const quantize_params* p, const float* x) {
  const int16x8_t ab = vcombine_s16(vmovn_s32(quantize4(p, vld1q_f32(x))),
                                    vmovn_s32(quantize4(p, vld1q_f32(x + 4))));
  const int16x8_t cd = vcombine_s16(vmovn_s32(quantize4(p, vld1q_f32(x + 8))),
                                    vmovn_s32(quantize4(p, vld1q_f32(x + 12))));
  return vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(ab), vmovn_s16(cd)));
}

static void quantize_q8(size_t n, const float* x, float scale, int32_t zp, int32_t qmin,
                        int32_t qmax, qb_round_mode mode, uint8_t* y) {
  const quantize_params p = make_params(scale, zp, qmin, qmax, mode);
  for (; n >= 16; n -= 16, x += 16, y += 16) vst1q_u8(y, quantize16(&p, x));
  if (n != 0) {
    float staged[16] = {0};
    uint8_t out[16];
    memcpy(staged, x, n * sizeof(float));
    vst1q_u8(out, quantize16(&p, staged));
    memcpy(y, out, n);
  }
}

void qb_f32_qs8_quantize__neon(size_t n, const float* x, float scale, int32_t zero_point,
                               int32_t qmin, int32_t qmax, qb_round_mode mode, int8_t* y) {
  quantize_q8(n, x, scale, zero_point, qmin, qmax, mode, (uint8_t*)y);
}

void qb_f32_qu8_quantize__neon(size_t n, const float* x, float scale, int32_t zero_point,
                               int32_t qmin, int32_t qmax, qb_round_mode mode, uint8_t* y) {
  quantize_q8(n, x, scale, zero_point, qmin, qmax, mode, y);
}
