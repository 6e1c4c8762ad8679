/* ISA-neutral driver of the W4A8 kernels on weights packed at prepare in the 8c4 /
 * 8c8 frame (wgemm/qb_q4_pack_8c4.h, wgemm/qb_q4_pack_8c8.h): panels of 8 channels,
 * per group whole blocks of 32 k then the group's scales (and zero points). Static
 * inline, compiled under the including file's ISA flags. The including file
 * defines, before including this header:
 *   QB_W4A8P_MR       rows per full tile
 *   QB_W4A8P_TAIL_MR  rows per tile of the row tail (1, or 2 for a kernel that works
 *                     on row pairs; a last odd row then runs a tile of 1)
 *   static inline void w4a8p_tile(size_t mr, const int8_t* const* x,
 *       const int32_t* const* xs, const uint8_t* p, size_t K, size_t G, size_t g0,
 *       size_t g1, bool affine, float total[][QB_Q4_8C4_NR])
 *     rows x[0..mr) against the panel's groups [g0, g1) starting at p, xs[r][g - g0]
 *     = sum_{k in g} x[r][k]; per group and channel c:
 *       total[r][c] += (float)(sum_{k in g} x[r][k] * u(c, k) - zp_eff(c) * xs) * scale(c)
 *     (an exact int32 dot, then the reference's fp32 mul and add, no FMA);
 *   QB_W4A8P_WGEMM    the kernel's name (qb_wgemm.h's packed signature).
 * and optionally:
 *   QB_W4A8P_SYM_XSUM8  symmetric weights get xs = 8 * sum (zp_eff = 8 folded in, so
 *                       the tile subtracts xs without a multiply; affine: the sum)
 *   QB_W4A8P_GEMV_ROW, QB_W4A8P_GEMV_OK(M, K, G, ngroups)   a one-row path taken for
 *       every row when QB_W4A8P_GEMV_OK holds (it must imply ngroups <= QB_W4A8P_XSUM):
 *       QB_W4A8P_GEMV_ROW(N, K, G, affine, x, sx, xs, packed, panel_bytes, y) computes
 *       the whole row y[0, N) from its group sums xs[0, ngroups).
 * The driver computes the activation sums of a chunk of rows x groups once per call
 * (QB_W4A8P_XSUM of them on the stack; more groups than that: the running totals
 * are carried in y between group chunks), walks the panels and row tiles, and ends
 * each output with the reference's last step y = sx[m] * total (one fp32 multiply,
 * the same whether done on a vector lane or here). */
#ifndef QB_W4A8_DRIVER_PACKED_H
#define QB_W4A8_DRIVER_PACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wgemm/qb_q4_pack_8c4.h"

#define QB_W4A8P_XSUM 8192 /* int32 activation sums on the stack (rows x groups) */

/* Rows [m, m + mr) against the panel of channels [n0, n0 + 8), groups [g0, g1). */
static inline __attribute__((always_inline)) void w4a8p_tile_rows(
    size_t mr, size_t m, size_t n0, size_t N, size_t K, size_t G, size_t g0, size_t g1,
    size_t ngroups, const int8_t* xq, const float* sx, const int32_t* xsum, size_t m_first,
    const uint8_t* p, bool affine, float* y, size_t ldy) {
  const size_t valid = N - n0 < QB_Q4_8C4_NR ? N - n0 : QB_Q4_8C4_NR;
  const int8_t* x[QB_W4A8P_MR];
  const int32_t* xs[QB_W4A8P_MR];
  float total[QB_W4A8P_MR][QB_Q4_8C4_NR];
  /* Whole panels copy a constant 8 floats (vector moves), partial ones `valid`. */
  for (size_t r = 0; r < mr; r++) {
    x[r] = xq + (m + r) * K;
    xs[r] = xsum + (m + r - m_first) * (g1 - g0);
    memset(total[r], 0, sizeof total[r]);
    if (g0 != 0) {
      if (valid == QB_Q4_8C4_NR)
        memcpy(total[r], y + (m + r) * ldy + n0, sizeof total[r]);
      else
        memcpy(total[r], y + (m + r) * ldy + n0, valid * sizeof(float));
    }
  }
  w4a8p_tile(mr, x, xs, p, K, G, g0, g1, affine, total);
  for (size_t r = 0; r < mr; r++) {
    float out[QB_Q4_8C4_NR];
    if (g1 == ngroups)
      for (size_t c = 0; c < QB_Q4_8C4_NR; c++) out[c] = sx[m + r] * total[r][c];
    else
      memcpy(out, total[r], sizeof out);
    if (valid == QB_Q4_8C4_NR)
      memcpy(y + (m + r) * ldy + n0, out, sizeof out);
    else
      memcpy(y + (m + r) * ldy + n0, out, valid * sizeof(float));
  }
}

