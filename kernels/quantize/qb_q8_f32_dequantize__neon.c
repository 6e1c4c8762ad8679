/* qs8 / qu8 -> f32 dequantize, ARMv8.0 Advanced SIMD: 16 values per step, a staged
 * partial step for the tail. y = (float)(q - zero_point) * scale: widen (SXTL/UXTL
 * twice), subtract in int32, SCVTF (round to nearest even, as the C cast; exact
 * anyway below 2^24), one FMUL. */
#include <arm_neon.h>
#include <string.h>

#include "quantize/qb_quantize.h"

/* Four int32 lanes -> four floats. */
static inline float32x4_t dequantize4(int32x4_t q, int32x4_t zp, float32x4_t scale) {
  return vmulq_f32(vcvtq_f32_s32(vsubq_s32(q, zp)), scale);
}

/* Eight int16 lanes (values of 8-bit codes) -> eight floats at y. */
static inline void dequantize8(int16x8_t q, int32x4_t zp, float32x4_t scale, float* y) {
  vst1q_f32(y, dequantize4(vmovl_s16(vget_low_s16(q)), zp, scale));
  vst1q_f32(y + 4, dequantize4(vmovl_s16(vget_high_s16(q)), zp, scale));
}

static inline void dequantize16_s8(const void* q, int32x4_t zp, float32x4_t scale, float* y) {
  const int8x16_t v = vld1q_s8((const int8_t*)q);
  dequantize8(vmovl_s8(vget_low_s8(v)), zp, scale, y);
  dequantize8(vmovl_s8(vget_high_s8(v)), zp, scale, y + 8);
}

/* 0..255 widened to u16 is the same bits as s16. */
static inline void dequantize16_u8(const void* q, int32x4_t zp, float32x4_t scale, float* y) {
  const uint8x16_t v = vld1q_u8((const uint8_t*)q);
  dequantize8(vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v))), zp, scale, y);
  dequantize8(vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(v))), zp, scale, y + 8);
}

#define QB_DEQUANTIZE(NAME, IN_T, KIND)                                             \
  void NAME(size_t n, const IN_T* q, float scale, int32_t zero_point, float* y) {   \
    const int32x4_t vzp = vdupq_n_s32(zero_point);                                  \
    const float32x4_t vscale = vdupq_n_f32(scale);                                  \
    for (; n >= 16; n -= 16, q += 16, y += 16) dequantize16_##KIND(q, vzp, vscale, y); \
    if (n != 0) {                                                                   \
      IN_T staged[16] = {0};                                                        \
      float out[16];                                                                \
      memcpy(staged, q, n);                                                         \
      dequantize16_##KIND(staged, vzp, vscale, out);                                \
      memcpy(y, out, n * sizeof(float));                                            \
    }                                                                               \
  }

QB_DEQUANTIZE(qb_qs8_f32_dequantize__neon, int8_t, s8)
QB_DEQUANTIZE(qb_qu8_f32_dequantize__neon, uint8_t, u8)
