#include "qb_sweep_plan.h"

#include "qb_dispatch.h"
#include "qb_qat.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "qb_hash.h"

/* ---- the rules ------------------------------------------------------------------- */

static bool is_integer_workflow(qb_workflow w) { return w != QB_WORKFLOW_WEIGHT_ONLY; }

/* A backend "has" the kernel only if the W4A8 list holds an entry of its own: a
 * fallback to the scalar reference would measure the reference, not the backend. */
bool qb_plan_backend_has_w4a8(qb_backend b) {
  size_t n;
  const qb_qs8_q4_f32_wgemm_entry* e = qb_qs8_q4_f32_wgemm_entries(&n);
  for (size_t i = 0; i < n; i++)
    if (e[i].info.backend == b) return true;
  return false;
}

static bool weight_only_quantized_acts(const qb_plan_item* it, qb_backend_set usable) {
  return it->workflow == QB_WORKFLOW_WEIGHT_ONLY && it->activations.bits != 0;
}
static void collapse_acts_to_float(qb_plan_item* it) {
  memset(&it->activations, 0, sizeof it->activations);
}

static bool dynamic_non_minmax(const qb_plan_item* it, qb_backend_set usable) {
  return it->workflow == QB_WORKFLOW_DYNAMIC && it->activations.range.kind != QB_RANGE_MINMAX;
}
static void collapse_act_range_to_minmax(qb_plan_item* it) {
  it->activations.range = qb_range_default(QB_RANGE_MINMAX);
}

static bool act_range_observable(qb_range_kind k) {
  return k == QB_RANGE_MINMAX || k == QB_RANGE_MOVAVG;
}
static bool qat_other_ranges(const qb_plan_item* it, qb_backend_set usable) {
  return it->workflow == QB_WORKFLOW_QAT &&
         (it->weights.range.kind != QB_RANGE_MINMAX ||
          !act_range_observable(it->activations.range.kind));
}
static void collapse_to_qat_ranges(qb_plan_item* it) {
  it->weights.range = qb_range_default(QB_RANGE_MINMAX);
  if (!act_range_observable(it->activations.range.kind))
    it->activations.range = qb_range_default(QB_RANGE_MINMAX);
}

static bool qat_not_fine_tunable(const qb_plan_item* it, qb_backend_set usable) {
  return it->workflow == QB_WORKFLOW_QAT && !it->fine_tunable;
}

static bool backend_unusable(const qb_plan_item* it, qb_backend_set usable) {
  return !(usable & QB_BACKEND_BIT(it->backend));
}

/* Cross-entropy compares softmax rows of the float and fake-quantized tensor: it
 * means something on logits, not on a layer's activations, whose calibration sample
 * is a shuffled reservoir of positions with no row structure (treated as one row, it
 * picks the min-max range). Runs after the collapse rules, so only the workflows that
 * calibrate activation ranges (static, qat) reach it. */
static bool crossentropy_activations(const qb_plan_item* it, qb_backend_set usable) {
  return it->activations.bits != 0 && it->activations.range.kind == QB_RANGE_CROSSENTROPY;
}

/* The moving average follows a sequence of batches; a weight is one fixed tensor, and
 * reading its rows as a sequence makes the range depend on their order (conv2.weight
 * 8-bit per channel: 43.3 dB min-max, 16.2 dB movavg). */
static bool movavg_weights(const qb_plan_item* it, qb_backend_set usable) {
  return it->weights.range.kind == QB_RANGE_MOVAVG;
}

static bool activation_group(const qb_plan_item* it, qb_backend_set usable) {
  return is_integer_workflow(it->workflow) && it->activations.granularity.kind == QB_PER_GROUP;
}

static bool activation_channel(const qb_plan_item* it, qb_backend_set usable) {
  return is_integer_workflow(it->workflow) && it->activations.granularity.kind == QB_PER_CHANNEL;
}

/* One scale per token exists only when ranges are taken at run time. */
static bool activation_token(const qb_plan_item* it, qb_backend_set usable) {
  return it->workflow != QB_WORKFLOW_DYNAMIC && it->workflow != QB_WORKFLOW_WEIGHT_ONLY &&
         it->activations.granularity.kind == QB_PER_TOKEN;
}

static bool weight_token(const qb_plan_item* it, qb_backend_set usable) {
  return it->weights.granularity.kind == QB_PER_TOKEN;
}

static bool integer_16bit(const qb_plan_item* it, qb_backend_set usable) {
  return is_integer_workflow(it->workflow) &&
         (it->weights.bits > 8 || it->activations.bits > 8);
}

