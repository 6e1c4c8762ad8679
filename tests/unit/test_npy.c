/* .npy reading and writing: round trips, header variants, rejection of the rest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qb_npy.h"
#include "qb_test.h"

static char dir[] = "/tmp/qb_test_npy_XXXXXX";

static void write_file(const char* name, const void* bytes, size_t n) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE* f = fopen(path, "wb");
  fwrite(bytes, 1, n, f);
  fclose(f);
}

/* A version-1.0 file with the given header text (padded) and payload. */
static void write_npy(const char* name, const char* header, const void* payload, size_t n) {
  unsigned char buf[512];
  const size_t hl = strlen(header);
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (unsigned char)hl, buf[9] = 0;
  memcpy(buf + 10, header, hl);
  memcpy(buf + 10 + hl, payload, n);
  write_file(name, buf, 10 + hl + n);
}

static int read_fixture(const char* name, qb_tensor* t, qb_error* err) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return qb_npy_read(path, t, err);
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  qb_error err;
  qb_tensor t, back;
  /* round trip of every dtype */
  const qb_dtype types[] = {QB_F32, QB_F64, QB_I8, QB_U8, QB_I16, QB_U16, QB_I32, QB_I64};
  for (size_t k = 0; k < sizeof types / sizeof *types; k++) {
    QB_CHECK(qb_tensor_alloc(&t, types[k], 3, (size_t[]){2, 3, 5}, &err) == 0);
    for (size_t i = 0; i < qb_tensor_bytes(&t); i++) ((unsigned char*)t.data)[i] = (unsigned char)(i * 7 + k);
    char path[256];
    snprintf(path, sizeof path, "%s/rt%zu.npy", dir, k);
    QB_CHECK(qb_npy_write(path, &t, &err) == 0);
    QB_CHECK_MSG(qb_npy_read(path, &back, &err) == 0, "%s", err.msg);
    QB_CHECK(back.dtype == t.dtype && back.ndim == 3 && back.dims[2] == 5);
    QB_CHECK(memcmp(back.data, t.data, qb_tensor_bytes(&t)) == 0);
    /* the header is padded so the payload starts 64-byte aligned */
    FILE* f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    QB_CHECK_EQ_INT((ftell(f) - (long)qb_tensor_bytes(&t)) % 64, 0);
    fclose(f);
    qb_tensor_free(&t);
    qb_tensor_free(&back);
  }
  const float v[3] = {1.5f, -2.0f, 3.25f};
  write_npy("scalar.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", v, 4);
  QB_CHECK(read_fixture("scalar.npy", &t, &err) == 0 && t.ndim == 0 && ((float*)t.data)[0] == 1.5f);
  qb_tensor_free(&t);
  write_npy("vec.npy", "{'descr':'<f4','fortran_order':False,'shape':(3,)}\n", v, 12);
  QB_CHECK(read_fixture("vec.npy", &t, &err) == 0 && t.ndim == 1 && t.dims[0] == 3);
  qb_tensor_free(&t);
  /* rejections, each with a reason */
  struct { const char* name; const char* header; size_t payload; const char* expect; } bad[] = {
      {"be.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }\n", 12, "unsupported .npy dtype '>f4'"},
      {"obj.npy", "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }\n", 12, "unsupported"},
      {"fo.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }\n", 12, "Fortran"},
      {"noshape.npy", "{'descr': '<f4', 'fortran_order': False, }\n", 12, "shape"},
      {"badshape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }\n", 12, "malformed"},
      {"short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n", 12, "truncated"},
      {"huge.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999,), }\n", 12, "too large"},
      {"ninedims.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }\n", 4, "dimensions"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    write_npy(bad[i].name, bad[i].header, v, bad[i].payload);
    QB_CHECK_MSG(read_fixture(bad[i].name, &t, &err) != 0 && strstr(err.msg, bad[i].expect),
                 "%s: got '%s'", bad[i].name, err.msg);
  }
  write_file("empty.npy", "", 0);
  QB_CHECK(read_fixture("empty.npy", &t, &err) != 0 && strstr(err.msg, "not a .npy"));
  write_file("v9.npy", "\x93NUMPY\x09\x00\x10\x00", 10);
  QB_CHECK(read_fixture("v9.npy", &t, &err) != 0 && strstr(err.msg, "version 9"));
  write_file("cut.npy", "\x93NUMPY\x01\x00\x40\x00{'descr'", 18);
  QB_CHECK(read_fixture("cut.npy", &t, &err) != 0 && strstr(err.msg, "truncated"));
  QB_CHECK(read_fixture("missing.npy", &t, &err) != 0 && strstr(err.msg, "cannot read"));
  /* A header announcing 1 TB in a file of ~80 bytes: refused before any allocation
   * (the old reader tried to calloc it). */
  write_npy("tera.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (1099511627776,), }\n", "x", 1);
  QB_CHECK_MSG(read_fixture("tera.npy", &t, &err) != 0 && strstr(err.msg, "truncated"), "%s", err.msg);
  /* A FIFO is refused instead of blocking the reader. */
  char fifo[300];
  snprintf(fifo, sizeof fifo, "%s/fifo.npy", dir);
  QB_CHECK(mkfifo(fifo, 0600) == 0);
  QB_CHECK_MSG(read_fixture("fifo.npy", &t, &err) != 0 && strstr(err.msg, "not a regular file"),
               "%s", err.msg);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return qb_test_finish("test_npy");
}
