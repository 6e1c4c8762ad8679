/* The one entry point for running a model fp32, calibrating or quantized
 * (qb_model_run): fp32 and calibration runs are the graph's fp32 run (calibration
 * observes the inputs and, through the per-node hook, every node's output);
 * SIMULATED / INTEGER runs go through the quantization state's plan
 * (qb_model_qrun.c). */
#include "qb_model_quant_internal.h"

typedef struct {
  qb_quant_state* q;
  const qb_model_exec* exec;
} calib_ctx;

static void observe_node(void* ctx, const qb_model* m, size_t k, const qb_value* out) {
  const calib_ctx* c = ctx;
  qb_quant_observe(c->q, m, m->nodes[k].out[0]);
  if (c->exec->hook) c->exec->hook(c->exec->hook_ctx, m, k, out);
}

int qb_model_run(qb_model* m, const float* const* inputs, const qb_model_exec* exec,
                 qb_error* err) {
  if (exec && exec->mode == QB_EXEC_FP32 && exec->hook && exec->hook_times_only) {
    /* A timing hook: the fp32 model as it runs unobserved (Conv + Relu fused). */
    if (qb_model_set_inputs(m, inputs, err)) return -1;
    qb_model_run_nodes_f32_timing(m, exec->hook, exec->hook_ctx);
    return 0;
  }
  if (!exec || exec->mode == QB_EXEC_FP32)
    return qb_model_run_f32(m, inputs, exec ? exec->hook : NULL, exec ? exec->hook_ctx : NULL, err);
  if (!exec->quant)
    return qb_fail(err, "a quantized or calibration run needs a quantization state");
  if (exec->mode != QB_EXEC_CALIBRATE && !qb_quant_calibrated(exec->quant))
    return qb_fail(err, "static quantization: calibrate first (QB_EXEC_CALIBRATE runs, then "
                   "qb_quant_finish_calibration)");
  if (qb_model_set_inputs(m, inputs, err)) return -1;
  if (exec->mode != QB_EXEC_CALIBRATE) return qb_quant_run(exec->quant, m, exec, err);
  for (size_t i = 0; i < m->ninputs; i++) qb_quant_observe(exec->quant, m, m->inputs[i]);
  calib_ctx c = {exec->quant, exec};
  qb_model_run_nodes_f32(m, observe_node, &c);
  return 0;
}
