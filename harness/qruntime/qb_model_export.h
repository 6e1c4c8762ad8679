/* Writing a loaded (and possibly quantized) model back to ONNX, through the ONNX
 * builder (harness/onnx/qb_onnx_builder.h). Opset 17, default domain.
 *
 * fp32: the graph as the runtime holds it (BatchNormalization already folded),
 * node names kept, every attribute written explicitly, Clip limits as
 * initializers. Importing the file gives bit-identical outputs.
 *
 * QDQ (static or weight-only quantization state): the ONNX "quantize-dequantize"
 * form that ONNX Runtime and TensorRT consume. For every quantized layer:
 *   - the weight becomes an integer initializer <w>.quantized (int8 / uint8) with
 *     DequantizeLinear(<w>.quantized, <w>.scale, <w>.zero_point[, axis]) in front;
 *     per-channel weights are per-axis (axis = the output-channel axis: 0 for Conv
 *     and Gemm transB=1, 1 for [K, N] weights);
 *   - (static) its input and output pass through QuantizeLinear -> DequantizeLinear
 *     with the calibrated per-tensor scale / zero point (values named
 *     <tensor>.q and <tensor>.dq); below 8 bits QuantizeLinear's uint8/int8 range is
 *     wider than the b-bit grid, so a Clip to [(qmin - zp) * scale, (qmax - zp) * scale]
 *     follows DequantizeLinear (<tensor>.clip_to_grid): the values are the b-bit grid's,
 *     exactly; the output QDQ follows the nodes folded into the layer (Conv -> Relu ->
 *     Q/DQ, none in between), and the integer pools / Add / Concat of the pipeline get
 *     theirs too, so the file describes the fused integer pipeline
 *     (harness/qruntime/README.md);
 *   - the bias is written as the float values the simulation uses (the int32 grid
 *     sx*sw[c]), so that running the QDQ file in fp32 reproduces the simulation.
 * Not expressible at opset 17 (an error says so): per-group weights (blocked
 * DequantizeLinear needs opset 21), 16-bit activations or weights, the
 * mul-recip rounding (QuantizeLinear divides). */
#ifndef QB_MODEL_EXPORT_H
#define QB_MODEL_EXPORT_H

#include "qb_error.h"
#include "qb_model.h"
#include "qb_model_quant.h"

int qb_model_export_onnx(const qb_model* m, const char* path, qb_error* err);
int qb_model_export_qdq(const qb_model* m, const qb_quant_state* q, const char* path,
                        qb_error* err);
/* Whether a qconfig can be written in QDQ form at all (dynamic, per-group weights,
 * 16-bit tensors, mul-recip activation rounding cannot): checkable from the options
 * alone, so a command refuses before it evaluates anything. 0 or -1 (err says why). */
int qb_model_export_qdq_check(const qb_qconfig* c, qb_error* err);

#endif
