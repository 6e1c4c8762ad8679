/* DB post-processing, IoU, precision / recall / F1 (see qb_ocr_det.h). */
#include "qb_ocr_det.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

qb_db_params qb_db_params_default(void) { return (qb_db_params){0.3f, 0.6f, 1.5f, 3.0f, 1000}; }

typedef struct {
  size_t r0, r1, c0, c1; /* inclusive */
} span;

/* Flood-fills the component of (r, c) over fg, clearing it; returns its extent. */
static span fill(uint8_t* fg, size_t h, size_t w, size_t r, size_t c, size_t* stack) {
  span s = {r, r, c, c};
  size_t top = 0;
  stack[top++] = r * w + c;
  fg[r * w + c] = 0;
  while (top) {
    const size_t at = stack[--top], y = at / w, x = at % w;
    if (y < s.r0) s.r0 = y;
    if (y > s.r1) s.r1 = y;
    if (x < s.c0) s.c0 = x;
    if (x > s.c1) s.c1 = x;
    for (int dy = -1; dy <= 1; dy++)
      for (int dx = -1; dx <= 1; dx++) {
        if ((dy < 0 && y == 0) || (dy > 0 && y + 1 == h) || (dx < 0 && x == 0) ||
            (dx > 0 && x + 1 == w))
          continue;
        const size_t n = (y + (size_t)(ptrdiff_t)dy) * w + x + (size_t)(ptrdiff_t)dx;
        if (fg[n]) fg[n] = 0, stack[top++] = n; /* each pixel pushed once: stack <= h*w */
      }
  }
  return s;
}

static double mean_over(const float* prob, size_t w, const span* s) {
  double sum = 0;
  for (size_t y = s->r0; y <= s->r1; y++)
    for (size_t x = s->c0; x <= s->c1; x++) sum += prob[y * w + x];
  return sum / (double)((s->r1 - s->r0 + 1) * (s->c1 - s->c0 + 1));
}

static float clampf(float v, float hi) { return v < 0 ? 0 : v > hi ? hi : v; }

/* Steps 3-5 for one component; 1 when it gives a box. */
static int component_box(const float* prob, size_t h, size_t w, const qb_db_params* p,
                         const span* s, qb_box* out) {
  const double bw = (double)(s->c1 - s->c0), bh = (double)(s->r1 - s->r0);
  if ((bw < bh ? bw : bh) < p->min_size) return 0;
  if (mean_over(prob, w, s) < p->box_thresh) return 0;
  const double d = bw * bh * p->unclip_ratio / (2 * (bw + bh));
  if ((bw < bh ? bw : bh) + 2 * d < p->min_size + 2) return 0;
  out->x0 = clampf((float)round((double)s->c0 - d), (float)w);
  out->x1 = clampf((float)round((double)s->c1 + d), (float)w);
  out->y0 = clampf((float)round((double)s->r0 - d), (float)h);
  out->y1 = clampf((float)round((double)s->r1 + d), (float)h);
  return 1;
}

int qb_db_postprocess(const float* prob, size_t h, size_t w, const qb_db_params* p,
                      qb_box* boxes, size_t cap, size_t* n, qb_error* err) {
  *n = 0;
  if (h == 0 || w == 0) return 0;
  uint8_t* fg = malloc(h * w);
  size_t* stack = malloc(h * w * sizeof *stack);
  if (!fg || !stack) {
    free(fg), free(stack);
    return qb_fail(err, "out of memory (DB post-processing of a %zu x %zu map)", h, w);
  }
  for (size_t i = 0; i < h * w; i++) fg[i] = prob[i] > p->thresh;
  size_t candidates = 0;
  for (size_t i = 0; i < h * w && candidates < p->max_candidates; i++) {
    if (!fg[i]) continue;
    const span s = fill(fg, h, w, i / w, i % w, stack);
    candidates++;
    qb_box b;
    if (!component_box(prob, h, w, p, &s, &b)) continue;
    if (*n < cap) boxes[*n] = b;
    (*n)++;
  }
  free(fg), free(stack);
  return 0;
}

double qb_box_iou(const qb_box* a, const qb_box* b) {
  const double iw = fmin(a->x1, b->x1) - fmax(a->x0, b->x0);
  const double ih = fmin(a->y1, b->y1) - fmax(a->y0, b->y0);
  if (iw <= 0 || ih <= 0) return 0;
  const double inter = iw * ih;
  const double ua = (double)(a->x1 - a->x0) * (a->y1 - a->y0) +
                    (double)(b->x1 - b->x0) * (b->y1 - b->y0) - inter;
  return ua > 0 ? inter / ua : 0;
}

typedef struct {
  double iou;
  size_t p, t;
} pair;

static int by_iou_desc(const void* a, const void* b) {
  const pair *x = a, *y = b;
  if (x->iou != y->iou) return x->iou < y->iou ? 1 : -1;
  if (x->p != y->p) return x->p < y->p ? -1 : 1; /* a stable, documented order on ties */
  return x->t < y->t ? -1 : x->t > y->t;
}

int qb_det_match(const qb_box* pred, size_t npred, const qb_box* truth, size_t ntruth,
                 double min_iou, qb_det_counts* acc, qb_error* err) {
  acc->predicted += npred, acc->truth += ntruth;
  if (!npred || !ntruth) return 0;
  pair* pairs = malloc(npred * ntruth * sizeof *pairs);
  uint8_t* used = calloc(npred + ntruth, 1);
  if (!pairs || !used) {
    free(pairs), free(used);
    return qb_fail(err, "out of memory matching %zu x %zu boxes", npred, ntruth);
  }
  size_t np = 0;
  for (size_t i = 0; i < npred; i++)
    for (size_t j = 0; j < ntruth; j++) {
      const double iou = qb_box_iou(&pred[i], &truth[j]);
      if (iou >= min_iou) pairs[np++] = (pair){iou, i, j};
    }
  qsort(pairs, np, sizeof *pairs, by_iou_desc);
  for (size_t k = 0; k < np; k++) {
    if (used[pairs[k].p] || used[npred + pairs[k].t]) continue;
    used[pairs[k].p] = used[npred + pairs[k].t] = 1;
    acc->matched++;
  }
  free(pairs), free(used);
  return 0;
}

void qb_det_scores(const qb_det_counts* c, double* precision, double* recall, double* f1) {
  const double p = c->predicted ? (double)c->matched / (double)c->predicted : 1.0;
  const double r = c->truth ? (double)c->matched / (double)c->truth : 1.0;
  *precision = p, *recall = r;
  *f1 = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}