/* The int8 kernels take u8 activations x s8 weights (harness/qruntime/qb_model_quant.c,
 * int_kernel_applies); other storage runs the fake-quant simulation, the same numbers
 * on every backend. */
static bool simulated_storage(const qb_plan_item* it, qb_backend_set usable) {
  return is_integer_workflow(it->workflow) && it->backend != QB_BACKEND_SCALAR &&
         (!it->weights.is_signed || (it->activations.bits && it->activations.is_signed));
}

static bool avx2_sat_not_8bit(const qb_plan_item* it, qb_backend_set usable) {
  return it->backend == QB_BACKEND_AVX2_SAT &&
         !(is_integer_workflow(it->workflow) && it->weights.bits == 8 &&
           it->activations.bits == 8);
}

static bool subbyte_without_kernel(const qb_plan_item* it, qb_backend_set usable) {
  return is_integer_workflow(it->workflow) && it->weights.bits <= 4 &&
         !qb_plan_backend_has_w4a8(it->backend);
}

static bool never(const qb_plan_item* it, qb_backend_set usable) { return false; }

static bool weight_group_without_kernel(const qb_plan_item* it, qb_backend_set usable) {
  return is_integer_workflow(it->workflow) && it->weights.granularity.kind == QB_PER_GROUP &&
         (it->weights.bits > 4 || !qb_plan_backend_has_w4a8(it->backend));
}

/* Collapse rules come first: a collapsed combination is then checked by the skip
 * rules like any other. */
static const qb_plan_rule kRules[] = {
    {"weight-only-activations",
     "weight-only keeps activations in float: the activation axes do not apply",
     weight_only_quantized_acts, collapse_acts_to_float},
    {"dynamic-activation-range",
     "dynamic quantization takes activation ranges at run time with min-max: other "
     "activation range strategies do not apply",
     dynamic_non_minmax, collapse_act_range_to_minmax},
    {"qat-ranges",
     "qat fine-tunes against the grid it deploys: weights min-max (recomputed every step), "
     "activation ranges calibrated with minmax or movavg and frozen; other range "
     "strategies collapse to minmax",
     qat_other_ranges, collapse_to_qat_ranges},
    {"qat-model",
     "qat fine-tunes reference models whose ONNX export keeps every trained parameter "
     "(mlp, cnn); dwnet folds batch norm and vit transposes its weights at export",
     qat_not_fine_tunable, NULL},
    {"backend-not-usable",
     "the backend is not usable on this machine (not built, not detected, or masked by "
     "QB_ISA_MASK)",
     backend_unusable, NULL},
    {"crossentropy-activations",
     "cross-entropy compares softmax rows of logits; a layer's calibrated activations "
     "have no rows, so it has no meaning as an activation range strategy",
     crossentropy_activations, NULL},
    {"movavg-weights",
     "a moving average follows a sequence of batches; a weight is one fixed tensor, whose "
     "rows taken as a sequence give an order-dependent range",
     movavg_weights, NULL},
    {"activation-group",
     "per-group granularity splits a weight's reduction axis; activations are quantized "
     "per tensor",
     activation_group, NULL},
    {"activation-channel",
     "per-channel activation scales vary along the GEMM's reduction axis and cannot be "
     "factored out of an integer GEMM",
     activation_channel, NULL},
    {"activation-token",
     "per-token scales are chosen at run time for each row of a Gemm / MatMul input: only "
     "the dynamic workflow has them (static and qat calibrate one scale per tensor)",
     activation_token, NULL},
    {"weight-token",
     "token is an activation granularity; weights are quantized per tensor, channel or group",
     weight_token, NULL},
    {"integer-16bit",
     "integer kernels take at most 8-bit operands: 16-bit is measured weight-only", integer_16bit,
     NULL},
    {"integer-storage",
     "the integer kernels take unsigned activations and signed weights; other storage runs "
     "the fake-quant simulation, identical on every backend, so it is planned on scalar only",
     simulated_storage, NULL},
    {"avx2-sat-8bit",
     "avx2-sat differs from avx2 only in its saturating u8 x s8 GEMM, which runs 8-bit "
     "weights and activations in integer workflows",
     avx2_sat_not_8bit, NULL},
    {"subbyte-weights-kernel",
     "weights of 4 bits or fewer with integer activations need the backend's own W4A8 "
     "kernel (qb_qs8_q4_f32_wgemm_entries); weight-only runs them everywhere",
     subbyte_without_kernel, NULL},
    {"weight-group-kernel",
     "per-group weight scales with integer activations need the backend's own W4A8 kernel "
     "(it rescales each group), which takes weights of at most 4 bits",
     weight_group_without_kernel, NULL},
    /* Not tested per combination: consider() assigns it to exact repeats. */
    {"duplicate", "the same combination appears twice (a value repeated in an axis)", never,
     NULL},
};

