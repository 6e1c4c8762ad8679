/* W4A8 int4-weight GEMV/GEMM, AVX-512 VNNI: 16 output channels per block, 128 k
 * (64 weight bytes, one zmm per channel) per step, for groups G that are a multiple
 * of 32 (or one group, G >= K). Other G, or rows too long for the on-stack
 * activation buffer, take qb_qs8_q4_f32_wgemm_1x8__avx512vnni (also exact).
 *
 * Why this layout: the 1x8 kernel widens nibbles to words (vpmovzxbw) and reduces
 * every 32-k group horizontally on its own, which costs more than the products.
 * Here the nibbles stay in place:
 *   lo = (byte ^ flip) & 0x0F    the even k of a 64-byte slice  (one vpternlogd)
 *   hi = ((byte >> 4) ^ flip) & 0x0F   the odd k              (vpsrlw + vpternlogd)
 * and the activations are split once per row into even-k and odd-k bytes (the
 * "prepared" row, 64 + 64 bytes per 128 k), so two vpdpbusd (u8 nibble x s8
 * activation, exact, never saturating) give every int32 lane the sum of 8
 * consecutive k: the 4 lanes of 128-bit block b hold the 32 k of sub-group b of
 * the step. A transposing add tree (unpack epi32 / epi64, shuffle i32x4) turns the
 * 16 channels' accumulators into 4 vectors, one per sub-group, lanes = channels.
 * Groups of G = 32 * s add s sub-groups, exact in int32.
 *
 * Per group, exactly as the reference (flip = 8 and zp = 8 for signed nibbles):
 *   acc   = sum_k xq[k] * u[k] - zp * xsum_g        (int32, exact in any order)
 *   total = total + (float)acc * scale[n][g]       (g increasing, no FMA)
 * and y = sx * total; lanes are channels, so each lane repeats the reference's
 * fp32 sequence (bit-exact). Scales are loaded 4 groups x 16 channels at a time and
 * transposed in registers (a gather per group cost more than the group's products).
 *
 * Loop order: rows of activations are prepared in chunks that fit the stack
 * buffer; for each block of 16 channels every row of the chunk is run, so for
 * M > 1 a block's weights (16 x K/2 bytes) are read from memory once and then
 * from cache. Weight reads past the row end are masked (no over-read); prepared
 * activations are zero beyond K, so whatever nibble meets them adds nothing. */
#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qb_kernels.h"
#include "wgemm/qb_wgemm.h"

#define W4A8_NB 16              /* output channels per block: one lane each */
#define W4A8_KC 128             /* k per step: 64 weight bytes per channel */
#define W4A8_XBUF (48 * 1024)   /* prepared activation bytes on the stack */
#define W4A8_XSUM (W4A8_XBUF / 32)
#define W4A8_ROWS 32            /* rows per pass of the multi-row path */

/* Prepared row: per 128 k, the 64 even-k bytes then the 64 odd-k bytes, zero past K.
 * vpmovwb keeps the low (even) byte of each word; >> 8 first gives the odd one. */
static void w4a8_prepare_row(const int8_t* xq, size_t K, int8_t* out) {
  for (size_t k = 0; k < K; k += W4A8_KC, out += W4A8_KC) {
    const size_t n0 = K - k < 64 ? K - k : 64, n1 = K - k > 64 ? K - k - 64 : 0;
    const __mmask64 m0 = n0 == 64 ? ~(__mmask64)0 : ((__mmask64)1 << n0) - 1;
    const __mmask64 m1 = n1 >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << n1) - 1;
    const __m512i a = _mm512_maskz_loadu_epi8(m0, xq + k);
    const __m512i b = _mm512_maskz_loadu_epi8(m1, xq + k + 64);
    const __m512i even = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(a)),
                                            _mm512_cvtepi16_epi8(b), 1);
    const __m512i odd = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm512_cvtepi16_epi8(_mm512_srli_epi16(a, 8))),
        _mm512_cvtepi16_epi8(_mm512_srli_epi16(b, 8)), 1);
    _mm512_storeu_si512(out, even);
    _mm512_storeu_si512(out + 64, odd);
  }
}

