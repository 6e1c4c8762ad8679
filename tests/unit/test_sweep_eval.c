/* The sweep evaluator end to end on the mlp reference model (200 images): the rows'
 * schema and consistency, exact backends agreeing with scalar, a layer kept in
 * float costing nothing, and resume after an interrupted run giving the rows of an
 * uninterrupted one (evaluated on another thread count). (Shard + merge: tests/cli/test_cli_sweep_shard.sh.) */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_dispatch.h"
#include "qb_json_scan.h"
#include "qb_model_eval.h"
#include "qb_model_probe.h"
#include "qb_peak_rss.h"
#include "qb_results_files.h"
#include "qb_run_data.h"
#include "qb_sweep_eval.h"
#include "qb_sweep_run.h"
#include "qb_test.h"

static char g_tmp[256];
static const int kReps = 2;
/* Items timed together (interleaved); a stop request ends the run after a group. */
static const size_t kGroup = 3;

static const char* kConfig =
    "name: t\n"
    "output: /tmp\n"
    "seed: 1\n"
    "models:\n"
    "  - {name: mlp}\n"
    "eval: {limit: 200, calibration: 100}\n"
    "weights:\n"
    "  bits: [8]\n"
    "  scheme: [symmetric]\n"
    "  granularity: [channel]\n"
    "  range: [minmax]\n"
    "activations:\n"
    "  bits: [8]\n"
    "  scheme: [affine]\n"
    "  granularity: [tensor]\n"
    "  range: [minmax]\n"
    "workflow: [weight-only, static]\n"
    "backends: [all]\n"
    "measure: [accuracy, per-layer, sensitivity, speed, memory]\n"
    "repetitions: 2\n"
    "threads: [1]\n";

/* Per-layer rows are named after the nodes a layer covers: static layers fold the
 * following Relu (fc1+relu1), weight-only ones do not. */
static const char* kLayersWeightOnly[] = {"fc1", "fc2", "fc3"};
static const char* kLayersStatic[] = {"fc1+relu1", "fc2+relu2", "fc3"};
static const char* const* layer_names(const char* item_id) {
  return strstr(item_id, "/static/") ? kLayersStatic : kLayersWeightOnly;
}
static const char* kLayerMetrics[] = {
    "weight_sqnr", "sqnr",       "mse",          "cosine",        "norm_l2",
    "max_abs_err", "p95_abs_err", "shadow_sqnr", "simkernel_mismatch", "sensitivity_only",
    "sensitivity_float", "bytes_weights", "latency_median"};

/* The value of (item, layer, metric), NaN if absent; *count = how many rows match. */
static double find(const qb_result_rows* r, const char* item, const char* layer,
                   const char* metric, size_t* count) {
  double v = NAN;
  size_t n = 0;
  for (size_t i = 0; i < r->count; i++) {
    const qb_result_row* row = &r->rows[i];
    if (!strcmp(row->item_id, item) && !strcmp(row->layer, layer) && !strcmp(row->metric, metric))
      v = row->value, n++;
  }
  if (count) *count = n;
  return v;
}

/* Wraps the evaluator; stops the sweep after `stop_after` items (a simulated kill). */
typedef struct {
  qb_sweep_evaluator* ev;
  size_t evaluated, stop_after;
} stopper;

static int eval_then_stop(void* ctx, const qb_sweep_config* cfg, const qb_plan_item* item,
                          qb_result_rows* rows, qb_error* err) {
  stopper* s = ctx;
  const int rc = qb_sweep_eval_item(s->ev, cfg, item, rows, err);
  if (++s->evaluated == s->stop_after) qb_sweep_request_stop();
  return rc;
}

static int speed_of(void* ctx, const qb_sweep_config* cfg, const qb_plan_item* const* items,
                    qb_result_rows* const* rows, size_t n, qb_error* err) {
  stopper* st = ctx;
  return qb_sweep_eval_speed_group(st->ev, cfg, items, rows, n, err);
}

