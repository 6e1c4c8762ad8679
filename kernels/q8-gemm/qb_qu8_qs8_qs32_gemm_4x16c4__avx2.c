/* qb_qu8_qs8_qs32_gemm_4x16c4__avx2: int8 GEMM, u8 x s8 -> s32, AVX2, EXACT.
 * Tile 4 rows x 16 columns x 4 k. Packed B is int16 (layout S16_C4EO): per group
 * of 4 k, 2 ymm hold the 16 columns' (B[4g], B[4g+2]) pairs and 2 ymm their
 * (B[4g+1], B[4g+3]) pairs. A[m][4g..4g+3] is broadcast as one dword; its even
 * bytes (vpand 0x00ff) and odd bytes (vpsrlw 8) are the matching int16 pairs.
 *   acc += vpmaddwd(a_even, b_even) + vpmaddwd(a_odd, b_odd)
 * Registers: 8 accumulators (4 rows x 2), 4 B, 2 A halves, the 0x00ff mask: 15.
 * Why exact: vpmaddwd multiplies int16 x int16 into int32 and adds the pair in
 * int32; |a*b + a'*b'| <= 2 * 255 * 128 never overflows (vpmaddwd overflows only
 * for -32768 * -32768 twice). vpmaddubsw, which saturates to int16, is not used;
 * that variant is qb_qu8_qs8_qs32_gemm_4x16c4_sat__avx2.
 * Tails: K as in the VNNI kernels (zeroed dword copy, B zero-padded), N with
 * vpmaskmovd stores, M with one kernel copy per mr. */
#include <immintrin.h>
#include <string.h>

#include "qb_q8_gemm_pack.h"

#define QB_MR 4
#define QB_NR 16
#define QB_WLAYOUT QB_Q8_W_S16_C4EO

/* Row i's bytes k..k+3 as a dword; the tail copies the last 1-3 bytes only. */
static inline __attribute__((always_inline)) uint32_t qb_load_a(const uint8_t* p, size_t n) {
  uint32_t v = 0;
  memcpy(&v, p, n);
  return v;
}
/* Constant-trip loops over rows / vectors are fully unrolled so the accumulators
 * stay in registers. */
#define QB_UNROLL _Pragma("GCC unroll 16")

#define QB_A_FULL(i) qb_load_a(a + (i) * lda + k, 4)
#define QB_A_TAIL(i) qb_load_a(a + (i) * lda + k, K - k)

static inline __attribute__((always_inline)) void qb_ukernel(
    size_t mr, uint32_t axor, size_t nr, size_t K, const uint8_t* a, size_t lda,
    const int32_t* rowsum, int32_t za_delta, const uint8_t* panel, int32_t* c, size_t ldc) {
  __m256i acc[QB_MR][2];
  QB_UNROLL for (size_t i = 0; i < mr; i++) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
  const __m256i low_bytes = _mm256_set1_epi16(0x00FF);
  const uint8_t* w = panel + 3 * QB_NR * sizeof(int32_t);
  /* One group of 4 k; A_DWORD(i) yields row i's 4 bytes as a uint32. */
#define QB_GROUP(A_DWORD)                                                                 \
  do {                                                                                    \
    const __m256i be0 = _mm256_loadu_si256((const __m256i*)w);                            \
    const __m256i be1 = _mm256_loadu_si256((const __m256i*)(w + 32));                     \
    const __m256i bo0 = _mm256_loadu_si256((const __m256i*)(w + 64));                     \
    const __m256i bo1 = _mm256_loadu_si256((const __m256i*)(w + 96));                     \
    QB_UNROLL for (size_t i = 0; i < mr; i++) {                                                     \
      const __m256i va = _mm256_set1_epi32((int)(A_DWORD(i) ^ axor));                     \
      const __m256i ae = _mm256_and_si256(va, low_bytes);                                 \
      const __m256i ao = _mm256_srli_epi16(va, 8);                                        \
      acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(ae, be0));                \
      acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(ae, be1));                \
      acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(ao, bo0));                \
      acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(ao, bo1));                \
    }                                                                                     \
  } while (0)
  size_t k = 0;
  for (; k + 4 <= K; k += 4, w += QB_NR * 8) QB_GROUP(QB_A_FULL);
  if (k < K) QB_GROUP(QB_A_TAIL);
#undef QB_GROUP

  const __m256i delta = _mm256_set1_epi32(za_delta);
  __m256i bias[2], zb[2], mask[2];
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  QB_UNROLL for (size_t v = 0; v < 2; v++) {
    const uint8_t* p = panel + v * 32;
    bias[v] = _mm256_add_epi32(_mm256_loadu_si256((const __m256i*)p),
                               _mm256_mullo_epi32(delta, _mm256_loadu_si256((const __m256i*)(p + 2 * QB_NR * 4))));
    zb[v] = _mm256_loadu_si256((const __m256i*)(p + QB_NR * 4));
    const int lanes = nr > v * 8 ? (int)(nr - v * 8) : 0;
    mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), lane);
  }
  QB_UNROLL for (size_t i = 0; i < mr; i++) {
    const __m256i rs = _mm256_set1_epi32(rowsum[i]);
    QB_UNROLL for (size_t v = 0; v < 2; v++) {
      const __m256i out = _mm256_sub_epi32(_mm256_add_epi32(acc[i][v], bias[v]), _mm256_mullo_epi32(zb[v], rs));
      if (nr >= QB_NR)
        _mm256_storeu_si256((__m256i*)(c + i * ldc + v * 8), out);
      else
        _mm256_maskstore_epi32((int*)(c + i * ldc + v * 8), mask[v], out);
    }
  }
}

/* sum_k (A[k] ^ axor): vpsadbw, 32 bytes a step, scalar tail. */
static int32_t qb_rowsum(const uint8_t* a, size_t K, uint32_t axor) {
  const __m256i x = _mm256_set1_epi32((int)axor), zero = _mm256_setzero_si256();
  __m256i s = zero;
  size_t k = 0;
  for (; k + 32 <= K; k += 32)
    s = _mm256_add_epi64(s, _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const __m256i*)(a + k)), x), zero));
  __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  uint64_t total = (uint64_t)_mm_cvtsi128_si64(s2) + (uint64_t)_mm_extract_epi64(s2, 1);
  for (; k < K; k++) total += (uint8_t)(a[k] ^ (uint8_t)axor);
  return (int32_t)(uint32_t)total;
}

#define QB_PACKED_SIZE qb_q8_gemm_packed_size_4x16c4__avx2
#define QB_QU8_QS8_PACK qb_qu8_qs8_qs32_gemm_pack_4x16c4__avx2
#define QB_QU8_QS8_RUN qb_qu8_qs8_qs32_gemm_4x16c4__avx2
#define QB_QS8_QS8_PACK qb_qs8_qs8_qs32_gemm_pack_4x16c4__avx2
#define QB_QS8_QS8_RUN qb_qs8_qs8_qs32_gemm_4x16c4__avx2
#define QB_QU8_QU8_PACK qb_qu8_qu8_qs32_gemm_pack_4x16c4__avx2
#define QB_QU8_QU8_RUN qb_qu8_qu8_qs32_gemm_4x16c4__avx2
#include "qb_q8_gemm.h"
#include "qb_q8_gemm_driver.h"
