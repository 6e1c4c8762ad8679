/* ONNX protobuf reader: TensorProto files (.pb) and ModelProto files (.onnx).
 *
 * The protobuf messages are the protoc-c bindings of libonnx-dev's onnx.proto
 * (proto2: optional scalars carry has_* flags, absent strings are NULL). This layer
 * only reads and validates; it knows no operator. A model importer builds on it:
 * walk qb_onnx_model.graph->node, read attributes with qb_onnx_attr_*, fetch weights
 * with qb_onnx_initializer.
 *
 * Every function that can fail returns 0 on success or -1 with one sentence in
 * *err naming the file / node / attribute / tensor and what was wrong. Malformed
 * input never crashes: truncated or random bytes, payload sizes that do not match
 * the shape, negative or huge dimensions, unsupported element types and external
 * data are all reported as errors.
 *
 * Tensors (qb_onnx_tensor_from_proto):
 *   - element types FLOAT, DOUBLE, INT8, UINT8, INT16, UINT16, INT32, INT64
 *     (qb_dtype F32, F64, I8, U8, I16, U16, I32, I64); anything else (STRING, BOOL,
 *     FLOAT16, BFLOAT16, UINT32, UINT64, COMPLEX*, UNDEFINED) is rejected by name;
 *   - the payload is raw_data (fixed-width little-endian) or the typed field of the
 *     element type: float_data (FLOAT), double_data (DOUBLE), int64_data (INT64),
 *     int32_data (INT32 and, one value per element, INT8 / UINT8 / INT16 / UINT16,
 *     which must be in range). Exactly one payload field may be used, and its
 *     element count must equal the shape's;
 *   - at most QB_MAX_DIMS dimensions, each >= 0, at most QB_ONNX_MAX_ELEMENTS
 *     elements; an empty dims list is a scalar (ndim 0, numel 1);
 *   - external data (data_location EXTERNAL or external_data entries) and
 *     segmented tensors are not supported yet.
 */
#ifndef QB_ONNX_H
#define QB_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "onnx/onnx.pb-c.h"
#include "qb_error.h"
#include "qb_tensor.h"

/* Largest file read into memory (protobuf messages cannot exceed 2 GiB anyway). */
#define QB_ONNX_MAX_FILE_BYTES ((size_t)1 << 31)
/* Largest tensor accepted, in elements. */
#define QB_ONNX_MAX_ELEMENTS ((int64_t)1 << 31)

/* ------------------------------------------------------------------ tensors */

/* "FLOAT", "UINT8", "STRING", ... for a TensorProto.DataType value; NULL for a
 * value onnx.proto does not define. */
const char* qb_onnx_data_type_name(int32_t data_type);

/* The qb_dtype of an ONNX element type; -1 (no message) when unsupported. */
int qb_onnx_data_type_to_dtype(int32_t data_type, qb_dtype* out);

/* Converts one TensorProto into a freshly allocated qb_tensor (*out is zeroed
 * first, so qb_tensor_free(out) is safe after a failure). Messages name the tensor
 * when it has a name. */
int qb_onnx_tensor_from_proto(const Onnx__TensorProto* tp, qb_tensor* out, qb_error* err);

/* Parses a serialized TensorProto held in memory. `what` names the source in
 * messages (a path, "<buffer>"). name_out (may be NULL) receives the tensor's name
 * ("" when unnamed); a name that does not fit in name_len bytes is an error. */
int qb_onnx_tensor_parse(const void* bytes, size_t size, const char* what, qb_tensor* out,
                         char* name_out, size_t name_len, qb_error* err);

/* Reads a TensorProto file (the input_N.pb / output_N.pb of ONNX test data). */
int qb_onnx_tensor_read(const char* path, qb_tensor* out, char* name_out, size_t name_len,
                        qb_error* err);

/* ------------------------------------------------------------------- models */

typedef struct {
  Onnx__ModelProto* proto;      /* owned, unpacked by protobuf-c */
  const Onnx__GraphProto* graph; /* proto->graph, non-NULL after a successful read */
} qb_onnx_model;

/* Reads and unpacks a model file. Fails if the file does not parse as a
 * ModelProto or has no graph. *out is zeroed first; free with qb_onnx_model_free. */
int qb_onnx_model_read(const char* path, qb_onnx_model* out, qb_error* err);
/* The same from a buffer; `what` names it in messages. */
int qb_onnx_model_parse(const void* bytes, size_t size, const char* what, qb_onnx_model* out,
                        qb_error* err);
void qb_onnx_model_free(qb_onnx_model* m); /* safe on a zeroed or freed model */

/* The opset version imported for a domain ("" or NULL: the default ai.onnx
 * domain, which is also spelled "ai.onnx"); -1 when the model does not import it. */
int64_t qb_onnx_model_opset(const qb_onnx_model* m, const char* domain);

/* The graph initializer with this name, or the value tensor of the Constant node
 * that outputs it (weights held in Constant nodes count as initializers), or NULL. */
const Onnx__TensorProto* qb_onnx_find_initializer(const Onnx__GraphProto* g, const char* name);
/* The initializer converted to a qb_tensor; an error if there is none by that name. */
int qb_onnx_initializer(const Onnx__GraphProto* g, const char* name, qb_tensor* out,
                        qb_error* err);

/* -------------------------------------------------------------------- nodes */

/* Name of input / output i, or NULL when i is out of range or the name is empty
 * (ONNX marks an omitted optional input with ""). */
const char* qb_onnx_node_input(const Onnx__NodeProto* node, size_t i);
const char* qb_onnx_node_output(const Onnx__NodeProto* node, size_t i);

/* "node 'conv1' (Conv)" or "node #? (Conv)" when unnamed, into buf. */
const char* qb_onnx_node_str(const Onnx__NodeProto* node, char* buf, size_t len);

/* The attribute with this name, or NULL. */
const Onnx__AttributeProto* qb_onnx_node_attr(const Onnx__NodeProto* node, const char* name);

/* Attribute getters. An absent attribute yields the default and succeeds; a
 * present one of another type is an error naming the node, the attribute, the
 * type found and the type expected. (Attributes written without a `type` field, as
 * some old exporters do, are accepted when the matching value field is set.) */
int qb_onnx_attr_int(const Onnx__NodeProto* node, const char* name, int64_t def, int64_t* out,
                     qb_error* err);
int qb_onnx_attr_float(const Onnx__NodeProto* node, const char* name, float def, float* out,
                       qb_error* err);
/* Copies the string (NUL-terminated) into out; a value that does not fit in out_len
 * bytes, or that contains a NUL byte, is an error. def may be NULL (means ""). */
int qb_onnx_attr_string(const Onnx__NodeProto* node, const char* name, const char* def,
                        char* out, size_t out_len, qb_error* err);
/* Copies up to `max` values into out and their number into *count; more than
 * `max` values is an error. An absent attribute copies def[0..n_def) (def may be
 * NULL when n_def is 0). */
int qb_onnx_attr_ints(const Onnx__NodeProto* node, const char* name, const int64_t* def,
                      size_t n_def, int64_t* out, size_t max, size_t* count, qb_error* err);

#endif /* QB_ONNX_H */
