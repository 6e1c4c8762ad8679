/* The IDX reader of the Fashion-MNIST loader on hostile files (issue 12): a label
 * outside 0..9 (was a use after free for the message), dimensions whose product
 * wraps 2^64 (was a heap overflow), a header announcing more than the file holds
 * (was allocated as announced), a FIFO; and a small valid gzip pair still loads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "qb_fashion_mnist.h"
#include "qb_test.h"

static char dir[] = "/tmp/qb_test_idx_XXXXXX";

static void put_be32(unsigned char* p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Writes <dir>/t10k-<kind>-idx<d>-ubyte.gz (gzip when `gz`, else plain bytes). */
static void write_idx(const char* kind, int ndims, const uint32_t* dims, const unsigned char* payload,
                      size_t n, int gz) {
  char path[256];
  snprintf(path, sizeof path, "%s/t10k-%s-idx%d-ubyte.gz", dir, kind, ndims);
  unsigned char head[16];
  put_be32(head, 0x0800u | (uint32_t)ndims);
  for (int i = 0; i < ndims; i++) put_be32(head + 4 + 4 * i, dims[i]);
  if (gz) {
    gzFile f = gzopen(path, "wb");
    gzwrite(f, head, (unsigned)(4 + 4 * ndims));
    if (n) gzwrite(f, payload, (unsigned)n);
    gzclose(f);
  } else {
    FILE* f = fopen(path, "wb");
    fwrite(head, 1, (size_t)(4 + 4 * ndims), f);
    if (n) fwrite(payload, 1, n, f);
    fclose(f);
  }
}

static void expect_load_error(const char* what, const char* needle) {
  qb_fmnist d;
  qb_error err = {{0}};
  const int rc = qb_fmnist_load(dir, "t10k", &d, &err);
  printf("  %-26s -> %s\n", what, rc ? err.msg : "(accepted)");
  QB_CHECK_MSG(rc != 0 && strstr(err.msg, needle), "%s: want '%s', got '%s'", what, needle,
               rc ? err.msg : "success");
  if (!rc) qb_fmnist_free(&d);
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  unsigned char pixels[2 * 4 * 4];
  for (size_t i = 0; i < sizeof pixels; i++) pixels[i] = (unsigned char)i;

  /* A valid pair of 2 images 4x4, gzip-compressed, loads. */
  write_idx("images", 3, (uint32_t[]){2, 4, 4}, pixels, sizeof pixels, 1);
  write_idx("labels", 1, (uint32_t[]){2}, (const unsigned char[]){3, 9}, 2, 1);
  qb_fmnist d;
  qb_error err = {{0}};
  QB_CHECK_MSG(qb_fmnist_load(dir, "t10k", &d, &err) == 0, "%s", err.msg);
  QB_CHECK(d.count == 2 && d.rows == 4 && d.cols == 4 && d.labels[1] == 9 && d.pixels[31] == 31);
  qb_fmnist_free(&d);

  /* Label 10: the message names it (it was read after the buffer was freed). */
  write_idx("labels", 1, (uint32_t[]){2}, (const unsigned char[]){3, 10}, 2, 0);
  expect_load_error("label 10", "label 10 at index 1 is outside 0..9");
  write_idx("labels", 1, (uint32_t[]){2}, (const unsigned char[]){3, 9}, 2, 0);

  /* 4194304 x 4194304 x 1048576 = 2^64: the product wrapped to 0 and passed. */
  write_idx("images", 3, (uint32_t[]){4194304, 4194304, 1048576}, pixels, sizeof pixels, 0);
  expect_load_error("dimensions wrapping 2^64", "implausible IDX dimension");
  /* 10^7 x 28 x 28 (7.8 GB) announced by a 48-byte file: refused before allocating,
   * whether plain or gzip (at most 1032 bytes per compressed byte). */
  write_idx("images", 3, (uint32_t[]){10000000, 28, 28}, pixels, sizeof pixels, 0);
  expect_load_error("7.8 GB in a plain file", "implausible IDX dimension");
  write_idx("images", 3, (uint32_t[]){100000, 28, 28}, pixels, sizeof pixels, 0);
  expect_load_error("78 MB in a plain file", "truncated IDX payload");
  write_idx("images", 3, (uint32_t[]){100000, 28, 28}, pixels, sizeof pixels, 1);
  expect_load_error("78 MB in a gzip file", "truncated IDX payload");

  /* A FIFO as the images file is refused instead of blocking. */
  char path[256];
  snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", dir);
  unlink(path);
  QB_CHECK(mkfifo(path, 0600) == 0);
  expect_load_error("FIFO", "not a regular file");

  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return qb_test_finish("test_fmnist_idx");
}
