/* qb_f32_q4_f32_wgemm_6x16__avx2: W4A32 int4-weight GEMM (fp32 activations), AVX2,
 * bit-exact with qb_f32_q4_f32_wgemm__scalar (method: wgemm/qb_wgemm.h).
 *
 * Lanes are output channels, as in the 1x32 kernel, so each lane repeats the
 * reference's fmaf chain (group_sum = fma(x[k], w, group_sum) for k increasing;
 * total = fma(scale, group_sum, total) for g increasing). What changes: the weights
 * of 16 channels x one chunk of k (whole groups, at most QB_KC k: 16 KiB) are
 * dequantized ONCE into an fp32 panel wf[k][16] (32 k at a time: nibbles unpacked,
 * transposed 8 x 8 in dwords so lane c holds channel c, each byte converted by
 * vpsrld + vpand + vpsubd zp + vcvtdq2ps; other k one by one) with the chunk's
 * group scales beside it, and reused by every row of the call, 6 rows at a time:
 *   per k: 2 loads of wf[k], per row 1 broadcast of x and 2 vfmadd231ps into 12
 * group-sum registers (the fp32 GEMM's tile); at a group's end total (held in y)
 * = fma(scale, sum, total). One tile call covers a whole chunk, every group in it
 * (a call per group of 32 k paid the call, the 12 zeroed registers and the drain
 * per 32 k).
 * Covers M >= 2 with groups of at most QB_KC k (or one group of at most QB_KC),
 * any K, whole blocks of 16 channels; one-row calls, longer groups and the
 * remaining channels run qb_f32_q4_f32_wgemm_1x32__avx2 (at M = 1 nothing is reused
 * and the panel's store and reload only cost). */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "wgemm/qb_q4_avx2.h"
#include "wgemm/qb_wgemm.h"

#define QB_MR 6
#define QB_NB 16
#define QB_MIN_ROWS 2
#define QB_KC 256 /* k of one fp32 panel: 16 KiB, in L1 with the rows' x */

/* w[n][k] - zp[n, g] as the reference reads it (one weight). */
static float qb_weight(const uint8_t* row, size_t k, const int8_t* zp, size_t g) {
  const int nibble = (row[k / 2] >> (4 * (k % 2))) & 0xF;
  return (float)(zp ? nibble - zp[g] : (nibble ^ 8) - 8);
}

/* wf[k - k0][c] for channels n0 + c (c < 8) of 32 k from an even k inside group g. */
static void qb_dequant32(const uint8_t* w, size_t row_bytes, size_t n0, size_t k, const int8_t* zp,
                         size_t ngroups, size_t g, float* wf) {
  const __m256i flip = _mm256_set1_epi8(zp ? 0 : 8), byte = _mm256_set1_epi32(0xFF);
  int32_t z[8];
  for (size_t c = 0; c < 8; c++) z[c] = zp ? zp[(n0 + c) * ngroups + g] : 8;
  const __m256i zp8 = _mm256_loadu_si256((const __m256i*)z);
  __m256i nib[8], quad[8];
  for (size_t c = 0; c < 8; c++) nib[c] = qb_q4_unpack32_avx2(w + (n0 + c) * row_bytes + k / 2, flip);
  qb_q4_transpose8_avx2(nib, quad);
  for (size_t j = 0; j < 8; j++)
    for (int t = 0; t < 4; t++) {
      const __m256i v = _mm256_and_si256(_mm256_srli_epi32(quad[j], 8 * t), byte);
      _mm256_storeu_ps(wf + (4 * j + (size_t)t) * QB_NB, _mm256_cvtepi32_ps(_mm256_sub_epi32(v, zp8)));
    }
}

/* The panel of channels n0..n0+15, k in [k0, k0 + len) (whole groups of glen from
 * k0), and sc[i][c] = scale of the chunk's group i for channel n0 + c. */
static void qb_build_panel(const uint8_t* w, size_t row_bytes, size_t n0, size_t k0, size_t len,
                           size_t glen, const float* scale, const int8_t* zp, size_t ngroups, float* wf,
                           float* sc) {
  for (size_t s = 0, g = k0 / glen; s < len; s += glen, g++) {
    const size_t end = s + glen < len ? s + glen : len;
    for (size_t c = 0; c < QB_NB; c++) sc[(s / glen) * QB_NB + c] = scale[(n0 + c) * ngroups + g];
    size_t k = s;
    if ((k0 + k) % 2 == 0)
      for (; k + 32 <= end; k += 32)
        for (size_t h = 0; h < QB_NB; h += 8)
          qb_dequant32(w, row_bytes, n0 + h, k0 + k, zp, ngroups, g, wf + k * QB_NB + h);
    for (; k < end; k++)
      for (size_t c = 0; c < QB_NB; c++) {
        const size_t n = n0 + c;
        wf[k * QB_NB + c] = qb_weight(w + n * row_bytes, k0 + k, zp ? zp + n * ngroups : NULL, g);
      }
  }
}

