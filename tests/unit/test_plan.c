/* The sweep plan: cross product size, each rule of the rule table on the
 * combinations it targets (and not on others), ids, determinism. */
#include <stdio.h>
#include <string.h>

#include "qb_sweep_config.h"
#include "qb_sweep_plan.h"
#include "qb_test.h"

static const qb_backend_set kX86 = QB_BACKEND_BIT(QB_BACKEND_SCALAR) |
                                   QB_BACKEND_BIT(QB_BACKEND_SSE41) |
                                   QB_BACKEND_BIT(QB_BACKEND_AVX2) |
                                   QB_BACKEND_BIT(QB_BACKEND_AVX2_SAT) |
                                   QB_BACKEND_BIT(QB_BACKEND_AVX512VNNI);

static int build(const char* yaml, qb_backend_set usable, qb_sweep_config* cfg, qb_plan* plan) {
  qb_error err = {{0}};
  if (qb_sweep_config_parse(yaml, strlen(yaml), "p.yaml", cfg, &err)) {
    fprintf(stderr, "parse: %s\n", err.msg);
    return -1;
  }
  if (qb_plan_build(cfg, usable, plan, &err)) {
    fprintf(stderr, "plan: %s\n", err.msg);
    qb_sweep_config_free(cfg);
    return -1;
  }
  return 0;
}

static void done(qb_sweep_config* cfg, qb_plan* plan) {
  qb_plan_free(plan);
  qb_sweep_config_free(cfg);
}

static size_t skips_by(const qb_plan* plan, const char* rule) {
  size_t n = 0;
  for (size_t i = 0; i < plan->nskips; i++) n += !strcmp(plan->skips[i].rule->name, rule);
  return n;
}

static size_t items_matching(const qb_plan* plan, const char* needle) {
  size_t n = 0;
  for (size_t i = 0; i < plan->nitems; i++) n += strstr(plan->items[i].id, needle) != NULL;
  return n;
}

static void test_rule_table(void) {
  size_t n;
  const qb_plan_rule* rules = qb_plan_rules(&n);
  QB_CHECK(n >= 8);
  bool seen_skip = false;
  for (size_t i = 0; i < n; i++) {
    QB_CHECK(rules[i].name && rules[i].reason && strlen(rules[i].reason) > 20 && rules[i].applies);
    /* Collapse rules must all come before skip rules. */
    if (!rules[i].collapse) seen_skip = true;
    else QB_CHECK_MSG(!seen_skip, "collapse rule %s after a skip rule", rules[i].name);
    for (size_t j = 0; j < i; j++) QB_CHECK(strcmp(rules[i].name, rules[j].name) != 0);
  }
}

/* A plain static int8 plan: nothing skipped, product size, exact ids, order. */
static void test_product_and_ids(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  if (build("models: [{name: mlp}, {name: cnn}]\n"
            "weights: {bits: [8, 6], granularity: [tensor, channel]}\n"
            "activations: {range: [minmax, percentile:99.99]}\n"
            "backends: [scalar, avx2]\n",
            kX86, &cfg, &plan))
    { QB_CHECK(0); return; }
  QB_CHECK_EQ_INT(plan.ncombinations, 2 * 2 * 2 * 2 * 2);
  QB_CHECK_EQ_INT(plan.nitems, 32);
  QB_CHECK_EQ_INT(plan.nskips, 0);
  QB_CHECK(!strcmp(plan.items[0].id, "mlp/static/w8-sym-tensor-minmax/a8-aff-tensor-minmax/scalar"));
  QB_CHECK(!strcmp(plan.items[1].id, "mlp/static/w8-sym-tensor-minmax/a8-aff-tensor-minmax/avx2"));
  QB_CHECK(!strcmp(plan.items[3].id,
                   "mlp/static/w8-sym-tensor-minmax/a8-aff-tensor-percentile99.99/avx2"));
  QB_CHECK(!strcmp(plan.items[31].id,
                   "cnn/static/w6-sym-channel-minmax/a8-aff-tensor-percentile99.99/avx2"));
  for (size_t i = 0; i < plan.nitems; i++)
    for (size_t j = 0; j < i; j++) QB_CHECK(strcmp(plan.items[i].id, plan.items[j].id) != 0);
  QB_CHECK_EQ_INT(qb_plan_find(&plan, plan.items[17].id), 17);
  QB_CHECK_EQ_INT(qb_plan_find(&plan, "nope"), -1);
  /* Same config, same plan. */
  qb_sweep_config cfg2;
  qb_plan plan2;
  if (!build(cfg.text, kX86, &cfg2, &plan2)) {
    QB_CHECK_EQ_INT(plan2.nitems, plan.nitems);
    for (size_t i = 0; i < plan.nitems && i < plan2.nitems; i++)
      QB_CHECK(!strcmp(plan.items[i].id, plan2.items[i].id));
    done(&cfg2, &plan2);
  }
  done(&cfg, &plan);
}

