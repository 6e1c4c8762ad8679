/* The numeric suite per layer, on the probe batch (the first `probe` evaluation
 * samples): weight error, activation error propagated through the quantized model,
 * shadow error (the quantized layer fed the float model's input) and simulation vs
 * kernel (fake-quant vs integer kernel on that same float input). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_metrics.h"
#include "qb_model_probe.h"
#include "qb_sweep_eval_internal.h"

typedef struct {
  bool have;
  qb_error_metrics act;     /* quantized run vs float run */
  double clipped;           /* inputs outside the layer's input grid (NaN: no fixed grid) */
  qb_error_metrics shadow;  /* layer on the float input vs the float layer */
  qb_error_metrics simkernel; /* integer kernel vs fake-quant on the float input */
  double mismatch;          /* fraction of outputs where they differ */
} layer_errors;

typedef struct {
  qb_eval_item* it;
  layer_errors* e;
  int failed;
  qb_error err;
} hook_ctx;

static const float* node_input(const qb_model* m, size_t k, int i) {
  const qb_node* n = &m->nodes[k];
  return i < n->nin && n->in[i] >= 0 ? m->values[n->in[i]].data : NULL;
}

/* Hook of the quantized run: compare each layer's output with the float run's. */
static void activation_hook(void* ctx, const qb_model* m, size_t k, const qb_value* out) {
  hook_ctx* h = ctx;
  if (!qb_probe_is_layer(h->it->q, k) || h->failed) return;
  const float* ref = h->it->em->probe_fp32[qb_probe_layer_last_node(h->it->q, k)];
  if (!ref) return;
  layer_errors* e = &h->e[k];
  if (qb_metrics_compute(ref, out->data, out->numel, &e->act, &h->err)) {
    h->failed = 1;
    return;
  }
  e->have = true;
  float lo, hi;
  e->clipped = NAN;
  if (qb_probe_input_range(h->it->q, k, &lo, &hi)) {
    const qb_value* x = &m->values[m->nodes[k].in[0]];
    size_t c = 0;
    for (size_t i = 0; i < x->numel; i++) c += x->data[i] < lo || x->data[i] > hi;
    e->clipped = (double)c;
  }
}

/* Hook of a float run: run each quantized layer on the float input (simulated and on
 * the kernel; a layer with folded nodes covers them, so its float reference is the
 * probe's output of its last node), measure, then put node k's float output back so
 * the run stays float. */
static void shadow_hook(void* ctx, const qb_model* m, size_t k, const qb_value* out) {
  hook_ctx* h = ctx;
  if (!qb_probe_is_layer(h->it->q, k) || h->failed) return;
  const float* ref = h->it->em->probe_fp32[qb_probe_layer_last_node(h->it->q, k)];
  if (!ref) return;
  const size_t n = qb_probe_layer_numel(h->it->q, m, k), bytes = (n ? n : 1) * sizeof(float);
  const size_t keep = (out->numel ? out->numel : 1) * sizeof(float);
  float *f = malloc(keep), *yi = malloc(bytes), *ys = malloc(bytes);
  if (!f || !yi || !ys) {
    free(f), free(yi), free(ys);
    h->failed = 1;
    snprintf(h->err.msg, sizeof h->err.msg, "out of memory");
    return;
  }
  memcpy(f, out->data, out->numel * sizeof *f);
  const float* in[QB_NODE_MAX_INPUTS];
  for (int i = 0; i < QB_NODE_MAX_INPUTS; i++) in[i] = node_input(m, k, i);
  if (qb_probe_run_layer(h->it->q, m, k, in, QB_EXEC_INTEGER, yi, &h->err) ||
      qb_probe_run_layer(h->it->q, m, k, in, QB_EXEC_SIMULATED, ys, &h->err)) {
    h->failed = 1;
  } else {
    layer_errors* e = &h->e[k];
    size_t differ = 0;
    for (size_t i = 0; i < n; i++) differ += yi[i] != ys[i];
    e->mismatch = n ? (double)differ / (double)n : 0.0;
    if (qb_metrics_compute(ref, yi, n, &e->shadow, &h->err) ||
        qb_metrics_compute(ys, yi, n, &e->simkernel, &h->err))
      h->failed = 1;
  }
  memcpy(out->data, f, out->numel * sizeof *f);
  free(f), free(yi), free(ys);
}

