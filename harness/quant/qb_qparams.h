/* Quantization schemes and their parameters (scale, zero point).
 *
 * A scheme fixes the integer grid: bit width b, signed or unsigned storage, full or
 * restricted range, affine (zero point chosen from the data) or symmetric (zero
 * point fixed: 0 when signed, mid-range when unsigned).
 *
 *   signed,   full:        qmin = -2^(b-1),      qmax = 2^(b-1) - 1
 *   signed,   restricted:  qmin = -(2^(b-1) - 1), qmax = 2^(b-1) - 1   (-127..127)
 *   unsigned, full:        qmin = 0,             qmax = 2^b - 1
 *   unsigned, restricted:  qmin = 0,             qmax = 2^b - 2
 */
#ifndef QB_QPARAMS_H
#define QB_QPARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "qb_error.h"
#include "qb_kernels.h"

typedef enum { QB_AFFINE = 0, QB_SYMMETRIC = 1 } qb_symmetry;

typedef struct {
  int bits;               /* 2..8 or 16 */
  bool is_signed;
  bool restricted;        /* drop the most negative code (signed) / the top code (unsigned) */
  qb_symmetry symmetry;
  qb_round_mode rounding; /* how x/scale is formed; see qb_kernels.h */
} qb_qscheme;

typedef struct {
  float scale;
  int32_t zero_point;
} qb_qparams;

/* 2^-23, torch.finfo(torch.float32).eps: the smallest scale an observer returns. */
#define QB_SCALE_EPS 1.1920928955078125e-07f

int qb_qscheme_check(const qb_qscheme* s, qb_error* err);
int32_t qb_qscheme_qmin(const qb_qscheme* s);
int32_t qb_qscheme_qmax(const qb_qscheme* s);
/* "affine u8", "symmetric s4 restricted", ... */
const char* qb_qscheme_str(const qb_qscheme* s, char* buf, unsigned len);

/* The zero point of an unsigned symmetric grid, as PyTorch's observers choose it
 * (_calculate_qparams with dtype quint8): 128 for the default 0..255 range, otherwise
 * (a customized quant_min/quant_max, which is how a b-bit grid is configured there)
 * the down-rounded midpoint (qmin + qmax) // 2: u4 -> 7 (codes 0..15: 7 steps below
 * zero, 8 above), u2 -> 1, u8 restricted (0..254) -> 127. Rounding down keeps the top
 * of a ReLU range (the usual unsigned activation) on the grid: with 7.5 steps per
 * amax, 8 steps above zero reach 1.07 amax, where 7 would clip at 0.93 amax. */
int32_t qb_qscheme_symmetric_unsigned_zero_point(const qb_qscheme* s);

/* qparams from an observed range, exactly as PyTorch's observers compute them
 * (torch.ao.quantization.observer._calculate_qparams), in float32:
 *   min' = min(min, 0), max' = max(max, 0)                  (range includes 0)
 *   symmetric: scale = max(-min', max') / ((qmax - qmin) / 2)
 *              zero_point = 0 if signed, else
 *              qb_qscheme_symmetric_unsigned_zero_point (128 for u8, 7 for u4)
 *   affine:    scale = (max' - min') / (qmax - qmin)
 *              zero_point = clamp(qmin - round_half_even(min' / scale), qmin, qmax)
 *   scale = max(scale, 2^-23)
 * min > max, NaN or Inf are errors. */
int qb_qparams_from_range(const qb_qscheme* s, float min, float max, qb_qparams* out,
                          qb_error* err);

/* The float interval the grid covers: [(qmin - zp) * scale, (qmax - zp) * scale]. */
void qb_qparams_representable(const qb_qscheme* s, qb_qparams p, float* lo, float* hi);

#endif
