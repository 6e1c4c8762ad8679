/* qb_f32_q4_f32_wgemm_1x32__avx2: W4A32 int4-weight GEMV (one row of fp32
 * activations), AVX2 + FMA, bit-exact with qb_f32_q4_f32_wgemm__scalar: lanes are
 * output channels (32 per block, four vectors), each lane the reference's fmaf chain
 * (group_sum = fma(x[k], w - zp, group_sum) for k increasing, total = fma(scale,
 * group_sum, total) for g increasing).
 *
 * At M = 1 nothing is reused, so the weights are converted in registers, never
 * stored: per 32 k of a group, each channel row gives 16 bytes = four dwords of 8
 * nibbles; a 4 x 4 dword transpose per 128-bit half (rows c and c + 4 share a ymm)
 * puts dword j of 8 channels in one vector, lane c = nibbles k = 8j .. 8j + 7 of
 * channel c. Then per k and 8 channels: vpsrld + vpand (the nibble), vpsubd (the
 * zero point; signed nibbles are first flipped by one vpxor 0x88888888 per dword:
 * (n ^ 8) - 8), vcvtdq2ps, vfmadd231ps: five operations per 8 weights, where the
 * gather kernel it replaced (1x8) spent a vpgatherdd per 8 k and lane, per row.
 * Why 32 channels: four independent FMA chains per k (a chain waits 4-5 cycles per
 * k; 16 channels would leave Zen 3's four pipes waiting on latency).
 * Group pieces that are not 32 k from an even k (odd or short groups, K tails) take
 * the weights one k at a time; channels past N repeat row N - 1 and are not stored.
 * Every shape with M = 1; the 6x16 kernel sends its one-row calls here. */
#include <immintrin.h>
#include <string.h>

#include "wgemm/qb_q4_avx2.h"
#include "wgemm/qb_wgemm.h"

#define QB_NB 32
#define QB_PREFETCH 256 /* bytes ahead in each channel row */
#define QB_SCALE_CHUNK 64 /* groups whose scales are transposed at once: 8 KiB */

typedef struct {
  const uint8_t* row[QB_NB];
  const int8_t* zp[QB_NB]; /* NULL: signed nibbles */
  const float* scale[QB_NB];
} qb_block;

/* q[v][j] lane c = dword j of channel 8v + c's 16 bytes at `byte`: its nibbles
 * 8j .. 8j + 7 of the piece; signed nibbles flipped to n ^ 8. */
static inline void qb_transpose_piece(const qb_block* b, size_t byte, __m256i flip, __m256i q[4][4]) {
  for (size_t v = 0; v < 4; v++) {
    __m256i a[4];
    for (size_t c = 0; c < 4; c++) {
      const uint8_t* lo = b->row[8 * v + c] + byte;
      const uint8_t* hi = b->row[8 * v + c + 4] + byte;
      _mm_prefetch((const char*)lo + QB_PREFETCH, _MM_HINT_T0);
      _mm_prefetch((const char*)hi + QB_PREFETCH, _MM_HINT_T0);
      a[c] = _mm256_xor_si256(_mm256_loadu2_m128i((const __m128i*)hi, (const __m128i*)lo), flip);
    }
    const __m256i t0 = _mm256_unpacklo_epi32(a[0], a[1]), t1 = _mm256_unpackhi_epi32(a[0], a[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(a[2], a[3]), t3 = _mm256_unpackhi_epi32(a[2], a[3]);
    q[v][0] = _mm256_unpacklo_epi64(t0, t2);
    q[v][1] = _mm256_unpackhi_epi64(t0, t2);
    q[v][2] = _mm256_unpacklo_epi64(t1, t3);
    q[v][3] = _mm256_unpackhi_epi64(t1, t3);
  }
}

/* fma(x, (q >> 4i & 15) - zp, gs): one weight vector's step. */
static inline __attribute__((always_inline)) __m256 qb_term(__m256 gs, __m256 xb, __m256i q, int i, __m256i zp) {
  const __m256i n = _mm256_and_si256(_mm256_srli_epi32(q, 4 * i), _mm256_set1_epi32(0xF));
  return _mm256_fmadd_ps(xb, _mm256_cvtepi32_ps(_mm256_sub_epi32(n, zp)), gs);
}

/* gs[v] = fma(x[k], w - zp, gs[v]) for the 32 k of a piece in k order, one dword
 * column j (8 k) at a time: 4 weight vectors + 4 sums + 4 zero points in registers
 * (the whole q would not fit the 16 ymm). */
static inline void qb_piece(const float* x, const __m256i q[4][4], const __m256i zp[4], __m256 gs[4]) {
  for (size_t j = 0; j < 4; j++) {
    const __m256i q0 = q[0][j], q1 = q[1][j], q2 = q[2][j], q3 = q[3][j];
    _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) {
      const __m256 xb = _mm256_broadcast_ss(x + 8 * j + (size_t)i);
      gs[0] = qb_term(gs[0], xb, q0, i, zp[0]);
      gs[1] = qb_term(gs[1], xb, q1, i, zp[1]);
      gs[2] = qb_term(gs[2], xb, q2, i, zp[2]);
      gs[3] = qb_term(gs[3], xb, q3, i, zp[3]);
    }
  }
}

/* One k of the block, weights read one by one (pieces that are not whole). */
static inline void qb_one_k(const qb_block* b, size_t k, size_t g, float xk, __m256 gs[4]) {
  int32_t wv[QB_NB];
  for (size_t c = 0; c < QB_NB; c++) {
    const int n = (b->row[c][k / 2] >> (4 * (k % 2))) & 0xF;
    wv[c] = b->zp[c] ? n - b->zp[c][g] : (n ^ 8) - 8;
  }
  const __m256 xb = _mm256_set1_ps(xk);
  for (size_t v = 0; v < 4; v++)
    gs[v] = _mm256_fmadd_ps(xb, _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i*)(wv + 8 * v))), gs[v]);
}

