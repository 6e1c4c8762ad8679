/* The quantization state's layout, shared by qb_model_quant.c (weights),
 * qb_model_calib.c (activation statistics) and qb_model_qlayer.c (running a
 * quantized layer). Not a public API. */
#ifndef QB_MODEL_QUANT_INTERNAL_H
#define QB_MODEL_QUANT_INTERNAL_H

#include "qb_gemm_threaded.h"
#include "qb_model_internal.h"
#include "qb_model_quant.h"
#include "qb_thread_pool.h"

typedef enum { QB_QLAYER_NONE, QB_QLAYER_GEMM, QB_QLAYER_CONV } qb_qlayer_kind;

/* Which kernels a layer's INTEGER run uses (chosen once, at qb_quant_create):
 *   SIMULATED  no integer kernel applies: the simulated layer runs;
 *   Q8         u8 x s8 -> s32 GEMM (im2col for Conv) or the dwconv family, with the
 *              table's quantize / requantize / dequantize;
 *   W4A32      Gemm/MatMul, weight-only, <= 4-bit weights: qb_f32_q4_f32_wgemm family;
 *   W4A8       Gemm/MatMul, dynamic, <= 4-bit weights, 8-bit activations: row
 *              quantization + qb_qs8_q4_f32_wgemm family (qb_model_w4.c). */
typedef enum { QB_QPATH_SIMULATED, QB_QPATH_Q8, QB_QPATH_W4A32, QB_QPATH_W4A8 } qb_qpath;

/* A [N, K] weight in the int4 wgemm layout (qb_kernels.h): rows of (K + 1) / 2
 * bytes, groups of G along K, scale / zero point per (row, group). */
typedef struct {
  uint8_t* w;
  float* scale;            /* N * ngroups */
  int8_t* zero_point;      /* N * ngroups (affine, 0..15), or NULL (symmetric) */
  size_t group, ngroups;
} qb_w4_weights;

typedef struct {
  qb_qlayer_kind kind;
  int in_value, out_value;   /* the model's values of input 0 and output 0 */
  bool depthwise;            /* Conv with groups == in_channels: the dwconv family */
  bool int_ok;               /* the integer path applies (else simulated) */
  size_t N, K;               /* weight viewed as [N = output channels, K = reduction] */
  bool b_is_kn;              /* the model stores it [K, N] (Gemm transB=0, MatMul) */
  qb_quantized_tensor wq;    /* quantization of the [N, K] view */
  float* w_fq;               /* dequantized weights in the model's layout */
  const float* bias;         /* the model's fp32 bias (N) or NULL */
  float* w_scale;            /* N: per-channel (or repeated per-tensor) weight scale */
  int32_t* w_zp;             /* N */
  int8_t* w_s8;              /* [N, K] */
  qb_qpath path;
  qb_gemm_threaded_weights* packed; /* Q8 GEMM: one per conv group, q->threads slices */
  size_t packed_groups;
  qb_w4_weights w4;          /* W4A32 / W4A8 */
  /* Static workflow, after calibration: */
  int32_t* bias_q;           /* N: round(b / (sx * sw[n])) */
  float* bias_fq;            /* N: bias_q * sx * sw[n] (the simulated bias) */
  float* requant_scale;      /* N: sx * sw[n] / sy in float32 */
  const char* kernel;
} qb_qlayer;

typedef struct {
  bool needed;
  float min, max;
  float *batch_min, *batch_max;
  size_t nbatches, batch_cap;
  float* sample;
  size_t nsample;
  uint64_t seen, rng;
} qb_act_stats;

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
};

/* Computes bias_q, bias_fq and requant_scale of every layer from act_qp. */
int qb_quant_finish_layers(qb_quant_state* q, qb_error* err);

/* qb_model_w4.c: packs L->wq into L->w4 (0; 1 leaving L->w4 empty if the weights
 * do not fit 4-bit nibbles; -1 with err on failure), frees it, and runs a W4A32 /
 * W4A8 layer: y (M x N) = x (M x K) . W^T + bias. */
int qb_w4_pack(qb_qlayer* L, const qb_qconfig* cfg, qb_error* err);
void qb_w4_free(qb_w4_weights* w);
void qb_w4_run(const qb_quant_state* q, const qb_qlayer* L, const float* x, size_t M, float* y);
/* The W4A8 activation rounding, for the simulated layer: x (M x K) -> (float)xq * sx. */
void qb_w4a8_fake_quant(const float* x, size_t M, size_t K, float* y);

#endif
