/* The sweep evaluator: one plan item -> result rows (see qb_sweep_eval.h). */
#include "qb_sweep_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_dispatch.h"
#include "qb_metrics.h"
#include "qb_model_probe.h"
#include "qb_paired.h"
#include "qb_peak_rss.h"
#include "qb_gbench.h"
#include "qb_sweep_eval_internal.h"

qb_sweep_evaluator* qb_sweep_evaluator_new(const qb_sweep_eval_options* opt) {
  qb_sweep_evaluator* ev = calloc(1, sizeof *ev);
  if (!ev) return NULL;
  if (opt) ev->opt = *opt;
  qb_result_rows_init(&ev->outcome.rows);
  return ev;
}

size_t qb_sweep_evaluator_high_cv(const qb_sweep_evaluator* ev) { return ev->high_cv; }
size_t qb_sweep_evaluator_probe_mismatches(const qb_sweep_evaluator* ev) {
  return ev->probe_mismatches;
}

void qb_sweep_evaluator_free(qb_sweep_evaluator* ev) {
  if (!ev) return;
  qb_gbench_flush_json(); /* the last items' Google Benchmark entries */
  qb_eval_model_free(&ev->model);
  qb_eval_model_free(&ev->tuned);
  free(ev->outcome.probe);
  qb_result_rows_free(&ev->outcome.rows);
  for (size_t k = 0; k < ev->npending; k++) qb_quant_free(ev->pending[k].q);
  free(ev->pending);
  free(ev);
}

/* A layer computed in fp32 ("fp32", "fp32-simulated", "fp32-dequantized-weights")
 * names the fp32 kernel that ran it too: "fp32-dequantized-weights/qb_f32_gemm_6x16__avx2". */
static const char* with_f32_kernel(const qb_eval_item* it, const char* layer, const char* kernel,
                                   char* buf, size_t size) {
  if (!kernel || strncmp(kernel, "fp32", 4)) return kernel;
  const qb_model* m = &it->em->m;
  for (size_t k = 0; k < m->nnodes; k++) {
    if (strcmp(m->nodes[k].name, layer)) continue;
    const char* fk = qb_model_node_f32_kernel(m, k);
    if (!fk) return kernel;
    snprintf(buf, size, "%s/%s", kernel, fk);
    return buf;
  }
  return kernel;
}

int qb_eval_row(qb_eval_item* it, const char* layer, const char* kernel, int threads,
                const char* metric, double value, const char* unit, qb_error* err) {
  char named[192];
  kernel = with_f32_kernel(it, layer, kernel, named, sizeof named);
  if (!qb_result_rows_add(it->rows, layer, kernel, threads, metric, value, unit))
    return qb_fail(err, "out of memory adding result rows");
  return 0;
}

/* The outputs task: per model output, the quantized run's error against fp32. */
static int output_rows(qb_eval_item* it, const qb_eval_result* r, qb_error* err) {
  const qb_eval_model* em = it->em;
  const qb_eval_result* f = &it->em->fp32;
  for (size_t k = 0; k < em->task.noutputs; k++) {
    qb_error_metrics m;
    double agree;
    if (qb_task_output_metrics(&em->task, r->logits, f->logits, r->count, r->classes, k, &m, &agree,
                               err))
      return -1;
    const char* name = em->task.output_name[k];
    if (qb_eval_row(it, name, "", 1, "output_sqnr", m.sqnr_db, "dB", err) ||
        qb_eval_row(it, name, "", 1, "output_cosine", m.cosine, "", err) ||
        qb_eval_row(it, name, "", 1, "output_max_abs_err", m.max_abs, "", err) ||
        qb_eval_row(it, name, "", 1, "output_agreement", agree, "%", err))
      return -1;
  }
  return 0;
}

/* Per sample: the predicted class (argmax) of rows x classes logits. */
static void argmax_rows(const float* logits, size_t rows, size_t classes, uint16_t* out) {
  for (size_t i = 0; i < rows; i++) out[i] = (uint16_t)qb_argmax(logits + i * classes, classes);
}

/* The item's predictions beside its rows (the fp32 model's and the labels as its
 * reference), and the paired statistics of its drop (qb_paired.h): the discordant
 * samples, the exact McNemar p-value, the 95 % interval of the drop. */
