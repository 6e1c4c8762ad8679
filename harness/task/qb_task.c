/* Tasks: what is kept of a model's outputs and how it is scored (see qb_task.h). */
#include "qb_task.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_file.h"
#include "qb_metrics.h"

static const char* const names[QB_TASK_COUNT] = {"classification", "ocr-cls", "ocr-rec", "ocr-det",
                                                 "outputs"};
static const char* const metrics[QB_TASK_COUNT] = {
    "top-1 accuracy", "orientation top-1 accuracy (0 / 180 degrees)",
    "exact-match line accuracy (CTC greedy decoding)", "F1 at IoU >= 0.5 (DB post-processing)",
    "argmax agreement with fp32 (output 0, every position)"};
static const char* const shorts[QB_TASK_COUNT] = {"top-1", "top-1", "exact-match", "F1",
                                                  "agreement"};

const char* qb_task_name(qb_task t) { return t < QB_TASK_COUNT ? names[t] : "?"; }
const char* qb_task_metric(qb_task t) { return t < QB_TASK_COUNT ? metrics[t] : "?"; }
const char* qb_task_metric_short(qb_task t) { return t < QB_TASK_COUNT ? shorts[t] : "?"; }
int qb_task_needs_labels(qb_task t) { return t != QB_TASK_OUTPUTS; }

int qb_task_parse(const char* text, qb_task* out) {
  for (int t = 0; t < QB_TASK_COUNT; t++)
    if (!strcmp(text, names[t])) {
      *out = (qb_task)t;
      return 0;
    }
  return -1;
}

void qb_task_labels_free(qb_task_labels* l) {
  if (l->texts)
    for (size_t i = 0; i < l->count; i++) free(l->texts[i]);
  free(l->texts), free(l->boxes), free(l->first);
  memset(l, 0, sizeof *l);
}

/* Parses "x0 y0 x1 y1 ..." of one line into boxes (grown as needed). */
static int parse_boxes(const char* path, size_t line, char* s, qb_box** boxes, size_t* n,
                       size_t* cap, qb_error* err) {
  float v[4];
  int k = 0;
  for (char* tok = strtok(s, " \t,"); tok; tok = strtok(NULL, " \t,")) {
    char* end;
    v[k] = strtof(tok, &end);
    if (*end || !isfinite(v[k])) return qb_fail(err, "%s:%zu: '%.40s' is not a number", path, line, tok);
    if (++k < 4) continue;
    k = 0;
    if (v[0] > v[2] || v[1] > v[3])
      return qb_fail(err, "%s:%zu: box %g %g %g %g has x0 > x1 or y0 > y1", path, line, v[0], v[1],
                     v[2], v[3]);
    if (*n == *cap) {
      const size_t nc = *cap ? 2 * *cap : 256;
      qb_box* b = realloc(*boxes, nc * sizeof *b);
      if (!b) return qb_fail(err, "%s: out of memory", path);
      *boxes = b, *cap = nc;
    }
    (*boxes)[(*n)++] = (qb_box){v[0], v[1], v[2], v[3]};
  }
  return k ? qb_fail(err, "%s:%zu: box coordinates come in fours (x0 y0 x1 y1)", path, line) : 0;
}

