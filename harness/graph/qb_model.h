/* The model runtime: a small graph IR imported from ONNX, run in fp32, in
 * simulation (fake-quant) or on the integer kernels.
 *
 * A model is a list of nodes in topological order over named values. A value is a
 * graph input (float32 activations with a dynamic batch, or an int64 input bound
 * to a constant with qb_model_bind_constant), a constant (initializer: float32 or
 * int64 data) or an activation (produced by exactly one node). Every activation is
 * float32 in the arena; a static INTEGER run keeps the values between integer
 * nodes as u8 in the quantization state instead (qb_model_quant.h) and writes
 * fp32 only where an fp32 op, a hook or a graph output reads them.
 *
 * Life cycle:
 *   qb_model_load_onnx(path, &m, &err)     parse, check, fold BatchNormalization,
 *                                          infer shapes for batch 1 (errors surface here)
 *   qb_model_prepare(&m, batch, &err)      shapes for this batch, plan the arena
 *   qb_model_run(&m, inputs, exec, &err)   any number of times
 *   qb_model_free(&m)
 *
 * Activation memory is one arena planned from liveness: a value lives from the
 * node that produces it to its last consumer (graph outputs to the end); values
 * whose lifetimes overlap never share bytes. qb_model.arena_bytes is the peak;
 * qb_model.naive_bytes what one buffer per value would take. */
#ifndef QB_MODEL_H
#define QB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"
#include "qb_tensor.h"

#define QB_NODE_MAX_INPUTS 16
/* The ONNX default-domain opsets the importer reads (README: supported ops). */
#define QB_MODEL_OPSET_MIN 9
#define QB_MODEL_OPSET_MAX 18
#define QB_NODE_MAX_OUTPUTS 3
/* Largest activation accepted by shape inference, in elements (2^31). */
#define QB_MODEL_MAX_ELEMENTS ((int64_t)1 << 31)
/* Limits of prepare (errors, not crashes or hangs, for absurd models): the activation
 * arena and the operator scratch (1 GiB each) and the work of one Conv/pool node per
 * sample (2^30 multiply-adds). */
#define QB_MODEL_MAX_ARENA_BYTES ((size_t)1 << 30)
#define QB_MODEL_MAX_NODE_WORK ((int64_t)1 << 30)

typedef enum {
  QB_OP_GEMM, QB_OP_MATMUL, QB_OP_CONV, QB_OP_BATCHNORM,
  QB_OP_MAXPOOL, QB_OP_AVGPOOL, QB_OP_GLOBALAVGPOOL,
  QB_OP_RELU, QB_OP_CLIP, QB_OP_SIGMOID, QB_OP_HARDSIGMOID, QB_OP_HARDSWISH, QB_OP_ERF,
  QB_OP_SQRT, QB_OP_IDENTITY,
  QB_OP_ADD, QB_OP_SUB, QB_OP_MUL, QB_OP_DIV, QB_OP_POW,
  QB_OP_SOFTMAX, QB_OP_LAYERNORM, QB_OP_REDUCEMEAN,
  QB_OP_FLATTEN, QB_OP_RESHAPE, QB_OP_TRANSPOSE, QB_OP_CONCAT, QB_OP_SLICE,
  QB_OP_QUANTIZE, QB_OP_DEQUANTIZE, /* QDQ graphs: integers carried as exact floats */
  QB_OP_SHAPE, QB_OP_CAST, QB_OP_RANGE, /* evaluated at prepare only (qb_model_shapefold.c) */
  QB_OP_GATHER, QB_OP_SQUEEZE, QB_OP_UNSQUEEZE, QB_OP_RESIZE, QB_OP_CONVTRANSPOSE,
  QB_OP_COUNT
} qb_op;

/* ONNX op_type of an op, and the op of an op_type (-1 when unsupported). */
const char* qb_op_name(qb_op op);
int qb_op_from_name(const char* op_type);

/* Attributes of every op, resolved at import (defaults filled in) or, for values
 * read from constant inputs (Reshape shape, Slice bounds, Clip limits), at prepare. */
