/* fp32 row primitives: the one implementation of each formula, shared by the model
 * runtime's ops (harness/ops: Softmax, LayerNormalization, Erf) and by training's
 * forward passes (harness/train: softmax, attention, layer norm, GELU), so a model
 * trains with the arithmetic it is then evaluated with. Deterministic: fixed
 * operation order, no libm call in the vectorized loops (qb_f32_rows.c explains the
 * approximations and their measured error). */
#ifndef QB_F32_ROWS_H
#define QB_F32_ROWS_H

#include <stddef.h>

/* y = softmax(x) over n contiguous floats (y and x must not overlap). */
void qb_f32_softmax_row(float* y, const float* x, size_t n);
/* The same along a strided axis: element k at x[k * inner], y[k * inner]. */
void qb_f32_softmax_strided(float* y, const float* x, size_t len, size_t inner);

/* y = (x - mean) * inv_std * scale + bias over len floats (bias NULL: none),
 * inv_std = 1 / sqrt(var + epsilon), the population variance; mean and inv_std
 * returned through mean_out / inv_out when not NULL. */
void qb_f32_layernorm_row(float* y, const float* x, const float* scale, const float* bias,
                          size_t len, float epsilon, float* mean_out, float* inv_out);

/* o = erf(x) elementwise (rational approximation, |error| <= 4.7e-7); no overlap. */
void qb_f32_erf(float* o, const float* x, size_t n);

#endif