int qb_task_labels_load(qb_task t, const char* path, size_t count, qb_task_labels* out,
                        qb_error* err) {
  memset(out, 0, sizeof *out);
  if (t != QB_TASK_OCR_REC && t != QB_TASK_OCR_DET)
    return qb_fail(err, "task %s has no text labels file", qb_task_name(t));
  char* text = NULL;
  size_t len = 0;
  if (qb_file_read_all(path, QB_INPUT_MAX_BYTES, &text, &len, err)) return -1;
  out->count = count;
  size_t nbox = 0, cap = 0, line = 0;
  if (t == QB_TASK_OCR_REC) out->texts = calloc(count ? count : 1, sizeof *out->texts);
  else out->first = calloc(count + 1, sizeof *out->first);
  if (!out->texts && !out->first) goto oom;
  for (size_t i = 0; i < len; line++) {
    size_t j = i;
    while (j < len && text[j] != '\n') j++;
    const size_t end = j > i && text[j - 1] == '\r' ? j - 1 : j;
    text[end] = 0;
    if (line >= count) break;
    if (t == QB_TASK_OCR_REC) {
      if (!(out->texts[line] = strdup(text + i))) goto oom;
    } else {
      if (parse_boxes(path, line + 1, text + i, &out->boxes, &nbox, &cap, err)) goto fail;
      out->first[line + 1] = nbox;
    }
    i = j + 1;
  }
  if (line != count) {
    qb_fail(err, "%s: %s%zu lines for %zu samples", path, line > count ? "more than " : "", line, count);
    goto fail;
  }
  free(text);
  return 0;
oom:
  qb_fail(err, "%s: out of memory", path);
fail:
  free(text);
  qb_task_labels_free(out);
  return -1;
}

void qb_task_ctx_free(qb_task_ctx* c) {
  qb_ocr_dict_free(&c->dict);
  memset(c, 0, sizeof *c);
}

int qb_task_ctx_init(qb_task_ctx* c, qb_task t, const qb_model* m, const char* dictionary,
                     qb_error* err) {
  memset(c, 0, sizeof *c);
  c->task = t;
  c->db = qb_db_params_default();
  const size_t n = m->batch ? m->batch : 1;
  const qb_value* y = qb_model_output(m, 0);
  if (t == QB_TASK_OCR_REC) {
    if (y->ndim != 3) return qb_fail(err, "ocr-rec: output 0 has %d dimensions, expected [N, T, C]", y->ndim);
    if (!dictionary || !*dictionary) return qb_fail(err, "ocr-rec needs the model's dictionary file");
    return qb_ocr_dict_load_for(dictionary, y->dims[2], &c->dict, err);
  }
  if (t == QB_TASK_OCR_DET && (y->ndim != 4 || y->dims[1] != 1))
    return qb_fail(err, "ocr-det: output 0 is not a probability map [N, 1, H, W]");
  if (t == QB_TASK_OUTPUTS) {
    if (m->noutputs > QB_TASK_MAX_OUTPUTS)
      return qb_fail(err, "outputs: %zu outputs, at most %d", m->noutputs, QB_TASK_MAX_OUTPUTS);
    c->noutputs = m->noutputs;
    for (size_t k = 0; k < m->noutputs; k++) {
      const qb_value* v = qb_model_output(m, k);
      c->output_numel[k] = v->numel / n;
      c->output_last[k] = v->ndim > 1 ? v->dims[v->ndim - 1] : 1;
      snprintf(c->output_name[k], sizeof c->output_name[k], "%s", v->name);
    }
  }
  return 0;
}

size_t qb_task_width(const qb_task_ctx* c, const qb_model* m, size_t n) {
  const qb_value* y = qb_model_output(m, 0);
  switch (c->task) {
    case QB_TASK_OCR_REC: return y->ndim == 3 ? y->dims[1] : 0;
    case QB_TASK_OCR_DET: return 1 + 4 * (size_t)QB_TASK_DET_MAX_BOXES;
    case QB_TASK_OUTPUTS: {
      size_t w = 0;
      for (size_t k = 0; k < c->noutputs; k++) w += c->output_numel[k];
      return w;
    }
    default: return n ? y->numel / n : 0;
  }
}

