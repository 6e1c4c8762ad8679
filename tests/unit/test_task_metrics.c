/* Task post-processing and metrics against hand-worked cases: CTC greedy decoding,
 * dictionaries, edit distance and CER, IoU, one-to-one box matching and F1, DB
 * post-processing, and the task scores built on them (qb_task.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_ocr_det.h"
#include "qb_ocr_text.h"
#include "qb_task.h"
#include "qb_test.h"

#define NEAR(a, b) (fabs((a) - (b)) <= 1e-9 * (1.0 + fabs(b)))

/* A dictionary file with the given lines; returns its path (static buffer). */
static const char* dict_file(const char* text) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/qb_test_dict_XXXXXX");
  const int fd = mkstemp(path);
  QB_CHECK(fd >= 0);
  if (fd >= 0) {
    QB_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
  }
  return path;
}

/* probs[t] = one-hot of cls[t] over `classes`. */
static void one_hot(const size_t* cls, size_t steps, size_t classes, float* probs) {
  memset(probs, 0, steps * classes * sizeof *probs);
  for (size_t t = 0; t < steps; t++) probs[t * classes + cls[t]] = 1.0f;
}

static void test_ctc(void) {
  qb_error err;
  qb_ocr_dict d;
  const char* path = dict_file("a\nb\r\nc\n");
  /* 3 entries: 4 classes = blank + 3, 5 classes = blank + 3 + space. */
  QB_CHECK(qb_ocr_dict_load_for(path, 4, &d, &err) == 0 && d.count == 3);
  qb_ocr_dict_free(&d);
  QB_CHECK(qb_ocr_dict_load_for(path, 7, &d, &err) != 0 && strstr(err.msg, "3 entries"));
  QB_CHECK(qb_ocr_dict_load_for(path, 5, &d, &err) == 0 && d.count == 4);
  QB_CHECK(!strcmp(d.entries[1], "b") && !strcmp(d.entries[3], " "));
  QB_CHECK(qb_ocr_dict_find(&d, "c", 1) == 3 && qb_ocr_dict_find(&d, "x", 1) == -1);
  /* a a _ a b b ' ' _ c: repeats merge, a blank separates the second a -> "aab c". */
  const size_t cls[] = {1, 1, 0, 1, 2, 2, 4, 0, 3};
  float probs[9 * 5];
  one_hot(cls, 9, 5, probs);
  char out[32];
  QB_CHECK(qb_ctc_greedy_decode(probs, 9, 5, &d, out, sizeof out) == 5 && !strcmp(out, "aab c"));
  QB_CHECK(qb_ctc_decode_classes(cls, 9, &d, out, sizeof out) == 5 && !strcmp(out, "aab c"));
  /* Ties go to the lowest class: all-equal scores are the blank -> "". */
  float flat[3 * 5];
  for (size_t i = 0; i < 15; i++) flat[i] = 0.2f;
  QB_CHECK(qb_ctc_greedy_decode(flat, 3, 5, &d, out, sizeof out) == 0 && !strcmp(out, ""));
  /* Truncation keeps whole entries and the NUL. */
  QB_CHECK(qb_ctc_decode_classes(cls, 9, &d, out, 3) == 2 && !strcmp(out, "aa"));
  /* A class beyond the dictionary. */
  const size_t bad[] = {1, 5};
  QB_CHECK(qb_ctc_decode_classes(bad, 2, &d, out, sizeof out) == -1);
  qb_ocr_dict_free(&d);
  QB_CHECK(qb_ocr_dict_load(dict_file("a\n\nb\n"), 0, &d, &err) != 0 && strstr(err.msg, ":2: empty"));
  unlink(path);
}

static void test_edit_distance(void) {
  QB_CHECK(qb_edit_distance_utf8("kitten", "sitting") == 3);
  QB_CHECK(qb_edit_distance_utf8("flaw", "lawn") == 2);
  QB_CHECK(qb_edit_distance_utf8("", "abc") == 3 && qb_edit_distance_utf8("abc", "") == 3);
  QB_CHECK(qb_edit_distance_utf8("same", "same") == 0);
  /* Code points, not bytes: e-acute is 2 bytes, one substitution. */
  QB_CHECK(qb_edit_distance_utf8("h\xc3\xa9llo", "hello") == 1);
  QB_CHECK(qb_utf8_length("h\xc3\xa9llo") == 5 && qb_utf8_length("\xe4\xb8\xad\xe6\x96\x87") == 2);
  /* An invalid byte is one U+FFFD. */
  QB_CHECK(qb_utf8_length("a\xff" "b") == 3);
}

