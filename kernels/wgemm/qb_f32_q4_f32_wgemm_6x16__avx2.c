/* qb_f32_q4_f32_wgemm_6x16__avx2: W4A32 int4-weight GEMM (fp32 activations), AVX2,
 * bit-exact with qb_f32_q4_f32_wgemm__scalar (method: wgemm/qb_wgemm.h).
 *
 * Lanes are output channels, as in the 1x8 kernel, so each lane repeats the
 * reference's fp32 sequence (group_sum += x[k] * w for k increasing, separate MUL
 * and ADD; total += scale * group_sum for g increasing). What changes: the weights
 * of 16 channels x 1 group are dequantized ONCE into an fp32 panel wf[k][16] (nibbles
 * unpacked 32 at a time, transposed 8 x 8 in dwords so lane c holds channel c, each
 * byte converted: vpsrld + vpand + vpsubd zp + vcvtdq2ps per 8 weights) and reused by
 * every row of the call, 6 rows at a time (dequantizing once per row chunk instead
 * measured slower: the panel costs about 1 op per weight):
 *   per k: 2 loads of wf[k], per row 1 broadcast of x, 2 vmulps + 2 vaddps
 * into 12 group-sum registers; MUL and ADD go to different pipes on current cores,
 * so without FMA the tile still issues 16 MACs a cycle. The reference's 1x8
 * gathers 8 nibbles per lane and k window for every row (about 10 % of the fp32
 * ceiling at M >= 16).
 * Covers M >= 2, K % 32 == 0, groups of a multiple of 32 up to 256 (or one group of
 * at most 256), whole blocks of 16 channels; other shapes and the remaining
 * channels run qb_f32_q4_f32_wgemm_1x8__avx2. Measured on Zen 1 (slow vpgatherdd,
 * ymm split in two halves), 1 thread, N = 1024 / 4096, K = 4096: the panel is 1.8x
 * (M = 2) and 2.3x (M = 3) faster than 1x8's gathers per row; at M = 1 only 1.2x,
 * and on Zen 3 (fast gathers) 1x8 was recorded DRAM-bound at M = 1, so M = 1 stays
 * on 1x8. */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "wgemm/qb_q4_avx2.h"
#include "wgemm/qb_wgemm.h"

#define QB_MR 6
#define QB_NB 16
#define QB_MIN_ROWS 2
#define QB_GMAX 256 /* k of one group in the fp32 panel: 16 KiB */

/* The fp32 panel of channels n0..n0+15, k in [k0, k0 + len): wf[k][c] = w - zp. */
static void qb_dequant_panel(const uint8_t* w, size_t row_bytes, size_t n0, size_t k0, size_t len,
                             const int8_t* zp, size_t ngroups, size_t g, float* wf) {
  const __m256i flip = _mm256_set1_epi8(zp ? 0 : 8), byte = _mm256_set1_epi32(0xFF);
  for (size_t h = 0; h < 2; h++) {
    const size_t c0 = n0 + 8 * h;
    const __m256i zp8 = zp ? _mm256_setr_epi32(zp[c0 * ngroups + g], zp[(c0 + 1) * ngroups + g],
                                               zp[(c0 + 2) * ngroups + g], zp[(c0 + 3) * ngroups + g],
                                               zp[(c0 + 4) * ngroups + g], zp[(c0 + 5) * ngroups + g],
                                               zp[(c0 + 6) * ngroups + g], zp[(c0 + 7) * ngroups + g])
                           : _mm256_set1_epi32(8);
    for (size_t b = 0; b < len; b += 32) {
      __m256i nib[8], quad[8];
      for (size_t c = 0; c < 8; c++) nib[c] = qb_q4_unpack32_avx2(w + (c0 + c) * row_bytes + (k0 + b) / 2, flip);
      qb_q4_transpose8_avx2(nib, quad);
      for (size_t j = 0; j < 8; j++)
        for (int t = 0; t < 4; t++) {
          const __m256i v = _mm256_and_si256(_mm256_srli_epi32(quad[j], 8 * t), byte);
          _mm256_storeu_ps(wf + (b + 4 * j + (size_t)t) * QB_NB + 8 * h,
                           _mm256_cvtepi32_ps(_mm256_sub_epi32(v, zp8)));
        }
    }
  }
}

/* Rows [0, mr) x 16 channels over one group: gs = sum_k x[k] * wf[k] in k order. */
static inline __attribute__((always_inline)) void qb_group_tile(size_t mr, const float* x, size_t ldx,
                                                                const float* wf, size_t len,
                                                                __m256 gs[QB_MR][2]) {
  _Pragma("GCC unroll 6") for (size_t r = 0; r < mr; r++) gs[r][0] = gs[r][1] = _mm256_setzero_ps();
  for (size_t k = 0; k < len; k++) {
    const __m256 w0 = _mm256_loadu_ps(wf + k * QB_NB), w1 = _mm256_loadu_ps(wf + k * QB_NB + 8);
    _Pragma("GCC unroll 6") for (size_t r = 0; r < mr; r++) {
      __m256 xb = _mm256_broadcast_ss(x + r * ldx + k);
      __asm__("" : "+x"(xb)); /* keeps gcc from hoisting the six broadcasts (spills) */
      gs[r][0] = _mm256_add_ps(gs[r][0], _mm256_mul_ps(xb, w0));
      gs[r][1] = _mm256_add_ps(gs[r][1], _mm256_mul_ps(xb, w1));
    }
  }
}

