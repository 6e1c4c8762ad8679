/* Fake quantization with the straight-through estimator. See qb_fakequant.h. */
#include "qb_fakequant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static qb_fakequant* fq_alloc(size_t capacity, qb_error* err) {
  qb_fakequant* fq = calloc(1, sizeof *fq);
  if (fq) {
    fq->out = malloc((capacity ? capacity : 1) * sizeof *fq->out);
    fq->mask = malloc(capacity ? capacity : 1);
    fq->capacity = capacity;
  }
  if (!fq || !fq->out || !fq->mask) {
    qb_fakequant_free(fq);
    qb_fail(err, "out of memory for fake quantization");
    return NULL;
  }
  return fq;
}

qb_fakequant* qb_fakequant_new_weight(const qb_tensor_qspec* spec, size_t rows, size_t count,
                                      qb_error* err) {
  if (rows == 0 || count % rows) {
    qb_fail(err, "fake quantization: %zu weights do not split into %zu rows", count, rows);
    return NULL;
  }
  if (qb_qscheme_check(&spec->scheme, err)) return NULL;
  qb_fakequant* fq = fq_alloc(count, err);
  if (!fq) return NULL;
  fq->is_weight = 1;
  fq->spec = *spec;
  /* As the runtime quantizes a weight: channels along rows, groups along the row. */
  fq->spec.granularity.axis = spec->granularity.kind == QB_PER_GROUP ? 1 : 0;
  fq->rows = rows;
  fq->cols = count / rows;
  return fq;
}

qb_fakequant* qb_fakequant_new_act(const qb_qscheme* scheme, qb_range_kind observer,
                                   size_t capacity, qb_error* err) {
  if (qb_qscheme_check(scheme, err)) return NULL;
  if (observer != QB_RANGE_MINMAX && observer != QB_RANGE_MOVAVG) {
    qb_fail(err, "fake quantization observes activation ranges with minmax or movavg");
    return NULL;
  }
  qb_fakequant* fq = fq_alloc(capacity, err);
  if (!fq) return NULL;
  fq->spec.scheme = *scheme;
  fq->spec.granularity.kind = QB_PER_TENSOR;
  fq->spec.range = qb_range_default(observer);
  fq->observer = observer;
  return fq;
}

void qb_fakequant_free(qb_fakequant* fq) {
  if (!fq) return;
  qb_quantized_tensor_free(&fq->grid);
  free(fq->out), free(fq->mask), free(fq);
}

/* The STE mask of one value: is round(x / scale) + zp inside [qmin, qmax]? */
static uint8_t inside(float x, qb_qparams p, float qmin, float qmax) {
  const float c = rintf(x / p.scale) + (float)p.zero_point;
  return c >= qmin && c <= qmax;
}

static const float* weight_forward(qb_fakequant* fq, const float* x, size_t count) {
  if (count != fq->rows * fq->cols) return NULL;
  const size_t dims[2] = {fq->rows, fq->cols};
  qb_tensor view = {.dtype = QB_F32, .ndim = 2, .dims = {dims[0], dims[1]}, .data = (void*)x};
  qb_quantized_tensor_free(&fq->grid);
  if (qb_quantize_tensor(&fq->spec, &view, &fq->grid, NULL)) return NULL;
  const float qmin = (float)qb_qscheme_qmin(&fq->spec.scheme);
  const float qmax = (float)qb_qscheme_qmax(&fq->spec.scheme);
  memcpy(fq->out, fq->grid.dequant, count * sizeof *fq->out);
  for (size_t i = 0; i < count; i++)
    fq->mask[i] = inside(x[i], fq->grid.params[qb_unit_of(&fq->grid.layout, i)], qmin, qmax);
  return fq->out;
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
  } else if (fq->observer == QB_RANGE_MINMAX) {
    fq->run_min = lo < fq->run_min ? lo : fq->run_min;
    fq->run_max = hi > fq->run_max ? hi : fq->run_max;
  } else {
    const float c = fq->spec.range.movavg_constant; /* 0.01, as the runtime's movavg */
    fq->run_min += c * (lo - fq->run_min);
    fq->run_max += c * (hi - fq->run_max);
  }
  return 0;
}

static const float* act_forward(qb_fakequant* fq, const float* x, size_t count, int observe) {
  if (observe && !fq->frozen && observe_batch(fq, x, count) != 0) return NULL;
  if (!fq->observed) return NULL; /* evaluating before any calibration */
  const qb_qscheme* s = &fq->spec.scheme;
  if (qb_qparams_from_range(s, fq->run_min, fq->run_max, &fq->act_qp, NULL) != 0) return NULL;
  const qb_qparams p = fq->act_qp;
  const float qmin = (float)qb_qscheme_qmin(s), qmax = (float)qb_qscheme_qmax(s);
  for (size_t i = 0; i < count; i++) {
    const float c = rintf(x[i] / p.scale) + (float)p.zero_point;
    const float q = c < qmin ? qmin : (c > qmax ? qmax : c);
    fq->mask[i] = c >= qmin && c <= qmax;
    fq->out[i] = (q - (float)p.zero_point) * p.scale;
  }
  return fq->out;
}

const float* qb_fakequant_forward(qb_fakequant* fq, const float* x, size_t count, int observe) {
  if (count > fq->capacity || count == 0) return NULL;
  return fq->is_weight ? weight_forward(fq, x, count) : act_forward(fq, x, count, observe);
}

void qb_fakequant_backward(const qb_fakequant* fq, float* grad, size_t count) {
  for (size_t i = 0; i < count && i < fq->capacity; i++)
    if (!fq->mask[i]) grad[i] = 0.0f;
}

const float* qb_fakequant_backward_copy(qb_fakequant* fq, const float* grad, size_t count) {
  if (count > fq->capacity) return NULL;
  for (size_t i = 0; i < count; i++) fq->out[i] = fq->mask[i] ? grad[i] : 0.0f;
  return fq->out;
}
