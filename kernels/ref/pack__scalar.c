/* Reference sub-byte packing. Layout (little-endian within a byte):
 *   4-bit: byte i = x[2i] & 0xF | (x[2i+1] & 0xF) << 4
 *   2-bit: byte i = sum_j (x[4i+j] & 0x3) << 2j
 * Signed values are stored in two's complement and sign-extended on unpack.
 * Missing trailing elements (n not a multiple of 2 or 4) are stored as zero bits. */
#include "qb_kernels.h"

static void pack_bits(size_t n, const uint8_t* x, unsigned bits, uint8_t* packed) {
  const unsigned per_byte = 8 / bits, mask = (1u << bits) - 1;
  const size_t nbytes = (n + per_byte - 1) / per_byte;
  for (size_t b = 0; b < nbytes; b++) {
    unsigned byte = 0;
    for (unsigned j = 0; j < per_byte; j++) {
      const size_t i = b * per_byte + j;
      if (i < n) byte |= (x[i] & mask) << (j * bits);
    }
    packed[b] = (uint8_t)byte;
  }
}

static unsigned field(const uint8_t* packed, size_t i, unsigned bits) {
  const unsigned per_byte = 8 / bits;
  return (packed[i / per_byte] >> ((i % per_byte) * bits)) & ((1u << bits) - 1);
}

/* Two's complement sign extension of a `bits`-wide field. */
static int8_t sign_extend(unsigned v, unsigned bits) {
  const int sign = 1 << (bits - 1);
  return (int8_t)((int)(v ^ (unsigned)sign) - sign);
}

void qb_qs8_q4_pack__scalar(size_t n, const int8_t* x, uint8_t* packed) {
  pack_bits(n, (const uint8_t*)x, 4, packed);
}
void qb_qu8_q4_pack__scalar(size_t n, const uint8_t* x, uint8_t* packed) {
  pack_bits(n, x, 4, packed);
}
void qb_qs8_q2_pack__scalar(size_t n, const int8_t* x, uint8_t* packed) {
  pack_bits(n, (const uint8_t*)x, 2, packed);
}
void qb_qu8_q2_pack__scalar(size_t n, const uint8_t* x, uint8_t* packed) {
  pack_bits(n, x, 2, packed);
}
void qb_q4_qs8_unpack__scalar(size_t n, const uint8_t* packed, int8_t* x) {
  for (size_t i = 0; i < n; i++) x[i] = sign_extend(field(packed, i, 4), 4);
}
void qb_q4_qu8_unpack__scalar(size_t n, const uint8_t* packed, uint8_t* x) {
  for (size_t i = 0; i < n; i++) x[i] = (uint8_t)field(packed, i, 4);
}
void qb_q2_qs8_unpack__scalar(size_t n, const uint8_t* packed, int8_t* x) {
  for (size_t i = 0; i < n; i++) x[i] = sign_extend(field(packed, i, 2), 2);
}
void qb_q2_qu8_unpack__scalar(size_t n, const uint8_t* packed, uint8_t* x) {
  for (size_t i = 0; i < n; i++) x[i] = (uint8_t)field(packed, i, 2);
}
