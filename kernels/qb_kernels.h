/* qbench low-precision kernels: types and the scalar reference (the spec).
 *
 * Naming follows XNNPACK: qb_<input types>_<op>[_<requant>][_<tile>]__<isa>.
 *   f32  float32          qs8 / qu8   signed / unsigned 8-bit quantized
 *   qs32 int32 accumulator  qs16 / qu16 16-bit quantized   q4 / q2 packed 4 / 2-bit
 * The double underscore separates the ISA token (scalar, sse41, avx2, avx512vnni,
 * neon, neondot). Every SIMD kernel of a family has the prototype of its scalar
 * kernel and must produce bit-identical integer outputs.
 *
 * Conventions shared by every kernel:
 *   - matrices are row-major; `ld*` are row strides in elements;
 *   - GEMM weights are stored N x K ("one row per output channel"), as deployed
 *     int8 runtimes keep them; activations are M x K; outputs M x N;
 *   - zero points are int32 and per output channel where an array is taken
 *     (pass an array filled with one value for per-tensor);
 *   - no kernel allocates, no kernel fails: shapes are checked by the caller.
 */
#ifndef QB_KERNELS_H
#define QB_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How x/scale is rounded to an integer. Both round half to even; they differ in
 * how the quotient is formed, which matters exactly at ties:
 *   QB_ROUND_DIV        round(x / scale)        ONNX QuantizeLinear, TFLite
 *   QB_ROUND_MUL_RECIP  round(x * (1/scale))    PyTorch quantize_per_tensor, FBGEMM
 * With scale = amax/127.5 the extreme value sits on a tie (±127.5), and the two
 * conventions may resolve it one step apart. */
typedef enum { QB_ROUND_DIV = 0, QB_ROUND_MUL_RECIP = 1 } qb_round_mode;

/* ---------------------------------------------------------------- quantize */
/* y[i] = clamp(round_half_even(x[i] / scale) + zero_point, qmin, qmax)
 * (or x[i] * (1/scale) with QB_ROUND_MUL_RECIP). qmin/qmax give the bit width:
 * e.g. -8..7 for signed 4-bit stored one value per byte. x must be finite. */
void qb_f32_qs8_quantize__scalar(size_t n, const float* x, float scale, int32_t zero_point,
                                 int32_t qmin, int32_t qmax, qb_round_mode mode, int8_t* y);
void qb_f32_qu8_quantize__scalar(size_t n, const float* x, float scale, int32_t zero_point,
                                 int32_t qmin, int32_t qmax, qb_round_mode mode, uint8_t* y);
void qb_f32_qs16_quantize__scalar(size_t n, const float* x, float scale, int32_t zero_point,
                                  int32_t qmin, int32_t qmax, qb_round_mode mode, int16_t* y);
void qb_f32_qu16_quantize__scalar(size_t n, const float* x, float scale, int32_t zero_point,
                                  int32_t qmin, int32_t qmax, qb_round_mode mode, uint16_t* y);
/* The same rule into int32 storage, for any bit width (used by the quantizer core). */
void qb_f32_qs32_quantize__scalar(size_t n, const float* x, float scale, int32_t zero_point,
                                  int32_t qmin, int32_t qmax, qb_round_mode mode, int32_t* y);

/* -------------------------------------------------------------- dequantize */
/* y[i] = (float)(q[i] - zero_point) * scale   (one rounding: the product) */
void qb_qs8_f32_dequantize__scalar(size_t n, const int8_t* q, float scale, int32_t zero_point, float* y);
void qb_qu8_f32_dequantize__scalar(size_t n, const uint8_t* q, float scale, int32_t zero_point, float* y);
void qb_qs32_f32_dequantize__scalar(size_t n, const int32_t* q, float scale, int32_t zero_point, float* y);

/* ----------------------------------------------------------------- packing */
/* 4-bit: two values per byte, element 2i in bits 0..3 (low nibble), element 2i+1 in
 * bits 4..7; signed values in two's complement (-8..7), unsigned 0..15. An odd
 * count leaves the last high nibble zero. Output size: (n + 1) / 2 bytes.
 * 2-bit: four values per byte, element 4i+j in bits 2j..2j+1 (-2..1 or 0..3);
 * output (n + 3) / 4 bytes, unused high bits zero. Values outside the range are
 * truncated to their low bits (the caller clamps first). */
