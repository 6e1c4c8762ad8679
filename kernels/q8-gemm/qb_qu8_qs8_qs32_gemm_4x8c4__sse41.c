/* qb_qu8_qs8_qs32_gemm_4x8c4__sse41: int8 GEMM, u8 x s8 -> s32, SSE4.1, EXACT.
 * Tile 4 rows x 8 columns x 4 k. Packed B is int16 (layout S16_C4EO): per group
 * of 4 k, 2 xmm hold the 8 columns' (B[4g], B[4g+2]) pairs and 2 xmm their
 * (B[4g+1], B[4g+3]) pairs. A[m][4g..4g+3] is broadcast as one dword (movd +
 * pshufd); its even bytes (pand 0x00ff) and odd bytes (psrlw 8) are the matching
 * int16 pairs (the pmovzxbw widening, done in place).
 *   acc += pmaddwd(a_even, b_even) + pmaddwd(a_odd, b_odd)
 * Registers: 8 accumulators (4 rows x 2), 4 B, 2 A halves, the 0x00ff mask: 15.
 * Why exact: pmaddwd multiplies int16 x int16 into int32 and adds the pair in
 * int32; |a*b + a'*b'| <= 2 * 255 * 128 cannot overflow.
 * Tails: K as in the VNNI kernels (zeroed dword copy, B zero-padded), N by storing
 * the last partial row through a stack buffer, M with one kernel copy per mr. */
#include <immintrin.h>
#include <string.h>

#include "qb_q8_gemm_pack.h"

#define QB_MR 4
#define QB_NR 8
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
  __m128i acc[QB_MR][2];
  QB_UNROLL for (size_t i = 0; i < mr; i++) acc[i][0] = acc[i][1] = _mm_setzero_si128();
  const __m128i low_bytes = _mm_set1_epi16(0x00FF);
  const uint8_t* w = panel + 3 * QB_NR * sizeof(int32_t);
  /* One group of 4 k; A_DWORD(i) yields row i's 4 bytes as a uint32. */
#define QB_GROUP(A_DWORD)                                                                 \
  do {                                                                                    \
    const __m128i be0 = _mm_loadu_si128((const __m128i*)w);                            \
    const __m128i be1 = _mm_loadu_si128((const __m128i*)(w + 16));                     \
    const __m128i bo0 = _mm_loadu_si128((const __m128i*)(w + 32));                     \
    const __m128i bo1 = _mm_loadu_si128((const __m128i*)(w + 48));                     \
    QB_UNROLL for (size_t i = 0; i < mr; i++) {                                                     \
      const __m128i va = _mm_set1_epi32((int)(A_DWORD(i) ^ axor));                     \
      const __m128i ae = _mm_and_si128(va, low_bytes);                                 \
      const __m128i ao = _mm_srli_epi16(va, 8);                                        \
      acc[i][0] = _mm_add_epi32(acc[i][0], _mm_madd_epi16(ae, be0));                \
      acc[i][1] = _mm_add_epi32(acc[i][1], _mm_madd_epi16(ae, be1));                \
      acc[i][0] = _mm_add_epi32(acc[i][0], _mm_madd_epi16(ao, bo0));                \
      acc[i][1] = _mm_add_epi32(acc[i][1], _mm_madd_epi16(ao, bo1));                \
    }                                                                                     \
  } while (0)
  size_t k = 0;
  for (; k + 4 <= K; k += 4, w += QB_NR * 8) QB_GROUP(QB_A_FULL);
  if (k < K) QB_GROUP(QB_A_TAIL);
#undef QB_GROUP

  const __m128i delta = _mm_set1_epi32(za_delta);
  __m128i bias[2], zb[2];
  QB_UNROLL for (size_t v = 0; v < 2; v++) {
    const uint8_t* p = panel + v * 16;
    bias[v] = _mm_add_epi32(_mm_loadu_si128((const __m128i*)p),
                            _mm_mullo_epi32(delta, _mm_loadu_si128((const __m128i*)(p + 2 * QB_NR * 4))));
    zb[v] = _mm_loadu_si128((const __m128i*)(p + QB_NR * 4));
  }
  QB_UNROLL for (size_t i = 0; i < mr; i++) {
    const __m128i rs = _mm_set1_epi32(rowsum[i]);
    __m128i out[2];
    QB_UNROLL for (size_t v = 0; v < 2; v++)
      out[v] = _mm_sub_epi32(_mm_add_epi32(acc[i][v], bias[v]), _mm_mullo_epi32(zb[v], rs));
    if (nr >= QB_NR) {
      _mm_storeu_si128((__m128i*)(c + i * ldc), out[0]);
      _mm_storeu_si128((__m128i*)(c + i * ldc + 4), out[1]);
    } else {
      int32_t row[QB_NR];
      _mm_storeu_si128((__m128i*)row, out[0]);
      _mm_storeu_si128((__m128i*)(row + 4), out[1]);
      memcpy(c + i * ldc, row, nr * sizeof(int32_t));
    }
  }
}

/* sum_k (A[k] ^ axor): psadbw, 16 bytes a step, scalar tail. */
static int32_t qb_rowsum(const uint8_t* a, size_t K, uint32_t axor) {
  const __m128i x = _mm_set1_epi32((int)axor), zero = _mm_setzero_si128();
  __m128i s = zero;
  size_t k = 0;
  for (; k + 16 <= K; k += 16)
    s = _mm_add_epi64(s, _mm_sad_epu8(_mm_xor_si128(_mm_loadu_si128((const __m128i*)(a + k)), x), zero));
  uint64_t total = (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_extract_epi64(s, 1);
  for (; k < K; k++) total += (uint8_t)(a[k] ^ (uint8_t)axor);
  return (int32_t)(uint32_t)total;
}

#define QB_PACKED_SIZE qb_q8_gemm_packed_size_4x8c4__sse41
#define QB_QU8_QS8_PACK qb_qu8_qs8_qs32_gemm_pack_4x8c4__sse41
#define QB_QU8_QS8_RUN qb_qu8_qs8_qs32_gemm_4x8c4__sse41
#define QB_QS8_QS8_PACK qb_qs8_qs8_qs32_gemm_pack_4x8c4__sse41
#define QB_QS8_QS8_RUN qb_qs8_qs8_qs32_gemm_4x8c4__sse41
#define QB_QU8_QU8_PACK qb_qu8_qu8_qs32_gemm_pack_4x8c4__sse41
#define QB_QU8_QU8_RUN qb_qu8_qu8_qs32_gemm_4x8c4__sse41
#include "qb_q8_gemm.h"
#include "qb_q8_gemm_driver.h"
