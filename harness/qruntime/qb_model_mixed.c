#include "qb_model_mixed.h"

#include <stdlib.h>
#include <string.h>

#include "qb_model_probe.h"
#include "qb_model_quant_internal.h"

struct qb_mixed {
  qb_quant_state** states; /* one per qconfig; [0] is the base */
  size_t nstates, nnodes;
  int* swapped;            /* per node: state index swapped into the base, or 0 */
  qb_qlayer_kind* kind;    /* per node: the base's kind before masking */
  bool applied;
};

/* Same activation side and workflow: the qconfig's text with the weight part made equal. */
static bool same_activation_side(const qb_qconfig* a, const qb_qconfig* b) {
  qb_qconfig c = *b;
  c.weight = a->weight;
  char ta[400], tb[400];
  return !strcmp(qb_qconfig_str(a, ta, sizeof ta), qb_qconfig_str(&c, tb, sizeof tb));
}

int qb_mixed_create(const qb_model* m, const qb_qconfig* cfgs, size_t ncfgs, qb_backend backend,
                    qb_mixed** out, qb_error* err) {
  *out = NULL;
  if (!ncfgs) return qb_fail(err, "mixed run: no qconfig");
  for (size_t i = 1; i < ncfgs; i++)
    if (!same_activation_side(&cfgs[0], &cfgs[i])) {
      char t[400];
      return qb_fail(err, "mixed run: qconfig %zu (%s) differs from the first in its activations or workflow", i,
                     qb_qconfig_str(&cfgs[i], t, sizeof t));
    }
  qb_mixed* x = calloc(1, sizeof *x);
  if (!x) return qb_fail(err, "out of memory");
  x->nnodes = m->nnodes;
  x->states = calloc(ncfgs, sizeof *x->states);
  x->swapped = calloc(m->nnodes + 1, sizeof *x->swapped);
  x->kind = calloc(m->nnodes + 1, sizeof *x->kind);
  if (!x->states || !x->swapped || !x->kind) {
    qb_mixed_free(x);
    return qb_fail(err, "out of memory");
  }
  for (size_t i = 0; i < ncfgs; i++, x->nstates++)
    if (qb_quant_create(m, &cfgs[i], backend, &x->states[i], err)) {
      qb_mixed_free(x);
      return -1;
    }
  *out = x;
  return 0;
}

void qb_mixed_free(qb_mixed* x) {
  if (!x) return;
  qb_mixed_restore(x);
  for (size_t i = 0; i < x->nstates; i++) qb_quant_free(x->states[i]);
  free(x->states), free(x->swapped), free(x->kind), free(x);
}

qb_quant_state* qb_mixed_base(qb_mixed* x) { return x->states[0]; }

int qb_mixed_share_calibration(qb_mixed* x, qb_error* err) {
  qb_quant_state* base = x->states[0];
  if (base->cfg.workflow != QB_WORKFLOW_STATIC) return 0;
  if (!qb_quant_calibrated(base)) return qb_fail(err, "mixed run: the base state is not calibrated");
  const size_t nv = qb_probe_nvalues(base);
  qb_qparams* qp = calloc(nv + 1, sizeof *qp);
  bool* has = calloc(nv + 1, sizeof *has);
  int rc = qp && has ? 0 : qb_fail(err, "out of memory");
  if (!rc) qb_probe_get_act_qparams(base, qp, has);
  for (size_t i = 1; !rc && i < x->nstates; i++) rc = qb_probe_set_act_qparams(x->states[i], qp, has, err);
  free(qp), free(has);
  return rc;
}

static void swap_layer(qb_qlayer* a, qb_qlayer* b) {
  const qb_qlayer t = *a;
  *a = *b;
  *b = t;
}

int qb_mixed_apply(qb_mixed* x, const int* choice, qb_error* err) {
  qb_mixed_restore(x);
  for (size_t k = 0; k < x->nnodes; k++)
    if (choice[k] < QB_MIXED_FLOAT || (choice[k] >= 0 && (size_t)choice[k] >= x->nstates))
      return qb_fail(err, "mixed run: node %zu: choice %d, expected float or 0..%zu", k, choice[k],
                     x->nstates - 1);
  qb_quant_state* base = x->states[0];
  for (size_t k = 0; k < x->nnodes; k++) {
    x->swapped[k] = 0;
    if (choice[k] > 0 && base->layers[k].kind != QB_QLAYER_NONE) {
      swap_layer(&base->layers[k], &x->states[choice[k]]->layers[k]);
      x->swapped[k] = choice[k];
    }
    /* A layer of kind NONE runs fp32 (as qb_probe_keep_float). */
    x->kind[k] = base->layers[k].kind;
    if (choice[k] == QB_MIXED_FLOAT) base->layers[k].kind = QB_QLAYER_NONE;
  }
  x->applied = true;
  qb_qplan_run(base);
  return 0;
}

void qb_mixed_restore(qb_mixed* x) {
  if (!x->applied) return;
  qb_quant_state* base = x->states[0];
  for (size_t k = 0; k < x->nnodes; k++) {
    base->layers[k].kind = x->kind[k];
    if (x->swapped[k]) swap_layer(&base->layers[k], &x->states[x->swapped[k]]->layers[k]);
    x->swapped[k] = 0;
  }
  x->applied = false;
  qb_qplan_run(base);
}

void qb_mixed_layer(const qb_mixed* x, const int* choice, size_t k, qb_quant_layer_info* info) {
  const int c = choice[k] > 0 && (size_t)choice[k] < x->nstates ? choice[k] : 0;
  qb_quant_layer(x->states[c], k, info);
  if (choice[k] == QB_MIXED_FLOAT) info->quantized = false, info->kernel = "fp32", info->weight_bytes = 0;
}

int qb_mixed_evaluate(qb_mixed* x, qb_model* m, const int* choice, qb_exec_mode mode,
                      const qb_dataset* d, size_t limit, size_t batch, qb_eval_result* out,
                      qb_error* err) {
  if (qb_mixed_apply(x, choice, err)) return -1;
  const qb_model_exec e = {mode, qb_mixed_base(x), NULL, NULL, false};
  const int rc = qb_model_evaluate(m, d, limit, batch, &e, NULL, NULL, out, err);
  qb_mixed_restore(x);
  return rc;
}
