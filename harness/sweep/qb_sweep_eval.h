/* The sweep evaluator: what `qbench sweep` measures for one plan item
 * (model x workflow x qconfig x backend), as result rows (qb_result.h).
 *
 * Per model, once (cached while consecutive items use it; the plan is model-major):
 *   load the ONNX model, its evaluation and calibration data; the fp32 run over the
 *   evaluation subset (logits, accuracy); the fp32 output of every quantized layer on
 *   the probe batch (the first `probe` evaluation samples); for static items one
 *   calibration run whose statistics every qconfig reuses (ranges are re-chosen per
 *   range strategy and bit width without running the model again).
 * Per item:
 *   accuracy    accuracy, accuracy_fp32, drop, agreement (integer run on the
 *               item's backend over the evaluation subset; layers without an integer
 *               kernel run simulated, as the runtime does); the paired statistics of
 *               the drop against the fp32 run on the same samples (qb_paired.h):
 *               discordant_lost / discordant_gained (fp32 right and item wrong / the
 *               reverse), mcnemar_p (exact), drop_significant (p < QB_SWEEP_ALPHA),
 *               drop_ci_low / drop_ci_high (95 %, exact conditional); output-level
 *               metrics: kl (mean KL(fp32 || item) of the softmax outputs), kl_median,
 *               kl_p90, kl_p99, kl_max (over samples), true_prob_rms (RMS change of the
 *               true class's probability). The per-sample predicted classes (item,
 *               fp32, labels) go into rows->predictions.
 *   per-layer   weight error (weight_sqnr, weight_mse, weight_clipped); activation
 *               error of the quantized run vs the float run (sqnr, mse, cosine,
 *               norm_l2, max_abs_err, p95_abs_err, clipped = probe inputs outside the
 *               layer's input grid); shadow error (the layer fed the float model's
 *               input: shadow_sqnr, shadow_mse); simulation vs kernel on the same float
 *               input (simkernel_max_abs_err, simkernel_mse, simkernel_mismatch =
 *               fraction of outputs that differ): 0 on exact backends
 *   sensitivity sensitivity_only / sensitivity_float: accuracy drop (pp) with only
 *               this layer quantized / only this layer in float, over the first
 *               QB_SWEEP_SENS_LIMIT evaluation samples
 *   speed       batch-1 latency: end to end (Google Benchmark through the shim, one
 *               benchmark `model/<item id>/threads:<T>` per thread count, its JSON
 *               appended to options.gbench_json) and per layer (node time between hook
 *               calls), `repetitions` samples (latency_sample), latency_median,
 *               latency_cv, once per thread count of the config (the integer run's
 *               GEMMs are threaded; outputs are identical for any count)
 *   memory      bytes_weights (integer values at their bit width + scale and zero
 *               point per unit + int32 bias), effective_bits (bytes_weights * 8 /
 *               weights), bytes_arena (activation arena at batch 1), peak_rss
 *               (the item's resident high-water mark: reset when the item begins,
 *               with its model, data and fp32 reference already resident, read
 *               once its quantized model is built, before its accuracy and error
 *               measurements (which it may carry for its exactness class or copy),
 *               so it does not depend on what ran before; where /proc/self/clear_refs cannot
 *               reset it, arena + packed weights + fp32 weights; qb_peak_rss.h)
 *
 * Exactness classes. Exact backends (every kernel of their dispatch table exact:
 * qb_dispatch_table_exact) compute the scalar reference's integer outputs by design,
 * and items whose layers all run fp32 code (weight-only, per-group weights) run the
 * same code on every backend; so accuracy, per-layer and sensitivity rows are
 * computed once per qconfig, on the class's evaluated backend: the fastest exact
 * backend the plan runs the qconfig on (qb_dispatch_best_backend of them; with no
 * plan given, the first backend met). Every other backend of the class runs the
 * probe batch (the first QB_SWEEP_EXACT_PROBE evaluation samples) and compares its
 * logits byte for byte with the evaluated backend's: equal, it gets a copy of the
 * outcome (rows with evaluated_on = the evaluated backend, exact_check
 * "probe-match", kernel column its own kernels); different, it is evaluated fully
 * and flagged (exact_check "probe-mismatch", a warning on the log). Backends that
 * are not exact (avx2-sat) are evaluated fully ("not-exact"). Speed and memory are
 * measured on every backend. The evaluated backend follows from the plan, not from
 * what ran before, so shards and resumed runs give the same rows. */
