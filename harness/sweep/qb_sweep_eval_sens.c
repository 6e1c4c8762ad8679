/* Sensitivity: the end-to-end accuracy drop (pp, against the fp32 model on the same
 * samples) with only one layer quantized, and with only that layer kept in float.
 * Run on the first QB_SWEEP_SENS_LIMIT evaluation samples: 2 x layers full runs per
 * item is the costliest measurement of a sweep. */
#include <stdlib.h>

#include "qb_model_probe.h"
#include "qb_sweep_eval_internal.h"

/* Accuracy (%) with float_layer[] kept in float. */
static int masked_accuracy(qb_eval_item* it, const bool* float_layer, double* acc,
                           qb_error* err) {
  qb_probe_mask* saved = qb_probe_keep_float(it->q, float_layer);
  if (!saved) return qb_fail(err, "out of memory");
  qb_eval_result r;
  const int rc = qb_eval_model_run(it->em, it->q, it->em->fp32_sens.count, &r, err);
  qb_probe_restore(it->q, saved);
  if (rc) return -1;
  qb_task_score s;
  const int sc = qb_eval_model_score(it->em, &r, &it->em->fp32_sens, &s, err);
  qb_eval_result_free(&r);
  *acc = s.score;
  return sc;
}

int qb_eval_sensitivity(qb_eval_item* it, qb_error* err) {
  const qb_model* m = &it->em->m;
  const size_t nn = m->nnodes;
  bool* mask = calloc(nn ? nn : 1, sizeof *mask);
  if (!mask) return qb_fail(err, "out of memory");
  const double acc32 = it->em->fp32_sens_score.score;
  int rc = 0;
  for (size_t k = 0; !rc && k < nn; k++) {
    if (!qb_probe_is_layer(it->q, k)) continue;
    qb_quant_layer_info li;
    qb_quant_layer(it->q, k, &li);
    double only = 0, kept = 0;
    for (size_t j = 0; j < nn; j++) mask[j] = j != k;
    rc = masked_accuracy(it, mask, &only, err);
    for (size_t j = 0; !rc && j < nn; j++) mask[j] = j == k;
    if (!rc) rc = masked_accuracy(it, mask, &kept, err);
    const char* name = li.name ? li.name : m->nodes[k].name;
    if (!rc)
      rc = qb_eval_row(it, name, li.kernel, 1, "sensitivity_only", acc32 - only, "%", err) ||
           qb_eval_row(it, name, li.kernel, 1, "sensitivity_float", acc32 - kept, "%", err);
  }
  free(mask);
  return rc ? -1 : 0;
}
