#include "qb_qparams.h"

#include <math.h>
#include <stdio.h>

int qb_qscheme_check(const qb_qscheme* s, qb_error* err) {
  if (!((s->bits >= 2 && s->bits <= 8) || s->bits == 16))
    return qb_fail(err, "bits %d is outside 2..8 and not 16", s->bits);
  if (s->rounding != QB_ROUND_DIV && s->rounding != QB_ROUND_MUL_RECIP)
    return qb_fail(err, "unknown rounding mode %d", (int)s->rounding);
  return 0;
}

int32_t qb_qscheme_qmin(const qb_qscheme* s) {
  if (!s->is_signed) return 0;
  const int32_t lowest = -(INT32_C(1) << (s->bits - 1));
  return s->restricted ? lowest + 1 : lowest;
}

int32_t qb_qscheme_qmax(const qb_qscheme* s) {
  if (s->is_signed) return (INT32_C(1) << (s->bits - 1)) - 1;
  const int32_t top = (INT32_C(1) << s->bits) - 1;
  return s->restricted ? top - 1 : top;
}

const char* qb_qscheme_str(const qb_qscheme* s, char* buf, unsigned len) {
  snprintf(buf, len, "%s %c%d%s%s", s->symmetry == QB_SYMMETRIC ? "symmetric" : "affine",
           s->is_signed ? 's' : 'u', s->bits, s->restricted ? " restricted" : "",
           s->rounding == QB_ROUND_MUL_RECIP ? " mul-recip" : "");
  return buf;
}

int32_t qb_qscheme_symmetric_unsigned_zero_point(const qb_qscheme* s) {
  const int32_t qmin = qb_qscheme_qmin(s), qmax = qb_qscheme_qmax(s);
  /* PyTorch: 128 for the default quint8 range, else the down-rounded midpoint. */
  if (s->bits == 8 && !s->restricted) return 128;
  return (qmin + qmax) / 2; /* qmin >= 0: integer division is the floor */
}

int qb_qparams_from_range(const qb_qscheme* s, float min, float max, qb_qparams* out,
                          qb_error* err) {
  if (qb_qscheme_check(s, err)) return -1;
  if (!isfinite(min) || !isfinite(max))
    return qb_fail(err, "range [%g, %g] is not finite", (double)min, (double)max);
  if (min > max) return qb_fail(err, "range min %g > max %g", (double)min, (double)max);
  const int32_t qmin = qb_qscheme_qmin(s), qmax = qb_qscheme_qmax(s);
  const float min_neg = fminf(min, 0.0f), max_pos = fmaxf(max, 0.0f);
  if (s->symmetry == QB_SYMMETRIC) {
    const float amax = fmaxf(-min_neg, max_pos);
    /* (qmax - qmin) / 2 is exact in float (a half-integer below 2^16). */
    out->scale = fmaxf(amax / ((float)(qmax - qmin) / 2.0f), QB_SCALE_EPS);
    out->zero_point = s->is_signed ? 0 : qb_qscheme_symmetric_unsigned_zero_point(s);
  } else {
    out->scale = fmaxf((max_pos - min_neg) / (float)(qmax - qmin), QB_SCALE_EPS);
    const float zp = (float)qmin - nearbyintf(min_neg / out->scale);
    out->zero_point = zp < (float)qmin ? qmin : (zp > (float)qmax ? qmax : (int32_t)zp);
  }
  return 0;
}

void qb_qparams_representable(const qb_qscheme* s, qb_qparams p, float* lo, float* hi) {
  *lo = (float)(qb_qscheme_qmin(s) - p.zero_point) * p.scale;
  *hi = (float)(qb_qscheme_qmax(s) - p.zero_point) * p.scale;
}
