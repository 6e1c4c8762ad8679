#include "qb_tensor_quant.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_ref_math.h"

int qb_granularity_parse(const char* text, qb_granularity* out, qb_error* err) {
  memset(out, 0, sizeof *out);
  if (strcmp(text, "tensor") == 0) {
    out->kind = QB_PER_TENSOR;
    return 0;
  }
  if (strcmp(text, "channel") == 0) {
    out->kind = QB_PER_CHANNEL;
    return 0;
  }
  if (strcmp(text, "token") == 0) {
    out->kind = QB_PER_TOKEN;
    return 0;
  }
  if (strncmp(text, "group:", 6) == 0) {
    char* end;
    errno = 0;
    const long g = strtol(text + 6, &end, 10);
    if (end == text + 6 || *end || errno || g < 1 || g > QB_GROUP_SIZE_MAX)
      return qb_fail(err, "granularity '%s': group size must be an integer in 1..%d (group:G)",
                     text, QB_GROUP_SIZE_MAX);
    out->kind = QB_PER_GROUP;
    out->axis = -1;
    out->group_size = (size_t)g;
    return 0;
  }
  return qb_fail(err, "unknown granularity '%s' (expected tensor, channel, group:G or token)", text);
}

const char* qb_granularity_str(const qb_granularity* g, char* buf, unsigned len) {
  switch (g->kind) {
    case QB_PER_TENSOR: snprintf(buf, len, "tensor"); break;
    case QB_PER_CHANNEL: snprintf(buf, len, "channel"); break;
    case QB_PER_GROUP: snprintf(buf, len, "group:%zu", g->group_size); break;
    case QB_PER_TOKEN: snprintf(buf, len, "token"); break;
  }
  return buf;
}

int qb_unit_layout_make(const qb_granularity* g, int ndim, const size_t* dims,
                        qb_unit_layout* u, qb_error* err) {
  memset(u, 0, sizeof *u);
  u->kind = g->kind;
  u->group_size = g->group_size;
  if (g->kind == QB_PER_TOKEN)
    return qb_fail(err, "per-token granularity is chosen at run time for dynamic activations; "
                        "a stored tensor has no tokens");
  size_t numel = 1;
  for (int i = 0; i < ndim; i++) numel *= dims[i];
  if (g->kind == QB_PER_TENSOR) {
    u->outer = 1, u->len = numel, u->inner = 1, u->nunits = 1;
    return 0;
  }
  if (ndim == 0)
    return qb_fail(err, "per-%s quantization needs a tensor with at least one dimension",
                   g->kind == QB_PER_CHANNEL ? "channel" : "group");
  const int axis = g->axis < 0 ? g->axis + ndim : g->axis;
  if (axis < 0 || axis >= ndim)
    return qb_fail(err, "axis %d is out of range for a %d-dimensional tensor", g->axis, ndim);
  u->outer = 1, u->inner = 1, u->len = dims[axis];
  for (int i = 0; i < axis; i++) u->outer *= dims[i];
  for (int i = axis + 1; i < ndim; i++) u->inner *= dims[i];
  if (g->kind == QB_PER_CHANNEL) {
    u->nunits = u->len;
  } else {
    if (g->group_size < 1) return qb_fail(err, "group size must be >= 1");
    u->ngroups = (u->len + g->group_size - 1) / g->group_size;
    u->nunits = u->outer * u->inner * u->ngroups;
  }
  return 0;
}

size_t qb_unit_of(const qb_unit_layout* u, size_t i) {
  if (u->kind == QB_PER_TENSOR) return 0;
  const size_t in = i % u->inner, a = (i / u->inner) % u->len;
  if (u->kind == QB_PER_CHANNEL) return a;
  const size_t o = i / (u->inner * u->len);
  return (o * u->inner + in) * u->ngroups + a / u->group_size;
}

int qb_check_finite(const float* x, size_t n, qb_error* err) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return qb_fail(err, "element %zu is %s; quantization needs finite values", i,
                     isnan(x[i]) ? "NaN" : "infinite");
  return 0;
}

void qb_quantized_tensor_free(qb_quantized_tensor* t) {
  free(t->params);
  free(t->range_min);
  free(t->range_max);
  free(t->q);
  free(t->dequant);
  memset(t, 0, sizeof *t);
}

int qb_quantized_tensor_copy(const qb_quantized_tensor* src, size_t numel, qb_quantized_tensor* dst,
                             qb_error* err) {
  const size_t units = src->layout.nunits;
  *dst = (qb_quantized_tensor){.layout = src->layout, .clipped = src->clipped};
  dst->params = malloc(units * sizeof *dst->params);
  dst->range_min = malloc(units * sizeof *dst->range_min);
  dst->range_max = malloc(units * sizeof *dst->range_max);
  dst->q = malloc(numel * sizeof *dst->q);
  dst->dequant = malloc(numel * sizeof *dst->dequant);
  if (!dst->params || !dst->range_min || !dst->range_max || !dst->q || !dst->dequant) {
    qb_quantized_tensor_free(dst);
    return qb_fail(err, "out of memory copying a quantized tensor of %zu values", numel);
  }
  memcpy(dst->params, src->params, units * sizeof *dst->params);
  memcpy(dst->range_min, src->range_min, units * sizeof *dst->range_min);
  memcpy(dst->range_max, src->range_max, units * sizeof *dst->range_max);
  memcpy(dst->q, src->q, numel * sizeof *dst->q);
  memcpy(dst->dequant, src->dequant, numel * sizeof *dst->dequant);
  return 0;
}

/* Unit u's elements in memory order: their flat indices go to idx, count returned.
 * Units are gathered by one pass over the tensor (bucketed by unit), so the whole
 * split costs O(numel). */
