/* uint8 im2col, ARMv8.0 Advanced SIMD (ZIP1/ZIP2 rounds for the 16 x 16 transposes,
 * LD2 for stride-2 segments, TBL + BSL for segments at a row's edge). Method: im2col/qb_im2col.h. */
#include <arm_neon.h>
#include <stdint.h>

static inline void im_load_even16(const uint8_t* p, uint8_t out[16]) { vst1q_u8(out, vld2q_u8(p).val[0]); }

/* TBL moves byte l + delta to lane l; BSL puts pad outside [lo, hi). */
static inline void im_load_shifted16(const uint8_t* p, int delta, int lo, int hi, uint8_t pad,
                                     uint8_t out[16]) {
  static const uint8_t iota_bytes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const int8x16_t iota = vreinterpretq_s8_u8(vld1q_u8(iota_bytes));
  const uint8x16_t idx = vreinterpretq_u8_s8(vaddq_s8(iota, vdupq_n_s8((int8_t)delta)));
  const uint8x16_t inside = vandq_u8(vcgeq_s8(iota, vdupq_n_s8((int8_t)lo)),
                                     vcltq_s8(iota, vdupq_n_s8((int8_t)hi)));
  vst1q_u8(out, vbslq_u8(inside, vqtbl1q_u8(vld1q_u8(p), idx), vdupq_n_u8(pad)));
}

#define QB_IM2COL_KERNEL qb_qu8_im2col__neon
#include "im2col/qb_im2col_driver.h"
