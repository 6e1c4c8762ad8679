/* Fake quantization with the straight-through estimator. See qb_fakequant.h. */
#include "qb_fakequant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static qb_fakequant* fq_alloc(size_t units, size_t capacity) {
  qb_fakequant* fq = calloc(1, sizeof *fq);
  if (!fq) return NULL;
  fq->qp = calloc(units, sizeof *fq->qp);
  fq->out = malloc((capacity ? capacity : 1) * sizeof *fq->out);
  fq->mask = malloc(capacity ? capacity : 1);
  fq->capacity = capacity;
  fq->averaging = 0.01f;
  if (!fq->qp || !fq->out || !fq->mask) {
    qb_fakequant_free(fq);
    return NULL;
  }
  return fq;
}

qb_fakequant* qb_fakequant_new_weight(int bits, size_t channels, size_t count) {
  qb_fakequant* fq = fq_alloc(channels, count);
  if (!fq) return NULL;
  fq->is_weight = 1;
  fq->scheme = (qb_qscheme){.bits = bits, .is_signed = true, .restricted = true,
                            .symmetry = QB_SYMMETRIC, .rounding = QB_ROUND_DIV};
  fq->channels = channels;
  fq->chunk = count / channels;
  return fq;
}

qb_fakequant* qb_fakequant_new_act(int bits, size_t capacity) {
  qb_fakequant* fq = fq_alloc(1, capacity);
  if (!fq) return NULL;
  fq->scheme = (qb_qscheme){.bits = bits, .is_signed = false, .restricted = false,
                            .symmetry = QB_AFFINE, .rounding = QB_ROUND_DIV};
  fq->channels = 1;
  return fq;
}

void qb_fakequant_free(qb_fakequant* fq) {
  if (!fq) return;
  free(fq->qp), free(fq->out), free(fq->mask), free(fq);
}

/* round_half_even(x / scale) + zp, before clamping (rintf: the default rounding
 * mode is to nearest, ties to even). */
static float code_of(float x, qb_qparams p) { return rintf(x / p.scale) + (float)p.zero_point; }

static void fake_quantize_unit(const qb_fakequant* fq, qb_qparams p, const float* x, size_t n,
                               float* out, uint8_t* mask) {
  const float qmin = (float)qb_qscheme_qmin(&fq->scheme);
  const float qmax = (float)qb_qscheme_qmax(&fq->scheme);
  for (size_t i = 0; i < n; i++) {
    const float c = code_of(x[i], p);
    const float q = c < qmin ? qmin : (c > qmax ? qmax : c);
    mask[i] = c >= qmin && c <= qmax;
    out[i] = (q - (float)p.zero_point) * p.scale;
  }
}

static int observe_batch(qb_fakequant* fq, const float* x, size_t count) {
  float lo = x[0], hi = x[0];
  for (size_t i = 1; i < count; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  if (!isfinite(lo) || !isfinite(hi)) return -1;
  if (!fq->observed) {
    fq->run_min = lo, fq->run_max = hi, fq->observed = 1;
  } else {
    fq->run_min += fq->averaging * (lo - fq->run_min);
    fq->run_max += fq->averaging * (hi - fq->run_max);
  }
  return 0;
}

const float* qb_fakequant_forward(qb_fakequant* fq, const float* x, size_t count, int observe) {
  if (count > fq->capacity || count == 0) return NULL;
  qb_error err;
  if (fq->is_weight) {
    if (count != fq->channels * fq->chunk) return NULL;
    for (size_t c = 0; c < fq->channels; c++) {
      const float* w = x + c * fq->chunk;
      float amax = 0.0f;
      for (size_t i = 0; i < fq->chunk; i++) amax = fabsf(w[i]) > amax ? fabsf(w[i]) : amax;
      if (qb_qparams_from_range(&fq->scheme, -amax, amax, &fq->qp[c], &err) != 0) return NULL;
      fake_quantize_unit(fq, fq->qp[c], w, fq->chunk, fq->out + c * fq->chunk,
                         fq->mask + c * fq->chunk);
    }
    return fq->out;
  }
  if (observe && observe_batch(fq, x, count) != 0) return NULL;
  if (!fq->observed) return NULL; /* evaluating before any calibration */
  if (qb_qparams_from_range(&fq->scheme, fq->run_min, fq->run_max, &fq->qp[0], &err) != 0)
    return NULL;
  fake_quantize_unit(fq, fq->qp[0], x, count, fq->out, fq->mask);
  return fq->out;
}

void qb_fakequant_backward(const qb_fakequant* fq, float* grad, size_t count) {
  for (size_t i = 0; i < count && i < fq->capacity; i++)
    if (!fq->mask[i]) grad[i] = 0.0f;
}

void qb_fakequant_codes(const qb_fakequant* fq, const float* x, size_t count, int32_t* q) {
  const float qmin = (float)qb_qscheme_qmin(&fq->scheme);
  const float qmax = (float)qb_qscheme_qmax(&fq->scheme);
  const size_t chunk = fq->is_weight ? fq->chunk : count;
  for (size_t i = 0; i < count; i++) {
    const float c = code_of(x[i], fq->qp[fq->is_weight ? i / chunk : 0]);
    q[i] = (int32_t)(c < qmin ? qmin : (c > qmax ? qmax : c));
  }
}
