/* qs32 -> qs8 / qu8 requantization, fp32 scale path, ARMv8.0 Advanced SIMD: 8 channels
 * per block (two int32x4), row by row over chunks of QB_REQUANTIZE_CHUNK channels; a
 * partial block is staged.
 * Per lane: wrapping ADD of the bias, SCVTF (round to nearest even, as the C cast),
 * one FMUL, clamp to [qmin - zp, qmax - zp] in float (equal to the reference's clamp
 * after rounding: integer bounds, monotone rounding), FCVTNS (vcvtnq_s32_f32: ties to
 * even, as nearbyintf), + zp, and XTN twice keeps each int32's low byte (the
 * reference's truncating cast, so qs8 and qu8 share one body).
 * Exactness argument: requantize/qb_requantize.h. */
#include <arm_neon.h>
#include <string.h>

#include "requantize/qb_requantize.h"

typedef struct {
  int32x4_t bias[2], zero_point;
  float32x4_t scale[2], lo, hi;
} block_params;

/* acc + bias, wrapping like the reference (GCC's vaddq_s32 is a signed C add: UB on
 * overflow, so add the unsigned lanes). */
static inline int32x4_t wrapping_add4(int32x4_t a, int32x4_t b) {
  return vreinterpretq_s32_u32(vaddq_u32(vreinterpretq_u32_s32(a), vreinterpretq_u32_s32(b)));
}

static inline int32x4_t requantize4(int32x4_t acc, int32x4_t bias, float32x4_t scale,
                                    const block_params* p) {
  float32x4_t f = vmulq_f32(vcvtq_f32_s32(wrapping_add4(acc, bias)), scale);
  f = vminq_f32(vmaxq_f32(f, p->lo), p->hi);
  return vaddq_s32(vcvtnq_s32_f32(f), p->zero_point);
}

/* 8 accumulators of one row -> their 8 output bytes. */
static inline uint8x8_t requantize8(const int32_t* a, const block_params* p) {
  const int32x4_t r0 = requantize4(vld1q_s32(a), p->bias[0], p->scale[0], p);
  const int32x4_t r1 = requantize4(vld1q_s32(a + 4), p->bias[1], p->scale[1], p);
  return vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(r0), vmovn_s32(r1))));
}

static void requantize_fp32_q8(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                               const int32_t* bias, const float* scale, int32_t zp,
                               int32_t qmin, int32_t qmax, uint8_t* y, size_t ldy) {
  block_params p;
  p.zero_point = vdupq_n_s32(zp);
  p.lo = vdupq_n_f32((float)(qmin - zp));
  p.hi = vdupq_n_f32((float)(qmax - zp));
  block_params blocks[QB_REQUANTIZE_CHUNK / 8];
  for (size_t c0 = 0; c0 < N; c0 += QB_REQUANTIZE_CHUNK) {
    const size_t nc = N - c0 < QB_REQUANTIZE_CHUNK ? N - c0 : QB_REQUANTIZE_CHUNK;
    const size_t nb = (nc + 7) / 8;
    for (size_t b = 0; b < nb; b++) {
      const size_t n0 = c0 + b * 8;
      const size_t w = N - n0 < 8 ? N - n0 : 8;
      int32_t bias8[8] = {0};
      float scale8[8] = {0};
      if (bias) memcpy(bias8, bias + n0, w * sizeof(int32_t));
      memcpy(scale8, scale + n0, w * sizeof(float));
      blocks[b] = p;
      for (int v = 0; v < 2; v++) {
        blocks[b].bias[v] = vld1q_s32(bias8 + 4 * v);
        blocks[b].scale[v] = vld1q_f32(scale8 + 4 * v);
      }
    }
    for (size_t m = 0; m < M; m++) {
      const int32_t* a = acc + m * ldacc + c0;
      uint8_t* out = y + m * ldy + c0;
      for (size_t b = 0; b < nb; b++, a += 8, out += 8) {
        const size_t w = nc - b * 8 < 8 ? nc - b * 8 : 8;
        if (w == 8) {
          vst1_u8(out, requantize8(a, &blocks[b]));
        } else {
          int32_t staged[8] = {0};
          uint8_t bytes[8];
          memcpy(staged, a, w * sizeof(int32_t));
          vst1_u8(bytes, requantize8(staged, &blocks[b]));
          memcpy(out, bytes, w);
        }
      }
    }
  }
}

void qb_qs32_qs8_requantize_fp32__neon(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                       const int32_t* bias, const float* scale,
                                       int32_t zero_point, int32_t qmin, int32_t qmax, int8_t* y,
                                       size_t ldy) {
  requantize_fp32_q8(M, N, acc, ldacc, bias, scale, zero_point, qmin, qmax, (uint8_t*)y, ldy);
}

void qb_qs32_qu8_requantize_fp32__neon(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                       const int32_t* bias, const float* scale,
                                       int32_t zero_point, int32_t qmin, int32_t qmax,
                                       uint8_t* y, size_t ldy) {
  requantize_fp32_q8(M, N, acc, ldacc, bias, scale, zero_point, qmin, qmax, y, ldy);
}
