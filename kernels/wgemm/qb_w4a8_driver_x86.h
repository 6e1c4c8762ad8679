/* W4A8 driver shared by the x86 files (static inline, compiled under each file's ISA
 * flags). The including file defines, before including this header:
 *   static inline __m256i w4a8_dot32(__m256i acc, __m256i u, __m256i x)
 *       acc (8 x int32) += sums of u8 x s8 products of 32 byte pairs, exactly
 *       (only for the default block with the default ymm group dot)
 *   QB_W4A8_QUANTIZE   its ISA's qb_f32_qs8_quantize kernel
 *   QB_W4A8_ROWQUANTIZE, QB_W4A8_WGEMM   the names of the two kernels to define
 * and optionally QB_W4A8_BLOCK + QB_W4A8_NR: its own block function (the signature
 * of w4a8_block below) for QB_W4A8_NR output channels, or QB_W4A8_OWN_GROUP_DOT4: its
 * own w4a8_group_dot4 for the default 4-channel block.
 * Method and exactness argument: wgemm/qb_wgemm.h. */
#ifndef QB_W4A8_DRIVER_X86_H
#define QB_W4A8_DRIVER_X86_H

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "qb_kernels.h"
#include "quantize/qb_quantize.h"
#include "wgemm/qb_wgemm.h"

/* Output channels per block (the default "1x4" tile; a file bringing its own block
 * function QB_W4A8_BLOCK also sets QB_W4A8_NR) and groups whose activation sums are
 * kept on the stack at once (more groups: the totals are carried in y). */
#ifndef QB_W4A8_NR
#define QB_W4A8_NR 4
#endif
#define QB_W4A8_GROUP_CHUNK 512

/* max_k |x[k]| (SSE width, so every x86 file can use it; max is exact in any order). */
static inline float w4a8_row_amax(const float* x, size_t K) {
  const __m128 abs_mask = _mm_castsi128_ps(_mm_set1_epi32(0x7FFFFFFF));
  __m128 vmax = _mm_setzero_ps();
  size_t k = 0;
  for (; k + 4 <= K; k += 4) vmax = _mm_max_ps(vmax, _mm_and_ps(_mm_loadu_ps(x + k), abs_mask));
  float lanes[4];
  _mm_storeu_ps(lanes, vmax);
  float amax = 0.0f;
  for (int i = 0; i < 4; i++) amax = fmaxf(amax, lanes[i]);
  for (; k < K; k++) amax = fmaxf(amax, fabsf(x[k]));
  return amax;
}

#ifndef QB_W4A8_BLOCK /* the default 1x4 block; a file may bring its own */
#define QB_W4A8_BLOCK w4a8_block

typedef struct {
  const uint8_t* w[QB_W4A8_NR];
  const float* scale[QB_W4A8_NR];
  const int8_t* zp[QB_W4A8_NR]; /* NULL rows: symmetric */
} w4a8_rows;

#ifndef QB_W4A8_OWN_GROUP_DOT4 /* else the file defines w4a8_group_dot4 (same contract) */
#include "qb_q4_avx2.h" /* qb_q4_unpack32_avx2 */