int qb_task_reduce(const qb_task_ctx* c, const qb_model* m, size_t n, float* dst, qb_error* err) {
  const qb_value* y = qb_model_output(m, 0);
  const size_t width = qb_task_width(c, m, n);
  if (!width) return qb_fail(err, "%s: output 0 has a shape the task cannot read", qb_task_name(c->task));
  if (c->task == QB_TASK_OCR_REC) {
    const size_t steps = y->dims[1], classes = y->dims[2];
    for (size_t i = 0; i < n * steps; i++) dst[i] = (float)qb_argmax(y->data + i * classes, classes);
    return 0;
  }
  if (c->task == QB_TASK_OCR_DET) {
    const size_t h = y->dims[2], w = y->dims[3];
    for (size_t i = 0; i < n; i++) {
      float* d = dst + i * width;
      /* The whole row defined (slots past the boxes found are 0): rows are compared
       * bit for bit (the sweep's exactness probe), not only read up to d[0] boxes. */
      memset(d, 0, width * sizeof *d);
      size_t nb = 0;
      if (qb_db_postprocess(y->data + i * h * w, h, w, &c->db, (qb_box*)(void*)(d + 1),
                            QB_TASK_DET_MAX_BOXES, &nb, err))
        return -1;
      d[0] = (float)(nb < QB_TASK_DET_MAX_BOXES ? nb : QB_TASK_DET_MAX_BOXES);
    }
    return 0;
  }
  if (c->task == QB_TASK_OUTPUTS) {
    size_t off = 0;
    for (size_t k = 0; k < c->noutputs; k++) {
      const qb_value* v = qb_model_output(m, k);
      const size_t per = c->output_numel[k];
      if (v->numel != n * per) return qb_fail(err, "outputs: output %zu changed size", k);
      for (size_t i = 0; i < n; i++) memcpy(dst + i * width + off, v->data + i * per, per * sizeof *dst);
      off += per;
    }
    return 0;
  }
  memcpy(dst, y->data, n * width * sizeof *dst);
  return 0;
}

long qb_task_rec_text(const qb_task_ctx* c, const float* kept, size_t width, char* out, size_t size) {
  size_t cls[1024] = {0};
  const size_t steps = width < 1024 ? width : 1024;
  for (size_t t = 0; t < steps; t++) cls[t] = (size_t)kept[t];
  return qb_ctc_decode_classes(cls, steps, &c->dict, out, size);
}

/* Boxes kept for one ocr-det sample. */
static const qb_box* det_boxes(const float* kept, size_t* n) {
  *n = (size_t)kept[0];
  return (const qb_box*)(const void*)(kept + 1);
}

/* Argmax of every position of output 0 (its last dimension) equal in a and b. */
static int positions_agree(const qb_task_ctx* c, const float* a, const float* b, size_t width) {
  const size_t per = c->task == QB_TASK_OUTPUTS ? c->output_numel[0] : width;
  const size_t last = c->task == QB_TASK_OUTPUTS ? c->output_last[0] : width;
  for (size_t off = 0; last && off + last <= per; off += last)
    if (qb_argmax(a + off, last) != qb_argmax(b + off, last)) return 0;
  return 1;
}

static int sample_agrees(const qb_task_ctx* c, const float* a, const float* b, size_t width) {
  if (c->task == QB_TASK_OCR_REC) {
    char ta[1024], tb[1024];
    qb_task_rec_text(c, a, width, ta, sizeof ta);
    qb_task_rec_text(c, b, width, tb, sizeof tb);
    return !strcmp(ta, tb);
  }
  if (c->task == QB_TASK_OCR_DET) {
    /* The same text found: the two box sets match one to one at IoU >= 0.5 (boxes a
     * pixel apart are the same detection; exact coordinates would call them different). */
    size_t na, nb;
    const qb_box* ba = det_boxes(a, &na);
    const qb_box* bb = det_boxes(b, &nb);
    qb_det_counts k = {0, 0, 0};
    qb_error err;
    if (na != nb || qb_det_match(ba, na, bb, nb, 0.5, &k, &err)) return 0;
    return k.matched == na;
  }
  return positions_agree(c, a, b, width);
}

double qb_task_agreement(const qb_task_ctx* c, const float* a, const float* b, size_t count,
                         size_t width) {
  size_t same = 0;
  for (size_t i = 0; i < count; i++) same += sample_agrees(c, a + i * width, b + i * width, width);
  return count ? 100.0 * (double)same / (double)count : NAN;
}