static void test_weight_only_collapse(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  if (build("models: [{name: mlp}]\nworkflow: [weight-only]\n"
            "weights: {bits: [8, 4], granularity: [channel, group:32]}\n"
            "activations: {bits: [8, 6], range: [minmax, entropy, mse]}\n"
            "backends: [scalar]\n",
            kX86, &cfg, &plan))
    { QB_CHECK(0); return; }
  /* 4 weight choices x 6 activation choices; activations collapse to float. */
  QB_CHECK_EQ_INT(plan.ncombinations, 24);
  QB_CHECK_EQ_INT(plan.nitems, 4);
  QB_CHECK_EQ_INT(items_matching(&plan, "/afloat/"), 4);
  QB_CHECK_EQ_INT(skips_by(&plan, "weight-only-activations"), 20);
  QB_CHECK(!strcmp(plan.items[3].id, "mlp/weight-only/w4-sym-group32-minmax/afloat/scalar"));
  QB_CHECK_EQ_INT(plan.items[0].activations.bits, 0);
  /* Skips record the combination as enumerated, before the collapse. */
  QB_CHECK(!strcmp(plan.skips[0].id, "mlp/weight-only/w8-sym-channel-minmax/a8-aff-tensor-entropy/scalar"));
  done(&cfg, &plan);
}

static void test_dynamic_collapse(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  /* Range order puts a non-minmax first: the collapsed item is still planned once. */
  if (build("models: [{name: mlp}]\nworkflow: [dynamic, static]\n"
            "activations: {range: [entropy, minmax, percentile:99.9]}\n"
            "backends: [scalar]\n",
            kX86, &cfg, &plan))
    { QB_CHECK(0); return; }
  QB_CHECK_EQ_INT(plan.ncombinations, 6);
  QB_CHECK_EQ_INT(items_matching(&plan, "/dynamic/"), 1);
  QB_CHECK_EQ_INT(items_matching(&plan, "/static/"), 3);
  QB_CHECK_EQ_INT(items_matching(&plan, "dynamic/w8-sym-channel-minmax/a8-aff-tensor-minmax/"), 1);
  QB_CHECK_EQ_INT(skips_by(&plan, "dynamic-activation-range"), 2);
  done(&cfg, &plan);
}

/* qat: ranges collapse to the ones it trains with (weights min-max, activations
 * minmax or movavg), the item's runtime qconfig is static, and only mlp / cnn
 * (reference models whose export keeps the trained parameters) are fine-tuned. */