#ifndef QB_SWEEP_EVAL_H
#define QB_SWEEP_EVAL_H

#include <stddef.h>
#include <stdio.h>

#include "qb_result.h"
#include "qb_sweep_config.h"
#include "qb_sweep_plan.h"
#include "qb_sweep_run.h"

enum {
  QB_SWEEP_PROBE_DEFAULT = 32,  /* probe batch for per-layer errors */
  QB_SWEEP_SENS_LIMIT = 1000,   /* evaluation samples for sensitivity runs */
  QB_SWEEP_BATCH = 100,         /* evaluation batch */
  QB_SWEEP_EXACT_PROBE = 64,    /* samples an exact backend must reproduce bit for bit */
  QB_SWEEP_GENERATED_DEFAULT = 200, /* generated OCR samples when no limit is set */
};
/* Significance level of drop_significant and the level 1 - alpha of drop_ci_*. */
#define QB_SWEEP_ALPHA 0.05

typedef struct {
  const char* fmnist_dir; /* NULL: QB_FASHION_MNIST */
  size_t probe;           /* 0: QB_SWEEP_PROBE_DEFAULT */
  FILE* log;              /* warnings (high CV, ignored thread counts); NULL = quiet */
  const char* gbench_json; /* speed: Google Benchmark JSON appended here; NULL = none */
  /* The whole plan (before --shard): picks each qconfig's evaluated backend. NULL:
   * the first backend of a qconfig met is evaluated. */
  const qb_plan* plan;
  /* Backends taken as exact; 0 = those whose dispatch table is exact. (Tests declare
   * a backend exact that is not, to see the probe check catch it.) */
  qb_backend_set exact;
  /* Threads of the accuracy, per-layer and sensitivity runs and of calibration (their
   * results are the same for any count); 0 = 1. Speed is timed at the config's
   * thread counts whatever this is. */
  size_t eval_threads;
} qb_sweep_eval_options;

typedef struct qb_sweep_evaluator qb_sweep_evaluator;

qb_sweep_evaluator* qb_sweep_evaluator_new(const qb_sweep_eval_options* opt);
void qb_sweep_evaluator_free(qb_sweep_evaluator* ev);
/* Items so far whose end-to-end latency CV exceeded 5 % (the first few are logged). */
size_t qb_sweep_evaluator_high_cv(const qb_sweep_evaluator* ev);
/* Items so far of an exact backend whose probe outputs differed from their class's
 * evaluated backend (each evaluated fully and flagged "probe-mismatch"). */
size_t qb_sweep_evaluator_probe_mismatches(const qb_sweep_evaluator* ev);

/* A qb_sweep_eval_fn: ctx is a qb_sweep_evaluator. Everything but speed; an item
 * whose config measures speed stays pending (its state kept) until
 * qb_sweep_eval_speed_group times it. */
int qb_sweep_eval_item(void* ctx, const qb_sweep_config* cfg, const qb_plan_item* item,
                       qb_result_rows* rows, qb_error* err);
/* A qb_sweep_group_fn: times the pending items (the last n evaluated, in order; items
 * and rows as given to qb_sweep_eval_item) together, see qb_sweep_eval_perf.c. */
int qb_sweep_eval_speed_group(void* ctx, const qb_sweep_config* cfg,
                              const qb_plan_item* const* items, qb_result_rows* const* rows,
                              size_t n, qb_error* err);
/* Which of n items repetition `slot` of round `round` times: round r starts at item
 * r mod n and goes round (deterministic, every item in every position equally often
 * when the repetitions are a multiple of n). */
size_t qb_sweep_interleave_item(size_t n, size_t round, size_t slot);

#endif