/* xsum[g] = sum of xq over group g (exact int32). */
static void w4a8_group_sums(const int8_t* xq, size_t K, size_t G, size_t ngroups,
                            int32_t* xsum) {
  for (size_t g = 0; g < ngroups; g++) {
    const size_t k1 = (g + 1) * G < K ? (g + 1) * G : K;
    int32_t s = 0;
    for (size_t k = g * G; k < k1; k++) s += xq[k];
    xsum[g] = s;
  }
}

/* 16 accumulators (lanes 4b..4b+3 = sub-group b of channel i) -> d[b] (lane i =
 * channel i's sum over sub-group b). */
static inline __attribute__((always_inline)) void w4a8_transpose_sum(const __m512i acc[16],
                                                                     __m512i d[4]) {
  __m512i s[8], t[4];
  for (int p = 0; p < 8; p++) /* per block: {a0+a2, b0+b2, a1+a3, b1+b3} */
    s[p] = _mm512_add_epi32(_mm512_unpacklo_epi32(acc[2 * p], acc[2 * p + 1]),
                            _mm512_unpackhi_epi32(acc[2 * p], acc[2 * p + 1]));
  for (int q = 0; q < 4; q++) /* per block: channels 4q..4q+3 */
    t[q] = _mm512_add_epi32(_mm512_unpacklo_epi64(s[2 * q], s[2 * q + 1]),
                            _mm512_unpackhi_epi64(s[2 * q], s[2 * q + 1]));
  /* 4 x 4 transpose of 128-bit blocks: d[b] = block b of t[0], t[1], t[2], t[3]. */
  const __m512i u0 = _mm512_shuffle_i32x4(t[0], t[1], 0x44); /* t0.b0 t0.b1 t1.b0 t1.b1 */
  const __m512i u1 = _mm512_shuffle_i32x4(t[0], t[1], 0xEE); /* t0.b2 t0.b3 t1.b2 t1.b3 */
  const __m512i u2 = _mm512_shuffle_i32x4(t[2], t[3], 0x44);
  const __m512i u3 = _mm512_shuffle_i32x4(t[2], t[3], 0xEE);
  d[0] = _mm512_shuffle_i32x4(u0, u2, 0x88);
  d[1] = _mm512_shuffle_i32x4(u0, u2, 0xDD);
  d[2] = _mm512_shuffle_i32x4(u1, u3, 0x88);
  d[3] = _mm512_shuffle_i32x4(u1, u3, 0xDD);
}

typedef struct {
  const uint8_t* w[W4A8_NB];   /* channel rows (past N: the last row again, not stored) */
  const int8_t* zp[W4A8_NB];   /* affine zero-point rows, or NULL (signed nibbles) */
  const float* scale[W4A8_NB]; /* channel scale rows */
  const char* next_w;          /* the next block's weights (rows are contiguous), or NULL */
  const char* next_scale;      /* the next block's scales (contiguous) */
  size_t next_scale_bytes;
  __mmask16 valid;             /* channels to store */
  size_t K, row_bytes, ngroups, subs_per_group;
} w4a8_block;

static inline __attribute__((always_inline)) __m512i w4a8_zero_points(const w4a8_block* b,
                                                                      size_t g) {
  if (!b->zp[0]) return _mm512_set1_epi32(8);
  int32_t z[W4A8_NB];
  for (int i = 0; i < W4A8_NB; i++) z[i] = b->zp[i][g];
  return _mm512_loadu_si512(z);
}

/* win[j] = the 16 channels' scales of group g + j, j < 4 (groups past the last
 * read as 0, never used): 16 masked 4-float row loads, then 4 x 4 transposes inside
 * the 128-bit blocks (a gather per group costs more than the group's products). */
