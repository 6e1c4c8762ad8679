/* SIMD int4 weight-only GEMM / GEMV kernels (kernels/wgemm). Prototypes and semantics
 * are the scalar reference's (qb_kernels.h, kernels/ref/wgemm__scalar.c), bit for bit.
 *
 * W4A8 (qb_qs8_q4_f32_wgemm_*): the 1x4 / 1x8 / 1x16 kernels read the weights row by
 * row straight from the reference's packed layout (N x ceil(K/2) bytes, no
 * repacking), so GEMV streams them once; the *x8c4 kernels (avx2, sse41, neondot,
 * neon) run on the 8c4 layout and the i8mm one on 8c8, packed once at prepare
 * (wgemm/qb_q4_pack_8c4.h, qb_q4_pack_8c8.h; method in
 * qb_qs8_q4_f32_wgemm_4x8c4__avx2.c), all through one ISA-neutral driver
 * (wgemm/qb_w4a8_driver_packed.h: activation sums, panels, row tiles). Per group the int32 sum is exact whatever the
 * order of the products:
 *   sum_k xq[k] * (u[k] - zp_eff) = sum_k xq[k] * u[k] - zp_eff * sum_k xq[k]
 * with u the unsigned nibble (0..15) and zp_eff = zp[n,g] (affine) or, for signed
 * nibbles, u = nibble ^ 8 and zp_eff = 8 (w = (nibble ^ 8) - 8). The u8 x s8
 * products are VPMADDUBSW pairs (|pair| <= 2*15*128, no saturation) widened by
 * VPMADDWD, or VPDPBUSD. Group sums of xq are computed once per row of
 * activations. The float part keeps the reference's sequence per output
 * (total += (float)acc_g * scale[n,g] for g increasing, then sx * total), four
 * outputs per vector. Groups of odd size G start mid-byte: those shapes take the
 * reference path (documented, exact by construction).
 *
 * W4A32 (qb_f32_q4_f32_wgemm_*): lanes are output channels and each lane repeats
 * the reference's fmaf chain exactly (no reordering of the k or g sums; one
 * vfmadd231ps / FMLA per term), so it is bit-exact; see wgemm/qb_w4a32_driver.h.
 * SSE4.1 has no FMA: it takes the reference.
 *
 * rowquantize: amax by MAXPS of |x| (max is exact and order-free), then the same
 * ISA's qb_f32_qs8_quantize kernel with scale amax / 127, QB_ROUND_DIV, -127..127.
 *
 * Arm: the 1x4 W4A8 kernels subtract the zero point from the nibbles in int8 and
 * multiply s8 x s8 (SMULL/SADALP, or SDOT), see wgemm/qb_w4a8_driver_neon.h; the
 * packed ones run SMULL/SMLAL + SADALP (neon) or SDOT by element (neondot) on 8c4,
 * SMMLA on 8c8 (i8mm; the 8c4 frame, 2 channels x 8 k per masked vector). W4A32:
 * the 1x4 kernel uses the x86 driver's lane-per-channel scheme with NEON operations
 * (FMLA), the 4x16 one the 6x16__avx2 panel structure. */
#ifndef QB_WGEMM_H
#define QB_WGEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qb_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QB_W4A8_DECLARE(TILE, ISA)                                                          \
  void qb_f32_qs8_rowquantize__##ISA(size_t M, size_t K, const float* x, size_t ldx,        \
                                     int8_t* xq, float* sx);                                \
  void qb_qs8_q4_f32_wgemm_##TILE##__##ISA(size_t M, size_t N, size_t K, size_t G,          \
                                           const int8_t* xq, const float* sx,               \
                                           const uint8_t* w, const float* scale,            \
                                           const int8_t* zero_point, float* y, size_t ldy);

#define QB_W4A32_DECLARE(TILE, ISA)                                                         \
  void qb_f32_q4_f32_wgemm_##TILE##__##ISA(size_t M, size_t N, size_t K, size_t G,          \
                                           const float* x, size_t ldx, const uint8_t* w,    \
                                           const float* scale, const int8_t* zero_point,    \
                                           float* y, size_t ldy);

/* The 8c4 packed layout (wgemm/qb_q4_pack_8c4.h; generic C, any architecture). */
size_t qb_qs8_q4_f32_wgemm_packed_size_8c4(size_t N, size_t K, size_t G, bool affine);
void qb_qs8_q4_f32_wgemm_pack_8c4(size_t N, size_t K, size_t G, const uint8_t* w, const float* scale,
                                  const int8_t* zero_point, void* packed);
