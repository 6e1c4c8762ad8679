#include "qb_recommend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qb_mann_whitney.h"
#include "qb_report.h"

/* ---- ranking ------------------------------------------------------------------------ */

static double cost_of(const qb_run_index* idx, const qb_cfg_summary* c, const qb_recommend_query* q,
                      int* backend) {
  *backend = -1;
  if (q->objective == QB_OBJECTIVE_SIZE) return c->bytes_weights;
  if (q->backend) {
    *backend = qb_run_index_backend(idx, q->backend);
    return *backend < 0 ? NAN : c->latency_ns[*backend];
  }
  double best = NAN;
  for (int b = 0; b < idx->nbackends; b++)
    if (isfinite(c->latency_ns[b]) && !(c->latency_ns[b] >= best)) best = c->latency_ns[b], *backend = b;
  return best;
}

/* What the budget is checked against: the upper end of the drop's 95 % interval where
 * the run has paired statistics (within budget = the data support a drop of at most
 * X), else the point drop (the larger of the two: a run whose accuracy rows and
 * predictions disagree is judged on the worse). */
static double budget_drop(const qb_cfg_summary* c) {
  return c->significant >= 0 && isfinite(c->drop_ci_high) ? fmax(c->drop_ci_high, c->drop) : c->drop;
}

static int cmp_ranked(const void* a, const void* b) {
  const qb_ranked *x = a, *y = b;
  if (x->cost != y->cost) return x->cost < y->cost ? -1 : 1;
  return (x->cfg->drop > y->cfg->drop) - (x->cfg->drop < y->cfg->drop);
}

static int rank(const qb_run_index* idx, const qb_model_summary* m, const qb_recommend_query* q,
                qb_recommendation* out) {
  qb_ranked* all = calloc(m->ncfgs + 1, sizeof *all);
  double* x = calloc(m->ncfgs + 1, sizeof *x);
  double* y = calloc(m->ncfgs + 1, sizeof *y);
  int* front = calloc(m->ncfgs + 1, sizeof *front);
  out->ranked = calloc(m->ncfgs + 1, sizeof *out->ranked);
  out->front = calloc(m->ncfgs + 1, sizeof *out->front);
  if (!all || !x || !y || !front || !out->ranked || !out->front) {
    free(all), free(x), free(y), free(front);
    return -1;
  }
  for (size_t i = 0; i < m->ncfgs; i++) {
    all[i].cfg = &m->cfgs[i];
    all[i].cost = cost_of(idx, &m->cfgs[i], q, &all[i].backend);
    x[i] = all[i].cost;
    y[i] = m->cfgs[i].drop;
    if (isfinite(all[i].cost) && budget_drop(&m->cfgs[i]) <= q->max_drop)
      out->ranked[out->nranked++] = all[i];
  }
  qb_pareto_front(x, y, m->ncfgs, front);
  for (size_t i = 0; i < m->ncfgs; i++)
    if (front[i]) out->front[out->nfront++] = all[i];
  qsort(out->ranked, out->nranked, sizeof *out->ranked, cmp_ranked);
  qsort(out->front, out->nfront, sizeof *out->front, cmp_ranked);
  free(all), free(x), free(y), free(front);
  return 0;
}

/* ---- the mixed-precision plan -------------------------------------------------------------- */

static bool same_activation_side(const qb_result_row* a, const qb_result_row* b) {
  return !strcmp(a->model, b->model) && !strcmp(a->workflow, b->workflow) && a->a_bits == b->a_bits &&
         !strcmp(a->a_scheme, b->a_scheme) && !strcmp(a->a_granularity, b->a_granularity) &&
         !strcmp(a->a_range, b->a_range);
}

/* A per-layer row's value for one qconfig (median when repeated; latency_sample and
 * latency_median both count for "latency"); NaN if absent. */
static double layer_value(const qb_run_data* run, const qb_result_row* id, const char* layer,
                          const char* metric, const char* backend) {
  double v[64];
  size_t n = 0;
  for (size_t i = 0; i < run->rows.count && n < 64; i++) {
    const qb_result_row* r = &run->rows.rows[i];
    const bool match = !strcmp(metric, "latency") ? !strncmp(r->metric, "latency_", 8) &&
                                                        strcmp(r->metric, "latency_cv")
                                                  : !strcmp(r->metric, metric);
    if (!match || strcmp(r->layer, layer) || (backend && strcmp(r->backend, backend)) ||
        r->threads > 1 || !isfinite(r->value) || !qb_same_qconfig(r, id))
      continue;
    v[n++] = r->value;
  }
  return n ? qb_median(v, n) : NAN;
}