static void test_iou_f1(void) {
  const qb_box a = {0, 0, 10, 10}, b = {5, 0, 15, 10}, far = {20, 20, 30, 30};
  QB_CHECK(NEAR(qb_box_iou(&a, &b), 50.0 / 150.0));
  QB_CHECK(qb_box_iou(&a, &far) == 0 && NEAR(qb_box_iou(&a, &a), 1.0));
  const qb_box empty = {3, 3, 3, 8};
  QB_CHECK(qb_box_iou(&empty, &empty) == 0);
  qb_error err;
  /* Preds A, B; truths T1 = A (IoU 1), T2 (IoU with B 90/110), T3 far: 2 matches. */
  const qb_box pred[] = {{0, 0, 10, 10}, {20, 0, 30, 10}};
  const qb_box truth[] = {{0, 0, 10, 10}, {21, 0, 31, 10}, {100, 100, 110, 110}};
  qb_det_counts c = {0, 0, 0};
  QB_CHECK(qb_det_match(pred, 2, truth, 3, 0.5, &c, &err) == 0);
  QB_CHECK(c.matched == 2 && c.predicted == 2 && c.truth == 3);
  double p, r, f1;
  qb_det_scores(&c, &p, &r, &f1);
  QB_CHECK(NEAR(p, 1.0) && NEAR(r, 2.0 / 3.0) && NEAR(f1, 0.8));
  /* Two predictions on one truth: one match; the other is a false positive. */
  const qb_box twice[] = {{0, 0, 10, 10}, {1, 0, 10, 10}};
  qb_det_counts d = {0, 0, 0};
  QB_CHECK(qb_det_match(twice, 2, truth, 1, 0.5, &d, &err) == 0 && d.matched == 1);
  /* Below the threshold: IoU 1/3 does not match. */
  qb_det_counts e = {0, 0, 0};
  QB_CHECK(qb_det_match(&b, 1, &a, 1, 0.5, &e, &err) == 0 && e.matched == 0);
  qb_det_scores(&e, &p, &r, &f1);
  QB_CHECK(p == 0 && r == 0 && f1 == 0);
  /* Nothing predicted, nothing to find: P = R = F1 = 1. */
  qb_det_counts z = {0, 0, 0};
  qb_det_scores(&z, &p, &r, &f1);
  QB_CHECK(p == 1 && r == 1 && f1 == 1);
}

static void fill(float* map, size_t w, size_t r0, size_t r1, size_t c0, size_t c1, float v) {
  for (size_t y = r0; y <= r1; y++)
    for (size_t x = c0; x <= c1; x++) map[y * w + x] = v;
}

static void test_db(void) {
  enum { H = 14, W = 22 };
  float map[H * W] = {0};
  /* Text: rows 3..6, cols 2..11 at 0.9. Box through pixel centres 9 x 3; unclip
   * d = 9 * 3 * 1.5 / (2 * (9 + 3)) = 1.6875 -> x 2 - d .. 11 + d, y 3 - d .. 6 + d,
   * rounded: [0, 1, 13, 8]. */
  fill(map, W, 3, 6, 2, 11, 0.9f);
  /* Above thresh 0.3 but its mean 0.5 is below box_thresh 0.6: dropped. */
  fill(map, W, 8, 11, 14, 19, 0.5f);
  /* Too small (2 x 2 pixels: 1 between centres < min_size 3): dropped. */
  fill(map, W, 10, 11, 2, 3, 0.95f);
  /* Below thresh: not foreground at all. */
  fill(map, W, 0, 1, 14, 21, 0.3f);
  const qb_db_params p = qb_db_params_default();
  qb_box boxes[8];
  size_t n = 0;
  qb_error err;
  QB_CHECK(qb_db_postprocess(map, H, W, &p, boxes, 8, &n, &err) == 0);
  QB_CHECK_EQ_INT(n, 1);
  QB_CHECK(boxes[0].x0 == 0 && boxes[0].y0 == 1 && boxes[0].x1 == 13 && boxes[0].y1 == 8);
  /* 8-connectivity: a block at rows 7..9, cols 12..15 touches the text diagonally at
   * (6, 11) -> (7, 12) and overlaps the 0.5 block: one component, rows 3..11 x cols
   * 2..19 (17 x 8 between centres). Its rectangle's mean (36 + 10.8 + 10 + 3.8 = 60.6
   * over 162 pixels, the small blob inside it included) is 0.374: dropped at 0.6, kept
   * at 0.2 with d = 17 * 8 * 1.5 / 50 = 4.08 -> [-2.08, -1.08, 23.08, 15.08] rounded
   * and clipped to the map: [0, 0, 22, 14]. */
  fill(map, W, 7, 9, 12, 15, 0.9f);
  QB_CHECK(qb_db_postprocess(map, H, W, &p, boxes, 8, &n, &err) == 0 && n == 0);
  qb_db_params lax = p;
  lax.box_thresh = 0.2f;
  QB_CHECK(qb_db_postprocess(map, H, W, &lax, boxes, 8, &n, &err) == 0);
  QB_CHECK_EQ_INT(n, 1);
  QB_CHECK(boxes[0].x0 == 0 && boxes[0].y0 == 0 && boxes[0].x1 == W && boxes[0].y1 == H);
  /* Clipping at the map's edges. */
  float edge[H * W] = {0};
  fill(edge, W, 0, 13, 0, 21, 0.8f);
  QB_CHECK(qb_db_postprocess(edge, H, W, &p, boxes, 8, &n, &err) == 0 && n == 1);
  QB_CHECK(boxes[0].x0 == 0 && boxes[0].y0 == 0 && boxes[0].x1 == W && boxes[0].y1 == H);
}