static int eval_paired(qb_eval_item* it, const qb_eval_result* r, qb_error* err) {
  const qb_eval_result* f = it->baseline;
  const size_t n = r->count;
  const int32_t* labels = it->em->test.labels;
  uint16_t* buf = malloc(3 * (n ? n : 1) * sizeof *buf);
  if (!buf) return qb_fail(err, "out of memory");
  uint16_t *pred = buf, *ref = buf + n, *lab = buf + 2 * n;
  argmax_rows(r->logits, n, r->classes, pred);
  argmax_rows(f->logits, n, f->classes, ref);
  for (size_t i = 0; i < n; i++)
    lab[i] = labels && labels[i] >= 0 && labels[i] < QB_LABEL_NONE ? (uint16_t)labels[i] : QB_LABEL_NONE;
  size_t b, c;
  qb_paired_count(ref, pred, lab, n, &b, &c);
  qb_paired_result ps;
  qb_paired_stats(n, b, c, QB_SWEEP_ALPHA, &ps);
  const char* name = it->model_name;
  int rc = qb_result_rows_set_predictions(it->rows, pred, ref, lab, n)
               ? qb_fail(err, "out of memory")
               : 0;
  free(buf);
  if (rc) return -1;
  return qb_eval_row(it, name, "", 1, "discordant_lost", (double)b, "samples", err) ||
                 qb_eval_row(it, name, "", 1, "discordant_gained", (double)c, "samples", err) ||
                 qb_eval_row(it, name, "", 1, "drop_ci_low", ps.ci_low, "%", err) ||
                 qb_eval_row(it, name, "", 1, "drop_ci_high", ps.ci_high, "%", err) ||
                 qb_eval_row(it, name, "", 1, "mcnemar_p", ps.p, "", err) ||
                 qb_eval_row(it, name, "", 1, "drop_significant", ps.p < QB_SWEEP_ALPHA, "", err)
             ? -1
             : 0;
}

/* Output-level metrics beside top-1: KL(fp32 || quantized) of the softmax outputs per
 * sample (mean as "kl", and its median, p90, p99, max), and the RMS of the change in
 * the true class's probability. */
static int eval_outputs(qb_eval_item* it, const qb_eval_result* r, qb_error* err) {
  const qb_eval_result* f = it->baseline;
  const size_t n = r->count;
  double* kl = malloc((n ? n : 1) * sizeof *kl);
  if (!kl) return qb_fail(err, "out of memory");
  qb_kl_divergence_rows(f->logits, r->logits, n, r->classes, kl);
  double mean = 0;
  for (size_t i = 0; i < n; i++) mean += kl[i];
  mean = n ? mean / (double)n : 0;
  const double max = n ? qb_quantile_sorted_inplace(kl, n, 1.0) : 0;
  const double med = n ? qb_quantile_sorted_inplace(kl, n, 0.5) : 0;
  const double p90 = n ? qb_quantile_sorted_inplace(kl, n, 0.9) : 0;
  const double p99 = n ? qb_quantile_sorted_inplace(kl, n, 0.99) : 0;
  free(kl);
  const char* name = it->model_name;
  const double rms =
      it->em->test.labels
          ? qb_true_class_prob_rms(f->logits, r->logits, it->em->test.labels, n, r->classes)
          : NAN;
  return qb_eval_row(it, name, "", 1, "kl", mean, "", err) ||
                 qb_eval_row(it, name, "", 1, "kl_median", med, "", err) ||
                 qb_eval_row(it, name, "", 1, "kl_p90", p90, "", err) ||
                 qb_eval_row(it, name, "", 1, "kl_p99", p99, "", err) ||
                 qb_eval_row(it, name, "", 1, "kl_max", max, "", err) ||
                 qb_eval_row(it, name, "", 1, "true_prob_rms", rms, "", err)
             ? -1
             : 0;
}

/* End to end: the integer run on the item's backend against the config model's fp32
 * run (for qat items too: the drop is what fine-tuning + quantizing costs in all).
 * `accuracy` is the task's primary metric (qb_task.h), named by the task_metric row. */