typedef struct {
  double sens, cost;
} option_value;

static int collect_layers(const qb_run_data* run, const char* model, qb_recommendation* out) {
  for (size_t i = 0; i < run->rows.count; i++) {
    const qb_result_row* r = &run->rows.rows[i];
    if (strcmp(r->model, model) || strcmp(r->metric, "sensitivity_only")) continue;
    size_t k = 0;
    while (k < out->nlayers && strcmp(out->layers[k].layer, r->layer)) k++;
    if (k < out->nlayers) continue;
    qb_plan_layer* l = realloc(out->layers, (out->nlayers + 1) * sizeof *l);
    if (!l) return -1;
    out->layers = l;
    memset(&l[out->nlayers], 0, sizeof *l);
    snprintf(l[out->nlayers].layer, sizeof l->layer, "%s", r->layer);
    out->nlayers++;
  }
  return 0;
}

/* Greedy search of the header; v[layer * noptions + option]. */
static void greedy(qb_recommendation* out, const option_value* v, double budget) {
  const size_t no = out->noptions;
  double total = 0;
  for (size_t l = 0; l < out->nlayers; l++) {
    int best = -1;
    for (size_t o = 0; o < no; o++) {
      const option_value* x = &v[l * no + o];
      if (isnan(x->sens) || isnan(x->cost)) continue;
      const option_value* b = best < 0 ? NULL : &v[l * no + (size_t)best];
      if (!b || x->cost < b->cost || (x->cost == b->cost && x->sens < b->sens)) best = (int)o;
    }
    out->layers[l].option = best;
    out->layers[l].sensitivity = best < 0 ? 0 : v[l * no + (size_t)best].sens;
    out->layers[l].cost = best < 0 ? NAN : v[l * no + (size_t)best].cost;
    total += out->layers[l].sensitivity;
  }
  while (total > budget) {
    /* The quantized move with the most drop saved per unit of added cost... */
    double best_score = -1;
    size_t best_l = 0;
    int best_o = -2;
    for (size_t l = 0; l < out->nlayers; l++) {
      const qb_plan_layer* cur = &out->layers[l];
      if (cur->option < 0) continue; /* already float */
      for (size_t o = 0; o < no; o++) {
        const option_value* x = &v[l * no + o];
        if (isnan(x->sens) || isnan(x->cost) || !(x->sens < cur->sensitivity)) continue;
        const double gain = cur->sensitivity - x->sens, dcost = x->cost - cur->cost;
        const double score = dcost <= 0 ? INFINITY : gain / dcost;
        if (score > best_score) best_score = score, best_l = l, best_o = (int)o;
      }
    }
    /* ...else the most sensitive quantized layer goes back to float. */
    if (best_o == -2)
      for (size_t l = 0; l < out->nlayers; l++)
        if (out->layers[l].option >= 0 && out->layers[l].sensitivity > best_score)
          best_score = out->layers[l].sensitivity, best_l = l, best_o = -1;
    if (best_o == -2) break;
    qb_plan_layer* L = &out->layers[best_l];
    total -= L->sensitivity;
    L->option = best_o;
    L->sensitivity = best_o < 0 ? 0 : v[best_l * no + (size_t)best_o].sens;
    L->cost = best_o < 0 ? NAN : v[best_l * no + (size_t)best_o].cost;
    total += L->sensitivity;
  }
  out->predicted_drop = total;
  out->plan_within_budget = total <= budget;
}

static bool mixable(const qb_run_data* run, const qb_cfg_summary* c, const char* layer) {
  return strcmp(c->id.workflow, "qat") &&
         isfinite(layer_value(run, &c->id, layer, "sensitivity_only", NULL));
}