static void test_qat_rules(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  if (build("models: [{name: mlp}, {name: dwnet}, {name: cnn}, {name: vit}]\n"
            "workflow: [qat]\n"
            "weights: {range: [mse, minmax]}\n"
            "activations: {range: [percentile:99, minmax, movavg]}\n"
            "backends: [scalar]\n",
            kX86, &cfg, &plan))
    { QB_CHECK(0); return; }
  /* 4 models x 2 weight ranges x 3 activation ranges; per fine-tunable model the
   * minmax and movavg activations survive, the other 4 collapse onto them. */
  QB_CHECK_EQ_INT(plan.ncombinations, 24);
  QB_CHECK_EQ_INT(plan.nitems, 4);
  QB_CHECK_EQ_INT(items_matching(&plan, "mlp/qat/w8-sym-channel-minmax/a8-aff-tensor-minmax/scalar"), 1);
  QB_CHECK_EQ_INT(items_matching(&plan, "mlp/qat/w8-sym-channel-minmax/a8-aff-tensor-movavg/scalar"), 1);
  QB_CHECK_EQ_INT(items_matching(&plan, "cnn/qat/w8-sym-channel-minmax/a8-aff-tensor-minmax/scalar"), 1);
  QB_CHECK_EQ_INT(skips_by(&plan, "qat-ranges"), 8);
  QB_CHECK_EQ_INT(skips_by(&plan, "qat-model"), 12);
  for (size_t i = 0; i < plan.nitems; i++) {
    const qb_qconfig q = qb_plan_item_qconfig(&plan.items[i]);
    QB_CHECK_EQ_INT(q.workflow, QB_WORKFLOW_STATIC);
    QB_CHECK(q.act.range.kind == QB_RANGE_MINMAX || q.act.range.kind == QB_RANGE_MOVAVG);
    QB_CHECK_EQ_INT(q.weight.range.kind, QB_RANGE_MINMAX);
  }
  done(&cfg, &plan);
  /* A model given by path is not a reference model: never fine-tuned. */
  if (build("models: [{path: m.onnx, data: x.npy, labels: y.npy}]\nworkflow: [qat, static]\n"
            "backends: [scalar]\n", kX86, &cfg, &plan))
    { QB_CHECK(0); return; }
  QB_CHECK_EQ_INT(plan.nitems, 1);
  QB_CHECK_EQ_INT(skips_by(&plan, "qat-model"), 1);
  done(&cfg, &plan);
}

/* grids: the plan is the union of the grids' products, an item two grids share
 * planned once (a "duplicate" skip). */
static void test_grids_union(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  const qb_backend_set usable = QB_BACKEND_BIT(QB_BACKEND_SCALAR);
  if (build("models: [{name: mlp}, {name: cnn}]\nbackends: [scalar]\n"
            "grids:\n"
            "  - {workflow: weight-only, weights: {bits: [8, 4], range: [minmax, mse]}}\n"
            "  - {weights: {granularity: [tensor, channel]}, activations: {range: [minmax, percentile:99]}}\n"
            "  - {weights: {granularity: channel}}\n",
            usable, &cfg, &plan))
    { QB_CHECK(0); return; }
  /* Per model: 4 weight-only + 4 static + 1 static (a duplicate of the second grid's). */
  QB_CHECK_EQ_INT(plan.ncombinations, 18);
  QB_CHECK_EQ_INT(plan.nitems, 16);
  QB_CHECK_EQ_INT(skips_by(&plan, "duplicate"), 2);
  QB_CHECK_EQ_INT(items_matching(&plan, "mlp/weight-only/"), 4);
  QB_CHECK_EQ_INT(items_matching(&plan, "cnn/static/"), 4);
  QB_CHECK_EQ_INT(items_matching(&plan, "static/w4"), 0);
  QB_CHECK_EQ_INT(items_matching(&plan, "weight-only/w4-sym-channel-mse/"), 2);
  /* A model's items stay together: every mlp item before every cnn item. */
  for (size_t i = 1; i < plan.nitems; i++)
    QB_CHECK(!(strncmp(plan.items[i - 1].id, "cnn/", 4) == 0 && strncmp(plan.items[i].id, "mlp/", 4) == 0));
  qb_plan_free(&plan);
  qb_sweep_config_free(&cfg);
}

