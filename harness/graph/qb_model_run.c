/* Running a prepared model in fp32: inputs are copied into the arena, then the
 * nodes run in order (a Conv / Gemm and the Relu / Clip after it as one when no hook
 * reads data, see qb_model.h), the per-node hook seeing every node's output. Quantized and
 * calibration runs build on these (qb_model_exec.c): the graph does not know the
 * quantized runtime. */
#include <stdio.h>
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

/* fuse: run the pairs marked f32_fuse_act as one node (the hook, if any, reads no
 * data: one call at the Conv / Gemm's index with the activation's output). */
static void run_nodes(qb_model* m, qb_node_hook hook, void* hook_ctx, bool fuse) {
  const float* in[QB_NODE_MAX_INPUTS];
  fuse = fuse && !m->f32_unfused;
  for (size_t k = 0; k < m->nnodes; k++) {
    const qb_node* n = &m->nodes[k];
    for (int i = 0; i < QB_NODE_MAX_INPUTS; i++)
      in[i] = i < n->nin && n->in[i] >= 0 ? m->values[n->in[i]].data : NULL;
    if (fuse && n->f32_fuse_act) {
      const qb_node* a = &m->nodes[k + 1];
      qb_ops_nn_run_fused(m, n, in, a);
      if (hook) hook(hook_ctx, m, k, &m->values[a->out[0]]);
      k++;
      continue;
    }
    qb_op_run_f32(m, n, in);
    if (hook) hook(hook_ctx, m, k, &m->values[n->out[0]]);
  }
}

void qb_model_run_nodes_f32(qb_model* m, qb_node_hook hook, void* hook_ctx) {
  run_nodes(m, hook, hook_ctx, !hook);
}

void qb_model_run_nodes_f32_timing(qb_model* m, qb_node_hook hook, void* hook_ctx) {
  run_nodes(m, hook, hook_ctx, true);
}

void qb_model_set_f32_fusion(qb_model* m, bool on) { m->f32_unfused = !on; }

int qb_model_f32_fused_act(const qb_model* m, size_t k) {
  return k < m->nnodes && m->nodes[k].f32_fuse_act && !m->f32_unfused ? (int)k + 1 : -1;
}

const char* qb_model_f32_node_name(const qb_model* m, size_t k, char* buf, size_t len) {
  const int a = qb_model_f32_fused_act(m, k);
  if (a < 0) snprintf(buf, len, "%s", m->nodes[k].name);
  else snprintf(buf, len, "%s+%s", m->nodes[k].name, m->nodes[a].name);
  return buf;
}

int qb_model_run_f32(qb_model* m, const float* const* inputs, qb_node_hook hook, void* hook_ctx,
                     qb_error* err) {
  if (qb_model_set_inputs(m, inputs, err)) return -1;
  qb_model_run_nodes_f32(m, hook, hook_ctx);
  return 0;
}