typedef struct {
  int64_t axis;                 /* Flatten, Softmax, Concat, LayerNorm */
  int64_t trans_a, trans_b;     /* Gemm */
  float alpha, beta;            /* Gemm, HardSigmoid */
  float epsilon;                /* BatchNorm, LayerNorm */
  float clip_min, clip_max;     /* Clip */
  int64_t group;                /* Conv */
  int64_t kernel[2], strides[2], dilations[2];
  int64_t pads[4];              /* top, left, bottom, right */
  int auto_pad;                 /* 0 NOTSET/VALID (pads explicit), 1 SAME_UPPER, 2 SAME_LOWER */
  int64_t ceil_mode, count_include_pad;
  int64_t perm[QB_MAX_DIMS];    /* Transpose */
  int nperm;
  int64_t axes[QB_MAX_DIMS];    /* ReduceMean */
  int naxes;
  int64_t keepdims;
  int64_t allowzero;            /* Reshape */
  int64_t noop_with_empty_axes; /* ReduceMean (opset 18) */
  int64_t to;                   /* Cast: ONNX element type */
  int64_t start, end;           /* Shape (opset 15): dims [start, end) */
  int64_t output_padding[2];    /* ConvTranspose */
  int64_t output_shape[2];      /* ConvTranspose; 0 = not given */
  int resize_mode;              /* Resize: 0 nearest, 1 linear */
  int coord_mode;               /* Resize: qb_resize_coord */
  int nearest_mode;             /* Resize: qb_resize_nearest */
} qb_node_attrs;

/* Resize's coordinate_transformation_mode and nearest_mode. */
typedef enum {
  QB_RESIZE_HALF_PIXEL, QB_RESIZE_PYTORCH_HALF_PIXEL, QB_RESIZE_ALIGN_CORNERS,
  QB_RESIZE_ASYMMETRIC, QB_RESIZE_TF_HALF_PIXEL_FOR_NN
} qb_resize_coord;
typedef enum {
  QB_RESIZE_ROUND_PREFER_FLOOR, QB_RESIZE_ROUND_PREFER_CEIL, QB_RESIZE_FLOOR, QB_RESIZE_CEIL
} qb_resize_nearest;
/* Their ONNX attribute strings, indexed by the enums (import reads, export writes). */
enum { QB_RESIZE_COORD_COUNT = 5, QB_RESIZE_NEAREST_COUNT = 4 };
extern const char* const qb_resize_coord_names[QB_RESIZE_COORD_COUNT];
extern const char* const qb_resize_nearest_names[QB_RESIZE_NEAREST_COUNT];

typedef enum { QB_VALUE_INPUT, QB_VALUE_CONST, QB_VALUE_ACT } qb_value_kind;

typedef struct {
  char* name;
  qb_value_kind kind;
  qb_tensor constant;     /* CONST: F32 or I64 data (owned) */
  qb_dtype source_dtype;  /* CONST: element type in the file (INT8 vs UINT8 zero points) */
  float* int_as_f32;      /* CONST I64: the values as floats (QDQ integer inputs) */
  bool is_output;
  bool int64_input;       /* INPUT of integer type: must be bound to a constant */
  int ndecl;              /* INPUT: declared shape, -1 = symbolic */
  int64_t decl[QB_MAX_DIMS];
  size_t given[QB_MAX_DIMS]; /* INPUT: sizes of symbolic dims after 0 (qb_model_set_input_shape) */
  bool computed;          /* CONST computed at prepare by a shape node (Shape -> ... -> Reshape) */
  /* Filled by prepare: */
  int ndim;
  size_t dims[QB_MAX_DIMS];
  size_t numel;
  int producer;           /* node index, -1 for inputs and constants */
  int last_use;           /* last consuming node (nnodes for graph outputs) */
  size_t offset;          /* byte offset in the arena (INPUT and ACT) */
  float* data;            /* F32 data: arena or constant */
} qb_value;

