#include "qb_run_index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_mann_whitney.h"
#include "qb_run_data.h"

bool qb_row_is_end_to_end(const qb_result_row* r) {
  return !r->layer[0] || !strcmp(r->layer, r->model);
}

int qb_run_index_backend(const qb_run_index* idx, const char* name) {
  for (int i = 0; i < idx->nbackends; i++)
    if (!strcmp(idx->backends[i], name)) return i;
  return -1;
}

const qb_model_summary* qb_run_index_model(const qb_run_index* idx, const char* name) {
  for (size_t i = 0; i < idx->nmodels; i++)
    if (!strcmp(idx->models[i].name, name)) return &idx->models[i];
  return NULL;
}

static qb_model_summary* model_for(qb_run_index* idx, const char* name) {
  for (size_t i = 0; i < idx->nmodels; i++)
    if (!strcmp(idx->models[i].name, name)) return &idx->models[i];
  qb_model_summary* m = realloc(idx->models, (idx->nmodels + 1) * sizeof *m);
  if (!m) return NULL;
  idx->models = m;
  qb_model_summary* s = &m[idx->nmodels++];
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  s->accuracy_fp32 = s->latency_fp32_ns = NAN;
  snprintf(s->metric, sizeof s->metric, "top-1");
  return s;
}

static qb_cfg_summary* cfg_for(qb_model_summary* m, const qb_result_row* r) {
  for (size_t i = 0; i < m->ncfgs; i++)
    if (qb_same_qconfig(&m->cfgs[i].id, r)) return &m->cfgs[i];
  qb_cfg_summary* c = realloc(m->cfgs, (m->ncfgs + 1) * sizeof *c);
  if (!c) return NULL;
  m->cfgs = c;
  qb_cfg_summary* s = &c[m->ncfgs++];
  memset(s, 0, sizeof *s);
  s->id = *r;
  s->id.layer[0] = s->id.backend[0] = s->id.kernel[0] = s->id.metric[0] = s->id.unit[0] = '\0';
  s->accuracy = s->drop = s->agreement = s->bytes_weights = s->eff_bits = NAN;
  s->drop_ci_low = s->drop_ci_high = s->mcnemar_p = s->kl_p99 = s->true_prob_rms = NAN;
  s->discordant = NAN;
  s->discordant_seen = 0;
  s->significant = -1;
  s->acc_spread = 0;
  for (int b = 0; b < QB_INDEX_MAX_BACKENDS; b++)
    s->latency_ns[b] = s->latency_cv[b] = s->speedup_fp32[b] = NAN;
  return s;
}

static int backend_slot(qb_run_index* idx, const char* name) {
  int b = qb_run_index_backend(idx, name);
  if (b < 0 && idx->nbackends < QB_INDEX_MAX_BACKENDS) {
    b = idx->nbackends++;
    snprintf(idx->backends[b], sizeof idx->backends[b], "%s", name);
  }
  return b;
}

/* Collects the latency samples of one config x backend (threads 1, end to end). */
static void fill_latency(const qb_result_rows* rows, const qb_result_row* id, const char* backend,
                         double* median, double* cv) {
  size_t n = 0, cap = 0;
  double* v = NULL;
  double from_median = NAN, cv_row = NAN;
  for (size_t i = 0; i < rows->count; i++) {
    const qb_result_row* r = &rows->rows[i];
    if (strncmp(r->metric, "latency_", 8) || r->threads > 1 || strcmp(r->backend, backend) ||
        !qb_row_is_end_to_end(r) || !isfinite(r->value) || !qb_same_qconfig(r, id))
      continue;
    if (!strcmp(r->metric, "latency_median")) from_median = r->value;
    else if (!strcmp(r->metric, "latency_cv")) cv_row = r->value;
    else if (!strcmp(r->metric, "latency_sample")) {
      if (n == cap) {
        cap = cap ? 2 * cap : 16;
        double* d = realloc(v, cap * sizeof *d);
        if (!d) break;
        v = d;
      }
      v[n++] = r->value;
    }
  }
  *median = n ? qb_median(v, n) : from_median;
  *cv = n >= 2 ? qb_cv(v, n) : cv_row;
  free(v);
}

/* The model's fp32 baseline at 1 thread: every speed group times the fp32 model
 * beside its items (latency_fp32_median, on each of the group's items), so the median
 * over the items: one group caught in a slow machine state (with 3 repetitions, all
 * of them) becomes neither the baseline nor a speed-up of its items over fp32 (seen:
 * a vit group's fp32 at 104 us beside others' 68-72 made its weight-only items
 * "1.49x faster than fp32"). */
static double fp32_baseline(const qb_result_rows* rows, const char* model) {
  size_t n = 0;
  for (size_t i = 0; i < rows->count; i++) n += !strcmp(rows->rows[i].metric, "latency_fp32_median");
  double* v = malloc((n ? n : 1) * sizeof *v);
  if (!v) return NAN;
  n = 0;
  for (size_t i = 0; i < rows->count; i++) {
    const qb_result_row* r = &rows->rows[i];
    if (!strcmp(r->metric, "latency_fp32_median") && r->threads <= 1 && !strcmp(r->model, model) &&
        isfinite(r->value))
      v[n++] = r->value;
  }
  const double median = n ? qb_median(v, n) : NAN;
  free(v);
  return median;
}

