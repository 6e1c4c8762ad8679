/* Fake quantization for quantization-aware training (QAT).
 *
 * Forward: x -> (clamp(round(x / scale) + zp, qmin, qmax) - zp) * scale, the value the
 * integer model will see, kept in float. Backward: the straight-through estimator —
 * the rounding is treated as identity, so the gradient passes unchanged where
 * round(x / scale) + zp lies inside [qmin, qmax] and is 0 where it was clipped.
 *
 * Weights: the deployment grid itself. The weight is viewed as [rows, count / rows]
 * (rows = output channels, as the model runtime views a Gemm or Conv weight) and
 * quantized by the quantizer core (qb_quantize_tensor) with the qconfig's weight spec
 * — scheme, granularity (tensor, channel, or groups along the reduction axis), range
 * strategy — recomputed from the current weights at every step. So a weight trained
 * here and quantized later by the runtime with the same spec lands on exactly the
 * grid it was trained on.
 * Activations: per tensor with the qconfig's activation scheme (bits, affine or
 * symmetric); the range comes from an observer of the batches seen: min-max (the
 * running min / max, PyTorch's MinMaxObserver) or movavg (run += 0.01 (batch - run),
 * the first batch taken as is, PyTorch's MovingAverageMinMaxObserver), the same
 * statistics the runtime's static calibration takes with those range strategies;
 * once frozen, forward no longer moves it. qparams from qb_qparams_from_range. */
#ifndef QB_FAKEQUANT_H
#define QB_FAKEQUANT_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"
#include "qb_qparams.h"
#include "qb_tensor_quant.h"

struct qb_fakequant {
  int is_weight;
  qb_tensor_qspec spec;      /* weights: as deployed; activations: scheme only */
  size_t rows, cols;         /* weights: the [rows, cols] view */
  qb_quantized_tensor grid;  /* weights: units, qparams and codes of the last forward */
  qb_qparams act_qp;         /* activations: the current qparams */
  qb_range_kind observer;    /* activations: QB_RANGE_MINMAX or QB_RANGE_MOVAVG */
  float run_min, run_max;    /* the observed range */
  int observed;
  int frozen;                /* 1: the range no longer moves (qb_qat_calibrate) */
  float* out;                /* fake-quantized values of the last forward */
  uint8_t* mask;             /* 1 where the value was inside the grid (STE passes) */
  size_t capacity;
};
typedef struct qb_fakequant qb_fakequant;

/* NULL (err set) when the spec is invalid for the view or out of memory. */
qb_fakequant* qb_fakequant_new_weight(const qb_tensor_qspec* spec, size_t rows, size_t count,
                                      qb_error* err);
/* observer: QB_RANGE_MINMAX or QB_RANGE_MOVAVG. */
qb_fakequant* qb_fakequant_new_act(const qb_qscheme* scheme, qb_range_kind observer,
                                   size_t capacity, qb_error* err);
void qb_fakequant_free(qb_fakequant* fq);

/* Fake-quantizes count values (weights: exactly rows * cols). For activations,
 * observe != 0 first updates the observed range with this batch (unless frozen). Returns
 * fq->out, or NULL when count exceeds the capacity or the values are not finite. */
const float* qb_fakequant_forward(qb_fakequant* fq, const float* x, size_t count, int observe);
/* grad[i] = 0 where the last forward clipped (the STE mask). */
void qb_fakequant_backward(const qb_fakequant* fq, float* grad, size_t count);
/* The masked copy of a read-only gradient, in fq->out (so valid until the next
 * forward: for an output fake-quant whose forward values were already copied out). */
const float* qb_fakequant_backward_copy(qb_fakequant* fq, const float* grad, size_t count);

#endif /* QB_FAKEQUANT_H */