static int run_probe(qb_eval_item* it, qb_exec_mode mode, qb_node_hook hook, layer_errors* e,
                     qb_error* err) {
  qb_model* m = &it->em->m;
  if (m->batch != it->em->probe && qb_model_prepare(m, it->em->probe, err)) return -1;
  hook_ctx h = {it, e, 0, {{0}}};
  const qb_model_exec exec = {mode, it->q, hook, &h, false};
  const float* x = it->em->test.x;
  if (qb_model_run(m, &x, &exec, err)) return -1;
  if (h.failed) return qb_fail(err, "per-layer metrics: %s", h.err.msg);
  return 0;
}

static int weight_rows(qb_eval_item* it, size_t k, const char* name, const char* kernel,
                       qb_error* err) {
  const qb_model* m = &it->em->m;
  const qb_value* w = &m->values[m->nodes[k].in[1]];
  size_t clipped = 0;
  const float* wq = qb_probe_dequant_weights(it->q, k, &clipped);
  qb_error_metrics wm;
  if (qb_metrics_compute(w->constant.data, wq, qb_tensor_numel(&w->constant), &wm, err)) return -1;
  return qb_eval_row(it, name, kernel, 1, "weight_sqnr", wm.sqnr_db, "dB", err) ||
                 qb_eval_row(it, name, kernel, 1, "weight_mse", wm.mse, "", err) ||
                 qb_eval_row(it, name, kernel, 1, "weight_clipped", (double)clipped, "", err)
             ? -1
             : 0;
}

static int layer_rows(qb_eval_item* it, size_t k, const layer_errors* e, qb_error* err) {
  qb_quant_layer_info li;
  qb_quant_layer(it->q, k, &li);
  const char* name = li.name ? li.name : it->em->m.nodes[k].name;
  const char* kn = li.kernel;
  if (weight_rows(it, k, name, kn, err)) return -1;
  const qb_error_metrics *a = &e->act, *s = &e->shadow, *sk = &e->simkernel;
  int rc = qb_eval_row(it, name, kn, 1, "sqnr", a->sqnr_db, "dB", err) ||
           qb_eval_row(it, name, kn, 1, "mse", a->mse, "", err) ||
           qb_eval_row(it, name, kn, 1, "cosine", a->cosine, "", err) ||
           qb_eval_row(it, name, kn, 1, "norm_l2", a->norm_l2, "", err) ||
           qb_eval_row(it, name, kn, 1, "max_abs_err", a->max_abs, "", err) ||
           qb_eval_row(it, name, kn, 1, "p95_abs_err", a->p95_abs, "", err) ||
           (!isnan(e->clipped) && qb_eval_row(it, name, kn, 1, "clipped", e->clipped, "", err)) ||
           qb_eval_row(it, name, kn, 1, "shadow_sqnr", s->sqnr_db, "dB", err) ||
           qb_eval_row(it, name, kn, 1, "shadow_mse", s->mse, "", err) ||
           qb_eval_row(it, name, kn, 1, "simkernel_max_abs_err", sk->max_abs, "", err) ||
           qb_eval_row(it, name, kn, 1, "simkernel_mse", sk->mse, "", err) ||
           qb_eval_row(it, name, kn, 1, "simkernel_mismatch", e->mismatch, "", err) ||
           (li.has_int32_bias &&
            qb_eval_row(it, name, kn, 1, "bias_saturated", (double)li.bias_saturated, "", err));
  return rc ? -1 : 0;
}

int qb_eval_layers(qb_eval_item* it, qb_error* err) {
  const size_t nn = it->em->m.nnodes;
  layer_errors* e = calloc(nn ? nn : 1, sizeof *e);
  if (!e) return qb_fail(err, "out of memory");
  int rc = run_probe(it, QB_EXEC_INTEGER, activation_hook, e, err);
  if (!rc) rc = run_probe(it, QB_EXEC_FP32, shadow_hook, e, err);
  for (size_t k = 0; !rc && k < nn; k++)
    if (e[k].have) rc = layer_rows(it, k, &e[k], err);
  free(e);
  return rc;
}