static int eval_accuracy(qb_eval_item* it, qb_error* err) {
  qb_eval_model* em = it->em;
  qb_eval_result r;
  if (qb_eval_model_run(em, it->q, em->eval_count, &r, err)) return -1;
  const qb_eval_result* f = it->baseline;
  const qb_task_ctx* t = &em->task;
  const char* name = it->model_name;
  /* The baseline is the config model's fp32 run (a qat item's em is the fine-tune). */
  qb_task_score s, s32;
  if (qb_eval_model_score(em, &r, f, &s, err) || qb_eval_model_score(em, f, f, &s32, err)) {
    qb_eval_result_free(&r);
    return -1;
  }
  /* Paired statistics, stored predictions and the output-distribution metrics read
   * one class per sample: classification tasks only. */
  const bool classifier = t->task == QB_TASK_CLASSIFICATION || t->task == QB_TASK_OCR_CLS;
  int rc = qb_eval_row(it, name, "", 1, "task_metric", (double)t->task, qb_task_metric_short(t->task), err) ||
           qb_eval_row(it, name, "", 1, "accuracy", s.score, "%", err) ||
           qb_eval_row(it, name, "", 1, "accuracy_fp32", s32.score, "%", err) ||
           qb_eval_row(it, name, "", 1, "drop", s32.score - s.score, "%", err) ||
           (classifier && eval_paired(it, &r, err)) ||
           qb_eval_row(it, name, "", 1, "agreement",
                       qb_task_agreement(t, f->logits, r.logits, r.count, r.classes), "%", err) ||
           (classifier && eval_outputs(it, &r, err)) ||
           (t->task == QB_TASK_OCR_REC &&
            (qb_eval_row(it, name, "", 1, "cer", s.cer, "%", err) ||
             qb_eval_row(it, name, "", 1, "cer_fp32", s32.cer, "%", err))) ||
           (t->task == QB_TASK_OCR_DET &&
            (qb_eval_row(it, name, "", 1, "precision", s.precision, "%", err) ||
             qb_eval_row(it, name, "", 1, "recall", s.recall, "%", err) ||
             qb_eval_row(it, name, "", 1, "precision_fp32", s32.precision, "%", err) ||
             qb_eval_row(it, name, "", 1, "recall_fp32", s32.recall, "%", err))) ||
           (t->task == QB_TASK_OUTPUTS && output_rows(it, &r, err)) ||
           /* Accuracy does not depend on it (dynamic ranges are per sample), but say it. */
           qb_eval_row(it, name, "", 1, "eval_batch", (double)QB_SWEEP_BATCH, "samples", err);
  qb_eval_result_free(&r);
  return rc ? -1 : 0;
}

/* The activation part of a qconfig's text: what its static ranges depend on. */
static void act_key(const qb_qconfig* qc, char* key, size_t size) {
  char text[400];
  qb_qconfig_str(qc, text, sizeof text);
  const char* a = strchr(text, '/');
  snprintf(key, size, "%s", a ? a + 1 : text);
}

/* Static: ranges for this activation spec, from the cache or chosen now (from the
 * model's one calibration) and cached. */
static int static_ranges(qb_eval_item* it, const qb_qconfig* qc, qb_error* err) {
  qb_eval_model* em = it->em;
  char key[sizeof em->ranges[0].key];
  act_key(qc, key, sizeof key);
  for (size_t i = 0; i < em->nranges; i++)
    if (!strcmp(em->ranges[i].key, key))
      return qb_probe_set_act_qparams(it->q, em->ranges[i].qp, em->ranges[i].has, err);
  if (qb_probe_copy_calibration(it->q, em->calibration, err)) return -1;
  if (em->nranges == QB_EVAL_RANGE_CACHE) return 0;
  const size_t nv = qb_probe_nvalues(it->q);
  qb_eval_ranges* r = &em->ranges[em->nranges];
  r->qp = malloc((nv ? nv : 1) * sizeof *r->qp);
  r->has = malloc((nv ? nv : 1) * sizeof *r->has);
  if (!r->qp || !r->has) {
    free(r->qp), free(r->has);
    return qb_fail(err, "out of memory");
  }
  qb_probe_get_act_qparams(it->q, r->qp, r->has);
  snprintf(r->key, sizeof r->key, "%s", key);
  em->nranges++;
  return 0;
}

/* The item's quantization state: weights for `backend` (its own, or its class's
 * evaluated backend), and (static) ranges chosen
 * from the model's one calibration with the item's range strategy. */
static int make_state(qb_eval_item* it, qb_backend backend, const qb_quant_state* donor,
                      qb_error* err) {
  const qb_qconfig qc = qb_plan_item_qconfig(it->item);
  if (!it->em->m.prepared && qb_model_prepare(&it->em->m, 1, err)) return -1;
  if (qb_quant_create_reusing(&it->em->m, &qc, backend, donor, &it->q, err)) return -1;
  return qc.workflow == QB_WORKFLOW_STATIC ? static_ranges(it, &qc, err) : 0;
}

