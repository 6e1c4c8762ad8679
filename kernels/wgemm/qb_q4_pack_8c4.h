/* The "8c4" packed int4 weight layout of the W4A8 kernels that run on weights packed
 * once, at prepare (qb_qs8_q4_f32_wgemm_4x8c4__avx2): built from the reference
 * layout (kernels/ref/wgemm__scalar.c) by qb_qs8_q4_f32_wgemm_pack_8c4.
 *
 * Panels of 8 output channels, one after the other (channels past N: zero weights,
 * zero scale, zero point 0). Inside a panel, group after group:
 *   ceil(len_g / 32) blocks of 128 bytes: byte 32 v + 4 c + i (v 0..3, c 0..7,
 *     i 0..3) holds u(c, k + 4 v + i) in its low nibble and u(c, k + 16 + 4 v + i)
 *     in its high nibble (k the block's first k; u = 0 past the group's end);
 *   8 fp32 scales, then (affine weights only) 8 int8 zero points.
 * u is the unsigned nibble: the stored one (affine, zero point zp[n,g] in 0..15) or
 * nibble ^ 8 (symmetric: zero point 8, not stored), so w - zp = u - zp_eff in both
 * cases. Symmetric weights thus take 4 + 32 / 32 = 5 bits per weight at G = 32.
 * One 32-byte vector masked with 0x0F (low) or shifted right by 4 then masked (high)
 * has channel c's four weights of 4 consecutive k in lane c: the "c4" operand of a
 * u8 x s8 pair-multiply against a broadcast dword of activations.
 *
 * A column slice [n0, N) with n0 a multiple of 8 starts at byte
 * qb_qs8_q4_f32_wgemm_packed_size_8c4(n0, K, G, affine). */
#ifndef QB_Q4_PACK_8C4_H
#define QB_Q4_PACK_8C4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QB_Q4_8C4_NR 8
#define QB_Q4_8C4_BLOCK_BYTES 128
#define QB_Q4_8C4_SCALE_BYTES 32 /* 8 fp32 scales per group */
#define QB_Q4_8C4_ZP_BYTES 8     /* 8 int8 zero points per group (affine only) */

/* Bytes after a group's blocks. */
static inline size_t qb_q4_8c4_group_tail(bool affine) {
  return QB_Q4_8C4_SCALE_BYTES + (affine ? QB_Q4_8C4_ZP_BYTES : 0);
}

/* Blocks of 32 k in group g. */
static inline size_t qb_q4_8c4_group_blocks(size_t K, size_t G, size_t g) {
  const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
  return (k1 - k0 + 31) / 32;
}

/* Bytes of one panel from group 0 up to (not including) group g (g = ngroups: the
 * panel's size). Every group but the last has the same number of blocks. */
static inline size_t qb_q4_8c4_panel_offset(size_t K, size_t G, size_t g, bool affine) {
  const size_t ngroups = (K + G - 1) / G, tail = qb_q4_8c4_group_tail(affine);
  if (g == 0) return 0;
  const size_t full = qb_q4_8c4_group_blocks(K, G, 0) * QB_Q4_8C4_BLOCK_BYTES + tail;
  if (g < ngroups) return g * full;
  return (ngroups - 1) * full + qb_q4_8c4_group_blocks(K, G, ngroups - 1) * QB_Q4_8C4_BLOCK_BYTES + tail;
}

#endif /* QB_Q4_PACK_8C4_H */
