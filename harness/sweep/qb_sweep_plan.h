/* The sweep plan: the cross product of a config's axes, minus the combinations that
 * make no sense, each dropped combination kept with the rule that dropped it.
 *
 * A combination is (model, workflow, weight bits/scheme/granularity/range,
 * activation bits/scheme/granularity/range, backend), enumerated in that nesting
 * order (model outermost, backend innermost), values in config order; so the plan
 * of a config is deterministic. backends: all expands to the backends usable on the
 * machine; a backend named explicitly but not usable is a skip.
 *
 * The rules are one table (qb_plan_rules), applied to each combination:
 *   1. collapse rules rewrite an axis that does not apply (weight-only has no
 *      activation quantization; dynamic always takes activation ranges with min-max;
 *      qat trains against min-max weight grids and minmax / movavg activation ranges).
 *      A rewritten combination equal to one already planned is skipped with the
 *      collapse rule's reason.
 *   2. skip rules drop combinations no backend can run as asked (see the table in
 *      qb_sweep_plan.c for each rule's reason).
 *
 * Each item has a stable id, used as the resume key and in the SQLite history:
 *   <model>/<workflow>/w<bits>-<sym|aff>-<granularity>-<range>[-<qualifiers>]/<a...|afloat>/<backend>
 * e.g. mlp/static/w4-sym-group32-mse/a8-aff-tensor-percentile99.99/avx512vnni
 * (':' of "group:32" and "percentile:99.99" dropped so ids are path- and CSV-safe).
 * Qualifiers appear only when not the default, so ids of default items do not change:
 * `signed` / `unsigned` (storage other than the role's default: weights signed,
 * activations unsigned), `restricted`, `mulrecip` (rounding), in that order — the
 * qconfig grammar's tokens, e.g. a8-aff-tensor-minmax-restricted-mulrecip. */
#ifndef QB_SWEEP_PLAN_H
#define QB_SWEEP_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "qb_sweep_config.h"

enum { QB_PLAN_ID_MAX = 192, QB_PLAN_MAX_COMBINATIONS = 2000000 };

/* How one tensor role is quantized in a plan item. bits == 0: left in float. */
typedef struct {
  int bits;
  qb_symmetry scheme;
  qb_granularity granularity;
  qb_range_strategy range;
  bool is_signed;         /* storage; the role's default: weights signed, activations unsigned */
  bool restricted;        /* drop the lowest code (signed) / the top code (unsigned) */
  qb_round_mode rounding; /* div (default) or mul-recip */
} qb_tensor_choice;

typedef struct {
  size_t model; /* index into cfg->models */
  qb_workflow workflow;
  qb_tensor_choice weights, activations;
  qb_requant_rule requant; /* static / qat with activations; else QB_REQUANT_FP32 */
  qb_backend backend;
  bool fine_tunable; /* the model can be fine-tuned for qat (qb_qat_model_supported) */
  char id[QB_PLAN_ID_MAX];
  const struct qb_plan_rule* collapsed_by; /* the collapse rule that rewrote it, or NULL */
} qb_plan_item;

typedef struct qb_plan_rule {
  const char* name;   /* short, stable: "weight-only-activations", "avx2-sat-8bit", ... */
  const char* reason; /* one sentence: why such combinations are not run as given */
  /* Does the rule apply to this combination? */
  bool (*applies)(const qb_plan_item* item, qb_backend_set usable);
  /* Collapse rules: rewrite the combination (NULL for skip rules). */
  void (*collapse)(qb_plan_item* item);
} qb_plan_rule;

/* The rule table (collapse rules first, then skip rules). */
const qb_plan_rule* qb_plan_rules(size_t* count);

typedef struct {
  char id[QB_PLAN_ID_MAX]; /* the combination as enumerated, before any collapse */
  const qb_plan_rule* rule;
} qb_plan_skip;

typedef struct {
  qb_plan_item* items;
  size_t nitems;
  qb_plan_skip* skips;
  size_t nskips;
  size_t ncombinations; /* nitems + nskips */
} qb_plan;

/* Build the plan of cfg for the backends in `usable` (qb_isa_usable_set() for the
 * real machine; tests pass their own). */
int qb_plan_build(const qb_sweep_config* cfg, qb_backend_set usable, qb_plan* plan,
                  qb_error* err);
void qb_plan_free(qb_plan* plan);

/* The item id (see above) into buf. */
void qb_plan_item_id(const qb_sweep_config* cfg, const qb_plan_item* item, char* buf,
                     size_t size);
/* Field texts as results record them: "8", "symmetric", "group:32", "percentile:99.99";
 * "float" / "" when the role is not quantized. The scheme carries the non-default
 * qualifiers of the id joined by '-' ("symmetric-unsigned-restricted-mulrecip"), so
 * a results row names its whole grid; role 'w' or 'a' picks the storage default. */
const char* qb_tensor_choice_scheme_str(const qb_tensor_choice* t, char role, char* buf,
                                        size_t size);
/* The role's default storage: weights signed, activations unsigned. */
bool qb_tensor_role_default_signed(char role);
void qb_tensor_choice_granularity_str(const qb_tensor_choice* t, char* buf, unsigned size);
void qb_tensor_choice_range_str(const qb_tensor_choice* t, char* buf, unsigned size);

/* The runtime's qconfig for an item (harness/qruntime/qb_qconfig.h): its defaults
 * (weights signed, activations unsigned, rounding div) with the item's bits, scheme,
 * granularity and range; activations untouched for weight-only. */
qb_qconfig qb_plan_item_qconfig(const qb_plan_item* item);

/* Backends with their own sub-byte weight kernel taking integer activations (W4A8
 * with per-group scales): an entry of that backend in qb_qs8_q4_f32_wgemm_entries(). */
bool qb_plan_backend_has_w4a8(qb_backend b);

/* Index of the item whose id is `id`, or -1 (linear search). */
ptrdiff_t qb_plan_find(const qb_plan* plan, const char* id);

#endif
