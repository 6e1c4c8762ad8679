/* Building and saving ONNX models (protobuf-c, onnx.proto from libonnx-dev).
 *
 * The one way qbench writes ONNX: the trainer saves the reference models with it,
 * the model runtime exports fp32 and QDQ graphs with it. Names are copied; tensors
 * are stored as raw_data (little endian), as onnxruntime and Netron expect.
 *
 *   qb_onnx_builder* b = qb_onnx_builder_new("qbench", 13);   // producer, opset
 *   qb_onnx_builder_input(b, "input", QB_F32, 4, (int64_t[]){-1, 1, 28, 28});
 *   qb_onnx_builder_initializer(b, "fc.weight", &w);          // a qb_tensor
 *   qb_onnx_node* n = qb_onnx_builder_node(b, "Gemm", "fc", 3,
 *       (const char*[]){"x", "fc.weight", "fc.bias"}, 1, (const char*[]){"y"});
 *   qb_onnx_node_attr_int(n, "transB", 1);
 *   qb_onnx_builder_output(b, "y", QB_F32, 2, (int64_t[]){-1, 10});
 *   qb_onnx_builder_metadata(b, "qbench.preprocess", "x/255; NCHW");
 *   qb_onnx_builder_save(b, "mlp.onnx", &err);
 *   qb_onnx_builder_free(b);
 *
 * A dimension of -1 is written as a symbolic dim ("N"), i.e. a dynamic batch. */
#ifndef QB_ONNX_BUILDER_H
#define QB_ONNX_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"
#include "qb_tensor.h"

typedef struct qb_onnx_builder qb_onnx_builder;
typedef struct qb_onnx_node qb_onnx_node;

qb_onnx_builder* qb_onnx_builder_new(const char* producer, int64_t opset);
void qb_onnx_builder_free(qb_onnx_builder* b);

void qb_onnx_builder_input(qb_onnx_builder* b, const char* name, qb_dtype t, int ndim,
                           const int64_t* dims);
void qb_onnx_builder_output(qb_onnx_builder* b, const char* name, qb_dtype t, int ndim,
                            const int64_t* dims);
/* Copies the tensor (any qb_dtype: F32, F64, I8, U8, I16, U16, I32, I64). */
void qb_onnx_builder_initializer(qb_onnx_builder* b, const char* name, const qb_tensor* t);
/* Appends a node (nodes must be added in topological order). */
qb_onnx_node* qb_onnx_builder_node(qb_onnx_builder* b, const char* op_type, const char* name,
                                   size_t ninputs, const char* const* inputs, size_t noutputs,
                                   const char* const* outputs);
void qb_onnx_node_attr_int(qb_onnx_node* n, const char* name, int64_t v);
void qb_onnx_node_attr_float(qb_onnx_node* n, const char* name, float v);
void qb_onnx_node_attr_ints(qb_onnx_node* n, const char* name, size_t count, const int64_t* v);
void qb_onnx_node_attr_string(qb_onnx_node* n, const char* name, const char* v);
/* A tensor attribute (a copy of t): the 'value' of a Constant node. */
void qb_onnx_node_attr_tensor(qb_onnx_node* n, const char* name, const qb_tensor* t);
/* model.metadata_props entry (key unique; a second call replaces the value). */
void qb_onnx_builder_metadata(qb_onnx_builder* b, const char* key, const char* value);

/* Serializes the model; 0 on success, -1 with err set (I/O). */
int qb_onnx_builder_save(qb_onnx_builder* b, const char* path, qb_error* err);

#endif /* QB_ONNX_BUILDER_H */