/* qb_task_evaluate on kept values: rec exact match and CER, det F1, classification. */
static void test_task_scores(void) {
  qb_error err;
  qb_task_ctx c;
  memset(&c, 0, sizeof c);
  c.task = QB_TASK_OCR_REC;
  const char* path = dict_file("a\nb\nc\n");
  QB_CHECK(qb_ocr_dict_load(path, 1, &c.dict, &err) == 0);
  unlink(path);
  /* Two samples of 4 steps (kept = argmax classes): "ab" and "cc" (c _ c). */
  const float kept[8] = {1, 2, 2, 0, 3, 0, 3, 0};
  char* texts[2] = {"ab", "acc"};
  qb_task_labels l = {2, texts, NULL, NULL};
  qb_task_score s;
  QB_CHECK(qb_task_evaluate(&c, kept, 2, 4, NULL, &l, NULL, &s, &err) == 0);
  /* exact 1 of 2; distances 0 + 1 over 2 + 3 reference characters. */
  QB_CHECK(NEAR(s.score, 50.0) && NEAR(s.cer, 20.0));
  const float other[8] = {1, 2, 0, 0, 3, 3, 3, 3}; /* "ab", "c" */
  QB_CHECK(NEAR(qb_task_agreement(&c, kept, other, 2, 4), 50.0));
  qb_ocr_dict_free(&c.dict);

  c.task = QB_TASK_OCR_DET;
  float det[2 * (1 + 4 * QB_TASK_DET_MAX_BOXES)] = {0};
  const size_t w = 1 + 4 * QB_TASK_DET_MAX_BOXES;
  det[0] = 1, det[1] = 0, det[2] = 0, det[3] = 10, det[4] = 10; /* sample 0: one box */
  det[w] = 0;                                                   /* sample 1: none */
  qb_box truth[] = {{0, 0, 10, 10}, {0, 0, 5, 5}};
  size_t first[] = {0, 1, 2};
  qb_task_labels bl = {2, NULL, truth, first};
  QB_CHECK(qb_task_evaluate(&c, det, 2, w, NULL, &bl, NULL, &s, &err) == 0);
  /* 1 match, 1 predicted, 2 truths: P 100, R 50, F1 66.67. */
  QB_CHECK(NEAR(s.precision, 100.0) && NEAR(s.recall, 50.0) && NEAR(s.score, 200.0 / 3.0));
  /* Agreement: a box one pixel off is the same detection; a missing box is not. */
  float moved[2 * (1 + 4 * QB_TASK_DET_MAX_BOXES)];
  memcpy(moved, det, sizeof moved);
  moved[3] = 11;
  QB_CHECK(NEAR(qb_task_agreement(&c, det, moved, 2, w), 100.0));
  moved[w] = 1, moved[w + 1] = 0, moved[w + 2] = 0, moved[w + 3] = 4, moved[w + 4] = 4;
  QB_CHECK(NEAR(qb_task_agreement(&c, det, moved, 2, w), 50.0));

  c.task = QB_TASK_OCR_CLS;
  const float logits[6] = {0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f};
  const int32_t labels[3] = {0, 1, 1};
  QB_CHECK(qb_task_evaluate(&c, logits, 3, 2, labels, NULL, NULL, &s, &err) == 0);
  QB_CHECK(NEAR(s.score, 200.0 / 3.0) && isnan(s.cer));
  QB_CHECK(qb_task_evaluate(&c, logits, 3, 2, NULL, NULL, NULL, &s, &err) != 0);

  qb_task t;
  QB_CHECK(qb_task_parse("ocr-det", &t) == 0 && t == QB_TASK_OCR_DET);
  QB_CHECK(qb_task_parse("detection", &t) != 0);
  QB_CHECK(!strcmp(qb_task_metric_short(QB_TASK_OCR_REC), "exact-match"));
}

