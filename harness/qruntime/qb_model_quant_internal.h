/* The quantization state's layout, shared by qb_model_quant.c (weights),
 * qb_model_calib.c (activation statistics) and qb_model_qlayer.c (running a
 * quantized layer). Not a public API. */
#ifndef QB_MODEL_QUANT_INTERNAL_H
#define QB_MODEL_QUANT_INTERNAL_H

#include "qb_f32_gemm_threaded.h"
#include "qb_gemm_threaded.h"
#include "qb_model_internal.h"
#include "qb_model_quant.h"
#include "qb_thread_pool.h"

/* CONVT: ConvTranspose (group 1), weight [Cin, Cout, kh, kw] viewed as [Cout, Cin*kh*kw];
 * no integer kernel yet: its quantized runs are simulated (fake-quant weights and
 * activations at the same points as Conv), also in INTEGER runs. */
typedef enum { QB_QLAYER_NONE, QB_QLAYER_GEMM, QB_QLAYER_CONV, QB_QLAYER_CONVT } qb_qlayer_kind;

/* Which kernels a layer's INTEGER run uses (chosen once, at qb_quant_create):
 *   SIMULATED  no integer kernel applies: the simulated layer runs;
 *   Q8         u8 x s8 -> s32 GEMM (im2col for Conv) or the dwconv family, with the
 *              table's quantize / requantize / dequantize;
 *   W4A32      Gemm/MatMul, weight-only, <= 4-bit weights: qb_f32_q4_f32_wgemm family;
 *   W4A8       Gemm/MatMul, dynamic, <= 4-bit weights, 8-bit activations: row
 *              quantization + qb_qs8_q4_f32_wgemm family (qb_model_w4.c). */
typedef enum { QB_QPATH_SIMULATED, QB_QPATH_Q8, QB_QPATH_W4A32, QB_QPATH_W4A8 } qb_qpath;

/* A [N, K] weight in the int4 wgemm layout (qb_kernels.h): rows of (K + 1) / 2
 * bytes, groups of G along K, scale / zero point per (row, group); or, for a W4A8
 * entry with its own layout (entry->pack), that entry's packed weights only (w,
 * scale, zero_point NULL). */
typedef struct {
  uint8_t* w;
  float* scale;            /* N * ngroups */
  int8_t* zero_point;      /* N * ngroups (affine, 0..15), or NULL (symmetric) */
  void* packed;            /* the W4A8 entry's layout, or NULL */
  bool affine;             /* zero points (else symmetric signed nibbles) */
  size_t group, ngroups;
} qb_w4_weights;

typedef struct {
  qb_qlayer_kind kind;
  int in_value;              /* the model's value of input 0 */
  int out_value;             /* the value the layer writes: output 0, or (static) the output
                              * of the last node folded into it */
  /* Static workflow: nodes folded into the layer's epilogue, consecutive after it
   * (qb_model_qplan.c): a constant bias Add after a bias-less MatMul, then a
   * Relu / Clip whose bounds become the output clamp. */
  int bias_add_node, act_node; /* node indices or -1 */
  float act_lo, act_hi;      /* the folded activation's bounds (none: -inf, +inf) */
  size_t last_node;          /* the last node the layer covers (itself when none folded) */
  char* name;                /* "conv1+relu1" when nodes are folded, else NULL */
  bool depthwise;            /* Conv with groups == in_channels: the dwconv family */
  bool int_ok;               /* the integer path applies (else simulated) */
  size_t N, K;               /* weight viewed as [N = output channels, K = reduction] */
  bool b_is_kn;              /* the model stores it [K, N] (Gemm transB=0, MatMul) */
  size_t taps;               /* CONVT: kh*kw (the view's k = ci*taps + tap) */
  qb_quantized_tensor wq;    /* quantization of the [N, K] view */
  float* w_fq;               /* dequantized weights in the model's layout */
  qb_f32_packed_b w_fq_packed; /* w_fq packed for the fp32 GEMM on first use (weight-only) */
  const float* bias;         /* the model's fp32 bias (N) or NULL */
  float* w_scale;            /* N: per-channel (or repeated per-tensor) weight scale */
  int32_t* w_zp;             /* N */
  int8_t* w_s8;              /* [N, K] */
  int32_t* w_sum;            /* N: sum_k (w_s8 - w_zp), per-token dynamic Gemm (else NULL) */
  qb_qpath path;
  qb_gemm_threaded_weights* packed; /* Q8 GEMM: one per conv group, q->threads slices */
  size_t packed_groups;
  qb_w4_weights w4;          /* W4A32 / W4A8 */
  /* Static workflow, after calibration: */
  int32_t* bias_q;           /* N: round(b / (sx * sw[n])) */
  float* bias_fq;            /* N: bias_q * sx * sw[n] (the simulated bias) */
  float* requant_scale;      /* N: sx * sw[n] / sy in float32 */
  qb_fixedpoint_multiplier* requant_fixed; /* N: the same as Q31 fixed point (gemmlowp rule) */
  int32_t out_qmin, out_qmax; /* output clamp: the scheme's range cut by the folded activation */
  const char* kernel;
} qb_qlayer;