/* Lane sums of four 8 x int32 vectors: {sum a0, sum a1, sum a2, sum a3}. */
static inline __m128i w4a8_hsum4(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
  const __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

/* Exact int32 group sums sum_k xq[k] * u[n][k] over k in [k0, k1) for 4 rows, with
 * u the (possibly flipped) unsigned nibble; the zero-point term is applied by the
 * caller. A partial 32-element step is staged (zero activations beyond k1). */
static inline __m128i w4a8_group_dot4(const w4a8_rows* r, const int8_t* xq, size_t k0, size_t k1,
                                      int flip_value) {
  const __m256i flip = _mm256_set1_epi8((char)flip_value);
  __m256i acc[QB_W4A8_NR];
  for (int i = 0; i < QB_W4A8_NR; i++) acc[i] = _mm256_setzero_si256();
  for (size_t k = k0; k < k1; k += 32) {
    const size_t len = k1 - k < 32 ? k1 - k : 32;
    if (len == 32) {
      const __m256i x = _mm256_loadu_si256((const __m256i*)(xq + k));
      for (int i = 0; i < QB_W4A8_NR; i++)
        acc[i] = w4a8_dot32(acc[i], qb_q4_unpack32_avx2(r->w[i] + k / 2, flip), x);
    } else {
      int8_t xs[32] = {0};
      memcpy(xs, xq + k, len);
      const __m256i x = _mm256_loadu_si256((const __m256i*)xs);
      for (int i = 0; i < QB_W4A8_NR; i++) {
        uint8_t ws[16] = {0};
        memcpy(ws, r->w[i] + k / 2, (len + 1) / 2);
        acc[i] = w4a8_dot32(acc[i], qb_q4_unpack32_avx2(ws, flip), x);
      }
    }
  }
  return w4a8_hsum4(acc[0], acc[1], acc[2], acc[3]);
}

#else
static inline __m128i w4a8_group_dot4(const w4a8_rows* r, const int8_t* xq, size_t k0, size_t k1,
                                      int flip_value);
#endif /* QB_W4A8_OWN_GROUP_DOT4 */

/* One row of activations against output channels [n0, n0 + 4) (rows past N repeat
 * the last one and are not stored), groups [g0, g0 + gn). */
static inline void w4a8_block(size_t N, size_t K, size_t G, size_t ngroups, const int8_t* xq,
                              float sx, const int32_t* xsum, size_t g0, size_t gn,
                              const uint8_t* w, const float* scale, const int8_t* zero_point,
                              size_t n0, float* y) {
  const size_t row_bytes = (K + 1) / 2;
  w4a8_rows r;
  for (size_t i = 0; i < QB_W4A8_NR; i++) {
    const size_t n = n0 + i < N ? n0 + i : N - 1;
    r.w[i] = w + n * row_bytes;
    r.scale[i] = scale + n * ngroups;
    r.zp[i] = zero_point ? zero_point + n * ngroups : NULL;
  }
  const size_t valid = N - n0 < QB_W4A8_NR ? N - n0 : QB_W4A8_NR;
  const int flip = zero_point ? 0 : 8;
  float carried[QB_W4A8_NR] = {0};
  if (g0 != 0) memcpy(carried, y + n0, valid * sizeof(float));
  __m128 total = _mm_loadu_ps(carried);
  for (size_t g = g0; g < g0 + gn; g++) {
    const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    const __m128i dot = w4a8_group_dot4(&r, xq, k0, k1, flip);
    const __m128i zp = zero_point ? _mm_setr_epi32(r.zp[0][g], r.zp[1][g], r.zp[2][g], r.zp[3][g])
                                  : _mm_set1_epi32(8);
    const __m128i acc = _mm_sub_epi32(dot, _mm_mullo_epi32(zp, _mm_set1_epi32(xsum[g - g0])));
    const __m128 s = _mm_setr_ps(r.scale[0][g], r.scale[1][g], r.scale[2][g], r.scale[3][g]);
    total = _mm_add_ps(total, _mm_mul_ps(_mm_cvtepi32_ps(acc), s));
  }
  if (g0 + gn == ngroups) total = _mm_mul_ps(_mm_set1_ps(sx), total);
  float out[QB_W4A8_NR];
  _mm_storeu_ps(out, total);
  memcpy(y + n0, out, valid * sizeof(float));
}

#endif /* QB_W4A8_BLOCK */

void QB_W4A8_ROWQUANTIZE(size_t M, size_t K, const float* x, size_t ldx, int8_t* xq, float* sx) {
  for (size_t m = 0; m < M; m++) {
    const float amax = w4a8_row_amax(x + m * ldx, K);
    const float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
    sx[m] = scale;
    QB_W4A8_QUANTIZE(K, x + m * ldx, scale, 0, -127, 127, QB_ROUND_DIV, xq + m * K);
  }
}

void QB_W4A8_WGEMM(size_t M, size_t N, size_t K, size_t G, const int8_t* xq, const float* sx,
                   const uint8_t* w, const float* scale, const int8_t* zero_point, float* y,
                   size_t ldy) {
  const size_t ngroups = (K + G - 1) / G;
  if (G % 2 != 0 && ngroups > 1) { /* groups start mid-byte */
    qb_qs8_q4_f32_wgemm__scalar(M, N, K, G, xq, sx, w, scale, zero_point, y, ldy);
    return;
  }
  int32_t xsum[QB_W4A8_GROUP_CHUNK];
  for (size_t m = 0; m < M; m++) {
    const int8_t* xr = xq + m * K;
    for (size_t g0 = 0; g0 < ngroups; g0 += QB_W4A8_GROUP_CHUNK) {
      const size_t gn = ngroups - g0 < QB_W4A8_GROUP_CHUNK ? ngroups - g0 : QB_W4A8_GROUP_CHUNK;
      for (size_t g = g0; g < g0 + gn; g++) {
        const size_t k1 = (g + 1) * G < K ? (g + 1) * G : K;
        int32_t s = 0;
        for (size_t k = g * G; k < k1; k++) s += xr[k];
        xsum[g - g0] = s;
      }
      for (size_t n0 = 0; n0 < N; n0 += QB_W4A8_NR)
        QB_W4A8_BLOCK(N, K, G, ngroups, xr, sx[m], xsum, g0, gn, w, scale, zero_point, n0,
                      y + m * ldy);
    }
  }
}

#endif /* QB_W4A8_DRIVER_X86_H */
