/* Template: AVX-512 VNNI microkernel (vpdpbusd) for zmm (QB_VW 16) or, through
 * AVX512VL, ymm (QB_VW 8) registers. Included by the *__avx512vnni.c kernel files,
 * which define QB_MR, QB_NV (vectors per row; QB_NR = QB_NV * QB_VW) and names.
 *
 * Per group of 4 k: load QB_NV vectors of packed B (S8_C4: each int32 lane holds
 * one column's 4 int8), broadcast A[m][k..k+3] (4 u8) to every lane, and
 *   acc[m][v] = vpdpbusd(acc[m][v], a_bcast, b[v])
 * which adds the 4 u8 x s8 products (each |p| <= 255*128) to the int32 lane
 * without any intermediate rounding or saturation (VPDPBUSD, not VPDPBUSDS):
 * exact, wrapping like the reference's int32 sum.
 * Registers: QB_MR * QB_NV accumulators, QB_NV B vectors, 1-2 A broadcasts.
 * K tail: the last 1-3 bytes of a row come from a masked (non-faulting) byte load
 * into a zeroed dword (no read past the row); the packed B is zero there. N tail: masked stores. M tail: one copy of
 * the kernel per mr (the driver's table). */
#include <immintrin.h>
#include <string.h>

#include "qb_q8_gemm_pack.h"

#define QB_NR (QB_NV * QB_VW)
#define QB_WLAYOUT QB_Q8_W_S8_C4

#if QB_VW == 16
typedef __m512i qb_vec;
typedef __mmask16 qb_vmask;
#define QB_V_ZERO() _mm512_setzero_si512()
#define QB_V_LOAD(p) _mm512_loadu_si512((const void*)(p))
#define QB_V_SET1(x) _mm512_set1_epi32((int)(x))
#define QB_V_ADD(x, y) _mm512_add_epi32(x, y)
#define QB_V_SUB(x, y) _mm512_sub_epi32(x, y)
#define QB_V_MULLO(x, y) _mm512_mullo_epi32(x, y)
#define QB_V_XOR(x, y) _mm512_xor_si512(x, y)
#define QB_V_MASK_STORE(p, m, v) _mm512_mask_storeu_epi32((void*)(p), m, v)
#elif QB_VW == 8
typedef __m256i qb_vec;
typedef __mmask8 qb_vmask;
#define QB_V_ZERO() _mm256_setzero_si256()
#define QB_V_LOAD(p) _mm256_loadu_si256((const __m256i*)(p))
#define QB_V_SET1(x) _mm256_set1_epi32((int)(x))
#define QB_V_ADD(x, y) _mm256_add_epi32(x, y)
#define QB_V_SUB(x, y) _mm256_sub_epi32(x, y)
#define QB_V_MULLO(x, y) _mm256_mullo_epi32(x, y)
#define QB_V_XOR(x, y) _mm256_xor_si256(x, y)
#define QB_V_MASK_STORE(p, m, v) _mm256_mask_storeu_epi32((void*)(p), m, v)
#else
#error "QB_VW must be 16 (zmm) or 8 (ymm)"
#endif

/* acc += vpdpbusd(a: u8, b: s8). Inline asm rather than _mm*_dpbusd_epi32: GCC 12
 * copies every accumulator once per iteration around the intrinsic (the
 * destination is also a source), which halves the kernel's speed. */
static inline __attribute__((always_inline)) qb_vec QB_V_DPBUSD(qb_vec acc, qb_vec a, qb_vec b) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

/* Every loop over rows or vectors has a constant trip count; unrolling them all
 * keeps the accumulators in registers (GCC otherwise spills the array). */
#define QB_UNROLL _Pragma("GCC unroll 16")

static inline __attribute__((always_inline)) qb_vec qb_bcast_a(const uint8_t* p, uint32_t axor) {
  uint32_t v;
  memcpy(&v, p, 4);
  qb_vec a = QB_V_SET1(v);
  return axor ? QB_V_XOR(a, QB_V_SET1(axor)) : a;
}

/* The last 1-3 bytes of a row, zero-extended to a dword and broadcast. The masked
 * load (AVX512BW+VL) does not touch the bytes it masks out, so it never reads past
 * the row, even at a page boundary. */