/* True when no layer of the item runs an integer kernel (weight-only, per-group
 * weights, ...): every backend then runs the very same fp32 code. */
static bool backend_independent(const qb_quant_state* q, const qb_model* m) {
  for (size_t k = 0; k < m->nnodes; k++)
    if (qb_probe_runs_integer(q, k)) return false;
  return true;
}

static bool backend_exact(const qb_sweep_evaluator* ev, qb_backend b) {
  if (ev->opt.exact) return (ev->opt.exact & QB_BACKEND_BIT(b)) != 0;
  const qb_dispatch_table* t = qb_dispatch_get(b);
  return t && qb_dispatch_table_exact(t);
}

/* The item id without its backend (the last component): the exactness class key. */
static void class_key_of(const char* id, char* key, size_t size) {
  snprintf(key, size, "%s", id);
  char* slash = strrchr(key, '/');
  if (slash) *slash = 0;
}

/* The class's evaluated backend: the fastest exact backend the plan runs this qconfig
 * on (for a backend-independent item every planned backend qualifies); without a
 * plan, the item's own. */
static qb_backend evaluated_backend(const qb_sweep_evaluator* ev, const qb_plan_item* item,
                                    const char* key, bool independent) {
  const qb_plan* plan = ev->opt.plan;
  if (!plan) return item->backend;
  qb_backend_set set = 0;
  char k[QB_PLAN_ID_MAX];
  for (size_t i = 0; i < plan->nitems; i++) {
    const qb_backend b = plan->items[i].backend;
    if (!(independent || backend_exact(ev, b))) continue;
    class_key_of(plan->items[i].id, k, sizeof k);
    if (!strcmp(k, key)) set |= QB_BACKEND_BIT(b);
  }
  return set ? qb_dispatch_best_backend(set) : item->backend;
}

/* The item's own kernel for a layer row copied from another backend (end-to-end rows
 * name no kernel). */
static const char* own_kernel(const qb_eval_item* it, const char* layer, const char* kernel) {
  const qb_model* m = &it->em->m;
  for (size_t k = 0; k < m->nnodes; k++) {
    if (!qb_probe_is_layer(it->q, k)) continue;
    qb_quant_layer_info li;
    qb_quant_layer(it->q, k, &li);
    if (!strcmp(li.name ? li.name : m->nodes[k].name, layer)) return li.kernel;
  }
  return kernel;
}

/* The predictions travel with the rows they were measured with. */
static int copy_predictions(qb_result_rows* dst, const qb_result_rows* src, qb_error* err) {
  const qb_item_predictions* p = &src->predictions;
  return qb_result_rows_set_predictions(dst, p->predicted, p->fp32, p->labels, p->count)
             ? qb_fail(err, "out of memory")
             : 0;
}

/* Gives the item a copy of the class's outcome: its rows under the item's identity
 * (the item's own kernels in the kernel column) and its per-sample predictions. */
static int copy_outcome(const qb_eval_outcome* o, qb_eval_item* it, qb_error* err) {
  for (size_t i = 0; i < o->rows.count; i++) {
    const qb_result_row* c = &o->rows.rows[i];
    const char* kernel = c->kernel[0] ? own_kernel(it, c->layer, c->kernel) : "";
    if (qb_eval_row(it, c->layer, kernel, c->threads, c->metric, c->value, c->unit, err))
      return -1;
  }
  return copy_predictions(it->rows, &o->rows, err);
}

static void outcome_clear(qb_eval_outcome* o) {
  o->key[0] = 0;
  qb_result_rows_clear(&o->rows);
  free(o->probe);
  o->probe = NULL;
  o->probe_count = o->probe_floats = 0;
}

/* Logits of the first probe samples (the integer run), owned by the caller. */
static int run_probe(qb_eval_model* em, qb_quant_state* q, float** logits, size_t* count,
                     size_t* floats, qb_error* err) {
  const size_t n = em->eval_count < QB_SWEEP_EXACT_PROBE ? em->eval_count : QB_SWEEP_EXACT_PROBE;
  qb_eval_result r;
  if (qb_eval_model_run(em, q, n, &r, err)) return -1;
  *logits = r.logits, *count = r.count, *floats = r.count * r.classes;
  r.logits = NULL;
  qb_eval_result_free(&r);
  return 0;
}

/* The evaluation thread count on the model's fp32 ops and the item's state (the speed
 * group sets its own counts, then 1). */
