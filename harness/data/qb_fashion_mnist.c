#include "qb_fashion_mnist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

const char* const qb_fmnist_class_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                               "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                               "Bag",         "Ankle boot"};

static uint32_t be32(const unsigned char* p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Bytes a file can hold, for the plausibility check of an IDX header: a plain file
 * holds its size; a gzip stream at most 1032 bytes per compressed byte (deflate's
 * largest ratio, 258-byte matches coded in 2 bits). */
static size_t idx_payload_bound(gzFile f, const char* path) {
  struct stat st;
  if (stat(path, &st) != 0 || st.st_size < 0) return 0;
  const size_t size = (size_t)st.st_size;
  return gzdirect(f) ? size : (size > SIZE_MAX / 1032 ? SIZE_MAX : size * 1032);
}

/* Reads an IDX file of ubyte data with `want_dims` dimensions into a new buffer. The
 * header is trusted only as far as it is plausible: the payload (the product of the
 * dimensions, overflow-checked) must fit QB_IDX_MAX_BYTES and what the file can hold,
 * so a 28 KB file cannot ask for terabytes. */
static int read_idx(const char* path, int want_dims, size_t* dims, uint8_t** data, qb_error* err) {
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
    return qb_fail(err, "%s: not a regular file", path);
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
    if (dims[i] == 0 || total > QB_IDX_MAX_BYTES / dims[i]) {
      qb_fail(err, "%s: implausible IDX dimension %zu (the payload would exceed %u MiB)", path,
              dims[i], (unsigned)(QB_IDX_MAX_BYTES >> 20));
      goto done;
    }
    total *= dims[i];
  }
  if (total > idx_payload_bound(f, path)) {
    qb_fail(err, "%s: truncated IDX payload (the header announces %zu bytes)", path, total);
    goto done;
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
      const unsigned label = out->labels[i]; /* read before the free */
      qb_fmnist_free(out);
      return qb_fail(err, "%s: label %u at index %zu is outside 0..9", path, label, i);
    }
  out->count = idims[0], out->rows = idims[1], out->cols = idims[2];
  return 0;
}

void qb_fmnist_free(qb_fmnist* d) {
  free(d->pixels);
  free(d->labels);
  memset(d, 0, sizeof *d);
}
