/* Running a prepared model: inputs are copied into the arena, then fp32 and
 * calibration runs go node by node here, SIMULATED / INTEGER runs through the
 * quantization state's plan (qb_model_qrun.c); the per-node hook sees every node's
 * output. */
#include <string.h>

#include "qb_model_internal.h"
#include "qb_model_quant_internal.h"

int qb_model_run(qb_model* m, const float* const* inputs, const qb_model_exec* exec,
                 qb_error* err) {
  if (!m->prepared) return qb_fail(err, "model is not prepared (call qb_model_prepare)");
  const qb_model_exec fp32 = {QB_EXEC_FP32, NULL, NULL, NULL, false};
  if (!exec) exec = &fp32;
  if (exec->mode != QB_EXEC_FP32 && !exec->quant)
    return qb_fail(err, "a quantized or calibration run needs a quantization state");
  if ((exec->mode == QB_EXEC_SIMULATED || exec->mode == QB_EXEC_INTEGER) &&
      !qb_quant_calibrated(exec->quant))
    return qb_fail(err, "static quantization: calibrate first (QB_EXEC_CALIBRATE runs, then "
                   "qb_quant_finish_calibration)");
  for (size_t i = 0; i < m->ninputs; i++) {
    qb_value* v = &m->values[m->inputs[i]];
    if (!inputs || !inputs[i]) return qb_fail(err, "input '%.200s' is missing", v->name);
    if (v->numel) memcpy(v->data, inputs[i], v->numel * sizeof(float));
    if (exec->mode == QB_EXEC_CALIBRATE) qb_quant_observe(exec->quant, m, m->inputs[i]);
  }
  if (exec->mode == QB_EXEC_SIMULATED || exec->mode == QB_EXEC_INTEGER)
    return qb_quant_run(exec->quant, m, exec, err);
  const float* in[QB_NODE_MAX_INPUTS];
  for (size_t k = 0; k < m->nnodes; k++) {
    const qb_node* n = &m->nodes[k];
    for (int i = 0; i < QB_NODE_MAX_INPUTS; i++)
      in[i] = i < n->nin && n->in[i] >= 0 ? m->values[n->in[i]].data : NULL;
    qb_op_run_f32(m, n, in);
    if (exec->mode == QB_EXEC_CALIBRATE) qb_quant_observe(exec->quant, m, n->out[0]);
    if (exec->hook) exec->hook(exec->hook_ctx, m, k, &m->values[n->out[0]]);
  }
  return 0;
}
