/* The quantization state's layout, shared by qb_model_quant.c (weights),
 * qb_model_calib.c (activation statistics) and qb_model_qlayer.c (running a
 * quantized layer). Not a public API. */
#ifndef QB_MODEL_QUANT_INTERNAL_H
#define QB_MODEL_QUANT_INTERNAL_H

#include "qb_model_internal.h"
#include "qb_model_quant.h"

typedef enum { QB_QLAYER_NONE, QB_QLAYER_GEMM, QB_QLAYER_CONV } qb_qlayer_kind;

typedef struct {
  qb_qlayer_kind kind;
  int in_value, out_value;   /* the model's values of input 0 and output 0 */
  bool depthwise;            /* Conv with groups == in_channels: dwconv reference */
  bool int_ok;               /* the integer path applies (else simulated) */
  size_t N, K;               /* weight viewed as [N = output channels, K = reduction] */
  bool b_is_kn;              /* the model stores it [K, N] (Gemm transB=0, MatMul) */
  qb_quantized_tensor wq;    /* quantization of the [N, K] view */
  float* w_fq;               /* dequantized weights in the model's layout */
  const float* bias;         /* the model's fp32 bias (N) or NULL */
  float* w_scale;            /* N: per-channel (or repeated per-tensor) weight scale */
  int32_t* w_zp;             /* N */
  int8_t* w_s8;              /* [N, K] */
  void* packed;              /* groups x packed_group_bytes */
  size_t packed_group_bytes;
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
};

/* Computes bias_q, bias_fq and requant_scale of every layer from act_qp. */
int qb_quant_finish_layers(qb_quant_state* q, qb_error* err);

#endif