static int score_rec(const qb_task_ctx* c, const float* kept, size_t count, size_t width,
                     const qb_task_labels* l, qb_task_score* out, qb_error* err) {
  size_t exact = 0, ref_len = 0;
  double dist = 0;
  char text[1024];
  for (size_t i = 0; i < count; i++) {
    if (qb_task_rec_text(c, kept + i * width, width, text, sizeof text) < 0)
      return qb_fail(err, "ocr-rec: a class outside the dictionary won");
    const long d = qb_edit_distance_utf8(text, l->texts[i]);
    if (d < 0) return qb_fail(err, "out of memory (edit distance)");
    exact += d == 0;
    dist += (double)d;
    ref_len += qb_utf8_length(l->texts[i]);
  }
  out->score = 100.0 * (double)exact / (double)count;
  out->cer = ref_len ? 100.0 * dist / (double)ref_len : NAN;
  return 0;
}

static int score_det(const float* kept, size_t count, size_t width, const qb_task_labels* l,
                     qb_task_score* out, qb_error* err) {
  qb_det_counts acc = {0, 0, 0};
  for (size_t i = 0; i < count; i++) {
    size_t np;
    const qb_box* pred = det_boxes(kept + i * width, &np);
    if (qb_det_match(pred, np, l->boxes + l->first[i], l->first[i + 1] - l->first[i], 0.5, &acc,
                     err))
      return -1;
  }
  double p, r, f1;
  qb_det_scores(&acc, &p, &r, &f1);
  out->score = 100 * f1, out->precision = 100 * p, out->recall = 100 * r;
  return 0;
}

int qb_task_evaluate(const qb_task_ctx* c, const float* kept, size_t count, size_t width,
                     const int32_t* classes, const qb_task_labels* labels,
                     const float* fp32_kept, qb_task_score* out, qb_error* err) {
  out->score = out->cer = out->precision = out->recall = NAN;
  if (count == 0) return qb_fail(err, "no samples to score");
  switch (c->task) {
    case QB_TASK_OCR_REC:
      if (!labels || !labels->texts) return qb_fail(err, "ocr-rec needs text labels");
      return score_rec(c, kept, count, width, labels, out, err);
    case QB_TASK_OCR_DET:
      if (!labels || !labels->first) return qb_fail(err, "ocr-det needs box labels");
      return score_det(kept, count, width, labels, out, err);
    case QB_TASK_OUTPUTS:
      if (!fp32_kept) return qb_fail(err, "outputs: no fp32 reference");
      out->score = qb_task_agreement(c, kept, fp32_kept, count, width);
      return 0;
    default: {
      if (!classes) return qb_fail(err, "%s needs integer labels", qb_task_name(c->task));
      size_t correct = 0;
      for (size_t i = 0; i < count; i++)
        correct += classes[i] >= 0 && qb_argmax(kept + i * width, width) == (size_t)classes[i];
      out->score = 100.0 * (double)correct / (double)count;
      return 0;
    }
  }
}

int qb_task_output_metrics(const qb_task_ctx* c, const float* kept, const float* fp32_kept,
                           size_t count, size_t width, size_t k, qb_error_metrics* m,
                           double* agreement, qb_error* err) {
  if (k >= c->noutputs) return qb_fail(err, "outputs: no output %zu", k);
  size_t off = 0;
  for (size_t j = 0; j < k; j++) off += c->output_numel[j];
  const size_t per = c->output_numel[k], last = c->output_last[k];
  const size_t total = count * per > 0 ? count * per : 1;
  float* a = calloc(total, sizeof *a);
  float* b = calloc(total, sizeof *b);
  if (!a || !b) {
    free(a), free(b);
    return qb_fail(err, "out of memory (output metrics)");
  }
  size_t same = 0;
  for (size_t i = 0; i < count; i++) {
    memcpy(a + i * per, kept + i * width + off, per * sizeof *a);
    memcpy(b + i * per, fp32_kept + i * width + off, per * sizeof *b);
    int all = 1;
    for (size_t o = 0; last && o + last <= per && all; o += last)
      all = qb_argmax(a + i * per + o, last) == qb_argmax(b + i * per + o, last);
    same += all;
  }
  const int rc = qb_metrics_compute(b, a, count * per, m, err);
  free(a), free(b);
  *agreement = count ? 100.0 * (double)same / (double)count : NAN;
  return rc;
}
