/* Internals shared by the model runtime's files (not a public API). */
#ifndef QB_MODEL_INTERNAL_H
#define QB_MODEL_INTERNAL_H

#include "qb_kernels.h"
#include "qb_model.h"

int qb_model_add_value(qb_model* m, const char* name, qb_value_kind kind, qb_error* err);
int qb_model_constant_convert(const qb_tensor* in, qb_tensor* out, qb_error* err);
/* A constant value from a TensorProto (external data looked up under `dir`). */
struct Onnx__TensorProto;
int qb_model_add_constant(qb_model* m, const char* name, const struct Onnx__TensorProto* tp,
                          const char* dir, qb_error* err);

/* Folds BatchNormalization into a preceding Conv / Gemm (qb_model_fold.c). */
int qb_model_fold_batchnorm(qb_model* m, qb_error* err);

/* Shape inference of one node: reads input dims (and constant inputs), writes the
 * output values' ndim/dims/numel. Errors name the node. (qb_ops_*.c) */
int qb_op_infer(qb_model* m, qb_node* n, qb_error* err);

/* True while a graph input feeds a node where it must be a constant (Reshape's
 * shape, Resize's scales, Range's bounds, ...): it waits for qb_model_bind_constant. */
bool qb_model_params_unbound(const qb_model* m);

/* The same without the float-data check (shape nodes fold through it). */
int qb_op_infer_shapes(qb_model* m, qb_node* n, qb_error* err);

/* Shape nodes (qb_model_shapefold.c): splits them from m->nodes (once), and
 * evaluates one into its constant output(s) for the current shapes. */
int qb_model_partition_shape_nodes(qb_model* m, qb_error* err);
int qb_model_fold_shape_node(qb_model* m, qb_node* n, qb_error* err);
/* A CONST value's shape and F32 view (I64 constants through int_as_f32). */
int qb_value_const_view(qb_value* v, qb_error* err);

/* fp32 computation of one node on explicit input pointers (in[i] is the F32 data
 * of input i, NULL for an omitted input) into its outputs' data. Shapes are those
 * of the values. Callers may substitute inputs (fake-quantized weights). */
void qb_op_run_f32(const qb_model* m, const qb_node* n, const float* const* in);

/* Per family (qb_ops_nn.c, qb_ops_elementwise.c, qb_ops_shape.c): infer returns
 * 1 when the op is not of the family; run returns false then. */
int qb_ops_nn_infer(qb_model* m, qb_node* n, qb_error* err);
bool qb_ops_nn_run(const qb_model* m, const qb_node* n, const float* const* in);
/* Conv / Gemm node n with the Relu / Clip node a that follows it fused
 * (n->f32_fuse_act): writes a's output value; n's own output is not written. */
void qb_ops_nn_run_fused(const qb_model* m, const qb_node* n, const float* const* in,
                         const qb_node* a);
int qb_ops_elementwise_infer(qb_model* m, qb_node* n, qb_error* err);
bool qb_ops_elementwise_run(const qb_model* m, const qb_node* n, const float* const* in);
int qb_ops_shape_infer(qb_model* m, qb_node* n, qb_error* err);
bool qb_ops_shape_run(const qb_model* m, const qb_node* n, const float* const* in);
int qb_ops_index_infer(qb_model* m, qb_node* n, qb_error* err);
bool qb_ops_index_run(const qb_model* m, const qb_node* n, const float* const* in);
int qb_ops_upsample_infer(qb_model* m, qb_node* n, qb_error* err);
bool qb_ops_upsample_run(const qb_model* m, const qb_node* n, const float* const* in);
/* Nearest Resize of node n on elements of esize bytes (4: fp32, 1: u8 values). */
void qb_resize_nearest_gather(const qb_model* m, const qb_node* n, const void* x, void* y,
                              size_t esize);
/* Transpose of node n on elements of esize bytes (4: fp32, 1: u8 values). */
void qb_transpose_gather(const qb_model* m, const qb_node* n, const void* x, void* y, size_t esize);
/* Resize's tables in qb_model.op_scratch. */
size_t qb_resize_scratch_bytes(const qb_model* m, const qb_node* n);
/* A constant 1-D int64 input (Reshape shape, Slice bounds, axes); absent: *v NULL. */
int qb_node_const_ints(const qb_model* m, const qb_node* n, int i, const int64_t** v, size_t* len,
                       qb_error* err);

/* Conv geometry of a prepared Conv node (input NCHW, weight [Cout, Cin/g, kh, kw]). */
void qb_node_conv_shape(const qb_model* m, const qb_node* n, qb_conv2d_shape* s);

/* The node that reads value v through exactly one input slot, when v is no graph
 * output and nothing else reads it; -1 otherwise. What lets a producer absorb the
 * node after it: the fp32 run's Conv / Gemm + Relu / Clip pairs and the quantized
 * layers' folding (harness/qruntime/qb_model_qplan.c). */
int qb_value_sole_reader(const qb_model* m, int v);
/* The clamp a fused or folding producer applies in place of node a: a Relu (0, +inf),
 * or a Clip whose bounds are absent (the attributes) or constant scalars, neither NaN,
 * lo <= hi. False for any other node. */
bool qb_node_clamp_bounds(const qb_model* m, const qb_node* a, float* lo, float* hi);

/* "node 'conv1' (Conv)" */
const char* qb_node_str(const qb_node* n, char* buf, size_t len);

/* Shape helpers. */
/* Product of dims[from..to). */
static inline size_t qb_dims_prod(const size_t* dims, int from, int to) {
  size_t p = 1;
  for (int i = from; i < to; i++) p *= dims[i];
  return p;
}

/* A pool whose every window lies inside the input (no padding, no dilation, no
 * ceil-mode overhang): the fp32 and u8 MaxPools then skip per-output tap clipping. */
static inline bool qb_pool_windows_inside(const qb_conv2d_shape* s, size_t oh, size_t ow) {
  return !s->pad_top && !s->pad_left && s->dilation_h == 1 && s->dilation_w == 1 &&
         (oh - 1) * s->stride_h + s->kernel_h <= s->in_h &&
         (ow - 1) * s->stride_w + s->kernel_w <= s->in_w;
}

static inline const qb_value* qb_in(const qb_model* m, const qb_node* n, int i) {
  return (i < n->nin && n->in[i] >= 0) ? &m->values[n->in[i]] : NULL;
}
static inline qb_value* qb_out(qb_model* m, const qb_node* n, int i) {
  return (i < n->nout && n->out[i] >= 0) ? &m->values[n->out[i]] : NULL;
}
/* Sets dims and numel of v; fails if the element count exceeds the limit. */
int qb_value_set_shape(qb_value* v, int ndim, const size_t* dims, const qb_node* n, qb_error* err);

/* The fp32 GEMM path's state (qb_ops_f32.c): freed with the model. */
void qb_f32_runtime_free(qb_model* m);
int qb_f32_runtime_prepare(qb_model* m, qb_error* err);

#endif
