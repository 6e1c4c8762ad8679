/* qb_f32_q4_f32_wgemm_4x16__neon: W4A32 int4-weight GEMM / GEMV (fp32 activations),
 * ARMv8.0 Advanced SIMD, bit-exact with qb_f32_q4_f32_wgemm__scalar. The structure of
 * qb_f32_q4_f32_wgemm_6x16__avx2 (method: wgemm/qb_wgemm.h):
 *
 * 1. The weights of 16 channels x one group (at most QB_GMAX k at a time) are
 *    dequantized ONCE into an fp32 panel, w - zp as floats (exact: |w - zp| <= 15):
 *    per channel, 16 bytes -> AND 0x0F / USHR 4 -> ZIP1 / ZIP2 (32 nibbles in k order)
 *    -> SUB zp in int8 -> SXTL / SXTL2 twice -> SCVTF, and ST4 interleaves 4 channels'
 *    4 k into wf[c / 4][k][c % 4] (about one instruction per weight, paid once per
 *    call for all rows, where the 1x4 kernel gathers and converts per row).
 * 2. A 4-row x 16-channel tile runs on the panel: per k 4 LD1 of wf[.][k], per row
 *    one LD1R of x[r][k] and 4 FMLA into 16 group-sum registers (4 rows x 4 vectors;
 *    with 4 activation and 4 weight vectors 24 of the 32 registers): 16 MACs per 8
 *    loads, no spills. Lanes are channels, so each lane repeats the reference's fmaf
 *    chain exactly: group_sum = fma(x[k], (float)(w - zp), group_sum) for k
 *    increasing (FMLA rounds once, as fmaf), then total = fma(scale, group_sum,
 *    total) for g increasing, the running total kept in y between groups.
 * A group longer than QB_GMAX is split into chunks only when it is the only group
 * (its partial group sums are then carried in y, and the single total step is
 * fma(scale, group_sum, 0) as in the reference). Row tails run 1-3 row tiles, channel
 * tails a 16-channel panel whose channels past N repeat the last one (not stored).
 * Covers every M >= 1 and K >= 1 with even G (groups start on a byte) and groups of
 * at most QB_GMAX or a single group; other shapes run qb_f32_q4_f32_wgemm_1x4__neon. */
#include <arm_neon.h>
#include <stdbool.h>
#include <string.h>

#include "wgemm/qb_wgemm.h"

#define QB_MR 4
#define QB_NB 16
#define QB_GMAX 256 /* k per panel: 16 channels x 256 x 4 bytes = 16 KiB */

/* wf[cb][k][i] = w[n0 + 4 cb + i][kc + k] - zp, k in [0, len), kc even; rows past N
 * repeat row N - 1. Entries from len up to the next multiple of 32 hold whatever
 * nibbles follow (never read by the tile). */
static void dequant_panel(const uint8_t* w, size_t row_bytes, size_t N, size_t n0, size_t kc,
                          size_t len, const int8_t* zero_point, size_t ngroups, size_t g, float* wf) {
  const uint8x16_t low = vdupq_n_u8(0x0F), flip = vdupq_n_u8(zero_point ? 0 : 8);
  for (size_t cb = 0; cb < QB_NB / 4; cb++) {
    const uint8_t* row[4];
    int8x16_t zp[4];
    for (size_t i = 0; i < 4; i++) {
      const size_t n = n0 + 4 * cb + i < N ? n0 + 4 * cb + i : N - 1;
      row[i] = w + n * row_bytes + kc / 2;
      zp[i] = vdupq_n_s8(zero_point ? zero_point[n * ngroups + g] : 8);
    }
    for (size_t b = 0; b < len; b += 32) {
      float32x4_t f[4][8]; /* channel i, k b + 4j .. b + 4j + 3 */
      for (size_t i = 0; i < 4; i++) {
        uint8x16_t q;
        if (b + 32 <= len) {
          q = vld1q_u8(row[i] + b / 2);
        } else { /* the piece ends inside the row: copy its bytes only */
          uint8_t stage[16] = {0};
          memcpy(stage, row[i] + b / 2, (len - b + 1) / 2);
          q = vld1q_u8(stage);
        }
        const uint8x16_t lo = veorq_u8(vandq_u8(q, low), flip), hi = veorq_u8(vshrq_n_u8(q, 4), flip);
        const int8x16_t v0 = vsubq_s8(vreinterpretq_s8_u8(vzip1q_u8(lo, hi)), zp[i]); /* k b .. b+15 */
        const int8x16_t v1 = vsubq_s8(vreinterpretq_s8_u8(vzip2q_u8(lo, hi)), zp[i]); /* k b+16 .. */
        const int16x8_t h[4] = {vmovl_s8(vget_low_s8(v0)), vmovl_high_s8(v0), vmovl_s8(vget_low_s8(v1)),
                                vmovl_high_s8(v1)};
        for (size_t j = 0; j < 4; j++) {
          f[i][2 * j] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(h[j])));
          f[i][2 * j + 1] = vcvtq_f32_s32(vmovl_high_s16(h[j]));
        }
      }
      for (size_t j = 0; j < 8; j++) {
        const float32x4x4_t t = {{f[0][j], f[1][j], f[2][j], f[3][j]}};
        vst4q_f32(wf + (cb * QB_GMAX + b + 4 * j) * 4, t);
      }
    }
  }
}