static int run_sweep(const qb_sweep_config* cfg, const qb_plan* plan, const char* dir, bool resume,
                     size_t stop_after, size_t eval_threads, qb_sweep_summary* sum) {
  char db[400];
  snprintf(db, sizeof db, "%s/history.db", g_tmp);
  char gbench[400];
  snprintf(gbench, sizeof gbench, "%s/gbench.json", dir);
  const qb_sweep_eval_options eo = {NULL, 0, NULL, gbench, plan, 0, eval_threads};
  stopper st = {qb_sweep_evaluator_new(&eo), 0, stop_after};
  const qb_sweep_options opt = {dir, db, resume, false, eval_then_stop, &st, NULL, speed_of, kGroup};
  qb_error err = {{0}};
  const int rc = qb_sweep_run(cfg, plan, &opt, sum, &err);
  if (rc) fprintf(stderr, "sweep: %s\n", err.msg);
  qb_sweep_evaluator_free(st.ev);
  return rc;
}

/* The run's gbench.json: a complete Google Benchmark document with, for every item
 * (threads 1), `kReps` repetitions of `model/<item id>/threads:1`, the fp32 model's
 * `model-fp32/<model>/threads:1` repetitions, and no others
 * (a resumed run keeps the entries of the items run before the interruption). */
static void check_gbench_json(const char* dir, const qb_plan* plan) {
  char path[400];
  snprintf(path, sizeof path, "%s/gbench.json", dir);
  FILE* f = fopen(path, "rb");
  QB_CHECK_MSG(f != NULL, "%s: missing", path);
  if (!f) return;
  static char text[1 << 20];
  const size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = 0;
  qb_run_data run;
  memset(&run, 0, sizeof run);
  qb_error err = {{0}};
  QB_CHECK_MSG(qb_run_data_parse_gbench(path, text, len, &run, &err) == 0, "%s", err.msg);
  qb_run_data_free(&run);
  size_t iterations = 0, fp32 = 0;
  for (const char* p = text; (p = strstr(p, "\"run_type\": \"iteration\"")); p++) iterations++;
  /* The fp32 model's benchmark (model-fp32/<model>/threads:T), kReps repetitions per
   * model and thread count in each process that timed it. */
  for (const char* p = text; (p = strstr(p, "\"run_name\": \"model-fp32/")); p++) {
    const char* t = strstr(p, "\"run_type\": ");
    fp32 += t && !strncmp(t, "\"run_type\": \"iteration\"", 23) && t - p < 200;
  }
  QB_CHECK_MSG(fp32 >= (size_t)kReps && fp32 % (size_t)kReps == 0, "%s: %zu fp32 repetitions", path, fp32);
  QB_CHECK_MSG(iterations - fp32 == plan->nitems * (size_t)kReps, "%s: %zu repetitions, expected %zu",
               path, iterations - fp32, plan->nitems * (size_t)kReps);
  for (size_t i = 0; i < plan->nitems; i++) {
    char key[QB_PLAN_ID_MAX + 64];
    snprintf(key, sizeof key, "\"run_name\": \"model/%s/threads:1/", plan->items[i].id);
    size_t n = 0;
    for (const char* p = text; (p = strstr(p, key)); p++) n++;
    QB_CHECK_MSG(n >= (size_t)kReps, "%s: %zu entries for %s", path, n, plan->items[i].id);
  }
}

/* The interleaving order: each round a permutation of the items, starting one later
 * than the round before; and the first speed group's gbench.json entries (one per
 * repetition) appear in exactly that order. */
