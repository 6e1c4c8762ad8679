/* Reference int4 weight-only GEMM / GEMV with per-group scales.
 *
 * A weight row n is K 4-bit values in groups of G along K; group g covers
 * k in [g*G, min(K, (g+1)*G)). Dequantized weight: scale[n,g] * (w[n][k] - zp[n,g]).
 *
 * W4A32 factors the scale out of the group sum (one multiply per group, as fast
 * kernels do), and fixes the fp32 summation order: k increasing inside a group,
 * g increasing across groups, each step one fused multiply-add (fmaf: one rounding,
 * as the fp32 GEMM's reference). A SIMD kernel that vectorizes across n keeps that
 * order and is bit-exact; one that splits the k sum is not, and must say so.
 * Why fused: the fast kernels are FMA chains, and a separate multiply and add costs
 * them two instructions per term: on Intel cores the add shares the FMA ports (half
 * the fp32 ceiling at most), on Zen 1 a 256-bit op is two macro-ops (measured: a
 * 6 x 16 mul + add tile 0.68x the same tile with vfmadd231ps). Backends without FMA
 * (SSE4.1) take this reference.
 *
 * W4A8 quantizes each activation row symmetrically to int8 (-127..127, scale
 * amax/127, round half to even of x / scale), accumulates each group exactly in
 * int32, then applies sx[m] * sum_g (float)acc_g * scale[n,g] in fp32. */
#include <math.h>

#include "qb_kernels.h"
#include "qb_ref_math.h"

/* Weight value w[n][k] - zp[n,g] from a packed row. */
static int32_t weight_minus_zp(const uint8_t* row, size_t k, const int8_t* zp_row, size_t g) {
  const unsigned nibble = (row[k / 2] >> ((k % 2) * 4)) & 0xF;
  if (zp_row == NULL) return (int32_t)((int)(nibble ^ 8u) - 8); /* signed -8..7 */
  return (int32_t)nibble - zp_row[g];
}

void qb_f32_q4_f32_wgemm__scalar(size_t M, size_t N, size_t K, size_t G, const float* x,
                                 size_t ldx, const uint8_t* w, const float* scale,
                                 const int8_t* zero_point, float* y, size_t ldy) {
  const size_t ngroups = (K + G - 1) / G, row_bytes = (K + 1) / 2;
  for (size_t m = 0; m < M; m++)
    for (size_t n = 0; n < N; n++) {
      const uint8_t* row = w + n * row_bytes;
      const int8_t* zp_row = zero_point ? zero_point + n * ngroups : NULL;
      float total = 0.0f;
      for (size_t g = 0; g < ngroups; g++) {
        const size_t k_end = (g + 1) * G < K ? (g + 1) * G : K;
        float group_sum = 0.0f;
        for (size_t k = g * G; k < k_end; k++)
          group_sum = qb_fmaf(x[m * ldx + k], (float)weight_minus_zp(row, k, zp_row, g), group_sum);
        total = qb_fmaf(scale[n * ngroups + g], group_sum, total);
      }
      y[m * ldy + n] = total;
    }
}

void qb_f32_qs8_rowquantize__scalar(size_t M, size_t K, const float* x, size_t ldx,
                                    int8_t* xq, float* sx) {
  for (size_t m = 0; m < M; m++) {
    float amax = 0.0f;
    for (size_t k = 0; k < K; k++) amax = fmaxf(amax, fabsf(x[m * ldx + k]));
    const float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
    sx[m] = scale;
    qb_f32_qs8_quantize__scalar(K, x + m * ldx, scale, 0, -127, 127, QB_ROUND_DIV, xq + m * K);
  }
}

void qb_qs8_q4_f32_wgemm__scalar(size_t M, size_t N, size_t K, size_t G, const int8_t* xq,
                                 const float* sx, const uint8_t* w, const float* scale,
                                 const int8_t* zero_point, float* y, size_t ldy) {
  const size_t ngroups = (K + G - 1) / G, row_bytes = (K + 1) / 2;
  for (size_t m = 0; m < M; m++)
    for (size_t n = 0; n < N; n++) {
      const uint8_t* row = w + n * row_bytes;
      const int8_t* zp_row = zero_point ? zero_point + n * ngroups : NULL;
      float total = 0.0f;
      for (size_t g = 0; g < ngroups; g++) {
        const size_t k_end = (g + 1) * G < K ? (g + 1) * G : K;
        int32_t acc = 0;
        for (size_t k = g * G; k < k_end; k++)
          acc += (int32_t)xq[m * K + k] * weight_minus_zp(row, k, zp_row, g);
        total += (float)acc * scale[n * ngroups + g];
      }
      y[m * ldy + n] = sx[m] * total;
    }
}
