#include "qb_tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t qb_dtype_size(qb_dtype t) {
  switch (t) {
    case QB_F32: case QB_I32: return 4;
    case QB_F64: case QB_I64: return 8;
    case QB_I16: case QB_U16: return 2;
    case QB_I8: case QB_U8: return 1;
  }
  return 0;
}

const char* qb_dtype_name(qb_dtype t) {
  static const char* names[] = {"float32", "float64", "int8", "uint8",
                                "int16", "uint16", "int32", "int64"};
  return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

size_t qb_tensor_numel(const qb_tensor* t) {
  size_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->dims[i];
  return n;
}

size_t qb_tensor_bytes(const qb_tensor* t) { return qb_tensor_numel(t) * qb_dtype_size(t->dtype); }

int qb_tensor_alloc(qb_tensor* t, qb_dtype dtype, int ndim, const size_t* dims, qb_error* err) {
  memset(t, 0, sizeof *t);
  if (ndim < 0 || ndim > QB_MAX_DIMS)
    return qb_fail(err, "tensor has %d dimensions; at most %d are supported", ndim, QB_MAX_DIMS);
  size_t numel = 1;
  for (int i = 0; i < ndim; i++) {
    if (dims[i] != 0 && numel > SIZE_MAX / 16 / dims[i])
      return qb_fail(err, "tensor shape is too large (dimension %d = %zu overflows)", i, dims[i]);
    numel *= dims[i];
    t->dims[i] = dims[i];
  }
  t->dtype = dtype;
  t->ndim = ndim;
  t->data = calloc(numel ? numel : 1, qb_dtype_size(dtype));
  if (!t->data) return qb_fail(err, "out of memory allocating %zu elements", numel);
  return 0;
}

void qb_tensor_free(qb_tensor* t) {
  free(t->data);
  t->data = NULL;
}

const char* qb_tensor_shape_str(const qb_tensor* t, char* buf, size_t len) {
  size_t used = (size_t)snprintf(buf, len, "[");
  for (int i = 0; i < t->ndim && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, i ? ", %zu" : "%zu", t->dims[i]);
  if (used < len) snprintf(buf + used, len - used, "]");
  return buf;
}