static void check_interleaving(const char* dir, const qb_plan* plan) {
  for (size_t n = 1; n <= 5; n++)
    for (size_t r = 0; r < 2 * n; r++) {
      unsigned seen = 0;
      for (size_t slot = 0; slot < n; slot++) seen |= 1u << qb_sweep_interleave_item(n, r, slot);
      QB_CHECK(seen == (1u << n) - 1);
      QB_CHECK_EQ_INT(qb_sweep_interleave_item(n, r, 0), r % n);
    }
  QB_CHECK_EQ_INT(qb_sweep_interleave_item(0, 3, 0), 0);
  char path[400];
  snprintf(path, sizeof path, "%s/gbench.json", dir);
  size_t len = 0;
  char* text = qb_read_text_file(path, &len);
  QB_CHECK(text != NULL);
  if (!text) return;
  const size_t n = plan->nitems < kGroup ? plan->nitems : kGroup;
  const char* p = text;
  for (size_t r = 0; r < (size_t)kReps; r++)
    for (size_t slot = 0; slot < n; slot++) {
      p = strstr(p, "\"run_name\": \"model/");
      QB_CHECK(p != NULL);
      if (!p) goto done;
      char want[QB_PLAN_ID_MAX + 40];
      snprintf(want, sizeof want, "\"run_name\": \"model/%s/threads:",
               plan->items[qb_sweep_interleave_item(n, r, slot)].id);
      QB_CHECK_MSG(!strncmp(p, want, strlen(want)), "round %zu slot %zu: %.120s", r, slot, p);
      p++;
    }
done:
  free(text);
}

/* Writes into dir/gbench.json the entries of src/gbench.json except those of item
 * `id`, and a stale dir/gbench.json.tmp: what a kill leaves in the worst case. */
static void plant_gbench_without(const char* src, const char* dir, const char* id) {
  char path[400], key[QB_PLAN_ID_MAX + 16];
  snprintf(path, sizeof path, "%s/gbench.json", src);
  size_t len = 0;
  char* text = qb_read_text_file(path, &len);
  QB_CHECK(text != NULL);
  if (!text) return;
  char* out = malloc(len + 1);
  const char* open = strchr(strstr(text, "\"benchmarks\""), '[');
  size_t used = (size_t)(open - text) + 1, pos = used, start, end, kept = 0;
  memcpy(out, text, used);
  snprintf(key, sizeof key, "model/%s/threads:", id);
  while (qb_json_next_object(text, len, &pos, &start, &end)) {
    if (memmem(text + start, end - start, key, strlen(key))) continue;
    if (kept++) out[used++] = ',';
    memcpy(out + used, text + start, end - start);
    used += end - start;
  }
  memcpy(out + used, "]}", 2);
  snprintf(path, sizeof path, "%s/gbench.json", dir);
  FILE* f = fopen(path, "wb");
  QB_CHECK(f && fwrite(out, 1, used + 2, f) == used + 2 && fclose(f) == 0);
  snprintf(path, sizeof path, "%s/gbench.json.tmp", dir);
  f = fopen(path, "wb");
  QB_CHECK(f && fputs("{\"context\": ", f) >= 0 && fclose(f) == 0);
  free(out);
  free(text);
}

static void read_rows(const char* dir, qb_result_rows* rows) {
  char csv[400];
  snprintf(csv, sizeof csv, "%s/results.csv", dir);
  bool torn = false;
  qb_error err = {{0}};
  qb_result_rows_init(rows);
  QB_CHECK_MSG(qb_results_csv_read(csv, rows, &torn, &err) == 0, "%s", err.msg);
  QB_CHECK(!torn);
}

