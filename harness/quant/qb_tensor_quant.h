/* Quantizing a whole tensor: granularity splits it into units (the whole tensor,
 * one unit per channel, or groups along an axis), each unit gets its own range
 * (from a range strategy) and qparams (from the scheme).
 *
 * With dims split around `axis` as outer x len x inner (element (o, a, i) at flat
 * index (o * len + a) * inner + i):
 *   per-tensor        one unit
 *   per-channel(axis) unit = a                          (len units; axis 0 = output channel of a weight)
 *   per-group(axis,G) unit = (o * inner + i) * ngroups + a / G,  ngroups = ceil(len / G)
 *                     groups of G consecutive elements along `axis` (the reduction
 *                     axis of a weight, the last axis by default); the last group
 *                     of each line may be short.
 */
#ifndef QB_TENSOR_QUANT_H
#define QB_TENSOR_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"
#include "qb_qparams.h"
#include "qb_range.h"
#include "qb_tensor.h"

/* QB_PER_TOKEN is an activation granularity of the dynamic workflow only: one scale
 * per row of a Gemm / MatMul input (a token), chosen at run time. A stored tensor is
 * never split that way, so qb_unit_layout_make refuses it. */
typedef enum { QB_PER_TENSOR, QB_PER_CHANNEL, QB_PER_GROUP, QB_PER_TOKEN } qb_granularity_kind;

typedef struct {
  qb_granularity_kind kind;
  int axis;          /* channel axis, or the axis groups run along; negative counts from the end */
  size_t group_size; /* per-group: G >= 1 */
} qb_granularity;

/* Largest group size G of group:G (2^20; larger is a typo or an overflow). */
#define QB_GROUP_SIZE_MAX (1 << 20)

/* Parse "tensor", "channel", "group:G" (G in 1..QB_GROUP_SIZE_MAX), "token"; the axis is set
 * separately (default: 0 for channel, -1 for group). */
int qb_granularity_parse(const char* text, qb_granularity* out, qb_error* err);
const char* qb_granularity_str(const qb_granularity* g, char* buf, unsigned len);

typedef struct {
  size_t outer, len, inner; /* dims around the axis */
  size_t nunits;
  size_t ngroups;           /* per-group: groups per line */
  qb_granularity_kind kind;
  size_t group_size;
} qb_unit_layout;

int qb_unit_layout_make(const qb_granularity* g, int ndim, const size_t* dims,
                        qb_unit_layout* out, qb_error* err);
size_t qb_unit_of(const qb_unit_layout* u, size_t flat_index);

/* Everything that decides how one tensor is quantized. */
typedef struct {
  qb_qscheme scheme;
  qb_granularity granularity;
  qb_range_strategy range;
} qb_tensor_qspec;

typedef struct {
  qb_unit_layout layout;
  qb_qparams* params;   /* nunits */
  float* range_min;     /* nunits: the range chosen by the strategy (before 0 is included) */
  float* range_max;
  int32_t* q;           /* numel quantized values */
  float* dequant;       /* numel dequantized values */
  size_t clipped;       /* elements whose rounded value fell outside [qmin, qmax] */
} qb_quantized_tensor;

/* x must be float32, non-empty and finite (NaN/Inf are an error naming the first
 * offending index). */
int qb_quantize_tensor(const qb_tensor_qspec* spec, const qb_tensor* x, qb_quantized_tensor* out,
                       qb_error* err);
void qb_quantized_tensor_free(qb_quantized_tensor* t);
/* A deep copy of src (numel values) into dst. */
int qb_quantized_tensor_copy(const qb_quantized_tensor* src, size_t numel, qb_quantized_tensor* dst,
                             qb_error* err);

/* Checks every element is finite; names the first that is not. */
int qb_check_finite(const float* x, size_t n, qb_error* err);

#endif
