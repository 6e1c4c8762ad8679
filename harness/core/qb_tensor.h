/* A dense, C-order tensor owned by the harness (not by kernels). */
#ifndef QB_TENSOR_H
#define QB_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"

#define QB_MAX_DIMS 8

typedef enum {
  QB_F32, QB_F64, QB_I8, QB_U8, QB_I16, QB_U16, QB_I32, QB_I64
} qb_dtype;

typedef struct {
  qb_dtype dtype;
  int ndim;
  size_t dims[QB_MAX_DIMS];
  void* data; /* malloc'd, numel * qb_dtype_size(dtype) bytes */
} qb_tensor;

size_t qb_dtype_size(qb_dtype t);
const char* qb_dtype_name(qb_dtype t);
size_t qb_tensor_numel(const qb_tensor* t);
size_t qb_tensor_bytes(const qb_tensor* t);
/* Allocates zeroed data; fails (clear error) on overflow or out of memory. */
int qb_tensor_alloc(qb_tensor* t, qb_dtype dtype, int ndim, const size_t* dims, qb_error* err);
void qb_tensor_free(qb_tensor* t);
/* "[3, 4, 5]" into buf */
const char* qb_tensor_shape_str(const qb_tensor* t, char* buf, size_t len);

#endif