static int set_eval_threads(qb_eval_item* it, qb_error* err) {
  const size_t t = it->eval_threads ? it->eval_threads : 1;
  return qb_model_set_threads(&it->em->m, t, err) || qb_quant_set_threads(it->q, t, err) ? -1 : 0;
}

/* Accuracy, per-layer errors and sensitivity of the item's own state into its rows. */
static int evaluate(qb_eval_item* it, qb_error* err) {
  const unsigned ms = it->cfg->measure;
  int rc = set_eval_threads(it, err);
  if (!rc && (ms & QB_MEASURE_ACCURACY)) rc = eval_accuracy(it, err);
  if (!rc && (ms & QB_MEASURE_PER_LAYER)) rc = qb_eval_layers(it, err);
  if (!rc && (ms & QB_MEASURE_SENSITIVITY)) rc = qb_eval_sensitivity(it, err);
  return rc;
}

/* Evaluates the class's qconfig on backend `b` (the item's own state when b is its
 * backend, else a state made for b) into ev->outcome. */
static int evaluate_class(qb_sweep_evaluator* ev, qb_eval_item* it, const char* key, qb_backend b,
                          qb_error* err) {
  qb_eval_outcome* o = &ev->outcome;
  outcome_clear(o);
  qb_eval_item ref = *it;
  ref.rows = &o->rows;
  ref.q = NULL;
  o->rows.identity = it->rows->identity;
  snprintf(o->rows.identity.backend, sizeof o->rows.identity.backend, "%s", qb_backend_name(b));
  snprintf(o->rows.identity.evaluated_on, sizeof o->rows.identity.evaluated_on, "%s",
           qb_backend_name(b));
  int rc = b == it->item->backend ? 0 : make_state(&ref, b, it->q, err);
  qb_quant_state* q = ref.q ? ref.q : it->q;
  ref.q = q;
  if (!rc) rc = evaluate(&ref, err);
  if (!rc) rc = run_probe(it->em, q, &o->probe, &o->probe_count, &o->probe_floats, err);
  if (ref.q != it->q) qb_quant_free(ref.q);
  if (rc) return outcome_clear(o), -1;
  o->backend = b;
  snprintf(o->key, sizeof o->key, "%s", key);
  return 0;
}

/* True when the item's integer run reproduces the outcome's probe logits bit for bit. */
static int probe_matches(const qb_eval_outcome* o, qb_eval_item* it, bool* match, qb_error* err) {
  float* logits;
  size_t count, floats;
  if (run_probe(it->em, it->q, &logits, &count, &floats, err)) return -1;
  *match = count == o->probe_count && floats == o->probe_floats &&
           !memcmp(logits, o->probe, floats * sizeof *logits);
  free(logits);
  return 0;
}

static void set_check(qb_eval_item* it, qb_backend evaluated_on, const char* check) {
  qb_result_row* id = &it->rows->identity;
  snprintf(id->evaluated_on, sizeof id->evaluated_on, "%s", qb_backend_name(evaluated_on));
  snprintf(id->exact_check, sizeof id->exact_check, "%s", check);
}

/* Accuracy, per-layer errors and sensitivity, once per exactness class (see
 * qb_sweep_eval.h). Leaves the identity's evaluated_on at the item's backend for the
 * speed and memory rows that follow. */
static int eval_numerics(qb_sweep_evaluator* ev, qb_eval_item* it, qb_error* err) {
  const qb_backend own = it->item->backend;
  const bool independent = backend_independent(it->q, &it->em->m);
  if (!independent && !backend_exact(ev, own)) {
    set_check(it, own, "not-exact");
    return evaluate(it, err);
  }
  char key[QB_PLAN_ID_MAX];
  class_key_of(it->item->id, key, sizeof key);
  qb_eval_outcome* o = &ev->outcome;
  if (strcmp(o->key, key) &&
      evaluate_class(ev, it, key, evaluated_backend(ev, it->item, key, independent), err))
    return -1;
  int rc = 0;
  if (o->backend == own) {
    set_check(it, own, "evaluated");
    rc = copy_outcome(o, it, err);
  } else {
    bool match;
    if (probe_matches(o, it, &match, err)) return -1;
    set_check(it, match ? o->backend : own, match ? "probe-match" : "probe-mismatch");
    rc = match ? copy_outcome(o, it, err) : evaluate(it, err);
    if (!match && ++ev->probe_mismatches && it->log)
      fprintf(it->log, "%s: warning: the integer outputs of %s differ from %s's on the first %zu "
              "samples although both are exact: evaluated fully (exact_check probe-mismatch)\n",
              it->item->id, qb_backend_name(own), qb_backend_name(o->backend), o->probe_count);
    set_check(it, own, match ? "probe-match" : "probe-mismatch");
  }
  return rc;
}

