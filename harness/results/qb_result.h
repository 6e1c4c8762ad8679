/* Result rows: the one schema every results writer (CSV, JSON, SQLite) shares.
 *
 * A row is one measured number, in "long" form: identity columns say what was
 * measured, `metric` / `value` / `unit` say what came out. A run has, per plan item
 * (model x qconfig x backend), end-to-end rows (layer "<model>") and per-layer rows
 * (layer = the ONNX node name).
 *
 *   column         type  meaning
 *   run_id         text  <config name>-<UTC stamp>: the run folder's name
 *   item_id        text  the plan item's stable id (see qb_sweep_plan.h)
 *   model          text  model name (reference name or file stem)
 *   layer          text  ONNX node name, or "<model>" for end to end
 *   backend        text  scalar, sse41, avx2, avx2-sat, avx512vnni, neon, neondot, i8mm
 *   kernel         text  kernel that ran (e.g. qb_qu8_qs8_qs32_gemm_8x32c4__avx512vnni), "" if none
 *   workflow       text  weight-only, dynamic, static
 *   w_bits         int   weight bits
 *   w_scheme       text  symmetric / affine, then the grid's non-default qualifiers
 *                        joined by '-' (qconfig tokens): signed / unsigned (storage other
 *                        than the role's default: weights signed, activations unsigned),
 *                        restricted, mulrecip (rounding): "symmetric-unsigned-mulrecip"
 *   w_granularity  text  tensor, channel, group:G
 *   w_range        text  minmax, percentile:P, mse, entropy, ...
 *   a_bits         int   activation bits, 0 = float (weight-only)
 *   a_scheme, a_granularity, a_range   as for weights; "float", "", "" when a_bits = 0
 *   threads        int   threads used (speed rows), 1 otherwise
 *   metric         text  see below
 *   value          real  the number (NaN/Inf: empty in CSV, null in JSON, NULL in SQLite)
 *   unit           text  "%", "dB", "ns", "bytes", "" (ratio) ...
 *   evaluated_on   text  the backend whose run produced the value: the item's own, or
 *                        (accuracy, per-layer and sensitivity rows) the evaluated backend
 *                        of its exactness class (harness/sweep/qb_sweep_eval.h)
 *   exact_check    text  how the item's accuracy and error rows were obtained:
 *                        "evaluated" (its backend is its class's evaluated one),
 *                        "probe-match" (copied from evaluated_on after the probe batch's
 *                        outputs matched bit for bit), "probe-mismatch" (the probe
 *                        differed: evaluated fully on its own backend; a backend that is
 *                        not exact although its kernels say so), "not-exact" (a backend
 *                        that is not exact by design, avx2-sat: evaluated fully)
 * Files written before evaluated_on / exact_check existed read with both empty.
 *
 * Metric names (the numeric suite and the benchmarks add to this list, keeping the
 * unit fixed per name):
 *   accuracy (%)          the task's metric on the evaluation split (top-1 for
 *                         classifiers; harness/task/qb_task.h); accuracy_fp32 (%) the float model's
 *   drop (%)              accuracy_fp32 - accuracy (percentage points)
 *   agreement (%)         samples whose prediction (class, decoded line, box set) is fp32's
 *   task_metric           value = the task's code (qb_task), unit = the metric's short
 *                         name ("top-1", "exact-match", "F1", "agreement"): the one
 *                         metric whose unit names what accuracy measures
 *   cer, cer_fp32 (%)     ocr-rec: character error rate, quantized / fp32
 *   precision, recall, precision_fp32, recall_fp32 (%)   ocr-det, at IoU >= 0.5
 *   output_sqnr (dB), output_cosine (), output_max_abs_err (), output_agreement (%)
 *                         outputs task: per model output (layer = output name), the
 *                         quantized run vs fp32 over the evaluation samples
 *   (classification tasks only, the next eight:)
 *   discordant_lost (samples), discordant_gained (samples)   images the float model
 *                         gets right and the item wrong / the reverse
 *   mcnemar_p ()          exact McNemar p-value of the drop (harness/stats/qb_paired.h)
 *   drop_significant ()   1 when mcnemar_p < 0.05, else 0
 *   drop_ci_low (%), drop_ci_high (%)   95 % interval of the drop (exact conditional,
 *                         Clopper-Pearson on the discordant images)
 *   kl ()                 mean over samples of KL(fp32 || quantized) of the softmax outputs
 *   kl_median (), kl_p90 (), kl_p99 (), kl_max ()   the same per sample, its quantiles
 *   true_prob_rms ()      RMS over samples of the change in the true class's probability
 *   weight_sqnr (dB), weight_mse (), weight_clipped ()   float vs dequantized weights
 *   sqnr (dB), mse (), cosine (), norm_l2 (), max_abs_err (), p95_abs_err (), clipped ()
 *                         per layer: the quantized run's activation vs the float run's
 *   shadow_sqnr (dB), shadow_mse ()   the layer fed the float input (its own error)
 *   simkernel_max_abs_err (), simkernel_mse (), simkernel_mismatch ()   integer kernel
 *                         vs fake-quant simulation of the layer on the same input
 *                         (mismatch: fraction of outputs that differ)
 *   bias_saturated ()     static layers with an int32 bias: output channels whose
 *                         round(b / (sx * sw)) was saturated to the int32 range
 *   sensitivity_only (%)  accuracy drop with only this layer quantized
 *   sensitivity_float (%) accuracy drop with only this layer left in float
 *   latency_median (ns), latency_cv ()      over `repetitions` runs, per thread count
 *                         (nodes outside layers: this row only, kernel "int8 <Op>" or
 *                         "fp32 <Op>[/<fp32 kernel>]", the time between layers)
 *   latency_sample (ns)   one row per repetition (same identity): what qbench compare's
 *                         Mann-Whitney U test needs; latency_median alone is shown but
 *                         never gates a regression
 *   latency_fp32_median (ns) the fp32 model at the same thread count (end-to-end row,
 *                         kernel = the fp32 GEMM), timed in the item's speed group
 *   latency_rel_sample () per repetition: the item's time / the fp32 model's in the
 *                         same round (compare --relative)
 *   speedup_over_fp32 ()  latency_fp32_median / latency_median of the item
 *   effective_bits ()     packed weight bits per weight, incl. scales and zero points
 *   bytes_weights (bytes) packed weights incl. scales and zero points
 *   bytes_arena (bytes), peak_rss (bytes: the item's resident high-water mark, see
 *                         harness/sweep/qb_sweep_eval.h)
 */
