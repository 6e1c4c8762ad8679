/* qb_qu8_qs8_qs32_gemm_6x8c2__sse41: int8 GEMM, u8 x s8 -> s32, SSE4.1, EXACT.
 * Tile 6 rows x 8 columns x 2 k. Packed B is int8 pairs (layout S8_C2): per k
 * pair, 8 bytes = columns 0-3 and 8 bytes = columns 4-7, each sign-extended by one
 * pmovsxbw into 4 int16 pairs (B[n][2p], B[n][2p+1]). A arrives widened
 * (qb_q8_gemm_c2_driver.h), each pair (A[2p], A[2p+1]) stored twice: one movddup
 * load is the broadcast.
 *   acc[i][v] += pmaddwd(a_i, b_v)        8 MACs, exact
 * Per k pair: 2 pmovsxbw and 6 loads of A for 6 x 2 (pmaddwd + paddd).
 * Registers: 12 accumulators, 2 B, 2 temporaries: 16.
 * Why exact: pmaddwd multiplies int16 x int16 into int32 and adds the pair in
 * int32; |a*b + a'*b'| <= 2 * 255 * 128 cannot overflow.
 * Tails: K zero-padded to pairs in B, N through a stack row, M with one kernel
 * copy per mr. Prefetch: the panel 4 KiB ahead (an M = 1 run is a stream of B
 * bytes, and 1 KiB ahead was too short for DRAM at its rate). */
#include <immintrin.h>
#include <string.h>

#include "qb_q8_gemm_pack.h"

#define QB_MR 6
#define QB_NR 8
#define QB_WLAYOUT QB_Q8_W_S8_C2
#define QB_A_DUP 2
#define QB_PREFETCH_BYTES 4096

/* Constant-trip loops over rows / vectors are fully unrolled so the accumulators
 * stay in registers. */
#define QB_UNROLL _Pragma("GCC unroll 16")

/* The A pair as the asm's memory operand: a qword read of uint16 storage. */
typedef uint64_t qb_u64_alias __attribute__((may_alias));

/* The pair stored twice at a, broadcast to an xmm by a movddup load (no pshufd). */
static inline __attribute__((always_inline)) __m128i qb_bcast_pair(const uint16_t* a) {
  __m128i t;
  __asm__("movddup %[a], %[t]" : [t] "=x"(t) : [a] "m"(*(const qb_u64_alias*)a));
  return t;
}

/* One row of one k pair: acc0 += pmaddwd(a, b0), acc1 += pmaddwd(a, b1), a the
 * pair stored twice (one movddup load is the broadcast). In asm so gcc keeps this
 * order: from intrinsics it hoists the six loads of a pair, runs out of the 16 xmm
 * and spills accumulators. */
static inline __attribute__((always_inline)) void qb_row_pair(__m128i* acc0, __m128i* acc1,
                                                              const uint16_t* a, __m128i b0,
                                                              __m128i b1) {
  __m128i t, u;
  __asm__("movddup %[a], %[t]\n\t"
          "movdqa %[t], %[u]\n\t"
          "pmaddwd %[b0], %[u]\n\t"
          "paddd %[u], %[acc0]\n\t"
          "pmaddwd %[b1], %[t]\n\t"
          "paddd %[t], %[acc1]"
          : [acc0] "+x"(*acc0), [acc1] "+x"(*acc1), [t] "=&x"(t), [u] "=&x"(u)
          : [a] "m"(*(const qb_u64_alias*)a), [b0] "x"(b0), [b1] "x"(b1));
}

