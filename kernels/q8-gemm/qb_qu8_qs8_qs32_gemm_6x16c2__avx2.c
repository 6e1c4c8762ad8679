/* qb_qu8_qs8_qs32_gemm_6x16c2__avx2: int8 GEMM, u8 x s8 -> s32, AVX2, EXACT.
 * Tile 6 rows x 16 columns x 2 k. Packed B is int8 pairs (layout S8_C2): per k
 * pair, 16 bytes = columns 0-7 and 16 bytes = columns 8-15, each sign-extended by
 * one vpmovsxbw into 8 int16 pairs (B[n][2p], B[n][2p+1]). A arrives widened
 * (qb_q8_gemm_c2_driver.h): row i's pair (A[2p], A[2p+1]) is one dword, broadcast
 * by a vpbroadcastd load.
 *   acc[i][v] += vpmaddwd(a_i, b_v)        16 MACs, exact
 * Per k pair: 2 vpmovsxbw for 6 x 2 (vpmaddwd + vpaddd): the roofline's maddwd
 * chain plus 1/12 op. Registers: 12 accumulators, 2 B, 2 temporaries: 16.
 * Why exact: vpmaddwd multiplies int16 x int16 into int32 and adds the pair in
 * int32; |a*b + a'*b'| <= 2 * 255 * 128 never overflows.
 * Tails: K zero-padded to pairs in B (A's pad is defined, B's zero), N with
 * vpmaskmovd loads / stores, M with one kernel copy per mr. Prefetch: the panel
 * 4 KiB ahead (an M = 1 run is a stream of B bytes; Zen 1, 1 x 4096 x 4096 from
 * DRAM, best of 30 beside a plain AVX2 read of the same bytes: 1 KiB ahead 0.68-0.95x
 * the plain read, 2-8 KiB 1.0-1.1x). */
#include <immintrin.h>
#include <string.h>

#include "qb_q8_gemm_pack.h"

#define QB_MR 6
#define QB_NR 16
#define QB_WLAYOUT QB_Q8_W_S8_C2
#define QB_A_DUP 1
#define QB_PREFETCH_BYTES 4096

/* Constant-trip loops over rows / vectors are fully unrolled so the accumulators
 * stay in registers. */
#define QB_UNROLL _Pragma("GCC unroll 16")

/* The A pair as the asm's memory operand: a dword read of uint16 storage. */
typedef uint32_t qb_u32_alias __attribute__((may_alias));

/* One row of one k pair: acc0 += vpmaddwd(bcast(a), b0), acc1 += vpmaddwd(bcast(a), b1).
 * In asm so gcc keeps it in this order: from intrinsics it hoists the six
 * broadcasts of a pair, runs out of the 16 ymm and spills accumulators. */
static inline __attribute__((always_inline)) void qb_row_pair(__m256i* acc0, __m256i* acc1,
                                                              const uint16_t* a, __m256i b0,
                                                              __m256i b1) {
  __m256i t, u;
  __asm__("vpbroadcastd %[a], %[t]\n\t"
          "vpmaddwd %[b0], %[t], %[u]\n\t"
          "vpaddd %[u], %[acc0], %[acc0]\n\t"
          "vpmaddwd %[b1], %[t], %[t]\n\t"
          "vpaddd %[t], %[acc1], %[acc1]"
          : [acc0] "+x"(*acc0), [acc1] "+x"(*acc1), [t] "=&x"(t), [u] "=&x"(u)
          : [a] "m"(*(const qb_u32_alias*)a), [b0] "x"(b0), [b1] "x"(b1));
}

static inline __attribute__((always_inline)) void qb_ukernel(
    size_t mr, size_t nr, size_t pairs, const uint16_t* a, size_t a_stride, const uint8_t* w, size_t pf, bool first,
    const int32_t* rowsum, int32_t za_delta, const uint8_t* panel, int32_t* c, size_t ldc) {
  __m256i acc[QB_MR][2];
  QB_UNROLL for (size_t i = 0; i < mr; i++) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
#define QB_PAIR()                                                                        \
  do {                                                                                   \
    const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)w));         \
    const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(w + 16)));  \
    QB_UNROLL for (size_t i = 0; i < mr; i++) qb_row_pair(&acc[i][0], &acc[i][1], a + i * a_stride, b0, b1); \
    a += 2;                                                                              \
    w += 2 * QB_NR;                                                                      \
  } while (0)
  /* One pair per iteration: unrolling lets gcc reassociate the two pairs' products
   * before the accumulator add and spill accumulators. */
  for (size_t p = 0; p < pairs; p++) {
    _mm_prefetch((const char*)w + pf, _MM_HINT_T0);
    QB_PAIR();
  }
#undef QB_PAIR

  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i mask[2];
  QB_UNROLL for (size_t v = 0; v < 2; v++) {
    const int lanes = nr > v * 8 ? (int)(nr - v * 8) : 0;
    mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), lane);
  }
  if (first) {
    const __m256i delta = _mm256_set1_epi32(za_delta);
    __m256i bias[2], zb[2];
    QB_UNROLL for (size_t v = 0; v < 2; v++) {
      const uint8_t* q = panel + v * 32;
      bias[v] = _mm256_add_epi32(_mm256_loadu_si256((const __m256i*)q),
                                 _mm256_mullo_epi32(delta, _mm256_loadu_si256((const __m256i*)(q + 2 * QB_NR * 4))));
      zb[v] = _mm256_loadu_si256((const __m256i*)(q + QB_NR * 4));
    }
    QB_UNROLL for (size_t i = 0; i < mr; i++) {
      const __m256i rs = _mm256_set1_epi32(rowsum[i]);
      QB_UNROLL for (size_t v = 0; v < 2; v++)
        acc[i][v] = _mm256_sub_epi32(_mm256_add_epi32(acc[i][v], bias[v]), _mm256_mullo_epi32(zb[v], rs));
    }
  } else {
    QB_UNROLL for (size_t i = 0; i < mr; i++)
      QB_UNROLL for (size_t v = 0; v < 2; v++) {
        int* q = (int*)(c + i * ldc + v * 8);
        const __m256i old = nr >= QB_NR ? _mm256_loadu_si256((const __m256i*)q) : _mm256_maskload_epi32(q, mask[v]);
        acc[i][v] = _mm256_add_epi32(acc[i][v], old);
      }
  }
  QB_UNROLL for (size_t i = 0; i < mr; i++)
    QB_UNROLL for (size_t v = 0; v < 2; v++) {
      if (nr >= QB_NR)
        _mm256_storeu_si256((__m256i*)(c + i * ldc + v * 8), acc[i][v]);
      else
        _mm256_maskstore_epi32((int*)(c + i * ldc + v * 8), mask[v], acc[i][v]);
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

#define QB_PACKED_SIZE qb_q8_gemm_packed_size_6x16c2__avx2
#define QB_QU8_QS8_PACK qb_qu8_qs8_qs32_gemm_pack_6x16c2__avx2
#define QB_QU8_QS8_RUN qb_qu8_qs8_qs32_gemm_6x16c2__avx2
#define QB_QS8_QS8_PACK qb_qs8_qs8_qs32_gemm_pack_6x16c2__avx2
#define QB_QS8_QS8_RUN qb_qs8_qs8_qs32_gemm_6x16c2__avx2
#define QB_QU8_QU8_PACK qb_qu8_qu8_qs32_gemm_pack_6x16c2__avx2
#define QB_QU8_QU8_RUN qb_qu8_qu8_qs32_gemm_6x16c2__avx2
#include "qb_q8_gemm.h"
#include "qb_q8_gemm_c2_driver.h"