static inline __attribute__((always_inline)) qb_vec qb_bcast_a_tail(const uint8_t* p, size_t n,
                                                                    uint32_t axor) {
  const __m128i t = _mm_maskz_loadu_epi8((__mmask16)((1u << n) - 1u), p);
#if QB_VW == 16
  qb_vec a = _mm512_broadcastd_epi32(t);
#else
  qb_vec a = _mm256_broadcastd_epi32(t);
#endif
  return axor ? QB_V_XOR(a, QB_V_SET1(axor)) : a;
}

static inline __attribute__((always_inline)) void qb_ukernel(
    size_t mr, uint32_t axor, size_t nr, size_t K, const uint8_t* a, size_t lda,
    const int32_t* rowsum, int32_t za_delta, const uint8_t* panel, int32_t* c, size_t ldc) {
  qb_vec acc[QB_MR][QB_NV];
  QB_UNROLL for (size_t i = 0; i < mr; i++)
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++) acc[i][v] = QB_V_ZERO();

  const uint8_t* w = panel + 3 * QB_NR * sizeof(int32_t);
  size_t k = 0;
  for (; k + 4 <= K; k += 4, w += QB_NR * 4) {
    qb_vec b[QB_NV];
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++) b[v] = QB_V_LOAD(w + v * QB_VW * 4);
    QB_UNROLL for (size_t i = 0; i < mr; i++) {
      const qb_vec va = qb_bcast_a(a + i * lda + k, axor);
      QB_UNROLL for (size_t v = 0; v < QB_NV; v++) acc[i][v] = QB_V_DPBUSD(acc[i][v], va, b[v]);
    }
  }
  if (k < K) {
    qb_vec b[QB_NV];
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++) b[v] = QB_V_LOAD(w + v * QB_VW * 4);
    QB_UNROLL for (size_t i = 0; i < mr; i++) {
      const qb_vec va = qb_bcast_a_tail(a + i * lda + k, K - k, axor);
      QB_UNROLL for (size_t v = 0; v < QB_NV; v++) acc[i][v] = QB_V_DPBUSD(acc[i][v], va, b[v]);
    }
  }

  /* C = acc + (bias + za_delta * d) - zb * rowsum, wrapping int32. */
  const qb_vec delta = QB_V_SET1(za_delta);
  qb_vec bias[QB_NV], zb[QB_NV];
  qb_vmask mask[QB_NV];
  QB_UNROLL for (size_t v = 0; v < QB_NV; v++) {
    const uint8_t* p = panel + v * QB_VW * 4;
    bias[v] = QB_V_ADD(QB_V_LOAD(p), QB_V_MULLO(delta, QB_V_LOAD(p + 2 * QB_NR * 4)));
    zb[v] = QB_V_LOAD(p + QB_NR * 4);
    const size_t lanes = nr > v * QB_VW ? nr - v * QB_VW : 0;
    mask[v] = lanes >= QB_VW ? (qb_vmask)-1 : (qb_vmask)((1u << lanes) - 1u);
  }
  QB_UNROLL for (size_t i = 0; i < mr; i++) {
    const qb_vec rs = QB_V_SET1(rowsum[i]);
    QB_UNROLL for (size_t v = 0; v < QB_NV; v++)
      QB_V_MASK_STORE(c + i * ldc + v * QB_VW, mask[v],
                      QB_V_SUB(QB_V_ADD(acc[i][v], bias[v]), QB_V_MULLO(zb[v], rs)));
  }
}

/* sum_k (A[k] ^ axor): vpsadbw against zero, 64 bytes a step; the tail uses a
 * masked (non-faulting) load, and masked-out bytes are zeroed after the xor. */
static int32_t qb_rowsum(const uint8_t* a, size_t K, uint32_t axor) {
  const __m512i x = _mm512_set1_epi32((int)axor), zero = _mm512_setzero_si512();
  __m512i s = zero;
  size_t k = 0;
  for (; k + 64 <= K; k += 64)
    s = _mm512_add_epi64(s, _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(a + k), x), zero));
  if (k < K) {
    const __mmask64 m = (__mmask64)((~0ull) >> (64 - (K - k)));
    const __m512i t = _mm512_maskz_mov_epi8(m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, a + k), x));
    s = _mm512_add_epi64(s, _mm512_sad_epu8(t, zero));
  }
  return (int32_t)(uint32_t)(uint64_t)_mm512_reduce_add_epi64(s);
}
