/* qbench recommend on a small hand-made result set: the right qconfig is picked
 * for each budget / objective / backend, the Pareto front is right, and the greedy
 * mixed-precision plan makes the moves worked out by hand below. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_qconfig.h"
#include "qb_recommend.h"
#include "qb_run_data.h"
#include "qb_test.h"

/* Four qconfigs of model "net" (static, a8 affine tensor minmax):
 *   A  w8 channel: drop 0.3, scalar 100 us, avx2 30 us, 400 KiB
 *   B  w4 channel: drop 1.2, scalar  80 us, avx2 20 us, 200 KiB
 *   C  w4 tensor:  drop 4.0, scalar  70 us, avx2 25 us, 200 KiB
 *   D  w8 tensor:  drop 0.8, scalar  90 us, avx2 35 us, 400 KiB
 * Per-layer (avx2 latency ns / sensitivity pp), layers l1 l2:
 *   A: l1 15000 / 0.1, l2 15000 / 0.2      B: l1 8000 / 1.0, l2 12000 / 0.3
 *   C: l1 9000 / 3.0,  l2 16000 / 1.5      D: no per-layer rows */
typedef struct {
  int bits;
  const char* gran;
  double drop, scalar_us, avx2_us, kib;
  double lat[2], sens[2]; /* per layer, NaN = not measured */
} cfg;

static const cfg kCfgs[] = {
    {8, "channel", 0.3, 100, 30, 400, {15000, 15000}, {0.1, 0.2}},
    {4, "channel", 1.2, 80, 20, 200, {8000, 12000}, {1.0, 0.3}},
    {4, "tensor", 4.0, 70, 25, 200, {9000, 16000}, {3.0, 1.5}},
    {8, "tensor", 0.8, 90, 35, 400, {NAN, NAN}, {NAN, NAN}},
};

static void add(qb_result_rows* rows, const cfg* c, const char* backend, double us) {
  qb_result_row* id = &rows->identity;
  memset(id, 0, sizeof *id);
  snprintf(id->model, sizeof id->model, "net");
  snprintf(id->backend, sizeof id->backend, "%s", backend);
  snprintf(id->workflow, sizeof id->workflow, "static");
  id->w_bits = c->bits;
  snprintf(id->w_scheme, sizeof id->w_scheme, "symmetric");
  snprintf(id->w_granularity, sizeof id->w_granularity, "%s", c->gran);
  snprintf(id->w_range, sizeof id->w_range, "minmax");
  id->a_bits = 8;
  snprintf(id->a_scheme, sizeof id->a_scheme, "affine");
  snprintf(id->a_granularity, sizeof id->a_granularity, "tensor");
  snprintf(id->a_range, sizeof id->a_range, "minmax");
  id->threads = 1;
  qb_result_rows_add(rows, "net", "", 1, "accuracy_fp32", 90, "%");
  qb_result_rows_add(rows, "net", "", 1, "accuracy", 90 - c->drop, "%");
  qb_result_rows_add(rows, "net", "", 1, "bytes_weights", c->kib * 1024, "bytes");
  qb_result_rows_add(rows, "net", "", 1, "latency_median", us * 1000, "ns");
  if (strcmp(backend, "avx2")) return;
  static const char* const kLayers[] = {"l1", "l2"};
  for (int l = 0; l < 2; l++) {
    if (isfinite(c->lat[l])) qb_result_rows_add(rows, kLayers[l], "", 1, "latency_median", c->lat[l], "ns");
    if (isfinite(c->sens[l])) qb_result_rows_add(rows, kLayers[l], "", 1, "sensitivity_only", c->sens[l], "%");
  }
}

static qb_recommendation run_query(const qb_run_data* run, const qb_run_index* idx,
                                   qb_recommend_query q) {
  qb_recommendation r;
  qb_error err;
  QB_CHECK_MSG(qb_recommend(run, idx, &q, &r, &err) == 0, "%s", err.msg);
  return r;
}

static const char* gran0(const qb_recommendation* r) { return r->ranked[0].cfg->id.w_granularity; }

/* A row whose scheme columns carry grid qualifiers (qb_result.h): the eval --qconfig
 * text parses back to that grid, and the report's short label keeps them apart. */
static void test_scheme_qualifiers(void) {
  qb_result_row r;
  memset(&r, 0, sizeof r);
  snprintf(r.workflow, sizeof r.workflow, "static");
  r.w_bits = 4, r.a_bits = 8;
  snprintf(r.w_scheme, sizeof r.w_scheme, "symmetric-restricted-mulrecip");
  snprintf(r.w_granularity, sizeof r.w_granularity, "channel");
  snprintf(r.w_range, sizeof r.w_range, "minmax");
  snprintf(r.a_scheme, sizeof r.a_scheme, "affine-signed");
  snprintf(r.a_granularity, sizeof r.a_granularity, "tensor");
  snprintf(r.a_range, sizeof r.a_range, "minmax");
  char t[200];
  qb_qconfig_cli_text(&r, t, sizeof t);
  QB_CHECK_MSG(!strcmp(t, "w4-sym-restricted-mulrecip-channel-minmax/a8-aff-signed-tensor-minmax/static"),
               "%s", t);
  qb_qconfig q;
  qb_error err;
  QB_CHECK_MSG(qb_qconfig_parse(t, &q, &err) == 0, "%s", err.msg);
  QB_CHECK(q.weight.scheme.restricted && q.weight.scheme.rounding == QB_ROUND_MUL_RECIP);
  QB_CHECK(q.act.scheme.is_signed && !q.act.scheme.restricted);
  qb_qconfig_short(&r, t, sizeof t);
  QB_CHECK_MSG(!strcmp(t, "st w4s-r-mr.ch.minmax a8a-s.t.minmax"), "%s", t);
}

