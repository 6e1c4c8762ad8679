/* W4A32 driver shared by the x86 and Arm files (static inline, compiled under each file's
 * ISA flags). Lanes are output channels: lane i computes channel n0 + i with exactly
 * the reference's fp32 sequence (group_sum = fma(x[k], (float)(w - zp), group_sum)
 * for k increasing; total = fma(scale, group_sum, total) for g increasing), so the
 * result is bit-identical. Weights are read in the reference's packed layout:
 * one 32-bit gather per lane fetches 8 nibbles of its row (k..k+7, k even, inside
 * the group and the row); other k take one gather each from the 4-byte window
 * starting at their byte, moved back to end at the row's end if needed (rows of at
 * least 4 bytes: K >= 7; smaller K takes the reference path).
 *
 * The including file defines the vector types and operations:
 *   W4A32_LANES, w4a32_vf (float vector), w4a32_vi (int32 vector),
 *   w4a32_set1_f, w4a32_set1_i, w4a32_zero_f, w4a32_gather_u32(base, idx),
 *   w4a32_nibble(v, shift) -> (v >> shift) & 15, w4a32_fma_f(a, b, c) -> a * b + c
 *   rounded once,
 *   w4a32_sub_i, w4a32_xor_i, w4a32_cvt_f, w4a32_load_i(int32*), w4a32_load_f(float*),
 *   w4a32_store_f(float*, v)
 *   QB_W4A32_WGEMM  the kernel's name. */
#ifndef QB_W4A32_DRIVER_H
#define QB_W4A32_DRIVER_H

#include <string.h>

#include "qb_kernels.h"
#include "wgemm/qb_wgemm.h"

typedef struct {
  w4a32_vi row_offset; /* byte offset of each lane's row */
  w4a32_vi flip;       /* 8 for signed nibbles (w = (nibble ^ 8) - 8), else 0 */
  const int8_t* zp[W4A32_LANES];
  const float* scale[W4A32_LANES];
} w4a32_block;

/* w[n][k] - zp[n, g] for the lanes, as int32, from one gathered window. */
static inline w4a32_vi w4a32_weight(const w4a32_block* b, w4a32_vi window, int shift, w4a32_vi zp) {
  return w4a32_sub_i(w4a32_xor_i(w4a32_nibble(window, shift), b->flip), zp);
}

static inline w4a32_vf w4a32_group(const w4a32_block* b, const uint8_t* w, size_t row_bytes,
                                   const float* x, size_t k0, size_t k1, size_t g) {
  int32_t zp_lanes[W4A32_LANES];
  for (int i = 0; i < W4A32_LANES; i++) zp_lanes[i] = b->zp[i] ? b->zp[i][g] : 8;
  const w4a32_vi zp = w4a32_load_i(zp_lanes);
  w4a32_vf sum = w4a32_zero_f();
  size_t k = k0;
  if (k % 2 == 0)
    for (; k + 8 <= k1; k += 8) {
      const w4a32_vi window = w4a32_gather_u32(w, w4a32_add_i(b->row_offset, w4a32_set1_i((int32_t)(k / 2))));
      for (int j = 0; j < 8; j++) {
        const w4a32_vf wf = w4a32_cvt_f(w4a32_weight(b, window, 4 * j, zp));
        sum = w4a32_fma_f(w4a32_set1_f(x[k + (size_t)j]), wf, sum);
      }
    }
  for (; k < k1; k++) {
    const size_t byte = k / 2, start = byte + 4 <= row_bytes ? byte : row_bytes - 4;
    const w4a32_vi window = w4a32_gather_u32(w, w4a32_add_i(b->row_offset, w4a32_set1_i((int32_t)start)));
    const int shift = (int)(8 * (byte - start) + 4 * (k % 2));
    const w4a32_vf wf = w4a32_cvt_f(w4a32_weight(b, window, shift, zp));
    sum = w4a32_fma_f(w4a32_set1_f(x[k]), wf, sum);
  }
  return sum;
}

void QB_W4A32_WGEMM(size_t M, size_t N, size_t K, size_t G, const float* x, size_t ldx,
                    const uint8_t* w, const float* scale, const int8_t* zero_point, float* y,
                    size_t ldy) {
  const size_t ngroups = (K + G - 1) / G, row_bytes = (K + 1) / 2;
  if (K < 7 || N * row_bytes > (size_t)INT32_MAX) { /* 4-byte windows would leave the rows */
    qb_f32_q4_f32_wgemm__scalar(M, N, K, G, x, ldx, w, scale, zero_point, y, ldy);
    return;
  }
  for (size_t n0 = 0; n0 < N; n0 += W4A32_LANES) {
    w4a32_block b;
    int32_t offsets[W4A32_LANES];
    for (int i = 0; i < W4A32_LANES; i++) {
      const size_t n = n0 + (size_t)i < N ? n0 + (size_t)i : N - 1;
      offsets[i] = (int32_t)(n * row_bytes);
      b.zp[i] = zero_point ? zero_point + n * ngroups : NULL;
      b.scale[i] = scale + n * ngroups;
    }
    b.row_offset = w4a32_load_i(offsets);
    b.flip = w4a32_set1_i(zero_point ? 0 : 8);
    const size_t valid = N - n0 < W4A32_LANES ? N - n0 : W4A32_LANES;
    for (size_t m = 0; m < M; m++) {
      w4a32_vf total = w4a32_zero_f();
      for (size_t g = 0; g < ngroups; g++) {
        const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
        const w4a32_vf sum = w4a32_group(&b, w, row_bytes, x + m * ldx, k0, k1, g);
        float s[W4A32_LANES];
        for (int i = 0; i < W4A32_LANES; i++) s[i] = b.scale[i][g];
        total = w4a32_fma_f(w4a32_load_f(s), sum, total);
      }
      float out[W4A32_LANES];
      w4a32_store_f(out, total);
      memcpy(y + m * ldy + n0, out, valid * sizeof(float));
    }
  }
}

#endif /* QB_W4A32_DRIVER_H */
