/* Fake quantization and the straight-through estimator:
 *  - weights: per-channel symmetric restricted grid, scale = max|w_c| / qmax, the
 *    output equals the reference kernels' quantize -> dequantize, no weight clipped;
 *  - activations: the first batch sets the range, later batches move it by 1 %;
 *    values outside the grid are clamped and their gradient is zeroed, values inside
 *    pass their gradient unchanged (the STE mask). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_fakequant.h"
#include "qb_kernels.h"
#include "qb_test.h"

static void test_weights(int bits) {
  const size_t channels = 5, chunk = 13, count = channels * chunk;
  float w[5 * 13];
  for (size_t i = 0; i < count; i++) w[i] = qb_rand_normal() * (float)(1 + i / chunk);
  qb_fakequant* fq = qb_fakequant_new_weight(bits, channels, count);
  QB_CHECK(fq != NULL);
  const float* out = qb_fakequant_forward(fq, w, count, 1);
  QB_CHECK(out != NULL);
  if (!out) return;
  const int32_t qmax = (1 << (bits - 1)) - 1;
  for (size_t c = 0; c < channels; c++) {
    float amax = 0;
    for (size_t i = 0; i < chunk; i++) amax = fmaxf(amax, fabsf(w[c * chunk + i]));
    QB_CHECK_EQ_F32(fq->qp[c].scale, amax / (float)qmax);
    QB_CHECK_EQ_INT(fq->qp[c].zero_point, 0);
    int32_t q[13];
    float deq[13];
    qb_f32_qs32_quantize__scalar(chunk, w + c * chunk, fq->qp[c].scale, 0, -qmax, qmax,
                                 QB_ROUND_DIV, q);
    qb_qs32_f32_dequantize__scalar(chunk, q, fq->qp[c].scale, 0, deq);
    for (size_t i = 0; i < chunk; i++) QB_CHECK_EQ_F32(out[c * chunk + i], deq[i]);
  }
  float grad[5 * 13];
  for (size_t i = 0; i < count; i++) grad[i] = 1.0f + (float)i;
  qb_fakequant_backward(fq, grad, count);
  for (size_t i = 0; i < count; i++) QB_CHECK_EQ_F32(grad[i], 1.0f + (float)i);
  qb_fakequant_free(fq);
}

static void test_activations(void) {
  qb_fakequant* fq = qb_fakequant_new_act(8, 64);
  QB_CHECK(fq != NULL);
  float x[64];
  for (int i = 0; i < 64; i++) x[i] = -1.0f + 4.0f * (float)i / 63.0f; /* [-1, 3] */
  QB_CHECK(qb_fakequant_forward(fq, x, 64, 0) == NULL); /* no range observed yet */
  const float* out = qb_fakequant_forward(fq, x, 64, 1);
  QB_CHECK(out != NULL);
  QB_CHECK_EQ_F32(fq->run_min, -1.0f);
  QB_CHECK_EQ_F32(fq->run_max, 3.0f);
  /* affine u8: scale 4/255, zero point round(255/4) = 64 (63.75 -> 64) */
  QB_CHECK_EQ_F32(fq->qp[0].scale, 4.0f / 255.0f);
  QB_CHECK_EQ_INT(fq->qp[0].zero_point, 64);
  for (int i = 0; i < 64; i++) QB_CHECK(fabsf(out[i] - x[i]) <= 0.5f * fq->qp[0].scale + 1e-6f);
  /* A wider batch moves the range 1 % of the way. */
  float wide[64];
  for (int i = 0; i < 64; i++) wide[i] = x[i] * 3.0f; /* [-3, 9] */
  out = qb_fakequant_forward(fq, wide, 64, 1);
  QB_CHECK(out != NULL);
  QB_CHECK(fabsf(fq->run_min - (-1.0f - 0.02f)) < 1e-6f);
  QB_CHECK(fabsf(fq->run_max - (3.0f + 0.06f)) < 1e-6f);
  /* Gradient: 1 inside the representable range, 0 where clipped. */
  float lo, hi;
  qb_qparams_representable(&fq->scheme, fq->qp[0], &lo, &hi);
  float grad[64];
  for (int i = 0; i < 64; i++) grad[i] = 2.0f;
  qb_fakequant_backward(fq, grad, 64);
  int clipped = 0, passed = 0;
  for (int i = 0; i < 64; i++) {
    const int outside = wide[i] < lo - 0.5f * fq->qp[0].scale || wide[i] > hi + 0.5f * fq->qp[0].scale;
    if (outside) {
      QB_CHECK_EQ_F32(grad[i], 0.0f);
      QB_CHECK(out[i] == lo || out[i] == hi);
      clipped++;
    } else if (fabsf(wide[i] - lo) > fq->qp[0].scale && fabsf(wide[i] - hi) > fq->qp[0].scale) {
      QB_CHECK_EQ_F32(grad[i], 2.0f);
      passed++;
    }
  }
  QB_CHECK(clipped > 10 && passed > 10);
  qb_fakequant_free(fq);
}

int main(void) {
  qb_test_seed(17);
  test_weights(4);
  test_weights(8);
  test_activations();
  return qb_test_finish("test_train_fakequant");
}