void qb_qs8_q4_pack__scalar(size_t n, const int8_t* x, uint8_t* packed);
void qb_q4_qs8_unpack__scalar(size_t n, const uint8_t* packed, int8_t* x);  /* sign-extends */
void qb_qu8_q4_pack__scalar(size_t n, const uint8_t* x, uint8_t* packed);
void qb_q4_qu8_unpack__scalar(size_t n, const uint8_t* packed, uint8_t* x);
void qb_qs8_q2_pack__scalar(size_t n, const int8_t* x, uint8_t* packed);
void qb_q2_qs8_unpack__scalar(size_t n, const uint8_t* packed, int8_t* x);
void qb_qu8_q2_pack__scalar(size_t n, const uint8_t* x, uint8_t* packed);
void qb_q2_qu8_unpack__scalar(size_t n, const uint8_t* packed, uint8_t* x);

/* -------------------------------------------------------------- int8 GEMM */
/* C[m][n] = sum_k (A[m][k] - a_zero_point) * (B[n][k] - b_zero_point[n])
 * with A: M x K (lda), B: N x K (ldb), C: M x N int32 (ldc). Exact in int32 for
 * K <= 2^31 / 255^2 = 33025. See kernels/ref/gemm__scalar.c for the gemmlowp
 * offset decomposition that SIMD kernels use. */
void qb_qu8_qs8_qs32_gemm__scalar(size_t M, size_t N, size_t K,
                                  const uint8_t* A, size_t lda, int32_t a_zero_point,
                                  const int8_t* B, size_t ldb, const int32_t* b_zero_point,
                                  int32_t* C, size_t ldc);
void qb_qs8_qs8_qs32_gemm__scalar(size_t M, size_t N, size_t K,
                                  const int8_t* A, size_t lda, int32_t a_zero_point,
                                  const int8_t* B, size_t ldb, const int32_t* b_zero_point,
                                  int32_t* C, size_t ldc);
void qb_qu8_qu8_qs32_gemm__scalar(size_t M, size_t N, size_t K,
                                  const uint8_t* A, size_t lda, int32_t a_zero_point,
                                  const uint8_t* B, size_t ldb, const int32_t* b_zero_point,
                                  int32_t* C, size_t ldc);

/* ----------------------------------------------------------- requantize */
/* fp32 path (XNNPACK "fp32" requantization):
 *   y = clamp(round_half_even((float)(acc + bias[n]) * scale[n]) + zero_point, qmin, qmax)
 * where the float conversion of acc rounds to nearest even when |acc| > 2^24.
 * acc is M x N (ldacc), y M x N (ldy); bias may be NULL; scale has N entries. */
void qb_qs32_qs8_requantize_fp32__scalar(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                         const int32_t* bias, const float* scale,
                                         int32_t zero_point, int32_t qmin, int32_t qmax,
                                         int8_t* y, size_t ldy);
void qb_qs32_qu8_requantize_fp32__scalar(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                         const int32_t* bias, const float* scale,
                                         int32_t zero_point, int32_t qmin, int32_t qmax,
                                         uint8_t* y, size_t ldy);

/* Fixed-point path (TFLite / gemmlowp MultiplyByQuantizedMultiplier): a real
 * multiplier 0 < r < 2^31 is encoded as r = multiplier * 2^(shift - 31) with
 * multiplier in [2^30, 2^31) and shift in [-31, 30]. Then
 *   y = clamp(RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(
 *             (acc + bias) * 2^max(shift,0), multiplier), max(-shift,0)) + zero_point)
 * See kernels/ref/requantize__scalar.c for the two rounding primitives. */
typedef struct {
  int32_t multiplier; /* Q31, in [2^30, 2^31) (0 for a zero multiplier) */
  int32_t shift;      /* left shift if > 0, rounding right shift if < 0 */
} qb_fixedpoint_multiplier;