int qb_run_index_build(const qb_result_rows* rows, qb_run_index* idx, qb_error* err) {
  memset(idx, 0, sizeof *idx);
  for (size_t i = 0; i < rows->count; i++) {
    const qb_result_row* r = &rows->rows[i];
    qb_model_summary* m = model_for(idx, r->model);
    if (!m) return qb_fail(err, "out of memory");
    if (r->backend[0] && backend_slot(idx, r->backend) < 0) continue;
    if (!qb_row_is_end_to_end(r) || !isfinite(r->value)) continue;
    if (!strcmp(r->metric, "accuracy_fp32")) {
      m->accuracy_fp32 = r->value;
      continue;
    }
    if (!strcmp(r->metric, "task_metric")) {
      snprintf(m->metric, sizeof m->metric, "%s", r->unit);
      continue;
    }
    if (!strcmp(r->metric, "latency_fp32_median")) {
      if (r->threads <= 1) snprintf(m->fp32_kernel, sizeof m->fp32_kernel, "%s", r->kernel);
      continue;
    }
    qb_cfg_summary* c = cfg_for(m, r);
    if (!c) return qb_fail(err, "out of memory");
    if (!strcmp(r->metric, "accuracy")) {
      if (isnan(c->accuracy)) c->accuracy = r->value;
      c->acc_spread = fmax(c->acc_spread, fabs(r->value - c->accuracy));
    } else if (!strcmp(r->metric, "drop") && isnan(c->drop)) {
      c->drop = r->value;
    } else if (!strcmp(r->metric, "drop_ci_low") && isnan(c->drop_ci_low)) {
      c->drop_ci_low = r->value;
    } else if (!strcmp(r->metric, "drop_ci_high") && isnan(c->drop_ci_high)) {
      c->drop_ci_high = r->value;
    } else if ((!strcmp(r->metric, "discordant_lost") || !strcmp(r->metric, "discordant_gained")) &&
               c->discordant_seen < 2) {
      c->discordant = (c->discordant_seen++ ? c->discordant : 0) + r->value;
    } else if (!strcmp(r->metric, "mcnemar_p") && isnan(c->mcnemar_p)) {
      c->mcnemar_p = r->value;
    } else if (!strcmp(r->metric, "drop_significant") && c->significant < 0) {
      c->significant = r->value != 0;
    } else if (!strcmp(r->metric, "kl_p99") && isnan(c->kl_p99)) {
      c->kl_p99 = r->value;
    } else if (!strcmp(r->metric, "true_prob_rms") && isnan(c->true_prob_rms)) {
      c->true_prob_rms = r->value;
    } else if (!strcmp(r->metric, "agreement") && isnan(c->agreement)) {
      c->agreement = r->value;
    } else if (!strcmp(r->metric, "bytes_weights") && isnan(c->bytes_weights)) {
      c->bytes_weights = r->value;
    } else if (!strcmp(r->metric, "effective_bits") && isnan(c->eff_bits)) {
      c->eff_bits = r->value;
    }
  }
  for (size_t k = 0; k < idx->nmodels; k++) {
    qb_model_summary* m = &idx->models[k];
    m->latency_fp32_ns = fp32_baseline(rows, m->name);
    for (size_t i = 0; i < m->ncfgs; i++) {
      qb_cfg_summary* c = &m->cfgs[i];
      if (isnan(c->drop)) c->drop = m->accuracy_fp32 - c->accuracy;
      for (int b = 0; b < idx->nbackends; b++) {
        fill_latency(rows, &c->id, idx->backends[b], &c->latency_ns[b], &c->latency_cv[b]);
        c->speedup_fp32[b] = m->latency_fp32_ns / c->latency_ns[b];
      }
    }
  }
  return 0;
}

int qb_cfg_drop_direction(const qb_cfg_summary* c) {
  if (!isfinite(c->drop) || c->significant == 0) return 0;
  return c->drop > 0 ? 1 : c->drop < 0 ? -1 : 0;
}

void qb_run_index_free(qb_run_index* idx) {
  for (size_t i = 0; i < idx->nmodels; i++) free(idx->models[i].cfgs);
  free(idx->models);
  memset(idx, 0, sizeof *idx);
}

size_t qb_pareto_front(const double* x, const double* y, size_t n, int* on_front) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    on_front[i] = !isnan(x[i]) && !isnan(y[i]);
    for (size_t j = 0; j < n && on_front[i]; j++) {
      if (j == i || isnan(x[j]) || isnan(y[j])) continue;
      const bool le = x[j] <= x[i] && y[j] <= y[i];
      const bool lt = x[j] < x[i] || y[j] < y[i];
      /* equal points: keep the first one only */
      if ((le && lt) || (x[j] == x[i] && y[j] == y[i] && j < i)) on_front[i] = 0;
    }
    count += (size_t)on_front[i];
  }
  return count;
}