static int plan(const qb_run_data* run, const qb_run_index* idx, const qb_model_summary* m,
                const qb_recommend_query* q, qb_recommendation* out) {
  if (collect_layers(run, m->name, out)) return -1;
  if (!out->nlayers) {
    snprintf(out->plan_note, sizeof out->plan_note,
             "no per-layer sensitivity in this run (sweep with measure: [sensitivity])");
    return 0;
  }
  /* The activation side: that of the best-ranked qconfig with sensitivity rows. qat
   * items are not mixed: their layers belong to a model fine-tuned for one grid. */
  const qb_cfg_summary* anchor = NULL;
  for (size_t i = 0; i < out->nranked && !anchor; i++)
    if (mixable(run, out->ranked[i].cfg, out->layers[0].layer)) anchor = out->ranked[i].cfg;
  for (size_t i = 0; i < m->ncfgs && !anchor; i++)
    if (mixable(run, &m->cfgs[i], out->layers[0].layer)) anchor = &m->cfgs[i];
  if (!anchor) {
    snprintf(out->plan_note, sizeof out->plan_note, "no qconfig has per-layer sensitivity rows");
    return 0;
  }
  out->options = calloc(m->ncfgs + 1, sizeof *out->options);
  if (!out->options) return -1;
  for (size_t i = 0; i < m->ncfgs; i++)
    if (same_activation_side(&m->cfgs[i].id, &anchor->id)) out->options[out->noptions++] = &m->cfgs[i];
  const char* backend = q->objective == QB_OBJECTIVE_LATENCY
                            ? (q->backend ? q->backend
                                          : out->nranked && out->ranked[0].backend >= 0
                                                ? idx->backends[out->ranked[0].backend]
                                                : NULL)
                            : NULL;
  option_value* v = calloc(out->nlayers * out->noptions + 1, sizeof *v);
  if (!v) return -1;
  bool any_cost = false;
  for (size_t l = 0; l < out->nlayers; l++)
    for (size_t o = 0; o < out->noptions; o++) {
      const qb_result_row* id = &out->options[o]->id;
      option_value* x = &v[l * out->noptions + o];
      x->sens = layer_value(run, id, out->layers[l].layer, "sensitivity_only", NULL);
      x->cost = layer_value(run, id, out->layers[l].layer,
                            q->objective == QB_OBJECTIVE_SIZE ? "bytes_weights" : "latency", backend);
      any_cost |= isfinite(x->cost);
    }
  if (!any_cost) {
    out->cost_is_bits = true;
    for (size_t l = 0; l < out->nlayers; l++)
      for (size_t o = 0; o < out->noptions; o++) v[l * out->noptions + o].cost = out->options[o]->id.w_bits;
  }
  greedy(out, v, q->max_drop);
  free(v);
  return 0;
}

int qb_recommend(const qb_run_data* run, const qb_run_index* idx, const qb_recommend_query* q,
                 qb_recommendation* out, qb_error* err) {
  memset(out, 0, sizeof *out);
  const qb_model_summary* m = qb_run_index_model(idx, q->model);
  if (!m) return qb_fail(err, "model '%s' is not in this run", q->model);
  if (q->backend && q->objective == QB_OBJECTIVE_LATENCY && qb_run_index_backend(idx, q->backend) < 0)
    return qb_fail(err, "backend '%s' was not measured in this run", q->backend);
  if (rank(idx, m, q, out) || plan(run, idx, m, q, out)) {
    qb_recommendation_free(out);
    return qb_fail(err, "out of memory");
  }
  return 0;
}

void qb_recommendation_free(qb_recommendation* r) {
  free(r->ranked);
  free(r->front);
  free(r->options);
  free(r->layers);
  memset(r, 0, sizeof *r);
}

/* ---- output ---------------------------------------------------------------------------- */

/* The scheme column ("affine", "symmetric-unsigned-mulrecip") as qconfig tokens
 * ("aff", "sym-unsigned-mulrecip"): the qualifiers already are tokens. */
static const char* scheme_tokens(const char* s, char* buf, size_t size) {
  const char* q = strchr(s, '-');
  snprintf(buf, size, "%s%s", !strncmp(s, "affine", 6) ? "aff" : "sym", q ? q : "");
  return buf;
}

void qb_qconfig_cli_text(const qb_result_row* r, char* buf, size_t size) {
  char ws[64], as[64];
  if (r->a_bits == 0 || !strcmp(r->workflow, "weight-only"))
    snprintf(buf, size, "w%d-%s-%s-%s/weight-only", r->w_bits,
             scheme_tokens(r->w_scheme, ws, sizeof ws), r->w_granularity, r->w_range);
  else
    snprintf(buf, size, "w%d-%s-%s-%s/a%d-%s-%s-%s/%s", r->w_bits,
             scheme_tokens(r->w_scheme, ws, sizeof ws), r->w_granularity, r->w_range, r->a_bits,
             scheme_tokens(r->a_scheme, as, sizeof as), r->a_granularity, r->a_range, r->workflow);
}

static void format_cost(double c, qb_objective o, char* buf, size_t size) {
  if (o == QB_OBJECTIVE_LATENCY) qb_format_ns(c, buf, size);
  else if (isfinite(c)) snprintf(buf, size, "%.1f KiB", c / 1024);
  else snprintf(buf, size, "—");
}

