#include "qb_fashion_mnist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

const char* const qb_fmnist_class_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                               "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                               "Bag",         "Ankle boot"};

static uint32_t be32(const unsigned char* p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads an IDX file of ubyte data with `want_dims` dimensions into a new buffer. */
static int read_idx(const char* path, int want_dims, size_t* dims, uint8_t** data, qb_error* err) {
  gzFile f = gzopen(path, "rb");
  if (!f) return qb_fail(err, "%s: cannot open: %s", path, strerror(errno));
  unsigned char head[16];
  const int head_len = 4 + 4 * want_dims;
  int rc = -1;
  if (gzread(f, head, (unsigned)head_len) != head_len) {
    qb_fail(err, "%s: truncated IDX header", path);
    goto done;
  }
  if (be32(head) != (0x0800u | (uint32_t)want_dims)) {
    qb_fail(err, "%s: not a %d-D ubyte IDX file (magic 0x%08x)", path, want_dims, be32(head));
    goto done;
  }
  size_t total = 1;
  for (int i = 0; i < want_dims; i++) {
    dims[i] = be32(head + 4 + 4 * i);
    if (dims[i] == 0 || dims[i] > 10000000) {
      qb_fail(err, "%s: implausible dimension %zu", path, dims[i]);
      goto done;
    }
    total *= dims[i];
  }
  *data = malloc(total);
  if (!*data) {
    qb_fail(err, "%s: out of memory", path);
    goto done;
  }
  if ((size_t)gzread(f, *data, (unsigned)total) != total) {
    free(*data);
    *data = NULL;
    qb_fail(err, "%s: truncated IDX payload", path);
    goto done;
  }
  rc = 0;
done:
  gzclose(f);
  return rc;
}

int qb_fmnist_load(const char* dir, const char* split, qb_fmnist* out, qb_error* err) {
  memset(out, 0, sizeof *out);
  char path[4096];
  size_t idims[3] = {0, 0, 0}, ldims[1] = {0};
  snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, split);
  if (read_idx(path, 3, idims, &out->pixels, err)) return -1;
  snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, split);
  if (read_idx(path, 1, ldims, &out->labels, err)) {
    qb_fmnist_free(out);
    return -1;
  }
  if (ldims[0] != idims[0]) {
    qb_fmnist_free(out);
    return qb_fail(err, "%s: %zu labels for %zu images", path, ldims[0], idims[0]);
  }
  for (size_t i = 0; i < ldims[0]; i++)
    if (out->labels[i] > 9) {
      qb_fmnist_free(out);
      return qb_fail(err, "%s: label %u at index %zu is outside 0..9", path, out->labels[i], i);
    }
  out->count = idims[0], out->rows = idims[1], out->cols = idims[2];
  return 0;
}

void qb_fmnist_free(qb_fmnist* d) {
  free(d->pixels);
  free(d->labels);
  memset(d, 0, sizeof *d);
}
