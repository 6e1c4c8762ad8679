/* Scalar reference sub-byte packing (kernels/ref/pack__scalar.c): the byte layout
 * pinned by hand-worked bytes, round trips over every value, odd-count padding,
 * truncation of out-of-range values, and guard bytes for n = 0..17 (plus tails).
 *
 *   4-bit: byte i = x[2i] & 0xF | (x[2i+1] & 0xF) << 4     (element 0 in the low nibble)
 *   2-bit: byte i = sum_j (x[4i+j] & 0x3) << 2j
 */
#include <stdlib.h>
#include <string.h>

#include "qb_kernels.h"
#include "qb_test.h"

static void test_layout_by_hand(void) {
  uint8_t p[4];
  /* {1, 2} -> 0x21: element 0 low nibble, element 1 high nibble */
  const int8_t s12[2] = {1, 2};
  qb_qs8_q4_pack__scalar(2, s12, p);
  QB_CHECK_EQ_INT(p[0], 0x21);
  /* {-1, 0} -> 0x0F; {0, -1} -> 0xF0; {-8, 7} -> 0x78; {7, -8} -> 0x87 */
  const int8_t sm10[2] = {-1, 0}, s0m1[2] = {0, -1}, sm87[2] = {-8, 7}, s7m8[2] = {7, -8};
  qb_qs8_q4_pack__scalar(2, sm10, p);
  QB_CHECK_EQ_INT(p[0], 0x0F);
  qb_qs8_q4_pack__scalar(2, s0m1, p);
  QB_CHECK_EQ_INT(p[0], 0xF0);
  qb_qs8_q4_pack__scalar(2, sm87, p);
  QB_CHECK_EQ_INT(p[0], 0x78);
  qb_qs8_q4_pack__scalar(2, s7m8, p);
  QB_CHECK_EQ_INT(p[0], 0x87);
  /* odd n: {1, 2, 3} -> 0x21, 0x03 (high nibble of the last byte zero) */
  const int8_t s123[3] = {1, 2, 3};
  memset(p, 0xA5, sizeof p);
  qb_qs8_q4_pack__scalar(3, s123, p);
  QB_CHECK_EQ_INT(p[0], 0x21);
  QB_CHECK_EQ_INT(p[1], 0x03);
  QB_CHECK_EQ_INT(p[2], 0xA5); /* (3 + 1) / 2 = 2 bytes written, no more */
  /* odd n with a negative last value: {-1} -> 0x0F, not 0xFF */
  const int8_t sm1 = -1;
  qb_qs8_q4_pack__scalar(1, &sm1, p);
  QB_CHECK_EQ_INT(p[0], 0x0F);
  /* unsigned {15, 0, 10} -> 0x0F, 0x0A; {3, 12} -> 0xC3 */
  const uint8_t u[3] = {15, 0, 10}, u2[2] = {3, 12};
  qb_qu8_q4_pack__scalar(3, u, p);
  QB_CHECK_EQ_INT(p[0], 0x0F);
  QB_CHECK_EQ_INT(p[1], 0x0A);
  qb_qu8_q4_pack__scalar(2, u2, p);
  QB_CHECK_EQ_INT(p[0], 0xC3);
  /* unpack 0xC3 -> unsigned {3, 12}, signed {3, -4} */
  const uint8_t c3 = 0xC3;
  uint8_t uo[2];
  int8_t so[2];
  qb_q4_qu8_unpack__scalar(2, &c3, uo);
  QB_CHECK_EQ_INT(uo[0], 3);
  QB_CHECK_EQ_INT(uo[1], 12);
  qb_q4_qs8_unpack__scalar(2, &c3, so);
  QB_CHECK_EQ_INT(so[0], 3);
  QB_CHECK_EQ_INT(so[1], -4);

  /* 2-bit unsigned {0, 1, 2, 3} -> 0b11'10'01'00 = 0xE4 */
  const uint8_t u0123[4] = {0, 1, 2, 3};
  qb_qu8_q2_pack__scalar(4, u0123, p);
  QB_CHECK_EQ_INT(p[0], 0xE4);
  /* 2-bit signed {-2, -1, 0, 1}: 10 | 11<<2 | 00<<4 | 01<<6 = 0x02|0x0C|0x40 = 0x4E */
  const int8_t s2[4] = {-2, -1, 0, 1};
  qb_qs8_q2_pack__scalar(4, s2, p);
  QB_CHECK_EQ_INT(p[0], 0x4E);
  /* n = 5: {3, 0, 0, 0, 2} -> 0x03, 0x02; n = 3: {1, 1, 1} -> 0x15 (bits 6..7 zero) */
  const uint8_t u5[5] = {3, 0, 0, 0, 2}, u111[3] = {1, 1, 1};
  qb_qu8_q2_pack__scalar(5, u5, p);
  QB_CHECK_EQ_INT(p[0], 0x03);
  QB_CHECK_EQ_INT(p[1], 0x02);
  qb_qu8_q2_pack__scalar(3, u111, p);
  QB_CHECK_EQ_INT(p[0], 0x15);
  /* signed 2-bit {-1, -1, -1} -> 0x3F, top pair zero */
  const int8_t m111[3] = {-1, -1, -1};
  qb_qs8_q2_pack__scalar(3, m111, p);
  QB_CHECK_EQ_INT(p[0], 0x3F);
  /* unpack 0x4E -> signed {-2, -1, 0, 1}, unsigned {2, 3, 0, 1} */
  const uint8_t b4e = 0x4E;
  int8_t s4[4];
  uint8_t u4[4];
  qb_q2_qs8_unpack__scalar(4, &b4e, s4);
  QB_CHECK_EQ_INT(s4[0], -2);
  QB_CHECK_EQ_INT(s4[1], -1);
  QB_CHECK_EQ_INT(s4[2], 0);
  QB_CHECK_EQ_INT(s4[3], 1);
  qb_q2_qu8_unpack__scalar(4, &b4e, u4);
  QB_CHECK_EQ_INT(u4[0], 2);
  QB_CHECK_EQ_INT(u4[1], 3);
  QB_CHECK_EQ_INT(u4[2], 0);
  QB_CHECK_EQ_INT(u4[3], 1);

  /* Out-of-range values are truncated to their low bits (documented): 4-bit 17 ->
   * 0x1, 8 (signed) -> 0x8 which unpacks as -8; -9 = 0xF7 -> 0x7; 2-bit 5 -> 1. */
  const uint8_t u17[2] = {17, 0x3F};
  qb_qu8_q4_pack__scalar(2, u17, p);
  QB_CHECK_EQ_INT(p[0], 0xF1);
  const int8_t s8m9[2] = {8, -9};
  qb_qs8_q4_pack__scalar(2, s8m9, p);
  QB_CHECK_EQ_INT(p[0], 0x78);
  qb_q4_qs8_unpack__scalar(2, p, so);
  QB_CHECK_EQ_INT(so[0], -8);
  QB_CHECK_EQ_INT(so[1], 7);
  const uint8_t u5b[1] = {5};
  qb_qu8_q2_pack__scalar(1, u5b, p);
  QB_CHECK_EQ_INT(p[0], 0x01);
}

