/* qb_qs8_q4_f32_wgemm_16x8__avx2: W4A8 int4-weight GEMM, AVX2, exact
 * (qb_qs8_q4_f32_wgemm__scalar semantics; method: wgemm/qb_wgemm.h).
 *
 * Blocks of 8 output channels x 1 group, reused by a chunk of up to 16 rows of
 * activations: the block's nibbles are unpacked once into unsigned bytes (32 per
 * vpmovzxbw + vpsllw + vpor + vpand, xor 8 for signed nibbles) and transposed 8 x 8
 * in dwords, so lane c of vector j holds channel c's k = 4j..4j+3 (the layout
 * llama.cpp / VNNI kernels pack ahead of time; here it is built per call, the
 * entry takes the reference's layout). Per row, 32 k and 8 channels: 8 vpmaddubsw
 * of the block against broadcast dwords of x (u8 nibble x s8, |pair| <= 2 * 15 *
 * 128) summed in int16 (8 * 3840 < 32768), one vpmaddwd(1) to int32: no horizontal
 * sums, lanes are channels. Then acc - zp * sum(x) and one 8-lane fp32 step in the
 * reference's order (total += (float)acc_g * scale[n,g], then sx * total; no FMA).
 * M < 4 (GEMV) runs rows one by one without the transpose (qb_w4a8_gemv_row).
 * Covers K % 32 == 0 with groups of a multiple of 32 (or one group; up to 4096 k
 * when blocked, K up to 16384 one row at a time) and whole blocks of 8 channels;
 * other shapes and the remaining channels run qb_qs8_q4_f32_wgemm_1x4__avx2. */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "wgemm/qb_q4_avx2.h"
#include "wgemm/qb_wgemm.h"

#define QB_MB 16           /* rows sharing one unpacked block */
#define QB_NB 8            /* output channels per block */
#define QB_GC 32           /* groups per chunk: their activations (16 x 1 KiB) stay in L1 */
#define QB_MAX_BLOCKS 128  /* 32-k blocks per group: groups up to 4096 (32 KiB unpacked) */
#define QB_MIN_ROWS 4      /* fewer rows: the transpose does not pay, rows run one by one */
#define QB_GEMV_KMAX 16384 /* K of the one-row path (its permuted x is on the stack) */

/* Lane c: sum_k x[k] * u[c][k] over nb blocks of 32 k, exact int32. Per block, 8
 * broadcast dwords of x against the block's 8 transposed vectors; the int16 pair
 * sums of one block stay below 8 * 2 * 15 * 128 = 30720. Inlined with a constant
 * nb (the common group sizes) so u stays in registers across rows. */
static inline __attribute__((always_inline)) __m256i qb_block_dot(const __m256i* u, size_t nb,
                                                                  const int8_t* x) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc = _mm256_setzero_si256();
  _Pragma("GCC unroll 8") for (size_t b = 0; b < nb; b++) {
    __m256i part = _mm256_setzero_si256();
    _Pragma("GCC unroll 8") for (size_t j = 0; j < 8; j++) {
      int32_t quad;
      memcpy(&quad, x + 32 * b + 4 * j, sizeof quad);
      part = _mm256_add_epi16(part, _mm256_maddubs_epi16(u[8 * b + j], _mm256_set1_epi32(quad)));
    }
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(part, ones));
  }
  return acc;
}

static __m256i qb_block_dot_any(const __m256i* u, size_t nb, const int8_t* x) {
  switch (nb) {
    case 1: return qb_block_dot(u, 1, x);
    case 2: return qb_block_dot(u, 2, x);
    case 4: return qb_block_dot(u, 4, x);
    default: return qb_block_dot(u, nb, x);
  }
}