static int gather_units(const qb_unit_layout* u, size_t numel, size_t** start_out,
                        size_t** index_out, qb_error* err) {
  size_t* start = calloc(u->nunits + 1, sizeof *start);
  size_t* index = malloc((numel ? numel : 1) * sizeof *index);
  size_t* fill = calloc(u->nunits ? u->nunits : 1, sizeof *fill);
  if (!start || !index || !fill) {
    free(start), free(index), free(fill);
    return qb_fail(err, "out of memory splitting the tensor into %zu units", u->nunits);
  }
  for (size_t i = 0; i < numel; i++) start[qb_unit_of(u, i) + 1]++;
  for (size_t k = 0; k < u->nunits; k++) start[k + 1] += start[k];
  for (size_t i = 0; i < numel; i++) {
    const size_t k = qb_unit_of(u, i);
    index[start[k] + fill[k]++] = i;
  }
  free(fill);
  *start_out = start;
  *index_out = index;
  return 0;
}

/* Rows for crossentropy: a unit holds whole rows of the last dimension only when
 * the granularity leaves the last axis intact. */
static size_t softmax_row_len(const qb_tensor_qspec* spec, const qb_tensor* x,
                              const qb_unit_layout* u) {
  const size_t last = x->ndim ? x->dims[x->ndim - 1] : 1;
  if (spec->granularity.kind == QB_PER_TENSOR) return last;
  if (spec->granularity.kind == QB_PER_CHANNEL && u->inner % last == 0 && u->inner >= last)
    return last;
  return 0; /* rows are split across units */
}

static int quantize_unit(const qb_tensor_qspec* spec, const float* x, const size_t* idx,
                         size_t n, size_t row_len, float* scratch, qb_quantized_tensor* out,
                         size_t unit, qb_error* err) {
  for (size_t j = 0; j < n; j++) scratch[j] = x[idx[j]];
  float lo, hi;
  if (qb_range_choose(&spec->range, &spec->scheme, scratch, n, row_len, &lo, &hi, err))
    return -1;
  qb_qparams p;
  if (qb_qparams_from_range(&spec->scheme, lo, hi, &p, err)) return -1;
  out->params[unit] = p;
  out->range_min[unit] = lo;
  out->range_max[unit] = hi;
  const int32_t qmin = qb_qscheme_qmin(&spec->scheme), qmax = qb_qscheme_qmax(&spec->scheme);
  const float inv = 1.0f / p.scale;
  for (size_t j = 0; j < n; j++) {
    const float v = scratch[j];
    /* Clipped: the rounded value, before the clamp, falls outside the grid. */
    const float r = qb_round_half_even(spec->scheme.rounding == QB_ROUND_DIV ? v / p.scale : v * inv);
    if (r < (float)(qmin - p.zero_point) || r > (float)(qmax - p.zero_point)) out->clipped++;
    const int32_t q = qb_quantize_one(v, p.scale, inv, p.zero_point, qmin, qmax, spec->scheme.rounding);
    out->q[idx[j]] = q;
    out->dequant[idx[j]] = (float)(q - p.zero_point) * p.scale;
  }
  return 0;
}

int qb_quantize_tensor(const qb_tensor_qspec* spec, const qb_tensor* x, qb_quantized_tensor* out,
                       qb_error* err) {
  memset(out, 0, sizeof *out);
  if (x->dtype != QB_F32)
    return qb_fail(err, "expected a float32 tensor, got %s", qb_dtype_name(x->dtype));
  const size_t numel = qb_tensor_numel(x);
  if (numel == 0) return qb_fail(err, "cannot quantize an empty tensor");
  if (qb_qscheme_check(&spec->scheme, err)) return -1;
  if (qb_check_finite(x->data, numel, err)) return -1;
  if (qb_unit_layout_make(&spec->granularity, x->ndim, x->dims, &out->layout, err)) return -1;
  const size_t nunits = out->layout.nunits;
  out->params = calloc(nunits, sizeof *out->params);
  out->range_min = calloc(nunits, sizeof *out->range_min);
  out->range_max = calloc(nunits, sizeof *out->range_max);
  out->q = malloc(numel * sizeof *out->q);
  out->dequant = malloc(numel * sizeof *out->dequant);
  float* scratch = malloc(numel * sizeof *scratch);
  size_t *start = NULL, *index = NULL;
  int rc = -1;
  if (!out->params || !out->range_min || !out->range_max || !out->q || !out->dequant || !scratch) {
    qb_fail(err, "out of memory quantizing %zu elements", numel);
    goto done;
  }
  if (gather_units(&out->layout, numel, &start, &index, err)) goto done;
  const size_t row_len = softmax_row_len(spec, x, &out->layout);
  if (spec->range.kind == QB_RANGE_CROSSENTROPY && row_len == 0) {
    qb_fail(err, "crossentropy needs whole rows of the last axis in each unit "
                 "(use per-tensor, or per-channel on an axis before the last)");
    goto done;
  }
  for (size_t k = 0; k < nunits; k++) {
    const size_t n = start[k + 1] - start[k];
    if (n == 0) continue;
    if (quantize_unit(spec, x->data, index + start[k], n, row_len, scratch, out, k, err)) {
      char prefix[64];
      snprintf(prefix, sizeof prefix, "unit %zu: ", k);
      if (err && nunits > 1) {
        memmove(err->msg + strlen(prefix), err->msg, sizeof err->msg - strlen(prefix));
        memcpy(err->msg, prefix, strlen(prefix));
        err->msg[sizeof err->msg - 1] = 0;
      }
      goto done;
    }
  }
  rc = 0;
done:
  free(scratch);
  free(start);
  free(index);
  if (rc) qb_quantized_tensor_free(out);
  return rc;
}