/* The 8c8 layout (wgemm/qb_q4_pack_8c8.h): 8c4's frame and sizes
 * (qb_qs8_q4_f32_wgemm_packed_size_8c4), SMMLA operands inside a block. */
void qb_qs8_q4_f32_wgemm_pack_8c8(size_t N, size_t K, size_t G, const uint8_t* w, const float* scale,
                                  const int8_t* zero_point, void* packed);

#if defined(__x86_64__) || defined(__i386__)
/* 2x8c4 (pairs with qb_f32_qs8_rowquantize__sse41): the 4x8c4 method on the same 8c4
 * layout in 16-byte halves. Every shape. */
void qb_qs8_q4_f32_wgemm_2x8c4__sse41(size_t M, size_t N, size_t K, size_t G, bool affine,
                                      const int8_t* xq, const float* sx, const void* packed,
                                      float* y, size_t ldy);
QB_W4A8_DECLARE(1x4, sse41)
QB_W4A8_DECLARE(1x4, avx2)
/* 4x8c4 (pairs with qb_f32_qs8_rowquantize__avx2) runs on weights packed once, at
 * prepare, in the 8c4 layout (wgemm/qb_q4_pack_8c4.h). Every shape. */
void qb_qs8_q4_f32_wgemm_4x8c4__avx2(size_t M, size_t N, size_t K, size_t G, bool affine,
                                     const int8_t* xq, const float* sx, const void* packed,
                                     float* y, size_t ldy);
QB_W4A8_DECLARE(1x8, avx512vnni)
/* 1x16 pairs with qb_f32_qs8_rowquantize__avx512vnni (G % 32 == 0 or G >= K; other
 * shapes run the 1x8 kernel). */
void qb_qs8_q4_f32_wgemm_1x16__avx512vnni(size_t M, size_t N, size_t K, size_t G,
                                          const int8_t* xq, const float* sx, const uint8_t* w,
                                          const float* scale, const int8_t* zero_point, float* y,
                                          size_t ldy);
/* 6x16: M >= 2, any K, groups of at most 256 k (or one group of at most 256), whole
 * blocks of 16 channels; the rest runs the 1x32 kernel. */
QB_W4A32_DECLARE(6x16, avx2)
/* 1x32: one row of activations (GEMV), weights converted in registers; every shape. */
QB_W4A32_DECLARE(1x32, avx2)
QB_W4A32_DECLARE(1x16, avx512vnni)
#endif
#if defined(__aarch64__)
QB_W4A8_DECLARE(1x4, neon)
QB_W4A32_DECLARE(1x4, neon)
/* 4x16: an fp32 panel of 16 channels x 1 group dequantized once, then a 4x16 FMLA
 * tile (the 6x16__avx2 structure). Even G with groups of at most 256, or one
 * group; other shapes run the 1x4 kernel. */
QB_W4A32_DECLARE(4x16, neon)
/* 2x8c4 (pairs with qb_f32_qs8_rowquantize__neon): SMULL/SMLAL + SADALP on the 8c4
 * layout (plain NEON). Every shape. */
void qb_qs8_q4_f32_wgemm_2x8c4__neon(size_t M, size_t N, size_t K, size_t G, bool affine,
                                     const int8_t* xq, const float* sx, const void* packed,
                                     float* y, size_t ldy);
/* 4x8c8 (pairs with qb_f32_qs8_rowquantize__neon): SMMLA on the 8c8 layout
 * (wgemm/qb_q4_pack_8c8.h). Every shape. */
void qb_qs8_q4_f32_wgemm_4x8c8__i8mm(size_t M, size_t N, size_t K, size_t G, bool affine,
                                     const int8_t* xq, const float* sx, const void* packed,
                                     float* y, size_t ldy);
/* 4x8c4 (pairs with qb_f32_qs8_rowquantize__neon): SDOT by element on the 8c4 layout
 * (wgemm/qb_q4_pack_8c4.h). Every shape. */
void qb_qs8_q4_f32_wgemm_4x8c4__neondot(size_t M, size_t N, size_t K, size_t G, bool affine,
                                        const int8_t* xq, const float* sx, const void* packed,
                                        float* y, size_t ldy);
/* neondot pairs with qb_f32_qs8_rowquantize__neon (no rowquantize of its own). */
void qb_qs8_q4_f32_wgemm_1x4__neondot(size_t M, size_t N, size_t K, size_t G, const int8_t* xq,
                                      const float* sx, const uint8_t* w, const float* scale,
                                      const int8_t* zero_point, float* y, size_t ldy);
#endif

#ifdef __cplusplus
}
#endif
#endif /* QB_WGEMM_H */
