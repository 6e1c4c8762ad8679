/* The OCR data generator (harness/ocrdata): same seed, same bytes; another seed,
 * other samples; sample i independent of the count; labels consistent with the
 * data; calibration texts never evaluation texts. Skipped (77) without the DejaVu
 * fonts or the word list (.ci/deps installs them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qb_file.h"
#include "qb_npy.h"
#include "qb_ocr_synth.h"
#include "qb_test.h"

static char root[64];

static void gen(qb_task task, uint64_t seed, size_t n, size_t nc, const char* name) {
  char dir[160];
  snprintf(dir, sizeof dir, "%s/%s", root, name);
  const qb_ocr_synth_options o = {task, seed, n, nc, NULL, NULL, NULL};
  qb_error err;
  QB_CHECK_MSG(qb_ocr_synth_write(&o, dir, &err) == 0, "%s", err.msg);
}

/* The bytes of root/dir/file (static buffer freed by the next call of the same slot). */
static char* slurp(const char* dir, const char* file, size_t* len, int slot) {
  static char* keep[4];
  char path[256];
  snprintf(path, sizeof path, "%s/%s/%s", root, dir, file);
  free(keep[slot]);
  keep[slot] = NULL;
  qb_error err;
  if (qb_file_read_all(path, 1u << 30, &keep[slot], len, &err)) {
    QB_CHECK_MSG(0, "%s", err.msg);
    *len = 0;
  }
  return keep[slot];
}

static int same_file(const char* a, const char* b, const char* file) {
  size_t la, lb;
  const char* x = slurp(a, file, &la, 0);
  const char* y = slurp(b, file, &lb, 1);
  return x && y && la == lb && !memcmp(x, y, la);
}

static void test_determinism(void) {
  static const char* const files[] = {"eval.npy", "calib.npy", "eval-labels.txt", "calib-labels.txt",
                                      "preprocess.txt"};
  gen(QB_TASK_OCR_REC, 7, 12, 6, "rec-a");
  gen(QB_TASK_OCR_REC, 7, 12, 6, "rec-b");
  gen(QB_TASK_OCR_REC, 8, 12, 6, "rec-c");
  for (size_t i = 0; i < 5; i++) QB_CHECK_MSG(same_file("rec-a", "rec-b", files[i]), "%s differs", files[i]);
  QB_CHECK(!same_file("rec-a", "rec-c", "eval.npy") && !same_file("rec-a", "rec-c", "eval-labels.txt"));
  gen(QB_TASK_OCR_DET, 7, 3, 2, "det-a");
  gen(QB_TASK_OCR_DET, 7, 3, 2, "det-b");
  QB_CHECK(same_file("det-a", "det-b", "eval.npy") && same_file("det-a", "det-b", "eval-labels.txt"));
  gen(QB_TASK_OCR_CLS, 7, 12, 6, "cls-a");
  gen(QB_TASK_OCR_CLS, 7, 12, 6, "cls-b");
  QB_CHECK(same_file("cls-a", "cls-b", "eval.npy") && same_file("cls-a", "cls-b", "eval-labels.npy"));
}

/* The first 6 samples of a 12-sample set are the 6 samples of a 6-sample set. */
static void test_prefix(void) {
  gen(QB_TASK_OCR_REC, 7, 6, 6, "rec-short");
  qb_tensor a, b;
  qb_error err;
  char pa[160], pb[160];
  snprintf(pa, sizeof pa, "%s/rec-a/eval.npy", root);
  snprintf(pb, sizeof pb, "%s/rec-short/eval.npy", root);
  QB_CHECK(qb_npy_read(pa, &a, &err) == 0 && qb_npy_read(pb, &b, &err) == 0);
  QB_CHECK(a.ndim == 4 && a.dims[0] == 12 && a.dims[1] == 3 && a.dims[2] == 48 && a.dims[3] == 320);
  QB_CHECK(b.dims[0] == 6 && !memcmp(a.data, b.data, qb_tensor_bytes(&b)));
  /* Values: normalized to [-1, 1], and the padding right of the text is exactly 0. */
  const float* x = a.data;
  int in_range = 1;
  for (size_t i = 0; i < qb_tensor_numel(&a); i++) in_range &= x[i] >= -1.0f && x[i] <= 1.0f;
  QB_CHECK(in_range);
  qb_tensor_free(&a), qb_tensor_free(&b);
}

static void test_labels(void) {
  size_t le, lc;
  char* e = slurp("rec-a", "eval-labels.txt", &le, 2);
  char* c = slurp("rec-a", "calib-labels.txt", &lc, 3);
  size_t lines = 0;
  for (size_t i = 0; i < le; i++) lines += e[i] == '\n';
  QB_CHECK_EQ_INT(lines, 12);
  /* No calibration line is an evaluation line. */
  for (char* line = strtok(c, "\n"); line; line = strtok(NULL, "\n")) {
    char key[200];
    snprintf(key, sizeof key, "\n%s\n", line);
    char* hay = malloc(le + 2);
    if (!hay) break;
    hay[0] = '\n';
    memcpy(hay + 1, e, le);
    hay[le + 1] = 0;
    QB_CHECK_MSG(!strstr(hay, key), "calibration text '%s' is an evaluation text", line);
    free(hay);
  }
  /* cls: labels 0 / 1, both present in 12 samples with this seed. */
  qb_tensor y;
  qb_error err;
  char p[160];
  snprintf(p, sizeof p, "%s/cls-a/eval-labels.npy", root);
  QB_CHECK(qb_npy_read(p, &y, &err) == 0 && y.dtype == QB_I32 && y.dims[0] == 12);
  int ones = 0, bad = 0;
  for (size_t i = 0; i < 12; i++) ones += ((int32_t*)y.data)[i] == 1, bad += ((int32_t*)y.data)[i] > 1;
  QB_CHECK(ones > 0 && ones < 12 && !bad);
  qb_tensor_free(&y);
  /* det: 2..5 boxes per page inside 320 x 320. */
  qb_task_labels l;
  snprintf(p, sizeof p, "%s/det-a/eval-labels.txt", root);
  QB_CHECK(qb_task_labels_load(QB_TASK_OCR_DET, p, 3, &l, &err) == 0);
  for (size_t i = 0; i < 3 && l.first; i++) {
    const size_t n = l.first[i + 1] - l.first[i];
    QB_CHECK(n >= 2 && n <= 5);
  }
  for (size_t k = 0; l.first && k < l.first[3]; k++)
    QB_CHECK(l.boxes[k].x0 >= 0 && l.boxes[k].x1 <= 320 && l.boxes[k].y1 <= 320 &&
             l.boxes[k].x1 > l.boxes[k].x0);
  qb_task_labels_free(&l);
}

int main(void) {
  if (access(QB_OCR_WORDS_DEFAULT, R_OK) || access(QB_OCR_FONTS_DEFAULT "/DejaVuSerif-Italic.ttf", R_OK)) {
    printf("test_ocr_synth: skipped (no word list or DejaVu fonts; run .ci/deps)\n");
    return 77;
  }
  snprintf(root, sizeof root, "/tmp/qb_ocr_synth_XXXXXX");
  if (!mkdtemp(root)) return 1;
  test_determinism();
  test_prefix();
  test_labels();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  if (system(cmd)) printf("could not remove %s\n", root);
  return qb_test_finish("test_ocr_synth");
}
