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
 *               with its model, data and fp32 reference already resident, so it does
 *               not depend on what ran before; where /proc/self/clear_refs cannot
 *               reset it, arena + packed weights + fp32 weights; qb_peak_rss.h)
 * Items whose layers all run backend-independent fp32 code (weight-only, per-group
 * weights: kernel "fp32-dequantized-weights" / "fp32-simulated" on every layer) take
 * the accuracy, per-layer and sensitivity rows of the previous backend of the same
 * qconfig (same numbers by construction: the same code runs); speed and memory are
 * measured per backend. Items with any integer layer are measured on each backend,
 * so a backend that is not bit-exact shows. */
#ifndef QB_SWEEP_EVAL_H
#define QB_SWEEP_EVAL_H

#include <stddef.h>
#include <stdio.h>

#include "qb_result.h"
#include "qb_sweep_config.h"
#include "qb_sweep_plan.h"

enum {
  QB_SWEEP_PROBE_DEFAULT = 32,  /* probe batch for per-layer errors */
  QB_SWEEP_SENS_LIMIT = 1000,   /* evaluation samples for sensitivity runs */
  QB_SWEEP_BATCH = 100,         /* evaluation batch */
  QB_SWEEP_GENERATED_DEFAULT = 200, /* generated OCR samples when no limit is set */
};
/* Significance level of drop_significant and the level 1 - alpha of drop_ci_*. */
#define QB_SWEEP_ALPHA 0.05

typedef struct {
  const char* fmnist_dir; /* NULL: QB_FASHION_MNIST */
  size_t probe;           /* 0: QB_SWEEP_PROBE_DEFAULT */
  FILE* log;              /* warnings (high CV, ignored thread counts); NULL = quiet */
  const char* gbench_json; /* speed: Google Benchmark JSON appended here; NULL = none */
} qb_sweep_eval_options;

typedef struct qb_sweep_evaluator qb_sweep_evaluator;

qb_sweep_evaluator* qb_sweep_evaluator_new(const qb_sweep_eval_options* opt);
void qb_sweep_evaluator_free(qb_sweep_evaluator* ev);
/* Items so far whose end-to-end latency CV exceeded 5 % (the first few are logged). */
size_t qb_sweep_evaluator_high_cv(const qb_sweep_evaluator* ev);

/* A qb_sweep_eval_fn: ctx is a qb_sweep_evaluator. */
int qb_sweep_eval_item(void* ctx, const qb_sweep_config* cfg, const qb_plan_item* item,
                       qb_result_rows* rows, qb_error* err);

#endif