/* st[i][c] = the scale of group g0 + i of channel c, i < n: 8 x 8 transposes of the
 * channels' scale rows (a scalar load per channel and group cost as much as the
 * group's FMAs at G = 32). */
static void qb_scales_chunk(const qb_block* b, size_t g0, size_t n, float st[][QB_NB]) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t v = 0; v < 4; v++) {
      __m256i in[8], out[8];
      for (size_t c = 0; c < 8; c++) in[c] = _mm256_loadu_si256((const __m256i*)(b->scale[8 * v + c] + g0 + i));
      qb_q4_transpose8_avx2(in, out);
      for (size_t j = 0; j < 8; j++) _mm256_storeu_si256((__m256i*)&st[i + j][8 * v], out[j]);
    }
  for (; i < n; i++)
    for (size_t c = 0; c < QB_NB; c++) st[i][c] = b->scale[c][g0 + i];
}

static void qb_block_gemv(const qb_block* b, size_t K, size_t G, const float* x, float* out) {
  const size_t ngroups = (K + G - 1) / G;
  const __m256i flip = _mm256_set1_epi32(b->zp[0] ? 0 : (int32_t)0x88888888u);
  __m256 total[4];
  __m256i zp[4];
  for (size_t v = 0; v < 4; v++) {
    total[v] = _mm256_setzero_ps();
    zp[v] = _mm256_set1_epi32(8); /* signed nibbles: (n ^ 8) - 8 */
  }
  float st[QB_SCALE_CHUNK][QB_NB];
  for (size_t g = 0, k0 = 0; k0 < K; g++, k0 += G) {
    const size_t k1 = k0 + G < K ? k0 + G : K;
    if (g % QB_SCALE_CHUNK == 0)
      qb_scales_chunk(b, g, ngroups - g < QB_SCALE_CHUNK ? ngroups - g : QB_SCALE_CHUNK, st);
    if (b->zp[0]) {
      int32_t z[QB_NB];
      for (size_t c = 0; c < QB_NB; c++) z[c] = b->zp[c][g];
      for (size_t v = 0; v < 4; v++) zp[v] = _mm256_loadu_si256((const __m256i*)(z + 8 * v));
    }
    __m256 gs[4];
    for (size_t v = 0; v < 4; v++) gs[v] = _mm256_setzero_ps();
    size_t k = k0;
    if (k % 2 == 0)
      for (; k + 32 <= k1; k += 32) {
        __m256i q[4][4];
        qb_transpose_piece(b, k / 2, flip, q);
        qb_piece(x + k, q, zp, gs);
      }
    for (; k < k1; k++) qb_one_k(b, k, g, x[k], gs);
    const float* s = st[g % QB_SCALE_CHUNK];
    for (size_t v = 0; v < 4; v++) total[v] = _mm256_fmadd_ps(_mm256_loadu_ps(s + 8 * v), gs[v], total[v]);
  }
  for (size_t v = 0; v < 4; v++) _mm256_storeu_ps(out + 8 * v, total[v]);
}

void qb_f32_q4_f32_wgemm_1x32__avx2(size_t M, size_t N, size_t K, size_t G, const float* x,
                                    size_t ldx, const uint8_t* w, const float* scale,
                                    const int8_t* zero_point, float* y, size_t ldy) {
  const size_t ngroups = (K + G - 1) / G, row_bytes = (K + 1) / 2;
  for (size_t m = 0; m < M; m++)
    for (size_t n0 = 0; n0 < N; n0 += QB_NB) {
      qb_block b;
      for (size_t c = 0; c < QB_NB; c++) {
        const size_t n = n0 + c < N ? n0 + c : N - 1;
        b.row[c] = w + n * row_bytes;
        b.zp[c] = zero_point ? zero_point + n * ngroups : NULL;
        b.scale[c] = scale + n * ngroups;
      }
      float out[QB_NB];
      qb_block_gemv(&b, K, G, x + m * ldx, out);
      memcpy(y + m * ldy + n0, out, (N - n0 < QB_NB ? N - n0 : QB_NB) * sizeof(float));
    }
}