/* A state awaiting its speed group, of the same model, whose quantized weights the
 * item can take instead of searching their ranges again (NULL: none). */
static const qb_quant_state* weight_donor(const qb_sweep_evaluator* ev, const qb_eval_item* it) {
  const qb_qconfig qc = qb_plan_item_qconfig(it->item);
  for (size_t k = ev->npending; k-- > 0;)
    if (ev->pending[k].em == it->em && qb_quant_weights_match(ev->pending[k].q, &qc))
      return ev->pending[k].q;
  return NULL;
}

/* Keeps the evaluated item (its state) for qb_sweep_eval_speed_group. */
static int keep_pending(qb_sweep_evaluator* ev, qb_eval_item* it, qb_error* err) {
  if (!ev->pending && !(ev->pending = calloc(QB_SWEEP_GROUP_MAX, sizeof *ev->pending)))
    return qb_quant_free(it->q), qb_fail(err, "out of memory");
  if (ev->npending == QB_SWEEP_GROUP_MAX)
    return qb_quant_free(it->q),
           qb_fail(err, "%s: %d items evaluated without qb_sweep_eval_speed_group", it->item->id,
                   QB_SWEEP_GROUP_MAX);
  ev->pending[ev->npending++] = *it;
  return 0;
}

int qb_sweep_eval_item(void* ctx, const qb_sweep_config* cfg, const qb_plan_item* item,
                       qb_result_rows* rows, qb_error* err) {
  qb_sweep_evaluator* ev = ctx;
  const bool qat = item->workflow == QB_WORKFLOW_QAT;
  if (qat ? qb_eval_tuned_ensure(ev, cfg, item, err) : qb_eval_model_ensure(ev, cfg, item->model, err))
    return -1;
  /* peak_rss of this item: the high-water mark restarts here, with the model, its data
   * and fp32 reference resident (the same whatever ran before). */
  qb_eval_item it = {cfg,  item, qat ? &ev->tuned : &ev->model, &ev->model.fp32, NULL, rows,
                     cfg->models[item->model].name, ev->opt.log, &ev->high_cv,
                     ev->opt.gbench_json, qb_peak_rss_reset(), ev->opt.eval_threads};
  /* Speed and memory rows are the item's own; eval_numerics says whose the rest are. */
  set_check(&it, item->backend, "");
  int rc = make_state(&it, item->backend, weight_donor(ev, &it), err);
  const unsigned ms = cfg->measure;
  /* Memory before the numerics: an item may carry its exactness class's evaluation or
   * a copy of it, and peak_rss must not depend on which (nor on shards or order). */
  if (!rc && (ms & QB_MEASURE_MEMORY)) rc = qb_eval_memory(&it, err);
  if (!rc && (ms & (QB_MEASURE_ACCURACY | QB_MEASURE_PER_LAYER | QB_MEASURE_SENSITIVITY)))
    rc = eval_numerics(ev, &it, err);
  if (!rc && (ms & QB_MEASURE_SPEED)) return keep_pending(ev, &it, err);
  qb_quant_free(it.q);
  return rc;
}

int qb_sweep_eval_speed_group(void* ctx, const qb_sweep_config* cfg,
                              const qb_plan_item* const* items, qb_result_rows* const* rows,
                              size_t n, qb_error* err) {
  qb_sweep_evaluator* ev = ctx;
  int rc = 0;
  if (!(cfg->measure & QB_MEASURE_SPEED)) return 0;
  qb_eval_item* group[QB_SWEEP_GROUP_MAX];
  if (n != ev->npending || n > QB_SWEEP_GROUP_MAX)
    rc = qb_fail(err, "speed of %zu items asked, %zu evaluated", n, ev->npending);
  for (size_t k = 0; !rc && k < n; k++) {
    if (ev->pending[k].item != items[k] || ev->pending[k].rows != rows[k])
      rc = qb_fail(err, "%s: not the item evaluated in this place of the group", items[k]->id);
    group[k] = &ev->pending[k];
  }
  if (!rc) rc = qb_eval_speed_group(group, n, err);
  for (size_t k = 0; k < ev->npending; k++) qb_quant_free(ev->pending[k].q);
  ev->npending = 0;
  return rc;
}
