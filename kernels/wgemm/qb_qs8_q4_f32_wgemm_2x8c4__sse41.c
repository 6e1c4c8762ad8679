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
 * runs a 1-row tile, each weight byte read once. */
#include <smmintrin.h>
#include <string.h>

#include "wgemm/qb_q4_pack_8c4.h"
#include "wgemm/qb_wgemm.h"

#define QB_NR QB_Q4_8C4_NR
#define QB_MR 2      /* rows per tile */
#define QB_XSUM 8192 /* int32 activation sums on the stack (rows x groups) */

/* Keeps each int16 sum a chain of adds (no reassociation into a wide tree). */
static inline __attribute__((always_inline)) void keep_chain(__m128i* v) { __asm__("" : "+x"(*v)); }

static inline __m128i broadcast_quad(const int8_t* x) {
  int32_t quad;
  memcpy(&quad, x, sizeof quad);
  return _mm_set1_epi32(quad);
}

/* mr rows (x[r], their group sums xs[r][g - g0]) against one panel, groups [g0, g1)
 * starting at p; total[r][h] in/out (half h: channels 4h..4h+3). */
static inline __attribute__((always_inline)) void tile(size_t mr, const int8_t* const* x,
                                                       const int32_t* const* xs, const uint8_t* p,
                                                       size_t K, size_t G, size_t g0, size_t g1,
                                                       bool affine, __m128 total[][2]) {
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
}

/* Rows [m, m + mr) against the panel of channels [n0, n0 + 8), groups [g0, g1). */
static inline __attribute__((always_inline)) void tile_rows(size_t mr, size_t m, size_t n0, size_t N,
                                                            size_t K, size_t G, size_t g0, size_t g1,
                                                            size_t ngroups, const int8_t* xq,
                                                            const float* sx, const int32_t* xsum,
                                                            size_t m_first, const uint8_t* p,
                                                            bool affine, float* y, size_t ldy) {
  const size_t valid = N - n0 < QB_NR ? N - n0 : QB_NR;
  const int8_t* x[QB_MR];
  const int32_t* xs[QB_MR];
  __m128 total[QB_MR][2];
  for (size_t r = 0; r < mr; r++) {
    x[r] = xq + (m + r) * K;
    xs[r] = xsum + (m + r - m_first) * (g1 - g0);
    float carried[QB_NR] = {0};
    if (g0 != 0) memcpy(carried, y + (m + r) * ldy + n0, valid * sizeof(float));
    total[r][0] = _mm_loadu_ps(carried);
    total[r][1] = _mm_loadu_ps(carried + 4);
  }
  tile(mr, x, xs, p, K, G, g0, g1, affine, total);
  for (size_t r = 0; r < mr; r++) {
    float out[QB_NR];
    for (size_t h = 0; h < 2; h++) {
      __m128 t = total[r][h];
      if (g1 == ngroups) t = _mm_mul_ps(_mm_set1_ps(sx[m + r]), t);
      _mm_storeu_ps(out + 4 * h, t);
    }
    memcpy(y + (m + r) * ldy + n0, out, valid * sizeof(float));
  }
}

void qb_qs8_q4_f32_wgemm_2x8c4__sse41(size_t M, size_t N, size_t K, size_t G, bool affine,
                                      const int8_t* xq, const float* sx, const void* packed,
                                      float* y, size_t ldy) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (size_t m = 0; m < M; m++) memset(y + m * ldy, 0, N * sizeof(float));
    return;
  }
  const size_t ngroups = (K + G - 1) / G, panel_bytes = qb_q4_8c4_panel_offset(K, G, ngroups, affine);
  const size_t gc = ngroups < QB_XSUM ? ngroups : QB_XSUM;
  int32_t xsum[QB_XSUM];
  for (size_t g0 = 0; g0 < ngroups; g0 += gc) {
    const size_t g1 = g0 + gc < ngroups ? g0 + gc : ngroups, pg = qb_q4_8c4_panel_offset(K, G, g0, affine);
    size_t mc = QB_XSUM / (g1 - g0);
    if (mc > QB_MR) mc -= mc % QB_MR;
    for (size_t m0 = 0; m0 < M; m0 += mc) {
      const size_t m1 = m0 + mc < M ? m0 + mc : M;
      for (size_t m = m0; m < m1; m++)
        for (size_t g = g0; g < g1; g++) {
          const int8_t* x = xq + m * K;
          const size_t k1 = (g + 1) * G < K ? (g + 1) * G : K;
          int32_t s = 0;
          for (size_t k = g * G; k < k1; k++) s += x[k];
          xsum[(m - m0) * (g1 - g0) + g - g0] = affine ? s : (int32_t)((uint32_t)s * 8u);
        }
      for (size_t n0 = 0; n0 < N; n0 += QB_NR) {
        const uint8_t* p = (const uint8_t*)packed + n0 / QB_NR * panel_bytes + pg;
        size_t m = m0;
        for (; m + QB_MR <= m1; m += QB_MR)
          tile_rows(QB_MR, m, n0, N, K, G, g0, g1, ngroups, xq, sx, xsum, m0, p, affine, y, ldy);
        for (; m < m1; m++)
          tile_rows(1, m, n0, N, K, G, g0, g1, ngroups, xq, sx, xsum, m0, p, affine, y, ldy);
      }
    }
  }
}
