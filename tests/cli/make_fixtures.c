/* Writes the .npy fixtures of the CLI tests into a folder:
 *   weight.npy     float32 [16, 32], per-row scales spanning 1000x (channel skew)
 *   logits.npy     float32 [64, 10]
 *   f64.npy        float64 [4]            (wrong dtype)
 *   nan.npy        float32 [8] with a NaN at index 5
 *   inf.npy        float32 [8] with +Inf at index 2
 *   empty.npy      float32 [0]
 *   truncated.npy  weight.npy cut in the middle of the payload
 *   fortran.npy    header says fortran_order True
 *   badmagic.npy   not an .npy file at all
 *   ties.npy       float32 [2] = {-1, 1}: amax lands on the rounding tie at 8 bits
 *   constw.onnx    a Conv whose weight 'conv2d_0.w_0' [4, 2, 3, 3] is a Constant node
 *                  (as Paddle2ONNX stores every weight) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_npy.h"
#include "qb_onnx_builder.h"

static uint64_t state = 12345;
static float uniform(void) {
  state = state * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((state >> 40) * (1.0 / 16777216.0));
}
static float normal(void) {
  const float u1 = uniform() + 1e-7f, u2 = uniform();
  return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

static void write_npy(const char* dir, const char* name, qb_dtype t, int ndim, const size_t* dims,
                  const void* data) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  qb_tensor x = {t, ndim, {0}, (void*)data};
  for (int i = 0; i < ndim; i++) x.dims[i] = dims[i];
  qb_error err;
  if (qb_npy_write(path, &x, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    exit(1);
  }
}

static void write_raw(const char* dir, const char* name, const void* bytes, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE* f = fopen(path, "wb");
  if (!f || fwrite(bytes, 1, n, f) != n) exit(1);
  fclose(f);
}

static size_t slurp(const char* dir, const char* name, char* buf, size_t cap) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE* f = fopen(path, "rb");
  if (!f) exit(1);
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: qb_make_fixtures DIR\n");
    return 2;
  }
  const char* dir = argv[1];
  float w[16 * 32];
  for (int r = 0; r < 16; r++)
    for (int c = 0; c < 32; c++) w[r * 32 + c] = normal() * powf(10.0f, (float)r / 5.0f - 1.5f);
  write_npy(dir, "weight.npy", QB_F32, 2, (size_t[]){16, 32}, w);
  float logits[64 * 10];
  for (int i = 0; i < 640; i++) logits[i] = 3.0f * normal();
  write_npy(dir, "logits.npy", QB_F32, 2, (size_t[]){64, 10}, logits);
  const double d[4] = {1, 2, 3, 4};
  write_npy(dir, "f64.npy", QB_F64, 1, (size_t[]){4}, d);
  float v[8] = {0, 1, 2, 3, 4, NAN, 6, 7};
  write_npy(dir, "nan.npy", QB_F32, 1, (size_t[]){8}, v);
  v[5] = 5, v[2] = INFINITY;
  write_npy(dir, "inf.npy", QB_F32, 1, (size_t[]){8}, v);
  write_npy(dir, "empty.npy", QB_F32, 1, (size_t[]){0}, v);
  const float ties[2] = {-1.0f, 1.0f};
  write_npy(dir, "ties.npy", QB_F32, 1, (size_t[]){2}, ties);
  static char buf[1 << 16];
  size_t n = slurp(dir, "weight.npy", buf, sizeof buf);
  write_raw(dir, "truncated.npy", buf, n / 2);
  /* The magic holds a NUL byte (version 1.0), so search the header after it. */
  char* fo = strstr(buf + 10, "False");
  if (!fo) return 1;
  memcpy(fo, "True ", 5);
  write_raw(dir, "fortran.npy", buf, n);
  write_raw(dir, "badmagic.npy", "hello, this is not numpy\n", 25);
  qb_onnx_builder* b = qb_onnx_builder_new("fixtures", 9);
  qb_onnx_builder_input(b, "x", QB_F32, 4, (int64_t[]){-1, 2, -1, -1});
  qb_tensor cw;
  if (qb_tensor_alloc(&cw, QB_F32, 4, (size_t[]){4, 2, 3, 3}, NULL)) return 1;
  for (size_t i = 0; i < 72; i++) ((float*)cw.data)[i] = normal() * (float)(1 + i / 18);
  qb_onnx_node* c = qb_onnx_builder_node(b, "Constant", "const_w", 0, NULL, 1,
                                         (const char*[]){"conv2d_0.w_0"});
  qb_onnx_node_attr_tensor(c, "value", &cw);
  qb_tensor_free(&cw);
  c = qb_onnx_builder_node(b, "Conv", "conv", 2, (const char*[]){"x", "conv2d_0.w_0"}, 1,
                           (const char*[]){"y"});
  qb_onnx_node_attr_ints(c, "kernel_shape", 2, (int64_t[]){3, 3});
  qb_onnx_builder_output(b, "y", QB_F32, 4, (int64_t[]){-1, 4, -1, -1});
  char path[4096];
  snprintf(path, sizeof path, "%s/constw.onnx", dir);
  qb_error err;
  const int rc = qb_onnx_builder_save(b, path, &err);
  qb_onnx_builder_free(b);
  if (rc) fprintf(stderr, "%s\n", err.msg);
  return rc ? 1 : 0;
}