static inline __attribute__((always_inline)) void w4a8_scale_window(const w4a8_block* b, size_t g,
                                                                    __m512 win[4]) {
  const size_t left = b->ngroups - g;
  const __mmask8 m = (__mmask8)(left >= 4 ? 0xF : (1u << left) - 1u);
  __m512 z[4]; /* z[j] block q = channel 4q + j's 4 scales */
  for (int j = 0; j < 4; j++) {
    __m512 v = _mm512_castps128_ps512(_mm_maskz_loadu_ps(m, b->scale[j] + g));
    v = _mm512_insertf32x4(v, _mm_maskz_loadu_ps(m, b->scale[4 + j] + g), 1);
    v = _mm512_insertf32x4(v, _mm_maskz_loadu_ps(m, b->scale[8 + j] + g), 2);
    z[j] = _mm512_insertf32x4(v, _mm_maskz_loadu_ps(m, b->scale[12 + j] + g), 3);
  }
  const __m512d t0 = _mm512_castps_pd(_mm512_unpacklo_ps(z[0], z[1]));
  const __m512d t1 = _mm512_castps_pd(_mm512_unpackhi_ps(z[0], z[1]));
  const __m512d t2 = _mm512_castps_pd(_mm512_unpacklo_ps(z[2], z[3]));
  const __m512d t3 = _mm512_castps_pd(_mm512_unpackhi_ps(z[2], z[3]));
  win[0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
  win[1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
  win[2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
  win[3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
}

/* Software prefetch of the next block into L2 while this one runs: step t
 * (64 bytes of each of 16 rows) asks for the next block's lines [16t, 16t + 16) and
 * 4 lines of its scales (group-32 scales are a quarter of the weight bytes). The
 * 16 row streams of a block, 2 KiB apart at K = 4096, are more than the hardware
 * prefetchers keep ahead of on their own: without this, W4A8 GEMV from DRAM ran at
 * half the bandwidth int8 GEMV (one sequential stream per panel) reaches. */
static inline __attribute__((always_inline)) void w4a8_prefetch_next(const w4a8_block* b,
                                                                     size_t off) {
  for (int j = 0; j < W4A8_NB; j++) _mm_prefetch(b->next_w + 16 * off + 64 * j, _MM_HINT_T1);
  if (4 * off < b->next_scale_bytes)
    for (int j = 0; j < 4; j++) _mm_prefetch(b->next_scale + 4 * off + 64 * j, _MM_HINT_T1);
}

/* y[0..16) (masked) for one prepared activation row. */
static void w4a8_block_row(const w4a8_block* b, const int8_t* xp, const int32_t* xsum, float sx,
                           float* y) {
  const __m512i flip = _mm512_set1_epi8(b->zp[0] ? 0 : 0x08), low4 = _mm512_set1_epi8(0x0F);
  const size_t nsub = (b->K + 31) / 32;
  __m512 total = _mm512_setzero_ps();
  __m512i gacc = _mm512_setzero_si512();
  size_t sub = 0, g = 0, sub_in_group = 0; /* counters: no division in the loop */
  __m512 win[4];
  w4a8_scale_window(b, 0, win);
  for (size_t off = 0; off < b->row_bytes; off += 64, xp += W4A8_KC) {
    const size_t left = b->row_bytes - off;
    const __mmask64 wm = left >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << left) - 1;
    const __m512i xe = _mm512_loadu_si512(xp), xo = _mm512_loadu_si512(xp + 64);
    if (b->next_w) w4a8_prefetch_next(b, off);
    __m512i acc[W4A8_NB];
    for (int i = 0; i < W4A8_NB; i++) {
      const __m512i wb = _mm512_maskz_loadu_epi8(wm, b->w[i] + off);
      /* (x ^ flip) & 0x0F: imm 0x28 = (A ^ B) & C */
      const __m512i lo = _mm512_ternarylogic_epi32(wb, flip, low4, 0x28);
      const __m512i hi = _mm512_ternarylogic_epi32(_mm512_srli_epi16(wb, 4), flip, low4, 0x28);
      acc[i] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, xe), hi, xo);
    }
    __m512i d[4];
    w4a8_transpose_sum(acc, d);
    for (int s = 0; s < 4 && sub < nsub; s++, sub++) {
      gacc = _mm512_add_epi32(gacc, d[s]);
      if (++sub_in_group != b->subs_per_group && sub + 1 != nsub) continue;
      const __m512i corr = _mm512_mullo_epi32(w4a8_zero_points(b, g), _mm512_set1_epi32(xsum[g]));
      total = _mm512_add_ps(
          total, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(gacc, corr)), win[g % 4]));
      gacc = _mm512_setzero_si512();
      sub_in_group = 0;
      if (++g % 4 == 0 && g < b->ngroups) w4a8_scale_window(b, g, win);
    }
  }
  _mm512_mask_storeu_ps(y, b->valid, _mm512_mul_ps(_mm512_set1_ps(sx), total));
}

