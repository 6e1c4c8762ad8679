/* Quantizing a loaded model: weights per qconfig, activation ranges from
 * calibration (static) or per batch (dynamic), and the per-layer bookkeeping of
 * which kernel ran.
 *
 * Quantized layers: Gemm (transA=0, alpha=beta=1) and MatMul whose weight B is a
 * constant 2-D tensor, and Conv with a constant weight. Every other op runs in
 * fp32 on dequantized values.
 *
 * Static workflow, per quantized layer L with input x, weight W, bias b, folded
 * activation act (Relu / Clip, identity if none) and output y (the activation's):
 *   simulated:  y = fq_y( act( fq_x(x) (*) fq_W(W) + fq_b(b) ) )    fp32 math
 *   integer:    yq = clamp(requantize(int8 GEMM(xq, Wq) + bq, sx*sW[c]/sy, zp_y),
 *                          act's bounds on y's grid)                u8 -> u8
 * with bq = round(b / (sx*sW[c])) (int32) and fq_b the same grid in float, so
 * the two differ only by float rounding: at most one output step. xq and yq stay
 * u8 between integer nodes (qb_model_qrun.c, qb_model_qplan.c); requantize is the
 * fp32-scale or the gemmlowp rule (qconfig), run in the GEMM's epilogue.
 * The integer path needs 8-bit unsigned activations and <= 8-bit signed weights
 * per tensor or per channel; anything else (per-group weights, signed or 16-bit
 * activations, Gemm with alpha/beta/transA) runs the simulated layer instead, and
 * the layer's kernel name says so ("fp32-simulated").
 * Every kernel comes from the backend's dispatch table: int8 GEMM (im2col for
 * Conv), dwconv for depthwise Conv, quantize / requantize / dequantize.
 * Dynamic workflow: x quantized per sample (first dimension), fp32 outputs.
 *
 * Gemm / MatMul with weights of at most 4 bits (any granularity, per group
 * included) use the int4 families instead (qb_model_w4.c):
 *   weight-only:              W4A32, qb_f32_q4_f32_wgemm (fp32 activations);
 *   dynamic, 8-bit activations: W4A8, row quantization + qb_qs8_q4_f32_wgemm. Its
 *     activation grid is the kernel's (per row, symmetric -127..127, amax / 127),
 *     not the qconfig's; the simulated layer rounds the same way.
 * Integer and simulated then differ only by fp32 summation order. Conv layers
 * with such weights keep the paths above (weight-only Conv: dequantized weights).
 *
 * Calibration: run the fp32 model with exec.mode = QB_EXEC_CALIBRATE over the
 * calibration batches; every value that needs activation qparams records its
 * min/max per batch and a deterministic sample of at most QB_CALIB_SAMPLE values.
 * qb_quant_finish_calibration then chooses ranges with any range strategy from
 * those statistics (minmax and movavg exactly, the others on the sample) and may
 * be called again with another strategy without re-running the model. */
#ifndef QB_MODEL_QUANT_H
#define QB_MODEL_QUANT_H

#include <stdbool.h>
#include <stdint.h>

#include "qb_dispatch.h"
#include "qb_model.h"
#include "qb_qconfig.h"

#define QB_CALIB_SAMPLE ((size_t)1 << 18)

typedef struct qb_quant_state qb_quant_state;

/* ------------------------------------------------------------ running */

typedef enum {
  QB_EXEC_FP32,        /* the float model */
  QB_EXEC_SIMULATED,   /* fake-quant of weights and activations, fp32 math */
  QB_EXEC_INTEGER,     /* int8 kernels from the dispatch table where there are some */
  QB_EXEC_CALIBRATE,   /* fp32, recording activation statistics into exec.quant */
} qb_exec_mode;

typedef struct {
  qb_exec_mode mode;
  qb_quant_state* quant;         /* required for SIMULATED, INTEGER, CALIBRATE */
  qb_node_hook hook;             /* may be NULL */
  void* hook_ctx;
  bool hook_times_only;          /* the hook reads no data (timing): integer values are not
                                  * dequantized for it; an fp32 run keeps its Conv / Gemm +
                                  * Relu / Clip pairs fused (one call per pair) */
} qb_model_exec;