static inline __attribute__((always_inline)) void qb_ukernel(
    size_t mr, size_t nr, size_t pairs, const uint16_t* a, size_t a_stride, const uint8_t* w, size_t pf, bool first,
    const int32_t* rowsum, int32_t za_delta, const uint8_t* panel, int32_t* c, size_t ldc) {
  __m128i acc[QB_MR][2];
  QB_UNROLL for (size_t i = 0; i < mr; i++) acc[i][0] = acc[i][1] = _mm_setzero_si128();
#define QB_PAIR()                                                                   \
  do {                                                                              \
    const __m128i b0 = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i*)w));       \
    const __m128i b1 = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i*)(w + 8))); \
    QB_UNROLL for (size_t i = 0; i < mr; i++) qb_row_pair(&acc[i][0], &acc[i][1], a + i * a_stride, b0, b1); \
    a += 2 * QB_A_DUP;                                                              \
    w += 2 * QB_NR;                                                                 \
  } while (0)
  size_t p = 0;
  if (mr == 1) {
    /* One row (GEMV): a stream of B bytes, where the tile's loop runs out of
     * instruction slots before memory (a copy of A per pmaddwd, 4 prefetches a
     * line). B widened into a fresh register is not reused: pmaddwd multiplies the
     * broadcast A into it, no copy. Four pairs, one 64-byte line and one prefetch,
     * a step; two chains more. */
    __m128i acc2 = _mm_setzero_si128(), acc3 = _mm_setzero_si128();
    for (; p + 4 <= pairs; p += 4) {
      _mm_prefetch((const char*)w + pf, _MM_HINT_T0);
      QB_UNROLL for (size_t q = 0; q < 4; q += 2) {
        const __m128i a0 = qb_bcast_pair(a + 2 * QB_A_DUP * q);
        const __m128i a1 = qb_bcast_pair(a + 2 * QB_A_DUP * (q + 1));
        const uint8_t* wq = w + 2 * QB_NR * q;
        acc[0][0] = _mm_add_epi32(acc[0][0], _mm_madd_epi16(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i*)wq)), a0));
        acc[0][1] = _mm_add_epi32(acc[0][1], _mm_madd_epi16(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i*)(wq + 8))), a0));
        acc2 = _mm_add_epi32(acc2, _mm_madd_epi16(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i*)(wq + 16))), a1));
        acc3 = _mm_add_epi32(acc3, _mm_madd_epi16(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i*)(wq + 24))), a1));
      }
      a += 8 * QB_A_DUP;
      w += 8 * QB_NR;
    }
    acc[0][0] = _mm_add_epi32(acc[0][0], acc2);
    acc[0][1] = _mm_add_epi32(acc[0][1], acc3);
  }
  /* One pair per iteration: unrolled, gcc hoists the A loads of the next pair and
   * spills accumulators. */
  for (; p < pairs; p++) {
    _mm_prefetch((const char*)w + pf, _MM_HINT_T0);
    QB_PAIR();
  }
#undef QB_PAIR

  if (first) {
    const __m128i delta = _mm_set1_epi32(za_delta);
    __m128i bias[2], zb[2];
    QB_UNROLL for (size_t v = 0; v < 2; v++) {
      const uint8_t* q = panel + v * 16;
      bias[v] = _mm_add_epi32(_mm_loadu_si128((const __m128i*)q),
                              _mm_mullo_epi32(delta, _mm_loadu_si128((const __m128i*)(q + 2 * QB_NR * 4))));
      zb[v] = _mm_loadu_si128((const __m128i*)(q + QB_NR * 4));
    }
    QB_UNROLL for (size_t i = 0; i < mr; i++) {
      const __m128i rs = _mm_set1_epi32(rowsum[i]);
      QB_UNROLL for (size_t v = 0; v < 2; v++)
        acc[i][v] = _mm_sub_epi32(_mm_add_epi32(acc[i][v], bias[v]), _mm_mullo_epi32(zb[v], rs));
    }
  }
  QB_UNROLL for (size_t i = 0; i < mr; i++) {
    int32_t* ci = c + i * ldc;
    if (nr >= QB_NR) {
      if (!first) {
        acc[i][0] = _mm_add_epi32(acc[i][0], _mm_loadu_si128((const __m128i*)ci));
        acc[i][1] = _mm_add_epi32(acc[i][1], _mm_loadu_si128((const __m128i*)(ci + 4)));
      }
      _mm_storeu_si128((__m128i*)ci, acc[i][0]);
      _mm_storeu_si128((__m128i*)(ci + 4), acc[i][1]);
    } else {
      int32_t row[QB_NR] = {0};
      if (!first) memcpy(row, ci, nr * sizeof(int32_t));
      _mm_storeu_si128((__m128i*)row, _mm_add_epi32(acc[i][0], _mm_loadu_si128((const __m128i*)row)));
      _mm_storeu_si128((__m128i*)(row + 4), _mm_add_epi32(acc[i][1], _mm_loadu_si128((const __m128i*)(row + 4))));
      memcpy(ci, row, nr * sizeof(int32_t));
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

#define QB_PACKED_SIZE qb_q8_gemm_packed_size_6x8c2__sse41
#define QB_QU8_QS8_PACK qb_qu8_qs8_qs32_gemm_pack_6x8c2__sse41
#define QB_QU8_QS8_RUN qb_qu8_qs8_qs32_gemm_6x8c2__sse41
#define QB_QS8_QS8_PACK qb_qs8_qs8_qs32_gemm_pack_6x8c2__sse41
#define QB_QS8_QS8_RUN qb_qs8_qs8_qs32_gemm_6x8c2__sse41
#define QB_QU8_QU8_PACK qb_qu8_qu8_qs32_gemm_pack_6x8c2__sse41
#define QB_QU8_QU8_RUN qb_qu8_qu8_qs32_gemm_6x8c2__sse41
#include "qb_q8_gemm.h"
#include "qb_q8_gemm_c2_driver.h"