/* Every byte unpacks to the nibbles / pairs its bits say, and packs back to itself. */
static void test_all_bytes(void) {
  for (int b = 0; b < 256; b++) {
    const uint8_t byte = (uint8_t)b;
    int8_t s[4];
    uint8_t u[4], back;
    qb_q4_qs8_unpack__scalar(2, &byte, s);
    qb_q4_qu8_unpack__scalar(2, &byte, u);
    for (int j = 0; j < 2; j++) {
      const int nib = (b >> (4 * j)) & 0xF;
      QB_CHECK_EQ_INT(u[j], nib);
      QB_CHECK_EQ_INT(s[j], nib >= 8 ? nib - 16 : nib); /* sign extension -8..7 */
      QB_CHECK(s[j] >= -8 && s[j] <= 7);
    }
    qb_qs8_q4_pack__scalar(2, s, &back);
    QB_CHECK_EQ_INT(back, b);
    qb_qu8_q4_pack__scalar(2, u, &back);
    QB_CHECK_EQ_INT(back, b);

    qb_q2_qs8_unpack__scalar(4, &byte, s);
    qb_q2_qu8_unpack__scalar(4, &byte, u);
    for (int j = 0; j < 4; j++) {
      const int pair = (b >> (2 * j)) & 0x3;
      QB_CHECK_EQ_INT(u[j], pair);
      QB_CHECK_EQ_INT(s[j], pair >= 2 ? pair - 4 : pair); /* -2..1 */
    }
    qb_qs8_q2_pack__scalar(4, s, &back);
    QB_CHECK_EQ_INT(back, b);
    qb_qu8_q2_pack__scalar(4, u, &back);
    QB_CHECK_EQ_INT(back, b);
  }
  /* Signed 4-bit round trip of every ordered pair of values -8..7. */
  for (int a = -8; a <= 7; a++)
    for (int c = -8; c <= 7; c++) {
      const int8_t v[2] = {(int8_t)a, (int8_t)c};
      int8_t w[2];
      uint8_t byte;
      qb_qs8_q4_pack__scalar(2, v, &byte);
      QB_CHECK_EQ_INT(byte, (a & 0xF) | ((c & 0xF) << 4));
      qb_q4_qs8_unpack__scalar(2, &byte, w);
      QB_CHECK_EQ_INT(w[0], a);
      QB_CHECK_EQ_INT(w[1], c);
    }
}