static void check_schema(const qb_plan* plan, const qb_result_rows* r) {
  for (size_t i = 0; i < plan->nitems; i++) {
    const char* id = plan->items[i].id;
    size_t n;
    const double acc = find(r, id, "mlp", "accuracy", &n);
    QB_CHECK_MSG(n == 1, "%s: %zu accuracy rows", id, n);
    const double acc32 = find(r, id, "mlp", "accuracy_fp32", NULL);
    const double drop = find(r, id, "mlp", "drop", NULL);
    QB_CHECK_MSG(fabs(drop - (acc32 - acc)) < 1e-9, "%s: drop %g != %g - %g", id, drop, acc32, acc);
    const double agree = find(r, id, "mlp", "agreement", NULL);
    QB_CHECK(agree > 50 && agree <= 100);
    QB_CHECK(find(r, id, "mlp", "kl", NULL) >= 0);
    find(r, id, "mlp", "latency_sample", &n);
    QB_CHECK_EQ_INT((int)n, kReps);
    /* Each repetition over the fp32 model's of the same round: one ratio per round. */
    find(r, id, "mlp", "latency_rel_sample", &n);
    QB_CHECK_EQ_INT((int)n, kReps);
    /* 8-bit weights: a byte each plus scales, zero points and bias: a little over 8 bits. */
    const double eb = find(r, id, "mlp", "effective_bits", NULL);
    QB_CHECK_MSG(eb > 8.0 && eb < 8.5, "%s: effective bits %g", id, eb);
    for (size_t l = 0; l < 3; l++)
      for (size_t m = 0; m < sizeof kLayerMetrics / sizeof *kLayerMetrics; m++) {
        find(r, id, layer_names(id)[l], kLayerMetrics[m], &n);
        QB_CHECK_MSG(n == 1, "%s %s %s: %zu rows", id, layer_names(id)[l], kLayerMetrics[m], n);
      }
    /* Nodes outside layers get one latency row naming how they ran: weight-only runs
     * Relu in fp32; static folds it into fc1 (no row of its own). */
    size_t relu_rows = 0;
    for (size_t j = 0; j < r->count; j++) {
      const qb_result_row* row = &r->rows[j];
      if (strcmp(row->item_id, id) || strcmp(row->layer, "relu1")) continue;
      relu_rows++;
      QB_CHECK_MSG(!strcmp(row->metric, "latency_median") && !strcmp(row->kernel, "fp32 Relu"),
                   "%s relu1: %s %s", id, row->metric, row->kernel);
    }
    QB_CHECK_EQ_INT(relu_rows, strstr(id, "/static/") ? 0 : 1);
    /* The activation error of the first layer is its own (shadow) error: same input. */
    const char* fc1 = layer_names(id)[0];
    QB_CHECK_EQ_F32((float)find(r, id, fc1, "sqnr", NULL), (float)find(r, id, fc1, "shadow_sqnr", NULL));
  }
}

/* Exact backends give the scalar backend's accuracy and per-layer errors exactly. */
static void check_exact_backends(const qb_plan* plan, const qb_result_rows* r) {
  size_t compared = 0, expected = 0;
  for (qb_backend be = QB_BACKEND_SCALAR + 1; be < QB_BACKEND_COUNT; be++)
    if (be != QB_BACKEND_AVX2_SAT && qb_isa_usable(be)) expected += 2; /* weight-only + static */
  for (size_t i = 0; i < plan->nitems; i++) {
    const qb_plan_item* it = &plan->items[i];
    if (it->backend == QB_BACKEND_SCALAR || it->backend == QB_BACKEND_AVX2_SAT) continue;
    compared++;
    char scalar_id[QB_PLAN_ID_MAX];
    snprintf(scalar_id, sizeof scalar_id, "%s", it->id);
    char* slash = strrchr(scalar_id, '/');
    snprintf(slash + 1, sizeof scalar_id - (size_t)(slash + 1 - scalar_id), "scalar");
    QB_CHECK_MSG(find(r, it->id, "mlp", "accuracy", NULL) == find(r, scalar_id, "mlp", "accuracy", NULL),
                 "%s: accuracy differs from scalar", it->id);
    for (size_t l = 0; l < 3; l++) {
      const char* name = layer_names(it->id)[l];
      QB_CHECK(find(r, it->id, name, "sqnr", NULL) == find(r, scalar_id, name, "sqnr", NULL));
      QB_CHECK(find(r, it->id, name, "simkernel_mismatch", NULL) ==
               find(r, scalar_id, name, "simkernel_mismatch", NULL));
    }
  }
  /* Accuracy rows say whose evaluation they carry: the fastest exact backend of the
   * plan for every exact backend (the others probe-checked against it), the item's
   * own for avx2-sat. */
  qb_backend_set exact = 0;
  for (size_t i = 0; i < plan->nitems; i++)
    if (plan->items[i].backend != QB_BACKEND_AVX2_SAT) exact |= QB_BACKEND_BIT(plan->items[i].backend);
  const char* best = qb_backend_name(qb_dispatch_best_backend(exact));
  for (size_t i = 0; i < r->count; i++) {
    const qb_result_row* row = &r->rows[i];
    if (strcmp(row->metric, "accuracy") && strcmp(row->metric, "sqnr")) continue;
    const bool sat = !strcmp(row->backend, "avx2-sat"), is_best = !strcmp(row->backend, best);
    QB_CHECK_MSG(!strcmp(row->evaluated_on, sat ? "avx2-sat" : best), "%s %s: evaluated_on %s",
                 row->item_id, row->metric, row->evaluated_on);
    QB_CHECK_MSG(!strcmp(row->exact_check, sat ? "not-exact" : is_best ? "evaluated" : "probe-match"),
                 "%s: exact_check %s", row->item_id, row->exact_check);
  }
  for (size_t i = 0; i < r->count; i++)
    if (!strcmp(r->rows[i].metric, "latency_median"))
      QB_CHECK(!strcmp(r->rows[i].evaluated_on, r->rows[i].backend)); /* speed: its own */
  /* Every usable exact backend was compared (none on a scalar-only host). */
  QB_CHECK_MSG(compared == expected, "%zu exact items compared with scalar, %zu expected", compared, expected);
  printf("  %zu exact-backend items identical to scalar\n", compared);
}