/* Several rows (2..W4A8_ROWS): each step's nibbles are unpacked once into an L1
 * scratch and each scale window is loaded once, then every row runs its products,
 * reduction and group updates against them (its running sums live on the stack).
 * Group ends are the same for every row, so a step plans them first. A window of 4
 * groups is always used up at the end of a step: group 4j - 1 ends on sub-group
 * 4j * (G / 32) - 1, the last of its step. Same arithmetic as w4a8_block_row. */
static void w4a8_block_rows(const w4a8_block* b, size_t mc, const int8_t* xprep, size_t kpad,
                            const int32_t* xsum, const float* sx, float* y, size_t ldy) {
  const __m512i flip = _mm512_set1_epi8(b->zp[0] ? 0 : 0x08), low4 = _mm512_set1_epi8(0x0F);
  const size_t nsub = (b->K + 31) / 32;
  __m512 total[W4A8_ROWS];
  __m512i gacc[W4A8_ROWS], lo[W4A8_NB], hi[W4A8_NB];
  for (size_t m = 0; m < mc; m++) total[m] = _mm512_setzero_ps(), gacc[m] = _mm512_setzero_si512();
  size_t sub = 0, g = 0, sub_in_group = 0;
  __m512 win[4];
  w4a8_scale_window(b, 0, win);
  for (size_t off = 0; off < b->row_bytes; off += 64) {
    const size_t left = b->row_bytes - off;
    const __mmask64 wm = left >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << left) - 1;
    if (b->next_w) w4a8_prefetch_next(b, off);
    for (int i = 0; i < W4A8_NB; i++) {
      const __m512i wb = _mm512_maskz_loadu_epi8(wm, b->w[i] + off);
      lo[i] = _mm512_ternarylogic_epi32(wb, flip, low4, 0x28);
      hi[i] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(wb, 4), flip, low4, 0x28);
    }
    /* The step's plan: sub-groups present, which end a group, and its index. */
    const size_t g_start = g;
    size_t ns = 0, group[4];
    bool ends[4];
    for (; ns < 4 && sub < nsub; ns++, sub++) {
      group[ns] = g;
      ends[ns] = ++sub_in_group == b->subs_per_group || sub + 1 == nsub;
      if (ends[ns]) sub_in_group = 0, g++;
    }
    for (size_t m = 0; m < mc; m++) {
      const int8_t* xp = xprep + m * kpad + 2 * off;
      const __m512i xe = _mm512_loadu_si512(xp), xo = _mm512_loadu_si512(xp + 64);
      __m512i acc[W4A8_NB], d[4];
      for (int i = 0; i < W4A8_NB; i++) {
        acc[i] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[i], xe);
        acc[i] = _mm512_dpbusd_epi32(acc[i], hi[i], xo);
      }
      w4a8_transpose_sum(acc, d);
      __m512i ga = gacc[m];
      __m512 tot = total[m];
      for (size_t t = 0; t < ns; t++) {
        ga = _mm512_add_epi32(ga, d[t]);
        if (!ends[t]) continue;
        const __m512i corr = _mm512_mullo_epi32(w4a8_zero_points(b, group[t]),
                                                _mm512_set1_epi32(xsum[m * b->ngroups + group[t]]));
        tot = _mm512_add_ps(
            tot, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(ga, corr)), win[group[t] % 4]));
        ga = _mm512_setzero_si512();
      }
      gacc[m] = ga, total[m] = tot;
    }
    if (g != g_start && g % 4 == 0 && g < b->ngroups) w4a8_scale_window(b, g, win);
  }
  for (size_t m = 0; m < mc; m++)
    _mm512_mask_storeu_ps(y + m * ldy, b->valid, _mm512_mul_ps(_mm512_set1_ps(sx[m]), total[m]));
}