static void test_backend_rules(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  const qb_backend_set usable = QB_BACKEND_BIT(QB_BACKEND_SCALAR) | QB_BACKEND_BIT(QB_BACKEND_AVX2) |
                                QB_BACKEND_BIT(QB_BACKEND_AVX2_SAT);
  if (build("models: [{name: mlp}]\nworkflow: [weight-only, static]\n"
            "weights: {bits: [8, 4]}\n"
            "backends: [scalar, avx2, avx2-sat, neondot]\n",
            usable, &cfg, &plan))
    { QB_CHECK(0); return; }
  /* 2 workflows x 2 weight bits x 4 backends = 16. */
  QB_CHECK_EQ_INT(plan.ncombinations, 16);
  QB_CHECK_EQ_INT(skips_by(&plan, "backend-not-usable"), 4);
  QB_CHECK_EQ_INT(items_matching(&plan, "/neondot"), 0);
  /* avx2-sat: only static w8/a8. */
  QB_CHECK_EQ_INT(items_matching(&plan, "/avx2-sat"), 1);
  QB_CHECK_EQ_INT(items_matching(&plan, "static/w8-sym-channel-minmax/a8-aff-tensor-minmax/avx2-sat"), 1);
  QB_CHECK_EQ_INT(skips_by(&plan, "avx2-sat-8bit"), 3); /* weight-only w8 and w4, static w4 */
  /* static w4 runs where the backend has its own W4A8 kernel (the scalar reference
   * always); static w4 on avx2-sat is caught by the avx2-sat rule first. */
  QB_CHECK(qb_plan_backend_has_w4a8(QB_BACKEND_SCALAR));
  const bool avx2_w4a8 = qb_plan_backend_has_w4a8(QB_BACKEND_AVX2);
  QB_CHECK_EQ_INT(items_matching(&plan, "static/w4-sym-channel-minmax/a8-aff-tensor-minmax/scalar"), 1);
  QB_CHECK_EQ_INT(items_matching(&plan, "static/w4-sym-channel-minmax/a8-aff-tensor-minmax/avx2"),
                  avx2_w4a8);
  QB_CHECK_EQ_INT(skips_by(&plan, "subbyte-weights-kernel"), !avx2_w4a8);
  /* weight-only w4 runs everywhere usable except avx2-sat. */
  QB_CHECK_EQ_INT(items_matching(&plan, "weight-only/w4-"), 2);
  QB_CHECK_EQ_INT(plan.nitems + plan.nskips, plan.ncombinations);
  done(&cfg, &plan);

  /* "all" is the usable set, nothing more. */
  if (build("models: [{name: mlp}]\nbackends: all\n", usable, &cfg, &plan)) { QB_CHECK(0); return; }
  QB_CHECK_EQ_INT(plan.nitems, 3);
  QB_CHECK_EQ_INT(plan.nskips, 0);
  done(&cfg, &plan);
}

static void test_activation_and_width_rules(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  if (build("models: [{name: mlp}]\nworkflow: [static, weight-only]\n"
            "weights: {bits: [8, 16], granularity: [channel, group:64]}\n"
            "activations: {bits: [8, 16], granularity: [tensor, channel, group:32]}\n"
            "backends: [scalar, sse41]\n",
            kX86, &cfg, &plan))
    { QB_CHECK(0); return; }
  /* static: 4 weight x 6 activation x 2 backends = 48 combinations. */
  size_t n_static = items_matching(&plan, "/static/");
  /* Kept static items: 8-bit weights and activations, activations per tensor,
   * weights per channel (8-bit per-group weights have no integer kernel). */
  QB_CHECK_EQ_INT(n_static, 2);
  QB_CHECK_EQ_INT(items_matching(&plan, "static/w8-sym-group64"), 0);
  QB_CHECK(skips_by(&plan, "activation-group") > 0);
  QB_CHECK(skips_by(&plan, "activation-channel") > 0);
  QB_CHECK(skips_by(&plan, "integer-16bit") > 0);
  QB_CHECK_EQ_INT(skips_by(&plan, "weight-group-kernel"), 2); /* w8 group64 a8 on both */
  QB_CHECK_EQ_INT(items_matching(&plan, "/a16-"), 0);
  /* weight-only: all 4 weight choices x 2 backends, 16-bit included. */
  QB_CHECK_EQ_INT(items_matching(&plan, "/weight-only/"), 8);
  QB_CHECK_EQ_INT(items_matching(&plan, "weight-only/w16-"), 4);
  QB_CHECK_EQ_INT(plan.ncombinations, 2 * 4 * 6 * 2);
  done(&cfg, &plan);
}

