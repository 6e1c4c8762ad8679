/* Template: the loop nest and exported functions around one GEMM microkernel.
 * Included once by a kernel file (kernels/q8-gemm/qb_..._ISA.c) after it defines:
 *   QB_MR, QB_NR, QB_WLAYOUT        tile and packed layout (qb_q8_gemm_pack.h)
 *   qb_ukernel(mr, axor, nr, K, a, lda, rowsum, za_delta, panel, c, ldc)
 *       static inline, always_inline: C[0..mr)[0..nr) of one panel; mr is a
 *       compile-time constant here (one copy per mr), axor is 0 (u8 A) or
 *       0x80808080 (s8 A, turned into u8 by the xor);
 *   qb_rowsum(a, K, axor)           sum_k (A[k] ^ axor byte), exact;
 *   QB_PACKED_SIZE, QB_QU8_QS8_PACK, QB_QU8_QS8_RUN, and optionally
 *   QB_QS8_QS8_PACK/RUN and QB_QU8_QU8_PACK/RUN   the exported names.
 *
 * Loop order: rows in chunks of QB_MC (row sums computed once per chunk, on the
 * stack), then panels of NR columns, then MR-row blocks. A panel (NR x K bytes)
 * is reused by every row block of the chunk from L1/L2, and B is streamed once per
 * chunk, which is what small-M (memory-bound) shapes need. */
#ifndef QB_MR
#error "define QB_MR, QB_NR, QB_WLAYOUT, qb_ukernel, qb_rowsum and the names first"
#endif

#define QB_MC (QB_MR * 32)

typedef void (*qb_ukernel_fn)(size_t nr, size_t K, const uint8_t* a, size_t lda,
                              const int32_t* rowsum, int32_t za_delta, const uint8_t* panel,
                              int32_t* c, size_t ldc);

#define QB_DEFINE_UKERNEL_MR(MRV)                                                         \
  static void qb_ukernel_u8_##MRV(size_t nr, size_t K, const uint8_t* a, size_t lda,      \
                                  const int32_t* rowsum, int32_t za_delta,               \
                                  const uint8_t* panel, int32_t* c, size_t ldc) {         \
    qb_ukernel(MRV, 0, nr, K, a, lda, rowsum, za_delta, panel, c, ldc);                   \
  }                                                                                       \
  static void qb_ukernel_s8_##MRV(size_t nr, size_t K, const uint8_t* a, size_t lda,      \
                                  const int32_t* rowsum, int32_t za_delta,               \
                                  const uint8_t* panel, int32_t* c, size_t ldc) {         \
    qb_ukernel(MRV, 0x80808080u, nr, K, a, lda, rowsum, za_delta, panel, c, ldc);         \
  }

QB_DEFINE_UKERNEL_MR(1)
#if QB_MR >= 2
QB_DEFINE_UKERNEL_MR(2)
#endif
#if QB_MR >= 3
QB_DEFINE_UKERNEL_MR(3)
#endif
#if QB_MR >= 4
QB_DEFINE_UKERNEL_MR(4)
#endif
#if QB_MR >= 5
QB_DEFINE_UKERNEL_MR(5)
#endif
#if QB_MR >= 6
QB_DEFINE_UKERNEL_MR(6)
#endif
#if QB_MR >= 7
QB_DEFINE_UKERNEL_MR(7)
#endif
#if QB_MR >= 8
QB_DEFINE_UKERNEL_MR(8)
#endif
#if QB_MR >= 9
QB_DEFINE_UKERNEL_MR(9)
#endif
#if QB_MR >= 10
QB_DEFINE_UKERNEL_MR(10)
#endif
#if QB_MR >= 11
QB_DEFINE_UKERNEL_MR(11)
#endif
#if QB_MR >= 12
QB_DEFINE_UKERNEL_MR(12)
#endif
#if QB_MR > 12
#error "QB_MR > 12: extend the list above"
#endif