const qb_plan_rule* qb_plan_rules(size_t* count) {
  *count = sizeof kRules / sizeof *kRules;
  return kRules;
}

/* ---- the runtime's view of an item ----------------------------------------------- */

static void apply_choice(const qb_tensor_choice* t, qb_tensor_qspec* spec) {
  spec->scheme.bits = t->bits;
  spec->scheme.symmetry = t->scheme;
  spec->scheme.is_signed = t->is_signed;
  spec->scheme.restricted = t->restricted;
  spec->scheme.rounding = t->rounding;
  spec->granularity = t->granularity;
  spec->range = t->range;
}

qb_qconfig qb_plan_item_qconfig(const qb_plan_item* item) {
  qb_qconfig q = qb_qconfig_default();
  /* qat: the fine-tuned model is quantized as static. */
  q.workflow = item->workflow == QB_WORKFLOW_QAT ? QB_WORKFLOW_STATIC : item->workflow;
  apply_choice(&item->weights, &q.weight);
  if (item->activations.bits) apply_choice(&item->activations, &q.act);
  q.requant = item->requant;
  return q;
}

/* ---- ids ------------------------------------------------------------------------- */

bool qb_tensor_role_default_signed(char role) { return role == 'w'; }

/* "-unsigned-restricted-mulrecip": the choice's non-default qualifiers, or "". */
static void qualifiers(const qb_tensor_choice* t, char role, char* buf, size_t size) {
  const bool storage = t->is_signed != qb_tensor_role_default_signed(role);
  snprintf(buf, size, "%s%s%s", storage ? (t->is_signed ? "-signed" : "-unsigned") : "",
           t->restricted ? "-restricted" : "", t->rounding == QB_ROUND_MUL_RECIP ? "-mulrecip" : "");
}

const char* qb_tensor_choice_scheme_str(const qb_tensor_choice* t, char role, char* buf,
                                        size_t size) {
  if (!t->bits) {
    snprintf(buf, size, "float");
    return buf;
  }
  char q[48];
  qualifiers(t, role, q, sizeof q);
  snprintf(buf, size, "%s%s", t->scheme == QB_SYMMETRIC ? "symmetric" : "affine", q);
  return buf;
}

void qb_tensor_choice_granularity_str(const qb_tensor_choice* t, char* buf, unsigned size) {
  if (!t->bits) snprintf(buf, size, "%s", "");
  else qb_granularity_str(&t->granularity, buf, size);
}

void qb_tensor_choice_range_str(const qb_tensor_choice* t, char* buf, unsigned size) {
  if (!t->bits) snprintf(buf, size, "%s", "");
  else qb_range_str(&t->range, buf, size);
}

static void drop_colons(char* s) {
  char* w = s;
  for (const char* r = s; *r; r++)
    if (*r != ':') *w++ = *r;
  *w = '\0';
}

static void choice_id(char role, const qb_tensor_choice* t, char* buf, size_t size) {
  if (!t->bits) {
    snprintf(buf, size, "%cfloat", role);
    return;
  }
  char g[32], r[48], q[48];
  qb_granularity_str(&t->granularity, g, sizeof g);
  qb_range_str(&t->range, r, sizeof r);
  qualifiers(t, role, q, sizeof q);
  drop_colons(g);
  drop_colons(r);
  snprintf(buf, size, "%c%d-%s-%s-%s%s", role, t->bits, t->scheme == QB_SYMMETRIC ? "sym" : "aff",
           g, r, q);
}

void qb_plan_item_id(const qb_sweep_config* cfg, const qb_plan_item* item, char* buf,
                     size_t size) {
  char w[160], a[160];
  choice_id('w', &item->weights, w, sizeof w);
  choice_id('a', &item->activations, a, sizeof a);
  /* The requantization rule, as the qconfig text spells it: only when not fp32. */
  if (item->requant == QB_REQUANT_GEMMLOWP) {
    const size_t len = strlen(a);
    snprintf(a + len, sizeof a - len, "-gemmlowp");
  }
  snprintf(buf, size, "%s/%s/%s/%s/%s", cfg->models[item->model].name,
           qb_workflow_name(item->workflow), w, a, qb_backend_name(item->backend));
}

/* ---- a set of planned ids (open addressing, FNV-1a), so large plans stay linear ---- */