/* Runs the prepared model (qb_model_exec.c). inputs[i] holds the float data of graph
 * input m->inputs[i] (shape as prepared). Outputs stay in the arena until the next
 * run: read them with qb_model_output. exec may be NULL (fp32). */
int qb_model_run(qb_model* m, const float* const* inputs, const qb_model_exec* exec,
                 qb_error* err);

/* Quantizes the weights of m under cfg and packs them for `backend`
 * (QB_BACKEND_COUNT = the best usable exact backend). The model must be prepared
 * (any batch). */
int qb_quant_create(const qb_model* m, const qb_qconfig* cfg, qb_backend backend,
                    qb_quant_state** out, qb_error* err);
/* As qb_quant_create, copying the quantized weights of `donor` (a state of the same
 * model m, any backend and workflow; NULL for none) when its weight spec equals
 * cfg's, instead of choosing their ranges again: a sweep then runs a weight range
 * search (MSE, percentile, ...) once per weight spec, not once per backend. The
 * state is the same either way. */
int qb_quant_create_reusing(const qb_model* m, const qb_qconfig* cfg, qb_backend backend,
                            const qb_quant_state* donor, qb_quant_state** out, qb_error* err);
/* True when a state made for cfg would quantize its weights as donor did. */
bool qb_quant_weights_match(const qb_quant_state* donor, const qb_qconfig* cfg);
void qb_quant_free(qb_quant_state* q);

/* Static workflow: forget statistics, then run calibration batches with
 * QB_EXEC_CALIBRATE, then choose ranges (strategy NULL: the qconfig's). */
void qb_quant_reset_calibration(qb_quant_state* q);
int qb_quant_finish_calibration(qb_quant_state* q, const qb_range_strategy* strategy,
                                qb_error* err);
bool qb_quant_calibrated(const qb_quant_state* q);

/* Per-layer information (node index of the model). */
typedef struct {
  bool quantized;           /* a layer with quantized weights */
  const char* kernel;       /* integer kernel name or "fp32-simulated" / "fp32"; other
                             * nodes: "fp32", "fp32-islanded" (dequantize -> fp32 op,
                             * static integer run), "folded" (into the layer before),
                             * or the integer op ("qu8-add-fp32", ...) */
  const char* name;         /* static layer with folded nodes: "conv1+relu1", else NULL */
  size_t last_node;         /* the last node the layer covers (its output) */
  bool has_in_qparams, has_out_qparams;
  float in_scale, out_scale;
  int32_t in_zero_point, out_zero_point;
  size_t weight_bytes;      /* packed integer weights + scales + zero points + bias */
  size_t weight_numel;
  /* Static, calibrated, a layer with an int32 bias: output channels whose
   * round(b / (sx * sw)) fell outside int32 and was saturated to INT32_MIN / INT32_MAX
   * (the integer run then adds a different bias than the float model's). */
  bool has_int32_bias;
  size_t bias_saturated;
} qb_quant_layer_info;

void qb_quant_layer(const qb_quant_state* q, size_t node, qb_quant_layer_info* info);
const char* qb_quant_backend_name(const qb_quant_state* q);

/* Threads of the INTEGER run (1..QB_THREAD_POOL_MAX; 1 after create): int8 GEMMs
 * run through qb_gemm_threaded (weights repacked in one column slice per thread),
 * the int4 wgemm kernels split output channels. Every output element is computed
 * by the same kernel call sequence whatever the count, so results are
 * bit-identical for any number of threads. Returns 0 or -1 with err. */
int qb_quant_set_threads(qb_quant_state* q, size_t threads, qb_error* err);
size_t qb_quant_threads(const qb_quant_state* q);

/* Used by qb_model_run (not for callers): */
void qb_quant_observe(qb_quant_state* q, const qb_model* m, int value);

#endif
