/* Range strategies: how the float interval [min, max] handed to
 * qb_qparams_from_range is chosen from observed values.
 *
 *   minmax          min(x), max(x)
 *   movavg          moving-average min-max over calibration batches (PyTorch's
 *                   MovingAverageMinMaxObserver): the first batch sets the range,
 *                   each later batch b moves it: r <- r + c * (r_b - r), c = 0.01.
 *                   A single tensor is fed as `batches` equal consecutive chunks.
 *   percentile:P    [q(100 - P), q(P)] of the values, q = linear-interpolated
 *                   quantile (numpy's default), both tails clipped. P in (50, 100].
 *   mse             grid search over clipping ranges alpha * [min, max],
 *                   alpha = i / grid (i = grid .. 1), keeping the alpha whose
 *                   fake-quantized values have the lowest mean squared error;
 *                   ties keep the widest range. alpha = 1 is min-max itself, so the
 *                   result is never worse than min-max in MSE.
 *   entropy         TensorRT's KL calibration: a 2048-bin histogram of |x|; for
 *                   each threshold T (a bin edge), P = histogram clipped to T with
 *                   the tail folded into the last bin, Q = P merged into as many
 *                   bins as the grid has levels on that side and expanded back over
 *                   P's non-empty bins; T minimizes KL(P || Q), T >= amax / 16.
 *                   As NVIDIA's calibrator, the zero bin takes its neighbour's count
 *                   (ReLU zeros are exact on every grid). Range [-T, T] intersected
 *                   with [min, max] (so all-non-negative data gives [0, T]).
 *   crossentropy    for logits: choose alpha as for mse, minimizing the mean over
 *                   rows of the cross-entropy H(softmax(x), softmax(fq(x))) along
 *                   rows of `row_len` consecutive values.
 */
#ifndef QB_RANGE_H
#define QB_RANGE_H

#include <stddef.h>

#include "qb_error.h"
#include "qb_qparams.h"

typedef enum {
  QB_RANGE_MINMAX,
  QB_RANGE_MOVAVG,
  QB_RANGE_PERCENTILE,
  QB_RANGE_MSE,
  QB_RANGE_ENTROPY,
  QB_RANGE_CROSSENTROPY,
} qb_range_kind;

typedef struct {
  qb_range_kind kind;
  double percentile;      /* percentile: P in (50, 100] */
  float movavg_constant;  /* movavg: c, default 0.01 */
  int movavg_batches;     /* movavg: chunks a single tensor is split into, default 8 */
  int grid;               /* mse / crossentropy: number of alphas, default 100 */
  int histogram_bins;     /* entropy: default 2048 */
} qb_range_strategy;

/* Defaults for a kind (as listed above). */
qb_range_strategy qb_range_default(qb_range_kind kind);

/* Parse "minmax", "movavg", "percentile:99.9", "mse", "entropy", "crossentropy". */
int qb_range_parse(const char* text, qb_range_strategy* out, qb_error* err);

/* "percentile:99.99" etc.: the same text qb_range_parse accepts. */
const char* qb_range_str(const qb_range_strategy* r, char* buf, unsigned len);

/* Choose [min, max] for the n values x, to be quantized with scheme s. All values
 * must be finite and n > 0 (the caller checks). row_len is used by crossentropy
 * only: n must be a multiple of it (0 means one row of n). */
int qb_range_choose(const qb_range_strategy* r, const qb_qscheme* s, const float* x, size_t n,
                    size_t row_len, float* min, float* max, qb_error* err);

#endif