/* {sum a[0], ..., sum a[7]} as 8 int32 lanes. */
static inline __m256i qb_hsum8(const __m256i a[QB_NB]) {
  const __m256i q0 = _mm256_hadd_epi32(_mm256_hadd_epi32(a[0], a[1]), _mm256_hadd_epi32(a[2], a[3]));
  const __m256i q1 = _mm256_hadd_epi32(_mm256_hadd_epi32(a[4], a[5]), _mm256_hadd_epi32(a[6], a[7]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(q0, q1, 0x20), _mm256_permute2x128_si256(q0, q1, 0x31));
}

/* 8 scales (or zero points) of group g', for channels n0..n0+7 (stride ngroups). */
static inline __m256 qb_scale8(const float* sg, size_t ngroups) {
  return _mm256_setr_ps(sg[0], sg[ngroups], sg[2 * ngroups], sg[3 * ngroups], sg[4 * ngroups],
                        sg[5 * ngroups], sg[6 * ngroups], sg[7 * ngroups]);
}

/* M >= QB_MIN_ROWS: rows in chunks sharing each unpacked, transposed block. */
static void qb_w4a8_blocked(size_t M, size_t nfull, size_t K, size_t G, size_t ngroups,
                            const int8_t* xq, const float* sx, const uint8_t* w,
                            const float* scale, const int8_t* zero_point, float* y, size_t ldy) {
  const size_t row_bytes = (K + 1) / 2;
  const __m256i flip = _mm256_set1_epi8(zero_point ? 0 : 8);
  __m256i u[QB_NB * QB_MAX_BLOCKS];
  int32_t xsum[QB_MB][QB_GC];
  for (size_t m0 = 0; m0 < M; m0 += QB_MB) {
    const size_t mb = M - m0 < QB_MB ? M - m0 : QB_MB;
    for (size_t g0 = 0; g0 < ngroups; g0 += QB_GC) {
      const size_t gc = ngroups - g0 < QB_GC ? ngroups - g0 : QB_GC;
      for (size_t m = 0; m < mb; m++)
        for (size_t g = g0; g < g0 + gc; g++) {
          const int8_t* x = xq + (m0 + m) * K;
          const size_t k1 = (g + 1) * G < K ? (g + 1) * G : K;
          int32_t s = 0;
          for (size_t k = g * G; k < k1; k++) s += x[k];
          xsum[m][g - g0] = zero_point ? s : 8 * s; /* signed nibbles: zp_eff = 8 */
        }
      for (size_t n0 = 0; n0 < nfull; n0 += QB_NB)
        for (size_t g = g0; g < g0 + gc; g++) {
          const size_t k0 = g * G, nb = ((k0 + G < K ? k0 + G : K) - k0) / 32;
          for (size_t b = 0; b < nb; b++) {
            __m256i nib[QB_NB];
            for (size_t c = 0; c < QB_NB; c++)
              nib[c] = qb_q4_unpack32_avx2(w + (n0 + c) * row_bytes + k0 / 2 + 16 * b, flip);
            qb_q4_transpose8_avx2(nib, u + 8 * b);
          }
          const __m256 scale8 = qb_scale8(scale + n0 * ngroups + g, ngroups);
          const int8_t* zg = zero_point ? zero_point + n0 * ngroups + g : NULL;
          const __m256i zp8 = zg ? _mm256_setr_epi32(zg[0], zg[ngroups], zg[2 * ngroups], zg[3 * ngroups],
                                                     zg[4 * ngroups], zg[5 * ngroups], zg[6 * ngroups],
                                                     zg[7 * ngroups])
                                 : _mm256_setzero_si256(); /* unused: xsum holds 8 * sum */
          for (size_t m = 0; m < mb; m++) {
            __m256i acc = qb_block_dot_any(u, nb, xq + (m0 + m) * K + k0);
            const __m256i xs = _mm256_set1_epi32(xsum[m][g - g0]);
            acc = _mm256_sub_epi32(acc, zero_point ? _mm256_mullo_epi32(zp8, xs) : xs);
            float* yr = y + (m0 + m) * ldy + n0;
            __m256 total = g == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(yr);
            total = _mm256_add_ps(total, _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale8));
            if (g + 1 == ngroups) total = _mm256_mul_ps(_mm256_set1_ps(sx[m0 + m]), total);
            _mm256_storeu_ps(yr, total);
          }
        }
    }
  }
}

/* M < QB_MIN_ROWS: one row at a time, each weight byte read once per row and not
 * transposed. x is permuted once per row so each block of 32 lists its even k then
 * its odd k: then the low nibbles of 16 weight bytes (elements 2j) and their high
 * nibbles (2j + 1), side by side in one ymm (vpsrlw + vinserti128 + vpand), meet
 * their activations without any shuffle per weight. Per channel and block:
 * vpmaddubsw + vpmaddwd(1); the 8 channels are reduced together (vphaddd tree) and
 * scaled in one 8-lane fp32 step per group, the total kept in a register. */