/* Where element (r, c) of the [N, K] view lives in the model's weight. */
static inline size_t qb_qlayer_w_index(const qb_qlayer* L, size_t r, size_t c) {
  if (L->kind == QB_QLAYER_CONVT) return (c / L->taps * L->N + r) * L->taps + c % L->taps;
  return L->b_is_kn ? c * L->N + r : r * L->K + c;
}

typedef struct {
  bool needed;
  float min, max;
  float *batch_min, *batch_max;
  size_t nbatches, batch_cap;
  float* sample;
  size_t nsample;
  uint64_t seen, rng;
} qb_act_stats;

/* How a node runs in a quantized run (qb_model_qplan.c decides at every run start,
 * since the numeric suite and mixed runs switch layers to float between runs):
 *   FLOAT     fp32 op; integer inputs are dequantized first (an "fp32 island");
 *   FOLDED    folded into an earlier layer: skipped;
 *   LAYER_Q8  static integer layer: u8 in (quantized if it is not), u8 out;
 *   LAYER_F32 any other quantized layer: fp32 in, fp32 out (simulated, dynamic
 *             integer, W4 paths);
 *   PASS      MaxPool / Flatten / Reshape / Transpose / Identity on u8, the output
 *             keeps the input's qparams;
 *   POOL      AveragePool / GlobalAveragePool: int32 sums requantized;
 *   ADD       two u8 tensors rescaled onto the output grid (QLinearAdd);
 *   CONCAT    u8 inputs requantized onto the output grid.
 * In SIMULATED runs the same points fake-quantize (qb_model_qrun.c). */
typedef enum {
  QB_QNODE_FLOAT, QB_QNODE_FOLDED, QB_QNODE_LAYER_Q8, QB_QNODE_LAYER_F32,
  QB_QNODE_PASS, QB_QNODE_POOL, QB_QNODE_ADD, QB_QNODE_CONCAT
} qb_qnode_run;

/* The graph as the plan needs it (copied at create: the state outlives no model). */
typedef struct {
  qb_op op;
  int nin;
  int in[QB_NODE_MAX_INPUTS];
  int out;
  int folded_into; /* the layer this node is folded into, or -1 */
  bool same_shapes; /* every input has the output's element count (no broadcasting) */
  bool moves_only;  /* the op only moves or selects values: u8 in, u8 out, same qparams */
} qb_qnode;

/* Growable scratch of the integer run (one buffer per use). */
enum { QB_SCR_ACC, QB_SCR_TILE, QB_SCR_COLS, QB_SCR_DWACC, QB_SCR_REP, QB_SCR_REPQ, QB_SCR_XQ,
       QB_SCR_F32, QB_SCR_XF, QB_SCR_MERGE, QB_SCR_COUNT };

