/* ONNX protobuf reader. See qb_onnx.h for what is accepted and rejected.
 *
 * Files are read whole into memory (at most QB_ONNX_MAX_FILE_BYTES) and unpacked
 * with protobuf-c, which validates the wire format: a truncated message or one
 * whose length prefixes point past the end fails to unpack. What protobuf-c cannot
 * know (that the payload matches the shape, that the element type is one we
 * handle) is checked here before anything is allocated from the message's numbers. */
#include "qb_onnx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------- files */

/* Reads a whole regular file. `expect` names the content for the empty-file
 * message ("an ONNX TensorProto"). */
static int read_file(const char* path, const char* expect, uint8_t** data, size_t* size,
                     qb_error* err) {
  *data = NULL;
  *size = 0;
  FILE* f = fopen(path, "rb");
  if (!f) return qb_fail(err, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0) {
    const int e = errno;
    fclose(f);
    return qb_fail(err, "%s: cannot stat: %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    fclose(f);
    return qb_fail(err, "%s: not a regular file", path);
  }
  if (st.st_size == 0) {
    fclose(f);
    return qb_fail(err, "%s: file is empty (expected %s)", path, expect);
  }
  if ((unsigned long long)st.st_size > (unsigned long long)QB_ONNX_MAX_FILE_BYTES) {
    fclose(f);
    return qb_fail(err, "%s: file is %lld bytes; files above %zu bytes (2 GiB) are not read",
                   path, (long long)st.st_size, QB_ONNX_MAX_FILE_BYTES);
  }
  const size_t n = (size_t)st.st_size;
  uint8_t* buf = malloc(n);
  if (!buf) {
    fclose(f);
    return qb_fail(err, "%s: out of memory reading %zu bytes", path, n);
  }
  const size_t got = fread(buf, 1, n, f);
  const int read_error = ferror(f);
  fclose(f);
  if (got != n) {
    free(buf);
    return qb_fail(err, "%s: %s after %zu of %zu bytes", path,
                   read_error ? "read error" : "file shrank while reading", got, n);
  }
  *data = buf;
  *size = n;
  return 0;
}

/* Prefixes the message already in *err with "what: ". */
static int fail_prefixed(qb_error* err, const char* what) {
  if (!err) return -1;
  char inner[sizeof err->msg];
  memcpy(inner, err->msg, sizeof inner);
  inner[sizeof inner - 1] = 0;
  return qb_fail(err, "%s: %s", what, inner);
}

/* ----------------------------------------------------------------- tensors */

const char* qb_onnx_data_type_name(int32_t data_type) {
  switch (data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED: return "UNDEFINED";
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return "FLOAT";
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return "UINT8";
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return "INT8";
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: return "UINT16";
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: return "INT16";
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return "INT32";
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return "INT64";
    case ONNX__TENSOR_PROTO__DATA_TYPE__STRING: return "STRING";
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return "BOOL";
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return "FLOAT16";
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: return "DOUBLE";
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: return "UINT32";
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: return "UINT64";
    case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64: return "COMPLEX64";
    case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128: return "COMPLEX128";
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: return "BFLOAT16";
    default: return NULL;
  }
}

int qb_onnx_data_type_to_dtype(int32_t data_type, qb_dtype* out) {
  switch (data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *out = QB_F32; return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *out = QB_F64; return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *out = QB_I8; return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: *out = QB_U8; return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: *out = QB_I16; return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: *out = QB_U16; return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *out = QB_I32; return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *out = QB_I64; return 0;
    default: return -1;
  }
}

/* The typed payload fields of a TensorProto, in one table so that the checks
 * below (which field belongs to which type, only one may be used) read as data. */
enum { F_FLOAT, F_INT32, F_STRING, F_INT64, F_DOUBLE, F_UINT64, F_COUNT };
static const char* const field_names[F_COUNT] = {"float_data", "int32_data", "string_data",
                                                 "int64_data", "double_data", "uint64_data"};

static int typed_field_of(qb_dtype t) {
  switch (t) {
    case QB_F32: return F_FLOAT;
    case QB_F64: return F_DOUBLE;
    case QB_I64: return F_INT64;
    case QB_I8: case QB_U8: case QB_I16: case QB_U16: case QB_I32: return F_INT32;
  }
  return F_INT32;
}

/* raw_data is little-endian; convert in place on a big-endian host. */
static void from_little_endian(void* data, size_t numel, size_t elsize) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  uint8_t* p = data;
  for (size_t i = 0; i < numel; i++, p += elsize)
    for (size_t a = 0, b = elsize - 1; a < b; a++, b--) {
      const uint8_t t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
#else
  (void)data, (void)numel, (void)elsize;
#endif
}

/* int32_data holds one value per element for the narrow integer types. */
static int narrow_from_int32(const Onnx__TensorProto* tp, const char* label, qb_tensor* t,
                             qb_error* err) {
  int32_t lo = INT32_MIN, hi = INT32_MAX;
  switch (t->dtype) {
    case QB_I8: lo = INT8_MIN, hi = INT8_MAX; break;
    case QB_U8: lo = 0, hi = UINT8_MAX; break;
    case QB_I16: lo = INT16_MIN, hi = INT16_MAX; break;
    case QB_U16: lo = 0, hi = UINT16_MAX; break;
    default: break;
  }
  for (size_t i = 0; i < tp->n_int32_data; i++) {
    const int32_t v = tp->int32_data[i];
    if (v < lo || v > hi)
      return qb_fail(err, "%s: int32_data[%zu] = %d is outside the %s range %d..%d", label, i,
                     (int)v, qb_dtype_name(t->dtype), (int)lo, (int)hi);
    switch (t->dtype) {
      case QB_I8: ((int8_t*)t->data)[i] = (int8_t)v; break;
      case QB_U8: ((uint8_t*)t->data)[i] = (uint8_t)v; break;
      case QB_I16: ((int16_t*)t->data)[i] = (int16_t)v; break;
      case QB_U16: ((uint16_t*)t->data)[i] = (uint16_t)v; break;
      default: ((int32_t*)t->data)[i] = v; break;
    }
  }
  return 0;
}

int qb_onnx_tensor_from_proto(const Onnx__TensorProto* tp, qb_tensor* out, qb_error* err) {
  memset(out, 0, sizeof *out);
  char label[160];
  if (tp->name && tp->name[0])
    snprintf(label, sizeof label, "tensor '%.120s'", tp->name);
  else
    snprintf(label, sizeof label, "tensor (unnamed)");

  /* Element type. */
  const int32_t data_type = tp->has_data_type ? tp->data_type : 0;
  qb_dtype dtype;
  if (qb_onnx_data_type_to_dtype(data_type, &dtype) != 0) {
    const char* name = qb_onnx_data_type_name(data_type);
    if (data_type == ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED)
      return qb_fail(err, "%s: data_type is not set (UNDEFINED)", label);
    if (!name)
      return qb_fail(err, "%s: unknown data_type %d (not a TensorProto.DataType value)", label,
                     (int)data_type);
    return qb_fail(err, "%s: data_type %s is not supported (supported: FLOAT, DOUBLE, INT8, "
                   "UINT8, INT16, UINT16, INT32, INT64)", label, name);
  }

  /* Where the data lives. */
  if ((tp->has_data_location &&
       tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
      tp->n_external_data > 0) {
    const char* location = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++)
      if (tp->external_data[i]->key && strcmp(tp->external_data[i]->key, "location") == 0)
        location = tp->external_data[i]->value;
    return qb_fail(err, "%s: external data%s%.200s%s is not supported yet (store the tensor "
                   "inside the protobuf)", label, location ? " ('" : "",
                   location ? location : "", location ? "')" : "");
  }
  if (tp->segment)
    return qb_fail(err, "%s: segmented tensors (TensorProto.segment) are not supported", label);

  /* Shape. */
  if (tp->n_dims > QB_MAX_DIMS)
    return qb_fail(err, "%s: %zu dimensions; at most %d are supported", label, tp->n_dims,
                   QB_MAX_DIMS);
  size_t dims[QB_MAX_DIMS];
  int64_t numel = 1;
  for (size_t i = 0; i < tp->n_dims; i++) {
    const int64_t d = tp->dims[i];
    if (d < 0) return qb_fail(err, "%s: dimension %zu is negative (%lld)", label, i, (long long)d);
    if (d > QB_ONNX_MAX_ELEMENTS)
      return qb_fail(err, "%s: dimension %zu is %lld; tensors above 2^31 elements are not "
                     "supported", label, i, (long long)d);
    numel *= d; /* both factors <= 2^31: no overflow */
    if (numel > QB_ONNX_MAX_ELEMENTS)
      return qb_fail(err, "%s: shape has more than 2^31 elements (dimensions 0..%zu already "
                     "multiply to %lld)", label, i, (long long)numel);
    dims[i] = (size_t)d;
  }
  const size_t n = (size_t)numel, elsize = qb_dtype_size(dtype);

  /* Payload: raw_data, or exactly one typed field, the one for this type. */
  const size_t counts[F_COUNT] = {tp->n_float_data, tp->n_int32_data, tp->n_string_data,
                                  tp->n_int64_data, tp->n_double_data, tp->n_uint64_data};
  const int want = typed_field_of(dtype);
  int used = -1;
  for (int f = 0; f < F_COUNT; f++) {
    if (!counts[f]) continue;
    if (tp->has_raw_data)
      return qb_fail(err, "%s: has both raw_data and %s; exactly one payload is allowed", label,
                     field_names[f]);
    if (used >= 0)
      return qb_fail(err, "%s: has values in both %s and %s; exactly one payload is allowed",
                     label, field_names[used], field_names[f]);
    used = f;
  }
  if (used >= 0 && used != want)
    return qb_fail(err, "%s: %s tensor stores its values in %s (expected raw_data or %s)", label,
                   qb_onnx_data_type_name(data_type), field_names[used], field_names[want]);
  if (tp->has_raw_data) {
    if (tp->raw_data.len != n * elsize)
      return qb_fail(err, "%s: raw_data has %zu bytes; shape with %zu elements of %s needs %zu",
                     label, tp->raw_data.len, n, qb_onnx_data_type_name(data_type), n * elsize);
  } else if (used >= 0) {
    if (counts[used] != n)
      return qb_fail(err, "%s: %s has %zu values; the shape has %zu elements", label,
                     field_names[used], counts[used], n);
  } else if (n != 0) {
    return qb_fail(err, "%s: no data (%zu elements expected in raw_data or %s)", label, n,
                   field_names[want]);
  }

  if (qb_tensor_alloc(out, dtype, (int)tp->n_dims, dims, err)) return fail_prefixed(err, label);
  int rc = 0;
  if (tp->has_raw_data) {
    if (n) memcpy(out->data, tp->raw_data.data, n * elsize);
    from_little_endian(out->data, n, elsize);
  } else if (used == F_FLOAT) {
    memcpy(out->data, tp->float_data, n * sizeof(float));
  } else if (used == F_DOUBLE) {
    memcpy(out->data, tp->double_data, n * sizeof(double));
  } else if (used == F_INT64) {
    memcpy(out->data, tp->int64_data, n * sizeof(int64_t));
  } else if (used == F_INT32) {
    rc = narrow_from_int32(tp, label, out, err);
  }
  if (rc) qb_tensor_free(out);
  return rc;
}

int qb_onnx_tensor_parse(const void* bytes, size_t size, const char* what, qb_tensor* out,
                         char* name_out, size_t name_len, qb_error* err) {
  memset(out, 0, sizeof *out);
  if (name_out && name_len) name_out[0] = 0;
  Onnx__TensorProto* tp = onnx__tensor_proto__unpack(NULL, size, bytes);
  if (!tp) return qb_fail(err, "%s: file is not a valid ONNX TensorProto", what);
  int rc = 0;
  if (name_out) {
    const char* name = tp->name ? tp->name : "";
    if (strlen(name) >= name_len)
      rc = qb_fail(err, "%s: tensor name '%.200s' does not fit in %zu bytes", what, name,
                   name_len);
    else
      memcpy(name_out, name, strlen(name) + 1);
  }
  if (!rc && qb_onnx_tensor_from_proto(tp, out, err)) rc = fail_prefixed(err, what);
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return rc;
}

int qb_onnx_tensor_read(const char* path, qb_tensor* out, char* name_out, size_t name_len,
                        qb_error* err) {
  memset(out, 0, sizeof *out);
  if (name_out && name_len) name_out[0] = 0;
  uint8_t* data;
  size_t size;
  if (read_file(path, "a serialized ONNX TensorProto", &data, &size, err)) return -1;
  const int rc = qb_onnx_tensor_parse(data, size, path, out, name_out, name_len, err);
  free(data);
  return rc;
}

/* ------------------------------------------------------------------ models */

int qb_onnx_model_parse(const void* bytes, size_t size, const char* what, qb_onnx_model* out,
                        qb_error* err) {
  memset(out, 0, sizeof *out);
  Onnx__ModelProto* mp = onnx__model_proto__unpack(NULL, size, bytes);
  if (!mp) return qb_fail(err, "%s: file is not a valid ONNX ModelProto", what);
  if (!mp->graph) {
    onnx__model_proto__free_unpacked(mp, NULL);
    return qb_fail(err, "%s: ONNX model has no graph", what);
  }
  out->proto = mp;
  out->graph = mp->graph;
  return 0;
}

int qb_onnx_model_read(const char* path, qb_onnx_model* out, qb_error* err) {
  memset(out, 0, sizeof *out);
  uint8_t* data;
  size_t size;
  if (read_file(path, "a serialized ONNX ModelProto", &data, &size, err)) return -1;
  const int rc = qb_onnx_model_parse(data, size, path, out, err);
  free(data);
  return rc;
}

void qb_onnx_model_free(qb_onnx_model* m) {
  if (m->proto) onnx__model_proto__free_unpacked(m->proto, NULL);
  m->proto = NULL;
  m->graph = NULL;
}

static int is_default_domain(const char* d) {
  return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

int64_t qb_onnx_model_opset(const qb_onnx_model* m, const char* domain) {
  if (!m->proto) return -1;
  for (size_t i = 0; i < m->proto->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto* op = m->proto->opset_import[i];
    const int match = is_default_domain(domain) ? is_default_domain(op->domain)
                                                : (op->domain && strcmp(op->domain, domain) == 0);
    if (match) return op->has_version ? op->version : 0;
  }
  return -1;
}

const Onnx__TensorProto* qb_onnx_find_initializer(const Onnx__GraphProto* g, const char* name) {
  if (!g || !name) return NULL;
  for (size_t i = 0; i < g->n_initializer; i++)
    if (g->initializer[i]->name && strcmp(g->initializer[i]->name, name) == 0)
      return g->initializer[i];
  /* Constant nodes: exporters such as Paddle2ONNX keep every weight in one. */
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto* n = g->node[i];
    const char* out = qb_onnx_node_output(n, 0);
    if (!n->op_type || strcmp(n->op_type, "Constant") || !out || strcmp(out, name)) continue;
    const Onnx__AttributeProto* a = qb_onnx_node_attr(n, "value");
    return a && a->t ? a->t : NULL;
  }
  return NULL;
}

int qb_onnx_initializer(const Onnx__GraphProto* g, const char* name, qb_tensor* out,
                        qb_error* err) {
  memset(out, 0, sizeof *out);
  const Onnx__TensorProto* tp = qb_onnx_find_initializer(g, name);
  if (!tp) return qb_fail(err, "graph has no initializer named '%.200s'", name ? name : "(null)");
  return qb_onnx_tensor_from_proto(tp, out, err);
}

/* ------------------------------------------------------------------- nodes */

const char* qb_onnx_node_input(const Onnx__NodeProto* node, size_t i) {
  return (i < node->n_input && node->input[i] && node->input[i][0]) ? node->input[i] : NULL;
}

const char* qb_onnx_node_output(const Onnx__NodeProto* node, size_t i) {
  return (i < node->n_output && node->output[i] && node->output[i][0]) ? node->output[i] : NULL;
}

const char* qb_onnx_node_str(const Onnx__NodeProto* node, char* buf, size_t len) {
  const char* op = node->op_type ? node->op_type : "?";
  if (node->name && node->name[0])
    snprintf(buf, len, "node '%.200s' (%.100s)", node->name, op);
  else
    snprintf(buf, len, "node (%.100s, unnamed)", op);
  return buf;
}

const Onnx__AttributeProto* qb_onnx_node_attr(const Onnx__NodeProto* node, const char* name) {
  for (size_t i = 0; i < node->n_attribute; i++)
    if (node->attribute[i]->name && strcmp(node->attribute[i]->name, name) == 0)
      return node->attribute[i];
  return NULL;
}

static const char* attr_type_name(int t) {
  switch (t) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED: return "UNDEFINED";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return "FLOAT";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return "INT";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: return "STRING";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: return "TENSOR";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH: return "GRAPH";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR: return "SPARSE_TENSOR";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO: return "TYPE_PROTO";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: return "FLOATS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: return "INTS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: return "STRINGS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: return "TENSORS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: return "GRAPHS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS: return "SPARSE_TENSORS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS: return "TYPE_PROTOS";
    default: return "unknown";
  }
}