/* Encode a positive real multiplier (TFLite QuantizeMultiplier, frexp-based). */
qb_fixedpoint_multiplier qb_fixedpoint_multiplier_from_double(double real_multiplier);

void qb_qs32_qs8_requantize_gemmlowp__scalar(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                             const int32_t* bias,
                                             const qb_fixedpoint_multiplier* multiplier,
                                             int32_t zero_point, int32_t qmin, int32_t qmax,
                                             int8_t* y, size_t ldy);
void qb_qs32_qu8_requantize_gemmlowp__scalar(size_t M, size_t N, const int32_t* acc, size_t ldacc,
                                             const int32_t* bias,
                                             const qb_fixedpoint_multiplier* multiplier,
                                             int32_t zero_point, int32_t qmin, int32_t qmax,
                                             uint8_t* y, size_t ldy);

/* ------------------------------------------- int4 weight-only GEMM / GEMV */
/* Weights W: N x K packed 4-bit, each row padded to whole bytes (row stride
 * (K + 1) / 2 bytes), grouped along K in groups of G (the last group of a row may
 * be short); ngroups = ceil(K / G), scale[n * ngroups + g].
 * Symmetric: zero_point == NULL, nibbles are signed (-8..7, qb_qs8_q4_pack layout).
 * Affine: zero_point[n * ngroups + g] in 0..15, nibbles unsigned (0..15,
 * qb_qu8_q4_pack layout).
 *
 * W4A32 (fp32 activations):
 *   y[m][n] = sum_g scale[n,g] * ( sum_{k in g} x[m][k] * (float)(w[n][k] - zp[n,g]) )
 * fp32, summed in increasing k inside a group and increasing g across groups,
 * separate multiply and add (no FMA): the order is part of the spec. */
void qb_f32_q4_f32_wgemm__scalar(size_t M, size_t N, size_t K, size_t G,
                                 const float* x, size_t ldx,
                                 const uint8_t* w, const float* scale, const int8_t* zero_point,
                                 float* y, size_t ldy);

/* W4A8 (activations dynamically quantized to int8, symmetric, one scale per row):
 *   xq[m][k] = clamp(round_half_even(x[m][k] / sx[m]), -127, 127), sx[m] = amax_m / 127
 *   acc[g]   = sum_{k in g} xq[m][k] * (w[n][k] - zp[n,g])          (exact int32)
 *   y[m][n]  = sx[m] * ( sum_g (float)acc[g] * scale[n,g] )        (fp32, g increasing)
 * The quantized rows and their scales are written to xq (M x K, ldxq = K) and sx
 * so callers can inspect them. A row of zeros gets sx = 1. */
void qb_f32_qs8_rowquantize__scalar(size_t M, size_t K, const float* x, size_t ldx,
                                    int8_t* xq, float* sx);
void qb_qs8_q4_f32_wgemm__scalar(size_t M, size_t N, size_t K, size_t G,
                                 const int8_t* xq, const float* sx,
                                 const uint8_t* w, const float* scale, const int8_t* zero_point,
                                 float* y, size_t ldy);

/* ------------------------------------------------------------ convolution */
/* 2-D convolution geometry, NCHW, ONNX semantics (pads: top, left, bottom, right). */
typedef struct {
  size_t batch, in_channels, in_h, in_w;
  size_t out_channels, kernel_h, kernel_w;
  size_t stride_h, stride_w, dilation_h, dilation_w;
  size_t pad_top, pad_left, pad_bottom, pad_right;
  size_t groups;
} qb_conv2d_shape;

size_t qb_conv2d_out_h(const qb_conv2d_shape* s);
size_t qb_conv2d_out_w(const qb_conv2d_shape* s);

/* im2col for one image and one group: column matrix of (out_h*out_w) rows x
 * (in_channels/groups * kernel_h * kernel_w) columns, column index
 * (c * kernel_h + kh) * kernel_w + kw, matching ONNX weight layout
 * [out_channels][in_channels/groups][kh][kw]. Padding positions get pad_value
 * (the input zero point, so padding contributes zero after offset subtraction). */
void qb_qu8_im2col__scalar(const qb_conv2d_shape* s, const uint8_t* image, size_t group,
                           uint8_t pad_value, uint8_t* columns);