void QB_W4A8P_WGEMM(size_t M, size_t N, size_t K, size_t G, bool affine, const int8_t* xq,
                    const float* sx, const void* packed, float* y, size_t ldy) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (size_t m = 0; m < M; m++) memset(y + m * ldy, 0, N * sizeof(float));
    return;
  }
  const size_t ngroups = (K + G - 1) / G, panel_bytes = qb_q4_8c4_panel_offset(K, G, ngroups, affine);
  const size_t gc = ngroups < QB_W4A8P_XSUM ? ngroups : QB_W4A8P_XSUM;
  int32_t xsum[QB_W4A8P_XSUM];
#ifdef QB_W4A8P_GEMV_ROW
  const bool gemv = QB_W4A8P_GEMV_OK(M, K, G, ngroups);
#endif
  for (size_t g0 = 0; g0 < ngroups; g0 += gc) {
    const size_t g1 = g0 + gc < ngroups ? g0 + gc : ngroups, pg = qb_q4_8c4_panel_offset(K, G, g0, affine);
    size_t mc = QB_W4A8P_XSUM / (g1 - g0); /* rows whose sums fit */
    if (mc > QB_W4A8P_MR) mc -= mc % QB_W4A8P_MR;
    for (size_t m0 = 0; m0 < M; m0 += mc) {
      const size_t m1 = m0 + mc < M ? m0 + mc : M;
      for (size_t m = m0; m < m1; m++)
        for (size_t g = g0; g < g1; g++) {
          const int8_t* x = xq + m * K;
          const size_t k1 = (g + 1) * G < K ? (g + 1) * G : K;
          int32_t s = 0;
          for (size_t k = g * G; k < k1; k++) s += x[k];
#ifdef QB_W4A8P_SYM_XSUM8
          if (!affine) s = (int32_t)((uint32_t)s * 8u);
#endif
          xsum[(m - m0) * (g1 - g0) + g - g0] = s;
        }
#ifdef QB_W4A8P_GEMV_ROW
      if (gemv) {
        for (size_t m = m0; m < m1; m++)
          QB_W4A8P_GEMV_ROW(N, K, G, affine, xq + m * K, sx[m], xsum + (m - m0) * ngroups, packed,
                            panel_bytes, y + m * ldy);
        continue;
      }
#endif
      for (size_t n0 = 0; n0 < N; n0 += QB_Q4_8C4_NR) {
        const uint8_t* p = (const uint8_t*)packed + n0 / QB_Q4_8C4_NR * panel_bytes + pg;
        size_t m = m0;
        for (; m + QB_W4A8P_MR <= m1; m += QB_W4A8P_MR)
          w4a8p_tile_rows(QB_W4A8P_MR, m, n0, N, K, G, g0, g1, ngroups, xq, sx, xsum, m0, p, affine, y, ldy);
#if QB_W4A8P_TAIL_MR > 1
        for (; m + QB_W4A8P_TAIL_MR <= m1; m += QB_W4A8P_TAIL_MR)
          w4a8p_tile_rows(QB_W4A8P_TAIL_MR, m, n0, N, K, G, g0, g1, ngroups, xq, sx, xsum, m0, p, affine, y, ldy);
#endif
        for (; m < m1; m++)
          w4a8p_tile_rows(1, m, n0, N, K, G, g0, g1, ngroups, xq, sx, xsum, m0, p, affine, y, ldy);
      }
    }
  }
}

#endif /* QB_W4A8_DRIVER_PACKED_H */
