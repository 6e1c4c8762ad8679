/* What a model does, and how its outputs are scored: the `task:` of a sweep model
 * entry and of `qbench eval --task`.
 *
 *   classification  output 0 = class scores [N, classes]; top-1 against integer labels
 *                   (also agreement and KL with fp32). The default.
 *   ocr-cls         text-line orientation (PaddleOCR's direction classifier: class 0 =
 *                   upright, 1 = rotated 180 degrees); top-1 against integer labels.
 *   ocr-rec         text recognition, output 0 = per-step class scores [N, T, C];
 *                   CTC greedy decoding with the package's dictionary (qb_ocr_text.h);
 *                   exact-match line accuracy (primary) and CER against UTF-8 lines.
 *   ocr-det         text detection, output 0 = DB probability map [N, 1, H, W]; DB
 *                   post-processing (qb_ocr_det.h); F1 at IoU >= 0.5 (primary),
 *                   precision and recall against ground-truth boxes.
 *   outputs         no labels: every output of the quantized model against the fp32
 *                   model's (SQNR, cosine, max error, argmax agreement per output);
 *                   primary = argmax agreement of output 0 (the last dimension's
 *                   argmax per position), so any ONNX model sweeps with an input .npy.
 * The primary metric is a percentage, higher is better; the sweep writes it as the
 * `accuracy` rows (its `drop` is fp32 minus quantized, pp) and names it in a
 * `task_metric` row (value = the task's code, unit = qb_task_metric_short).
 *
 * Label files: classification / ocr-cls an .npy of class indices; ocr-rec a UTF-8
 * text file, one line per sample; ocr-det a text file, one line per sample holding
 * 4k numbers "x0 y0 x1 y1 ..." (input pixels, x0 <= x1, y0 <= y1; empty = no text).
 *
 * Evaluation keeps, per sample, only what the metric needs (qb_task_width values):
 * the output itself for classification / ocr-cls / outputs (every output,
 * concatenated), the argmax class per time step for ocr-rec, the DB boxes for
 * ocr-det (at most QB_TASK_DET_MAX_BOXES per sample). */
#ifndef QB_TASK_H
#define QB_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "qb_error.h"
#include "qb_metrics.h"
#include "qb_model.h"
#include "qb_ocr_det.h"
#include "qb_ocr_text.h"

typedef enum {
  QB_TASK_CLASSIFICATION,
  QB_TASK_OCR_CLS,
  QB_TASK_OCR_REC,
  QB_TASK_OCR_DET,
  QB_TASK_OUTPUTS,
  QB_TASK_COUNT
} qb_task;

enum { QB_TASK_DET_MAX_BOXES = 64, QB_TASK_MAX_OUTPUTS = 8 };

/* "classification", "ocr-cls", "ocr-rec", "ocr-det", "outputs". */
const char* qb_task_name(qb_task t);
int qb_task_parse(const char* text, qb_task* out);
/* The primary metric in words ("exact-match line accuracy (CTC greedy)") and as a
 * short label ("exact-match"), as reports print them. */
const char* qb_task_metric(qb_task t);
const char* qb_task_metric_short(qb_task t);
/* Whether the task reads a labels file (all but outputs). */
int qb_task_needs_labels(qb_task t);

typedef struct {
  size_t count;
  char** texts;       /* ocr-rec: count lines */
  qb_box* boxes;      /* ocr-det: boxes of sample i = boxes[first[i] .. first[i + 1]) */
  size_t* first;      /* count + 1 */
} qb_task_labels;

/* ocr-rec / ocr-det label files (above); count = the samples the data holds (the
 * file must have exactly that many lines). */
int qb_task_labels_load(qb_task t, const char* path, size_t count, qb_task_labels* out,
                        qb_error* err);
void qb_task_labels_free(qb_task_labels* l);

/* The scoring context of one model. */
typedef struct {
  qb_task task;
  qb_ocr_dict dict;          /* ocr-rec (owned) */
  qb_db_params db;           /* ocr-det */
  size_t noutputs;           /* outputs: per-sample values of each output */
  size_t output_numel[QB_TASK_MAX_OUTPUTS];
  size_t output_last[QB_TASK_MAX_OUTPUTS]; /* last dimension (argmax axis) */
  char output_name[QB_TASK_MAX_OUTPUTS][64];
} qb_task_ctx;

/* Sets up the context for model m, prepared for a batch (output shapes known);
 * dictionary: the ocr-rec dictionary file (else unused). */
int qb_task_ctx_init(qb_task_ctx* c, qb_task t, const qb_model* m, const char* dictionary,
                     qb_error* err);
void qb_task_ctx_free(qb_task_ctx* c);

/* Values kept per sample for model m prepared for n samples; 0 on a shape the task
 * cannot read (qb_task_reduce then fails with the reason). */
size_t qb_task_width(const qb_task_ctx* c, const qb_model* m, size_t n);
/* After a run of n samples: what is kept of them into dst (n x width). */
int qb_task_reduce(const qb_task_ctx* c, const qb_model* m, size_t n, float* dst, qb_error* err);

typedef struct {
  double score;              /* primary metric, % */
  double cer;                /* ocr-rec: character error rate, % (NaN otherwise) */
  double precision, recall;  /* ocr-det, % (NaN otherwise) */
} qb_task_score;

/* Scores kept values (count x width) against labels (classes for classification /
 * ocr-cls, labels for ocr-rec / ocr-det); outputs: against fp32 (the reference's kept
 * values, same shape). */
int qb_task_evaluate(const qb_task_ctx* c, const float* kept, size_t count, size_t width,
                     const int32_t* classes, const qb_task_labels* labels,
                     const float* fp32_kept, qb_task_score* out, qb_error* err);
/* % of samples whose task prediction equals the fp32 model's: top-1 (classification,
 * ocr-cls, outputs: argmax of output 0 per position, all equal), the decoded line
 * (ocr-rec), the box set (ocr-det: as many boxes, all matched one to one at IoU >= 0.5). */
double qb_task_agreement(const qb_task_ctx* c, const float* a, const float* b, size_t count,
                         size_t width);

/* outputs: output k of kept values against the fp32 ones (count samples): error
 * metrics over all its values and the % of samples whose argmax agrees at every
 * position of its last dimension. */
int qb_task_output_metrics(const qb_task_ctx* c, const float* kept, const float* fp32_kept,
                           size_t count, size_t width, size_t k, qb_error_metrics* m,
                           double* agreement, qb_error* err);

/* Decoded text of one ocr-rec sample's kept values (steps classes). */
long qb_task_rec_text(const qb_task_ctx* c, const float* kept, size_t width, char* out, size_t size);

#endif