/* Per-token activations exist in the dynamic workflow only; token weights never. */
static void test_token_rules(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  if (build("models: [{name: mlp}]\nworkflow: [static, dynamic]\n"
            "weights: {granularity: [channel, token]}\n"
            "activations: {granularity: [tensor, token]}\nbackends: [scalar]\n",
            kX86, &cfg, &plan))
    { QB_CHECK(0); return; }
  /* 2 workflows x 2 weight x 2 activation = 8; kept: static tensor, dynamic tensor and
   * dynamic token, all with channel weights. */
  QB_CHECK_EQ_INT(plan.ncombinations, 8);
  QB_CHECK_EQ_INT(plan.nitems, 3);
  QB_CHECK_EQ_INT(items_matching(&plan, "-token-"), 1);
  QB_CHECK_EQ_INT(items_matching(&plan, "dynamic/"), 2);
  /* The first rule that applies names the skip: static token activations (2, one
   * with token weights), then token weights (3). */
  QB_CHECK_EQ_INT(skips_by(&plan, "activation-token"), 2);
  QB_CHECK_EQ_INT(skips_by(&plan, "weight-token"), 3);
  done(&cfg, &plan);
}

/* Range strategies without meaning for a role are skipped by a named rule:
 * crossentropy on calibrated activations (static, qat), movavg on weights (every
 * workflow; qat's own collapse to minmax comes first). */
static void test_range_role_rules(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  if (build("models: [{name: mlp}]\nworkflow: [static, dynamic, weight-only, qat]\n"
            "weights: {range: [minmax, movavg]}\n"
            "activations: {range: [minmax, crossentropy]}\n"
            "backends: [scalar]\n",
            kX86, &cfg, &plan))
    { QB_CHECK(0); return; }
  /* static: (minmax, movavg) x (minmax, crossentropy): only minmax/minmax planned. */
  QB_CHECK_EQ_INT(items_matching(&plan, "/static/"), 1);
  QB_CHECK_EQ_INT(items_matching(&plan, "crossentropy"), 0);
  QB_CHECK_EQ_INT(items_matching(&plan, "movavg"), 0);
  /* Rules apply in table order, crossentropy-activations before movavg-weights.
   * static: a-crossentropy with either weight range (2), w-movavg a-minmax (1);
   * dynamic: a-crossentropy collapses to minmax first, so both w-movavg (2);
   * weight-only: activations collapse to float, both w-movavg (2); qat: its ranges
   * collapse to minmax first (qat-ranges). */
  QB_CHECK_EQ_INT(skips_by(&plan, "crossentropy-activations"), 2);
  QB_CHECK_EQ_INT(skips_by(&plan, "movavg-weights"), 1 + 2 + 2);
  QB_CHECK_EQ_INT(skips_by(&plan, "qat-ranges"), 3);
  QB_CHECK_EQ_INT(items_matching(&plan, "/dynamic/"), 1);
  QB_CHECK_EQ_INT(items_matching(&plan, "/weight-only/"), 1);
  QB_CHECK_EQ_INT(items_matching(&plan, "/qat/"), 1);
  /* crossentropy on weights and movavg on activations stay. */
  done(&cfg, &plan);
  if (build("models: [{name: mlp}]\nweights: {range: [crossentropy]}\n"
            "activations: {range: [movavg]}\nbackends: [scalar]\n",
            kX86, &cfg, &plan))
    { QB_CHECK(0); return; }
  QB_CHECK_EQ_INT(plan.nitems, 1);
  QB_CHECK_EQ_INT(items_matching(&plan, "w8-sym-channel-crossentropy/a8-aff-tensor-movavg"), 1);
  done(&cfg, &plan);
}

static void test_duplicate_values(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  if (build("models: [{name: mlp}]\nweights: {bits: [8, 4, 8]}\nbackends: [scalar]\n", kX86, &cfg,
            &plan)) {
    QB_CHECK(0);
    return;
  }
  QB_CHECK_EQ_INT(plan.nitems, 2);
  QB_CHECK_EQ_INT(skips_by(&plan, "duplicate"), 1);
  done(&cfg, &plan);
}

