/* Probing a quantization state for the numeric suite (harness/sweep/qb_sweep_eval*):
 * read a layer's dequantized weights and input range, run a single quantized layer on
 * inputs of the caller's choice (the float model's: shadow error), keep chosen layers
 * in float for a run (sensitivity), and reuse one calibration for many qconfigs.
 *
 * These read and patch qb_quant_state from outside the runtime's own files, so the
 * runtime's life cycle (qb_model_quant.h) is unchanged. */
#ifndef QB_MODEL_PROBE_H
#define QB_MODEL_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "qb_model.h"
#include "qb_model_quant.h"

/* Is node k a quantized layer (Gemm / MatMul / Conv with constant weights)? */
bool qb_probe_is_layer(const qb_quant_state* q, size_t k);
/* Its dequantized weights in the model's layout (same numel as the model's weight
 * input 1), the weight elements clipped by the range strategy; NULL if not a layer. */
const float* qb_probe_dequant_weights(const qb_quant_state* q, size_t k, size_t* clipped);
/* Does the layer run on an integer kernel in QB_EXEC_INTEGER mode? */
bool qb_probe_runs_integer(const qb_quant_state* q, size_t k);

/* The inputs the layer's input grid represents without clipping, [lo, hi] = the end
 * codes -/+ half a step (static: the calibrated qparams; false when the input has
 * none, e.g. dynamic / weight-only). Inputs outside saturate. */
bool qb_probe_input_range(const qb_quant_state* q, size_t k, float* lo, float* hi);

/* A static layer covers the nodes folded into it (conv1+relu1): its output is the
 * last one's. Is node j the last node of a layer (returned in k)? */
bool qb_probe_layer_output(const qb_quant_state* q, size_t j, size_t* k);
/* The last node layer k covers (k itself when nothing is folded). */
size_t qb_probe_layer_last_node(const qb_quant_state* q, size_t k);
/* Elements of layer k's output (the last covered node's), 0 if not a layer. */
size_t qb_probe_layer_numel(const qb_quant_state* q, const qb_model* m, size_t k);

/* How a node that is not a layer ran in the last quantized run: "int8" (an integer
 * op: pool, Add, Concat, or a reshape / max that keeps its input's grid), "fp32" (an
 * fp32 op; on integer inputs an island: dequantize, op, and the next integer node
 * quantizes), NULL for a layer or a node folded into one. */
const char* qb_probe_node_path(const qb_quant_state* q, size_t k);

/* Runs layer k quantized (mode SIMULATED or INTEGER) on the given inputs (one pointer
 * per node input, as qb_model_run passes them), folded nodes included, writing its
 * output into `out` (qb_probe_layer_numel floats). Node k's own output value in the
 * arena is overwritten (a hook restores it). Returns 0 or -1 with err. */
int qb_probe_run_layer(qb_quant_state* q, const qb_model* m, size_t k, const float* const* in,
                       qb_exec_mode mode, float* out, qb_error* err);

/* Keep layers in float: float_layer[k] true -> node k runs fp32 in quantized runs.
 * Returns the saved state (NULL when out of memory) that qb_probe_restore puts back;
 * restore before any other mask and before qb_quant_free. */
typedef struct qb_probe_mask qb_probe_mask;
qb_probe_mask* qb_probe_keep_float(qb_quant_state* q, const bool* float_layer);
void qb_probe_restore(qb_quant_state* q, qb_probe_mask* saved);

/* Static workflow: copy the calibration statistics of `from` (a calibrated state of
 * the same model) into q, then choose q's ranges with its own strategy. The model is
 * not run again: one calibration serves every weight config and range strategy. */
int qb_probe_copy_calibration(qb_quant_state* q, const qb_quant_state* from, qb_error* err);

/* Static workflow: the chosen activation qparams of every value (q->nvalues entries;
 * has[v] false where none). qb_probe_set_act_qparams installs saved ones (from a
 * state of the same model with the same activation spec and range strategy) and
 * derives the layers' integer constants: ranges chosen once serve every weight
 * config (choosing percentile / MSE / entropy ranges sorts the calibration sample). */
size_t qb_probe_nvalues(const qb_quant_state* q);
void qb_probe_get_act_qparams(const qb_quant_state* q, qb_qparams* qp, bool* has);
int qb_probe_set_act_qparams(qb_quant_state* q, const qb_qparams* qp, const bool* has,
                             qb_error* err);

#endif