void qb_qs8_q4_f32_wgemm_1x16__avx512vnni(size_t M, size_t N, size_t K, size_t G,
                                          const int8_t* xq, const float* sx, const uint8_t* w,
                                          const float* scale, const int8_t* zero_point, float* y,
                                          size_t ldy) {
  const size_t kpad = (K + W4A8_KC - 1) / W4A8_KC * W4A8_KC;
  if ((G % 32 != 0 && G < K) || kpad > W4A8_XBUF || K == 0) {
    qb_qs8_q4_f32_wgemm_1x8__avx512vnni(M, N, K, G, xq, sx, w, scale, zero_point, y, ldy);
    return;
  }
  _Alignas(64) int8_t xprep[W4A8_XBUF];
  int32_t xsum[W4A8_XSUM];
  const size_t ngroups = (K + G - 1) / G, rows = W4A8_XBUF / kpad;
  w4a8_block b = {.K = K, .row_bytes = (K + 1) / 2, .ngroups = ngroups,
                  .subs_per_group = G >= K ? (K + 31) / 32 : G / 32};
  for (size_t m0 = 0; m0 < M; m0 += rows) {
    const size_t mc = M - m0 < rows ? M - m0 : rows;
    for (size_t i = 0; i < mc; i++) {
      w4a8_prepare_row(xq + (m0 + i) * K, K, xprep + i * kpad);
      w4a8_group_sums(xq + (m0 + i) * K, K, G, ngroups, xsum + i * ngroups);
    }
    for (size_t n0 = 0; n0 < N; n0 += W4A8_NB) {
      const size_t valid = N - n0 < W4A8_NB ? N - n0 : W4A8_NB;
      for (size_t i = 0; i < W4A8_NB; i++) {
        const size_t n = n0 + (i < valid ? i : valid - 1);
        b.w[i] = w + n * b.row_bytes;
        b.zp[i] = zero_point ? zero_point + n * ngroups : NULL;
        b.scale[i] = scale + n * ngroups;
      }
      b.valid = (__mmask16)((1u << valid) - 1u);
      const size_t n1 = n0 + W4A8_NB; /* next block */
      b.next_w = n1 < N ? (const char*)(w + n1 * b.row_bytes) : NULL;
      b.next_scale = n1 < N ? (const char*)(scale + n1 * ngroups) : NULL;
      const size_t next_rows = n1 < N ? (N - n1 < W4A8_NB ? N - n1 : W4A8_NB) : 0;
      b.next_scale_bytes = next_rows * ngroups * sizeof(float);
      if (mc == 1) {
        w4a8_block_row(&b, xprep, xsum, sx[m0], y + m0 * ldy + n0);
        continue;
      }
      for (size_t i = 0; i < mc; i += W4A8_ROWS) { /* later passes find the block in cache */
        const size_t rc = mc - i < W4A8_ROWS ? mc - i : W4A8_ROWS;
        w4a8_block_rows(&b, rc, xprep + i * kpad, kpad, xsum + i * ngroups, sx + m0 + i,
                        y + (m0 + i) * ldy + n0, ldy);
        b.next_w = NULL;
      }
    }
  }
}
