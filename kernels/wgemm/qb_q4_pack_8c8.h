/* The "8c8" packed int4 weight layout of the i8mm W4A8 kernel
 * (qb_qs8_q4_f32_wgemm_4x8c8__i8mm), built from the reference layout by
 * qb_qs8_q4_f32_wgemm_pack_8c8.
 *
 * Same frame as 8c4 (wgemm/qb_q4_pack_8c4.h: panels of 8 channels, per group
 * ceil(len_g / 32) blocks of 128 bytes then 8 fp32 scales and, affine only, 8 int8
 * zero points; u the unsigned nibble, 0 past the group's end), so sizes and offsets
 * are 8c4's (qb_qs8_q4_f32_wgemm_packed_size_8c4, qb_q4_8c4_panel_offset). Only the
 * bytes inside a block differ:
 *   byte 16 (4 o + p) + 8 j + i (o 0..1, p 0..3, j 0..1, i 0..7) holds
 *   u(2p + j, k + 8 o + i) in its low nibble and u(2p + j, k + 16 + 8 o + i) in its
 *   high nibble (k the block's first k).
 * So 16 bytes masked with 0x0F (or shifted right by 4) are the 2 x 8 matrix of
 * channels (2p, 2p + 1) x 8 consecutive k, row-major: exactly the second operand
 * of SMMLA (vmmlaq_s32), whose first operand is two rows of activations x the same
 * 8 k. Low nibbles of vectors o = 0, 1 cover k + 0..15, high nibbles k + 16..31, so
 * the activations of a row pair come from two 16-byte loads per row and ZIP1/ZIP2
 * on 64-bit lanes. */
#ifndef QB_Q4_PACK_8C8_H
#define QB_Q4_PACK_8C8_H

#include "wgemm/qb_q4_pack_8c4.h"

#endif /* QB_Q4_PACK_8C8_H */