/* total (y) += scale * gs for rows [0, mr); y holds the running total between groups. */
static inline __attribute__((always_inline)) void qb_group_tile_rows(size_t mr, const float* x, size_t ldx,
                                                                     const float* wf, size_t len, bool first,
                                                                     __m256 s0, __m256 s1, float* y, size_t ldy) {
  __m256 gs[QB_MR][2];
  qb_group_tile(mr, x, ldx, wf, len, gs);
  _Pragma("GCC unroll 6") for (size_t r = 0; r < mr; r++) {
    float* yr = y + r * ldy;
    const __m256 t0 = first ? _mm256_setzero_ps() : _mm256_loadu_ps(yr);
    const __m256 t1 = first ? _mm256_setzero_ps() : _mm256_loadu_ps(yr + 8);
    _mm256_storeu_ps(yr, _mm256_add_ps(t0, _mm256_mul_ps(s0, gs[r][0])));
    _mm256_storeu_ps(yr + 8, _mm256_add_ps(t1, _mm256_mul_ps(s1, gs[r][1])));
  }
}

#define QB_DEFINE_TILE(MRV)                                                                    \
  static void qb_tile_##MRV(const float* x, size_t ldx, const float* wf, size_t len, bool first, \
                            __m256 s0, __m256 s1, float* y, size_t ldy) {                      \
    qb_group_tile_rows(MRV, x, ldx, wf, len, first, s0, s1, y, ldy);                          \
  }
QB_DEFINE_TILE(1)
QB_DEFINE_TILE(2)
QB_DEFINE_TILE(3)
QB_DEFINE_TILE(4)
QB_DEFINE_TILE(5)
QB_DEFINE_TILE(6)
typedef void (*qb_tile_fn)(const float*, size_t, const float*, size_t, bool, __m256, __m256, float*, size_t);
static const qb_tile_fn qb_tiles[QB_MR + 1] = {NULL, qb_tile_1, qb_tile_2, qb_tile_3,
                                               qb_tile_4, qb_tile_5, qb_tile_6};

void qb_f32_q4_f32_wgemm_6x16__avx2(size_t M, size_t N, size_t K, size_t G, const float* x,
                                    size_t ldx, const uint8_t* w, const float* scale,
                                    const int8_t* zero_point, float* y, size_t ldy) {
  const size_t ngroups = G ? (K + G - 1) / G : 0, glen = G < K ? G : K;
  const bool ok = M >= QB_MIN_ROWS && K >= 32 && K % 32 == 0 && (G % 32 == 0 || ngroups == 1) &&
                  glen <= QB_GMAX;
  const size_t nfull = ok ? N / QB_NB * QB_NB : 0, row_bytes = (K + 1) / 2;
  if (nfull < N)
    qb_f32_q4_f32_wgemm_1x8__avx2(M, N - nfull, K, G, x, ldx, w + nfull * row_bytes,
                                  scale + nfull * ngroups,
                                  zero_point ? zero_point + nfull * ngroups : NULL, y + nfull, ldy);
  float wf[QB_GMAX * QB_NB] __attribute__((aligned(32)));
  for (size_t n0 = 0; n0 < nfull; n0 += QB_NB)
    for (size_t g = 0; g < ngroups; g++) {
      const size_t k0 = g * G, len = (k0 + G < K ? k0 + G : K) - k0;
      qb_dequant_panel(w, row_bytes, n0, k0, len, zero_point, ngroups, g, wf);
      const float* sg = scale + n0 * ngroups + g;
      const __m256 s0 = _mm256_setr_ps(sg[0], sg[ngroups], sg[2 * ngroups], sg[3 * ngroups],
                                       sg[4 * ngroups], sg[5 * ngroups], sg[6 * ngroups], sg[7 * ngroups]);
      sg += 8 * ngroups;
      const __m256 s1 = _mm256_setr_ps(sg[0], sg[ngroups], sg[2 * ngroups], sg[3 * ngroups],
                                       sg[4 * ngroups], sg[5 * ngroups], sg[6 * ngroups], sg[7 * ngroups]);
      for (size_t m = 0; m < M; m += QB_MR) {
        const size_t mr = M - m < QB_MR ? M - m : QB_MR;
        qb_tiles[mr](x + m * ldx + k0, ldx, wf, len, g == 0, s0, s1, y + m * ldy + n0, ldy);
      }
    }
}