/* Finds attribute `name` and checks it has type `want`. Absent: *out = NULL, 0. */
static int attr_typed(const Onnx__NodeProto* node, const char* name,
                      Onnx__AttributeProto__AttributeType want, const Onnx__AttributeProto** out,
                      qb_error* err) {
  const Onnx__AttributeProto* a = qb_onnx_node_attr(node, name);
  *out = a;
  if (!a) return 0;
  char where[320];
  qb_onnx_node_str(node, where, sizeof where);
  if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) {
    if (a->type != want)
      return qb_fail(err, "%s: attribute '%s' is %s, expected %s", where, name,
                     attr_type_name(a->type), attr_type_name(want));
    return 0;
  }
  /* No type field: accept when the value field of the wanted type is set. */
  int present = 0;
  switch (want) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: present = a->has_i; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: present = a->has_f; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: present = a->has_s; break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: present = a->n_ints > 0; break;
    default: break;
  }
  if (!present)
    return qb_fail(err, "%s: attribute '%s' has no type and no %s value", where, name,
                   attr_type_name(want));
  return 0;
}

int qb_onnx_attr_int(const Onnx__NodeProto* node, const char* name, int64_t def, int64_t* out,
                     qb_error* err) {
  const Onnx__AttributeProto* a;
  if (attr_typed(node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, &a, err)) return -1;
  *out = a ? a->i : def;
  return 0;
}

