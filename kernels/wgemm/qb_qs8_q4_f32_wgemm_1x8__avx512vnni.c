/* W4A8 int4-weight GEMM/GEMV, AVX-512 VNNI: 8 output channels per block. Two rows'
 * 32-nibble group slices share one zmm (row 2p in the low 256 bits, 2p+1 in the
 * high), the 32 activations are broadcast to both halves, and one VPDPBUSD (u8 nibble
 * x s8 activation, non-saturating) does 64 products. Partial steps use masked loads.
 * The 8 group sums are reduced together and the float part runs 8 channels per
 * vector in the reference's order. Method: wgemm/qb_wgemm.h. */
#include <immintrin.h>
#include <stdint.h>

#define QB_W4A8_NR 8
#define QB_W4A8_BLOCK w4a8_block8

/* 16 packed bytes of two rows -> 2 x 32 unsigned nibbles in element order. */
static inline __m512i w4a8_unpack_pair(__m128i a, __m128i b, __m512i flip) {
  const __m512i w16 = _mm512_cvtepu8_epi16(_mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1));
  const __m512i lo = _mm512_and_si512(w16, _mm512_set1_epi16(0x000F));
  const __m512i hi = _mm512_and_si512(_mm512_slli_epi16(w16, 4), _mm512_set1_epi16(0x0F00));
  return _mm512_xor_si512(_mm512_or_si512(lo, hi), flip);
}

/* Lane sums of 8 row accumulators held as 4 pairs -> {sum row 0, ..., sum row 7}. */
static inline __m256i w4a8_hsum8(const __m512i acc[4]) {
  __m256i r[8];
  for (int p = 0; p < 4; p++) {
    r[2 * p] = _mm512_castsi512_si256(acc[p]);
    r[2 * p + 1] = _mm512_extracti64x4_epi64(acc[p], 1);
  }
  const __m256i h0123 = _mm256_hadd_epi32(_mm256_hadd_epi32(r[0], r[1]), _mm256_hadd_epi32(r[2], r[3]));
  const __m256i h4567 = _mm256_hadd_epi32(_mm256_hadd_epi32(r[4], r[5]), _mm256_hadd_epi32(r[6], r[7]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                          _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

static inline __m256i w4a8_group_dot8(const uint8_t* const rows[8], const int8_t* xq, size_t k0,
                                      size_t k1, __m512i flip) {
  __m512i acc[4];
  for (int p = 0; p < 4; p++) acc[p] = _mm512_setzero_si512();
  for (size_t k = k0; k < k1; k += 32) {
    const size_t len = k1 - k < 32 ? k1 - k : 32;
    const __mmask32 xm = (__mmask32)(len == 32 ? ~UINT32_C(0) : (UINT32_C(1) << len) - 1u);
    const __mmask16 wm = (__mmask16)(len == 32 ? 0xFFFFu : (1u << ((len + 1) / 2)) - 1u);
    const __m512i x = _mm512_broadcast_i64x4(_mm256_maskz_loadu_epi8(xm, xq + k));
    for (int p = 0; p < 4; p++) {
      const __m128i a = _mm_maskz_loadu_epi8(wm, rows[2 * p] + k / 2);
      const __m128i b = _mm_maskz_loadu_epi8(wm, rows[2 * p + 1] + k / 2);
      acc[p] = _mm512_dpbusd_epi32(acc[p], w4a8_unpack_pair(a, b, flip), x);
    }
  }
  return w4a8_hsum8(acc);
}

static inline void w4a8_block8(size_t N, size_t K, size_t G, size_t ngroups, const int8_t* xq,
                               float sx, const int32_t* xsum, size_t g0, size_t gn,
                               const uint8_t* w, const float* scale, const int8_t* zero_point,
                               size_t n0, float* y);

#define QB_W4A8_QUANTIZE qb_f32_qs8_quantize__avx512vnni
#define QB_W4A8_ROWQUANTIZE qb_f32_qs8_rowquantize__avx512vnni
#define QB_W4A8_WGEMM qb_qs8_q4_f32_wgemm_1x8__avx512vnni
#include "wgemm/qb_w4a8_driver_x86.h"

static inline void w4a8_block8(size_t N, size_t K, size_t G, size_t ngroups, const int8_t* xq,
                               float sx, const int32_t* xsum, size_t g0, size_t gn,
                               const uint8_t* w, const float* scale, const int8_t* zero_point,
                               size_t n0, float* y) {
  const size_t row_bytes = (K + 1) / 2;
  const uint8_t* rows[8];
  const float* srow[8];
  const int8_t* zrow[8];
  for (size_t i = 0; i < 8; i++) {
    const size_t n = n0 + i < N ? n0 + i : N - 1;
    rows[i] = w + n * row_bytes;
    srow[i] = scale + n * ngroups;
    zrow[i] = zero_point ? zero_point + n * ngroups : NULL;
  }
  const size_t valid = N - n0 < 8 ? N - n0 : 8;
  const __mmask8 vm = (__mmask8)((1u << valid) - 1u);
  const __m512i flip = _mm512_set1_epi8(zero_point ? 0 : 8);
  __m256 total = g0 != 0 ? _mm256_maskz_loadu_ps(vm, y + n0) : _mm256_setzero_ps();
  for (size_t g = g0; g < g0 + gn; g++) {
    const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
    const __m256i dot = w4a8_group_dot8(rows, xq, k0, k1, flip);
    const __m256i zp = zero_point ? _mm256_setr_epi32(zrow[0][g], zrow[1][g], zrow[2][g], zrow[3][g],
                                                      zrow[4][g], zrow[5][g], zrow[6][g], zrow[7][g])
                                  : _mm256_set1_epi32(8);
    const __m256i acc = _mm256_sub_epi32(dot, _mm256_mullo_epi32(zp, _mm256_set1_epi32(xsum[g - g0])));
    const __m256 s = _mm256_setr_ps(srow[0][g], srow[1][g], srow[2][g], srow[3][g], srow[4][g],
                                    srow[5][g], srow[6][g], srow[7][g]);
    total = _mm256_add_ps(total, _mm256_mul_ps(_mm256_cvtepi32_ps(acc), s));
  }
  if (g0 + gn == ngroups) total = _mm256_mul_ps(_mm256_set1_ps(sx), total);
  _mm256_mask_storeu_ps(y + n0, vm, total);
}
