/* Template: the loop nest of the exact vpmaddwd kernels (B in layout S8_C2, A
 * widened to int16 pairs once per block). Included by a kernel file after it defines
 *   QB_MR (<= 8), QB_NR, QB_WLAYOUT (QB_Q8_W_S8_C2)
 *   QB_A_DUP                copies of each widened A pair (1, or 2 for SSE: see below)
 *   QB_PREFETCH_BYTES       prefetch distance inside one slice of a panel
 *   qb_ukernel(mr, nr, pairs, a, a_stride, w, pf, first, rowsum, za_delta, panel, c, ldc)
 *       static inline, always_inline: C[0..mr)[0..nr) of one panel over `pairs`
 *       k pairs. a: the block's widened A (uint16, zero-extended), row i at
 *       a + i * a_stride, pair p of row i QB_A_DUP times from a + i * a_stride +
 *       2 * QB_A_DUP * p (so with QB_A_DUP = 2 one movddup load is the pair
 *       broadcast to an xmm);
 *       w: the panel's B at the block's first pair; pf: how far ahead of w to
 *       prefetch (one prefetch per pair); first: store acc + bias + za_delta * d - zb * rowsum
 *       (the whole zero-point epilogue, qb_q8_gemm_pack.h), else acc + C;
 *   qb_rowsum(a, K, axor)   sum_k (A[k] ^ axor byte), exact;
 *   the exported names (qb_q8_gemm_exports.h).
 *
 * Why widen A: vpmaddwd needs both operands as int16. Widening B in registers costs
 * one vpmovsxbw per NR/2 x 2 k shared by the MR rows of a tile; widening A in
 * registers would cost one shuffle per row and pair, 1 ALU op per NR/8 vpmaddwd:
 * about 75 % of the ceiling with NR = 16. Widened once per block into a buffer, A
 * costs a vpbroadcastd load per row and pair and no ALU op; the inner loop is then
 * vpmaddwd + vpaddd, the roofline's maddwd ceiling, plus the B widening. Without
 * VEX there is no dword broadcast load: SSE4.1 would need a pshufd per row and
 * pair (an ALU op per 2 pmaddwd, 75 % of the ceiling), so its A pairs are stored
 * twice and loaded with movddup (SSE3's qword broadcast, a load without ALU op).
 *
 * Blocking: rows in chunks of QB_MC (row sums once per chunk), then K in blocks of
 * kc k, sized so the chunk's widened block fills QB_A_WORDS int16 (96 KiB on the
 * stack, in L2): kc = 1024 for a full chunk of 8 tiles (512 for SSE4.1's doubled
 * pairs), long enough that a tile's call and epilogue (C loaded, added, stored)
 * are a few % of its work: at kc = 512 they were 6 % of the AVX2 tile's time, at
 * kc = 128 (SSE4.1's pairs stored 4 times in 48 KiB) 10 %; the whole K up to
 * 49152 (SSE4.1: 24576) for M = 1 (one pass over each panel, which keeps an M = 1
 * run a single sequential stream of the N x K weight bytes, and A widened once).
 * Several K blocks run inside N blocks of QB_NC columns, so that the C block a K
 * block adds into (96 KiB for a full chunk) is still in L2 when the next K block
 * reads it back: at N = 4096 without it, C went to L3 and back once per K block
 * (48x4096x4096 on Zen 3: 78 -> 88 % of the maddwd ceiling; A is widened once per
 * N block, 1/512 of the block's MACs). Inside a block:
 * panels of NR columns (their kc x NR bytes stay in L1), then MR-row tiles reading
 * the widened A from L1 / L2. */
#ifndef QB_MR
#error "define QB_MR, QB_NR, QB_WLAYOUT, qb_ukernel, qb_rowsum and the names first"
#endif
#if QB_MR > 8
#error "QB_MR > 8: extend the lists below"
#endif

#include <stdbool.h>

#define QB_MC (QB_MR * 8)
#define QB_A_WORDS 49152 /* int16 of the widened A block: 96 KiB */
#define QB_NC 512 /* columns per N block: the chunk's C block (48 x 512 int32) stays in L2 */

typedef void (*qb_ukernel_fn)(size_t nr, size_t pairs, const uint16_t* a, size_t a_stride,
                              const uint8_t* w, size_t pf, bool first, const int32_t* rowsum,
                              int32_t za_delta, const uint8_t* panel, int32_t* c, size_t ldc);

#define QB_DEFINE_UKERNEL_MR(MRV)                                                           \
  static void qb_ukernel_##MRV(size_t nr, size_t pairs, const uint16_t* a, size_t a_stride, \
                               const uint8_t* w, size_t pf, bool first,                     \
                               const int32_t* rowsum, int32_t za_delta,                     \
                               const uint8_t* panel, int32_t* c, size_t ldc) {              \
    qb_ukernel(MRV, nr, pairs, a, a_stride, w, pf, first, rowsum, za_delta, panel, c, ldc); \
  }
QB_DEFINE_UKERNEL_MR(1)
QB_DEFINE_UKERNEL_MR(2)
QB_DEFINE_UKERNEL_MR(3)
QB_DEFINE_UKERNEL_MR(4)
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