typedef struct {
  char* name;             /* the ONNX node name ("" replaced by "<op_type>_<index>") */
  qb_op op;
  int nin, nout;
  int in[QB_NODE_MAX_INPUTS];   /* value indices, -1 for an omitted optional input */
  int out[QB_NODE_MAX_OUTPUTS]; /* -1 for an omitted optional output */
  qb_node_attrs a;
  size_t fold_at;         /* shape nodes: evaluated before runtime node fold_at */
  /* Set by prepare: a Conv / Gemm whose output only the next node reads, a Relu or a
   * Clip with constant bounds (and is no graph output): the fp32 run may fuse that
   * activation into this node (qb_model_run_nodes_f32). */
  bool f32_fuse_act;
} qb_node;

typedef struct {
  qb_value* values;
  size_t nvalues, values_cap;
  qb_node* nodes;         /* the nodes that run, in topological order */
  size_t nnodes;
  /* Shape nodes: Shape and what computes only from shapes and constants (Cast,
   * Gather, Slice, Concat, Squeeze / Unsqueeze, Range, integer arithmetic, ...),
   * split from `nodes` at the first prepare and evaluated at every prepare for the
   * concrete input shape; their outputs are constants (qb_value.computed), so a
   * Reshape reads its shape as a constant. */
  qb_node* shape_nodes;
  size_t nshape_nodes;
  bool partitioned;
  int* inputs;            /* graph inputs that are not constants */
  size_t ninputs;
  int* outputs;
  size_t noutputs;
  int64_t opset;
  size_t folded_batchnorms; /* BatchNormalization nodes folded into Conv/Gemm at load */
  char meta_model[64], meta_dataset[64], meta_preprocess[256];
  /* Set by prepare: */
  size_t batch;
  size_t arena_bytes, naive_bytes;
  void* arena;
  /* Working memory of the fp32 ops (Conv's im2col columns, ReduceMean's double
   * sums), sized for the largest node at prepare so running never allocates. */
  void* op_scratch;
  size_t op_scratch_bytes;
  bool prepared;
  /* The fp32 GEMM path (harness/ops/qb_ops_f32.h): constant weights packed at
   * prepare, the thread pool of qb_model_set_threads. */
  struct qb_f32_runtime* f32;
  bool f32_unfused;       /* qb_model_set_f32_fusion(m, false) */
} qb_model;

int qb_model_load_onnx(const char* path, qb_model* m, qb_error* err);
/* From bytes in memory (`what` names them in messages). */
int qb_model_parse_onnx(const void* bytes, size_t size, const char* what, qb_model* m,
                        qb_error* err);
void qb_model_free(qb_model* m);

/* Index of the value with this name, or -1. */
int qb_model_find_value(const qb_model* m, const char* name);
/* Turns graph input `name` into a constant (copies t; float types become F32,
 * integer types I64). For inputs that carry shapes or indices (Reshape shape,
 * Slice starts) in ONNX test graphs. Invalidates prepare. */
int qb_model_bind_constant(qb_model* m, const char* name, const qb_tensor* t, qb_error* err);

/* Shape inference for this batch size (the first dimension of every dynamic
 * input) and arena planning. Symbolic dimensions after the first (PaddleOCR's H
 * and W) take the sizes given with qb_model_set_input_shape; without them prepare
 * fails naming the input and the dimension. Shape nodes are evaluated here for
 * the concrete shapes. */
int qb_model_prepare(qb_model* m, size_t batch, qb_error* err);

/* Fixes the symbolic dimensions after the first of graph input i (index into
 * m->inputs) to dims[1..ndim) (dims[0], the batch, is ignored); declared sizes must
 * match. The model is then prepared for that shape (a model is prepared for the
 * input shape it is run with). Invalidates prepare. */
int qb_model_set_input_shape(qb_model* m, size_t i, int ndim, const size_t* dims, qb_error* err);
/* For a model with one input: fixes its symbolic dimensions from one data sample's
 * shape (the input's shape without the batch dimension); a sample whose shape
 * differs from the declared one is an error naming both. */