static void qb_w4a8_gemv_row(size_t nfull, size_t K, size_t G, size_t ngroups, const int8_t* x,
                             float sx, const uint8_t* w, const float* scale,
                             const int8_t* zero_point, float* y) {
  const size_t row_bytes = (K + 1) / 2;
  int8_t xp[QB_GEMV_KMAX] __attribute__((aligned(32)));
  int32_t xsum[QB_GEMV_KMAX / 32];
  const __m256i even_odd = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
                                            0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (size_t k = 0; k < K; k += 32) {
    const __m256i v = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i*)(x + k)), even_odd);
    _mm256_store_si256((__m256i*)(xp + k), _mm256_permute4x64_epi64(v, 0xD8));
  }
  for (size_t g = 0; g < ngroups; g++) {
    const size_t k1 = (g + 1) * G < K ? (g + 1) * G : K;
    int32_t s = 0;
    for (size_t k = g * G; k < k1; k++) s += x[k];
    xsum[g] = zero_point ? s : 8 * s; /* signed nibbles: zp_eff = 8 */
  }
  const __m128i flip = _mm_set1_epi8((char)(zero_point ? 0 : 0x88));
  const __m256i low = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  for (size_t n0 = 0; n0 < nfull; n0 += QB_NB) {
    __m256 total = _mm256_setzero_ps();
    for (size_t g = 0; g < ngroups; g++) {
      const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
      __m256i a[QB_NB];
      for (size_t c = 0; c < QB_NB; c++) a[c] = _mm256_setzero_si256();
      for (size_t k = k0; k < k1; k += 32) {
        const __m256i xv = _mm256_load_si256((const __m256i*)(xp + k));
        _Pragma("GCC unroll 8") for (size_t c = 0; c < QB_NB; c++) {
          const __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i*)(w + (n0 + c) * row_bytes + k / 2)), flip);
          const __m256i u = _mm256_and_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(b), _mm_srli_epi16(b, 4), 1), low);
          a[c] = _mm256_add_epi32(a[c], _mm256_madd_epi16(_mm256_maddubs_epi16(u, xv), ones));
        }
      }
      __m256i acc = qb_hsum8(a);
      const __m256i xs = _mm256_set1_epi32(xsum[g]);
      if (zero_point) {
        const int8_t* zg = zero_point + n0 * ngroups + g;
        acc = _mm256_sub_epi32(acc, _mm256_mullo_epi32(_mm256_setr_epi32(zg[0], zg[ngroups], zg[2 * ngroups], zg[3 * ngroups],
                                                                         zg[4 * ngroups], zg[5 * ngroups], zg[6 * ngroups],
                                                                         zg[7 * ngroups]), xs));
      } else {
        acc = _mm256_sub_epi32(acc, xs);
      }
      total = _mm256_add_ps(total, _mm256_mul_ps(_mm256_cvtepi32_ps(acc), qb_scale8(scale + n0 * ngroups + g, ngroups)));
    }
    _mm256_storeu_ps(y + n0, _mm256_mul_ps(_mm256_set1_ps(sx), total));
  }
}

void qb_qs8_q4_f32_wgemm_16x8__avx2(size_t M, size_t N, size_t K, size_t G, const int8_t* xq,
                                    const float* sx, const uint8_t* w, const float* scale,
                                    const int8_t* zero_point, float* y, size_t ldy) {
  const size_t ngroups = G ? (K + G - 1) / G : 0;
  const size_t glen = G < K ? G : K;
  const bool blocked = M >= QB_MIN_ROWS && glen / 32 <= QB_MAX_BLOCKS;
  const bool ok = K >= 32 && K % 32 == 0 && (G % 32 == 0 || ngroups == 1) &&
                  (blocked || K <= QB_GEMV_KMAX);
  const size_t nfull = ok ? N / QB_NB * QB_NB : 0, row_bytes = (K + 1) / 2;
  if (nfull < N)
    qb_qs8_q4_f32_wgemm_1x4__avx2(M, N - nfull, K, G, xq, sx, w + nfull * row_bytes,
                                  scale + nfull * ngroups,
                                  zero_point ? zero_point + nfull * ngroups : NULL, y + nfull, ldy);
  if (nfull == 0 || M == 0) return;
  if (blocked) {
    qb_w4a8_blocked(M, nfull, K, G, ngroups, xq, sx, w, scale, zero_point, y, ldy);
    return;
  }
  for (size_t m = 0; m < M; m++)
    qb_w4a8_gemv_row(nfull, K, G, ngroups, xq + m * K, sx[m], w, scale, zero_point, y + m * ldy);
}
