/* qb_qs8_q4_f32_wgemm_2x8c4__sse41: W4A8 int4-weight GEMM / GEMV on weights packed
 * once at prepare in the 8c4 layout (wgemm/qb_q4_pack_8c4.h), SSE4.1, exact
 * (qb_qs8_q4_f32_wgemm__scalar semantics). The AVX2 kernel's method
 * (qb_qs8_q4_f32_wgemm_4x8c4__avx2.c) on 16-byte halves: bytes 0-15 of each 32-byte
 * vector of a block are channels 0-3, bytes 16-31 channels 4-7. One load + pand /
 * psrlw + pand gives two "c4" vectors (lane c: channel c's weights of 4 consecutive
 * k) for pmaddubsw against a dword of activations broadcast by pshufd; per row and
 * half: 8 products of at most 2 * 15 * 128 summed in int16 (30720), pmaddwd by ones
 * into int32, acc - zp * sum(x) per group, then the reference's fp32 group step
 * (mul, then add, no FMA) per lane: bit-identical. Tile: 2 rows x 8 channels (the
 * 16 xmm registers hold 2 rows' int16 / int32 sums of both halves); a single row
 * runs a 1-row tile, each weight byte read once. Driver: wgemm/qb_w4a8_driver_packed.h
 * (symmetric weights: activation sums stored as 8 * sum, QB_W4A8P_SYM_XSUM8). */
#include <smmintrin.h>
#include <string.h>

#include "wgemm/qb_q4_pack_8c4.h"
#include "wgemm/qb_wgemm.h"

#define QB_NR QB_Q4_8C4_NR
#define QB_MR 2 /* rows per tile */

/* Keeps each int16 sum a chain of adds (no reassociation into a wide tree). */
static inline __attribute__((always_inline)) void keep_chain(__m128i* v) { __asm__("" : "+x"(*v)); }

static inline __m128i broadcast_quad(const int8_t* x) {
  int32_t quad;
  memcpy(&quad, x, sizeof quad);
  return _mm_set1_epi32(quad);
}

/* mr rows (x[r], their group sums xs[r][g - g0]) against one panel, groups [g0, g1)
 * starting at p; total_io[r] in/out (channels 0..7). */
static inline __attribute__((always_inline)) void w4a8p_tile(size_t mr, const int8_t* const* x,
                                                             const int32_t* const* xs, const uint8_t* p,
                                                             size_t K, size_t G, size_t g0, size_t g1,
                                                             bool affine, float total_io[][QB_NR]) {
  __m128 total[QB_MR][2]; /* half h: channels 4h..4h+3 */
  for (size_t r = 0; r < mr; r++) {
    total[r][0] = _mm_loadu_ps(total_io[r]);
    total[r][1] = _mm_loadu_ps(total_io[r] + 4);
  }
  const __m128i low = _mm_set1_epi8(0x0F), ones = _mm_set1_epi16(1);
  for (size_t g = g0; g < g1; g++) {
    const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    __m128i acc[QB_MR][2];
    for (size_t r = 0; r < mr; r++) acc[r][0] = acc[r][1] = _mm_setzero_si128();
    for (size_t k = k0; k < k1; k += 32, p += QB_Q4_8C4_BLOCK_BYTES) {
      const int8_t* xb[QB_MR];
      int8_t stage[QB_MR][32];
      for (size_t r = 0; r < mr; r++) {
        xb[r] = x[r] + k;
        if (k + 32 > K) { /* the block crosses K: zero-padded copy */
          memset(stage[r], 0, sizeof stage[r]);
          memcpy(stage[r], x[r] + k, K - k);
          xb[r] = stage[r];
        }
      }
      __m128i s[QB_MR][2];
      for (size_t r = 0; r < mr; r++) s[r][0] = s[r][1] = _mm_setzero_si128();
      for (size_t v = 0; v < 4; v++) {
        __m128i xl[QB_MR], xh[QB_MR];
        for (size_t r = 0; r < mr; r++) {
          xl[r] = broadcast_quad(xb[r] + 4 * v);
          xh[r] = broadcast_quad(xb[r] + 16 + 4 * v);
        }
        for (size_t h = 0; h < 2; h++) {
          const __m128i q = _mm_loadu_si128((const __m128i*)(p + 32 * v + 16 * h));
          const __m128i wl = _mm_and_si128(q, low), wh = _mm_and_si128(_mm_srli_epi16(q, 4), low);
          for (size_t r = 0; r < mr; r++) {
            s[r][h] = _mm_add_epi16(s[r][h], _mm_maddubs_epi16(wl, xl[r]));
            s[r][h] = _mm_add_epi16(s[r][h], _mm_maddubs_epi16(wh, xh[r]));
            keep_chain(&s[r][h]);
          }
        }
      }
      for (size_t r = 0; r < mr; r++)
        for (size_t h = 0; h < 2; h++) acc[r][h] = _mm_add_epi32(acc[r][h], _mm_madd_epi16(s[r][h], ones));
    }
    for (size_t h = 0; h < 2; h++) {
      const __m128 sc = _mm_loadu_ps((const float*)(p + 16 * h));
      int32_t zp4 = 0;
      if (affine) memcpy(&zp4, p + QB_Q4_8C4_SCALE_BYTES + 4 * h, sizeof zp4);
      const __m128i zp = _mm_cvtepi8_epi32(_mm_cvtsi32_si128(zp4));
      for (size_t r = 0; r < mr; r++) {
        /* zp * sum(x); symmetric: the driver's xsum is already 8 * sum(x) */
        const __m128i xsum = _mm_set1_epi32(xs[r][g - g0]);
        const __m128i a = _mm_sub_epi32(acc[r][h], affine ? _mm_mullo_epi32(zp, xsum) : xsum);
        total[r][h] = _mm_add_ps(total[r][h], _mm_mul_ps(_mm_cvtepi32_ps(a), sc));
      }
    }
    p += qb_q4_8c4_group_tail(affine);
  }
  for (size_t r = 0; r < mr; r++) {
    _mm_storeu_ps(total_io[r], total[r][0]);
    _mm_storeu_ps(total_io[r] + 4, total[r][1]);
  }
}

#define QB_W4A8P_MR QB_MR
#define QB_W4A8P_TAIL_MR 1
#define QB_W4A8P_SYM_XSUM8
#define QB_W4A8P_WGEMM qb_qs8_q4_f32_wgemm_2x8c4__sse41
#include "wgemm/qb_w4a8_driver_packed.h"