static void write_ranked(FILE* f, const qb_ranked* list, size_t n, const qb_run_index* idx,
                         const qb_recommend_query* q) {
  fprintf(f, "  %-4s %-9s %-10s %-12s %-11s %s\n", "#", "drop(pp)", "95%-upper",
          q->objective == QB_OBJECTIVE_LATENCY ? "latency" : "weights", "backend",
          "qconfig (qbench eval --qconfig)");
  for (size_t i = 0; i < n; i++) {
    char c[32], t[160];
    format_cost(list[i].cost, q->objective, c, sizeof c);
    qb_qconfig_cli_text(&list[i].cfg->id, t, sizeof t);
    char up[16] = "-";
    if (list[i].cfg->significant >= 0 && isfinite(list[i].cfg->drop_ci_high))
      snprintf(up, sizeof up, "%.2f", list[i].cfg->drop_ci_high);
    fprintf(f, "  %-4zu %-9.2f %-10s %-12s %-11s %s\n", i + 1, list[i].cfg->drop, up, c,
            list[i].backend >= 0 ? idx->backends[list[i].backend] : "any", t);
  }
}

void qb_recommend_write_text(FILE* f, const qb_recommendation* r, const qb_run_index* idx,
                             const qb_recommend_query* q) {
  const qb_model_summary* m = qb_run_index_model(idx, q->model);
  fprintf(f, "Model %s: qconfigs whose %s drop is <= %.2f pp (the upper end of its 95 %% "
             "interval where the run has paired statistics), ranked by %s%s%s:\n", q->model,
          m ? m->metric : "accuracy", q->max_drop,
          q->objective == QB_OBJECTIVE_LATENCY ? "end-to-end latency" : "packed weight bytes",
          q->backend ? " on " : "", q->backend ? q->backend : "");
  if (r->nranked) write_ranked(f, r->ranked, r->nranked, idx, q);
  else fputs("  none: no measured qconfig meets the budget (see the Pareto front below)\n", f);
  fputs("\nPareto front (drop vs objective, all qconfigs):\n", f);
  write_ranked(f, r->front, r->nfront, idx, q);
  fputs("\nMixed-precision plan (per layer, from measured per-layer sensitivity and cost):\n", f);
  if (r->plan_note[0]) {
    fprintf(f, "  not available: %s\n", r->plan_note);
    return;
  }
  for (size_t l = 0; l < r->nlayers; l++) {
    const qb_plan_layer* L = &r->layers[l];
    char t[160] = "float (kept in fp32)", c[32] = "—";
    if (L->option >= 0) qb_qconfig_cli_text(&r->options[L->option]->id, t, sizeof t);
    if (r->cost_is_bits && L->option >= 0) snprintf(c, sizeof c, "%.0f bits", L->cost);
    else format_cost(L->cost, q->objective, c, sizeof c);
    fprintf(f, "  %-24s %-52s sensitivity %.2f pp, cost %s%s\n", L->layer, t, L->sensitivity, c,
            L->fallback ? " (to float after verification)" : "");
  }
  fprintf(f, "  predicted drop: %.2f pp (sum of per-layer sensitivities)%s\n", r->predicted_drop,
          r->cost_is_bits ? "\n  cost: no per-layer latency/bytes rows in this run, weight bits used instead" : "");
  if (r->verified) {
    fprintf(f,
            "  VERIFIED end to end on %s (%zu samples, %zu calibration, integer path): fp32 %.2f%%, "
            "plan %.2f%%,\n  measured drop %.2f pp (predicted %.2f pp): %s the %.2f pp budget\n",
            r->verify_backend, r->verify_samples, r->verify_calibration, r->fp32_top1, r->measured_top1,
            r->measured_drop, r->predicted_drop, r->plan_within_budget ? "within" : "OVER", q->max_drop);
    if (r->fallback_rounds)
      fprintf(f, "  the plan as searched measured %.2f pp (predicted %.2f pp); %d layer(s) moved to float,\n"
                 "  then re-measured\n",
              r->first_measured_drop, r->first_predicted_drop, r->fallback_rounds);
    return;
  }
  fprintf(f, "  (%s the %.2f pp budget as predicted)\n", r->plan_within_budget ? "within" : "OVER", q->max_drop);
  fputs("  VERIFICATION PENDING: the accuracy above is predicted, not measured. Run\n"
        "  qbench recommend ... --verify to run the mixed configuration end to end before\n"
        "  deploying it. The single qconfigs above are measured.\n", f);
}

static void yaml_list_item(FILE* f, const char* key, const char* value) {
  fprintf(f, "  %s: [%s]\n", key, value);
}