#ifndef QB_RESULT_H
#define QB_RESULT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qb_error.h"

enum {
  QB_RESULT_ID_MAX = 192,
  QB_RESULT_COLUMNS_V1 = 19, /* run_id .. unit: the columns of files before evaluated_on */
};

typedef struct {
  char run_id[96];
  char item_id[QB_RESULT_ID_MAX];
  char model[64];
  char layer[128];
  char backend[16];
  char kernel[96];
  char workflow[16];
  int w_bits;
  char w_scheme[48];
  char w_granularity[24];
  char w_range[40];
  int a_bits;
  char a_scheme[48];
  char a_granularity[24];
  char a_range[40];
  int threads;
  char metric[48];
  double value;
  char unit[16];
  char evaluated_on[16];
  char exact_check[16];
} qb_result_row;

/* The schema as data: writers iterate over it, so the column order is the same in
 * results.csv, results.json and the SQLite table. */
typedef enum { QB_COL_TEXT, QB_COL_INT, QB_COL_REAL } qb_result_col_type;
typedef struct {
  const char* name;
  qb_result_col_type type;
  size_t offset; /* into qb_result_row */
  size_t size;   /* text: buffer size */
} qb_result_column;

const qb_result_column* qb_result_columns(size_t* count);

/* The per-sample outcome of an item's accuracy evaluation, for the paired statistics
 * (harness/stats/qb_paired.h): per evaluation sample the class the item predicted,
 * the class the fp32 model predicted (its reference) and the true class
 * (QB_LABEL_NONE when unlabelled). Stored by the sweep next to the rows (run folder
 * predictions/, SQLite table predictions: harness/results/qb_predictions.h). */
enum { QB_LABEL_NONE = 0xFFFF };
typedef struct {
  uint16_t* predicted;
  uint16_t* fp32;
  uint16_t* labels;
  size_t count; /* 0: no predictions (the item measured no accuracy) */
} qb_item_predictions;

/* A growable array of rows, and the item's predictions when the rows are one item's
 * outcome (the sweep's per-item set; empty elsewhere). */
typedef struct {
  qb_result_row* rows;
  size_t count, cap;
  qb_result_row identity; /* template copied into each new row (run, item, qconfig) */
  qb_item_predictions predictions;
} qb_result_rows;

void qb_result_rows_init(qb_result_rows* r);
void qb_result_rows_free(qb_result_rows* r);
void qb_result_rows_clear(qb_result_rows* r); /* keeps the identity; drops predictions */
/* Sets the predictions to copies of the three arrays of n samples (replacing any);
 * -1 when out of memory. */
int qb_result_rows_set_predictions(qb_result_rows* r, const uint16_t* predicted,
                                   const uint16_t* fp32, const uint16_t* labels, size_t n);
/* Appends a row from the identity template with these measured fields. Text longer
 * than its column is cut. Returns NULL when out of memory. */
qb_result_row* qb_result_rows_add(qb_result_rows* r, const char* layer, const char* kernel,
                                  int threads, const char* metric, double value,
                                  const char* unit);

/* Text helpers for writers: a column's text value of a row ("" for NaN reals). */
void qb_result_cell(const qb_result_row* row, const qb_result_column* col, char* buf,
                    size_t size);
/* Sets a column from text (used when reading rows back); -1 if a number is malformed. */
int qb_result_set_cell(qb_result_row* row, const qb_result_column* col, const char* text);

#endif
