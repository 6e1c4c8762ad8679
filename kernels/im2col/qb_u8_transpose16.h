/* 16 x 16 byte transpose out[j][i] = in[i][j] in registers, shared by the uint8
 * im2col (im2col/qb_im2col_driver.h), the channels-in-lanes depthwise conv
 * (dwconv/qb_dwconv_chan.h) and the integer Conv epilogue's move into NCHW planes
 * (harness/qruntime/qb_model_qlayer.c). Static inline: compiled under each including
 * file's flags (SSE2 on x86-64's baseline, Advanced SIMD on AArch64; plain C
 * elsewhere).
 *
 * Four rounds of out[2i + h] = interleave(in[i], in[i + 8]) (h: low / high half).
 * Each round rotates the 8-bit (vector, byte) index left by one bit, so four rounds
 * swap its two 4-bit halves: row and column. */
#ifndef QB_U8_TRANSPOSE16_H
#define QB_U8_TRANSPOSE16_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>
static inline void qb_u8_transpose16(const uint8_t in[16][16], uint8_t out[16][16]) {
  __m128i a[16], b[16];
  for (int i = 0; i < 16; i++) a[i] = _mm_loadu_si128((const __m128i*)(const void*)in[i]);
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < 8; i++) {
      b[2 * i] = _mm_unpacklo_epi8(a[i], a[i + 8]);
      b[2 * i + 1] = _mm_unpackhi_epi8(a[i], a[i + 8]);
    }
    for (int i = 0; i < 16; i++) a[i] = b[i];
  }
  for (int i = 0; i < 16; i++) _mm_storeu_si128((__m128i*)(void*)out[i], a[i]);
}
#elif defined(__aarch64__)
#include <arm_neon.h>
static inline void qb_u8_transpose16(const uint8_t in[16][16], uint8_t out[16][16]) {
  uint8x16_t a[16], b[16];
  for (int i = 0; i < 16; i++) a[i] = vld1q_u8(in[i]);
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < 8; i++) {
      b[2 * i] = vzip1q_u8(a[i], a[i + 8]);
      b[2 * i + 1] = vzip2q_u8(a[i], a[i + 8]);
    }
    for (int i = 0; i < 16; i++) a[i] = b[i];
  }
  for (int i = 0; i < 16; i++) vst1q_u8(out[i], a[i]);
}
#else
static inline void qb_u8_transpose16(const uint8_t in[16][16], uint8_t out[16][16]) {
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 16; j++) out[j][i] = in[i][j];
}
#endif

#endif /* QB_U8_TRANSPOSE16_H */
