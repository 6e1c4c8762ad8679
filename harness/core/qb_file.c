#include "qb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE* qb_open_input(const char* path, size_t max_bytes, size_t* size, qb_error* err) {
  /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
  const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    qb_fail(err, "%s: cannot read: %s", path, strerror(e));
    errno = e;
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    qb_fail(err, "%s: not a regular file", path);
    errno = EINVAL;
    return NULL;
  }
  if ((unsigned long long)st.st_size > (unsigned long long)max_bytes) {
    close(fd);
    qb_fail(err, "%s: %lld bytes, more than the limit of %zu MiB", path, (long long)st.st_size,
            max_bytes >> 20);
    errno = EFBIG;
    return NULL;
  }
  const int flags = fcntl(fd, F_GETFL);
  FILE* f = flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ? NULL : fdopen(fd, "rb");
  if (!f) {
    const int e = errno;
    close(fd);
    qb_fail(err, "%s: cannot open: %s", path, strerror(e));
    errno = e;
    return NULL;
  }
  if (size) *size = (size_t)st.st_size;
  return f;
}

void qb_remove_regular(const char* path) {
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) unlink(path);
}

int qb_close_output(FILE* f, const char* path, qb_error* err) {
  int e = 0;
  if (!f) e = errno ? errno : EIO;
  else if (ferror(f)) e = errno ? errno : EIO;
  if (f && fflush(f) != 0 && !e) e = errno;
  if (f && fclose(f) != 0 && !e) e = errno;
  if (!e) return 0;
  qb_remove_regular(path);
  return qb_fail(err, "%s: write failed: %s", path, strerror(e));
}

int qb_file_read_all(const char* path, size_t max_bytes, char** text, size_t* len, qb_error* err) {
  size_t size = 0;
  FILE* f = qb_open_input(path, max_bytes, &size, err);
  if (!f) return -1;
  char* buf = malloc(size + 1);
  if (!buf) {
    fclose(f);
    return qb_fail(err, "%s: out of memory (%zu bytes)", path, size);
  }
  const size_t got = fread(buf, 1, size, f);
  fclose(f);
  if (got != size) {
    free(buf);
    return qb_fail(err, "%s: short read (%zu of %zu bytes)", path, got, size);
  }
  buf[size] = 0;
  *text = buf;
  if (len) *len = size;
  return 0;
}
