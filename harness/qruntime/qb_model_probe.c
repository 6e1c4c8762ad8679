/* Numeric-suite access to a quantization state (see qb_model_probe.h). */
#include "qb_model_probe.h"

#include <stdlib.h>
#include <string.h>

#include "qb_model_quant_internal.h"

bool qb_probe_is_layer(const qb_quant_state* q, size_t k) {
  return k < q->nnodes && q->layers[k].kind != QB_QLAYER_NONE;
}

const char* qb_probe_node_path(const qb_quant_state* q, size_t k) {
  if (k >= q->nnodes || q->layers[k].kind != QB_QLAYER_NONE) return NULL;
  switch (q->run[k]) {
    case QB_QNODE_FLOAT: return "fp32";
    case QB_QNODE_PASS: case QB_QNODE_POOL: case QB_QNODE_ADD: case QB_QNODE_CONCAT: return "int8";
    default: return NULL;
  }
}

const float* qb_probe_dequant_weights(const qb_quant_state* q, size_t k, size_t* clipped) {
  if (!qb_probe_is_layer(q, k)) return NULL;
  if (clipped) *clipped = q->layers[k].wq.clipped;
  return q->layers[k].w_fq;
}

bool qb_probe_runs_integer(const qb_quant_state* q, size_t k) {
  return qb_probe_is_layer(q, k) && q->layers[k].int_ok &&
         (q->cfg.workflow != QB_WORKFLOW_STATIC || q->layers[k].bias_q);
}

bool qb_probe_input_range(const qb_quant_state* q, size_t k, float* lo, float* hi) {
  if (!qb_probe_is_layer(q, k)) return false;
  const int v = q->layers[k].in_value;
  if (v < 0 || !q->act_has[v]) return false;
  const qb_qparams p = q->act_qp[v];
  const qb_qscheme* s = &q->cfg.act.scheme;
  /* Half a step beyond the end codes: values there still round onto the grid. */
  *lo = ((float)(qb_qscheme_qmin(s) - p.zero_point) - 0.5f) * p.scale;
  *hi = ((float)(qb_qscheme_qmax(s) - p.zero_point) + 0.5f) * p.scale;
  return true;
}

bool qb_probe_layer_output(const qb_quant_state* q, size_t j, size_t* k) {
  for (size_t i = 0; i <= j && i < q->nnodes; i++)
    if (q->layers[i].kind != QB_QLAYER_NONE && q->layers[i].last_node == j) {
      *k = i;
      return true;
    }
  return false;
}

size_t qb_probe_layer_last_node(const qb_quant_state* q, size_t k) {
  return qb_probe_is_layer(q, k) ? q->layers[k].last_node : k;
}

size_t qb_probe_layer_numel(const qb_quant_state* q, const qb_model* m, size_t k) {
  return qb_probe_is_layer(q, k) ? m->values[q->layers[k].out_value].numel : 0;
}

/* The static integer layer runs u8 -> u8 on the state's buffers of its input and
 * output values (this is no run: their run state is cleared again). */
int qb_probe_run_layer(qb_quant_state* q, const qb_model* m, size_t k, const float* const* in,
                       qb_exec_mode mode, float* out, qb_error* err) {
  const qb_qlayer* L = &q->layers[k];
  qb_qplan_run(q);
  if (mode != QB_EXEC_INTEGER || q->run[k] != QB_QNODE_LAYER_Q8)
    return qb_qlayer_run_f32(q, m, k, in, mode, out, err);
  const qb_value *x = &m->values[L->in_value], *y = &m->values[L->out_value];
  if (qb_check_finite(in[0], x->numel, NULL))
    return qb_fail(err, "'%.200s' holds non-finite values: it cannot be quantized", x->name);
  uint8_t* xq = qb_quant_value_u8_out(q, m, L->in_value, err);
  uint8_t* yq = xq ? qb_quant_value_u8_out(q, m, L->out_value, err) : NULL;
  if (!yq) return -1;
  const qb_qscheme* s = &q->cfg.act.scheme;
  const qb_qparams px = q->act_qp[L->in_value], py = q->act_qp[L->out_value];
  q->table->f32_q8_quantize->f32_qu8(x->numel, in[0], px.scale, px.zero_point, qb_qscheme_qmin(s),
                                     qb_qscheme_qmax(s), s->rounding, xq);
  const int rc = qb_qlayer_run_q8(q, m, k, xq, yq, err);
  if (!rc) q->table->q8_f32_dequantize->qu8_f32(y->numel, yq, py.scale, py.zero_point, out);
  q->has_u8[L->in_value] = q->has_u8[L->out_value] = false;
  return rc;
}