/* The probe check catches a backend declared exact whose outputs differ: avx2-sat
 * (saturating vpmaddubsw: mlp's fc1 saturates) taken as exact is evaluated fully
 * and flagged, not given avx2's rows. */
static void test_probe_mismatch(void) {
  if (!qb_isa_usable(QB_BACKEND_AVX2) || !qb_isa_usable(QB_BACKEND_AVX2_SAT)) {
    printf("  probe mismatch: skipped (avx2 and avx2-sat not both usable)\n");
    return;
  }
  static const char kSat[] = "name: s\nmodels: [{name: mlp}]\neval: {limit: 200, calibration: 100}\n"
                             "weights: {bits: [8], scheme: [symmetric], granularity: [channel]}\n"
                             "activations: {bits: [8], scheme: [affine]}\n"
                             "workflow: [static]\nbackends: [avx2, avx2-sat]\nmeasure: [accuracy]\n";
  qb_sweep_config cfg;
  qb_plan plan;
  qb_error err = {{0}};
  QB_CHECK_MSG(qb_sweep_config_parse(kSat, strlen(kSat), "s.yaml", &cfg, &err) == 0, "%s", err.msg);
  QB_CHECK_MSG(qb_plan_build(&cfg, qb_isa_usable_set(), &plan, &err) == 0, "%s", err.msg);
  QB_CHECK_EQ_INT(plan.nitems, 2);
  const qb_sweep_eval_options eo = {NULL, 0, NULL, NULL, &plan, QB_BACKEND_SET_ALL, 1};
  qb_sweep_evaluator* ev = qb_sweep_evaluator_new(&eo);
  qb_result_rows rows[2];
  for (size_t i = 0; i < 2 && plan.nitems == 2; i++) {
    qb_result_rows_init(&rows[i]);
    snprintf(rows[i].identity.item_id, sizeof rows[i].identity.item_id, "%s", plan.items[i].id);
    snprintf(rows[i].identity.backend, sizeof rows[i].identity.backend, "%s",
             qb_backend_name(plan.items[i].backend));
    QB_CHECK_MSG(qb_sweep_eval_item(ev, &cfg, &plan.items[i], &rows[i], &err) == 0, "%s", err.msg);
  }
  QB_CHECK_EQ_INT(qb_sweep_evaluator_probe_mismatches(ev), 1);
  const double acc_avx2 = find(&rows[0], plan.items[0].id, "mlp", "accuracy", NULL);
  const double agree_sat = find(&rows[1], plan.items[1].id, "mlp", "agreement", NULL);
  const double agree_avx2 = find(&rows[0], plan.items[0].id, "mlp", "agreement", NULL);
  for (size_t i = 0; i < rows[1].count; i++) {
    QB_CHECK(!strcmp(rows[1].rows[i].exact_check, "probe-mismatch"));
    QB_CHECK(!strcmp(rows[1].rows[i].evaluated_on, "avx2-sat"));
  }
  QB_CHECK(rows[0].count > 0 && !strcmp(rows[0].rows[0].exact_check, "evaluated"));
  printf("  probe mismatch: avx2-sat declared exact flagged (accuracy avx2 %.1f %%, agreement "
         "with fp32 avx2 %.1f %% vs avx2-sat %.1f %%)\n", acc_avx2, agree_avx2, agree_sat);
  qb_result_rows_free(&rows[0]), qb_result_rows_free(&rows[1]);
  qb_sweep_evaluator_free(ev);
  qb_plan_free(&plan);
  qb_sweep_config_free(&cfg);
}

