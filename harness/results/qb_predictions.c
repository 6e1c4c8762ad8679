/* Per-sample predictions in the run folder and the history (qb_predictions.h). */
#include "qb_predictions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qb_npy.h"
#include "qb_results_files.h"

void qb_predictions_key(const char* model, const char* what, char* buf, size_t size) {
  snprintf(buf, size, "%s/%s", model, what);
}

void qb_predictions_file(const char* run_dir, const char* key, char* buf, size_t size) {
  int n = snprintf(buf, size, "%s/predictions/", run_dir);
  if (n < 0 || (size_t)n >= size) return;
  for (const char* k = key; *k && (size_t)n + 1 < size; k++) buf[n++] = *k == '/' ? '+' : *k;
  buf[n] = '\0';
  const size_t used = strlen(buf);
  snprintf(buf + used, size - used, ".npy");
}

static int fits_byte(const uint16_t* v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (v[i] > 0xFF) return 0;
  return 1;
}

int qb_predictions_write_file(const char* path, const uint16_t* v, size_t n, qb_error* err) {
  qb_tensor t = {0};
  const int narrow = fits_byte(v, n);
  const size_t dims[1] = {n};
  if (qb_tensor_alloc(&t, narrow ? QB_U8 : QB_U16, 1, dims, err)) return -1;
  for (size_t i = 0; i < n; i++) {
    if (narrow) ((uint8_t*)t.data)[i] = (uint8_t)v[i];
    else ((uint16_t*)t.data)[i] = v[i];
  }
  char tmp[1200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int rc = qb_npy_write(tmp, &t, err);
  qb_tensor_free(&t);
  if (!rc && rename(tmp, path)) {
    rc = qb_fail(err, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
    remove(tmp);
  }
  return rc;
}

int qb_predictions_read_file(const char* path, uint16_t** v, size_t* n, qb_error* err) {
  *v = NULL, *n = 0;
  struct stat st;
  if (stat(path, &st)) return 0;
  qb_tensor t = {0};
  if (qb_npy_read(path, &t, err)) return -1;
  if (t.ndim != 1 || (t.dtype != QB_U8 && t.dtype != QB_U16)) {
    qb_tensor_free(&t);
    return qb_fail(err, "%s: expected a 1-D uint8 or uint16 array of predictions", path);
  }
  const size_t count = t.dims[0];
  uint16_t* out = malloc((count ? count : 1) * sizeof *out);
  if (!out) {
    qb_tensor_free(&t);
    return qb_fail(err, "%s: out of memory", path);
  }
  for (size_t i = 0; i < count; i++)
    out[i] = t.dtype == QB_U8 ? ((const uint8_t*)t.data)[i] : ((const uint16_t*)t.data)[i];
  qb_tensor_free(&t);
  *v = out, *n = count;
  return 1;
}

size_t qb_predictions_encode(const uint16_t* v, size_t n, unsigned char* out) {
  const int narrow = fits_byte(v, n);
  out[0] = narrow ? 1 : 2;
  for (size_t i = 0; i < n; i++) {
    if (narrow) {
      out[1 + i] = (unsigned char)v[i];
    } else {
      out[1 + 2 * i] = (unsigned char)(v[i] & 0xFF);
      out[2 + 2 * i] = (unsigned char)(v[i] >> 8);
    }
  }
  return 1 + (narrow ? n : 2 * n);
}

int qb_predictions_decode(const unsigned char* blob, size_t len, uint16_t** v, size_t* n) {
  *v = NULL, *n = 0;
  if (len < 1 || (blob[0] != 1 && blob[0] != 2) || (len - 1) % blob[0]) return -1;
  const size_t w = blob[0], count = (len - 1) / w;
  uint16_t* out = malloc((count ? count : 1) * sizeof *out);
  if (!out) return -1;
  for (size_t i = 0; i < count; i++)
    out[i] = w == 1 ? blob[1 + i] : (uint16_t)(blob[1 + 2 * i] | blob[2 + 2 * i] << 8);
  *v = out, *n = count;
  return 0;
}

/* The model's reference file, unless it is there already (every item of the model
 * carries the same one). */
static int save_reference(const char* run_dir, const char* model, const char* what,
                          const uint16_t* v, size_t n, qb_error* err) {
  char key[128], path[1400];
  struct stat st;
  qb_predictions_key(model, what, key, sizeof key);
  qb_predictions_file(run_dir, key, path, sizeof path);
  return stat(path, &st) == 0 ? 0 : qb_predictions_write_file(path, v, n, err);
}

int qb_predictions_save_item(const char* run_dir, const char* model, const char* item_id,
                             const qb_item_predictions* p, qb_error* err) {
  if (!p->count) return 0;
  char dir[1200], path[1400];
  snprintf(dir, sizeof dir, "%s/predictions", run_dir);
  if (qb_mkdir_p(dir, err)) return -1;
  qb_predictions_file(run_dir, item_id, path, sizeof path);
  if (qb_predictions_write_file(path, p->predicted, p->count, err)) return -1;
  return save_reference(run_dir, model, "fp32", p->fp32, p->count, err) ||
                 save_reference(run_dir, model, "labels", p->labels, p->count, err)
             ? -1
             : 0;
}