struct qb_probe_mask {
  size_t n;
  qb_qlayer_kind kind[];
};

qb_probe_mask* qb_probe_keep_float(qb_quant_state* q, const bool* float_layer) {
  qb_probe_mask* s = malloc(sizeof *s + q->nnodes * sizeof s->kind[0]);
  if (!s) return NULL;
  s->n = q->nnodes;
  /* A layer of kind NONE runs fp32 (qb_quant_run_node returns false for it). */
  for (size_t k = 0; k < q->nnodes; k++) {
    s->kind[k] = q->layers[k].kind;
    if (float_layer[k]) q->layers[k].kind = QB_QLAYER_NONE;
  }
  qb_qplan_run(q);
  return s;
}

void qb_probe_restore(qb_quant_state* q, qb_probe_mask* saved) {
  if (!saved) return;
  for (size_t k = 0; k < saved->n && k < q->nnodes; k++) q->layers[k].kind = saved->kind[k];
  free(saved);
  qb_qplan_run(q);
}

static int copy_stats(qb_act_stats* d, const qb_act_stats* s, qb_error* err) {
  d->min = s->min, d->max = s->max, d->seen = s->seen, d->rng = s->rng;
  d->nbatches = 0, d->nsample = 0;
  if (s->nbatches > d->batch_cap) {
    float* a = realloc(d->batch_min, s->nbatches * sizeof *a);
    if (a) d->batch_min = a;
    float* b = realloc(d->batch_max, s->nbatches * sizeof *b);
    if (b) d->batch_max = b;
    if (!a || !b) return qb_fail(err, "out of memory");
    d->batch_cap = s->nbatches;
  }
  if (s->nsample && !d->sample && !(d->sample = malloc(QB_CALIB_SAMPLE * sizeof *d->sample)))
    return qb_fail(err, "out of memory");
  if (s->nbatches) {
    memcpy(d->batch_min, s->batch_min, s->nbatches * sizeof *d->batch_min);
    memcpy(d->batch_max, s->batch_max, s->nbatches * sizeof *d->batch_max);
  }
  if (s->nsample) memcpy(d->sample, s->sample, s->nsample * sizeof *d->sample);
  d->nbatches = s->nbatches, d->nsample = s->nsample;
  return 0;
}

int qb_probe_copy_calibration(qb_quant_state* q, const qb_quant_state* from, qb_error* err) {
  if (q->cfg.workflow != QB_WORKFLOW_STATIC) return 0;
  if (from->nvalues != q->nvalues) return qb_fail(err, "calibration of another model");
  qb_quant_reset_calibration(q);
  for (size_t v = 0; v < q->nvalues; v++) {
    if (!q->stats[v].needed) continue;
    if (!from->stats[v].needed)
      return qb_fail(err, "value %zu was not observed by the calibration being reused", v);
    if (copy_stats(&q->stats[v], &from->stats[v], err)) return -1;
  }
  return qb_quant_finish_calibration(q, NULL, err);
}

size_t qb_probe_nvalues(const qb_quant_state* q) { return q->nvalues; }

void qb_probe_get_act_qparams(const qb_quant_state* q, qb_qparams* qp, bool* has) {
  memcpy(qp, q->act_qp, q->nvalues * sizeof *qp);
  memcpy(has, q->act_has, q->nvalues * sizeof *has);
}

int qb_probe_set_act_qparams(qb_quant_state* q, const qb_qparams* qp, const bool* has,
                             qb_error* err) {
  if (q->cfg.workflow != QB_WORKFLOW_STATIC) return 0;
  for (size_t v = 0; v < q->nvalues; v++)
    if (q->stats[v].needed && !has[v])
      return qb_fail(err, "saved activation ranges lack value %zu", v);
  memcpy(q->act_qp, qp, q->nvalues * sizeof *qp);
  memcpy(q->act_has, has, q->nvalues * sizeof *has);
  if (qb_quant_finish_layers(q, err)) return -1;
  q->calibrated = true;
  return 0;
}
