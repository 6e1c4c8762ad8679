/* A quantized run (SIMULATED or INTEGER) of a prepared model, node by node as the
 * plan says (qb_model_qplan.c).
 *
 * INTEGER, static: values produced by integer nodes exist only as u8 with their
 * qparams; a layer reads its input's u8 form (quantizing fp32 data once where the
 * integer region starts) and writes u8; an fp32 op reading a u8 value dequantizes
 * it first (an fp32 island, recorded per node as "fp32-islanded"), and its output
 * is quantized again by the next integer node. Graph outputs are dequantized at
 * the end; a hook gets fp32 data unless exec->hook_times_only.
 * SIMULATED: fp32 everywhere, fake-quantized at the same points: a layer's input,
 * its output after the folded nodes, the outputs of pools / Add / Concat, and the
 * fp32 inputs an integer Add / Concat quantizes. */
#include <stdlib.h>
#include <string.h>

#include "qb_model_quant_internal.h"

static void node_inputs(const qb_model* m, const qb_node* n, const float** in) {
  for (int i = 0; i < QB_NODE_MAX_INPUTS; i++)
    in[i] = i < n->nin && n->in[i] >= 0 ? m->values[n->in[i]].data : NULL;
}

static void mark_f32_outputs(qb_quant_state* q, const qb_node* n) {
  for (int o = 0; o < n->nout; o++)
    if (n->out[o] >= 0) q->has_f32[n->out[o]] = true, q->has_u8[n->out[o]] = false;
}

/* SIMULATED pools / Add / Concat: the fp32 op on inputs on their grids, then the
 * output grid. Inputs the integer run would quantize are fake-quantized copies. */
static int simulate_merge(qb_quant_state* q, const qb_model* m, const qb_node* n, qb_error* err) {
  const float* in[QB_NODE_MAX_INPUTS];
  node_inputs(m, n, in);
  size_t total = 0;
  for (int i = 0; i < n->nin; i++)
    if (n->in[i] >= 0 && !q->value_int[n->in[i]]) total += m->values[n->in[i]].numel;
  float* buf = qb_quant_scratch(q, QB_SCR_MERGE, total * sizeof *buf, err);
  if (!buf) return -1;
  for (int i = 0; i < n->nin; i++) {
    const int v = n->in[i];
    if (v < 0 || q->value_int[v]) continue;
    qb_quant_fake(q, q->act_qp[v], in[i], m->values[v].numel, buf);
    in[i] = buf;
    buf += m->values[v].numel;
  }
  qb_op_run_f32(m, n, in);
  const qb_value* y = &m->values[n->out[0]];
  qb_quant_fake(q, q->act_qp[n->out[0]], y->data, y->numel, y->data);
  return 0;
}

static int run_simulated(qb_quant_state* q, const qb_model* m, size_t k, qb_error* err) {
  const qb_node* n = &m->nodes[k];
  const float* in[QB_NODE_MAX_INPUTS];
  node_inputs(m, n, in);
  switch (q->run[k]) {
    case QB_QNODE_LAYER_Q8: case QB_QNODE_LAYER_F32:
      return qb_qlayer_run_f32(q, m, k, in, QB_EXEC_SIMULATED,
                               m->values[q->layers[k].out_value].data, err);
    case QB_QNODE_POOL: case QB_QNODE_ADD: case QB_QNODE_CONCAT:
      return simulate_merge(q, m, n, err);
    default: /* FLOAT and PASS (a max or a reshape of grid values stays on the grid) */
      qb_op_run_f32(m, n, in);
      return 0;
  }
}

static int run_integer(qb_quant_state* q, const qb_model* m, size_t k, qb_error* err) {
  const qb_node* n = &m->nodes[k];
  const qb_qlayer* L = &q->layers[k];
  if (q->run[k] == QB_QNODE_LAYER_Q8) {
    const uint8_t* x = qb_quant_value_u8(q, m, L->in_value, err);
    uint8_t* y = x ? qb_quant_value_u8_out(q, m, L->out_value, err) : NULL;
    return y ? qb_qlayer_run_q8(q, m, k, x, y, err) : -1;
  }
  if (q->run[k] >= QB_QNODE_PASS) return qb_qops_run(q, m, k, err);
  for (int i = 0; i < n->nin; i++)
    if (n->in[i] >= 0) qb_quant_value_f32(q, m, n->in[i]);
  const float* in[QB_NODE_MAX_INPUTS];
  node_inputs(m, n, in);
  if (q->run[k] == QB_QNODE_LAYER_F32) {
    if (qb_qlayer_run_f32(q, m, k, in, QB_EXEC_INTEGER, m->values[L->out_value].data, err))
      return -1;
    q->has_f32[L->out_value] = true, q->has_u8[L->out_value] = false;
    return 0;
  }
  qb_op_run_f32(m, n, in);
  mark_f32_outputs(q, n);
  return 0;
}

int qb_quant_run(qb_quant_state* q, qb_model* m, const qb_model_exec* exec, qb_error* err) {
  qb_qplan_run(q);
  for (size_t v = 0; v < q->nvalues; v++) q->has_u8[v] = false, q->has_f32[v] = true;
  const bool integer = exec->mode == QB_EXEC_INTEGER;
  for (size_t k = 0; k < m->nnodes; k++) {
    if (q->run[k] == QB_QNODE_FOLDED) continue;
    const int rc = integer ? run_integer(q, m, k, err) : run_simulated(q, m, k, err);
    if (rc) {
      char where[320], inner[sizeof err->msg];
      if (err) {
        memcpy(inner, err->msg, sizeof inner);
        inner[sizeof inner - 1] = 0;
        qb_fail(err, "%s: %s", qb_node_str(&m->nodes[k], where, sizeof where), inner);
      }
      return -1;
    }
    if (!exec->hook) continue;
    const int out = q->layers[k].kind != QB_QLAYER_NONE ? q->layers[k].out_value : m->nodes[k].out[0];
    if (!exec->hook_times_only) qb_quant_value_f32(q, m, out);
    exec->hook(exec->hook_ctx, m, k, &m->values[out]);
  }
  for (size_t i = 0; i < m->noutputs; i++) qb_quant_value_f32(q, m, m->outputs[i]);
  return 0;
}