/* Rows [0, mr) x 16 channels over one group: gs = fma(x[k], wf[k], gs) in k order. */
static inline __attribute__((always_inline)) void qb_group_tile(size_t mr, const float* x, size_t ldx,
                                                                const float* wf, size_t len,
                                                                __m256 gs[QB_MR][2]) {
  _Pragma("GCC unroll 6") for (size_t r = 0; r < mr; r++) gs[r][0] = gs[r][1] = _mm256_setzero_ps();
  for (size_t k = 0; k < len; k++) {
    const __m256 w0 = _mm256_loadu_ps(wf + k * QB_NB), w1 = _mm256_loadu_ps(wf + k * QB_NB + 8);
    _Pragma("GCC unroll 6") for (size_t r = 0; r < mr; r++) {
      __m256 xb = _mm256_broadcast_ss(x + r * ldx + k);
      __asm__("" : "+x"(xb)); /* keeps gcc from hoisting the six broadcasts (spills) */
      gs[r][0] = _mm256_fmadd_ps(xb, w0, gs[r][0]);
      gs[r][1] = _mm256_fmadd_ps(xb, w1, gs[r][1]);
    }
  }
}

/* Rows [0, mr) over one chunk: per group, total (y) = fma(scale, gs, total); the
 * chunk's first group starts the total from 0 when first (the reference's 0.0f). */
static inline __attribute__((always_inline)) void qb_chunk_rows(size_t mr, const float* x, size_t ldx,
                                                                const float* wf, const float* sc,
                                                                size_t len, size_t glen, bool first,
                                                                float* y, size_t ldy) {
  for (size_t s = 0; s < len; s += glen, sc += QB_NB, first = false) {
    __m256 gs[QB_MR][2];
    qb_group_tile(mr, x + s, ldx, wf + s * QB_NB, s + glen < len ? glen : len - s, gs);
    const __m256 s0 = _mm256_loadu_ps(sc), s1 = _mm256_loadu_ps(sc + 8);
    _Pragma("GCC unroll 6") for (size_t r = 0; r < mr; r++) {
      float* yr = y + r * ldy;
      const __m256 t0 = first ? _mm256_setzero_ps() : _mm256_loadu_ps(yr);
      const __m256 t1 = first ? _mm256_setzero_ps() : _mm256_loadu_ps(yr + 8);
      _mm256_storeu_ps(yr, _mm256_fmadd_ps(s0, gs[r][0], t0));
      _mm256_storeu_ps(yr + 8, _mm256_fmadd_ps(s1, gs[r][1], t1));
    }
  }
}

#define QB_DEFINE_TILE(MRV)                                                                     \
  static void qb_tile_##MRV(const float* x, size_t ldx, const float* wf, const float* sc,        \
                            size_t len, size_t glen, bool first, float* y, size_t ldy) {        \
    qb_chunk_rows(MRV, x, ldx, wf, sc, len, glen, first, y, ldy);                               \
  }
QB_DEFINE_TILE(1)
QB_DEFINE_TILE(2)
QB_DEFINE_TILE(3)
QB_DEFINE_TILE(4)
QB_DEFINE_TILE(5)
QB_DEFINE_TILE(6)
typedef void (*qb_tile_fn)(const float*, size_t, const float*, const float*, size_t, size_t, bool, float*,
                           size_t);
static const qb_tile_fn qb_tiles[QB_MR + 1] = {NULL, qb_tile_1, qb_tile_2, qb_tile_3,
                                               qb_tile_4, qb_tile_5, qb_tile_6};

void qb_f32_q4_f32_wgemm_6x16__avx2(size_t M, size_t N, size_t K, size_t G, const float* x,
                                    size_t ldx, const uint8_t* w, const float* scale,
                                    const int8_t* zero_point, float* y, size_t ldy) {
  const size_t ngroups = (K + G - 1) / G, glen = G < K ? G : K;
  const bool ok = M >= QB_MIN_ROWS && K >= 1 && glen <= QB_KC; /* K >= 1: glen >= 1 */
  const size_t nfull = ok ? N / QB_NB * QB_NB : 0, row_bytes = (K + 1) / 2;
  if (nfull < N)
    qb_f32_q4_f32_wgemm_1x32__avx2(M, N - nfull, K, G, x, ldx, w + nfull * row_bytes,
                                  scale + nfull * ngroups,
                                  zero_point ? zero_point + nfull * ngroups : NULL, y + nfull, ldy);
  if (nfull == 0) return;
  const size_t kc = QB_KC / glen * glen; /* whole groups per panel */
  float wf[QB_KC * QB_NB] __attribute__((aligned(32)));
  float sc[QB_KC * QB_NB] __attribute__((aligned(32)));
  for (size_t n0 = 0; n0 < nfull; n0 += QB_NB)
    for (size_t k0 = 0; k0 < K; k0 += kc) {
      const size_t len = K - k0 < kc ? K - k0 : kc;
      qb_build_panel(w, row_bytes, n0, k0, len, glen, scale, zero_point, ngroups, wf, sc);
      for (size_t m = 0; m < M; m += QB_MR) {
        const size_t mr = M - m < QB_MR ? M - m : QB_MR;
        qb_tiles[mr](x + m * ldx + k0, ldx, wf, sc, len, glen, k0 == 0, y + m * ldy + n0, ldy);
      }
    }
}
