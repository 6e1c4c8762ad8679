#include "qb_npy.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qb_file.h"

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

static const struct {
  const char* descr;
  qb_dtype dtype;
} npy_types[] = {
    {"<f4", QB_F32}, {"<f8", QB_F64}, {"|i1", QB_I8},  {"|u1", QB_U8},
    {"<i2", QB_I16}, {"<u2", QB_U16}, {"<i4", QB_I32}, {"<i8", QB_I64},
};

/* Finds 'key': in the header dict and returns a pointer just past the colon. */
static const char* header_value(const char* header, const char* key) {
  char quoted[32];
  snprintf(quoted, sizeof quoted, "'%s'", key);
  const char* p = strstr(header, quoted);
  if (!p) return NULL;
  p = strchr(p + strlen(quoted), ':');
  if (!p) return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

static int parse_header(const char* path, const char* header, qb_dtype* dtype, int* ndim,
                        size_t* dims, qb_error* err) {
  const char* d = header_value(header, "descr");
  if (!d || *d != '\'') return qb_fail(err, "%s: .npy header has no 'descr'", path);
  char descr[16] = {0};
  size_t dl = strcspn(d + 1, "'");
  if (dl >= sizeof descr) return qb_fail(err, "%s: unsupported .npy dtype", path);
  memcpy(descr, d + 1, dl);
  int found = 0;
  for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
    if (strcmp(descr, npy_types[i].descr) == 0) {
      *dtype = npy_types[i].dtype;
      found = 1;
    }
  if (!found)
    return qb_fail(err, "%s: unsupported .npy dtype '%s' (expected little-endian float32, "
                   "float64 or an integer type)", path, descr);
  const char* f = header_value(header, "fortran_order");
  if (!f) return qb_fail(err, "%s: .npy header has no 'fortran_order'", path);
  if (strncmp(f, "False", 5) != 0)
    return qb_fail(err, "%s: Fortran-order .npy arrays are not supported (save with "
                   "np.ascontiguousarray)", path);
  const char* s = header_value(header, "shape");
  if (!s || *s != '(') return qb_fail(err, "%s: .npy header has no 'shape' tuple", path);
  s++;
  *ndim = 0;
  for (;;) {
    while (*s == ' ' || *s == ',') s++;
    if (*s == ')') break;
    if (*s < '0' || *s > '9') return qb_fail(err, "%s: malformed .npy shape", path);
    if (*ndim == QB_MAX_DIMS)
      return qb_fail(err, "%s: .npy array has more than %d dimensions", path, QB_MAX_DIMS);
    errno = 0;
    char* end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || v > (1ull << 40)) return qb_fail(err, "%s: .npy dimension is too large", path);
    dims[(*ndim)++] = (size_t)v;
    s = end;
  }
  return 0;
}

int qb_npy_read(const char* path, qb_tensor* out, qb_error* err) {
  memset(out, 0, sizeof *out);
  /* The header is trusted only as far as the file goes: the payload it announces must
   * be there before anything is allocated for it (a FIFO or a device is refused). */
  size_t file_size = 0;
  FILE* f = qb_open_input(path, SIZE_MAX, &file_size, err);
  if (!f) return -1;
  unsigned char pre[10];
  char* header = NULL;
  int rc = -1;
  if (fread(pre, 1, 8, f) != 8 || memcmp(pre, npy_magic, 6) != 0) {
    qb_fail(err, "%s: not a .npy file (bad magic)", path);
    goto done;
  }
  size_t hlen;
  if (pre[6] == 1) {
    if (fread(pre + 8, 1, 2, f) != 2) goto truncated;
    hlen = pre[8] | (size_t)pre[9] << 8;
  } else if (pre[6] == 2 || pre[6] == 3) {
    unsigned char l[4];
    if (fread(l, 1, 4, f) != 4) goto truncated;
    hlen = l[0] | (size_t)l[1] << 8 | (size_t)l[2] << 16 | (size_t)l[3] << 24;
    if (hlen > (1u << 20)) {
      qb_fail(err, "%s: .npy header of %zu bytes is implausibly large", path, hlen);
      goto done;
    }
  } else {
    qb_fail(err, "%s: unsupported .npy format version %d.%d", path, pre[6], pre[7]);
    goto done;
  }
  header = malloc(hlen + 1);
  if (!header) {
    qb_fail(err, "%s: out of memory", path);
    goto done;
  }
  if (fread(header, 1, hlen, f) != hlen) goto truncated;
  header[hlen] = 0;
  qb_dtype dtype = QB_F32;
  int ndim = 0;
  size_t dims[QB_MAX_DIMS];
  if (parse_header(path, header, &dtype, &ndim, dims, err)) goto done;
  const long here = ftell(f);
  size_t need = qb_dtype_size(dtype);
  for (int i = 0; i < ndim; i++) {
    if (dims[i] != 0 && need > SIZE_MAX / dims[i]) goto truncated;
    need *= dims[i];
  }
  if (here < 0 || need > file_size - (size_t)here) goto truncated;
  if (qb_tensor_alloc(out, dtype, ndim, dims, err)) goto done;
  size_t bytes = qb_tensor_bytes(out);
  if (fread(out->data, 1, bytes, f) != bytes) {
    qb_tensor_free(out);
    goto truncated;
  }
  rc = 0;
  goto done;
truncated:
  qb_fail(err, "%s: truncated .npy file", path);
done:
  free(header);
  fclose(f);
  return rc;
}

int qb_npy_write(const char* path, const qb_tensor* t, qb_error* err) {
  const char* descr = NULL;
  for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
    if (npy_types[i].dtype == t->dtype) descr = npy_types[i].descr;
  char shape[256] = "(";
  size_t used = 1;
  for (int i = 0; i < t->ndim; i++)
    used += (size_t)snprintf(shape + used, sizeof shape - used, "%zu,%s", t->dims[i],
                             (i + 1 < t->ndim) ? " " : "");
  snprintf(shape + used, sizeof shape - used, ")");
  char header[512];
  int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                   descr, shape);
  /* Pad with spaces so that magic + version + length + header is a multiple of 64. */
  size_t total = 10 + (size_t)n + 1;
  size_t padded = (total + 63) / 64 * 64;
  memset(header + n, ' ', padded - total);
  header[padded - 11] = '\n';
  size_t hlen = padded - 10;
  FILE* f = fopen(path, "wb");
  if (!f) return qb_fail(err, "%s: cannot create: %s", path, strerror(errno));
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                           (unsigned char)(hlen >> 8)};
  errno = 0;
  const int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, hlen, f) == hlen &&
                 fwrite(t->data, 1, qb_tensor_bytes(t), f) == qb_tensor_bytes(t);
  if (!ok) {
    const int e = errno ? errno : EIO;
    fclose(f);
    qb_remove_regular(path); /* no truncated .npy left behind */
    return qb_fail(err, "%s: write failed: %s", path, strerror(e));
  }
  return qb_close_output(f, path, err);
}
