/* Running a prepared model in fp32: inputs are copied into the arena, then the
 * nodes run in order, the per-node hook seeing every node's output. Quantized and
 * calibration runs build on these (qb_model_exec.c): the graph does not know the
 * quantized runtime. */
#include <string.h>

#include "qb_model_internal.h"

int qb_model_set_inputs(qb_model* m, const float* const* inputs, qb_error* err) {
  if (!m->prepared) return qb_fail(err, "model is not prepared (call qb_model_prepare)");
  for (size_t i = 0; i < m->ninputs; i++) {
    qb_value* v = &m->values[m->inputs[i]];
    if (!inputs || !inputs[i]) return qb_fail(err, "input '%.200s' is missing", v->name);
    if (v->numel) memcpy(v->data, inputs[i], v->numel * sizeof(float));
  }
  return 0;
}

void qb_model_run_nodes_f32(qb_model* m, qb_node_hook hook, void* hook_ctx) {
  const float* in[QB_NODE_MAX_INPUTS];
  for (size_t k = 0; k < m->nnodes; k++) {
    const qb_node* n = &m->nodes[k];
    for (int i = 0; i < QB_NODE_MAX_INPUTS; i++)
      in[i] = i < n->nin && n->in[i] >= 0 ? m->values[n->in[i]].data : NULL;
    qb_op_run_f32(m, n, in);
    if (hook) hook(hook_ctx, m, k, &m->values[n->out[0]]);
  }
}

int qb_model_run_f32(qb_model* m, const float* const* inputs, qb_node_hook hook, void* hook_ctx,
                     qb_error* err) {
  if (qb_model_set_inputs(m, inputs, err)) return -1;
  qb_model_run_nodes_f32(m, hook, hook_ctx);
  return 0;
}
