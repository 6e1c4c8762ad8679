/* Fake quantization and the straight-through estimator:
 *  - weights: per-channel symmetric restricted grid, scale = max|w_c| / qmax, the
 *    output equals the reference kernels' quantize -> dequantize, no weight clipped;
 *    per-group grids along the row, scale = max|w_g| / qmax per group;
 *    non-restricted symmetric min-max puts max|w| on the +2^(b-1) tie, so exactly that
 *    weight is clipped and its gradient zeroed;
 *  - activations: the first batch sets the range, later batches move it by 1 %;
 *    values outside the grid are clamped and their gradient is zeroed, values inside
 *    pass their gradient unchanged (the STE mask). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_fakequant.h"
#include "qb_qconfig.h"
#include "qb_kernels.h"
#include "qb_test.h"

static qb_tensor_qspec weight_spec(int bits, const char* granularity, bool restricted) {
  qb_qconfig qc;
  char text[96];
  snprintf(text, sizeof text, "w%d-sym-%s%s/a8", bits, granularity,
           restricted ? "-restricted" : "");
  qb_error err;
  QB_CHECK(qb_qconfig_parse(text, &qc, &err) == 0);
  return qc.weight;
}

static void test_weights(int bits) {
  const size_t channels = 5, chunk = 13, count = channels * chunk;
  float w[5 * 13];
  for (size_t i = 0; i < count; i++) w[i] = qb_rand_normal() * (float)(1 + i / chunk);
  const qb_tensor_qspec spec = weight_spec(bits, "channel", true);
  qb_fakequant* fq = qb_fakequant_new_weight(&spec, channels, count, NULL);
  QB_CHECK(fq != NULL);
  const float* out = qb_fakequant_forward(fq, w, count, 1);
  QB_CHECK(out != NULL);
  if (!out) return;
  const int32_t qmax = (1 << (bits - 1)) - 1;
  for (size_t c = 0; c < channels; c++) {
    float amax = 0;
    for (size_t i = 0; i < chunk; i++) amax = fmaxf(amax, fabsf(w[c * chunk + i]));
    const qb_qparams p = fq->grid.params[c];
    QB_CHECK_EQ_F32(p.scale, amax / (float)qmax);
    QB_CHECK_EQ_INT(p.zero_point, 0);
    int32_t q[13];
    float deq[13];
    qb_f32_qs32_quantize__scalar(chunk, w + c * chunk, p.scale, 0, -qmax, qmax, QB_ROUND_DIV, q);
    qb_qs32_f32_dequantize__scalar(chunk, q, p.scale, 0, deq);
    for (size_t i = 0; i < chunk; i++) QB_CHECK_EQ_F32(out[c * chunk + i], deq[i]);
  }
  float grad[5 * 13];
  for (size_t i = 0; i < count; i++) grad[i] = 1.0f + (float)i;
  qb_fakequant_backward(fq, grad, count);
  for (size_t i = 0; i < count; i++) QB_CHECK_EQ_F32(grad[i], 1.0f + (float)i);
  qb_fakequant_free(fq);
}

/* Groups of 4 along each row of 3 x 10 (the last group of a row has 2 values). */
static void test_weight_groups(void) {
  const size_t rows = 3, cols = 10;
  float w[30];
  for (size_t i = 0; i < rows * cols; i++) w[i] = qb_rand_normal() * (float)(1 + i % 7);
  const qb_tensor_qspec spec = weight_spec(4, "group:4", true);
  qb_fakequant* fq = qb_fakequant_new_weight(&spec, rows, rows * cols, NULL);
  QB_CHECK(fq != NULL);
  if (!fq) return;
  const float* out = qb_fakequant_forward(fq, w, rows * cols, 1);
  QB_CHECK(out != NULL && fq->grid.layout.nunits == 9);
  for (size_t r = 0; out && r < rows; r++)
    for (size_t g = 0; g < 3; g++) {
      const size_t lo = g * 4, hi = lo + 4 < cols ? lo + 4 : cols;
      float amax = 0;
      for (size_t k = lo; k < hi; k++) amax = fmaxf(amax, fabsf(w[r * cols + k]));
      const float scale = amax / 7.0f;
      for (size_t k = lo; k < hi; k++) {
        int q = (int)rintf(w[r * cols + k] / scale);
        q = q < -7 ? -7 : (q > 7 ? 7 : q);
        QB_CHECK_EQ_F32(out[r * cols + k], (float)q * scale);
      }
    }
  qb_fakequant_free(fq);
}

/* Symmetric min-max without restriction: scale = max|w| / 7.5 at 4 bits, so max|w|
 * rounds to 8 > qmax = 7: clipped, and only it. */
static void test_weight_tie_clipped(void) {
  float w[8] = {0.1f, -0.3f, 0.75f, 0.2f, -0.05f, 0.4f, -0.6f, 0.33f};
  const qb_tensor_qspec spec = weight_spec(4, "tensor", false);
  qb_fakequant* fq = qb_fakequant_new_weight(&spec, 2, 8, NULL);
  QB_CHECK(fq != NULL);
  if (!fq) return;
  const float* out = qb_fakequant_forward(fq, w, 8, 1);
  QB_CHECK(out != NULL);
  QB_CHECK_EQ_F32(fq->grid.params[0].scale, 0.75f / 7.5f);
  float grad[8];
  for (int i = 0; i < 8; i++) grad[i] = 1.0f;
  qb_fakequant_backward(fq, grad, 8);
  for (int i = 0; i < 8; i++) QB_CHECK_EQ_F32(grad[i], i == 2 ? 0.0f : 1.0f);
  if (out) QB_CHECK_EQ_F32(out[2], 7.0f * (0.75f / 7.5f));
  qb_fakequant_free(fq);
}