/* ocr-det's reduced row is defined past the boxes found (zeros): two reductions of
 * one map into buffers of different garbage are bit-identical (the sweep's exactness
 * probe compares rows with memcmp; it once compared uninitialized slots). */
static void test_det_reduce_row(void) {
  enum { H = 14, W = 22 };
  float map[H * W] = {0};
  fill(map, W, 3, 6, 2, 11, 0.9f);
  qb_value y;
  memset(&y, 0, sizeof y);
  y.ndim = 4, y.dims[0] = 1, y.dims[1] = 1, y.dims[2] = H, y.dims[3] = W;
  y.numel = H * W, y.data = map;
  int out0 = 0;
  qb_model m;
  memset(&m, 0, sizeof m);
  m.values = &y, m.nvalues = 1, m.outputs = &out0, m.noutputs = 1;
  qb_task_ctx c;
  memset(&c, 0, sizeof c);
  c.task = QB_TASK_OCR_DET;
  c.db = qb_db_params_default();
  const size_t w = qb_task_width(&c, &m, 1);
  float* a = malloc(w * sizeof *a);
  float* b = malloc(w * sizeof *b);
  QB_CHECK(a && b);
  if (!a || !b) return free(a), free(b);
  for (size_t i = 0; i < w; i++) a[i] = NAN, b[i] = 1e13f;
  qb_error err;
  QB_CHECK(qb_task_reduce(&c, &m, 1, a, &err) == 0 && qb_task_reduce(&c, &m, 1, b, &err) == 0);
  QB_CHECK(a[0] == 1.0f);
  QB_CHECK_MSG(!memcmp(a, b, w * sizeof *a), "ocr-det rows differ past their boxes");
  free(a), free(b);
}

static void test_label_files(void) {
  qb_error err;
  qb_task_labels l;
  const char* p = dict_file("hello world\r\n\nabc\n");
  QB_CHECK(qb_task_labels_load(QB_TASK_OCR_REC, p, 3, &l, &err) == 0);
  QB_CHECK(!strcmp(l.texts[0], "hello world") && !strcmp(l.texts[1], "") && !strcmp(l.texts[2], "abc"));
  qb_task_labels_free(&l);
  QB_CHECK(qb_task_labels_load(QB_TASK_OCR_REC, p, 4, &l, &err) != 0 && strstr(err.msg, "3 lines for 4"));
  unlink(p);
  p = dict_file("1 2 3 4 5 6 7 8\n\n0 0 1 1\n");
  QB_CHECK(qb_task_labels_load(QB_TASK_OCR_DET, p, 3, &l, &err) == 0);
  QB_CHECK(l.first[1] == 2 && l.first[2] == 2 && l.first[3] == 3 && l.boxes[1].x0 == 5);
  qb_task_labels_free(&l);
  unlink(p);
  p = dict_file("1 2 3\n");
  QB_CHECK(qb_task_labels_load(QB_TASK_OCR_DET, p, 1, &l, &err) != 0 && strstr(err.msg, ":1: box coordinates"));
  unlink(p);
  p = dict_file("5 2 3 4\n");
  QB_CHECK(qb_task_labels_load(QB_TASK_OCR_DET, p, 1, &l, &err) != 0 && strstr(err.msg, "x0 > x1"));
  unlink(p);
}

int main(void) {
  test_ctc();
  test_edit_distance();
  test_iou_f1();
  test_db();
  test_task_scores();
  test_det_reduce_row();
  test_label_files();
  return qb_test_finish("test_task_metrics");
}
