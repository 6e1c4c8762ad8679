/* qconfig: how a model is quantized = weight spec + activation spec + workflow.
 *
 * Text form (the CLI's --qconfig), three parts separated by '/':
 *
 *   w<bits>[-token...] / a<bits>[-token...] / <workflow>
 *
 *   tokens (any order):  sym | aff               scheme            (w: sym, a: aff)
 *                        tensor | channel | group:G  granularity   (w: channel, a: tensor)
 *                        token                    activations of the dynamic workflow: one
 *                                                 scale per row of a Gemm / MatMul input
 *                        minmax | movavg | percentile:P | mse | entropy | crossentropy
 *                                                 range strategy   (minmax)
 *                        signed | unsigned        storage          (w: signed, a: unsigned)
 *                        restricted               drop the lowest code (-127..127)
 *                        div | mulrecip           rounding of x/scale (div, as ONNX)
 *   activation part only: fp32 | gemmlowp         requantization rule of the static
 *                                                 integer layers (fp32)
 *   workflow:            static (default) | dynamic | weight-only
 *
 * The activation part may be omitted for weight-only ("w4-sym-group:32/weight-only").
 * Examples:
 *   w8-sym-channel-minmax/a8-aff-tensor-minmax/static
 *   w8/a8                                  (the same, all defaults)
 *   w4-sym-channel-mse/a8-aff-percentile:99.99/static
 *   w8/a8/dynamic
 *
 * Workflows:
 *   weight-only  weights quantized (fake-quant), activations fp32;
 *   dynamic      activation qparams of each quantized layer's input computed at run
 *                time per sample (per tensor), or per row with `token` (Gemm /
 *                MatMul; a Conv's input rows overlap, so Conv stays per sample),
 *                with the range strategy; layer outputs stay fp32 (as PyTorch's
 *                dynamic Linear);
 *   static       activation qparams of every quantized layer's input and output
 *                from calibration data; layers chain requantized 8-bit values.
 * Activations are per tensor (per token: dynamic only). Weights are quantized along the output
 * channel (axis 0 of [out, in] / [Cout, Cin/g, kh, kw]); groups run along the
 * reduction dimension. */
#ifndef QB_QCONFIG_H
#define QB_QCONFIG_H

#include <stddef.h>

#include "qb_error.h"
#include "qb_tensor_quant.h"

/* QB_WORKFLOW_QAT is a sweep workflow, not a runtime one: the sweep fine-tunes the
 * model with fake quantization on the item's grid (harness/train/qb_qat.h), then the
 * runtime quantizes the fine-tuned model exactly as static. qb_quant_create refuses
 * it and qb_qconfig_parse does not accept it. */
typedef enum {
  QB_WORKFLOW_WEIGHT_ONLY,
  QB_WORKFLOW_DYNAMIC,
  QB_WORKFLOW_STATIC,
  QB_WORKFLOW_QAT
} qb_workflow;

/* How a static integer layer maps its int32 accumulators onto its output grid:
 *   FP32      round_half_even((float)(acc + bias) * (sx*sw/sy)) (XNNPACK "fp32",
 *             onnxruntime's QLinearConv / QLinearMatMul);
 *   GEMMLOWP  the multiplier as Q31 fixed point + rounding shift (TFLite, gemmlowp).
 * Printed in the canonical text only when not the default (as "-gemmlowp"). */
typedef enum { QB_REQUANT_FP32 = 0, QB_REQUANT_GEMMLOWP = 1 } qb_requant_rule;

typedef struct {
  qb_tensor_qspec weight;
  qb_tensor_qspec act;
  qb_workflow workflow;
  qb_requant_rule requant;
} qb_qconfig;

/* Defaults: w8 symmetric signed per-channel minmax, a8 affine unsigned per-tensor
 * minmax, static. */
qb_qconfig qb_qconfig_default(void);
int qb_qconfig_parse(const char* text, qb_qconfig* out, qb_error* err);
/* The canonical text (every token spelled out); parses back to the same config. */
const char* qb_qconfig_str(const qb_qconfig* c, char* buf, size_t len);
const char* qb_workflow_name(qb_workflow w);

#endif