typedef struct {
  size_t* slots; /* item index + 1; 0 = empty */
  size_t cap;    /* a power of two, at least twice the item count */
} id_set;

/* The index of the planned item with this id, or inserts `index` and returns -1. */
static ptrdiff_t id_set_insert(id_set* set, const qb_plan_item* items, const char* id,
                               size_t index) {
  size_t i = (size_t)qb_fnv1a64_str(id) & (set->cap - 1);
  while (set->slots[i]) {
    if (!strcmp(items[set->slots[i] - 1].id, id)) return (ptrdiff_t)(set->slots[i] - 1);
    i = (i + 1) & (set->cap - 1);
  }
  set->slots[i] = index + 1;
  return -1;
}

static const qb_plan_rule* rule_named(const char* name) {
  size_t n;
  const qb_plan_rule* rules = qb_plan_rules(&n);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(rules[i].name, name)) return &rules[i];
  return NULL;
}

/* ---- enumeration ------------------------------------------------------------------ */

static size_t usable_backends(const qb_sweep_config* cfg, qb_backend_set usable,
                              qb_backend out[QB_BACKEND_COUNT]) {
  size_t n = 0;
  if (cfg->backends_all) {
    for (int b = 0; b < QB_BACKEND_COUNT; b++)
      if (usable & QB_BACKEND_BIT(b)) out[n++] = (qb_backend)b;
  }
  for (size_t i = 0; i < cfg->nbackends; i++) {
    bool dup = false;
    for (size_t j = 0; j < n; j++) dup |= out[j] == cfg->backends[i];
    if (!dup) out[n++] = cfg->backends[i];
  }
  return n;
}

static size_t axes_count(const qb_tensor_axes* a) {
  return a->nbits * a->nscheme * a->ngranularity * a->nrange * a->nstorage * a->nrestricted *
         a->nrounding;
}

/* The k-th combination of an axes set (bits outermost, then scheme, granularity,
 * range, storage, restricted, rounding innermost). */
static qb_tensor_choice axes_choice(const qb_tensor_axes* a, size_t k) {
  qb_tensor_choice t;
  memset(&t, 0, sizeof t);
  t.rounding = a->rounding[k % a->nrounding];
  k /= a->nrounding;
  t.restricted = a->restricted[k % a->nrestricted];
  k /= a->nrestricted;
  t.is_signed = a->is_signed[k % a->nstorage];
  k /= a->nstorage;
  t.range = a->range[k % a->nrange];
  k /= a->nrange;
  t.granularity = a->granularity[k % a->ngranularity];
  k /= a->ngranularity;
  t.scheme = a->scheme[k % a->nscheme];
  k /= a->nscheme;
  t.bits = a->bits[k];
  return t;
}

typedef struct {
  qb_plan* plan;
  id_set seen;
  qb_backend_set usable;
  size_t items_cap, skips_cap;
  bool oom;
} builder;

/* Grows an array by doubling; false when out of memory. */
static bool grow(void** array, size_t* cap, size_t count, size_t elem) {
  if (count < *cap) return true;
  const size_t ncap = *cap ? 2 * *cap : 256;
  void* p = realloc(*array, ncap * elem);
  if (!p) return false;
  *array = p;
  *cap = ncap;
  return true;
}

static void consider(builder* b, const qb_sweep_config* cfg, qb_plan_item it) {
  qb_plan* plan = b->plan;
  char raw[QB_PLAN_ID_MAX];
  qb_plan_item_id(cfg, &it, raw, sizeof raw);
  size_t nrules;
  const qb_plan_rule* rules = qb_plan_rules(&nrules);
  const qb_plan_rule* collapsed_by = NULL;
  const qb_plan_rule* skipped_by = NULL;
  for (size_t r = 0; r < nrules && !skipped_by; r++) {
    if (!rules[r].applies(&it, b->usable)) continue;
    if (rules[r].collapse) {
      rules[r].collapse(&it);
      if (!collapsed_by) collapsed_by = &rules[r];
    } else {
      skipped_by = &rules[r];
    }
  }
  plan->ncombinations++;
  if (!skipped_by) {
    if (!grow((void**)&plan->items, &b->items_cap, plan->nitems, sizeof *plan->items)) {
      b->oom = true;
      return;
    }
    qb_plan_item_id(cfg, &it, it.id, sizeof it.id);
    it.collapsed_by = collapsed_by;
    plan->items[plan->nitems] = it;
    const ptrdiff_t earlier = id_set_insert(&b->seen, plan->items, it.id, plan->nitems);
    if (earlier < 0) {
      plan->nitems++;
      return;
    }
    /* Equal to a planned item: this combination, or the earlier one, was collapsed
     * onto it (or an axis repeats a value). */
    const qb_plan_rule* first = plan->items[earlier].collapsed_by;
    skipped_by = collapsed_by ? collapsed_by : first ? first : rule_named("duplicate");
  }
  if (!grow((void**)&plan->skips, &b->skips_cap, plan->nskips, sizeof *plan->skips)) {
    b->oom = true;
    return;
  }
  qb_plan_skip* s = &plan->skips[plan->nskips++];
  snprintf(s->id, sizeof s->id, "%s", raw);
  s->rule = skipped_by;
}

