/* Evaluation / calibration data sets. See qb_dataset.h for the splits. */
#include "qb_dataset.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_fashion_mnist.h"
#include "qb_npy.h"

int qb_preprocess_parse(const char* text, qb_preprocess* out, qb_error* err) {
  *out = (qb_preprocess){1.0f / 255.0f, 0.0f, 1.0f};
  if (!text || !*text) return 0;
  char buf[256];
  if (strlen(text) >= sizeof buf) return qb_fail(err, "preprocess string too long");
  snprintf(buf, sizeof buf, "%s", text);
  char* save = NULL;
  for (char* kv = strtok_r(buf, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
    char* eq = strchr(kv, '=');
    if (!eq) return qb_fail(err, "preprocess '%s': '%s' is not key=value", text, kv);
    *eq = 0;
    const char* val = eq + 1;
    if (!strcmp(kv, "layout")) {
      if (strcmp(val, "NCHW")) return qb_fail(err, "preprocess '%s': layout %s is not supported (NCHW)", text, val);
      continue;
    }
    char* end;
    const float v = strtof(val, &end);
    if (end == val || *end || !isfinite(v))
      return qb_fail(err, "preprocess '%s': %s=%s is not a number", text, kv, val);
    if (!strcmp(kv, "scale")) out->scale = v;
    else if (!strcmp(kv, "mean")) out->mean = v;
    else if (!strcmp(kv, "std")) out->std = v;
    else return qb_fail(err, "preprocess '%s': unknown key '%s' (scale, mean, std, layout)", text, kv);
  }
  if (out->std == 0.0f) return qb_fail(err, "preprocess '%s': std is 0", text);
  return 0;
}

int qb_dataset_fmnist(const char* dir, const char* split, const qb_preprocess* pp, qb_dataset* out,
                      qb_error* err) {
  memset(out, 0, sizeof *out);
  const bool calib = !strcmp(split, "calib");
  if (!calib && strcmp(split, "test"))
    return qb_fail(err, "unknown Fashion-MNIST split '%s' (calib or test)", split);
  qb_fmnist f;
  if (qb_fmnist_load(dir, calib ? "train" : "t10k", &f, err)) return -1;
  size_t first = 0, count = f.count;
  if (calib) {
    if (f.count < QB_FMNIST_CALIB_FIRST + QB_FMNIST_CALIB_COUNT) {
      qb_fmnist_free(&f);
      return qb_fail(err, "%s: %zu training images; the calibration split needs 60000", dir, count);
    }
    first = QB_FMNIST_CALIB_FIRST, count = QB_FMNIST_CALIB_COUNT;
  }
  const size_t px = f.rows * f.cols;
  out->count = count, out->sample_numel = px, out->ndim = 3;
  out->dims[0] = 1, out->dims[1] = f.rows, out->dims[2] = f.cols;
  out->num_classes = 10;
  out->x = malloc(count * px * sizeof *out->x);
  out->labels = malloc(count * sizeof *out->labels);
  if (!out->x || !out->labels) {
    qb_fmnist_free(&f);
    qb_dataset_free(out);
    return qb_fail(err, "out of memory");
  }
  for (size_t i = 0; i < count; i++) {
    const uint8_t* p = f.pixels + (first + i) * px;
    for (size_t j = 0; j < px; j++)
      out->x[i * px + j] = ((float)p[j] * pp->scale - pp->mean) / pp->std;
    out->labels[i] = f.labels[first + i];
  }
  qb_fmnist_free(&f);
  return 0;
}

static int read_labels(const char* path, size_t count, qb_dataset* out, qb_error* err) {
  qb_tensor y;
  if (qb_npy_read(path, &y, err)) return -1;
  int rc = -1;
  if (qb_tensor_numel(&y) != count) {
    qb_fail(err, "%s: %zu labels for %zu samples", path, qb_tensor_numel(&y), count);
    goto done;
  }
  for (size_t i = 0; i < count; i++) {
    int64_t v;
    switch (y.dtype) {
      case QB_I8: v = ((const int8_t*)y.data)[i]; break;
      case QB_U8: v = ((const uint8_t*)y.data)[i]; break;
      case QB_I16: v = ((const int16_t*)y.data)[i]; break;
      case QB_U16: v = ((const uint16_t*)y.data)[i]; break;
      case QB_I32: v = ((const int32_t*)y.data)[i]; break;
      case QB_I64: v = ((const int64_t*)y.data)[i]; break;
      default:
        qb_fail(err, "%s: labels must be integers (got %s)", path, qb_dtype_name(y.dtype));
        goto done;
    }
    if (v < 0 || v > 1000000) {
      qb_fail(err, "%s: label %lld at index %zu is out of range", path, (long long)v, i);
      goto done;
    }
    out->labels[i] = (int32_t)v;
    if ((size_t)v + 1 > out->num_classes) out->num_classes = (size_t)v + 1;
  }
  rc = 0;
done:
  qb_tensor_free(&y);
  return rc;
}

int qb_dataset_npy(const char* x_path, const char* labels_path, qb_dataset* out, qb_error* err) {
  memset(out, 0, sizeof *out);
  qb_tensor x;
  if (qb_npy_read(x_path, &x, err)) return -1;
  if (x.ndim < 1 || x.dims[0] == 0 || (x.dtype != QB_F32 && x.dtype != QB_F64)) {
    qb_tensor_free(&x);
    return qb_fail(err, "%s: expected a float32/float64 array [N, ...] with N >= 1", x_path);
  }
  const size_t n = x.dims[0], numel = qb_tensor_numel(&x), per = numel / n;
  out->count = n, out->sample_numel = per, out->ndim = x.ndim - 1;
  for (int i = 1; i < x.ndim; i++) out->dims[i - 1] = x.dims[i];
  out->x = malloc((numel ? numel : 1) * sizeof *out->x);
  out->labels = malloc(n * sizeof *out->labels);
  if (!out->x || !out->labels) {
    qb_tensor_free(&x);
    qb_dataset_free(out);
    return qb_fail(err, "out of memory");
  }
  for (size_t i = 0; i < numel; i++)
    out->x[i] = x.dtype == QB_F32 ? ((const float*)x.data)[i] : (float)((const double*)x.data)[i];
  qb_tensor_free(&x);
  for (size_t i = 0; i < numel; i++)
    if (!isfinite(out->x[i])) {
      qb_dataset_free(out);
      return qb_fail(err, "%s: element %zu is not finite", x_path, i);
    }
  for (size_t i = 0; i < n; i++) out->labels[i] = -1;
  if (labels_path && read_labels(labels_path, n, out, err)) {
    qb_dataset_free(out);
    return -1;
  }
  return 0;
}

void qb_dataset_free(qb_dataset* d) {
  free(d->x), free(d->labels);
  memset(d, 0, sizeof *d);
}

int qb_dataset_split_tail(qb_dataset* test, qb_dataset* calib, size_t want, qb_error* err) {
  const size_t nc = want < test->count / 2 ? want : test->count / 2;
  if (nc == 0)
    return qb_fail(err, "%zu samples: too few to split into evaluation and calibration", test->count);
  *calib = *test;
  calib->count = nc;
  calib->x = malloc(nc * test->sample_numel * sizeof *calib->x);
  calib->labels = malloc(nc * sizeof *calib->labels);
  if (!calib->x || !calib->labels) {
    free(calib->x), free(calib->labels);
    memset(calib, 0, sizeof *calib);
    return qb_fail(err, "out of memory splitting the data");
  }
  test->count -= nc;
  memcpy(calib->x, test->x + test->count * test->sample_numel, nc * test->sample_numel * sizeof *calib->x);
  memcpy(calib->labels, test->labels + test->count, nc * sizeof *calib->labels);
  return 0;
}