/* The same matrix, rows [p0, p1) only (p = oh * out_w + ow), written at their place
 * in the full matrix (row p at columns + p * K): rows are independent, so callers
 * split [0, out_h * out_w) across threads. qb_qu8_im2col__scalar is rows [0, P). */
void qb_qu8_im2col_rows__scalar(const qb_conv2d_shape* s, const uint8_t* image, size_t group,
                                uint8_t pad_value, size_t p0, size_t p1, uint8_t* columns);

/* Quantized conv via im2col + qb_qu8_qs8_qs32_gemm / qb_qu8_qu8_qs32_gemm:
 * out[b][oc][oh][ow] = sum (x - x_zero_point) * (w - w_zero_point[oc]), int32.
 * `scratch` must hold out_h*out_w*(in_channels/groups)*kernel_h*kernel_w bytes. */
void qb_qu8_qs8_qs32_conv2d_im2col__scalar(const qb_conv2d_shape* s, const uint8_t* x,
                                           int32_t x_zero_point, const int8_t* w,
                                           const int32_t* w_zero_point, int32_t* out,
                                           uint8_t* scratch);
void qb_qu8_qu8_qs32_conv2d_im2col__scalar(const qb_conv2d_shape* s, const uint8_t* x,
                                           int32_t x_zero_point, const uint8_t* w,
                                           const int32_t* w_zero_point, int32_t* out,
                                           uint8_t* scratch);

/* Direct depthwise conv (groups == in_channels == out_channels / multiplier),
 * same output definition, no scratch. */
void qb_qu8_qs8_qs32_dwconv2d__scalar(const qb_conv2d_shape* s, const uint8_t* x,
                                      int32_t x_zero_point, const int8_t* w,
                                      const int32_t* w_zero_point, int32_t* out);

/* Depthwise conv with the fp32 requantization fused (XNNPACK's
 * qu8_dwconv_minmax_fp32; the deployed form of a QDQ depthwise Conv + Relu/Clip):
 *   y[b][c][oh][ow] = clamp(round_half_even((float)(acc + bias[c]) * scale[c]) + y_zero_point,
 *                           qmin, qmax)
 * with acc[b][c][oh][ow] exactly qb_qu8_qs8_qs32_dwconv2d__scalar's output and the
 * requantization exactly qb_qs32_qu8_requantize_fp32__scalar's rule (acc + bias
 * wraps in int32; bias may be NULL). Only output channels [c0, c1) of every image
 * are computed and written (y keeps the full NCHW layout), so callers can split
 * channels across threads; scale has one entry per output channel (fill it with
 * one value for per-tensor). A Relu / Relu6 / Clip after the conv is the clamp. */
void qb_qu8_qs8_qu8_dwconv2d_minmax_fp32__scalar(const qb_conv2d_shape* s, size_t c0, size_t c1,
                                                 const uint8_t* x, int32_t x_zero_point,
                                                 const int8_t* w, const int32_t* w_zero_point,
                                                 const int32_t* bias, const float* scale,
                                                 int32_t y_zero_point, int32_t qmin, int32_t qmax,
                                                 uint8_t* y);

/* The same with the gemmlowp fixed-point requantization fused (TFLite's depthwise
 * conv with MultiplyByQuantizedMultiplier; the static integer run's gemmlowp rule):
 *   y[b][c][oh][ow] = qb_qs32_qu8_requantize_gemmlowp__scalar's rule applied to
 *                     acc[b][c][oh][ow] with bias[c] and multiplier[c]
 * (acc as above; acc + bias wraps; bias may be NULL). Channels [c0, c1) only, as above. */
void qb_qu8_qs8_qu8_dwconv2d_minmax_gemmlowp__scalar(
    const qb_conv2d_shape* s, size_t c0, size_t c1, const uint8_t* x, int32_t x_zero_point,
    const int8_t* w, const int32_t* w_zero_point, const int32_t* bias,
    const qb_fixedpoint_multiplier* multiplier, int32_t y_zero_point, int32_t qmin, int32_t qmax,
    uint8_t* y);

#ifdef __cplusplus
}
#endif
#endif /* QB_KERNELS_H */