/* The scheme column as config keys: scheme, and storage / restricted / rounding for
 * its qualifiers (harness/results/qb_result.h). */
static void yaml_scheme(FILE* f, const char* column) {
  char s[64];
  snprintf(s, sizeof s, "%s", column);
  char* save = NULL;
  for (char* t = strtok_r(s, "-", &save); t; t = strtok_r(NULL, "-", &save)) {
    if (!strcmp(t, "signed") || !strcmp(t, "unsigned")) yaml_list_item(f, "storage", t);
    else if (!strcmp(t, "restricted")) yaml_list_item(f, "restricted", "true");
    else if (!strcmp(t, "mulrecip")) yaml_list_item(f, "rounding", t);
    else yaml_list_item(f, "scheme", t);
  }
}

void qb_recommend_write_yaml(FILE* f, const qb_recommendation* r, const qb_run_index* idx,
                             const qb_recommend_query* q, const char* run_id) {
  qb_recommend_write_yaml_entry(f, r, idx, q, run_id, NULL);
}

void qb_recommend_write_yaml_entry(FILE* f, const qb_recommendation* r, const qb_run_index* idx,
                                   const qb_recommend_query* q, const char* run_id,
                                   const char* model_entry) {
  fprintf(f, "# qbench recommend: model %s, drop <= %.2f pp, objective %s%s%s, from run %s.\n",
          q->model, q->max_drop, q->objective == QB_OBJECTIVE_LATENCY ? "latency" : "size",
          q->backend ? ", backend " : "", q->backend ? q->backend : "", run_id);
  if (!r->nranked) {
    fputs("# No measured qconfig meets the budget: nothing to sweep.\n", f);
    return;
  }
  const qb_ranked* best = &r->ranked[0];
  const qb_result_row* id = &best->cfg->id;
  char t[160], bits[16];
  qb_qconfig_cli_text(id, t, sizeof t);
  fprintf(f, "# Best ranked qconfig (measured drop %.2f pp): %s\n", best->cfg->drop, t);
  fprintf(f, "# Re-measure it: qbench sweep THIS_FILE   or   qbench eval MODEL.onnx --qconfig %s\n", t);
  fprintf(f, "name: recommended-%s\noutput: results\nseed: 1\nmodels:\n", q->model);
  if (model_entry) fprintf(f, "  - %s\nweights:\n", model_entry);
  else fprintf(f, "  - {name: %s}\nweights:\n", q->model);
  snprintf(bits, sizeof bits, "%d", id->w_bits);
  yaml_list_item(f, "bits", bits);
  yaml_scheme(f, id->w_scheme);
  yaml_list_item(f, "granularity", id->w_granularity);
  yaml_list_item(f, "range", id->w_range);
  if (id->a_bits) {
    fputs("activations:\n", f);
    snprintf(bits, sizeof bits, "%d", id->a_bits);
    yaml_list_item(f, "bits", bits);
    yaml_scheme(f, id->a_scheme);
    yaml_list_item(f, "granularity", id->a_granularity);
    yaml_list_item(f, "range", id->a_range);
  }
  fprintf(f, "workflow: [%s]\nbackends: [%s]\nmeasure: [accuracy, per-layer, memory, speed]\n",
          id->workflow, best->backend >= 0 ? idx->backends[best->backend] : "all");
  if (r->plan_note[0] || !r->nlayers) return;
  if (r->verified)
    fprintf(f, "# Mixed-precision plan, VERIFIED end to end on %s (%zu samples): fp32 %.2f%%, plan %.2f%%,\n"
               "# measured drop %.2f pp (predicted %.2f pp), %s budget%s:\n",
            r->verify_backend, r->verify_samples, r->fp32_top1, r->measured_top1, r->measured_drop,
            r->predicted_drop, r->plan_within_budget ? "within" : "OVER",
            r->fallback_rounds ? " after moving layers to float" : "");
  else
    fprintf(f, "# Mixed-precision plan (VERIFICATION PENDING: predicted drop %.2f pp, %s budget;\n"
               "# run qbench recommend --verify to measure it):\n",
            r->predicted_drop, r->plan_within_budget ? "within" : "OVER");
  for (size_t l = 0; l < r->nlayers; l++) {
    char o[160] = "float";
    if (r->layers[l].option >= 0) qb_qconfig_cli_text(&r->options[r->layers[l].option]->id, o, sizeof o);
    fprintf(f, "#   %s: %s%s\n", r->layers[l].layer, o, r->layers[l].fallback ? " (float after verification)" : "");
  }
}
