/* qb_qu8_qs8_qs32_gemm_4x16c4_sat__avx2: int8 GEMM, u8 x s8 -> s32, AVX2,
 * SATURATING (backend "avx2-sat"): the vpmaddubsw + vpmaddwd(1) sequence deployed
 * int8 runtimes use. NOT exact by design.
 * Tile 4 rows x 16 columns x 4 k, packed B int8 (layout S8_C4, as for VNNI): per
 * group of 4 k, 2 ymm of B; A[m][4g..4g+3] broadcast as one dword.
 *   t   = vpmaddubsw(a, b)   u8 x s8 products of bytes (0,1) and (2,3) of each
 *                            dword, each pair summed into int16 WITH SATURATION
 *   acc += vpmaddwd(t, 1)    the two int16 sums, exactly, into int32
 * Registers: 8 accumulators (4 rows x 2), 2 B, A, ones, 2 temporaries: 14.
 * The result equals the reference exactly when no raw pair sum A[m][2p]*B[n][2p] +
 * A[m][2p+1]*B[n][2p+1] leaves [-32768, 32767] (never when A <= 127, or when
 * -64 <= B <= 64: 2 * 255 * 64 = 32640);
 * qb_qu8_qs8_qs32_gemm_saturations__scalar counts the pairs that do. The zero-point
 * terms (row sums, folded bias) are exact, as in the exact kernels.
 * Tails: K zeroed dword copy with zero-padded B (a zero pair never saturates),
 * N with vpmaskmovd stores, M with one kernel copy per mr. Prefetch: one line per
 * group of 4 k (64 bytes of B), 4 KiB ahead: an M = 1 run streams B from DRAM, and
 * the hardware prefetcher alone left it at 0.85-1.0x a plain read (Zen 1). */
#include <immintrin.h>
#include <string.h>

#include "qb_q8_gemm_pack.h"

#define QB_MR 4
#define QB_NR 16
#define QB_WLAYOUT QB_Q8_W_S8_C4
#define QB_PREFETCH_BYTES 4096

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
  const __m256i ones = _mm256_set1_epi16(1);
  const uint8_t* w = panel + 3 * QB_NR * sizeof(int32_t);
#define QB_GROUP(A_DWORD)                                                                  \
  do {                                                                                     \
    const __m256i b0 = _mm256_loadu_si256((const __m256i*)w);                              \
    const __m256i b1 = _mm256_loadu_si256((const __m256i*)(w + 32));                       \
    QB_UNROLL for (size_t i = 0; i < mr; i++) {                                                      \
      const __m256i va = _mm256_set1_epi32((int)(A_DWORD(i) ^ axor));                      \
      acc[i][0] = _mm256_add_epi32(acc[i][0],                                              \
                                   _mm256_madd_epi16(_mm256_maddubs_epi16(va, b0), ones)); \
      acc[i][1] = _mm256_add_epi32(acc[i][1],                                              \
                                   _mm256_madd_epi16(_mm256_maddubs_epi16(va, b1), ones)); \
    }                                                                                      \
  } while (0)
  size_t k = 0;
  for (; k + 4 <= K; k += 4, w += QB_NR * 4) {
    _mm_prefetch((const char*)w + QB_PREFETCH_BYTES, _MM_HINT_T0);
    QB_GROUP(QB_A_FULL);
  }
  if (k < K) QB_GROUP(QB_A_TAIL);
#undef QB_GROUP

  const __m256i delta = _mm256_set1_epi32(za_delta);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i bias[2], zb[2], mask[2];
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

#define QB_PACKED_SIZE qb_q8_gemm_packed_size_4x16c4_sat__avx2
#define QB_QU8_QS8_PACK qb_qu8_qs8_qs32_gemm_pack_4x16c4_sat__avx2
#define QB_QU8_QS8_RUN qb_qu8_qs8_qs32_gemm_4x16c4_sat__avx2
#include "qb_q8_gemm.h"
#include "qb_q8_gemm_driver.h"