/* wf[.][k] (4 vectors, 16 channels) times x of each row at k, into gs. */
#define QB_MAC(WK, XR)                                                         \
  do {                                                                         \
    const float* wk_ = (WK);                                                   \
    const float32x4_t w0 = vld1q_f32(wk_), w1 = vld1q_f32(wk_ + 4 * QB_GMAX);  \
    const float32x4_t w2 = vld1q_f32(wk_ + 8 * QB_GMAX), w3 = vld1q_f32(wk_ + 12 * QB_GMAX); \
    for (size_t r = 0; r < mr; r++) {                                          \
      const float32x4_t xr_ = (XR);                                            \
      gs[r][0] = vfmaq_f32(gs[r][0], w0, xr_);                                 \
      gs[r][1] = vfmaq_f32(gs[r][1], w1, xr_);                                 \
      gs[r][2] = vfmaq_f32(gs[r][2], w2, xr_);                                 \
      gs[r][3] = vfmaq_f32(gs[r][3], w3, xr_);                                 \
    }                                                                          \
  } while (0)

/* Rows [0, mr) x 16 channels over panel k [0, len): gs (in y if gs_in) += x[k] * wf[k]
 * in k order; then y = gs (finish false) or y = (first ? 0 : y) + scale * gs. Only
 * `valid` channels of y are read or written. */
static inline __attribute__((always_inline)) void tile(size_t mr, const float* x, size_t ldx,
                                                       const float* wf, size_t len, bool gs_in,
                                                       bool finish, bool first, const float32x4_t* sc,
                                                       size_t valid, float* y, size_t ldy) {
  float32x4_t gs[QB_MR][4];
  for (size_t r = 0; r < mr; r++) {
    float t[QB_NB] = {0};
    if (gs_in) memcpy(t, y + r * ldy, valid * sizeof(float));
    for (size_t j = 0; j < 4; j++) gs[r][j] = vld1q_f32(t + 4 * j);
  }
  /* One k per step, x[r][k] broadcast by LD1R: 4 + mr loads, 4 mr FMLA.
   * (Four k per step with FMUL by element made GCC hoist the 16 weight loads and
   * spill accumulators: about 28 extra stack accesses per 4 k.) */
  for (size_t k = 0; k < len; k++) QB_MAC(wf + 4 * k, vld1q_dup_f32(x + r * ldx + k));
  for (size_t r = 0; r < mr; r++) {
    float t[QB_NB] = {0};
    if (finish && !first) memcpy(t, y + r * ldy, valid * sizeof(float));
    for (size_t j = 0; j < 4; j++) {
      float32x4_t v = gs[r][j];
      if (finish) v = vfmaq_f32(vld1q_f32(t + 4 * j), sc[j], v);
      vst1q_f32(t + 4 * j, v);
    }
    memcpy(y + r * ldy, t, valid * sizeof(float));
  }
}

#define QB_DEFINE_TILE(MRV)                                                                        \
  static void tile_##MRV(const float* x, size_t ldx, const float* wf, size_t len, bool gs_in,      \
                         bool finish, bool first, const float32x4_t* sc, size_t valid, float* y,  \
                         size_t ldy) {                                                             \
    tile(MRV, x, ldx, wf, len, gs_in, finish, first, sc, valid, y, ldy);                          \
  }
QB_DEFINE_TILE(1)
QB_DEFINE_TILE(2)
QB_DEFINE_TILE(3)
QB_DEFINE_TILE(4)
typedef void (*tile_fn)(const float*, size_t, const float*, size_t, bool, bool, bool, const float32x4_t*,
                        size_t, float*, size_t);
static const tile_fn tiles[QB_MR + 1] = {NULL, tile_1, tile_2, tile_3, tile_4};

void qb_f32_q4_f32_wgemm_4x16__neon(size_t M, size_t N, size_t K, size_t G, const float* x,
                                    size_t ldx, const uint8_t* w, const float* scale,
                                    const int8_t* zero_point, float* y, size_t ldy) {
  const size_t ngroups = G ? (K + G - 1) / G : 0, glen = G < K ? G : K;
  if (M == 0 || N == 0 || K == 0 || G == 0 || (ngroups > 1 && (G % 2 != 0 || glen > QB_GMAX))) {
    qb_f32_q4_f32_wgemm_1x4__neon(M, N, K, G, x, ldx, w, scale, zero_point, y, ldy);
    return;
  }
  const size_t row_bytes = (K + 1) / 2;
  float wf[QB_NB * QB_GMAX] __attribute__((aligned(16)));
  for (size_t n0 = 0; n0 < N; n0 += QB_NB) {
    const size_t valid = N - n0 < QB_NB ? N - n0 : QB_NB;
    for (size_t g = 0; g < ngroups; g++) {
      const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
      float s[QB_NB];
      for (size_t c = 0; c < QB_NB; c++) s[c] = scale[(n0 + c < N ? n0 + c : N - 1) * ngroups + g];
      const float32x4_t sc[4] = {vld1q_f32(s), vld1q_f32(s + 4), vld1q_f32(s + 8), vld1q_f32(s + 12)};
      for (size_t kc = k0; kc < k1; kc += QB_GMAX) { /* one chunk unless ngroups == 1 */
        const size_t len = k1 - kc < QB_GMAX ? k1 - kc : QB_GMAX;
        dequant_panel(w, row_bytes, N, n0, kc, len, zero_point, ngroups, g, wf);
        const bool gs_in = kc != k0, finish = kc + len == k1;
        for (size_t m = 0; m < M; m += QB_MR) {
          const size_t mr = M - m < QB_MR ? M - m : QB_MR;
          tiles[mr](x + m * ldx + kc, ldx, wf, len, gs_in, finish, g == 0, sc, valid, y + m * ldy + n0, ldy);
        }
      }
    }
  }
}