/* Deterministic rows (speed and RSS vary run to run) of two runs are identical. */
static bool timing_metric(const char* m) {
  return !strncmp(m, "latency_", 8) || !strcmp(m, "peak_rss") || !strcmp(m, "speedup_over_fp32");
}

/* The deterministic rows of one item, in order, of a and b are the same (items may be
 * recorded in another order after a resume: a speed group's items are redone only
 * where incomplete). */
static size_t same_item_rows(const qb_result_rows* a, const qb_result_rows* b, const char* id) {
  size_t i = 0, j = 0, compared = 0;
  for (;;) {
    while (i < a->count && (strcmp(a->rows[i].item_id, id) || timing_metric(a->rows[i].metric))) i++;
    while (j < b->count && (strcmp(b->rows[j].item_id, id) || timing_metric(b->rows[j].metric))) j++;
    if (i == a->count || j == b->count) break;
    const qb_result_row *x = &a->rows[i++], *y = &b->rows[j++];
    const bool same = !strcmp(x->layer, y->layer) && !strcmp(x->metric, y->metric) &&
                      !strcmp(x->evaluated_on, y->evaluated_on) &&
                      !strcmp(x->exact_check, y->exact_check) &&
                      (x->value == y->value || (isnan(x->value) && isnan(y->value)));
    QB_CHECK_MSG(same, "%s: row %zu: %s %s %g vs %s %s %g", id, compared, x->layer, x->metric,
                 x->value, y->layer, y->metric, y->value);
    if (!same) return compared;
    compared++;
  }
  QB_CHECK_MSG(i == a->count && j == b->count, "%s: row counts differ", id);
  return compared;
}

static void check_same_rows(const qb_plan* plan, const qb_result_rows* a, const qb_result_rows* b) {
  size_t compared = 0;
  for (size_t k = 0; k < plan->nitems; k++) compared += same_item_rows(a, b, plan->items[k].id);
  QB_CHECK(compared > 0);
}

/* Keeping every layer in float is the fp32 model (bit for bit); sensitivity of a
 * layer kept in float is then zero by construction. */
static void test_float_kept_layers(void) {
  qb_model m;
  qb_error err = {{0}};
  char path[600];
  snprintf(path, sizeof path, "%s/mlp.onnx", qb_reference_models_dir());
  if (qb_model_load_onnx(path, &m, &err)) {
    QB_CHECK_MSG(0, "%s", err.msg);
    return;
  }
  QB_CHECK(qb_model_prepare(&m, 4, &err) == 0);
  float x[4 * 784];
  for (size_t i = 0; i < 4 * 784; i++) x[i] = qb_rand_uniform(-0.8f, 2.8f);
  const float* in = x;
  QB_CHECK(qb_model_run_f32(&m, &in, NULL, NULL, &err) == 0);
  float ref[40], q_all[40];
  memcpy(ref, qb_model_output(&m, 0)->data, sizeof ref);
  qb_qconfig qc;
  QB_CHECK(qb_qconfig_parse("w4-sym-tensor-minmax/a8/dynamic", &qc, &err) == 0);
  qb_quant_state* q;
  QB_CHECK(qb_quant_create(&m, &qc, QB_BACKEND_SCALAR, &q, &err) == 0);
  const qb_model_exec exec = {QB_EXEC_INTEGER, q, NULL, NULL, false};
  QB_CHECK(qb_model_run(&m, &in, &exec, &err) == 0);
  memcpy(q_all, qb_model_output(&m, 0)->data, sizeof q_all);
  QB_CHECK(memcmp(q_all, ref, sizeof ref) != 0); /* 4-bit weights do change the logits */
  bool all_float[64];
  for (size_t k = 0; k < m.nnodes && k < 64; k++) all_float[k] = true;
  qb_probe_mask* saved = qb_probe_keep_float(q, all_float);
  QB_CHECK(qb_model_run(&m, &in, &exec, &err) == 0);
  QB_CHECK(memcmp(qb_model_output(&m, 0)->data, ref, sizeof ref) == 0);
  qb_probe_restore(q, saved);
  QB_CHECK(qb_model_run(&m, &in, &exec, &err) == 0);
  QB_CHECK(memcmp(qb_model_output(&m, 0)->data, q_all, sizeof q_all) == 0); /* restored */
  qb_quant_free(q);
  qb_model_free(&m);
}

