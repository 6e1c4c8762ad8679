/* SIMD uint8 im2col (kernels/im2col): the P x K column matrix of
 * qb_qu8_im2col_rows__scalar (kernels/qb_kernels.h), rows [p0, p1), byte for byte.
 *
 * Method (qb_im2col_driver.h): output rows are taken 16 pixels at a time along one
 * output row (ow0 .. ow0+15) and columns 16 at a time. For one column k = (c, kh, kw)
 * the 16 pixels' bytes are one input-row segment: 16 consecutive bytes for
 * stride_w 1 (a plain load), the even bytes of 32 for stride_w 2; a segment that
 * touches the padding, another stride, or a row in the vertical padding is
 * filled byte by byte with the reference's rule (pad_value outside). The 16 x 16
 * block (columns x pixels) is then transposed in registers (four rounds of byte
 * interleaves) and stored as 16 rows of 16 bytes. A 1x1 stride-1 convolution is
 * exactly a transpose of the C x HW image. The x86 entry is SSE4.1 (128-bit
 * transposes; AVX2 / AVX-512 tables fall back to it). */
#ifndef QB_IM2COL_H
#define QB_IM2COL_H

#include "qb_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__x86_64__) || defined(__i386__)
void qb_qu8_im2col__sse41(const qb_conv2d_shape* s, const uint8_t* image, size_t group,
                          uint8_t pad_value, size_t p0, size_t p1, uint8_t* columns);
#endif
#if defined(__aarch64__)
void qb_qu8_im2col__neon(const qb_conv2d_shape* s, const uint8_t* image, size_t group,
                         uint8_t pad_value, size_t p0, size_t p1, uint8_t* columns);
#endif

#ifdef __cplusplus
}
#endif
#endif /* QB_IM2COL_H */