static const qb_ukernel_fn qb_ukernels[] = {
    NULL, qb_ukernel_1, qb_ukernel_2, qb_ukernel_3, qb_ukernel_4,
#if QB_MR >= 5
    qb_ukernel_5,
#endif
#if QB_MR >= 6
    qb_ukernel_6,
#endif
#if QB_MR >= 7
    qb_ukernel_7,
#endif
#if QB_MR >= 8
    qb_ukernel_8,
#endif
};

/* Rows [0, rows) of A, k in [k0, k0 + kn), xor-ed and zero-extended to uint16, row
 * i at out + i * stride (stride = 2 * QB_A_DUP * pairs), each pair QB_A_DUP times;
 * an odd kn's last pair gets a zero high half (B is zero there, the value only has
 * to be defined). With QB_A_DUP = 1 a loop gcc vectorizes into vpmovzxbw. */
static void qb_widen_a(size_t rows, size_t k0, size_t kn, const uint8_t* A, size_t lda,
                       uint32_t axor, uint16_t* out, size_t stride) {
  const uint8_t x = (uint8_t)axor;
  for (size_t i = 0; i < rows; i++, out += stride) {
    const uint8_t* a = A + i * lda + k0;
    if (QB_A_DUP == 1) {
      for (size_t k = 0; k < kn; k++) out[k] = (uint8_t)(a[k] ^ x);
      if (kn % 2) out[kn] = 0;
      continue;
    }
    for (size_t p = 0; 2 * p < kn; p++) {
      const uint16_t lo = (uint8_t)(a[2 * p] ^ x);
      const uint16_t hi = 2 * p + 1 < kn ? (uint8_t)(a[2 * p + 1] ^ x) : 0;
      for (size_t c = 0; c < QB_A_DUP; c++) {
        out[2 * (QB_A_DUP * p + c)] = lo;
        out[2 * (QB_A_DUP * p + c) + 1] = hi;
      }
    }
  }
}

static void qb_gemm_drive(size_t M, size_t N, size_t K, const uint8_t* A, size_t lda,
                          int32_t za_kernel, uint32_t axor, const void* packed, int32_t* C,
                          size_t ldc) {
  if (M == 0 || N == 0) return;
  const uint8_t* base = (const uint8_t*)packed;
  int32_t za_pack;
  memcpy(&za_pack, base, sizeof za_pack);
  const int32_t za_delta = (int32_t)((uint32_t)za_pack - (uint32_t)za_kernel);
  const size_t panel_bytes = qb_q8_panel_bytes(QB_NR, K, QB_WLAYOUT);
  const bool has_zb = qb_q8_pack_has_zb(packed); /* else the row sums are not needed */
  int32_t rowsum[QB_MC];
  uint16_t a_block[QB_A_WORDS] __attribute__((aligned(64)));
  for (size_t m0 = 0; m0 < M; m0 += QB_MC) {
    const size_t mc = M - m0 < QB_MC ? M - m0 : QB_MC;
    for (size_t i = 0; i < mc; i++) rowsum[i] = has_zb ? qb_rowsum(A + (m0 + i) * lda, K, axor) : 0;
    const size_t kc = QB_A_WORDS / QB_A_DUP / mc / 2 * 2; /* even: blocks start at a pair */
    /* One K block (M = 1 up to K = 24576 at least): no C to keep for a next
     * block, one N block, A widened once per call. */
    const size_t nblock = kc < K ? QB_NC : N;
    for (size_t nb = 0; nb < N; nb += nblock) {
      const size_t nc = N - nb < nblock ? N - nb : nblock;
      size_t k0 = 0;
      do { /* at least once: K = 0 still stores the epilogue */
        const size_t kn = K - k0 < kc ? K - k0 : kc, pairs = (kn + 1) / 2;
        const size_t a_stride = 2 * QB_A_DUP * pairs;
        qb_widen_a(mc, k0, kn, A + m0 * lda, lda, axor, a_block, a_stride);
        const uint8_t* panel = base + QB_Q8_PACK_HEADER_BYTES + nb / QB_NR * panel_bytes;
        for (size_t n0 = nb; n0 < nb + nc; n0 += QB_NR, panel += panel_bytes) {
          const size_t nr = N - n0 < QB_NR ? N - n0 : QB_NR;
          const uint8_t* w = panel + 3 * QB_NR * sizeof(int32_t) + k0 * QB_NR;
          for (size_t i = 0; i < mc; i += QB_MR) {
            const size_t mr = mc - i < QB_MR ? mc - i : QB_MR;
            /* With several K blocks the next slice of B is the next panel's, a page
             * or more away (the hardware prefetcher restarts there): the first tile
             * fetches it while it streams its own; later tiles find theirs in L1. */
            const size_t pf = kn < K && i == 0 ? panel_bytes : QB_PREFETCH_BYTES;
            qb_ukernels[mr](nr, pairs, a_block + i * a_stride, a_stride, w, pf, k0 == 0,
                            rowsum + i, za_delta, panel, C + (m0 + i) * ldc + n0, ldc);
          }
        }
        k0 += kn;
      } while (k0 < K);
    }
  }
}

#include "qb_q8_gemm_exports.h"