/* peak_rss of one item, evaluated directly (the evaluator resets the high-water mark
 * when an item begins). */
static double item_peak_rss(qb_sweep_evaluator* ev, const qb_sweep_config* cfg,
                            const qb_plan_item* item) {
  qb_result_rows rows;
  qb_result_rows_init(&rows);
  qb_error err = {{0}};
  QB_CHECK_MSG(qb_sweep_eval_item(ev, cfg, item, &rows, &err) == 0, "%s", err.msg);
  size_t n = 0;
  const double v = find(&rows, "", "mlp", "peak_rss", &n);
  QB_CHECK_EQ_INT(n, 1);
  qb_result_rows_free(&rows);
  return v;
}

/* peak_rss is the item's own high-water mark, not the process's: the same item
 * evaluated alone and after 64 MiB were touched and freed in between (what a bigger
 * earlier item leaves in the process high-water mark) reports comparable values.
 * Structural, no timing: the second value must sit nearer the first than the first
 * plus the 64 MiB. Where the kernel cannot reset the mark, the documented fallback
 * (arena + weights) is the same number both times. */
static void test_peak_rss_per_item(void) {
  static const char* kMem =
      "name: m\nmodels: [{name: mlp}]\neval: {limit: 100, calibration: 100}\n"
      "workflow: [static]\nbackends: [scalar]\nmeasure: [memory]\n";
  qb_sweep_config cfg;
  qb_plan plan;
  qb_error err = {{0}};
  QB_CHECK_MSG(qb_sweep_config_parse(kMem, strlen(kMem), "m.yaml", &cfg, &err) == 0, "%s", err.msg);
  QB_CHECK_MSG(qb_plan_build(&cfg, qb_isa_usable_set(), &plan, &err) == 0, "%s", err.msg);
  QB_CHECK_EQ_INT(plan.nitems, 1);
  const qb_sweep_eval_options eo = {NULL, 0, NULL, NULL, NULL, 0, 1};
  qb_sweep_evaluator* ev = qb_sweep_evaluator_new(&eo);
  const double alone = item_peak_rss(ev, &cfg, &plan.items[0]);
  const size_t big = (size_t)64 << 20;
  char* p = malloc(big);
  QB_CHECK(p != NULL);
  if (p) memset(p, 1, big); /* resident, then returned */
  free(p);
  const double after = item_peak_rss(ev, &cfg, &plan.items[0]);
  const bool measured = qb_peak_rss_reset();
  printf("  peak_rss (%s): alone %.1f MiB, after a 64 MiB peak %.1f MiB\n",
         measured ? "VmHWM reset per item" : "fallback: arena + weights", alone / 1048576,
         after / 1048576);
  QB_CHECK(alone > 0);
  if (measured) QB_CHECK_MSG(fabs(after - alone) < (double)big / 2, "%.0f vs %.0f", after, alone);
  else QB_CHECK(after == alone);
  qb_sweep_evaluator_free(ev);
  qb_plan_free(&plan);
  qb_sweep_config_free(&cfg);
}

