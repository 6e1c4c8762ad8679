/* Fake quantization for quantization-aware training (QAT).
 *
 * Forward: x -> (clamp(round_half_even(x / scale) + zp, qmin, qmax) - zp) * scale, the
 * value the integer model will see, kept in float. Backward: the straight-through
 * estimator — the rounding is treated as identity, so the gradient passes unchanged
 * where round(x / scale) + zp lies inside [qmin, qmax] and is 0 where it was clipped.
 *
 * Weights: per-channel (axis 0) symmetric signed, restricted range (-(2^(b-1)-1) ..
 * 2^(b-1)-1, e.g. -7..7 at 4 bits), scale = max|w_c| / qmax recomputed from the
 * current weights at every step (so no weight is clipped).
 * Activations: per-tensor affine unsigned 8-bit; the range is a moving average of the
 * batch min / max (run += 0.01 (batch - run), the first batch taken as is), as
 * PyTorch's MovingAverageMinMaxObserver. qparams come from the quantizer core
 * (qb_qparams_from_range), which includes 0 in the range. */
#ifndef QB_FAKEQUANT_H
#define QB_FAKEQUANT_H

#include <stddef.h>
#include <stdint.h>

#include "qb_qparams.h"

struct qb_fakequant {
  int is_weight;
  qb_qscheme scheme;
  size_t channels, chunk; /* weights: channels x chunk values; activations: 1 x any */
  qb_qparams* qp;         /* one per channel (weights) or one (activations) */
  float run_min, run_max; /* activation observer */
  int observed;
  float averaging;        /* 0.01 */
  float* out;             /* fake-quantized values of the last forward */
  uint8_t* mask;          /* 1 where the value was inside the grid (STE passes) */
  size_t capacity;
};
typedef struct qb_fakequant qb_fakequant;

qb_fakequant* qb_fakequant_new_weight(int bits, size_t channels, size_t count);
qb_fakequant* qb_fakequant_new_act(int bits, size_t capacity);
void qb_fakequant_free(qb_fakequant* fq);

/* Fake-quantizes count values (weights: exactly channels * chunk). For activations,
 * observe != 0 first updates the moving-average range with this batch. Returns
 * fq->out, or NULL when count exceeds the capacity or the range is not finite. */
const float* qb_fakequant_forward(qb_fakequant* fq, const float* x, size_t count, int observe);
/* grad[i] = 0 where the last forward clipped (the STE mask). */
void qb_fakequant_backward(const qb_fakequant* fq, float* grad, size_t count);
/* The integer codes of x under the current qparams (for QDQ export). */
void qb_fakequant_codes(const qb_fakequant* fq, const float* x, size_t count, int32_t* q);

#endif /* QB_FAKEQUANT_H */