int qb_onnx_attr_float(const Onnx__NodeProto* node, const char* name, float def, float* out,
                       qb_error* err) {
  const Onnx__AttributeProto* a;
  if (attr_typed(node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, &a, err)) return -1;
  *out = a ? a->f : def;
  return 0;
}

int qb_onnx_attr_string(const Onnx__NodeProto* node, const char* name, const char* def,
                        char* out, size_t out_len, qb_error* err) {
  const Onnx__AttributeProto* a;
  if (attr_typed(node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, &a, err)) return -1;
  const char* s = a ? (const char*)a->s.data : (def ? def : "");
  const size_t len = a ? a->s.len : strlen(s);
  char where[320];
  if (a && len && memchr(s, 0, len))
    return qb_fail(err, "%s: attribute '%s' contains a NUL byte",
                   qb_onnx_node_str(node, where, sizeof where), name);
  if (len >= out_len)
    return qb_fail(err, "%s: attribute '%s' is %zu bytes long; the buffer holds %zu",
                   qb_onnx_node_str(node, where, sizeof where), name, len,
                   out_len ? out_len - 1 : 0);
  if (len) memcpy(out, s, len);
  out[len] = 0;
  return 0;
}

int qb_onnx_attr_ints(const Onnx__NodeProto* node, const char* name, const int64_t* def,
                      size_t n_def, int64_t* out, size_t max, size_t* count, qb_error* err) {
  const Onnx__AttributeProto* a;
  *count = 0;
  if (attr_typed(node, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, &a, err)) return -1;
  const int64_t* v = a ? a->ints : def;
  const size_t n = a ? a->n_ints : n_def;
  if (n > max) {
    char where[320];
    return qb_fail(err, "%s: attribute '%s' has %zu values; at most %zu are supported",
                   qb_onnx_node_str(node, where, sizeof where), name, n, max);
  }
  if (n) memcpy(out, v, n * sizeof *v);
  *count = n;
  return 0;
}