int main(void) {
  qb_test_seed(1);
  if (access(QB_FASHION_MNIST "/t10k-images-idx3-ubyte.gz", R_OK))
    qb_test_skip("Fashion-MNIST is not installed");
  snprintf(g_tmp, sizeof g_tmp, "/tmp/qb_test_sweep_eval_XXXXXX");
  if (!mkdtemp(g_tmp)) return perror("mkdtemp"), 1;
  test_float_kept_layers();
  test_peak_rss_per_item();
  test_probe_mismatch();

  qb_sweep_config cfg;
  qb_plan plan;
  qb_error err = {{0}};
  QB_CHECK_MSG(qb_sweep_config_parse(kConfig, strlen(kConfig), "t.yaml", &cfg, &err) == 0, "%s", err.msg);
  QB_CHECK_MSG(qb_plan_build(&cfg, qb_isa_usable_set(), &plan, &err) == 0, "%s", err.msg);
  char full[300], part[300];
  snprintf(full, sizeof full, "%s/full", g_tmp);
  snprintf(part, sizeof part, "%s/part", g_tmp);
  qb_sweep_summary sum;
  /* Interrupted during the first item, so after the first speed group (resumed below,
   * after the full run, so that the resumed run has to take the first items' gbench.json
   * entries from the file). The plan has at least 2 items on every host (weight-only
   * and static on scalar). */
  QB_CHECK(plan.nitems >= 2);
  const size_t first = plan.nitems < kGroup ? plan.nitems : kGroup;
  /* The interrupted and resumed run evaluates on 3 threads, the full run on 1: their
   * rows must still be the same (results do not depend on the thread count). */
  QB_CHECK(run_sweep(&cfg, &plan, part, false, 1, 3, &sum) == 0);
  QB_CHECK_MSG(sum.interrupted == (first < plan.nitems) && sum.done == first, "done %zu", sum.done);
  QB_CHECK(run_sweep(&cfg, &plan, full, false, 0, 1, &sum) == 0);
  QB_CHECK(sum.done == plan.nitems && sum.failed == 0);
  qb_result_rows a, b;
  read_rows(full, &a);
  check_schema(&plan, &a);
  check_exact_backends(&plan, &a);
  check_gbench_json(full, &plan);
  check_interleaving(full, &plan);

  /* The interrupted run resumed: the same rows as the full run. */
  QB_CHECK(run_sweep(&cfg, &plan, part, true, 0, 3, &sum) == 0);
  QB_CHECK(!sum.interrupted && sum.already_done == first && sum.done == plan.nitems - first);
  read_rows(part, &b);
  check_same_rows(&plan, &a, &b);
  check_gbench_json(part, &plan);
  qb_result_rows_free(&b);

  /* A kill -9 between the shim's 2-s writes (issue 12): gbench.json lost the entries
   * of the first item, which results.csv and the DB hold as complete, holds those of
   * items that are not complete (they would appear twice after their redo), and a
   * stale .tmp is left. The resume redoes the first item and rewrites the file. */
  char lost[300];
  snprintf(lost, sizeof lost, "%s/lost", g_tmp);
  QB_CHECK(run_sweep(&cfg, &plan, lost, false, 1, 2, &sum) == 0 && sum.done == first);
  plant_gbench_without(full, lost, plan.items[0].id);
  QB_CHECK(run_sweep(&cfg, &plan, lost, true, 0, 2, &sum) == 0);
  QB_CHECK_MSG(sum.already_done == first - 1 && sum.done == plan.nitems - (first - 1) &&
                   sum.dropped_csv_rows > 0,
               "already done %zu, done %zu, dropped %zu", sum.already_done, sum.done,
               sum.dropped_csv_rows);
  read_rows(lost, &b);
  check_same_rows(&plan, &a, &b);
  check_gbench_json(lost, &plan);
  char tmp[400];
  snprintf(tmp, sizeof tmp, "%s/gbench.json.tmp", lost);
  QB_CHECK(access(tmp, F_OK) != 0);

  qb_result_rows_free(&a), qb_result_rows_free(&b);
  qb_plan_free(&plan);
  qb_sweep_config_free(&cfg);
  return qb_test_finish("test_sweep_eval");
}