/* 4-bit per-group weights with integer activations: the W4A8 case, kept on scalar. */
static void test_w4a8_group(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  if (build("models: [{name: mlp}]\nweights: {bits: [4], granularity: [group:32]}\n"
            "backends: [scalar]\n", kX86, &cfg, &plan)) {
    QB_CHECK(0);
    return;
  }
  QB_CHECK_EQ_INT(plan.nitems, 1);
  QB_CHECK(plan.nitems == 1 &&
           !strcmp(plan.items[0].id, "mlp/static/w4-sym-group32-minmax/a8-aff-tensor-minmax/scalar"));
  done(&cfg, &plan);
}

/* The runtime's qconfig of an item carries every axis value of the item. */
/* Storage, restricted range and rounding are axes: ids carry them only when not the
 * default (so default ids are unchanged), the qconfig applies them, and integer
 * workflows with storage the int8 kernels do not take are planned on scalar only. */
static void test_grid_axes(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  if (build("models: [{name: mlp}]\nworkflow: [static]\n"
            "weights: {restricted: [false, true], rounding: [div, mulrecip]}\n"
            "activations: {storage: [unsigned, signed]}\n"
            "backends: [scalar, avx2]\n",
            kX86, &cfg, &plan))
    { QB_CHECK(0); return; }
  /* 4 weight grids x 2 activation storages x 2 backends = 16; signed activations
   * only on scalar: 16 - 4 = 12 items. */
  QB_CHECK_EQ_INT(plan.ncombinations, 16);
  QB_CHECK_EQ_INT(plan.nitems, 12);
  QB_CHECK_EQ_INT(skips_by(&plan, "integer-storage"), 4);
  const char* want[] = {
      "mlp/static/w8-sym-channel-minmax/a8-aff-tensor-minmax/scalar",
      "mlp/static/w8-sym-channel-minmax/a8-aff-tensor-minmax/avx2",
      "mlp/static/w8-sym-channel-minmax/a8-aff-tensor-minmax-signed/scalar",
      "mlp/static/w8-sym-channel-minmax-mulrecip/a8-aff-tensor-minmax/scalar",
      "mlp/static/w8-sym-channel-minmax-restricted/a8-aff-tensor-minmax/avx2",
      "mlp/static/w8-sym-channel-minmax-restricted-mulrecip/a8-aff-tensor-minmax-signed/scalar"};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    QB_CHECK_MSG(qb_plan_find(&plan, want[i]) >= 0, "no item %s", want[i]);
  QB_CHECK(qb_plan_find(&plan, "mlp/static/w8-sym-channel-minmax/a8-aff-tensor-minmax-signed/avx2") < 0);
  const ptrdiff_t k = qb_plan_find(&plan, want[5]);
  if (k >= 0) {
    const qb_qconfig q = qb_plan_item_qconfig(&plan.items[k]);
    QB_CHECK(q.weight.scheme.is_signed && q.weight.scheme.restricted);
    QB_CHECK_EQ_INT(q.weight.scheme.rounding, QB_ROUND_MUL_RECIP);
    QB_CHECK(q.act.scheme.is_signed && !q.act.scheme.restricted);
    QB_CHECK_EQ_INT(q.act.scheme.rounding, QB_ROUND_DIV);
    char s[48];
    QB_CHECK(!strcmp(qb_tensor_choice_scheme_str(&plan.items[k].weights, 'w', s, sizeof s),
                     "symmetric-restricted-mulrecip"));
    QB_CHECK(!strcmp(qb_tensor_choice_scheme_str(&plan.items[k].activations, 'a', s, sizeof s),
                     "affine-signed"));
  }
  done(&cfg, &plan);
  /* Weights stored unsigned: the id says so; weight-only runs it on every backend. */
  if (build("models: [{name: mlp}]\nworkflow: [weight-only, dynamic]\n"
            "weights: {storage: [unsigned], scheme: [affine]}\nbackends: [scalar, avx2]\n",
            kX86, &cfg, &plan))
    { QB_CHECK(0); return; }
  QB_CHECK(qb_plan_find(&plan, "mlp/weight-only/w8-aff-channel-minmax-unsigned/afloat/avx2") >= 0);
  QB_CHECK(qb_plan_find(&plan, "mlp/dynamic/w8-aff-channel-minmax-unsigned/a8-aff-tensor-minmax/scalar") >= 0);
  QB_CHECK_EQ_INT(skips_by(&plan, "integer-storage"), 1);
  done(&cfg, &plan);
}

