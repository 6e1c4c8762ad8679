/* Text detection post-processing and its metrics (task ocr-det).
 *
 * DB (Differentiable Binarization) post-processing as PaddleOCR's DBPostProcess
 * does it for horizontal text, on the model's probability map P [H, W]:
 *   1. binarize: P > thresh (0.3);
 *   2. connected components of the foreground (8-connected, as cv2.findContours'
 *      outer borders), at most max_candidates (1000), in raster order of their first
 *      pixel;
 *   3. each component's box: its bounding rectangle through the pixel centres
 *      (cv2's contour points; width = last column - first column). PaddleOCR takes
 *      cv2.minAreaRect, which for a horizontal line is this rectangle; rotated text
 *      is out of scope here. Shorter side < min_size (3): dropped;
 *   4. score = mean of P over the rectangle's pixels ("fast" mode); < box_thresh
 *      (0.6, PaddleOCR's inference default): dropped;
 *   5. unclip: the shrunk kernel DB predicts is grown back by the distance
 *      d = area * unclip_ratio / perimeter (1.5; pyclipper's round offset, whose
 *      minimum-area rectangle is the box grown by d on every side); shorter side
 *      < min_size + 2: dropped; coordinates rounded and clipped to [0, W] x [0, H].
 *
 * Metrics: boxes match one to one, greedily in order of decreasing IoU, when
 * IoU >= 0.5 (ICDAR 2015's rule); precision = matches / predicted boxes (1 when
 * nothing is predicted), recall = matches / ground-truth boxes (1 when there are
 * none), F1 = 2PR / (P + R) (0 when both are 0). Over a data set the counts are
 * summed before dividing. */
#ifndef QB_OCR_DET_H
#define QB_OCR_DET_H

#include <stddef.h>

#include "qb_error.h"

typedef struct {
  float x0, y0, x1, y1; /* x0 <= x1, y0 <= y1, in input pixels */
} qb_box;

typedef struct {
  float thresh, box_thresh, unclip_ratio, min_size;
  size_t max_candidates;
} qb_db_params;

/* PaddleOCR's inference defaults: 0.3, 0.6, 1.5, 3, 1000. */
qb_db_params qb_db_params_default(void);

/* Boxes of one probability map prob[h * w]; at most cap written to boxes, *n = the
 * count found (may exceed cap: then only cap are kept). -1 when out of memory. */
int qb_db_postprocess(const float* prob, size_t h, size_t w, const qb_db_params* p,
                      qb_box* boxes, size_t cap, size_t* n, qb_error* err);

/* Intersection over union (0 for empty boxes). */
double qb_box_iou(const qb_box* a, const qb_box* b);

typedef struct {
  size_t matched, predicted, truth;
} qb_det_counts;

/* Adds one image's counts: greedy one-to-one matching at IoU >= min_iou. -1 when
 * out of memory. */
int qb_det_match(const qb_box* pred, size_t npred, const qb_box* truth, size_t ntruth,
                 double min_iou, qb_det_counts* acc, qb_error* err);
void qb_det_scores(const qb_det_counts* c, double* precision, double* recall, double* f1);

#endif
