/* Constants of a model: initializers and Constant-node values converted to the
 * runtime's two constant types (float types -> F32, integer types -> I64, the file's
 * type kept in source_dtype), with ONNX external data read from files next to the
 * model (relative paths inside its folder only). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_model_internal.h"
#include "qb_onnx.h"

/* Converts a loaded tensor to the runtime's constant types (F32 or I64). */
int qb_model_constant_convert(const qb_tensor* in, qb_tensor* out, qb_error* err) {
  const bool is_float = in->dtype == QB_F32 || in->dtype == QB_F64;
  if (qb_tensor_alloc(out, is_float ? QB_F32 : QB_I64, in->ndim, in->dims, err)) return -1;
  const size_t n = qb_tensor_numel(in);
  for (size_t i = 0; i < n; i++) {
    double v;
    switch (in->dtype) {
      case QB_F32: v = ((const float*)in->data)[i]; break;
      case QB_F64: v = ((const double*)in->data)[i]; break;
      case QB_I8: v = ((const int8_t*)in->data)[i]; break;
      case QB_U8: v = ((const uint8_t*)in->data)[i]; break;
      case QB_I16: v = ((const int16_t*)in->data)[i]; break;
      case QB_U16: v = ((const uint16_t*)in->data)[i]; break;
      case QB_I32: v = ((const int32_t*)in->data)[i]; break;
      default: ((int64_t*)out->data)[i] = ((const int64_t*)in->data)[i]; continue;
    }
    if (is_float) ((float*)out->data)[i] = (float)v;
    else ((int64_t*)out->data)[i] = (int64_t)v;
  }
  return 0;
}

/* External data: the payload lives in `location` (relative to the model's folder)
 * at `offset`, `length` bytes. Read it into a copy of the proto as raw_data. */
static int read_external(const Onnx__TensorProto* tp, const char* dir, qb_tensor* out,
                         qb_error* err) {
  const char* location = NULL;
  long long offset = 0, length = -1;
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const Onnx__StringStringEntryProto* e = tp->external_data[i];
    if (!e->key || !e->value) continue;
    char* end;
    if (!strcmp(e->key, "location")) location = e->value;
    else if (!strcmp(e->key, "offset")) offset = strtoll(e->value, &end, 10);
    else if (!strcmp(e->key, "length")) length = strtoll(e->value, &end, 10);
  }
  const char* name = tp->name ? tp->name : "?";
  if (!location || !location[0])
    return qb_fail(err, "tensor '%s': external data without a 'location'", name);
  if (location[0] == '/' || strstr(location, ".."))
    return qb_fail(err, "tensor '%s': external data location '%s' must be a relative path "
                   "inside the model's folder", name, location);
  if (offset < 0) return qb_fail(err, "tensor '%s': negative external data offset", name);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", location);
  FILE* f = fopen(path, "rb");
  if (!f) return qb_fail(err, "tensor '%s': external data %s: %s", name, path, strerror(errno));
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return qb_fail(err, "tensor '%s': cannot seek in %s", name, path);
  }
  const long long size = ftell(f);
  if (length < 0) length = size - offset;
  if (offset + length > size || length < 0) {
    fclose(f);
    return qb_fail(err, "tensor '%s': external data %s has %lld bytes; needs %lld at offset %lld",
                   name, path, size, length, offset);
  }
  uint8_t* buf = malloc(length ? (size_t)length : 1);
  if (!buf || fseek(f, offset, SEEK_SET) != 0 || fread(buf, 1, (size_t)length, f) != (size_t)length) {
    free(buf);
    fclose(f);
    return qb_fail(err, "tensor '%s': cannot read %lld bytes from %s", name, length, path);
  }
  fclose(f);
  Onnx__TensorProto copy = *tp;
  copy.has_data_location = 0;
  copy.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
  copy.n_external_data = 0;
  copy.external_data = NULL;
  copy.has_raw_data = 1;
  copy.raw_data.data = buf;
  copy.raw_data.len = (size_t)length;
  const int rc = qb_onnx_tensor_from_proto(&copy, out, err);
  free(buf);
  return rc;
}

int qb_model_add_constant(qb_model* m, const char* name, const Onnx__TensorProto* tp,
                        const char* dir, qb_error* err) {
  if (qb_model_find_value(m, name) >= 0)
    return qb_fail(err, "value '%.200s' is defined twice", name);
  qb_tensor t;
  memset(&t, 0, sizeof t);
  const bool external = (tp->has_data_location &&
                         tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
                        tp->n_external_data > 0;
  if (external ? read_external(tp, dir, &t, err) : qb_onnx_tensor_from_proto(tp, &t, err))
    return -1;
  const int v = qb_model_add_value(m, name, QB_VALUE_CONST, err);
  int rc = v < 0 ? -1 : qb_model_constant_convert(&t, &m->values[v].constant, err);
  if (v >= 0) m->values[v].source_dtype = t.dtype;
  qb_tensor_free(&t);
  return rc;
}