static void test_item_qconfig(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  if (build("models: [{name: mlp}]\nworkflow: [static, weight-only]\n"
            "weights: {bits: [4], scheme: [affine], granularity: [group:32], range: [mse]}\n"
            "activations: {bits: [6], scheme: [symmetric], range: [percentile:99.99]}\n"
            "backends: [scalar]\n", kX86, &cfg, &plan)) {
    QB_CHECK(0);
    return;
  }
  QB_CHECK_EQ_INT(plan.nitems, 2);
  if (plan.nitems != 2) {
    done(&cfg, &plan);
    return;
  }
  const qb_qconfig q = qb_plan_item_qconfig(&plan.items[0]);
  QB_CHECK_EQ_INT(q.workflow, QB_WORKFLOW_STATIC);
  QB_CHECK_EQ_INT(q.weight.scheme.bits, 4);
  QB_CHECK_EQ_INT(q.weight.scheme.symmetry, QB_AFFINE);
  QB_CHECK_EQ_INT(q.weight.granularity.kind, QB_PER_GROUP);
  QB_CHECK_EQ_INT(q.weight.granularity.group_size, 32);
  QB_CHECK_EQ_INT(q.weight.range.kind, QB_RANGE_MSE);
  QB_CHECK_EQ_INT(q.act.scheme.bits, 6);
  QB_CHECK_EQ_INT(q.act.scheme.symmetry, QB_SYMMETRIC);
  QB_CHECK_EQ_INT(q.act.range.kind, QB_RANGE_PERCENTILE);
  QB_CHECK(q.act.range.percentile == 99.99);
  const qb_qconfig w = qb_plan_item_qconfig(&plan.items[1]);
  const qb_qconfig d = qb_qconfig_default();
  QB_CHECK_EQ_INT(w.workflow, QB_WORKFLOW_WEIGHT_ONLY);
  QB_CHECK_EQ_INT(w.weight.scheme.bits, 4);
  QB_CHECK_EQ_INT(w.act.scheme.bits, d.act.scheme.bits); /* untouched */
  done(&cfg, &plan);
}

/* requant: [fp32, gemmlowp] plans static items once per rule (the id says
 * -gemmlowp, the qconfig carries it) and weight-only / dynamic items once. */
static void test_requant_rules(void) {
  qb_sweep_config cfg;
  qb_plan plan;
  if (build("models: [{name: mlp}]\nworkflow: [static, weight-only, dynamic]\n"
            "requant: [fp32, gemmlowp]\nbackends: [scalar]\n", kX86, &cfg, &plan)) {
    QB_CHECK(0);
    return;
  }
  QB_CHECK_EQ_INT(plan.nitems, 4);
  QB_CHECK_EQ_INT(items_matching(&plan, "-gemmlowp"), 1);
  for (size_t i = 0; i < plan.nitems; i++) {
    const qb_qconfig q = qb_plan_item_qconfig(&plan.items[i]);
    const bool g = strstr(plan.items[i].id, "-gemmlowp") != NULL;
    QB_CHECK_EQ_INT(q.requant, g ? QB_REQUANT_GEMMLOWP : QB_REQUANT_FP32);
    QB_CHECK(!g || q.workflow == QB_WORKFLOW_STATIC);
  }
  done(&cfg, &plan);
  qb_error err;
  QB_CHECK(qb_sweep_config_parse("requant: [fp32, fp32]\n", 21, "p.yaml", &cfg, &err) != 0);
  QB_CHECK(qb_sweep_config_parse("requant: [fixed]\n", 17, "p.yaml", &cfg, &err) != 0);
}

int main(void) {
  test_requant_rules();
  test_rule_table();
  test_product_and_ids();
  test_weight_only_collapse();
  test_dynamic_collapse();
  test_qat_rules();
  test_backend_rules();
  test_grids_union();
  test_activation_and_width_rules();
  test_token_rules();
  test_duplicate_values();
  test_range_role_rules();
  test_grid_axes();
  test_w4a8_group();
  test_item_qconfig();
  return qb_test_finish("test_plan");
}