#define QB_UK_LIST(P)                                                                   \
  {                                                                                     \
    NULL, P##1, QB_UK_2(P) QB_UK_3(P) QB_UK_4(P) QB_UK_5(P) QB_UK_6(P) QB_UK_7(P)       \
        QB_UK_8(P) QB_UK_9(P) QB_UK_10(P) QB_UK_11(P) QB_UK_12(P)                       \
  }
#if QB_MR >= 2
#define QB_UK_2(P) P##2,
#else
#define QB_UK_2(P)
#endif
#if QB_MR >= 3
#define QB_UK_3(P) P##3,
#else
#define QB_UK_3(P)
#endif
#if QB_MR >= 4
#define QB_UK_4(P) P##4,
#else
#define QB_UK_4(P)
#endif
#if QB_MR >= 5
#define QB_UK_5(P) P##5,
#else
#define QB_UK_5(P)
#endif
#if QB_MR >= 6
#define QB_UK_6(P) P##6,
#else
#define QB_UK_6(P)
#endif
#if QB_MR >= 7
#define QB_UK_7(P) P##7,
#else
#define QB_UK_7(P)
#endif
#if QB_MR >= 8
#define QB_UK_8(P) P##8,
#else
#define QB_UK_8(P)
#endif
#if QB_MR >= 9
#define QB_UK_9(P) P##9,
#else
#define QB_UK_9(P)
#endif
#if QB_MR >= 10
#define QB_UK_10(P) P##10,
#else
#define QB_UK_10(P)
#endif
#if QB_MR >= 11
#define QB_UK_11(P) P##11,
#else
#define QB_UK_11(P)
#endif
#if QB_MR >= 12
#define QB_UK_12(P) P##12,
#else
#define QB_UK_12(P)
#endif

static const qb_ukernel_fn qb_ukernels_u8[QB_MR + 1] = QB_UK_LIST(qb_ukernel_u8_);
static const qb_ukernel_fn qb_ukernels_s8[QB_MR + 1] = QB_UK_LIST(qb_ukernel_s8_);

static void qb_gemm_drive(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda,
                          int32_t za_kernel, uint32_t axor, const void* packed, int32_t* C,
                          size_t ldc) {
  if (M == 0 || N == 0) return;
  const uint8_t* base = (const uint8_t*)packed;
  int32_t za_pack;
  memcpy(&za_pack, base, sizeof za_pack);
  const int32_t za_delta = (int32_t)((uint32_t)za_pack - (uint32_t)za_kernel);
  const size_t panel_bytes = qb_q8_panel_bytes(QB_NR, K, QB_WLAYOUT);
  const qb_ukernel_fn* uk = axor ? qb_ukernels_s8 : qb_ukernels_u8;
  const bool has_zb = qb_q8_pack_has_zb(packed); /* else the row sums are not needed */
  int32_t rowsum[QB_MC];
  for (size_t m0 = 0; m0 < M; m0 += QB_MC) {
    const size_t mc = M - m0 < QB_MC ? M - m0 : QB_MC;
    for (size_t i = 0; i < mc; i++) rowsum[i] = has_zb ? qb_rowsum(A + (m0 + i) * lda, K, axor) : 0;
    const uint8_t* panel = base + QB_Q8_PACK_HEADER_BYTES;
    for (size_t n0 = 0; n0 < N; n0 += QB_NR, panel += panel_bytes) {
      const size_t nr = N - n0 < QB_NR ? N - n0 : QB_NR;
      for (size_t i = 0; i < mc; i += QB_MR) {
        const size_t mr = mc - i < QB_MR ? mc - i : QB_MR;
        uk[mr](nr, K, A + (m0 + i) * lda, lda, rowsum + i, za_delta, panel,
               C + (m0 + i) * ldc + n0, ldc);
      }
    }
  }
}

#include "qb_q8_gemm_exports.h"