struct qb_quant_state {
  qb_qconfig cfg;
  qb_backend backend;
  const qb_dispatch_table* table;
  size_t nnodes, nvalues;
  qb_qlayer* layers;         /* per node */
  qb_act_stats* stats;       /* per value */
  qb_qparams* act_qp;        /* per value (static, after calibration) */
  bool* act_has;
  bool calibrated;
  size_t threads;            /* >= 1; > 1: pool runs the Q8 GEMMs and the W4 kernels */
  qb_thread_pool* pool;      /* NULL for one thread */
  /* The graph and the run plan (qb_model_qplan.c). */
  qb_qnode* nodes;           /* per node */
  bool* value_const;         /* per value */
  qb_qnode_run* run;         /* per node, this run */
  bool* value_int;           /* per value: produced as u8 in this run's plan */
  /* Integer values of the current run: u8 data per value, and which form is current. */
  uint8_t** u8;
  size_t* u8_cap;
  bool *has_u8, *has_f32;
  void* scratch[QB_SCR_COUNT];
  size_t scratch_cap[QB_SCR_COUNT];
};

/* Gives pass-through nodes their input's qparams, then computes bias_q, bias_fq,
 * requant_scale / requant_fixed and the output clamp of every layer from act_qp. */
int qb_quant_finish_layers(qb_quant_state* q, qb_error* err);

/* qb_model_qplan.c: graph analysis at create (folding, which values need
 * calibration) and the per-run plan. */
int qb_qplan_create(qb_quant_state* q, const qb_model* m, qb_error* err);
void qb_qplan_free(qb_quant_state* q);
void qb_qplan_propagate_qparams(qb_quant_state* q);
void qb_qplan_run(qb_quant_state* q);
/* qb_model_qrun.c: a SIMULATED or INTEGER run of the prepared model (inputs copied). */
int qb_quant_run(qb_quant_state* q, qb_model* m, const qb_model_exec* exec, qb_error* err);
/* Grows scratch `slot` to at least `bytes`; NULL (err filled) when out of memory. */
void* qb_quant_scratch(qb_quant_state* q, int slot, size_t bytes, qb_error* err);
/* The u8 form of value v (numel elements): quantized from its fp32 data with its
 * qparams when not current. NULL with err (no qparams, non-finite data, memory). */
const uint8_t* qb_quant_value_u8(qb_quant_state* q, const qb_model* m, int v, qb_error* err);
/* Storage for value v's u8 form, marked current (its fp32 form not). */
uint8_t* qb_quant_value_u8_out(qb_quant_state* q, const qb_model* m, int v, qb_error* err);
/* Makes value v's fp32 data current (dequantizes its u8 form when needed). */
void qb_quant_value_f32(qb_quant_state* q, const qb_model* m, int v);

/* qb_model_qlayer.c: layer k. Integer static: u8 in -> u8 out (out_value). Other
 * quantized runs: fp32 inputs `in` -> fp32 into y (numel of out_value). */
int qb_qlayer_run_q8(qb_quant_state* q, const qb_model* m, size_t k, const uint8_t* xq,
                     uint8_t* yq, qb_error* err);
int qb_qlayer_run_f32(qb_quant_state* q, const qb_model* m, size_t k, const float* const* in,
                      qb_exec_mode mode, float* y, qb_error* err);
/* y = dequantize(quantize(x)) on the activation grid p; y may be x. */
void qb_quant_fake(const qb_quant_state* q, qb_qparams p, const float* x, size_t n, float* y);

/* qb_model_qops.c: the integer forms of the ops between layers (node k, u8 values). */
int qb_qops_run(qb_quant_state* q, const qb_model* m, size_t k, qb_error* err);
const char* qb_qops_kernel(qb_qnode_run run);

/* qb_model_w4.c: packs L->wq into L->w4 (0; 1 leaving L->w4 empty if the weights
 * do not fit 4-bit nibbles; -1 with err on failure), frees it, and runs a W4A32 /
 * W4A8 layer: y (M x N) = x (M x K) . W^T + bias. repack: the W4A8 entry that will
 * run the layer (its own layout, built once here, when repack->pack), or NULL. */
int qb_w4_pack(qb_qlayer* L, const qb_qconfig* cfg, const qb_qs8_q4_f32_wgemm_entry* repack,
               qb_error* err);
void qb_w4_free(qb_w4_weights* w);
int qb_w4_run(qb_quant_state* q, const qb_qlayer* L, const float* x, size_t M, float* y,
              qb_error* err);
/* The W4A8 activation rounding, for the simulated layer: x (M x K) -> (float)xq * sx. */
int qb_w4a8_fake_quant(qb_quant_state* q, const float* x, size_t M, size_t K, float* y,
                       qb_error* err);

#endif