int qb_model_fit_input(qb_model* m, int sample_ndim, const size_t* sample_dims, qb_error* err);
/* True when some graph input has a symbolic dimension after the first that has no
 * size yet. */
bool qb_model_needs_input_shape(const qb_model* m);

/* ------------------------------------------------------------ running */

/* Per-node hook, called after each node with its first output (dims in the value).
 * In quantized runs a layer with folded nodes (a static Conv + Relu) is one call, at
 * the layer's node, with the last folded node's output; folded nodes get none. */
typedef void (*qb_node_hook)(void* ctx, const qb_model* m, size_t node, const qb_value* out);

/* Copies graph inputs into the prepared model's arena: inputs[i] holds the float
 * data of graph input m->inputs[i] (shape as prepared). 0 or -1. */
int qb_model_set_inputs(qb_model* m, const float* const* inputs, qb_error* err);
/* Runs every node in fp32 on the arena's values (inputs set), calling hook (may be
 * NULL) after each. Quantized and calibration runs are the quantized runtime's
 * (qb_model_run in qb_model_quant.h), built on these two.
 *
 * Fusion: without a hook, a Conv / Gemm marked f32_fuse_act runs with the Relu /
 * Clip after it as one node (the activation applied in the pass that writes the
 * output: no pass of its own, as deployment runtimes fuse them), bit-identical to
 * running them apart; the Conv / Gemm's own output value is then not written. A
 * hook sees every node's output, so with one nothing is fused. */
void qb_model_run_nodes_f32(qb_model* m, qb_node_hook hook, void* hook_ctx);
/* The same for a hook that reads no data (timing): fused pairs run fused and get one
 * call, at the Conv / Gemm's index, with the activation's output (as a quantized
 * layer with folded nodes: "conv1+relu1", qb_model_f32_node_name); the activation's
 * node gets none. */
void qb_model_run_nodes_f32_timing(qb_model* m, qb_node_hook hook, void* hook_ctx);
/* Both: the fp32 model on inputs (qb_model_run_nodes_f32). Outputs stay in the
 * arena until the next run: read them with qb_model_output. */
int qb_model_run_f32(qb_model* m, const float* const* inputs, qb_node_hook hook, void* hook_ctx,
                     qb_error* err);
/* Fusion on (the default) or off (every node runs apart; for checks and A/B
 * timing). Takes effect at the next run. */
void qb_model_set_f32_fusion(qb_model* m, bool on);
/* The node index of the activation fused into node k in fp32 runs, or -1 (also when
 * fusion is off). */
int qb_model_f32_fused_act(const qb_model* m, size_t k);
/* A node's name in per-node fp32 rows: "conv1+relu1" for a fused pair, else its own
 * (truncated to len - 1 chars); returns buf. */
const char* qb_model_f32_node_name(const qb_model* m, size_t k, char* buf, size_t len);
const qb_value* qb_model_output(const qb_model* m, size_t i);

/* Threads of the fp32 ops (Gemm / MatMul / Conv GEMMs, depthwise conv), 1..256;
 * default 1. Results are bit-identical for any count (one fmaf chain per output
 * element, split over output rows / columns, never over K; a Conv with at least
 * as many images as threads splits the images instead). Returns 0 or -1 (out of
 * memory for the per-thread conv scratch). */
int qb_model_set_threads(qb_model* m, size_t threads, qb_error* err);
size_t qb_model_threads(const qb_model* m);
/* The fp32 GEMM microkernel every fp32 Gemm / MatMul / Conv runs, chosen once from
 * the best usable backend (honours QB_ISA_MASK), e.g. "qb_f32_gemm_6x16__avx2". */
const char* qb_model_f32_gemm_name(void);
/* The fp32 kernel node k runs (the GEMM's name, the f32_dwconv2d entry's for a
 * depthwise Conv, e.g. "qb_f32_dwconv2d__avx2"), NULL for other ops. */
const char* qb_model_node_f32_kernel(const qb_model* m, size_t k);

#endif /* QB_MODEL_H */
