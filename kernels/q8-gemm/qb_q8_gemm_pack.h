/* Packed-weight layout shared by the SIMD int8 GEMM kernels (static inline: each
 * kernel file compiles its own copy with its own ISA flags).
 *
 * Every kernel computes, for C = sum_k (A - za) * (B - zb[n]),
 *   C[m][n] = acc[m][n] + bias[n] + (za_pack - za) * d[n] - zb[n] * rowsum_A[m]
 * with acc = sum_k A*B (u8 x s8, SIMD), rowsum_A[m] = sum_k A[m][k] (by the kernel),
 *   d[n]    = sum_k (B[n][k] - zb[n])    = colsum_B[n] - K * zb[n]
 *   bias[n] = -za_pack * d[n]            = -za*colsum_B[n] + K*za*zb[n]
 * folded at packing time for the pack-time zero point za_pack. The (za_pack - za)
 * term keeps the result right when the run-time zero point differs (dynamic
 * quantization reuses packed weights); it is zero otherwise. All of it is exact in
 * wrapping int32 arithmetic (uint32 in C), as the reference's definition is.
 *
 * Buffer: a 64-byte header (int32 za_pack at offset 0, uint32 at offset 4: 1 if some
 * zb[n] != 0, rest zero), then one panel
 * per NR output channels (the last one padded with zero columns):
 *   int32 bias[NR], int32 zb[NR], int32 d[NR], then ceil(K/KR) groups of KR k
 *   (KR = 2, 4 or 8), each NR x KR int8 with column j's B[n0+j][KR*g..KR*g+KR-1]
 *   contiguous:
 *   S8_C2:    pairs, widened to int16 in registers (vpmovsxbw) for vpmaddwd
 *             against a pair of A values (the exact AVX2 / SSE4.1 kernels);
 *   S8_C4:    quads (vpdpbusd, vpmaddubsw, SDOT);
 *   S8_C8:    octets, so columns 2p, 2p+1 form the 2x8 matrix USMMLA reads (Arm i8mm).
 * Every layout stores each weight in one byte: an M = 1 run streams N x K bytes.
 * k >= K is padded with B = 0, so padding contributes nothing to acc whatever A
 * holds there, and nothing to d. Buffers need no alignment (unaligned loads);
 * 64-byte alignment is best.
 *
 * Other operand types reuse the u8 x s8 kernels exactly:
 *   B unsigned (qu8 x qu8): B - 128 is int8 and (B-128) - (zb-128) = B - zb;
 *   A signed (qs8 x qs8):   A ^ 0x80 = A + 128 is uint8, the kernel xors A as it
 *                           loads it, and the zero point becomes za + 128. */
#ifndef QB_Q8_GEMM_PACK_H
#define QB_Q8_GEMM_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define QB_Q8_PACK_HEADER_BYTES 64

/* The enumerator's value is its KR. */
typedef enum { QB_Q8_W_S8_C2 = 2, QB_Q8_W_S8_C4 = 4, QB_Q8_W_S8_C8 = 8 } qb_q8_wlayout;

static inline size_t qb_q8_layout_kr(qb_q8_wlayout layout) { return (size_t)layout; }

static inline size_t qb_q8_panel_bytes(size_t nr, size_t K, qb_q8_wlayout layout) {
  const size_t kr = qb_q8_layout_kr(layout);
  return 3 * nr * sizeof(int32_t) + (K + kr - 1) / kr * kr * nr;
}

static inline size_t qb_q8_packed_size(size_t N, size_t K, size_t nr, qb_q8_wlayout layout) {
  return QB_Q8_PACK_HEADER_BYTES + (N + nr - 1) / nr * qb_q8_panel_bytes(nr, K, layout);
}

static inline void qb_q8_put_i32(uint8_t* p, uint32_t v) { memcpy(p, &v, sizeof v); }

/* B element as the kernel sees it (int8 range). */
static inline int32_t qb_q8_b_at(const void* B, bool b_unsigned, size_t idx) {
  return b_unsigned ? (int32_t)((const uint8_t*)B)[idx] - 128 : (int32_t)((const int8_t*)B)[idx];
}

/* The row sums of A are needed only for the zb * rowsum term: with every zb zero
 * (symmetric weights) the drivers skip them (zeros instead). */
static inline bool qb_q8_pack_has_zb(const void* packed) {
  uint32_t v;
  memcpy(&v, (const uint8_t*)packed + 4, sizeof v);
  return v != 0;
}

/* za_pack is the zero point as the kernel sees A (za + 128 for signed A). */
static inline void qb_q8_pack(size_t N, size_t K, const void* B, size_t ldb, bool b_unsigned,
                              const int32_t* b_zero_point, int32_t za_pack, size_t nr,
                              qb_q8_wlayout layout, void* packed) {
  uint8_t* out = (uint8_t*)packed;
  memset(out, 0, QB_Q8_PACK_HEADER_BYTES);
  qb_q8_put_i32(out, (uint32_t)za_pack);
  uint32_t any_zb = 0;
  for (size_t n = 0; n < N; n++) any_zb |= (uint32_t)b_zero_point[n] != (b_unsigned ? 128u : 0u);
  qb_q8_put_i32(out + 4, any_zb);
  out += QB_Q8_PACK_HEADER_BYTES;
  const size_t kr = qb_q8_layout_kr(layout);
  const size_t kp = (K + kr - 1) / kr * kr, panel = qb_q8_panel_bytes(nr, K, layout);
  for (size_t n0 = 0; n0 < N; n0 += nr, out += panel) {
    uint8_t* w = out + 3 * nr * sizeof(int32_t);
    for (size_t j = 0; j < nr; j++) {
      const size_t n = n0 + j;
      uint32_t zb = 0, d = 0;
      if (n < N) {
        zb = (uint32_t)b_zero_point[n] - (b_unsigned ? 128u : 0u);
        for (size_t k = 0; k < K; k++) d += (uint32_t)qb_q8_b_at(B, b_unsigned, n * ldb + k) - zb;
      }
      qb_q8_put_i32(out + j * 4, 0u - (uint32_t)za_pack * d); /* bias */
      qb_q8_put_i32(out + (nr + j) * 4, zb);
      qb_q8_put_i32(out + (2 * nr + j) * 4, d);
      for (size_t k = 0; k < kp; k++) {
        const int32_t v = (n < N && k < K) ? qb_q8_b_at(B, b_unsigned, n * ldb + k) : 0;
        w[(k / kr * nr + j) * kr + k % kr] = (uint8_t)(int8_t)v;
      }
    }
  }
}

#endif /* QB_Q8_GEMM_PACK_H */
