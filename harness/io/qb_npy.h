/* NumPy .npy files (format versions 1.0, 2.0, 3.0), little-endian C order.
 * Reading accepts descr <f4 <f8 |i1 |u1 <i2 <u2 <i4 <i8 with fortran_order False;
 * anything else (big-endian, Fortran order, object arrays, a truncated payload, a
 * header that does not parse) is rejected with a message naming the file. */
#ifndef QB_NPY_H
#define QB_NPY_H

#include "qb_error.h"
#include "qb_tensor.h"

int qb_npy_read(const char* path, qb_tensor* out, qb_error* err);
int qb_npy_write(const char* path, const qb_tensor* t, qb_error* err);

#endif