int main(void) {
  test_scheme_qualifiers();
  qb_run_data run;
  memset(&run, 0, sizeof run);
  qb_result_rows_init(&run.rows);
  for (int i = 0; i < 4; i++) {
    add(&run.rows, &kCfgs[i], "scalar", kCfgs[i].scalar_us);
    add(&run.rows, &kCfgs[i], "avx2", kCfgs[i].avx2_us);
  }
  qb_run_index idx;
  qb_error err;
  QB_CHECK(qb_run_index_build(&run.rows, &idx, &err) == 0);

  /* Budget 1 pp, latency, any backend: A (30 us avx2) and D (35 us); B (20 us) is over. */
  qb_recommendation r = run_query(&run, &idx, (qb_recommend_query){"net", 1.0, NULL, QB_OBJECTIVE_LATENCY});
  QB_CHECK_EQ_INT(r.nranked, 2);
  QB_CHECK(r.nranked == 2 && r.ranked[0].cfg->id.w_bits == 8 && !strcmp(gran0(&r), "channel"));
  QB_CHECK(r.nranked == 2 && r.ranked[0].cost == 30000 && !strcmp(idx.backends[r.ranked[0].backend], "avx2"));
  /* Front (drop, best latency): B (1.2, 20) and A (0.3, 30); C (4.0, 25) is dominated
   * by B, D (0.8, 35) by A. */
  QB_CHECK_EQ_INT(r.nfront, 2);
  QB_CHECK(r.nfront == 2 && r.front[0].cost == 20000 && r.front[1].cost == 30000);
  /* Mixed plan, budget 1 pp. Options A, B, C (D has no per-layer rows). Start at the
   * cheapest per layer: l1 B (8000, 1.0), l2 B (12000, 0.3) -> predicted 1.3 > 1.
   * Moves: l1 -> A saves 0.9 for +7000 (1.29e-4 / ns); l2 -> A saves 0.1 for +3000
   * (3.3e-5 / ns); l1 -> C is worse. Take l1 -> A: 0.1 + 0.3 = 0.4 <= 1. */
  QB_CHECK_EQ_INT(r.nlayers, 2);
  QB_CHECK(!r.cost_is_bits);
  if (r.nlayers == 2) {
    QB_CHECK(r.layers[0].option >= 0 && r.options[r.layers[0].option]->id.w_bits == 8);
    QB_CHECK(r.layers[1].option >= 0 && r.options[r.layers[1].option]->id.w_bits == 4 &&
             !strcmp(r.options[r.layers[1].option]->id.w_granularity, "channel"));
    QB_CHECK(fabs(r.predicted_drop - 0.4) < 1e-12 && r.plan_within_budget);
  }
  char text[160];
  qb_qconfig_cli_text(&r.ranked[0].cfg->id, text, sizeof text);
  QB_CHECK(!strcmp(text, "w8-sym-channel-minmax/a8-aff-tensor-minmax/static"));
  qb_recommendation_free(&r);

  /* Budget 1.5 pp: B (20 us) is now the fastest. On scalar: C is over budget, B 80 us first. */
  r = run_query(&run, &idx, (qb_recommend_query){"net", 1.5, NULL, QB_OBJECTIVE_LATENCY});
  QB_CHECK(r.nranked == 3 && r.ranked[0].cost == 20000 && r.ranked[0].cfg->id.w_bits == 4);
  qb_recommendation_free(&r);
  r = run_query(&run, &idx, (qb_recommend_query){"net", 1.5, "scalar", QB_OBJECTIVE_LATENCY});
  QB_CHECK(r.nranked == 3 && r.ranked[0].cost == 80000 && r.ranked[2].cost == 100000);
  qb_recommendation_free(&r);
  /* Size objective, budget 1 pp: A and D tie at 400 KiB; the smaller drop (A) first. */
  r = run_query(&run, &idx, (qb_recommend_query){"net", 1.0, NULL, QB_OBJECTIVE_SIZE});
  QB_CHECK(r.nranked == 2 && fabs(r.ranked[0].cfg->drop - 0.3) < 1e-9 && fabs(r.ranked[1].cfg->drop - 0.8) < 1e-9);
  QB_CHECK(r.ranked[0].backend == -1);
  qb_recommendation_free(&r);
  /* Tight plan budget 0.2 pp: after l1 -> A (0.4), l2 -> A (+3000 ns, saves 0.1): 0.3;
   * nothing quantized helps further, so the most sensitive layer (l2, 0.2) goes float: 0.1. */
  r = run_query(&run, &idx, (qb_recommend_query){"net", 0.2, NULL, QB_OBJECTIVE_LATENCY});
  QB_CHECK_EQ_INT(r.nranked, 0);
  QB_CHECK(r.nlayers == 2 && r.layers[1].option == -1 && r.layers[0].option >= 0);
  QB_CHECK(fabs(r.predicted_drop - 0.1) < 1e-12 && r.plan_within_budget);
  qb_recommendation_free(&r);
  /* Errors: unknown model, unmeasured backend. */
  qb_recommendation bad;
  qb_recommend_query q = {"nope", 1, NULL, QB_OBJECTIVE_LATENCY};
  QB_CHECK(qb_recommend(&run, &idx, &q, &bad, &err) == -1 && strstr(err.msg, "nope"));
  q = (qb_recommend_query){"net", 1, "neon", QB_OBJECTIVE_LATENCY};
  QB_CHECK(qb_recommend(&run, &idx, &q, &bad, &err) == -1 && strstr(err.msg, "neon"));
  qb_run_index_free(&idx);
  qb_run_data_free(&run);
  return qb_test_finish("test_recommend");
}