/* Pack/unpack for n = 0..17 and tails: exact output size ((n+1)/2 or (n+3)/4 bytes,
 * n values), guard bytes on both sides, padding bits zero, round trip. The packed
 * input to unpack is a heap buffer of exactly the packed size so a sanitizer build
 * catches reads past it. */
static void test_sizes(void) {
  static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                                 31, 32, 33, 63, 64, 65};
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    const size_t n = sizes[si];
    for (int bits = 2; bits <= 4; bits += 2) {
      const size_t per = 8 / (size_t)bits, nbytes = (n + per - 1) / per;
      const int smin = -(1 << (bits - 1)), smax = (1 << (bits - 1)) - 1, umax = (1 << bits) - 1;
      int8_t* xs = malloc(n + 1);
      uint8_t* xu = malloc(n + 1);
      for (size_t i = 0; i < n; i++) {
        xs[i] = (int8_t)qb_rand_range(smin, smax);
        xu[i] = (uint8_t)qb_rand_range(0, umax);
      }
      /* expected bytes, built from the layout formula */
      uint8_t* want_s = calloc(nbytes + 1, 1);
      uint8_t* want_u = calloc(nbytes + 1, 1);
      for (size_t i = 0; i < n; i++) {
        const unsigned sh = (unsigned)((i % per) * (size_t)bits), mask = (1u << bits) - 1;
        want_s[i / per] |= (uint8_t)(((unsigned)(uint8_t)xs[i] & mask) << sh);
        want_u[i / per] |= (uint8_t)(((unsigned)xu[i] & mask) << sh);
      }
      uint8_t* ps = qb_guard_alloc(nbytes);
      uint8_t* pu = qb_guard_alloc(nbytes);
      if (bits == 4) {
        qb_qs8_q4_pack__scalar(n, xs, ps);
        qb_qu8_q4_pack__scalar(n, xu, pu);
      } else {
        qb_qs8_q2_pack__scalar(n, xs, ps);
        qb_qu8_q2_pack__scalar(n, xu, pu);
      }
      qb_guard_check(ps, nbytes, bits == 4 ? "q4 signed pack" : "q2 signed pack");
      qb_guard_check(pu, nbytes, bits == 4 ? "q4 unsigned pack" : "q2 unsigned pack");
      QB_CHECK_MSG(memcmp(ps, want_s, nbytes) == 0, "bits=%d n=%zu signed layout", bits, n);
      QB_CHECK_MSG(memcmp(pu, want_u, nbytes) == 0, "bits=%d n=%zu unsigned layout", bits, n);
      if (n % per) { /* padding bits of the last byte are zero */
        const unsigned used = (unsigned)((n % per) * (size_t)bits);
        QB_CHECK_EQ_INT(ps[nbytes - 1] >> used, 0);
        QB_CHECK_EQ_INT(pu[nbytes - 1] >> used, 0);
      }

      /* unpack from an exactly sized heap copy */
      uint8_t* exact_s = malloc(nbytes ? nbytes : 1);
      uint8_t* exact_u = malloc(nbytes ? nbytes : 1);
      if (nbytes) {
        memcpy(exact_s, ps, nbytes);
        memcpy(exact_u, pu, nbytes);
      }
      int8_t* ys = qb_guard_alloc(n);
      uint8_t* yu = qb_guard_alloc(n);
      if (bits == 4) {
        qb_q4_qs8_unpack__scalar(n, exact_s, ys);
        qb_q4_qu8_unpack__scalar(n, exact_u, yu);
      } else {
        qb_q2_qs8_unpack__scalar(n, exact_s, ys);
        qb_q2_qu8_unpack__scalar(n, exact_u, yu);
      }
      qb_guard_check(ys, n, "signed unpack");
      qb_guard_check(yu, n, "unsigned unpack");
      QB_CHECK_MSG(n == 0 || memcmp(ys, xs, n) == 0, "bits=%d n=%zu signed round trip", bits, n);
      QB_CHECK_MSG(n == 0 || memcmp(yu, xu, n) == 0, "bits=%d n=%zu unsigned round trip", bits, n);

      qb_guard_free(ps);
      qb_guard_free(pu);
      qb_guard_free(ys);
      qb_guard_free(yu);
      free(exact_s);
      free(exact_u);
      free(want_s);
      free(want_u);
      free(xs);
      free(xu);
    }
  }
}

int main(void) {
  qb_test_seed(4242);
  test_layout_by_hand();
  test_all_bytes();
  test_sizes();
  return qb_test_finish("test_ref_pack");
}