static size_t grid_count(const qb_sweep_grid* g, size_t nmodels, size_t nbackends) {
  const size_t nr = g->nrequants ? g->nrequants : 1;
  return nmodels * g->nworkflows * axes_count(&g->weights) * axes_count(&g->activations) *
         nbackends * nr;
}

/* Every combination of one grid for model m. */
static void consider_grid(builder* b, const qb_sweep_config* cfg, size_t m, const qb_sweep_grid* g,
                          const qb_backend* backends, size_t nb) {
  const size_t nw = axes_count(&g->weights), na = axes_count(&g->activations);
  const size_t nr = g->nrequants ? g->nrequants : 1;
  for (size_t w = 0; w < g->nworkflows; w++)
    for (size_t wi = 0; wi < nw; wi++)
      for (size_t ai = 0; ai < na; ai++)
        for (size_t ri = 0; ri < nr; ri++)
          for (size_t bi = 0; bi < nb && !b->oom; bi++) {
            qb_plan_item it;
            memset(&it, 0, sizeof it);
            it.model = m;
            it.workflow = g->workflows[w];
            it.weights = axes_choice(&g->weights, wi);
            it.activations = axes_choice(&g->activations, ai);
            /* Only static integer layers requantize: one item for the others. */
            const bool requantizes = (it.workflow == QB_WORKFLOW_STATIC ||
                                      it.workflow == QB_WORKFLOW_QAT) && it.activations.bits;
            if (ri > 0 && !requantizes) continue;
            it.requant = requantizes ? g->requants[ri] : QB_REQUANT_FP32;
            it.backend = backends[bi];
            it.fine_tunable = cfg->models[m].reference && qb_qat_model_supported(cfg->models[m].name);
            consider(b, cfg, it);
          }
}

int qb_plan_build(const qb_sweep_config* cfg, qb_backend_set usable, qb_plan* plan,
                  qb_error* err) {
  memset(plan, 0, sizeof *plan);
  qb_backend backends[QB_BACKEND_COUNT];
  const size_t nb = usable_backends(cfg, usable, backends);
  size_t ngrids, total = 0;
  const qb_sweep_grid* grids = qb_sweep_config_grids(cfg, &ngrids);
  for (size_t g = 0; g < ngrids; g++) total += grid_count(&grids[g], cfg->nmodels, nb);
  if (total == 0) return qb_fail(err, "%s: the plan is empty (no usable backend?)", cfg->file);
  if (total > QB_PLAN_MAX_COMBINATIONS)
    return qb_fail(err, "%s: %zu combinations, expected at most %d (split the config)",
                   cfg->file, total, QB_PLAN_MAX_COMBINATIONS);
  size_t cap = 16;
  while (cap < 2 * total) cap *= 2;
  builder b = {plan, {calloc(cap, sizeof(size_t)), cap}, usable, 0, 0, false};
  if (!b.seen.slots) return qb_fail(err, "%s: out of memory for %zu combinations", cfg->file, total);
  /* Model outermost: a model's items stay together (its data and fp32 run load once). */
  for (size_t m = 0; m < cfg->nmodels && !b.oom; m++)
    for (size_t g = 0; g < ngrids && !b.oom; g++) consider_grid(&b, cfg, m, &grids[g], backends, nb);
  free(b.seen.slots);
  if (b.oom) {
    qb_plan_free(plan);
    return qb_fail(err, "%s: out of memory for %zu plan combinations", cfg->file, total);
  }
  return 0;
}

void qb_plan_free(qb_plan* plan) {
  free(plan->items);
  free(plan->skips);
  memset(plan, 0, sizeof *plan);
}

ptrdiff_t qb_plan_find(const qb_plan* plan, const char* id) {
  for (size_t i = 0; i < plan->nitems; i++)
    if (!strcmp(plan->items[i].id, id)) return (ptrdiff_t)i;
  return -1;
}