static void test_activations(void) {
  const qb_qscheme u8 = {.bits = 8, .is_signed = false, .symmetry = QB_AFFINE,
                         .rounding = QB_ROUND_DIV};
  qb_fakequant* fq = qb_fakequant_new_act(&u8, QB_RANGE_MOVAVG, 64, NULL);
  QB_CHECK(fq != NULL);
  float x[64];
  for (int i = 0; i < 64; i++) x[i] = -1.0f + 4.0f * (float)i / 63.0f; /* [-1, 3] */
  QB_CHECK(qb_fakequant_forward(fq, x, 64, 0) == NULL); /* no range observed yet */
  const float* out = qb_fakequant_forward(fq, x, 64, 1);
  QB_CHECK(out != NULL);
  QB_CHECK_EQ_F32(fq->run_min, -1.0f);
  QB_CHECK_EQ_F32(fq->run_max, 3.0f);
  /* affine u8: scale 4/255, zero point round(255/4) = 64 (63.75 -> 64) */
  QB_CHECK_EQ_F32(fq->act_qp.scale, 4.0f / 255.0f);
  QB_CHECK_EQ_INT(fq->act_qp.zero_point, 64);
  for (int i = 0; i < 64; i++) QB_CHECK(fabsf(out[i] - x[i]) <= 0.5f * fq->act_qp.scale + 1e-6f);
  /* A wider batch moves the range 1 % of the way. */
  float wide[64];
  for (int i = 0; i < 64; i++) wide[i] = x[i] * 3.0f; /* [-3, 9] */
  out = qb_fakequant_forward(fq, wide, 64, 1);
  QB_CHECK(out != NULL);
  QB_CHECK(fabsf(fq->run_min - (-1.0f - 0.02f)) < 1e-6f);
  QB_CHECK(fabsf(fq->run_max - (3.0f + 0.06f)) < 1e-6f);
  /* Gradient: 1 inside the representable range, 0 where clipped. */
  float lo, hi;
  qb_qparams_representable(&fq->spec.scheme, fq->act_qp, &lo, &hi);
  float grad[64];
  for (int i = 0; i < 64; i++) grad[i] = 2.0f;
  qb_fakequant_backward(fq, grad, 64);
  int clipped = 0, passed = 0;
  for (int i = 0; i < 64; i++) {
    const int outside = wide[i] < lo - 0.5f * fq->act_qp.scale || wide[i] > hi + 0.5f * fq->act_qp.scale;
    if (outside) {
      QB_CHECK_EQ_F32(grad[i], 0.0f);
      QB_CHECK(out[i] == lo || out[i] == hi);
      clipped++;
    } else if (fabsf(wide[i] - lo) > fq->act_qp.scale && fabsf(wide[i] - hi) > fq->act_qp.scale) {
      QB_CHECK_EQ_F32(grad[i], 2.0f);
      passed++;
    }
  }
  QB_CHECK(clipped > 10 && passed > 10);
  qb_fakequant_free(fq);
}

/* The min-max observer keeps the union of the ranges seen; frozen, nothing moves it
 * and values outside are clamped. Other range strategies are refused. */
static void test_minmax_observer_and_freeze(void) {
  const qb_qscheme u8 = {.bits = 8, .is_signed = false, .symmetry = QB_AFFINE,
                         .rounding = QB_ROUND_DIV};
  QB_CHECK(qb_fakequant_new_act(&u8, QB_RANGE_MSE, 8, NULL) == NULL);
  qb_fakequant* fq = qb_fakequant_new_act(&u8, QB_RANGE_MINMAX, 8, NULL);
  QB_CHECK(fq != NULL);
  if (!fq) return;
  const float a[4] = {-1.0f, 0.5f, 2.0f, 0.0f}, b[4] = {-0.5f, 3.0f, 1.0f, 0.0f};
  QB_CHECK(qb_fakequant_forward(fq, a, 4, 1) != NULL);
  QB_CHECK(qb_fakequant_forward(fq, b, 4, 1) != NULL);
  QB_CHECK_EQ_F32(fq->run_min, -1.0f);
  QB_CHECK_EQ_F32(fq->run_max, 3.0f);
  fq->frozen = 1;
  const float wide[4] = {-8.0f, 9.0f, 1.0f, 0.0f};
  const float* out = qb_fakequant_forward(fq, wide, 4, 1);
  QB_CHECK_EQ_F32(fq->run_min, -1.0f);
  QB_CHECK_EQ_F32(fq->run_max, 3.0f);
  float lo, hi;
  qb_qparams_representable(&fq->spec.scheme, fq->act_qp, &lo, &hi);
  QB_CHECK(out && out[0] == lo && out[1] == hi);
  qb_fakequant_free(fq);
}

int main(void) {
  qb_test_seed(17);
  test_weights(4);
  test_weights(8);
  test_weight_groups();
  test_weight_tie_clipped();
  test_activations();
  test_minmax_observer_and_freeze();
  return qb_test_finish("test_train_fakequant");
}
