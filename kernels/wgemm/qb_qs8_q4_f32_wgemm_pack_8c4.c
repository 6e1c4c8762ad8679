/* Packing into the 8c4 and 8c8 layouts (wgemm/qb_q4_pack_8c4.h,
 * wgemm/qb_q4_pack_8c8.h): same frame (panels, blocks of 8 channels x 32 k, group
 * tails), different byte position of a (channel, k) inside a block. Generic C: run
 * once per weight, at prepare. */
#include <string.h>

#include "wgemm/qb_q4_pack_8c4.h"
#include "wgemm/qb_q4_pack_8c8.h"
#include "wgemm/qb_wgemm.h"

/* Byte of channel c (0..7), block-relative k r (0..15; k r + 16 is the same byte's
 * high nibble) inside a 128-byte block. */
static size_t byte_8c4(size_t c, size_t r) { return 32 * (r / 4) + 4 * c + r % 4; }
static size_t byte_8c8(size_t c, size_t r) { return 16 * (4 * (r / 8) + c / 2) + 8 * (c % 2) + r % 8; }

size_t qb_qs8_q4_f32_wgemm_packed_size_8c4(size_t N, size_t K, size_t G, bool affine) {
  if (K == 0 || G == 0) return 0;
  return (N + QB_Q4_8C4_NR - 1) / QB_Q4_8C4_NR * qb_q4_8c4_panel_offset(K, G, (K + G - 1) / G, affine);
}

static void pack(size_t N, size_t K, size_t G, const uint8_t* w, const float* scale,
                 const int8_t* zero_point, void* packed, size_t (*byte_of)(size_t, size_t)) {
  if (K == 0 || G == 0) return;
  const size_t ngroups = (K + G - 1) / G, row_bytes = (K + 1) / 2;
  uint8_t* p = packed;
  for (size_t n0 = 0; n0 < N; n0 += QB_Q4_8C4_NR)
    for (size_t g = 0; g < ngroups; g++) {
      const size_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K, nb = qb_q4_8c4_group_blocks(K, G, g);
      for (size_t b = 0; b < nb; b++, p += QB_Q4_8C4_BLOCK_BYTES)
        for (size_t c = 0; c < QB_Q4_8C4_NR; c++)
          for (size_t r = 0; r < 16; r++) {
            uint8_t byte = 0;
            for (size_t half = 0; half < 2; half++) {
              const size_t k = k0 + 32 * b + 16 * half + r, n = n0 + c;
              if (k >= k1 || n >= N) continue;
              unsigned u = (w[n * row_bytes + k / 2] >> (k % 2 * 4)) & 0xF;
              if (!zero_point) u ^= 8; /* signed nibble s = (u ^ 8) - 8 */
              byte |= (uint8_t)(u << (4 * half));
            }
            p[byte_of(c, r)] = byte;
          }
      for (size_t c = 0; c < QB_Q4_8C4_NR; c++) {
        const size_t n = n0 + c;
        const float s = n < N ? scale[n * ngroups + g] : 0.0f;
        memcpy(p + 4 * c, &s, sizeof s);
        if (zero_point) p[QB_Q4_8C4_SCALE_BYTES + c] = (uint8_t)(n < N ? zero_point[n * ngroups + g] : 0);
      }
      p += qb_q4_8c4_group_tail(zero_point != NULL);
    }
}

void qb_qs8_q4_f32_wgemm_pack_8c4(size_t N, size_t K, size_t G, const uint8_t* w, const float* scale,
                                  const int8_t* zero_point, void* packed) {
  pack(N, K, G, w, scale, zero_point, packed, byte_8c4);
}

void qb_qs8_q4_f32_wgemm_pack_8c8(size_t N, size_t K, size_t G, const uint8_t* w, const float* scale,
                                  const int8_t* zero_point, void* packed) {
  pack(N, K, G, w, scale, zero_point, packed, byte_8c8);
}
